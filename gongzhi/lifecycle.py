"""The five-step loop (居民提事 → 网格议事 → 会议定事 → 联动办事 → 群众评事) as explicit rules.
Only the moves in ALLOWED are possible, and a person moves an issue only along MANUAL_MOVES:
an issue in resident review closes or reopens through a rating (`rate`), or closes unrated
through the sweep once its rating window is over (`close_unrated`). Each move writes its
timeline entry in the same transaction as the state change; the fields a move sets come from
one pure function (`move_fields`), which the seeds and the importer use as well. Callers pass
the session of one write transaction."""

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from gongzhi import timeline
from gongzhi.audit import get_for_update
from gongzhi.clock import now
from gongzhi.domain import (
    RATING_WINDOW_DAYS,
    REOPEN_MAX_RATING,
    FixStatus,
    IssueState,
    RejectReason,
    resolution_due,
)
from gongzhi.errors import FieldError, GongzhiError, IllegalTransition, ValidationError
from gongzhi.models import Issue, Organisation, Rating
from gongzhi.permissions import Actor, require_rating, require_write
from gongzhi.validation import COMMENT, NOTE, check_text

S = IssueState
ALLOWED: dict[IssueState, tuple[IssueState, ...]] = {
    S.REPORTED: (S.GRID_REVIEW,),
    # resolve locally (in_action / resident_review), take it to a meeting, or reject it
    S.GRID_REVIEW: (S.MEETING, S.IN_ACTION, S.RESIDENT_REVIEW, S.REJECTED),
    # the meeting's decision: approve and assign, or reject (defer keeps it in `meeting`)
    S.MEETING: (S.IN_ACTION, S.REJECTED),
    S.IN_ACTION: (S.RESIDENT_REVIEW,),
    # closing and reopening happen through a rating; closed_unrated through the 14-day sweep
    S.RESIDENT_REVIEW: (S.CLOSED, S.IN_ACTION, S.CLOSED_UNRATED),
    S.CLOSED: (),
    S.CLOSED_UNRATED: (),
    S.REJECTED: (),
}
# Moves a person makes with the move form; the others follow from a rating or the sweep.
MANUAL_MOVES: dict[IssueState, tuple[IssueState, ...]] = {
    **{state: targets for state, targets in ALLOWED.items() if state != S.RESIDENT_REVIEW},
    S.RESIDENT_REVIEW: (),
}


CLOSING = (S.CLOSED, S.CLOSED_UNRATED)


def issue_state(code: object) -> IssueState:
    """The state named by `code`; anything else is a GongzhiError naming it."""
    try:
        return IssueState(code)
    except ValueError:
        raise GongzhiError("errors.unknown_state", state=str(code)[:40]) from None


def allowed_moves(state: str) -> tuple[IssueState, ...]:
    return MANUAL_MOVES[issue_state(state)]


def get_issue_for_update(session: Session, issue_id: int, expected_version: int | None) -> Issue:
    return get_for_update(session, Issue, issue_id, expected_version, what="issue")


def _check_allowed(issue: Issue, to_state: IssueState) -> None:
    current = IssueState(issue.state)
    if to_state not in ALLOWED[current]:
        allowed = ", ".join(s.value for s in ALLOWED[current]) or "-"
        raise IllegalTransition(current=current.value, target=to_state.value, allowed=allowed)


def _check_manual(issue: Issue, to_state: IssueState) -> None:
    """A person's move: only along MANUAL_MOVES. Closing and reopening an issue in resident
    review are refused with the reason (a rating does it, or the sweep)."""
    current = IssueState(issue.state)
    if to_state in MANUAL_MOVES[current]:
        return
    allowed = ", ".join(s.value for s in MANUAL_MOVES[current]) or "-"
    if to_state in ALLOWED[current]:
        raise IllegalTransition("errors.move_by_rating_only", current=current.value, target=to_state.value,
                                allowed=allowed, days=RATING_WINDOW_DAYS)
    raise IllegalTransition(current=current.value, target=to_state.value, allowed=allowed)


