"""Who may change what: every role × every write action of the core, on a record in grid A (the
grid leader's own), in grid B, and community-wide where the record can be. Admin and committee
may do everything; the leader of grid A only what lies in grid A (moving a volunteer between
grids needs both); a representative only rates results (群众评事); the public changes nothing.
A refusal is PermissionDenied and leaves every table exactly as it was; an allowed action
really changes the database, so the refusals are not passing by accident."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from gongzhi import lifecycle
from gongzhi.clock import now, today
from gongzhi.crud.events import EventCreate, EventUpdate, create_event, record_attendance, update_event
from gongzhi.crud.issues import IssueCreate, add_progress_note, assign, create_issue
from gongzhi.crud.meetings import (
    DecisionInput,
    MeetingCreate,
    accept_proposal,
    add_agenda_item,
    close_meeting,
    decide,
    decide_item,
    defer_remaining,
    move_agenda_item,
    plan_meeting,
    record_meeting_attendance,
    remove_agenda_item,
)
from gongzhi.crud.volunteers import (
    VolunteerCreate,
    VolunteerUpdate,
    create_volunteer,
    log_service_hours,
    update_volunteer,
)
from gongzhi.db import current_revision, write_session
from gongzhi.domain import AreaLevel, IssueState
from gongzhi.errors import PermissionDenied
from gongzhi.models import AgendaItem, Area, Event, Organisation, Person, Volunteer
from gongzhi.permissions import SYSTEM_ACTOR, Actor, Role

OWN, OTHER, COMMUNITY = "own grid", "other grid", "community-wide"
OWN_TO_OTHER, OTHER_TO_OWN = "own grid → other grid", "other grid → own grid"


@dataclass(frozen=True)
class World:
    """Ids of the records each action works on, by grid: "A" is the leader's grid."""

    grid: dict[str, int]
    other_org: int  # a second organisation to assign issues to
    resident: dict[str, int]
    reported: dict[str, int]  # an issue in `reported`
    in_action: dict[str, int]  # an issue in `in_action` with a lead organisation
    in_review: dict[str, int]  # an issue in `resident_review`, waiting for its rating
    volunteer: dict[str, int]
    event: dict[str, int]  # past events; "community" has no grid
    meeting: int  # planned, community-wide
    agenda_item: int  # a free topic on that meeting's agenda
    waiting: int  # an issue of grid A waiting for a meeting, not on the agenda yet


def _issue(session: Session, grid_id: int, title: str, path: list[tuple[IssueState, dict]]) -> int:
    issue = create_issue(session=session, actor=SYSTEM_ACTOR,
                         data=IssueCreate(title=title, category="sanitation", grid_id=grid_id))
    for state, extra in path:
        lifecycle.move(session=session, issue_id=issue.id, to_state=state.value, actor=SYSTEM_ACTOR, **extra)
    return issue.id


@pytest.fixture
def world(engine) -> World:
    with write_session(engine) as session:
        community = Area(code="C1", name="桃源居社区", level=AreaLevel.COMMUNITY)
        session.add(community)
        session.flush()
        grids = {key: Area(code=f"C1-G{n}", name=f"第{n}网格", level=AreaLevel.GRID, parent_id=community.id,
                           population=1000, centroid_lat=22.55, centroid_lon=113.91)
                 for n, key in ((1, "A"), (2, "B"))}
        lead, other = Organisation(name="物业公司", kind="property_manager"), Organisation(name="社工站", kind="social_org")
        session.add_all([*grids.values(), lead, other])
        session.flush()
        grid = {key: area.id for key, area in grids.items()}
        residents = {key: Person(name=f"居民{key}", grid_id=grid_id) for key, grid_id in grid.items()}
        session.add_all(residents.values())
        session.flush()

        in_action = [(IssueState.GRID_REVIEW, {}), (IssueState.IN_ACTION, {"lead_org_id": lead.id})]
        events = {}
        for key, grid_id in [*grid.items(), ("community", None)]:
            events[key] = create_event(session=session, actor=SYSTEM_ACTOR, data=EventCreate(
                title=f"活动{key}", kind="festival", grid_id=grid_id, place="广场",
                starts_at=now() - timedelta(days=3), ends_at=now() - timedelta(days=3) + timedelta(hours=2))).id
        meeting = plan_meeting(session=session, actor=SYSTEM_ACTOR, data=MeetingCreate(
            title="议事会", kind="deliberation", held_at=now() + timedelta(days=7), place="居委会"))
        item = add_agenda_item(session=session, actor=SYSTEM_ACTOR, meeting_id=meeting.id, topic="停车位")
        return World(
            grid=grid, other_org=other.id,
            resident={key: person.id for key, person in residents.items()},
            reported={key: _issue(session, grid_id, f"待受理{key}", []) for key, grid_id in grid.items()},
            in_action={key: _issue(session, grid_id, f"办理中{key}", in_action) for key, grid_id in grid.items()},
            in_review={key: _issue(session, grid_id, f"待评价{key}", [*in_action, (IssueState.RESIDENT_REVIEW, {})])
                       for key, grid_id in grid.items()},
            volunteer={key: create_volunteer(session=session, actor=SYSTEM_ACTOR, data=VolunteerCreate(
                name=f"志愿者{key}", grid_id=grid_id, phone=f"1380013800{n}")).id
                for n, (key, grid_id) in enumerate(grid.items())},
            event=events, meeting=meeting.id, agenda_item=item.id,
            waiting=_issue(session, grid["A"], "待上会", [(IssueState.GRID_REVIEW, {}), (IssueState.MEETING, {})]),
        )


