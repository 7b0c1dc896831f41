"""Meetings (会议定事): planning a meeting and its agenda (proposed from the issues waiting for a
meeting, deferred ones and overdue ones; reordered, added to, trimmed), recording whether quorum
held, taking each item's decision — which moves its issue on through `gongzhi.lifecycle` in the
same transaction, with the meeting named on the issue's timeline — and closing the meeting,
which writes its minutes. Meetings belong to the whole community: only the committee (and
admin) plans and runs them."""

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlmodel import Session, SQLModel

from gongzhi import lifecycle, timeline
from gongzhi.audit import get_for_update
from gongzhi.clock import today
from gongzhi.crud.issues import assign
from gongzhi.domain import CLOSED_STATES, Decision, IssueState, MeetingKind, MeetingStatus, RejectReason
from gongzhi.errors import FieldError, GongzhiError, ValidationError
from gongzhi.i18n import LANGUAGES
from gongzhi.minutes import minutes_markdown
from gongzhi.models import AgendaItem, AgendaItemCooperator, Issue, IssueCooperator, Meeting, Organisation
from gongzhi.permissions import Actor, require_write
from gongzhi.queries.meetings import attendee_names, meeting_detail
from gongzhi.validation import (
    ATTENDEES,
    NOTE,
    NOTE_MAX,
    PERSON_NAME,
    PLACE,
    QUORUM,
    TITLE,
    TOPIC,
    TextField,
    check_date,
    check_number,
    check_text,
)

# Rejections a meeting gives with a reason of its own; a duplicate is a merge into the other issue.
MEETING_REJECT_REASONS = (RejectReason.NOT_RESPONSIBLE.value, RejectReason.WITHDRAWN.value)
FINAL = (Decision.APPROVE.value, Decision.REJECT.value, Decision.MERGE.value)


class MeetingCreate(SQLModel):
    title: str = ""
    kind: str = ""
    held_at: datetime | None = None
    place: str = ""
    attendees: str = ""  # one name per line
    quorum: int = 0
    language: str = "zh-CN"  # of the minutes
    chair: str = ""  # 主持人
    recorder: str = ""  # 记录人


def _text_errors(field: str, value: str, spec: TextField, *, required: bool = False) -> list[FieldError]:
    errors: list[FieldError] = []
    check_text(errors, field, value, spec, required=required)
    return errors


def plan_meeting(*, session: Session, actor: Actor, data: MeetingCreate) -> Meeting:
    """A new meeting in status `planned`. Meetings belong to the whole community, so only the
    committee (and admin) plans them."""
    require_write(actor, grid_id=None)
    errors: list[FieldError] = []
    title = check_text(errors, "meetings.field_title", data.title, TITLE, required=True)
    place = check_text(errors, "meetings.field_place", data.place, PLACE)
    attendees = check_text(errors, "meetings.field_attendees", data.attendees, ATTENDEES)
    chair, recorder = check_role_names(errors, data.chair, data.recorder)
    if data.kind not in {kind.value for kind in MeetingKind}:
        errors.append(FieldError("meetings.field_kind", "errors.invalid_choice"))
    check_date(errors, "meetings.field_held_at", data.held_at, required=True)
    check_number(errors, "meetings.field_quorum", data.quorum, QUORUM, required=True)
    if data.language not in LANGUAGES:
        errors.append(FieldError("meetings.field_language", "errors.invalid_choice"))
    if errors:
        raise ValidationError(errors)
    # The attendees as planned are the invitation; attendance later records who came.
    meeting = Meeting(title=title, kind=data.kind, held_at=data.held_at, place=place, attendees=attendees,
                      invited=attendees, quorum=data.quorum, status=MeetingStatus.PLANNED.value,
                      language=data.language, chair=chair, recorder=recorder)
    session.add(meeting)
    session.flush()
    return meeting


def check_role_names(errors: list[FieldError], chair: str | None, recorder: str | None) -> tuple[str, str]:
    """The chair's and the recorder's names, cleaned (problems added to `errors`)."""
    return (check_text(errors, "meetings.field_chair", chair, PERSON_NAME),
            check_text(errors, "meetings.field_recorder", recorder, PERSON_NAME))


