"""Residents' own reports (居民提事 by residents, 群众评事 by the reporter), without an account: the
core behind the resident page per grid (gongzhi.resident_web) and Open311 POSTs alike.

- `submit_report` checks everything (limits per client address and per phone number, a honeypot,
  lengths and national ID numbers through gongzhi.validation and crud.issues.create_issue, photos
  re-encoded by Pillow) and saves the issue, its photos and its report whole, or raises a
  GongzhiError saying why. The issue starts in `reported` with its source and waits for screening.
- "Me too" (`add_me_too`) on an open, screened issue of the grid: one per client address and issue.
- Screening by the grid's leader or the committee: `accept_report` (the title may be edited; the
  grid takes the issue up: reported → grid_review), `merge_report` (a duplicate of an open issue,
  whose supporters it joins) and `reject_report` (spam, or not community business, with a note).
- Following: the tracking code shows the status only; the private link's token (only its SHA-256
  hash is kept) shows the steps (gongzhi.queries.residents) and lets its holder rate the result
  once the issue is in resident review (`rate_by_link`, through gongzhi.lifecycle.rate and its rules).

Nothing here imports Starlette or Streamlit. Callers pass the session of one write transaction."""

from __future__ import annotations

import io
import secrets
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi import lifecycle
from gongzhi.clock import now
from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.domain import ISSUE_CATEGORIES, OPEN_STATES, IssueSource, IssueState, RejectReason
from gongzhi.domain import ScreeningOutcome as Outcome
from gongzhi.errors import FieldError, GongzhiError, NotFound, ValidationError
from gongzhi.models import (
    Issue,
    IssueSupport,
    ResidentPhoto,
    ResidentReport,
)
from gongzhi.permissions import Actor, Role, require_write
from gongzhi.privacy import normalise_phone
from gongzhi.queries.issues import visible_issue_condition
from gongzhi.queries.residents import CODE_ALPHABET, CODE_LENGTH, report_by_token, support_counts
from gongzhi.sessions import new_token, token_hash
from gongzhi.validation import DESCRIPTION, NOTE, TITLE, TITLE_MAX, check_text

# --- limits -------------------------------------------------------------------------------------

REPORT_WINDOW = timedelta(hours=1)
MAX_REPORTS_PER_ADDRESS = 10  # in REPORT_WINDOW; a mobile carrier's NAT puts many phones behind one
MAX_REPORTS_PER_PHONE = 3  # in REPORT_WINDOW
MAX_SUPPORTS_PER_ADDRESS = 20  # "me too" in REPORT_WINDOW
MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # one upload, as sent
MAX_PHOTO_PIXELS = 40_000_000  # width × height of one upload; more is refused before decoding
STORED_PHOTO_SIDE = 1600  # the longer side of a stored photo, at most
STORED_PHOTO_QUALITY = 85
DESCRIPTION_TITLE_CHARS = 40  # a new report's title: the start of its description
RESIDENT_SOURCES = (IssueSource.RESIDENT.value, IssueSource.OPEN311.value)
SCREENING_REJECT_REASONS = (RejectReason.SPAM, RejectReason.NOT_RESPONSIBLE)


class ReportThrottled(GongzhiError):
    """Too many reports from one address or one phone number in REPORT_WINDOW."""

    key = "residents.throttled"


@dataclass(frozen=True)
class ReportReceipt:
    tracking_code: str
    token: str  # shown once, in the link /track/{token}; the database keeps its hash only
    issue_id: int


def resident_actor(tracking_code: str) -> Actor:
    """Who writes a resident's report and rating: the system on the resident's behalf, named by
    the tracking code (no personal data in the timeline or the audit trail)."""
    return Actor(name=f"resident {tracking_code}", role=Role.ADMIN)


# --- photos ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Photo:
    content: bytes  # JPEG, no metadata
    width: int
    height: int


