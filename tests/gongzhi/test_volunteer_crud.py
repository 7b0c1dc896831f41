"""Writing the volunteer roster: every validation rule answers with the field it concerns and
leaves the database unchanged; a phone number already on the roster is refused; an edit made
against an older copy is refused and the first edit kept; service hours are bounded."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi.clock import frozen
from gongzhi.crud.volunteers import (
    VolunteerCreate,
    VolunteerUpdate,
    create_volunteer,
    log_service_hours,
    update_volunteer,
)
from gongzhi.db import write_session
from gongzhi.errors import Conflict, NotFound, PermissionDenied, ValidationError
from gongzhi.models import (
    Area,
    AuditEntry,
    Event,
    Issue,
    Organisation,
    Person,
    ServiceRecord,
    TeamMembership,
    Volunteer,
)
from gongzhi.permissions import Actor, Role
from tests.conftest import COMMITTEE

TODAY = date(2025, 6, 15)
ID_NUMBER = "11010519491231002X"


@pytest.fixture(autouse=True)
def fixed_clock():
    with frozen(datetime(2025, 6, 15, 10, 0)):
        yield


@pytest.fixture
def places(write):
    """A community with two grids and a building, two teams, a property manager, an event, an issue."""
    with write() as session:
        community = Area(code="C1", name="桃源居社区", level="community")
        session.add(community)
        session.flush()
        grid_a = Area(code="G1", name="一网格", level="grid", parent_id=community.id)
        grid_b = Area(code="G2", name="二网格", level="grid", parent_id=community.id)
        session.add_all([grid_a, grid_b])
        session.flush()
        building = Area(code="G1-B1", name="1栋", level="building", parent_id=grid_a.id)
        team = Organisation(name="红马甲志愿服务队", kind="volunteer_team")
        dancers = Organisation(name="夕阳红舞蹈队", kind="culture_sports_team")
        property_manager = Organisation(name="万家物业", kind="property_manager")
        session.add_all([building, team, dancers, property_manager])
        session.flush()
        event = Event(title="义诊", kind="health", grid_id=grid_a.id, starts_at=datetime(2025, 6, 1, 9),
                      ends_at=datetime(2025, 6, 1, 11))
        issue = Issue(title="楼道灯坏了", category="repairs", grid_id=grid_a.id, due_date=TODAY)
        session.add_all([event, issue])
        session.flush()
        return {"community": community.id, "grid_a": grid_a.id, "grid_b": grid_b.id, "building": building.id,
                "team": team.id, "dancers": dancers.id, "property_manager": property_manager.id,
                "event": event.id, "issue": issue.id}


def _create(write, actor=COMMITTEE, **fields) -> int:
    with write() as session:
        return create_volunteer(session=session, actor=actor, data=VolunteerCreate(**fields)).id


def _field_errors(excinfo) -> set[tuple[str, str]]:
    return {(error.field, error.key) for error in excinfo.value.errors}


def _count(engine, model) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_create_stores_person_volunteer_and_teams(write, engine, places):
    volunteer_id = _create(write, name=" 王芳 ", phone="138 0013-8000", grid_id=places["grid_a"],
                           skills=["first_aid", "elderly_care"], status="active", joined_on=date(2024, 3, 1),
                           team_ids=[places["team"], places["dancers"]], note="周末有空")
    with Session(engine) as session:
        volunteer = session.get(Volunteer, volunteer_id)
        person = session.get(Person, volunteer.person_id)
        teams = set(session.execute(select(TeamMembership.organisation_id)
                                    .where(TeamMembership.volunteer_id == volunteer_id)).scalars())
    assert (person.name, person.phone, person.grid_id) == ("王芳", "+8613800138000", places["grid_a"])
    assert (volunteer.grid_id, volunteer.skills, volunteer.status, volunteer.joined_on, volunteer.note) == (
        places["grid_a"], "first_aid,elderly_care", "active", date(2024, 3, 1), "周末有空")
    assert volunteer.version == 1
    assert teams == {places["team"], places["dancers"]}


def test_create_defaults_joined_on_to_today_and_phone_is_optional(write, engine, places):
    volunteer_id = _create(write, name="李明", grid_id=places["grid_b"])
    with Session(engine) as session:
        volunteer = session.get(Volunteer, volunteer_id)
        assert volunteer.joined_on == TODAY
        assert session.get(Person, volunteer.person_id).phone is None


@pytest.mark.parametrize(("fields", "expected"), [
    ({"name": ""}, ("volunteers.field_name", "errors.required")),
    ({"name": "   "}, ("volunteers.field_name", "errors.required")),
    ({"name": "张" * 41}, ("volunteers.field_name", "errors.too_long")),
    ({"name": f"王芳{ID_NUMBER}"}, ("volunteers.field_name", "errors.national_id")),
    ({"phone": "12345"}, ("volunteers.field_phone", "errors.invalid_phone")),
    ({"phone": ID_NUMBER}, ("volunteers.field_phone", "errors.invalid_phone")),
    ({"grid_id": None}, ("volunteers.field_grid", "errors.required")),
    ({"grid_id": "building"}, ("volunteers.field_grid", "errors.invalid_choice")),
    ({"grid_id": "community"}, ("volunteers.field_grid", "errors.invalid_choice")),
    ({"grid_id": 9999}, ("volunteers.field_grid", "errors.invalid_choice")),
    ({"skills": ["first_aid", "juggling"]}, ("volunteers.field_skills", "errors.invalid_choice")),
    ({"status": "retired"}, ("volunteers.field_status", "errors.invalid_choice")),
    ({"joined_on": TODAY + timedelta(days=1)}, ("volunteers.field_joined_on", "errors.date_in_future")),
    ({"team_ids": ["property_manager"]}, ("volunteers.field_teams", "errors.invalid_choice")),
    ({"team_ids": [9999]}, ("volunteers.field_teams", "errors.invalid_choice")),
    ({"note": "x" * 501}, ("volunteers.field_note", "errors.too_long")),
    ({"note": f"身份证 {ID_NUMBER}"}, ("volunteers.field_note", "errors.national_id")),
])
def test_create_refuses_each_invalid_field_and_writes_nothing(write, engine, places, fields, expected):
    values = {"name": "王芳", "phone": "13800138000", "grid_id": places["grid_a"], **fields}
    # Named places stand for their ids, which only exist once the fixture has run.
    if isinstance(values["grid_id"], str):
        values["grid_id"] = places[values["grid_id"]]
    values["team_ids"] = [places[t] if isinstance(t, str) else t for t in values.get("team_ids", [])]
    with pytest.raises(ValidationError) as excinfo:
        _create(write, **values)
    assert _field_errors(excinfo) == {expected}
    assert _count(engine, Volunteer) == 0
    assert _count(engine, Person) == 0


def test_create_reports_every_bad_field_at_once(write, places):
    with pytest.raises(ValidationError) as excinfo:
        _create(write, name="", phone="abc", grid_id=None, status="x")
    assert {field for field, _ in _field_errors(excinfo)} == {
        "volunteers.field_name", "volunteers.field_phone", "volunteers.field_grid", "volunteers.field_status"}


def test_a_phone_already_on_the_roster_is_refused_in_any_spelling(write, engine, places):
    _create(write, name="王芳", phone="13800138000", grid_id=places["grid_a"])
    with pytest.raises(ValidationError) as excinfo:
        _create(write, name="王芳芳", phone="+86 138-0013-8000", grid_id=places["grid_b"])
    assert _field_errors(excinfo) == {("volunteers.field_phone", "volunteers.error_phone_taken")}
    assert _count(engine, Volunteer) == 1


def test_the_same_phone_of_a_removed_volunteer_may_be_used_again(write, engine, places):
    first = _create(write, name="王芳", phone="13800138000", grid_id=places["grid_a"])
    with write() as session:
        session.get(Volunteer, first).deleted_at = datetime(2025, 6, 1)
    _create(write, name="王芳", phone="13800138000", grid_id=places["grid_a"])
    assert _count(engine, Volunteer) == 2


def test_writes_need_the_right_to_write_in_the_grid(write, engine, places):
    representative = Actor(name="代表", role=Role.REPRESENTATIVE)
    leader_a = Actor(name="网格长", role=Role.LEADER, grid_ids=frozenset({places["grid_a"]}))
    with pytest.raises(PermissionDenied):
        _create(write, actor=representative, name="王芳", grid_id=places["grid_a"])
    with pytest.raises(PermissionDenied):
        _create(write, actor=leader_a, name="王芳", grid_id=places["grid_b"])
    volunteer_id = _create(write, actor=leader_a, name="王芳", grid_id=places["grid_a"])
    with pytest.raises(PermissionDenied), write() as session:
        update_volunteer(session=session, actor=leader_a, volunteer_id=volunteer_id, expected_version=1,
                         data=VolunteerUpdate(name="王芳", grid_id=places["grid_b"]))
    with pytest.raises(PermissionDenied), write() as session:
        log_service_hours(session=session, actor=representative, volunteer_id=volunteer_id, served_on=TODAY, hours=2)
    assert _count(engine, ServiceRecord) == 0


def test_update_changes_person_volunteer_and_teams_and_bumps_the_version(write, engine, places):
    volunteer_id = _create(write, name="王芳", phone="13800138000", grid_id=places["grid_a"],
                           skills=["first_aid"], team_ids=[places["team"]])
    with write() as session:
        update_volunteer(session=session, actor=COMMITTEE, volunteer_id=volunteer_id, expected_version=1,
                         data=VolunteerUpdate(name="王芳华", phone="+86 139 0013 9000", grid_id=places["grid_b"],
                                              skills=["mediation", "arts"], status="paused",
                                              team_ids=[places["dancers"]], note="腿伤休息"))
    with Session(engine) as session:
        volunteer = session.get(Volunteer, volunteer_id)
        person = session.get(Person, volunteer.person_id)
        teams = set(session.execute(select(TeamMembership.organisation_id)
                                    .where(TeamMembership.volunteer_id == volunteer_id)).scalars())
    assert (person.name, person.phone, person.grid_id) == ("王芳华", "+8613900139000", places["grid_b"])
    assert (volunteer.grid_id, volunteer.skills, volunteer.status, volunteer.note) == (
        places["grid_b"], "mediation,arts", "paused", "腿伤休息")
    assert teams == {places["dancers"]}
    assert volunteer.version == 2


def test_an_edit_of_the_name_alone_still_bumps_the_volunteer_version(write, engine, places):
    volunteer_id = _create(write, name="王芳", grid_id=places["grid_a"])
    with write() as session:
        update_volunteer(session=session, actor=COMMITTEE, volunteer_id=volunteer_id, expected_version=1,
                         data=VolunteerUpdate(name="王芳华", grid_id=places["grid_a"]))
    with Session(engine) as session:
        assert session.get(Volunteer, volunteer_id).version == 2


def test_a_volunteer_may_keep_their_own_phone_but_not_take_another_ones(write, engine, places):
    first = _create(write, name="王芳", phone="13800138000", grid_id=places["grid_a"])
    _create(write, name="李明", phone="13900139000", grid_id=places["grid_a"])
    with write() as session:
        update_volunteer(session=session, actor=COMMITTEE, volunteer_id=first, expected_version=1,
                         data=VolunteerUpdate(name="王芳", phone="13800138000", grid_id=places["grid_a"], note="x"))
    with pytest.raises(ValidationError) as excinfo, write() as session:
        update_volunteer(session=session, actor=COMMITTEE, volunteer_id=first, expected_version=2,
                         data=VolunteerUpdate(name="王芳", phone="139 0013 9000", grid_id=places["grid_a"]))
    assert _field_errors(excinfo) == {("volunteers.field_phone", "volunteers.error_phone_taken")}


def test_update_validates_like_create(write, engine, places):
    volunteer_id = _create(write, name="王芳", grid_id=places["grid_a"])
    with pytest.raises(ValidationError) as excinfo, write() as session:
        update_volunteer(session=session, actor=COMMITTEE, volunteer_id=volunteer_id, expected_version=1,
                         data=VolunteerUpdate(name="", phone="12", grid_id=places["building"], skills=["x"],
                                              status="gone", team_ids=[places["property_manager"]]))
    assert _field_errors(excinfo) == {
        ("volunteers.field_name", "errors.required"), ("volunteers.field_phone", "errors.invalid_phone"),
        ("volunteers.field_grid", "errors.invalid_choice"), ("volunteers.field_skills", "errors.invalid_choice"),
        ("volunteers.field_status", "errors.invalid_choice"), ("volunteers.field_teams", "errors.invalid_choice")}
    with Session(engine) as session:
        volunteer = session.get(Volunteer, volunteer_id)
        assert (volunteer.version, session.get(Person, volunteer.person_id).name) == (1, "王芳")


def test_a_stale_edit_is_refused_and_the_first_edit_kept(write, engine, places):
    volunteer_id = _create(write, name="王芳", grid_id=places["grid_a"])
    # Two people opened the form on version 1; the first saves, then the second.
    with write() as session:
        update_volunteer(session=session, actor=COMMITTEE, volunteer_id=volunteer_id, expected_version=1,
                         data=VolunteerUpdate(name="王芳", grid_id=places["grid_a"], note="first"))
    with pytest.raises(Conflict), write() as session:
        update_volunteer(session=session, actor=COMMITTEE, volunteer_id=volunteer_id, expected_version=1,
                         data=VolunteerUpdate(name="王小芳", grid_id=places["grid_b"], note="second"))
    with Session(engine) as session:
        volunteer = session.get(Volunteer, volunteer_id)
        person = session.get(Person, volunteer.person_id)
        assert (volunteer.note, volunteer.grid_id, person.name, volunteer.version) == (
            "first", places["grid_a"], "王芳", 2)


def test_update_of_a_missing_or_removed_volunteer_is_not_found(write, places):
    volunteer_id = _create(write, name="王芳", grid_id=places["grid_a"])
    with write() as session:
        session.get(Volunteer, volunteer_id).deleted_at = datetime(2025, 6, 1)
    for missing in (volunteer_id, 9999):
        with pytest.raises(NotFound), write() as session:
            update_volunteer(session=session, actor=COMMITTEE, volunteer_id=missing, expected_version=None,
                             data=VolunteerUpdate(name="王芳", grid_id=places["grid_a"]))


def test_log_service_hours_stores_the_record(write, engine, places):
    volunteer_id = _create(write, name="王芳", grid_id=places["grid_a"])
    with write() as session:
        log_service_hours(session=session, actor=COMMITTEE, volunteer_id=volunteer_id, served_on=date(2025, 6, 1),
                          hours=2.5, event_id=places["event"], note="量血压")
        log_service_hours(session=session, actor=COMMITTEE, volunteer_id=volunteer_id, served_on=TODAY,
                          hours=24, issue_id=places["issue"])
    with Session(engine) as session:
        records = session.execute(select(ServiceRecord.served_on, ServiceRecord.hours, ServiceRecord.event_id,
                                         ServiceRecord.issue_id, ServiceRecord.note)
                                  .order_by(ServiceRecord.id)).all()
    assert [tuple(r) for r in records] == [(date(2025, 6, 1), 2.5, places["event"], None, "量血压"),
                                           (TODAY, 24.0, None, places["issue"], "")]


@pytest.mark.parametrize(("fields", "expected"), [
    ({"hours": 0}, ("volunteers.field_hours", "volunteers.error_hours_range")),
    ({"hours": -1.5}, ("volunteers.field_hours", "volunteers.error_hours_range")),
    ({"hours": 24.5}, ("volunteers.field_hours", "volunteers.error_hours_range")),
    ({"hours": float("nan")}, ("volunteers.field_hours", "volunteers.error_hours_range")),
    ({"hours": None}, ("volunteers.field_hours", "errors.required")),
    ({"served_on": TODAY + timedelta(days=1)}, ("volunteers.field_served_on", "errors.date_in_future")),
    ({"served_on": None}, ("volunteers.field_served_on", "errors.required")),
    ({"event_id": 9999}, ("volunteers.field_event", "volunteers.error_event_not_found")),
    ({"issue_id": 9999}, ("volunteers.field_issue", "errors.issue_not_found")),
    ({"note": "y" * 301}, ("volunteers.field_service_note", "errors.too_long")),
    ({"note": ID_NUMBER}, ("volunteers.field_service_note", "errors.national_id")),
])
def test_log_service_hours_refuses_each_invalid_field(write, engine, places, fields, expected):
    volunteer_id = _create(write, name="王芳", grid_id=places["grid_a"])
    values = {"served_on": TODAY, "hours": 2.0, **fields}
    with pytest.raises(ValidationError) as excinfo, write() as session:
        log_service_hours(session=session, actor=COMMITTEE, volunteer_id=volunteer_id, **values)
    assert _field_errors(excinfo) == {expected}
    assert _count(engine, ServiceRecord) == 0


def test_hours_cannot_be_logged_on_a_removed_event_or_for_a_missing_volunteer(write, engine, places):
    volunteer_id = _create(write, name="王芳", grid_id=places["grid_a"])
    with write() as session:
        session.get(Event, places["event"]).deleted_at = datetime(2025, 6, 2)
    with pytest.raises(ValidationError) as excinfo, write() as session:
        log_service_hours(session=session, actor=COMMITTEE, volunteer_id=volunteer_id, served_on=TODAY, hours=1,
                          event_id=places["event"])
    assert _field_errors(excinfo) == {("volunteers.field_event", "volunteers.error_event_not_found")}
    with pytest.raises(NotFound), write() as session:
        log_service_hours(session=session, actor=COMMITTEE, volunteer_id=9999, served_on=TODAY, hours=1)
    assert _count(engine, ServiceRecord) == 0


def test_team_changes_are_recorded_in_the_audit_trail(write, engine, places):
    volunteer_id = _create(write, name="王芳", grid_id=places["grid_a"], team_ids=[places["team"]])
    with write_session(engine, actor=COMMITTEE) as session:
        update_volunteer(session=session, actor=COMMITTEE, volunteer_id=volunteer_id, expected_version=1,
                         data=VolunteerUpdate(name="王芳", grid_id=places["grid_a"], team_ids=[places["dancers"]]))
    with Session(engine) as session:
        entries = session.execute(select(AuditEntry.action, AuditEntry.record_id, AuditEntry.actor)
                                  .where(AuditEntry.table_name == TeamMembership.__tablename__)).all()
    assert set(entries) >= {("delete", f"{volunteer_id}/{places['team']}", COMMITTEE.name),
                            ("insert", f"{volunteer_id}/{places['dancers']}", COMMITTEE.name)}