def _planned_meeting(session: Session, meeting_id: int, expected_version: int | None) -> Meeting:
    meeting = get_for_update(session, Meeting, meeting_id, expected_version, what="meeting")
    if meeting.status != MeetingStatus.PLANNED:
        # A held meeting's agenda is the record of what was discussed.
        raise GongzhiError("meetings.error_meeting_held", title=meeting.title)
    return meeting


def may_go_on_agenda(issue: Issue) -> bool:
    """An issue waiting for a meeting, or one in action past its due date (the meeting follows
    it up and may assign it anew)."""
    return issue.state == IssueState.MEETING or (issue.state == IssueState.IN_ACTION and issue.due_date < today())


def add_agenda_item(*, session: Session, actor: Actor, meeting_id: int, issue_id: int | None = None,
                    topic: str = "", expected_version: int | None = None) -> AgendaItem:
    """Put an issue waiting for a meeting (or overdue in action), or a free topic, at the end of
    a planned meeting's agenda. An issue appears at most once on an agenda."""
    require_write(actor, grid_id=None)
    meeting = _planned_meeting(session, meeting_id, expected_version)
    errors: list[FieldError] = []
    topic = check_text(errors, "meetings.field_topic", topic, TOPIC)
    if errors:
        raise ValidationError(errors)
    if issue_id is None and not topic:
        errors.append(FieldError("meetings.field_agenda_item", "meetings.error_issue_or_topic"))
    elif issue_id is not None and topic:
        errors.append(FieldError("meetings.field_agenda_item", "meetings.error_not_both"))
    if issue_id is not None and not errors:
        issue = session.get(Issue, issue_id)
        if issue is None or issue.deleted_at is not None:
            errors.append(FieldError("meetings.field_issue", "errors.issue_not_found"))
        elif not may_go_on_agenda(issue):
            errors.append(FieldError("meetings.field_issue", "meetings.error_not_awaiting"))
        elif session.execute(select(AgendaItem.id).where(AgendaItem.meeting_id == meeting.id,
                                                         AgendaItem.issue_id == issue_id)).first():
            errors.append(FieldError("meetings.field_issue", "meetings.error_already_on_agenda"))
    if errors:
        raise ValidationError(errors)
    last = session.execute(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
    ).scalar_one_or_none()
    item = AgendaItem(meeting_id=meeting.id, position=(last or 0) + 1, issue_id=issue_id, topic=topic)
    session.add(item)
    session.flush()
    return item


def remove_agenda_item(*, session: Session, actor: Actor, agenda_item_id: int,
                       expected_version: int | None = None) -> None:
    """Take an undecided item off a planned meeting's agenda; the items after it move up one place."""
    require_write(actor, grid_id=None)
    item = get_for_update(session, AgendaItem, agenda_item_id, expected_version, what="agenda item")
    _planned_meeting(session, item.meeting_id, None)
    if item.decision is not None:
        raise GongzhiError("meetings.error_item_decided")
    following = session.execute(
        select(AgendaItem).where(AgendaItem.meeting_id == item.meeting_id, AgendaItem.position > item.position)
    ).scalars().all()
    session.delete(item)
    for later in following:
        later.position -= 1
        session.add(later)
    session.flush()


def accept_proposal(*, session: Session, actor: Actor, meeting_id: int, issue_ids: Iterable[int],
                    expected_version: int | None = None) -> list[AgendaItem]:
    """Put the proposed issues the secretary kept onto the agenda, in the order given, after the
    items already on it; an issue already on this agenda is skipped."""
    require_write(actor, grid_id=None)
    issue_ids = list(dict.fromkeys(int(i) for i in issue_ids))
    if not issue_ids:
        raise ValidationError([FieldError("meetings.field_proposal", "meetings.error_nothing_chosen")])
    items = []
    for issue_id in issue_ids:
        if session.execute(select(AgendaItem.id).where(AgendaItem.meeting_id == meeting_id,
                                                       AgendaItem.issue_id == issue_id)).first():
            continue
        items.append(add_agenda_item(session=session, actor=actor, meeting_id=meeting_id, issue_id=issue_id,
                                     expected_version=expected_version))
        expected_version = None  # checked once, against the copy the secretary saw
    return items