def _volunteer_edit(session: Session, world: World, key: str, **changes) -> VolunteerUpdate:
    volunteer = session.get(Volunteer, world.volunteer[key])
    person = session.get(Person, volunteer.person_id)
    values = {"name": person.name, "grid_id": volunteer.grid_id, "phone": person.phone, "skills": ["repairs"],
              "status": volunteer.status, "note": "周末有空"}
    return VolunteerUpdate(**{**values, **changes})


def _key(scope: str) -> str:
    return {OWN: "A", OTHER: "B", COMMUNITY: "community"}[scope]


# Each action: (session, actor, world, scope) -> None, making one valid change.
Action = Callable[[Session, Actor, World, str], object]

ISSUE_ACTIONS: dict[str, Action] = {
    "issue: create": lambda s, a, w, scope: create_issue(session=s, actor=a, data=IssueCreate(
        title="路灯不亮", category="sanitation", grid_id=w.grid[_key(scope)])),
    "issue: move": lambda s, a, w, scope: lifecycle.move(
        session=s, actor=a, issue_id=w.reported[_key(scope)], to_state=IssueState.GRID_REVIEW.value),
    "issue: assign": lambda s, a, w, scope: assign(
        session=s, actor=a, issue_id=w.in_action[_key(scope)], lead_org_id=w.other_org,
        due_date=today() + timedelta(days=10)),
    "issue: progress note": lambda s, a, w, scope: add_progress_note(
        session=s, actor=a, issue_id=w.in_action[_key(scope)], note="已联系物业"),
}
RATING: dict[str, Action] = {
    "issue: rate": lambda s, a, w, scope: lifecycle.rate(
        session=s, actor=a, issue_id=w.in_review[_key(scope)], rating=5, fix_status="fixed"),
}
VOLUNTEER_ACTIONS: dict[str, Action] = {
    "volunteer: create": lambda s, a, w, scope: create_volunteer(session=s, actor=a, data=VolunteerCreate(
        name="新志愿者", grid_id=w.grid[_key(scope)], phone="13912345678")),
    "volunteer: update": lambda s, a, w, scope: update_volunteer(
        session=s, actor=a, volunteer_id=w.volunteer[_key(scope)], expected_version=None,
        data=_volunteer_edit(s, w, _key(scope), note="改为工作日")),
    "volunteer: log hours": lambda s, a, w, scope: log_service_hours(
        session=s, actor=a, volunteer_id=w.volunteer[_key(scope)], served_on=today(), hours=2.5),
}
EVENT_ACTIONS: dict[str, Action] = {
    "event: create": lambda s, a, w, scope: create_event(session=s, actor=a, data=EventCreate(
        title="义诊", kind="health", grid_id=None if scope == COMMUNITY else w.grid[_key(scope)], place="广场",
        starts_at=now() + timedelta(days=5), ends_at=now() + timedelta(days=5, hours=2))),
    "event: update": lambda s, a, w, scope: update_event(
        session=s, actor=a, event_id=w.event[_key(scope)], data=EventUpdate(title="改名的活动")),
    "event: record attendance": lambda s, a, w, scope: record_attendance(
        session=s, actor=a, event_id=w.event[_key(scope)], person_ids=[w.resident["A"]], headcount=4),
}
MEETING_ACTIONS: dict[str, Action] = {
    "meeting: plan": lambda s, a, w, scope: plan_meeting(session=s, actor=a, data=MeetingCreate(
        title="联席会议", kind="joint", held_at=now() + timedelta(days=3))),
    "meeting: add agenda item": lambda s, a, w, scope: add_agenda_item(
        session=s, actor=a, meeting_id=w.meeting, topic="加装电梯"),
    "meeting: remove agenda item": lambda s, a, w, scope: remove_agenda_item(
        session=s, actor=a, agenda_item_id=w.agenda_item),
    "meeting: accept proposed agenda": lambda s, a, w, scope: accept_proposal(
        session=s, actor=a, meeting_id=w.meeting, issue_ids=[w.waiting]),
    "meeting: reorder agenda": lambda s, a, w, scope: move_agenda_item(
        session=s, actor=a, agenda_item_id=w.agenda_item, step=1) if add_agenda_item(
        session=s, actor=a, meeting_id=w.meeting, topic="第二项") else None,
    "meeting: record attendance": lambda s, a, w, scope: record_meeting_attendance(
        session=s, actor=a, meeting_id=w.meeting, attendees="王主任\n李网格长", quorum_met=None),
    "meeting: decide": lambda s, a, w, scope: decide(
        session=s, actor=a, agenda_item_id=w.agenda_item, data=DecisionInput(decision="defer")),
    "meeting: decide unanimously": lambda s, a, w, scope: decide_item(
        session=s, actor=a, agenda_item_id=w.agenda_item, unanimous=True, data=DecisionInput(decision="defer")),
    "meeting: defer the rest": lambda s, a, w, scope: defer_remaining(session=s, actor=a, meeting_id=w.meeting),
    "meeting: close": lambda s, a, w, scope: [
        record_meeting_attendance(session=s, actor=a, meeting_id=w.meeting, attendees="王主任", quorum_met=False),
        decide(session=s, actor=a, agenda_item_id=w.agenda_item, data=DecisionInput(decision="defer")),
        close_meeting(session=s, actor=a, meeting_id=w.meeting)],
}


