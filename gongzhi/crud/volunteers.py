"""Writing the volunteer roster: new volunteers (a Person and their Volunteer record together),
edits with optimistic locking, and service hours. Each function validates every field first and
reports all problems at once; the caller's write_session commits."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session

from gongzhi.audit import check_version
from gongzhi.clock import today
from gongzhi.domain import VOLUNTEER_SKILLS, AreaLevel, OrgKind, VolunteerStatus
from gongzhi.errors import FieldError, NotFound, ValidationError
from gongzhi.models import Area, Event, Issue, Organisation, Person, ServiceRecord, TeamMembership, Volunteer
from gongzhi.permissions import Actor, require_some_write, require_write
from gongzhi.privacy import contains_national_id, normalise_phone
from gongzhi.validation import (
    HOURS,
    NAME_MAX,  # noqa: F401 (the forms' max_chars)
    PERSON_NAME,
    SERVICE_NOTE,
    SERVICE_NOTE_MAX,  # noqa: F401 (the forms' max_chars)
    VOLUNTEER_NOTE,
    VOLUNTEER_NOTE_MAX,  # noqa: F401 (the forms' max_chars)
    check_date,
    check_text,
)

TEAM_KINDS = (OrgKind.VOLUNTEER_TEAM.value, OrgKind.CULTURE_SPORTS_TEAM.value)  # organisations volunteers join


@dataclass(frozen=True)
class VolunteerCreate:
    """A new volunteer as typed into the form. Plain values: the crud validates them all and
    answers with field errors, so nothing is rejected before it can be explained."""

    name: str
    grid_id: int | None
    phone: str | None = None
    skills: Sequence[str] = ()
    status: str = VolunteerStatus.ACTIVE.value
    joined_on: date | None = None  # None = today
    team_ids: Sequence[int] = ()
    note: str = ""


@dataclass(frozen=True)
class VolunteerUpdate:
    name: str
    grid_id: int | None
    phone: str | None = None
    skills: Sequence[str] = ()
    status: str = VolunteerStatus.ACTIVE.value
    team_ids: Sequence[int] = ()
    note: str = ""


@dataclass
class _Checked:
    """Field values after validation, ready to store."""

    name: str = ""
    phone: str | None = None
    skills: str = ""
    team_ids: list[int] = field(default_factory=list)
    note: str = ""


def _field(name: str) -> str:
    return f"volunteers.field_{name}"


def _check_common(session: Session, data: VolunteerCreate | VolunteerUpdate, errors: list[FieldError],
                  *, volunteer_id: int | None) -> _Checked:
    checked = _Checked()

    checked.name = check_text(errors, _field("name"), data.name, PERSON_NAME, required=True)
    checked.phone = _check_phone(session, data.phone, errors, volunteer_id=volunteer_id)
    _check_grid(session, data.grid_id, errors)

    skills = list(dict.fromkeys(data.skills or ()))  # keep the order given, drop repeats
    if any(skill not in VOLUNTEER_SKILLS for skill in skills):
        errors.append(FieldError(_field("skills"), "errors.invalid_choice"))
    checked.skills = ",".join(skills)

    if data.status not in set(VolunteerStatus):
        errors.append(FieldError(_field("status"), "errors.invalid_choice"))

    team_ids = sorted(set(data.team_ids or ()))
    if team_ids:
        found = set(session.execute(
            select(Organisation.id).where(Organisation.id.in_(team_ids), Organisation.kind.in_(TEAM_KINDS),
                                          Organisation.deleted_at.is_(None))
        ).scalars())
        if found != set(team_ids):
            errors.append(FieldError(_field("teams"), "errors.invalid_choice"))
    checked.team_ids = team_ids

    checked.note = check_text(errors, _field("note"), data.note, VOLUNTEER_NOTE)
    return checked


def _check_phone(session: Session, raw: str | None, errors: list[FieldError], *, volunteer_id: int | None) -> str | None:
    try:
        if contains_national_id(raw):
            raise ValueError("a national ID number, not a phone number")
        phone = normalise_phone(raw)
    except ValueError:
        errors.append(FieldError(_field("phone"), "errors.invalid_phone"))
        return None
    if phone is not None and _phone_taken(session, phone, volunteer_id=volunteer_id):
        errors.append(FieldError(_field("phone"), "volunteers.error_phone_taken"))
    return phone


def _check_grid(session: Session, grid_id: int | None, errors: list[FieldError]) -> None:
    if grid_id is None:
        errors.append(FieldError(_field("grid"), "errors.required"))
        return
    grid = session.get(Area, grid_id)
    if grid is None or grid.deleted_at is not None or grid.level != AreaLevel.GRID:
        errors.append(FieldError(_field("grid"), "errors.invalid_choice"))


def _phone_taken(session: Session, phone: str, *, volunteer_id: int | None) -> bool:
    query = select(Volunteer.id).join(Person, Person.id == Volunteer.person_id).where(
        Person.phone == phone, Person.deleted_at.is_(None), Volunteer.deleted_at.is_(None))
    if volunteer_id is not None:
        query = query.where(Volunteer.id != volunteer_id)
    return session.execute(query.limit(1)).first() is not None


def _set_teams(session: Session, volunteer_id: int, team_ids: list[int]) -> None:
    """Add and remove memberships one by one through the ORM, so the audit trail records each."""
    current = {membership.organisation_id: membership for membership in session.execute(
        select(TeamMembership).where(TeamMembership.volunteer_id == volunteer_id)).scalars()}
    for team_id, membership in current.items():
        if team_id not in team_ids:
            session.delete(membership)
    session.add_all(TeamMembership(volunteer_id=volunteer_id, organisation_id=team_id)
                    for team_id in team_ids if team_id not in current)


def create_volunteer(*, session: Session, actor: Actor, data: VolunteerCreate) -> Volunteer:
    """Add a resident to the roster: their Person and Volunteer records and team memberships,
    all in the caller's transaction. A phone number already on the roster is refused."""
    require_some_write(actor)  # before validation, whose "phone taken" would reveal who is on the roster
    errors: list[FieldError] = []
    checked = _check_common(session, data, errors, volunteer_id=None)
    joined_on = data.joined_on or today()
    check_date(errors, _field("joined_on"), joined_on, required=True, past=True)
    if errors:
        raise ValidationError(errors)
    require_write(actor, grid_id=data.grid_id)

    person = Person(name=checked.name, phone=checked.phone, grid_id=data.grid_id)
    session.add(person)
    session.flush()
    volunteer = Volunteer(person_id=person.id, grid_id=data.grid_id, skills=checked.skills,
                          status=data.status, joined_on=joined_on, note=checked.note)
    session.add(volunteer)
    session.flush()
    _set_teams(session, volunteer.id, checked.team_ids)
    session.flush()
    return volunteer