def move_agenda_item(*, session: Session, actor: Actor, agenda_item_id: int, step: int,
                     expected_version: int | None = None) -> AgendaItem:
    """Move an item of a planned meeting's agenda one place up (step -1) or down (step +1): it
    swaps places with its neighbour."""
    if step not in (-1, 1):
        raise ValueError("step is -1 (up) or +1 (down)")
    require_write(actor, grid_id=None)
    item = get_for_update(session, AgendaItem, agenda_item_id, expected_version, what="agenda item")
    _planned_meeting(session, item.meeting_id, None)
    beside = AgendaItem.position < item.position if step < 0 else AgendaItem.position > item.position
    order = AgendaItem.position.desc() if step < 0 else AgendaItem.position
    neighbour = session.execute(
        select(AgendaItem).where(AgendaItem.meeting_id == item.meeting_id, beside).order_by(order).limit(1)
    ).scalar_one_or_none()
    if neighbour is None:
        raise GongzhiError("meetings.error_already_first" if step < 0 else "meetings.error_already_last")
    item.position, neighbour.position = neighbour.position, item.position
    session.add_all([item, neighbour])
    session.flush()
    return item


def record_meeting_attendance(*, session: Session, actor: Actor, meeting_id: int, attendees: str,
                              quorum_met: bool | None, expected_version: int | None = None) -> Meeting:
    """Who is present (one name per line) and whether quorum held, as the secretary finds at the
    start of the meeting (or when people leave). Quorum cannot have held with fewer people
    present than the quorum."""
    require_write(actor, grid_id=None)
    meeting = _planned_meeting(session, meeting_id, expected_version)
    errors: list[FieldError] = []
    attendees = check_text(errors, "meetings.field_attendees", attendees, ATTENDEES)
    present = len(attendee_names(attendees))
    if quorum_met and present < meeting.quorum:
        errors.append(FieldError("meetings.field_quorum_met", "meetings.error_quorum_not_present",
                                 {"present": present, "quorum": meeting.quorum}))
    if errors:
        raise ValidationError(errors)
    meeting.attendees = attendees
    meeting.quorum_met = quorum_met
    session.add(meeting)
    session.flush()
    return meeting


class DecisionInput(SQLModel):
    """A meeting's decision on one agenda item, as the secretary records it."""

    decision: str = ""  # domain.Decision
    note: str = ""  # the reason, required for a rejection
    lead_org_id: int | None = None  # approve
    due_date: date | None = None  # approve
    reject_reason: str | None = None  # reject: one of MEETING_REJECT_REASONS
    merge_into_id: int | None = None  # merge
    votes_for: int = 0
    votes_against: int = 0
    votes_abstain: int = 0


class DecisionNotAllowed(GongzhiError):
    """A decision the issue's state does not allow; params are codes, shown as labels."""

    key = "meetings.error_decision_not_allowed"

    def message(self, lang: str) -> str:
        from gongzhi.i18n import label, translate

        return translate(lang, self.key, decision=label(lang, "decision", self.params["decision"]),
                         state=label(lang, "state", self.params["state"]))


def decisions_allowed(state: str) -> tuple[str, ...]:
    """Decisions a meeting may take on an issue in `state`: all of them while it waits for the
    meeting; for an issue already in action (on the agenda because it is overdue) a new
    assignment or a deferral, since the lifecycle allows no rejection once work has started."""
    if state == IssueState.MEETING:
        return tuple(d.value for d in Decision)
    if state == IssueState.IN_ACTION:
        return (Decision.APPROVE.value, Decision.DEFER.value)
    return ()


def decide(*, session: Session, actor: Actor, agenda_item_id: int, data: DecisionInput,
           expected_version: int | None = None) -> AgendaItem:
    """Record the meeting's decision on one agenda item and move its issue on, in this
    transaction: approve (a lead organisation and a due date; an issue waiting for the meeting
    goes into action, an overdue one is assigned anew), reject (with a reason), merge into another
    open issue (the issue closes as its duplicate), or defer (it waits for the next meeting). The
    issue's timeline names the meeting. A final decision needs quorum and more votes for than
    against; no more votes than people present."""
    require_write(actor, grid_id=None)
    item = get_for_update(session, AgendaItem, agenda_item_id, expected_version, what="agenda item")
    meeting = _planned_meeting(session, item.meeting_id, None)
    issue = _decidable(session, meeting, item, data.decision)
    errors: list[FieldError] = []
    note = _decision_errors(session, meeting, issue, data, errors)
    if errors:
        raise ValidationError(errors)
    if issue is not None:
        _move_issue(session, actor, meeting, issue, data, data.decision, note)
    _record_decision(session, item, data, note)
    return item