def reencode_photo(data: bytes) -> Photo:
    """A photo as it is stored: decoded by Pillow within the size and pixel limits (a
    decompression bomb is refused before it is decoded), turned upright by its EXIF orientation,
    at most STORED_PHOTO_SIDE pixels on its longer side, and written anew as a JPEG carrying no
    EXIF (no GPS, no camera, no time), no XMP and no ICC profile. A GongzhiError says why not."""
    if len(data) > MAX_PHOTO_BYTES:
        raise GongzhiError("residents.photo_too_large", mb=MAX_PHOTO_BYTES // (1024 * 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PHOTO_PIXELS:
                    raise GongzhiError("residents.photo_too_many_pixels", mp=MAX_PHOTO_PIXELS // 1_000_000)
                image.load()
                upright = ImageOps.exif_transpose(image)
                upright = upright.convert("RGB")
    except GongzhiError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise GongzhiError("residents.photo_too_many_pixels", mp=MAX_PHOTO_PIXELS // 1_000_000) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise GongzhiError("residents.photo_unreadable") from None
    upright.thumbnail((STORED_PHOTO_SIDE, STORED_PHOTO_SIDE))
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=STORED_PHOTO_QUALITY, optimize=True)
    return Photo(content=out.getvalue(), width=upright.width, height=upright.height)


def _photos(errors: list[FieldError], photos: Sequence[bytes]) -> list[Photo]:
    uploads = [data for data in photos if data]
    if len(uploads) > MAX_PHOTOS:
        errors.append(FieldError("residents.field_photos", "residents.too_many_photos", {"max": MAX_PHOTOS}))
        return []
    kept = []
    for data in uploads:
        try:
            kept.append(reencode_photo(bytes(data)))
        except GongzhiError as refused:
            errors.append(FieldError("residents.field_photos", refused.key, refused.params))
    return kept


# --- limits ------------------------------------------------------------------------------------

def _recent(session: Session, column, value: str) -> int:
    since = now() - REPORT_WINDOW
    return session.execute(select(func.count()).select_from(ResidentReport)
                           .where(column == value, ResidentReport.created_at >= since)).scalar_one()


def _check_limits(session: Session, client_address: str, phone: str | None) -> None:
    minutes = int(REPORT_WINDOW.total_seconds() // 60)
    if _recent(session, ResidentReport.client_address, client_address) >= MAX_REPORTS_PER_ADDRESS:
        raise ReportThrottled(count=MAX_REPORTS_PER_ADDRESS, minutes=minutes)
    if phone and _recent(session, ResidentReport.phone, phone) >= MAX_REPORTS_PER_PHONE:
        raise ReportThrottled("residents.throttled_phone", count=MAX_REPORTS_PER_PHONE, minutes=minutes)


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.execute(select(ResidentReport.id).where(ResidentReport.tracking_code == code)).first() is None:
            return code


# --- submitting ----------------------------------------------------------------------------------

def _title_from(description: str) -> str:
    first_line = description.strip().splitlines()[0] if description.strip() else ""
    return first_line[:min(DESCRIPTION_TITLE_CHARS, TITLE_MAX)]


def _phone(errors: list[FieldError], phone: str | None, consent: bool) -> str | None:
    try:
        normalised = normalise_phone(phone)
    except ValueError:
        errors.append(FieldError("residents.field_phone", "errors.invalid_phone"))
        return None
    if normalised and not consent:
        errors.append(FieldError("residents.field_consent", "residents.consent_required"))
    return normalised


def submit_report(session: Session, *, grid_id: int, category: str, description: str,
                  building_id: int | None = None, lat: float | None = None, lon: float | None = None,
                  photos: Sequence[bytes] = (), phone: str | None = None, consent: bool = False,
                  client_address: str, honeypot: str = "",
                  source: IssueSource = IssueSource.RESIDENT) -> ReportReceipt:
    """居民提事 by a resident: a new issue of `grid_id` in `reported`, with `source`, waiting for
    screening. Refuses a filled honeypot, too many reports from `client_address` or `phone`
    (ReportThrottled), and invalid fields (ValidationError listing every problem, each under its
    field: category, description, building, point, photos, phone and consent). `photos` are the
    uploaded files' bytes (at most MAX_PHOTOS). A phone number is kept only with `consent`.
    Everything is saved in the caller's transaction, or nothing."""
    if honeypot and honeypot.strip():
        raise GongzhiError("residents.refused")
    client_address = (client_address or "unknown")[:64]
    errors: list[FieldError] = []
    description = check_text(errors, "residents.field_description", description, DESCRIPTION, required=True)
    if category not in ISSUE_CATEGORIES:
        errors.append(FieldError("residents.field_category", "errors.required" if not category else "errors.invalid_choice"))
    normalised_phone = _phone(errors, phone, consent)
    _check_limits(session, client_address, normalised_phone)
    kept = _photos(errors, photos)
    if errors:
        raise ValidationError(errors)

    code = _new_code(session)
    actor = resident_actor(code)
    issue = create_issue(session=session, actor=actor, data=IssueCreate(
        title=_title_from(description), description=description, category=category, grid_id=grid_id,
        building_id=building_id, lat=lat, lon=lon))
    issue.source = IssueSource(source).value
    issue.awaiting_screening = True
    session.add(issue)
    token = new_token()
    at = now()
    session.add(ResidentReport(issue_id=issue.id, tracking_code=code, token_hash=token_hash(token),
                               phone=normalised_phone, consent_at=at if normalised_phone else None,
                               client_address=client_address, created_at=at))
    for position, photo in enumerate(kept):
        session.add(ResidentPhoto(issue_id=issue.id, position=position, width=photo.width, height=photo.height,
                                  content=photo.content, created_at=at))
    session.flush()
    return ReportReceipt(tracking_code=code, token=token, issue_id=issue.id)


def add_me_too(session: Session, *, issue_id: int, client_address: str) -> int:
    """A resident's "me too" on an open, screened issue: counted once per client address; returns
    the issue's count. Limited per address like reports."""
    client_address = (client_address or "unknown")[:64]
    issue = session.execute(select(Issue).where(
        Issue.id == issue_id, Issue.state.in_([s.value for s in OPEN_STATES]),
        visible_issue_condition(staff=False))).scalar_one_or_none()
    if issue is None:
        raise NotFound("residents.issue_not_open")
    since = now() - REPORT_WINDOW
    recent = session.execute(select(func.count()).select_from(IssueSupport).where(
        IssueSupport.client_address == client_address, IssueSupport.created_at >= since)).scalar_one()
    already = session.execute(select(IssueSupport.id).where(
        IssueSupport.issue_id == issue_id, IssueSupport.client_address == client_address)).first()
    if already is None:
        if recent >= MAX_SUPPORTS_PER_ADDRESS:
            raise ReportThrottled(count=MAX_SUPPORTS_PER_ADDRESS, minutes=int(REPORT_WINDOW.total_seconds() // 60))
        session.add(IssueSupport(issue_id=issue_id, client_address=client_address, created_at=now()))
        session.flush()
    return support_counts(session, [issue_id]).get(issue_id, 0)


# --- screening ----------------------------------------------------------------------------------

def _awaiting(session: Session, actor: Actor, issue_id: int, expected_version: int | None) -> tuple[Issue, ResidentReport]:
    issue = lifecycle.get_issue_for_update(session, issue_id, expected_version)
    require_write(actor, grid_id=issue.grid_id)
    report = session.execute(select(ResidentReport).where(ResidentReport.issue_id == issue.id)).scalar_one_or_none()
    if report is None or not issue.awaiting_screening:
        raise GongzhiError("residents.already_screened")
    return issue, report


def _screened(session: Session, issue: Issue, report: ResidentReport, actor: Actor, outcome: Outcome) -> None:
    issue.awaiting_screening = False
    session.add(issue)
    report.screened_at = now()
    report.screened_by = actor.name
    report.outcome = outcome.value
    session.add(report)
    session.flush()


def _take_up(session: Session, issue: Issue, actor: Actor, note: str = "") -> None:
    """The grid takes the report up (reported → grid_review), unless someone already moved it on
    the issues page before screening it."""
    if issue.state == IssueState.REPORTED:
        lifecycle.move(session=session, issue_id=issue.id, to_state=IssueState.GRID_REVIEW, actor=actor, note=note)


def accept_report(session: Session, *, actor: Actor, issue_id: int, title: str,
                  expected_version: int | None = None) -> Issue:
    """Accept a resident's report into the loop: its title as edited (e.g. without a person's
    name), and the grid takes it up (reported → grid_review, the first response)."""
    issue, report = _awaiting(session, actor, issue_id, expected_version)
    errors: list[FieldError] = []
    title = check_text(errors, "issues.field_title", title, TITLE, required=True)
    if errors:
        raise ValidationError(errors)
    issue.title = title
    _screened(session, issue, report, actor, Outcome.ACCEPTED)
    _take_up(session, issue, actor, note="screened: accepted")
    return issue


def merge_report(session: Session, *, actor: Actor, issue_id: int, into_issue_id: int,
                 expected_version: int | None = None) -> Issue:
    """A resident's report that repeats an open issue: rejected as its duplicate, and its reporter
    counted among that issue's residents affected. The tracking link follows that issue."""
    issue, report = _awaiting(session, actor, issue_id, expected_version)
    target = session.get(Issue, into_issue_id)
    if (target is None or target.deleted_at is not None or target.id == issue.id or target.awaiting_screening
            or target.state not in {s.value for s in OPEN_STATES}):
        raise ValidationError([FieldError("residents.field_merge_into", "residents.issue_not_open")])
    _screened(session, issue, report, actor, Outcome.MERGED)
    _take_up(session, issue, actor)
    lifecycle.move(session=session, issue_id=issue.id, to_state=IssueState.REJECTED, actor=actor,
                   reject_reason=RejectReason.DUPLICATE, duplicate_of_id=target.id, note=f"screened: merged into #{target.id}")
    exists = session.execute(select(IssueSupport.id).where(IssueSupport.issue_id == target.id,
                                                           IssueSupport.client_address == report.client_address)).first()
    if exists is None:
        session.add(IssueSupport(issue_id=target.id, client_address=report.client_address, created_at=now()))
    session.flush()
    return issue


def reject_report(session: Session, *, actor: Actor, issue_id: int, reason: str, note: str,
                  expected_version: int | None = None) -> Issue:
    """Reject a resident's report at screening: spam, or not community business, with a note
    saying why (the reporter reads it on the tracking page)."""
    issue, report = _awaiting(session, actor, issue_id, expected_version)
    errors: list[FieldError] = []
    note = check_text(errors, "residents.field_reject_note", note, NOTE, required=True)
    if reason not in {r.value for r in SCREENING_REJECT_REASONS}:
        errors.append(FieldError("issues.field_reject_reason", "errors.invalid_choice"))
    if errors:
        raise ValidationError(errors)
    _screened(session, issue, report, actor, Outcome.REJECTED)
    _take_up(session, issue, actor)
    return lifecycle.move(session=session, issue_id=issue.id, to_state=IssueState.REJECTED, actor=actor,
                          reject_reason=reason, note=note)


def rate_by_link(session: Session, *, token: str, rating: int, fix_status: str, comment: str = "") -> Issue:
    """群众评事 by the reporter, through the private link: gongzhi.lifecycle.rate with its rules (a
    rating ≤ 2 or "not fixed" reopens the issue; otherwise it closes)."""
    report = report_by_token(session, token)
    if report is None:
        raise NotFound("residents.unknown_link")
    if report.outcome == Outcome.MERGED:
        raise GongzhiError("residents.rate_merged")
    return lifecycle.rate(session=session, issue_id=report.issue_id, rating=rating, fix_status=fix_status,
                          comment=comment, actor=resident_actor(report.tracking_code))
