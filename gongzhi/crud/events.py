"""Events (活动) and who took part: create, edit, and record attendance. Named attendance (people
we know) and the anonymous headcount are kept apart, because only named attendees count towards
the participation rate (unique residents ÷ population)."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, SQLModel

from gongzhi.audit import get_for_update
from gongzhi.clock import now
from gongzhi.domain import AreaLevel, EventKind
from gongzhi.errors import FieldError, ValidationError
from gongzhi.models import Area, Attendance, Event, Organisation, Person
from gongzhi.permissions import Actor, require_write
from gongzhi.validation import CAPACITY, DESCRIPTION, HEADCOUNT, PLACE, TITLE, check_date, check_number, check_text


class EventCreate(SQLModel):
    # Lenient types: a missing value becomes a clear field error from _validate, not a type error.
    title: str = ""
    kind: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    host_org_id: int | None = None
    grid_id: int | None = None  # None = the whole community
    place: str = ""
    capacity: int | None = None  # None = no limit
    headcount: int = 0
    description: str = ""


class EventUpdate(SQLModel):
    """Only the fields that are set change; set grid_id/capacity/host_org_id to None explicitly to clear them."""

    title: str | None = None
    kind: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    host_org_id: int | None = None
    grid_id: int | None = None
    place: str | None = None
    capacity: int | None = None
    description: str | None = None


def _field(name: str) -> str:
    return f"events.field_{name}"


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _check_texts(values: dict, errors: list[FieldError]) -> None:
    values["title"] = check_text(errors, _field("title"), values.get("title"), TITLE, required=True)
    values["place"] = check_text(errors, _field("place"), values.get("place"), PLACE)
    values["description"] = check_text(errors, _field("description"), values.get("description"), DESCRIPTION)


def _check_choices(session: Session, values: dict, errors: list[FieldError]) -> None:
    if values.get("kind") not in {kind.value for kind in EventKind}:
        errors.append(FieldError(_field("kind"), "errors.invalid_choice"))
    host_org_id = values.get("host_org_id")
    if host_org_id is not None:
        host = session.get(Organisation, host_org_id)
        if host is None or host.deleted_at is not None:
            errors.append(FieldError(_field("host"), "errors.invalid_choice"))
    grid_id = values.get("grid_id")
    if grid_id is not None:
        grid = session.get(Area, grid_id)
        if grid is None or grid.deleted_at is not None or grid.level != AreaLevel.GRID:
            errors.append(FieldError(_field("grid"), "errors.invalid_choice"))


def _check_times(values: dict, errors: list[FieldError]) -> None:
    starts_at = check_date(errors, _field("starts_at"), values.get("starts_at"), required=True)
    ends_at = check_date(errors, _field("ends_at"), values.get("ends_at"), required=True)
    if starts_at is not None and ends_at is not None and ends_at < starts_at:
        errors.append(FieldError(_field("ends_at"), "errors.end_before_start"))


def _attendance_errors(*, capacity: int | None, starts_at: datetime | None, named: int, headcount: int | None,
                       field: str) -> list[FieldError]:
    """Named attendance plus the anonymous headcount fit the capacity, and nobody attended an
    event that has not started. `field` names the form field the over-capacity error is shown on."""
    errors: list[FieldError] = []
    headcount = check_number(errors, _field("headcount"), headcount, HEADCOUNT, required=True)
    if headcount is None:
        return errors
    if capacity is not None and named + headcount > capacity:
        errors.append(FieldError(_field(field), "errors.over_capacity", {"capacity": capacity}))
    if starts_at is not None and starts_at > now() and (named or headcount > 0):
        errors.append(FieldError(_field("starts_at" if field == "capacity" else "attendance"),
                                 "events.error_attendance_before_start", {"starts_at": _minute(starts_at)}))
    return errors


def _validate(session: Session, values: dict, *, named_attendance: int = 0) -> dict:
    """Check an event's complete set of values; returns them cleaned (text stripped)."""
    errors: list[FieldError] = []
    values = dict(values)
    _check_texts(values, errors)
    _check_choices(session, values, errors)
    _check_times(values, errors)
    capacity = check_number(errors, _field("capacity"), values.get("capacity"), CAPACITY)
    errors += _attendance_errors(capacity=capacity, starts_at=values.get("starts_at"), named=named_attendance,
                                 headcount=values.get("headcount") or 0, field="capacity")
    if errors:
        raise ValidationError(errors)
    return values


def create_event(*, session: Session, actor: Actor, data: EventCreate) -> Event:
    require_write(actor, grid_id=data.grid_id)
    values = _validate(session, data.model_dump())
    event = Event(**values)
    session.add(event)
    session.flush()
    return event


def get_event_for_update(session: Session, event_id: int, expected_version: int | None) -> Event:
    return get_for_update(session, Event, event_id, expected_version, what="event")


def _attendance_rows(session: Session, event_id: int) -> dict[int, Attendance]:
    rows = session.execute(select(Attendance).where(Attendance.event_id == event_id)).scalars()
    return {row.person_id: row for row in rows}


def update_event(*, session: Session, actor: Actor, event_id: int, data: EventUpdate,
                 expected_version: int | None = None) -> Event:
    event = get_event_for_update(session, event_id, expected_version)
    require_write(actor, grid_id=event.grid_id)
    changes = data.model_dump(exclude_unset=True)
    if "grid_id" in changes and changes["grid_id"] != event.grid_id:
        require_write(actor, grid_id=changes["grid_id"])  # a grid leader may not move an event out of their grid
    current = {name: getattr(event, name) for name in EventCreate.model_fields}
    values = _validate(session, {**current, **changes},
                       named_attendance=len(_attendance_rows(session, event.id)))
    for name in changes:
        setattr(event, name, values[name])
    session.add(event)
    session.flush()
    return event


def record_attendance(*, session: Session, actor: Actor, event_id: int, person_ids: list[int], headcount: int,
                      expected_version: int | None = None) -> Event:
    """Set who took part to exactly `person_ids` (adding and removing rows) and the anonymous
    headcount. Saving the same input twice changes nothing."""
    event = get_event_for_update(session, event_id, expected_version)
    require_write(actor, grid_id=event.grid_id)
    wanted = {int(person_id) for person_id in person_ids}
    errors: list[FieldError] = []

    if wanted:
        known = set(session.execute(
            select(Person.id).where(Person.id.in_(wanted), Person.deleted_at.is_(None))).scalars())
        unknown = sorted(wanted - known)
        if unknown:
            errors.append(FieldError(_field("attendees"), "events.error_unknown_people",
                                     {"ids": ", ".join(f"#{person_id}" for person_id in unknown)}))
    errors += _attendance_errors(capacity=event.capacity, starts_at=event.starts_at, named=len(wanted),
                                 headcount=headcount, field="attendance")
    if errors:
        raise ValidationError(errors)

    present = _attendance_rows(session, event.id)
    for person_id in present.keys() - wanted:
        session.delete(present[person_id])  # through the ORM, so the audit trail records it
    for person_id in sorted(wanted - present.keys()):
        session.add(Attendance(event_id=event.id, person_id=person_id))
    event.headcount = headcount
    # Attendance rows live in their own table: bump the event's version anyway, so a second
    # person saving attendance from an older copy of the form is refused, not silently merged.
    flag_modified(event, "headcount")
    session.add(event)
    session.flush()
    return event