def _decidable(session: Session, meeting: Meeting, item: AgendaItem, decision: str) -> Issue | None:
    """The item's issue (None for a free topic), once the decision is one this item may take now."""
    if item.decision is not None:
        raise GongzhiError("meetings.error_item_decided_already")
    if decision not in {d.value for d in Decision}:
        raise ValidationError([FieldError("meetings.field_decision", "errors.invalid_choice")])
    issue = None
    if item.issue_id is not None:
        issue = get_for_update(session, Issue, item.issue_id, None, what="issue")
        if decision not in decisions_allowed(issue.state):
            raise DecisionNotAllowed(decision=decision, state=issue.state)
    elif decision == Decision.MERGE:
        raise GongzhiError("meetings.error_merge_needs_issue")
    if decision in FINAL and meeting.quorum_met is not True:
        raise GongzhiError("meetings.error_quorum_unknown" if meeting.quorum_met is None else "meetings.error_no_quorum")
    return issue



def _decision_errors(session: Session, meeting: Meeting, issue: Issue | None, data: DecisionInput,
                     errors: list[FieldError]) -> str:
    """The decision's note cleaned, with every problem of the decision added to `errors`."""
    decision = data.decision
    note = check_text(errors, "meetings.field_decision_note", data.note, NOTE, required=decision == Decision.REJECT)
    errors += _vote_errors(data, decision, present=len(attendee_names(meeting.attendees)))
    if decision == Decision.APPROVE:
        errors += _approval_errors(session, data)
    if decision == Decision.REJECT and issue is not None and data.reject_reason not in MEETING_REJECT_REASONS:
        errors.append(FieldError("meetings.field_reject_reason", "errors.required"))
    if decision == Decision.MERGE:
        errors += _merge_errors(session, issue, data.merge_into_id)
    return note


def _approval_errors(session: Session, data: DecisionInput) -> list[FieldError]:
    errors = []
    organisation = session.get(Organisation, data.lead_org_id) if data.lead_org_id is not None else None
    if data.lead_org_id is None:
        errors.append(FieldError("meetings.field_lead_org", "errors.required"))
    elif organisation is None or organisation.deleted_at is not None:
        errors.append(FieldError("meetings.field_lead_org", "errors.organisation_not_found"))
    if data.due_date is None:
        errors.append(FieldError("meetings.field_due_date", "errors.required"))
    elif data.due_date < today():
        errors.append(FieldError("meetings.field_due_date", "errors.date_in_past"))
    return errors


def _merge_errors(session: Session, issue: Issue, merge_into_id: int | None) -> list[FieldError]:
    target = session.get(Issue, merge_into_id) if merge_into_id is not None else None
    if merge_into_id is None:
        return [FieldError("meetings.field_merge_into", "errors.required")]
    if target is None or target.deleted_at is not None:
        return [FieldError("meetings.field_merge_into", "errors.issue_not_found")]
    if target.id == issue.id:
        return [FieldError("meetings.field_merge_into", "meetings.error_merge_into_itself")]
    if target.state in CLOSED_STATES:
        return [FieldError("meetings.field_merge_into", "meetings.error_merge_into_closed", {"id": target.id})]
    return []


def _record_decision(session: Session, item: AgendaItem, data: DecisionInput, note: str) -> None:
    item.decision = data.decision
    item.decision_note = note
    item.votes_for, item.votes_against, item.votes_abstain = data.votes_for, data.votes_against, data.votes_abstain
    approved = data.decision == Decision.APPROVE
    item.lead_org_id = data.lead_org_id if approved else None
    item.due_date = data.due_date if approved else None
    item.merged_into_id = data.merge_into_id if data.decision == Decision.MERGE else None
    session.add(item)
    session.flush()


def _vote_errors(data: DecisionInput, decision: str, *, present: int) -> list[FieldError]:
    votes = (data.votes_for, data.votes_against, data.votes_abstain)
    if any(v is None or v < 0 for v in votes):
        return [FieldError("meetings.field_votes", "errors.not_negative")]
    if sum(votes) > present:
        return [FieldError("meetings.field_votes", "meetings.error_votes_exceed_attendees",
                           {"votes": sum(votes), "present": present})]
    if decision in FINAL and data.votes_for <= data.votes_against:
        return [FieldError("meetings.field_votes", "meetings.error_not_carried",
                           {"votes_for": data.votes_for, "votes_against": data.votes_against})]
    return []