# --- the fields each step sets (pure: used on model instances and on plain rows alike) ----------

def created_fields(category: str, reported_at: datetime) -> dict[str, Any]:
    """The lifecycle fields of a new issue (居民提事): in `reported`, due by its category's
    resolution service level, nothing else happened yet."""
    return {"state": S.REPORTED.value, "reported_at": reported_at, "due_date": resolution_due(category, reported_at),
            "first_response_at": None, "resolved_at": None, "closed_at": None, "days_to_resolve": None,
            "resolved_on_time": None, "resolved_in_grid": None, "went_to_meeting": False, "lead_org_id": None,
            "reject_reason": None, "duplicate_of_id": None, "rating": None, "fix_status": None, "reopen_count": 0}


def _getter(issue: Mapping[str, Any] | Any) -> Callable[[str], Any]:
    return issue.__getitem__ if isinstance(issue, Mapping) else partial(getattr, issue)


def _entering(target: IssueState, get: Callable[[str], Any], at: datetime, *, lead_org_id: int | None,
              due_date: date | None, reject_reason: str | None, duplicate_of_id: int | None) -> dict[str, Any]:
    if target == S.MEETING:
        return {"went_to_meeting": True}
    if target == S.IN_ACTION:
        return {"lead_org_id": lead_org_id or get("lead_org_id"), **({"due_date": due_date} if due_date else {})}
    if target == S.RESIDENT_REVIEW:
        return {"resolved_at": at, "days_to_resolve": round((at - get("reported_at")).total_seconds() / 86400, 2),
                "resolved_on_time": at.date() <= get("due_date"), "resolved_in_grid": not get("went_to_meeting")}
    if target == S.REJECTED:
        duplicate = duplicate_of_id if reject_reason == RejectReason.DUPLICATE else None
        return {"reject_reason": str(reject_reason), "duplicate_of_id": duplicate, "closed_at": at}
    if target in CLOSING:
        return {"closed_at": at}
    return {}


def move_fields(issue: Mapping[str, Any] | Any, target: IssueState, at: datetime, *, lead_org_id: int | None = None,
                due_date: date | None = None, reject_reason: str | None = None,
                duplicate_of_id: int | None = None) -> dict[str, Any]:
    """The fields a move of `issue` (a model instance or a row of its fields) to `target` at
    `at` sets, state included. The first move out of `reported` is the first response; a
    reopening (resident review -> in action) is counted and starts a fresh resolution deadline."""
    get = _getter(issue)
    source = IssueState(get("state"))
    fields: dict[str, Any] = {}
    if source == S.REPORTED and get("first_response_at") is None:
        fields["first_response_at"] = at
    fields.update(_entering(target, get, at, lead_org_id=lead_org_id, due_date=due_date,
                            reject_reason=reject_reason, duplicate_of_id=duplicate_of_id))
    if source == S.RESIDENT_REVIEW and target == S.IN_ACTION:
        # The work starts again today: a fresh resolution deadline, not the one already missed.
        fields.update(reopen_count=get("reopen_count") + 1, due_date=resolution_due(get("category"), at),
                      resolved_at=None, days_to_resolve=None, resolved_on_time=None, resolved_in_grid=None)
    fields["state"] = target.value
    return fields


def progress_fields(issue: Mapping[str, Any] | Any, at: datetime) -> dict[str, Any]:
    """The fields a progress note at `at` sets: it is the first response if there was none yet
    (DOMAIN.md: the first move out of reported or the first progress note, whichever is earlier)."""
    return {"first_response_at": at} if _getter(issue)("first_response_at") is None else {}


# --- moves ----------------------------------------------------------------------------------------

