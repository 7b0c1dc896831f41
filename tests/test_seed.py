"""The demo community: deterministic, complete, and consistent with the core's rules."""

import json
import math
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from itertools import combinations

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from gongzhi import clock
from gongzhi.db import current_revision, get_engine, init_db
from gongzhi.domain import (
    ISSUE_CATEGORIES,
    OPEN_STATES,
    RATING_WINDOW_DAYS,
    AreaLevel,
    Decision,
    EventKind,
    IssueState,
    MeetingKind,
    OrgKind,
    RejectReason,
    VolunteerStatus,
    star_level,
)
from gongzhi.lifecycle import ALLOWED
from gongzhi.models import (
    AgendaItem,
    Area,
    Attendance,
    Event,
    Issue,
    Meeting,
    Organisation,
    Person,
    Rating,
    ServiceRecord,
    TimelineEntry,
    Volunteer,
)
from gongzhi.privacy import contains_national_id, normalise_phone
from gongzhi.seed import DatabaseNotEmptyError, ensure_demo, reset_and_seed, seed_demo

TODAY = date(2026, 3, 18)
NOW = datetime(2026, 3, 18, 10, 0)
CENTRE = (113.876, 22.578)


def _url(path) -> str:
    return f"sqlite:///{path}"


def _seed_fixed(path):
    engine = get_engine(_url(path))
    with clock.frozen(NOW):
        summary = seed_demo(engine=engine, today=TODAY)
    return engine, summary


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The demo as of TODAY (clock frozen at NOW), seeded once for this module's read-only checks."""
    return _seed_fixed(tmp_path_factory.mktemp("seed") / "demo.db")


@pytest.fixture
def db(seeded):
    engine, _ = seeded
    with Session(engine) as session:
        yield session