def _move_issue(session: Session, actor: Actor, meeting: Meeting, issue: Issue, data: DecisionInput,
                decision: str, note: str) -> None:
    """The issue's step for the decision, through the lifecycle rules, naming the meeting."""
    named = f"{meeting.title} · {note}" if note else meeting.title
    named = named[:NOTE_MAX]
    if decision == Decision.APPROVE and issue.state == IssueState.MEETING:
        lifecycle.move(session=session, issue_id=issue.id, to_state=IssueState.IN_ACTION, actor=actor, note=named,
                       lead_org_id=data.lead_org_id, due_date=data.due_date, meeting_id=meeting.id)
    elif decision == Decision.APPROVE:
        # Overdue in action: assigned anew; its co-operating organisations stay (but not as lead).
        cooperators = session.execute(select(IssueCooperator.organisation_id)
                                      .where(IssueCooperator.issue_id == issue.id)).scalars().all()
        assign(session=session, actor=actor, issue_id=issue.id, lead_org_id=data.lead_org_id, due_date=data.due_date,
               cooperator_ids=[c for c in cooperators if c != data.lead_org_id], note=named, meeting_id=meeting.id)
    elif decision == Decision.REJECT:
        lifecycle.move(session=session, issue_id=issue.id, to_state=IssueState.REJECTED, actor=actor, note=named,
                       reject_reason=data.reject_reason, meeting_id=meeting.id)
    elif decision == Decision.MERGE:
        lifecycle.move(session=session, issue_id=issue.id, to_state=IssueState.REJECTED, actor=actor, note=named,
                       reject_reason=RejectReason.DUPLICATE.value, duplicate_of_id=data.merge_into_id,
                       meeting_id=meeting.id)
    else:
        # Deferred: the issue keeps waiting in `meeting` for the next one; the timeline says so.
        timeline.record(session, issue_id=issue.id, kind="progress", actor=actor, from_state=issue.state,
                        to_state=issue.state, note=named, meeting_id=meeting.id)


def close_meeting(*, session: Session, actor: Actor, meeting_id: int, expected_version: int | None = None,
                  defer_undecided: bool = False, chair: str | None = None,
                  recorder: str | None = None) -> Meeting:
    """End the meeting: it becomes `held` and its minutes (Markdown, in the meeting's language)
    are written from its agenda. Every item must be decided, unless `defer_undecided`: then the
    items not reached are deferred now (and the minutes say they were deferred at closing).
    Whether quorum held must be recorded. `chair` and `recorder`, when given, name who chaired
    the meeting and who kept its minutes."""
    require_write(actor, grid_id=None)
    meeting = _planned_meeting(session, meeting_id, expected_version)
    if chair is not None or recorder is not None:
        errors: list[FieldError] = []
        chair, recorder = check_role_names(errors, meeting.chair if chair is None else chair,
                                           meeting.recorder if recorder is None else recorder)
        if errors:
            raise ValidationError(errors)
        meeting.chair, meeting.recorder = chair, recorder
    if meeting.quorum_met is None:
        raise GongzhiError("meetings.error_quorum_unknown")
    if defer_undecided:
        _defer_items(session, actor, meeting, _undecided_items(session, meeting.id), at_close=True)
    undecided = [item.position for item in _undecided_items(session, meeting.id)]
    if undecided:
        raise GongzhiError("meetings.error_undecided", positions=", ".join(map(str, undecided)))
    session.flush()  # the minutes are read from the database, with every decision of this session
    meeting.minutes = minutes_markdown(meeting_detail(session=session, meeting_id=meeting.id))
    meeting.status = MeetingStatus.HELD.value
    session.add(meeting)
    session.flush()
    return meeting


def _undecided_items(session: Session, meeting_id: int) -> list[AgendaItem]:
    """The meeting's items without a decision, in agenda order (items of deleted issues left out)."""
    live_issue = select(Issue.id).where(Issue.deleted_at.is_(None))
    return list(session.execute(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id, AgendaItem.decision.is_(None),
                                 (AgendaItem.issue_id.is_(None)) | AgendaItem.issue_id.in_(live_issue))
        .order_by(AgendaItem.position, AgendaItem.id)
    ).scalars().all())