def move(
    *,
    session: Session,
    issue_id: int,
    to_state: str,
    actor: Actor,
    note: str = "",
    expected_version: int | None = None,
    lead_org_id: int | None = None,
    due_date: date | None = None,
    reject_reason: str | None = None,
    duplicate_of_id: int | None = None,
    meeting_id: int | None = None,
) -> Issue:
    """Move an issue one step by hand. Refuses any move not in MANUAL_MOVES, naming the current
    state and the allowed ones. Entering `in_action` needs a lead organisation; `rejected` needs
    a reason."""
    target = issue_state(to_state)
    issue = get_issue_for_update(session, issue_id, expected_version)
    require_write(actor, grid_id=issue.grid_id)
    _check_manual(issue, target)
    return _apply_move(session, issue, target, actor=actor, note=note, lead_org_id=lead_org_id,
                       due_date=due_date, reject_reason=reject_reason, duplicate_of_id=duplicate_of_id,
                       meeting_id=meeting_id)


def _lead_errors(session: Session, issue: Issue, lead_org_id: int | None, due_date: date | None,
                 at: datetime) -> list[FieldError]:
    """Entering in_action by a decision: a live lead organisation and no due date in the past."""
    errors = []
    lead = lead_org_id or issue.lead_org_id
    organisation = session.get(Organisation, lead) if lead is not None else None
    if lead is None:
        errors.append(FieldError("issues.field_lead_org", "errors.required"))
    elif organisation is None or organisation.deleted_at is not None:
        errors.append(FieldError("issues.field_lead_org", "errors.organisation_not_found"))
    if due_date is not None and due_date < at.date():
        errors.append(FieldError("issues.field_due_date", "errors.date_in_past"))
    return errors


def _reject_errors(session: Session, issue: Issue, reject_reason: str | None,
                   duplicate_of_id: int | None) -> list[FieldError]:
    if reject_reason not in {r.value for r in RejectReason}:
        return [FieldError("issues.field_reject_reason", "errors.required")]
    if reject_reason == RejectReason.DUPLICATE:
        original = session.get(Issue, duplicate_of_id) if duplicate_of_id else None
        if original is None or original.deleted_at is not None or original.id == issue.id:
            return [FieldError("issues.field_duplicate_of", "errors.issue_not_found")]
    return []


def _move_errors(session: Session, issue: Issue, target: IssueState, at: datetime, *,
                 lead_org_id: int | None, due_date: date | None, reject_reason: str | None,
                 duplicate_of_id: int | None) -> list[FieldError]:
    errors: list[FieldError] = []
    # A reopening (by a rating) goes back to whoever had the work, or to the grid that fixed it
    # itself without a lead organisation: the resident's rating is never refused for want of one.
    reopening = issue.state == S.RESIDENT_REVIEW and target == S.IN_ACTION
    if target == S.IN_ACTION and not reopening:
        errors += _lead_errors(session, issue, lead_org_id, due_date, at)
    if target == S.REJECTED:
        errors += _reject_errors(session, issue, reject_reason, duplicate_of_id)
    return errors


def _apply_move(session: Session, issue: Issue, target: IssueState, *, actor: Actor, note: str = "",
                lead_org_id: int | None = None, due_date: date | None = None, reject_reason: str | None = None,
                duplicate_of_id: int | None = None, meeting_id: int | None = None) -> Issue:
    """The move itself, once the caller has checked who may make it and that it may make it."""
    _check_allowed(issue, target)
    errors: list[FieldError] = []
    at = now()
    note = check_text(errors, "issues.field_note", note, NOTE)
    errors += _move_errors(session, issue, target, at, lead_org_id=lead_org_id, due_date=due_date,
                           reject_reason=reject_reason, duplicate_of_id=duplicate_of_id)
    if errors:
        raise ValidationError(errors)
    from_state = issue.state
    for name, value in move_fields(issue, target, at, lead_org_id=lead_org_id, due_date=due_date,
                                   reject_reason=reject_reason, duplicate_of_id=duplicate_of_id).items():
        setattr(issue, name, value)
    session.add(issue)
    session.flush()
    timeline.record(session, issue_id=issue.id, kind="transition", actor=actor, from_state=from_state,
                    to_state=target.value, note=note, meeting_id=meeting_id, at=at)
    return issue