def _get_volunteer(session: Session, volunteer_id: int) -> Volunteer:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or volunteer.deleted_at is not None:
        raise NotFound(what="volunteer", id=volunteer_id)
    return volunteer


def update_volunteer(*, session: Session, actor: Actor, volunteer_id: int, data: VolunteerUpdate,
                     expected_version: int | None) -> Volunteer:
    """Save an edit made on the copy the user saw (`expected_version`); if anyone changed the
    volunteer since, nothing is written and Conflict says so."""
    volunteer = _get_volunteer(session, volunteer_id)
    require_write(actor, grid_id=volunteer.grid_id)
    check_version(session, volunteer, expected_version, what="volunteer")
    errors: list[FieldError] = []
    checked = _check_common(session, data, errors, volunteer_id=volunteer_id)
    if errors:
        raise ValidationError(errors)
    if data.grid_id != volunteer.grid_id:
        # Moving a volunteer to another grid needs the right to write in both grids.
        require_write(actor, grid_id=data.grid_id)

    person = session.get(Person, volunteer.person_id)
    person.name, person.phone, person.grid_id = checked.name, checked.phone, data.grid_id
    volunteer.grid_id, volunteer.skills, volunteer.status, volunteer.note = (
        data.grid_id, checked.skills, data.status, checked.note)
    # Edits of the person or the teams alone must still bump the volunteer's version, so that
    # every edit of the form's record is seen by the next optimistic-lock check.
    flag_modified(volunteer, "note")
    _set_teams(session, volunteer.id, checked.team_ids)
    session.flush()
    return volunteer


def log_service_hours(*, session: Session, actor: Actor, volunteer_id: int, served_on: date | None,
                      hours: float | None, event_id: int | None = None, issue_id: int | None = None,
                      note: str = "") -> ServiceRecord:
    """Record hours a volunteer served on one day, on an event, an issue or general duty."""
    volunteer = _get_volunteer(session, volunteer_id)
    require_write(actor, grid_id=volunteer.grid_id)
    errors: list[FieldError] = []
    check_date(errors, _field("served_on"), served_on, required=True, past=True)
    if hours is None:
        errors.append(FieldError(_field("hours"), "errors.required"))
    elif isinstance(hours, bool) or not isinstance(hours, int | float) or not math.isfinite(hours) \
            or not HOURS.low < hours <= HOURS.high:
        errors.append(FieldError(_field("hours"), "volunteers.error_hours_range", {"max": HOURS.high}))
    if event_id is not None:
        event = session.get(Event, event_id)
        if event is None or event.deleted_at is not None:
            errors.append(FieldError(_field("event"), "volunteers.error_event_not_found"))
    if issue_id is not None:
        issue = session.get(Issue, issue_id)
        if issue is None or issue.deleted_at is not None:
            errors.append(FieldError(_field("issue"), "errors.issue_not_found"))
    note = check_text(errors, _field("service_note"), note, SERVICE_NOTE)
    if errors:
        raise ValidationError(errors)

    record = ServiceRecord(volunteer_id=volunteer.id, served_on=served_on, hours=float(hours),
                           event_id=event_id, issue_id=issue_id, note=note)
    session.add(record)
    session.flush()
    return record
