"""Planning meetings and their agendas. Taking the decisions (which moves the issues on through
`gongzhi.lifecycle`) is a separate step that works on the agenda items made here."""

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from gongzhi.audit import get_for_update
from gongzhi.domain import IssueState, MeetingKind, MeetingStatus
from gongzhi.errors import FieldError, GongzhiError, ValidationError
from gongzhi.models import AgendaItem, Issue, Meeting
from gongzhi.permissions import Actor, require_write
from gongzhi.privacy import contains_national_id

TITLE_MAX = 120
PLACE_MAX = 120
TOPIC_MAX = 200
ATTENDEES_MAX = 5000


class MeetingCreate(SQLModel):
    title: str = ""
    kind: str = ""
    held_at: datetime | None = None
    place: str = ""
    attendees: str = ""  # one name per line
    quorum: int = 0


def _text_errors(field: str, value: str, *, max_length: int, required: bool = False) -> list[FieldError]:
    if required and not value:
        return [FieldError(field, "errors.required")]
    if len(value) > max_length:
        return [FieldError(field, "errors.too_long", {"max": max_length})]
    if contains_national_id(value):
        return [FieldError(field, "errors.national_id")]
    return []


def plan_meeting(*, session: Session, actor: Actor, data: MeetingCreate) -> Meeting:
    """A new meeting in status `planned`. Meetings belong to the whole community, so only the
    committee (and admin) plans them."""
    require_write(actor, grid_id=None)
    title, place, attendees = data.title.strip(), data.place.strip(), data.attendees.strip()
    errors = [
        *_text_errors("meetings.field_title", title, max_length=TITLE_MAX, required=True),
        *_text_errors("meetings.field_place", place, max_length=PLACE_MAX),
        *_text_errors("meetings.field_attendees", attendees, max_length=ATTENDEES_MAX),
    ]
    if data.kind not in {kind.value for kind in MeetingKind}:
        errors.append(FieldError("meetings.field_kind", "errors.invalid_choice"))
    if data.held_at is None:
        errors.append(FieldError("meetings.field_held_at", "errors.required"))
    if data.quorum is None or data.quorum < 0:
        errors.append(FieldError("meetings.field_quorum", "errors.not_negative"))
    if errors:
        raise ValidationError(errors)
    meeting = Meeting(title=title, kind=data.kind, held_at=data.held_at, place=place, attendees=attendees,
                      quorum=data.quorum, status=MeetingStatus.PLANNED.value)
    session.add(meeting)
    session.flush()
    return meeting


def _planned_meeting(session: Session, meeting_id: int, expected_version: int | None) -> Meeting:
    meeting = get_for_update(session, Meeting, meeting_id, expected_version, what="meeting")
    if meeting.status != MeetingStatus.PLANNED:
        # A held meeting's agenda is the record of what was discussed.
        raise GongzhiError("meetings.error_meeting_held", title=meeting.title)
    return meeting


def add_agenda_item(*, session: Session, actor: Actor, meeting_id: int, issue_id: int | None = None,
                    topic: str = "", expected_version: int | None = None) -> AgendaItem:
    """Put an issue waiting for a meeting, or a free topic, at the end of a planned meeting's
    agenda. An issue appears at most once on an agenda."""
    require_write(actor, grid_id=None)
    meeting = _planned_meeting(session, meeting_id, expected_version)
    topic = (topic or "").strip()
    errors: list[FieldError] = []
    if issue_id is None and not topic:
        errors.append(FieldError("meetings.field_agenda_item", "meetings.error_issue_or_topic"))
    elif issue_id is not None and topic:
        errors.append(FieldError("meetings.field_agenda_item", "meetings.error_not_both"))
    errors += _text_errors("meetings.field_topic", topic, max_length=TOPIC_MAX)
    if issue_id is not None and not errors:
        issue = session.get(Issue, issue_id)
        if issue is None or issue.deleted_at is not None:
            errors.append(FieldError("meetings.field_issue", "errors.issue_not_found"))
        elif issue.state != IssueState.MEETING:
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