# --- 群众评事: ratings and the rating window ------------------------------------------------------

def _rating_errors(rating: object, fix_status: object) -> list[FieldError]:
    errors: list[FieldError] = []
    # A bool is an int to Python, never a rating.
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        errors.append(FieldError("issues.field_rating", "errors.between", {"low": 1, "high": 5}))
    if fix_status not in {f.value for f in FixStatus}:
        errors.append(FieldError("issues.field_fix_status", "errors.required"))
    return errors


def rate(
    *,
    session: Session,
    issue_id: int,
    rating: int,
    fix_status: str,
    actor: Actor,
    comment: str = "",
    expected_version: int | None = None,
) -> Issue:
    """群众评事: a rating of 1–5 and fixed / partly fixed / not fixed, by the committee, the grid's
    leader or a resident representative. A rating ≤ 2 or "not fixed" reopens the issue (back to
    in_action, counted); otherwise it closes."""
    issue = get_issue_for_update(session, issue_id, expected_version)
    require_rating(actor, grid_id=issue.grid_id)
    errors: list[FieldError] = []
    comment = check_text(errors, "issues.field_comment", comment, COMMENT)
    errors += _rating_errors(rating, fix_status)
    if errors:
        raise ValidationError(errors)
    if issue.state != S.RESIDENT_REVIEW:
        raise IllegalTransition(current=issue.state, target="rating", allowed=S.RESIDENT_REVIEW.value)
    session.add(Rating(issue_id=issue.id, rating=rating, fix_status=fix_status, comment=comment,
                       rated_by=actor.name, created_at=now()))
    issue.rating = rating
    issue.fix_status = fix_status
    timeline.record(session, issue_id=issue.id, kind="rating", actor=actor, from_state=issue.state,
                    to_state=issue.state, note=f"{rating}/5 {fix_status} {comment}".strip())
    reopen = rating <= REOPEN_MAX_RATING or fix_status == FixStatus.NOT_FIXED
    return _apply_move(session, issue, S.IN_ACTION if reopen else S.CLOSED, actor=actor, note=comment)


def rating_window_over(issue: Issue, at: datetime) -> bool:
    """In resident review, unrated, for longer than RATING_WINDOW_DAYS at `at`."""
    return (issue.state == S.RESIDENT_REVIEW and issue.deleted_at is None and issue.resolved_at is not None
            and issue.resolved_at < at - timedelta(days=RATING_WINDOW_DAYS))


def expired_reviews(*, session: Session) -> list[int]:
    """Issues left unrated for longer than RATING_WINDOW_DAYS in resident review."""
    cutoff = now() - timedelta(days=RATING_WINDOW_DAYS)
    return list(session.execute(
        select(Issue.id).where(Issue.state == S.RESIDENT_REVIEW, Issue.resolved_at < cutoff, Issue.deleted_at.is_(None))
        .order_by(Issue.id)
    ).scalars())


def close_unrated(*, session: Session, issue_id: int, actor: Actor) -> bool:
    """Close one issue as closed_unrated if its rating window is over (True); otherwise change
    nothing (False) — e.g. it was rated since the sweep listed it. The sweep's move, as the system."""
    require_write(actor, grid_id=None)
    issue = get_issue_for_update(session, issue_id, None)
    if not rating_window_over(issue, now()):
        return False
    _apply_move(session, issue, S.CLOSED_UNRATED, actor=actor, note=f"{RATING_WINDOW_DAYS}d")
    return True


def close_expired_reviews(*, session: Session, actor: Actor) -> int:
    """Issues left unrated for RATING_WINDOW_DAYS in resident review close as closed_unrated."""
    require_write(actor, grid_id=None)
    return sum(close_unrated(session=session, issue_id=issue_id, actor=actor)
               for issue_id in expired_reviews(session=session))
