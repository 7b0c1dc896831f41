"""The five-step loop (居民提事 → 网格议事 → 会议定事 → 联动办事 → 群众评事) as explicit rules.
Only the moves in ALLOWED are possible; each move writes its timeline entry in the same
transaction as the state change. Callers pass the session of one write transaction."""

from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import Session

from gongzhi.audit import get_for_update
from gongzhi.clock import now
from gongzhi.domain import (
    ISSUE_CATEGORIES,
    RATING_WINDOW_DAYS,
    REOPEN_MAX_RATING,
    FixStatus,
    IssueState,
    RejectReason,
)
from gongzhi.errors import FieldError, IllegalTransition, ValidationError
from gongzhi.models import Issue, Organisation, Rating, TimelineEntry
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


def allowed_moves(state: str) -> tuple[IssueState, ...]:
    return MANUAL_MOVES[IssueState(state)]


def get_issue_for_update(session: Session, issue_id: int, expected_version: int | None) -> Issue:
    return get_for_update(session, Issue, issue_id, expected_version, what="issue")


def _check_allowed(issue: Issue, to_state: IssueState) -> None:
    current = IssueState(issue.state)
    if to_state not in ALLOWED[current]:
        allowed = ", ".join(s.value for s in ALLOWED[current]) or "-"
        raise IllegalTransition(current=current.value, target=to_state.value, allowed=allowed)


def _record(session: Session, issue: Issue, *, kind: str, actor: Actor, from_state: str | None,
            to_state: str | None, note: str = "", meeting_id: int | None = None) -> None:
    session.add(TimelineEntry(issue_id=issue.id, kind=kind, from_state=from_state, to_state=to_state,
                              actor=actor.name, actor_role=actor.role.value, note=note,
                              meeting_id=meeting_id, created_at=now()))


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
    """Move an issue one step. Refuses any move not in ALLOWED, naming the current state and the
    allowed ones. Entering `in_action` needs a lead organisation; `rejected` needs a reason."""
    issue = get_issue_for_update(session, issue_id, expected_version)
    require_write(actor, grid_id=issue.grid_id)
    return _apply_move(session, issue, IssueState(to_state), actor=actor, note=note, lead_org_id=lead_org_id,
                       due_date=due_date, reject_reason=reject_reason, duplicate_of_id=duplicate_of_id,
                       meeting_id=meeting_id)


def _apply_move(session: Session, issue: Issue, target: IssueState, *, actor: Actor, note: str = "",
                lead_org_id: int | None = None, due_date: date | None = None, reject_reason: str | None = None,
                duplicate_of_id: int | None = None, meeting_id: int | None = None) -> Issue:
    """The move itself, once the caller has checked who may make it."""
    _check_allowed(issue, target)
    errors: list[FieldError] = []
    at = now()

    reopening = issue.state == S.RESIDENT_REVIEW and target == S.IN_ACTION
    note = check_text(errors, "issues.field_note", note, NOTE)
    if target == S.IN_ACTION:
        lead = lead_org_id or issue.lead_org_id
        organisation = session.get(Organisation, lead) if lead is not None else None
        # A reopened issue that the grid had fixed itself goes back to the grid without a lead
        # organisation: the resident's rating must never be refused for want of one.
        if (lead is None and not reopening) or (lead is not None and (organisation is None or organisation.deleted_at)):
            errors.append(FieldError("issues.field_lead_org", "errors.required"))
        if due_date is not None and due_date < at.date():
            errors.append(FieldError("issues.field_due_date", "errors.date_in_past"))
    if target == S.REJECTED:
        if reject_reason not in {r.value for r in RejectReason}:
            errors.append(FieldError("issues.field_reject_reason", "errors.required"))
        elif reject_reason == RejectReason.DUPLICATE:
            original = session.get(Issue, duplicate_of_id) if duplicate_of_id else None
            if original is None or original.deleted_at is not None or original.id == issue.id:
                errors.append(FieldError("issues.field_duplicate_of", "errors.issue_not_found"))
    if errors:
        raise ValidationError(errors)

    from_state = issue.state
    if issue.first_response_at is None and from_state == S.REPORTED:
        issue.first_response_at = at
    if target == S.MEETING:
        issue.went_to_meeting = True
    if target == S.IN_ACTION:
        issue.lead_org_id = lead_org_id or issue.lead_org_id
        if due_date is not None:
            issue.due_date = due_date
    if target == S.RESIDENT_REVIEW:
        issue.resolved_at = at
        issue.days_to_resolve = round((at - issue.reported_at).total_seconds() / 86400, 2)
        issue.resolved_on_time = at.date() <= issue.due_date
        issue.resolved_in_grid = not issue.went_to_meeting
    if target == S.REJECTED:
        issue.reject_reason = reject_reason
        issue.duplicate_of_id = duplicate_of_id if reject_reason == RejectReason.DUPLICATE else None
        issue.closed_at = at
    if target in (S.CLOSED, S.CLOSED_UNRATED):
        issue.closed_at = at
    if reopening:
        issue.reopen_count += 1
        # The work starts again today: a fresh resolution deadline, not the one already missed.
        issue.due_date = at.date() + timedelta(days=ISSUE_CATEGORIES.get(issue.category, ISSUE_CATEGORIES["other"])[1])
        issue.resolved_at = issue.days_to_resolve = issue.resolved_on_time = issue.resolved_in_grid = None
    issue.state = target.value
    session.add(issue)
    session.flush()
    _record(session, issue, kind="transition", actor=actor, from_state=from_state, to_state=target.value,
            note=note, meeting_id=meeting_id)
    return issue


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
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        errors.append(FieldError("issues.field_rating", "errors.between", {"low": 1, "high": 5}))
    if fix_status not in {f.value for f in FixStatus}:
        errors.append(FieldError("issues.field_fix_status", "errors.required"))
    comment = check_text(errors, "issues.field_comment", comment, COMMENT)
    if errors:
        raise ValidationError(errors)
    if issue.state != S.RESIDENT_REVIEW:
        raise IllegalTransition(current=issue.state, target="rating", allowed=S.RESIDENT_REVIEW.value)
    session.add(Rating(issue_id=issue.id, rating=rating, fix_status=fix_status, comment=comment,
                       rated_by=actor.name, created_at=now()))
    issue.rating = rating
    issue.fix_status = fix_status
    _record(session, issue, kind="rating", actor=actor, from_state=issue.state, to_state=issue.state,
            note=f"{rating}/5 {fix_status} {comment}".strip())
    reopen = rating <= REOPEN_MAX_RATING or fix_status == FixStatus.NOT_FIXED
    return _apply_move(session, issue, S.IN_ACTION if reopen else S.CLOSED, actor=actor, note=comment)


def expired_reviews(*, session: Session) -> list[int]:
    """Issues left unrated for longer than RATING_WINDOW_DAYS in resident review."""
    cutoff = now() - timedelta(days=RATING_WINDOW_DAYS)
    return list(session.execute(
        select(Issue.id).where(Issue.state == S.RESIDENT_REVIEW, Issue.resolved_at < cutoff, Issue.deleted_at.is_(None))
    ).scalars())


def close_expired_reviews(*, session: Session, actor: Actor) -> int:
    """Issues left unrated for RATING_WINDOW_DAYS in resident review close as closed_unrated."""
    ids = expired_reviews(session=session)
    for issue_id in ids:
        move(session=session, issue_id=issue_id, to_state=S.CLOSED_UNRATED, actor=actor,
             note=f"{RATING_WINDOW_DAYS}d")
    return len(ids)
