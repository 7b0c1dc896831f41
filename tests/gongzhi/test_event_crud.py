"""Creating and editing events and recording attendance: every validation rule, permissions,
optimistic locking, and that attendance is set to exactly what was given."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi.clock import frozen
from gongzhi.crud.events import EventCreate, EventUpdate, create_event, record_attendance, update_event
from gongzhi.errors import Conflict, NotFound, PermissionDenied, ValidationError
from gongzhi.models import Area, Attendance, AuditEntry, Event, Organisation, Person
from gongzhi.permissions import Actor, Role

NOW = datetime(2025, 6, 15, 12, 0)
COMMITTEE = Actor(name="测试秘书", role=Role.COMMITTEE)
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def place(write):
    """Two grids, an organisation, three residents and one deleted resident."""
    with write() as session:
        grid_a = Area(code="GA", name="网格A", level="grid", population=100)
        grid_b = Area(code="GB", name="网格B", level="grid", population=80)
        building = Area(code="BA1", name="1栋", level="building")
        org = Organisation(name="社工站", kind="social_work_agency")
        gone_org = Organisation(name="已撤销", kind="social_org", deleted_at=NOW)
        session.add_all([grid_a, grid_b, building, org, gone_org])
        session.flush()
        people = [Person(name=name, grid_id=grid_a.id) for name in ("甲", "乙", "丙")]
        gone = Person(name="丁", grid_id=grid_a.id, deleted_at=NOW)
        session.add_all([*people, gone])
        session.flush()
        return {"grid_a": grid_a.id, "grid_b": grid_b.id, "building": building.id, "org": org.id,
                "gone_org": gone_org.id, "people": [p.id for p in people], "gone": gone.id}


def valid(**changes) -> EventCreate:
    values = {"title": "重阳节敬老活动", "kind": "elderly_care", "starts_at": NOW - timedelta(days=3),
              "ends_at": NOW - timedelta(days=3) + timedelta(hours=2), "place": "活动室", "capacity": 10,
              "description": "为老人包饺子"}
    return EventCreate(**{**values, **changes})


def make(write, actor=COMMITTEE, **changes) -> int:
    with frozen(NOW), write() as session:
        return create_event(session=session, actor=actor, data=valid(**changes)).id


def refused(write, action) -> list[tuple[str, str, dict]]:
    """Run `action(session)` in a write transaction that must fail validation; returns the field errors."""
    with pytest.raises(ValidationError) as caught, frozen(NOW), write() as session:
        action(session)
    return [(error.field, error.key, error.params) for error in caught.value.errors]


def count(engine, model) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_create_event_saves_every_field(write, engine, place):
    event_id = make(write, host_org_id=place["org"], grid_id=place["grid_a"], headcount=4,
                    title="  重阳节敬老活动  ")
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event.title == "重阳节敬老活动"  # stripped
        assert (event.kind, event.host_org_id, event.grid_id, event.capacity, event.headcount) == (
            "elderly_care", place["org"], place["grid_a"], 10, 4)
        assert event.starts_at == NOW - timedelta(days=3) and event.place == "活动室" and event.version == 1
        audit = session.execute(select(AuditEntry).where(AuditEntry.table_name == "event")).scalars().all()
        assert [(a.action, a.actor) for a in audit] == [("insert", "system")]


def test_create_event_for_whole_community_without_optional_fields(write, engine):
    event_id = make(write, grid_id=None, capacity=None, place="", description="")
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event.grid_id is None and event.capacity is None and event.headcount == 0


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"title": "   "}, "events.field_title", "errors.required"),
    ({"title": "活" * 121}, "events.field_title", "errors.too_long"),
    ({"title": f"身份证 {ID_NUMBER}"}, "events.field_title", "errors.national_id"),
    ({"kind": "party"}, "events.field_kind", "errors.invalid_choice"),
    ({"kind": ""}, "events.field_kind", "errors.invalid_choice"),
    ({"host_org_id": 9999}, "events.field_host", "errors.invalid_choice"),
    ({"grid_id": 9999}, "events.field_grid", "errors.invalid_choice"),
    ({"starts_at": None}, "events.field_starts_at", "errors.required"),
    ({"ends_at": None}, "events.field_ends_at", "errors.required"),
    ({"ends_at": NOW - timedelta(days=4)}, "events.field_ends_at", "errors.end_before_start"),
    ({"place": "地" * 121}, "events.field_place", "errors.too_long"),
    ({"place": ID_NUMBER}, "events.field_place", "errors.national_id"),
    ({"capacity": 0}, "events.field_capacity", "errors.between"),
    ({"capacity": 10**6}, "events.field_capacity", "errors.between"),
    ({"headcount": -1}, "events.field_headcount", "errors.between"),
    ({"headcount": 10**12, "capacity": None}, "events.field_headcount", "errors.between"),
    ({"title": "\x00"}, "events.field_title", "errors.invalid_character"),
    ({"title": "敬老\x00活动"}, "events.field_title", "errors.invalid_character"),
    ({"title": "敬老\ud800活动"}, "events.field_title", "errors.invalid_character"),
    ({"place": "活动室\x1b[31m"}, "events.field_place", "errors.invalid_character"),
    ({"description": "说明\x00"}, "events.field_description", "errors.invalid_character"),
    ({"starts_at": datetime(1, 1, 1), "ends_at": datetime(1, 1, 1, 2)}, "events.field_starts_at", "errors.date_between"),
    ({"starts_at": datetime(9999, 12, 31), "ends_at": datetime(9999, 12, 31, 2)}, "events.field_ends_at",
     "errors.date_between"),
    ({"headcount": 11}, "events.field_capacity", "errors.over_capacity"),
    ({"description": "说" * 2001}, "events.field_description", "errors.too_long"),
    ({"description": f"联系人身份证{ID_NUMBER}。"}, "events.field_description", "errors.national_id"),
    ({"starts_at": NOW + timedelta(days=1), "ends_at": NOW + timedelta(days=1, hours=2), "headcount": 3},
     "events.field_starts_at", "events.error_attendance_before_start"),
])
def test_create_event_refuses_bad_input(write, engine, place, changes, field, reason):
    errors = refused(write, lambda session: create_event(session=session, actor=COMMITTEE, data=valid(**changes)))
    assert (field, reason) in [(f, r) for f, r, _ in errors]
    assert count(engine, Event) == 0


def test_refusal_names_field_and_limit_in_both_languages(write, place):
    with pytest.raises(ValidationError) as caught, frozen(NOW), write() as session:
        create_event(session=session, actor=COMMITTEE, data=valid(title="", capacity=2, headcount=5))
    assert caught.value.messages("en") == ["Title: is required", "Capacity: exceeds the event's capacity of 2"]
    assert caught.value.messages("zh-CN") == ["活动名称：必填", "容量（人）：超过活动容量 2 人"]


def test_create_event_refuses_deleted_host_and_a_building_as_grid(write, engine, place):
    errors = refused(write, lambda session: create_event(
        session=session, actor=COMMITTEE, data=valid(host_org_id=place["gone_org"], grid_id=place["building"])))
    assert [(f, r) for f, r, _ in errors] == [("events.field_host", "errors.invalid_choice"),
                                              ("events.field_grid", "errors.invalid_choice")]


def test_end_equal_to_start_is_fine(write, engine):
    make(write, ends_at=NOW - timedelta(days=3))
    assert count(engine, Event) == 1


def test_grid_leader_writes_only_in_their_grid(write, engine, place):
    leader = Actor(name="网格长", role=Role.LEADER, grid_ids=frozenset({place["grid_a"]}))
    make(write, actor=leader, grid_id=place["grid_a"])
    for grid in (place["grid_b"], None):  # another grid, or the whole community
        with pytest.raises(PermissionDenied), write() as session:
            create_event(session=session, actor=leader, data=valid(grid_id=grid))
    with pytest.raises(PermissionDenied), write() as session:
        create_event(session=session, actor=Actor(name="代表", role=Role.REPRESENTATIVE), data=valid())
    assert count(engine, Event) == 1


def test_update_event_changes_only_given_fields_and_bumps_version(write, engine, place):
    event_id = make(write, grid_id=place["grid_a"])
    with frozen(NOW), write() as session:
        update_event(session=session, actor=COMMITTEE, event_id=event_id,
                     data=EventUpdate(title="新名称", capacity=None), expected_version=1)
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert (event.title, event.capacity, event.place, event.grid_id, event.version) == (
            "新名称", None, "活动室", place["grid_a"], 2)


def test_update_event_refuses_a_stale_version(write, engine):
    event_id = make(write)
    with frozen(NOW), write() as session:
        update_event(session=session, actor=COMMITTEE, event_id=event_id, data=EventUpdate(place="礼堂"),
                     expected_version=1)
    with pytest.raises(Conflict), frozen(NOW), write() as session:
        update_event(session=session, actor=COMMITTEE, event_id=event_id, data=EventUpdate(place="广场"),
                     expected_version=1)
    with Session(engine) as session:
        assert session.get(Event, event_id).place == "礼堂"


def test_update_event_validates_the_result(write, engine, place):
    event_id = make(write)
    with frozen(NOW), write() as session:
        record_attendance(session=session, actor=COMMITTEE, event_id=event_id, person_ids=place["people"],
                          headcount=5)
    errors = refused(write, lambda session: update_event(
        session=session, actor=COMMITTEE, event_id=event_id,
        data=EventUpdate(ends_at=NOW - timedelta(days=5), capacity=7), expected_version=2))
    assert [(f, r) for f, r, _ in errors] == [("events.field_ends_at", "errors.end_before_start"),
                                              ("events.field_capacity", "errors.over_capacity")]
    errors = refused(write, lambda session: update_event(  # moving it to the future would orphan its attendance
        session=session, actor=COMMITTEE, event_id=event_id,
        data=EventUpdate(starts_at=NOW + timedelta(days=1), ends_at=NOW + timedelta(days=1, hours=1))))
    assert [(f, r) for f, r, _ in errors] == [("events.field_starts_at", "events.error_attendance_before_start")]


def test_update_event_missing_or_moved_out_of_a_leaders_grid(write, place):
    event_id = make(write, grid_id=place["grid_a"])
    with pytest.raises(NotFound), write() as session:
        update_event(session=session, actor=COMMITTEE, event_id=9999, data=EventUpdate(title="x"))
    leader = Actor(name="网格长", role=Role.LEADER, grid_ids=frozenset({place["grid_a"]}))
    with pytest.raises(PermissionDenied), frozen(NOW), write() as session:
        update_event(session=session, actor=leader, event_id=event_id, data=EventUpdate(grid_id=place["grid_b"]))


def _attendance(engine, event_id) -> tuple[set[int], int, int]:
    with Session(engine) as session:
        people = set(session.execute(select(Attendance.person_id).where(Attendance.event_id == event_id)).scalars())
        event = session.get(Event, event_id)
        return people, event.headcount, event.version


def test_record_attendance_sets_exactly_the_given_people(write, engine, place):
    event_id = make(write)
    first, second, third = place["people"]
    with frozen(NOW), write() as session:
        record_attendance(session=session, actor=COMMITTEE, event_id=event_id, person_ids=[first, second, second],
                          headcount=4, expected_version=1)
    assert _attendance(engine, event_id) == ({first, second}, 4, 2)
    with frozen(NOW), write() as session:  # replace: one removed, one added, headcount changed
        record_attendance(session=session, actor=COMMITTEE, event_id=event_id, person_ids=[second, third],
                          headcount=1, expected_version=2)
    assert _attendance(engine, event_id) == ({second, third}, 1, 3)
    with frozen(NOW), write() as session:  # the same again changes nothing but the version
        record_attendance(session=session, actor=COMMITTEE, event_id=event_id, person_ids=[third, second],
                          headcount=1)
    assert _attendance(engine, event_id)[:2] == ({second, third}, 1)
    assert count(engine, Attendance) == 2
    with frozen(NOW), write() as session:
        record_attendance(session=session, actor=COMMITTEE, event_id=event_id, person_ids=[], headcount=0)
    assert _attendance(engine, event_id)[:2] == (set(), 0)
    with Session(engine) as session:  # removals go through the ORM, so they are audited
        deletes = session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.table_name == "attendance", AuditEntry.action == "delete")).scalar_one()
        assert deletes == 3


def test_record_attendance_refuses_a_stale_version(write, engine, place):
    event_id = make(write)
    with frozen(NOW), write() as session:
        record_attendance(session=session, actor=COMMITTEE, event_id=event_id, person_ids=place["people"][:1],
                          headcount=0, expected_version=1)
    with pytest.raises(Conflict), frozen(NOW), write() as session:
        record_attendance(session=session, actor=COMMITTEE, event_id=event_id, person_ids=place["people"],
                          headcount=0, expected_version=1)
    assert _attendance(engine, event_id)[0] == set(place["people"][:1])


@pytest.mark.parametrize(("people", "headcount", "field", "reason"), [
    ("unknown", 0, "events.field_attendees", "events.error_unknown_people"),
    ("deleted", 0, "events.field_attendees", "events.error_unknown_people"),
    ("all", -1, "events.field_headcount", "errors.between"),
    ("all", 8, "events.field_attendance", "errors.over_capacity"),  # 3 named + 8 > capacity 10
])
def test_record_attendance_refuses_bad_input(write, engine, place, people, headcount, field, reason):
    event_id = make(write)
    ids = {"unknown": [place["people"][0], 9999], "deleted": [place["gone"]], "all": place["people"]}[people]
    errors = refused(write, lambda session: record_attendance(
        session=session, actor=COMMITTEE, event_id=event_id, person_ids=ids, headcount=headcount))
    assert [(f, r) for f, r, _ in errors] == [(field, reason)]
    assert count(engine, Attendance) == 0
    assert _attendance(engine, event_id)[1:] == (0, 1)


def test_unknown_people_are_named_in_the_message(write, place):
    event_id = make(write)
    with pytest.raises(ValidationError) as caught, frozen(NOW), write() as session:
        record_attendance(session=session, actor=COMMITTEE, event_id=event_id, person_ids=[9998, 9999], headcount=0)
    assert caught.value.messages("en") == ["Named attendees: names people who do not exist: #9998, #9999"]


def test_capacity_counts_named_and_headcount_together(write, engine, place):
    event_id = make(write, capacity=5)
    with frozen(NOW), write() as session:  # exactly full is fine
        record_attendance(session=session, actor=COMMITTEE, event_id=event_id, person_ids=place["people"],
                          headcount=2)
    assert _attendance(engine, event_id)[:2] == (set(place["people"]), 2)


def test_future_event_cannot_have_attendance_yet(write, engine, place):
    event_id = make(write, starts_at=NOW + timedelta(days=2), ends_at=NOW + timedelta(days=2, hours=2))
    with pytest.raises(ValidationError) as caught, frozen(NOW), write() as session:
        record_attendance(session=session, actor=COMMITTEE, event_id=event_id, person_ids=place["people"][:1],
                          headcount=0)
    assert caught.value.messages("en") == [
        "Attendance (named + anonymous): cannot be recorded before the event starts (2025-06-17 12:00)"]
    errors = refused(write, lambda session: record_attendance(
        session=session, actor=COMMITTEE, event_id=event_id, person_ids=[], headcount=3))
    assert [r for _, r, _ in errors] == ["events.error_attendance_before_start"]
    assert count(engine, Attendance) == 0
    with frozen(NOW + timedelta(days=2)), write() as session:  # once it has started, it can
        record_attendance(session=session, actor=COMMITTEE, event_id=event_id, person_ids=place["people"][:1],
                          headcount=3)
    assert _attendance(engine, event_id)[:2] == ({place["people"][0]}, 3)


def test_record_attendance_permissions_and_missing_event(write, place):
    event_id = make(write, grid_id=place["grid_a"])
    with pytest.raises(PermissionDenied), frozen(NOW), write() as session:
        record_attendance(session=session, actor=Actor(name="网格长B", role=Role.LEADER,
                                                       grid_ids=frozenset({place["grid_b"]})),
                          event_id=event_id, person_ids=[], headcount=1)
    with pytest.raises(NotFound), write() as session:
        record_attendance(session=session, actor=COMMITTEE, event_id=9999, person_ids=[], headcount=0)