def _move_volunteer(source: str, target: str) -> Action:
    return lambda s, a, w, scope: update_volunteer(
        session=s, actor=a, volunteer_id=w.volunteer[source], expected_version=None,
        data=_volunteer_edit(s, w, source, grid_id=w.grid[target]))


CASES: list[tuple[str, str, Action]] = [
    *[(name, scope, action) for name, action in {**ISSUE_ACTIONS, **RATING, **VOLUNTEER_ACTIONS}.items()
      for scope in (OWN, OTHER)],
    ("volunteer: move to another grid", OWN_TO_OTHER, _move_volunteer("A", "B")),
    ("volunteer: move to another grid", OTHER_TO_OWN, _move_volunteer("B", "A")),
    *[(name, scope, action) for name, action in EVENT_ACTIONS.items() for scope in (OWN, OTHER, COMMUNITY)],
    *[(name, COMMUNITY, action) for name, action in MEETING_ACTIONS.items()],
]
ROLES = ["admin", "committee", "leader of grid A", "representative", "public"]


def _actor(role: str, world: World) -> Actor:
    if role == "leader of grid A":
        return Actor(name="第一网格网格长", role=Role.LEADER, grid_ids=frozenset({world.grid["A"]}))
    return Actor(name=f"测试{role}", role=Role(role))


