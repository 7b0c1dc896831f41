"""What residents and the screening see of residents' own reports (gongzhi.resident_reports
writes them): the grid and its buildings for the resident page, open issues like a new report
with their "me too" counts, the screening queue, and the tracking views (the code alone: the
status; the private link: the steps, the decision, the lead organisation, the due date, no staff
names or phone numbers)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi.domain import OPEN_STATES, AreaLevel, IssueState
from gongzhi.domain import ScreeningOutcome as Outcome
from gongzhi.models import (
    AgendaItem,
    Area,
    Issue,
    IssueSupport,
    Organisation,
    ResidentPhoto,
    ResidentReport,
    TimelineEntry,
)
from gongzhi.permissions import Actor, may_write
from gongzhi.privacy import mask_personal_data, phone_for
from gongzhi.queries.issues import visible_issue_condition
from gongzhi.revisions import reads
from gongzhi.sessions import token_hash

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper
CODE_LENGTH = 8

# The five steps a resident follows, in order (the tracking page).
STEPS = (IssueState.REPORTED, IssueState.GRID_REVIEW, IssueState.MEETING, IssueState.IN_ACTION,
         IssueState.RESIDENT_REVIEW)

def normalise_code(code: str | None) -> str:
    """A tracking code as typed ('abcd-2345', with spaces) in its stored form."""
    return "".join(char for char in (code or "").upper() if char in CODE_ALPHABET)[:CODE_LENGTH]


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code



# --- what the resident page offers --------------------------------------------------------------

@dataclass(frozen=True)
class GridChoice:
    id: int
    name: str
    buildings: tuple[tuple[int, str], ...]
    centroid: tuple[float, float] | None  # (lat, lon)
    boundary: str | None  # GeoJSON geometry, WGS-84


@reads(Area)
def grid_for_report(session: Session, grid_id: int) -> GridChoice | None:
    """A live grid and its live buildings, for the resident page; None for anything else."""
    grid = session.get(Area, grid_id)
    if grid is None or grid.deleted_at is not None or grid.level != AreaLevel.GRID:
        return None
    buildings = session.execute(
        select(Area.id, Area.name).where(Area.parent_id == grid.id, Area.level == AreaLevel.BUILDING,
                                         Area.deleted_at.is_(None)).order_by(Area.code, Area.id)).all()
    centroid = (grid.centroid_lat, grid.centroid_lon) if grid.centroid_lat is not None else None
    return GridChoice(id=grid.id, name=grid.name, buildings=tuple((b.id, b.name) for b in buildings), centroid=centroid,
                      boundary=grid.boundary)


@dataclass(frozen=True)
class SimilarIssue:
    id: int
    title: str
    state: str
    residents_affected: int


@reads(IssueSupport)
def support_counts(session: Session, issue_ids: Iterable[int]) -> dict[int, int]:
    """"Me too" per issue (residents affected besides the reporter)."""
    ids = list(issue_ids)
    if not ids:
        return {}
    rows = session.execute(select(IssueSupport.issue_id, func.count()).where(IssueSupport.issue_id.in_(ids))
                           .group_by(IssueSupport.issue_id)).all()
    return {issue_id: int(count) for issue_id, count in rows}


@reads(Issue, IssueSupport)
def open_issues_like(session: Session, *, grid_id: int, category: str, limit: int = 5) -> list[SimilarIssue]:
    """Open issues of the grid in the category that anyone may see (screened), newest first."""
    rows = session.execute(
        select(Issue.id, Issue.title, Issue.state)
        .where(Issue.grid_id == grid_id, Issue.category == category,
               Issue.state.in_([s.value for s in OPEN_STATES]), visible_issue_condition(staff=False))
        .order_by(Issue.reported_at.desc(), Issue.id.desc()).limit(limit)).all()
    counts = support_counts(session, [row.id for row in rows])
    return [SimilarIssue(id=row.id, title=row.title, state=row.state, residents_affected=counts.get(row.id, 0))
            for row in rows]



QUEUE_COLUMNS = ["id", "version", "title", "description", "category", "grid_id", "grid", "building",
                 "reported_at", "source", "phone", "photos", "tracking_code"]


@reads(Issue, ResidentReport, ResidentPhoto, Area)
def screening_queue(session: Session, *, actor: Actor) -> pd.DataFrame:
    """Residents' reports waiting for screening that `actor` may screen (a grid leader: their
    grids; the committee and admins: all), oldest first; phone numbers as the actor may see them."""
    building = Area.__table__.alias("building")
    rows = session.execute(
        select(Issue.id, Issue.version, Issue.title, Issue.description, Issue.category, Issue.grid_id,
               Area.name.label("grid"), building.c.name.label("building"), Issue.reported_at, Issue.source,
               ResidentReport.phone, ResidentReport.tracking_code,
               select(func.count()).where(ResidentPhoto.issue_id == Issue.id).scalar_subquery().label("photos"))
        .join(ResidentReport, ResidentReport.issue_id == Issue.id)
        .join(Area, Area.id == Issue.grid_id)
        .outerjoin(building, building.c.id == Issue.building_id)
        .where(Issue.awaiting_screening.is_(True), Issue.deleted_at.is_(None))
        .order_by(Issue.reported_at, Issue.id)).all()
    records = [{**row._asdict(), "phone": phone_for(actor, row.phone, row.grid_id)}
               for row in rows if may_write(actor, row.grid_id)]
    return pd.DataFrame(records, columns=QUEUE_COLUMNS)


@reads(ResidentPhoto)
def report_photos(session: Session, *, issue_id: int) -> list[bytes]:
    return list(session.execute(select(ResidentPhoto.content).where(ResidentPhoto.issue_id == issue_id)
                                .order_by(ResidentPhoto.position)).scalars())



# --- following -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    state: str
    reached_at: datetime | None


@dataclass(frozen=True)
class Tracking:
    """What the reporter reads: plain facts, no staff names or phone numbers."""

    tracking_code: str
    issue_id: int  # the issue followed (the one merged into, for a merged report)
    title: str
    category: str
    grid: str
    state: str
    awaiting_screening: bool
    outcome: str | None
    reject_reason: str | None
    reject_note: str
    merged_into: int | None
    steps: tuple[Step, ...] = ()
    decision: str | None = None
    decision_note: str = ""
    lead_organisation: str | None = None
    due_date: date | None = None
    reopen_count: int = 0
    residents_affected: int = 0
    may_rate: bool = False
    rating: int | None = None
    fix_status: str | None = None
    closed_at: datetime | None = None


@reads(ResidentReport)
def report_by_token(session: Session, token: str | None) -> ResidentReport | None:
    """The report whose private link holds `token` (looked up by the token's hash)."""
    if not token or len(token) > 200:
        return None
    return session.execute(select(ResidentReport).where(ResidentReport.token_hash == token_hash(token))).scalar_one_or_none()


def _steps(entries) -> tuple[Step, ...]:
    reached: dict[str, datetime] = {}
    for entry in entries:
        if entry.kind in ("created", "transition") and entry.to_state:
            reached[entry.to_state] = entry.created_at  # the latest time (a reopened issue starts again)
    return tuple(Step(state.value, reached.get(state.value)) for state in STEPS)


def _reject_note(entries) -> str:
    rejections = [entry for entry in entries if entry.kind == "transition" and entry.to_state == IssueState.REJECTED]
    return mask_personal_data(rejections[-1].note) if rejections else ""


def _decision(session: Session, issue_id: int) -> dict:
    item = session.execute(select(AgendaItem.decision, AgendaItem.decision_note).where(
        AgendaItem.issue_id == issue_id, AgendaItem.decision.is_not(None)).order_by(AgendaItem.id.desc())).first()
    if item is None:
        return {"decision": None, "decision_note": ""}
    return {"decision": item.decision, "decision_note": mask_personal_data(item.decision_note)}


def _lead_name(session: Session, issue: Issue) -> str | None:
    lead = session.get(Organisation, issue.lead_org_id) if issue.lead_org_id else None
    return lead.name if lead is not None and lead.deleted_at is None else None


def _tracking(session: Session, report: ResidentReport, *, full: bool) -> Tracking:
    own = session.get(Issue, report.issue_id)
    merged_into = own.duplicate_of_id if report.outcome == Outcome.MERGED else None
    issue = session.get(Issue, merged_into) if merged_into else own
    grid = session.get(Area, issue.grid_id)
    rejected = report.outcome == Outcome.REJECTED
    common = dict(tracking_code=report.tracking_code, issue_id=issue.id, title=issue.title, category=issue.category,
                  grid=grid.name if grid else "", state=issue.state, awaiting_screening=own.awaiting_screening,
                  outcome=report.outcome, reject_reason=own.reject_reason if rejected else None,
                  merged_into=merged_into, closed_at=issue.closed_at)
    if not full:
        return Tracking(**common, reject_note="")
    entries = session.execute(select(TimelineEntry.created_at, TimelineEntry.kind, TimelineEntry.to_state,
                                     TimelineEntry.note)
                              .where(TimelineEntry.issue_id == issue.id)
                              .order_by(TimelineEntry.created_at, TimelineEntry.id)).all()
    return Tracking(
        **common, reject_note=_reject_note(entries) if rejected else "", steps=_steps(entries),
        **_decision(session, issue.id), lead_organisation=_lead_name(session, issue),
        due_date=issue.due_date if issue.state in (IssueState.IN_ACTION, IssueState.MEETING) else None,
        reopen_count=issue.reopen_count, residents_affected=support_counts(session, [issue.id]).get(issue.id, 0),
        may_rate=merged_into is None and issue.state == IssueState.RESIDENT_REVIEW,
        rating=issue.rating, fix_status=issue.fix_status)


@reads(ResidentReport, Issue, TimelineEntry, AgendaItem, Organisation, Area)
def tracking_by_token(session: Session, token: str | None) -> Tracking | None:
    """The whole picture for the holder of the private link; None for an unknown token."""
    report = report_by_token(session, token)
    return None if report is None else _tracking(session, report, full=True)


@reads(ResidentReport, Issue, TimelineEntry, AgendaItem, Organisation, Area)
def status_by_code(session: Session, code: str | None) -> Tracking | None:
    """The status only, for the tracking code alone (no steps, decision or rating)."""
    normalised = normalise_code(code)
    if len(normalised) != CODE_LENGTH:
        return None
    report = session.execute(select(ResidentReport).where(ResidentReport.tracking_code == normalised)).scalar_one_or_none()
    return None if report is None else _tracking(session, report, full=False)