def _defer_items(session: Session, actor: Actor, meeting: Meeting, items: list[AgendaItem], *,
                 at_close: bool) -> list[AgendaItem]:
    """Defer each item through `decide` (no votes: deferring needs none). An item whose issue has
    moved on since the agenda was set (a deferral no longer applies to it) is marked deferred on
    the agenda only; its issue is left as it is."""
    deferred = []
    for item in items:
        issue = session.get(Issue, item.issue_id) if item.issue_id is not None else None
        if issue is None or Decision.DEFER.value in decisions_allowed(issue.state):
            item = decide(session=session, actor=actor, agenda_item_id=item.id,
                          data=DecisionInput(decision=Decision.DEFER.value))
        else:
            item.decision = Decision.DEFER.value
        item.deferred_at_close = at_close
        session.add(item)
        deferred.append(item)
    session.flush()
    return deferred


def defer_remaining(*, session: Session, actor: Actor, meeting_id: int,
                    expected_version: int | None = None) -> list[AgendaItem]:
    """Defer every item of a planned meeting not decided yet, in one transaction (the meeting ran
    out of time): each issue waits for the next meeting, and its timeline names this one."""
    require_write(actor, grid_id=None)
    meeting = _planned_meeting(session, meeting_id, expected_version)
    items = _undecided_items(session, meeting.id)
    if not items:
        raise GongzhiError("meetings.error_nothing_to_defer")
    return _defer_items(session, actor, meeting, items, at_close=False)


def unanimous_votes(*, session: Session, meeting_id: int) -> tuple[int, int, int]:
    """Votes (for, against, abstain) of a unanimous decision: everyone recorded present votes for."""
    meeting = session.get(Meeting, meeting_id)
    return (len(attendee_names(meeting.attendees)) if meeting is not None else 0), 0, 0


def decide_item(*, session: Session, actor: Actor, agenda_item_id: int, data: DecisionInput,
                cooperator_ids: Iterable[int] = (), unanimous: bool = False,
                expected_version: int | None = None) -> AgendaItem:
    """`decide`, as a meeting takes it: with `unanimous`, everyone recorded present votes for (the
    count is taken from the attendance in the database, not from the screen); an approval may name
    co-operating organisations besides the lead one, kept on the item for the minutes and given to
    the issue (replacing those it had). All in the caller's transaction."""
    cooperator_ids = sorted({int(i) for i in cooperator_ids})
    if cooperator_ids:
        errors = []
        if data.decision != Decision.APPROVE:
            errors.append(FieldError("meetings.field_cooperators", "meetings.error_cooperators_need_approval"))
        elif data.lead_org_id in cooperator_ids:
            errors.append(FieldError("meetings.field_cooperators", "issues.reason_lead_is_cooperator"))
        else:
            live = session.execute(select(Organisation.id).where(Organisation.id.in_(cooperator_ids),
                                                                 Organisation.deleted_at.is_(None))).scalars().all()
            if len(live) != len(cooperator_ids):
                errors.append(FieldError("meetings.field_cooperators", "errors.invalid_choice"))
        if errors:
            raise ValidationError(errors)
    if unanimous:
        item = session.get(AgendaItem, agenda_item_id)
        if item is not None:
            votes_for, votes_against, votes_abstain = unanimous_votes(session=session, meeting_id=item.meeting_id)
            data = data.model_copy(update={"votes_for": votes_for, "votes_against": votes_against,
                                           "votes_abstain": votes_abstain})
    item = decide(session=session, actor=actor, agenda_item_id=agenda_item_id, data=data,
                  expected_version=expected_version)
    if cooperator_ids:
        for organisation_id in cooperator_ids:
            session.add(AgendaItemCooperator(agenda_item_id=item.id, organisation_id=organisation_id))
        if item.issue_id is not None:
            session.execute(delete(IssueCooperator).where(IssueCooperator.issue_id == item.issue_id))
            for organisation_id in cooperator_ids:
                session.add(IssueCooperator(issue_id=item.issue_id, organisation_id=organisation_id))
        session.flush()
    return item