def expected_allowed(role: str, action: str, scope: str) -> bool:
    """The policy of issue 3, written out independently of gongzhi.permissions."""
    if role in ("admin", "committee"):
        return True
    if role == "leader of grid A":
        return scope == OWN  # a move between grids and anything community-wide needs more than grid A
    if role == "representative":
        return action == "issue: rate"
    return False


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table, to tell whether anything at all was written. The revision
    counter is left out: every committed transaction bumps it, even one that changed nothing."""
    with Session(engine) as session:
        return {table.name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
                for table in SQLModel.metadata.sorted_tables if table.name != "revision"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("action", "scope", "perform"), CASES, ids=[f"{name} on {scope}" for name, scope, _ in CASES])
def test_permission_matrix(engine, world, role, action, scope, perform):
    actor = _actor(role, world)
    before = snapshot(engine)
    if expected_allowed(role, action, scope):
        with write_session(engine, actor=actor) as session:
            perform(session, actor, world, scope)
        assert snapshot(engine) != before, "an allowed action must write something"
    else:
        with Session(engine) as session:
            revision = current_revision(session)
        with pytest.raises(PermissionDenied), write_session(engine, actor=actor) as session:
            perform(session, actor, world, scope)
        assert snapshot(engine) == before
        with Session(engine) as session:
            assert current_revision(session) == revision  # nothing committed, so no cache is invalidated


# Deny by default comes before validation: someone who may not write at all learns nothing from
# the validation messages, e.g. that a phone number is already on the volunteer roster.
@pytest.mark.parametrize("role", ["representative", "public"])
def test_roles_without_write_rights_are_refused_before_their_input_is_checked(engine, world, role):
    actor = _actor(role, world)
    with Session(engine) as session:
        taken_phone = session.get(Person, session.get(Volunteer, world.volunteer["A"]).person_id).phone
    attempts = [
        lambda s: create_volunteer(session=s, actor=actor, data=VolunteerCreate(
            name="冒名", grid_id=world.grid["A"], phone=taken_phone)),
        lambda s: create_issue(session=s, actor=actor, data=IssueCreate(
            title="", category="", grid_id=world.grid["A"], reporter_id=world.resident["B"] + 1000)),
        lambda s: create_event(session=s, actor=actor, data=EventCreate(title="", grid_id=world.grid["A"])),
        lambda s: plan_meeting(session=s, actor=actor, data=MeetingCreate(title="")),
    ]
    before = snapshot(engine)
    for attempt in attempts:
        with pytest.raises(PermissionDenied), write_session(engine, actor=actor) as session:
            attempt(session)
    assert snapshot(engine) == before


def test_the_matrix_covers_every_write_function_of_the_core():
    """A new write function must get its row here: the names below are every public function
    of the crud modules and the lifecycle that takes an actor and writes."""
    import inspect

    from gongzhi.crud import events, issues, meetings, volunteers

    writers = {f"{module.__name__}.{name}" for module in (events, issues, meetings, volunteers, lifecycle)
               for name, function in inspect.getmembers(module, inspect.isfunction)
               if function.__module__ == module.__name__ and not name.startswith("_")
               and "actor" in inspect.signature(function).parameters}
    assert writers == {
        "gongzhi.crud.issues.create_issue", "gongzhi.lifecycle.move", "gongzhi.crud.issues.assign",
        "gongzhi.crud.issues.add_progress_note", "gongzhi.lifecycle.rate",
        "gongzhi.crud.volunteers.create_volunteer", "gongzhi.crud.volunteers.update_volunteer",
        "gongzhi.crud.volunteers.log_service_hours",
        "gongzhi.crud.events.create_event", "gongzhi.crud.events.update_event", "gongzhi.crud.events.record_attendance",
        "gongzhi.crud.meetings.plan_meeting", "gongzhi.crud.meetings.add_agenda_item",
        "gongzhi.crud.meetings.remove_agenda_item", "gongzhi.crud.meetings.accept_proposal",
        "gongzhi.crud.meetings.move_agenda_item", "gongzhi.crud.meetings.record_meeting_attendance",
        "gongzhi.crud.meetings.decide", "gongzhi.crud.meetings.close_meeting",
        "gongzhi.crud.meetings.decide_item", "gongzhi.crud.meetings.defer_remaining",
        # The 14-day sweep runs as the system, never on a user's behalf.
        "gongzhi.lifecycle.close_expired_reviews", "gongzhi.lifecycle.close_unrated",
    }


def test_all_records_exist_where_the_matrix_expects_them(engine, world):
    """The matrix's "own" and "other" records really lie in grid A and grid B."""
    with Session(engine) as session:
        for key in ("A", "B"):
            assert session.get(Volunteer, world.volunteer[key]).grid_id == world.grid[key]
            assert session.get(Event, world.event[key]).grid_id == world.grid[key]
        assert session.get(Event, world.event["community"]).grid_id is None
        assert session.get(AgendaItem, world.agenda_item).meeting_id == world.meeting