def _dump(engine) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order. The audit trail numbers the rows of one
    flush in the session's (unordered) dirty-set order, so its rows are compared without their id."""
    tables = {}
    with engine.connect() as connection:
        for name, table in sorted(SQLModel.metadata.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            rows = [tuple(row) for row in connection.execute(select(table).order_by(*order))]
            if name == "auditentry":
                rows = sorted((row[1:] for row in rows), key=repr)
            if name == "datarevision":  # each write bumps a stripe drawn at random: compare the sums per kind
                sums: dict[str, int] = {}
                for kind, _stripe, value in rows:
                    sums[kind] = sums.get(kind, 0) + value
                rows = sorted(sums.items())
            if "password_hash" in table.columns:  # argon2 salts are random by design
                index = list(table.columns.keys()).index("password_hash")
                assert all(row[index].startswith("$argon2id$") for row in rows)
                rows = [row[:index] + row[index + 1:] for row in rows]
            tables[name] = rows
    return tables


def _km(lon1, lat1, lon2, lat2) -> float:
    dx = (lon2 - lon1) * 111.320 * math.cos(math.radians((lat1 + lat2) / 2))
    dy = (lat2 - lat1) * 110.574
    return math.hypot(dx, dy)


# -- determinism and emptiness ------------------------------------------------------------------


def test_seeding_twice_gives_identical_data(seeded, tmp_path):
    first, _ = seeded
    second, _ = _seed_fixed(tmp_path / "again.db")
    a, b = _dump(first), _dump(second)
    assert a.keys() == b.keys()
    for table in a:
        assert a[table] == b[table], f"table {table} differs between two seeds"
    assert sum(len(rows) for rows in a.values()) > 10_000


def test_seed_refuses_a_database_that_holds_data(seeded, tmp_path):
    engine, _ = seeded
    with Session(engine) as session:
        revision = current_revision(session)
    with pytest.raises(DatabaseNotEmptyError):
        seed_demo(engine=engine, today=TODAY)
    assert ensure_demo(engine) is None
    with Session(engine) as session:
        assert current_revision(session) == revision  # nothing was written

    # A database with only a person in it is not empty either.
    other = get_engine(_url(tmp_path / "person.db"))
    init_db(other)
    with Session(other) as session:
        session.add(Person(name="张三"))
        session.commit()
    with pytest.raises(DatabaseNotEmptyError):
        seed_demo(engine=other, today=TODAY)


def test_ensure_demo_seeds_only_a_new_database(tmp_path):
    engine = get_engine(_url(tmp_path / "new.db"))
    with clock.frozen(NOW):
        summary = ensure_demo(engine, today=TODAY)
        assert summary is not None and summary.issues == 400
        assert ensure_demo(engine, today=TODAY) is None


def test_reset_and_seed_replaces_everything_and_moves_the_revision_on(tmp_path):
    engine = get_engine(_url(tmp_path / "reset.db"))
    init_db(engine)
    with Session(engine) as session:
        session.add(Organisation(name="待删除的组织", kind=OrgKind.SOCIAL_ORG.value))
        session.commit()
        before = current_revision(session)
    with clock.frozen(NOW):
        summary = reset_and_seed(engine=engine, today=TODAY)
    with Session(engine) as session:
        assert session.execute(select(Organisation).where(Organisation.name == "待删除的组织")).first() is None
        assert session.execute(select(func.count()).select_from(Issue)).scalar_one() == summary.issues
        assert current_revision(session) > before


# -- what is in it --------------------------------------------------------------------------------


def test_counts_are_in_the_expected_ranges(seeded, db):
    _, summary = seeded
    grids = db.execute(select(Area).where(Area.level == AreaLevel.GRID)).scalars().all()
    assert len(grids) == 12
    assert [g.code for g in sorted(grids, key=lambda g: g.code)] == [f"XX-TYJ-G{i:02d}" for i in range(1, 13)]
    assert all(600 <= g.population <= 1100 for g in grids)
    assert 9_500 <= sum(g.population for g in grids) <= 10_500
    assert all(2.4 <= g.population / g.households <= 3.0 for g in grids)
    assert all(g.leader_id is not None for g in grids)
    assert 55 <= summary.buildings <= 65 and summary.units > 0
    assert summary.people >= 1_500
    assert 18 <= summary.organisations <= 25
    assert 140 <= summary.volunteers <= 160
    assert 70 <= summary.events <= 90 and 6 <= summary.upcoming_events <= 10
    assert 380 <= summary.issues <= 420
    assert summary.meetings == 11
    assert summary.attendances > 1_000
    assert summary.service_records > 1_000

    street = db.execute(select(Area).where(Area.level == AreaLevel.STREET)).scalar_one()
    community = db.execute(select(Area).where(Area.level == AreaLevel.COMMUNITY)).scalar_one()
    assert (street.code, community.code, community.parent_id) == ("XX", "XX-TYJ", street.id)
    assert all(g.parent_id == community.id for g in grids)
    grid_ids = {g.id for g in grids}
    buildings = db.execute(select(Area).where(Area.level == AreaLevel.BUILDING)).scalars().all()
    assert all(b.parent_id in grid_ids and re.fullmatch(r"XX-TYJ-G\d\d-B\d\d", b.code) for b in buildings)
    assert all(b.code.startswith(next(g.code for g in grids if g.id == b.parent_id)) for b in buildings)


def test_every_vocabulary_is_used(db):
    def used(column) -> set:
        return set(db.execute(select(column).distinct()).scalars())

    assert used(Issue.state) == {s.value for s in IssueState}
    assert used(Issue.category) == set(ISSUE_CATEGORIES)
    assert used(Organisation.kind) == {k.value for k in OrgKind}
    assert used(Event.kind) == {k.value for k in EventKind}
    assert used(Meeting.kind) == {k.value for k in MeetingKind}
    assert used(Volunteer.status) == {s.value for s in VolunteerStatus}
    # Spam is a reason of the screening of residents' own reports, which the demo does not seed.
    assert {r for r in used(Issue.reject_reason) if r} == {r.value for r in RejectReason} - {RejectReason.SPAM}
    assert {d for d in used(AgendaItem.decision) if d} == {d.value for d in Decision}


def test_people_have_normalised_mobile_numbers_and_no_national_ids(db):
    people = db.execute(select(Person)).scalars().all()
    phones = [p.phone for p in people if p.phone]
    assert len(phones) > 0.8 * len(people)
    assert len(set(phones)) == len(phones)
    assert all(re.fullmatch(r"\+861[3-9]\d{9}", p) and normalise_phone(p) == p for p in phones)
    assert all(p.grid_id is not None and p.building_id is not None and p.birth_year for p in people)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", p.name) for p in people)
    for org in db.execute(select(Organisation)).scalars():
        assert org.contact_name and normalise_phone(org.contact_phone) == org.contact_phone
    texts = [t for (t,) in db.execute(select(Issue.description))] + [t for (t,) in db.execute(select(Meeting.minutes))]
    assert not any(contains_national_id(t) for t in texts)


def test_people_live_in_a_building_of_their_grid(db):
    parent = dict(db.execute(select(Area.id, Area.parent_id).where(Area.level == AreaLevel.BUILDING)).all())
    for grid_id, building_id in db.execute(select(Person.grid_id, Person.building_id)):
        assert parent[building_id] == grid_id


# -- maps -----------------------------------------------------------------------------------------


def test_grid_polygons_are_valid_touch_and_never_overlap(db):
    grids = db.execute(select(Area).where(Area.level == AreaLevel.GRID).order_by(Area.code)).scalars().all()
    shapes = {}
    for grid in grids:
        geometry = json.loads(grid.boundary)
        assert geometry["type"] == "Polygon"
        ring = geometry["coordinates"][0]
        assert ring[0] == ring[-1], "ring must be closed"
        polygon = shape(geometry)
        assert polygon.is_valid and polygon.exterior.is_ccw
        for lon, lat in ring:  # RFC 7946 order: longitude first
            assert _km(*CENTRE, lon, lat) < 3.0
        assert grid.centroid_lon == pytest.approx(polygon.centroid.x, abs=1e-6)
        assert grid.centroid_lat == pytest.approx(polygon.centroid.y, abs=1e-6)
        shapes[grid.id] = polygon
    touching = 0
    for a, b in combinations(shapes.values(), 2):
        assert a.intersection(b).area < 1e-12
        touching += a.touches(b)
    assert touching >= 17  # a 4×3 tiling has 17 shared edges
    community = db.execute(select(Area).where(Area.level == AreaLevel.COMMUNITY)).scalar_one()
    outline = shape(json.loads(community.boundary))
    assert outline.area == pytest.approx(sum(p.area for p in shapes.values()), rel=1e-9)
    area_km2 = outline.area * 111.320 * math.cos(math.radians(CENTRE[1])) * 110.574
    assert 1.5 <= area_km2 <= 2.4


def test_issues_lie_inside_their_grid(db):
    polygons = {i: shape(json.loads(b)) for i, b in db.execute(
        select(Area.id, Area.boundary).where(Area.level == AreaLevel.GRID))}
    parents = dict(db.execute(select(Area.id, Area.parent_id).where(Area.level == AreaLevel.BUILDING)).all())
    for issue in db.execute(select(Issue)).scalars():
        assert polygons[issue.grid_id].covers(Point(issue.lon, issue.lat)), issue.id
        if issue.building_id is not None:
            assert parents[issue.building_id] == issue.grid_id


# -- participation and volunteers -------------------------------------------------------------


def test_participation_rate_per_grid_is_deliberately_uneven(db):
    since = datetime.combine(TODAY - timedelta(days=365), datetime.min.time())
    rows = db.execute(
        select(Person.grid_id, func.count(func.distinct(Attendance.person_id)))
        .join(Attendance, Attendance.person_id == Person.id)
        .join(Event, Event.id == Attendance.event_id)
        .where(Event.starts_at >= since, Event.starts_at <= NOW)
        .group_by(Person.grid_id)
    ).all()
    population = dict(db.execute(select(Area.id, Area.population).where(Area.level == AreaLevel.GRID)).all())
    attendees = dict(rows)
    rates = [attendees.get(grid_id, 0) / people for grid_id, people in population.items()]
    assert 0.02 <= min(rates) <= 0.06
    assert 0.18 <= max(rates) <= 0.30
    assert len({round(r, 2) for r in rates}) >= 10


def test_events_attendance_and_headcount(db):
    events = db.execute(select(Event)).scalars().all()
    named = Counter(db.execute(select(Attendance.event_id)).scalars())
    for event in events:
        assert event.ends_at > event.starts_at
        if event.starts_at > NOW:
            assert named[event.id] == 0 and event.headcount == 0
        else:
            assert event.starts_at >= NOW - timedelta(days=365)
            assert named[event.id] > 0
            if event.capacity is not None:
                assert named[event.id] + event.headcount <= event.capacity
    assert any(e.grid_id is None for e in events) and any(e.grid_id is not None for e in events)
    assert all(e.host_org_id for e in events)


def test_star_levels_cover_zero_to_five_and_this_month_is_active(db):
    hours = dict(db.execute(select(ServiceRecord.volunteer_id, func.sum(ServiceRecord.hours))
                            .group_by(ServiceRecord.volunteer_id)).all())
    levels = Counter(star_level(h) for h in hours.values())
    assert set(levels) == {0, 1, 2, 3, 4, 5}
    assert levels[5] >= 2 and levels[0] > levels[1] > levels[2] > levels[3] > levels[5]
    first = db.execute(select(func.min(ServiceRecord.served_on))).scalar_one()
    last = db.execute(select(func.max(ServiceRecord.served_on))).scalar_one()
    assert first >= TODAY - timedelta(days=3 * 365 + 1) and last <= TODAY
    month = db.execute(select(func.count(), func.count(func.distinct(ServiceRecord.volunteer_id)))
                       .where(ServiceRecord.served_on >= TODAY.replace(day=1))).one()
    assert month[0] > 0 and month[1] >= 10
    assert db.execute(select(func.count()).where(ServiceRecord.event_id.is_not(None))).scalar_one() > 100
    assert db.execute(select(func.count()).where(ServiceRecord.issue_id.is_not(None))).scalar_one() > 10
    # Volunteers serve only while active: nothing after a paused / left volunteer's last month.
    for volunteer in db.execute(select(Volunteer).where(Volunteer.status != VolunteerStatus.ACTIVE)).scalars():
        latest = db.execute(select(func.max(ServiceRecord.served_on))
                            .where(ServiceRecord.volunteer_id == volunteer.id)).scalar_one()
        assert latest is None or latest < TODAY.replace(day=1)


# -- the five-step loop -----------------------------------------------------------------------


def test_every_timeline_follows_the_lifecycle_rules(db):
    entries = defaultdict(list)
    for entry in db.execute(select(TimelineEntry).order_by(TimelineEntry.created_at, TimelineEntry.id)).scalars():
        entries[entry.issue_id].append(entry)
    issues = db.execute(select(Issue)).scalars().all()
    for issue in issues:
        timeline = entries[issue.id]
        first = timeline[0]
        assert (first.kind, first.from_state, first.to_state) == ("created", None, IssueState.REPORTED.value)
        assert first.created_at == issue.reported_at
        for previous, entry in zip(timeline, timeline[1:], strict=False):
            assert entry.from_state == previous.to_state, (issue.id, entry.id)
            if entry.kind == "transition":
                assert IssueState(entry.to_state) in ALLOWED[IssueState(entry.from_state)], (issue.id, entry.id)
            else:
                assert entry.from_state == entry.to_state
        assert timeline[-1].to_state == issue.state
        assert all(e.created_at <= NOW for e in timeline)
        assert issue.reported_at <= NOW
        assert issue.due_date >= issue.reported_at.date()
        assert issue.lat is not None and issue.lon is not None
        if issue.state in (IssueState.IN_ACTION, IssueState.RESIDENT_REVIEW, IssueState.CLOSED):
            if any(e.to_state == IssueState.IN_ACTION for e in timeline):
                assert issue.lead_org_id is not None
        if issue.state == IssueState.REJECTED:
            assert issue.reject_reason
            if issue.reject_reason == RejectReason.DUPLICATE:
                original = db.get(Issue, issue.duplicate_of_id)
                assert original.id < issue.id and original.reported_at <= issue.reported_at
        if issue.state == IssueState.CLOSED_UNRATED:
            assert issue.closed_at - issue.resolved_at > timedelta(days=RATING_WINDOW_DAYS)
        if issue.state == IssueState.RESIDENT_REVIEW:
            assert NOW - issue.resolved_at <= timedelta(days=RATING_WINDOW_DAYS)
    ratings = db.execute(select(func.count()).select_from(Rating)).scalar_one()
    assert ratings == sum(e.kind == "rating" for timeline in entries.values() for e in timeline)


def test_the_loop_figures_look_like_a_working_community(db):
    issues = db.execute(select(Issue)).scalars().all()
    states = Counter(i.state for i in issues)
    assert states[IssueState.CLOSED] > 150
    assert all(states[s] >= 3 for s in IssueState)
    resolved = [i for i in issues if i.resolved_at is not None]
    in_grid = sum(bool(i.resolved_in_grid) for i in resolved) / len(resolved)
    assert 0.55 <= in_grid <= 0.8
    assert 0.15 <= sum(i.went_to_meeting for i in issues) / len(issues) <= 0.4
    assert any(i.reopen_count > 0 for i in issues)
    assert sum(i.state in OPEN_STATES and i.due_date < TODAY for i in issues) >= 5
    assert sum(i.reporter_id is None for i in issues) >= 40
    rated = [i.rating for i in issues if i.rating is not None]
    assert sum(rated) / len(rated) >= 3.8 and min(rated) == 1
    assert sum(i.reported_at.date() == TODAY - timedelta(days=d) for i in issues for d in range(7)) >= 15


def test_meetings_decide_the_issues_that_went_to_them(db):
    meetings = db.execute(select(Meeting).order_by(Meeting.held_at)).scalars().all()
    held = [m for m in meetings if m.status == "held"]
    planned = [m for m in meetings if m.status == "planned"]
    assert 9 <= len(held) <= 11 and len(planned) == 1
    assert TODAY < planned[0].held_at.date() <= TODAY + timedelta(days=7)
    for meeting in held:
        names = meeting.attendees.splitlines()
        assert meeting.held_at < NOW and meeting.minutes and meeting.quorum > 0
        assert meeting.quorum_met == (len(names) >= meeting.quorum)
        assert len(set(names)) == len(names)
    assert any(m.quorum_met is False for m in held)
    position = {m.id: i for i, m in enumerate(meetings)}

    items = db.execute(select(AgendaItem)).scalars().all()
    by_meeting = defaultdict(list)
    for item in items:
        by_meeting[item.meeting_id].append(item)
    for meeting_items in by_meeting.values():
        assert sorted(i.position for i in meeting_items) == list(range(1, len(meeting_items) + 1))
    assert any(i.issue_id is None and i.topic for i in items)

    transitions = db.execute(select(TimelineEntry).where(TimelineEntry.from_state == IssueState.MEETING,
                                                         TimelineEntry.kind == "transition")).scalars().all()
    assert transitions
    for entry in transitions:
        assert entry.meeting_id is not None
        item = next(i for i in by_meeting[entry.meeting_id] if i.issue_id == entry.issue_id)
        expected = {IssueState.IN_ACTION: {"approve"}, IssueState.REJECTED: {"reject", "merge"}}[entry.to_state]
        assert item.decision in expected
        if item.decision == "approve":
            assert item.lead_org_id and item.due_date
            assert item.votes_for > item.votes_against
    for item in items:
        if item.decision == "defer" and item.issue_id is not None:
            later = [i for i in items if i.issue_id == item.issue_id and position[i.meeting_id] > position[item.meeting_id]]
            assert later, f"deferred issue #{item.issue_id} must be on a later agenda"
        if item.decision is not None:
            meeting = db.get(Meeting, item.meeting_id)
            assert item.votes_for + item.votes_against + item.votes_abstain <= len(meeting.attendees.splitlines())
    waiting = set(db.execute(select(Issue.id).where(Issue.state == IssueState.MEETING)).scalars())
    on_planned = {i.issue_id for i in by_meeting[planned[0].id] if i.issue_id is not None}
    assert waiting and waiting == on_planned
    assert all(i.decision is None for i in by_meeting[planned[0].id])


# -- any day of the year ------------------------------------------------------------------------


@pytest.mark.parametrize("now", [datetime(2024, 2, 29, 7, 15), datetime(2027, 1, 1, 0, 30)])
def test_the_demo_works_as_of_any_day(tmp_path, now):
    engine = get_engine(_url(tmp_path / "day.db"))
    with clock.frozen(now):
        summary = seed_demo(engine=engine)
    assert summary.issues_by_state and all(count > 0 for count in summary.issues_by_state.values())
    with Session(engine) as session:
        latest = [session.execute(select(func.max(column))).scalar_one() for column in (
            TimelineEntry.created_at, Issue.reported_at, Rating.created_at, ServiceRecord.created_at)]
        assert all(moment <= now for moment in latest)
        assert session.execute(select(func.max(Event.starts_at)).where(Event.starts_at < now)).scalar_one() < now
        assert session.execute(select(func.count()).where(ServiceRecord.served_on >= now.date().replace(day=1))).scalar_one() > 0
