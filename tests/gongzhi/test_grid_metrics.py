"""grid_metrics, grid_shapes and grid_panel on a small hand-built community whose figures are
known, checked against counts made here in plain Python over rows fetched separately."""

import json
import math
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.clock import frozen
from gongzhi.domain import OPEN_STATES, VolunteerStatus
from gongzhi.models import Area, Attendance, Event, Issue, Person, Volunteer
from gongzhi.queries.grid_metrics import COLUMNS, grid_metrics, grid_panel, grid_shapes

NOW = datetime(2026, 6, 15, 10, 0)
TODAY = NOW.date()
START, END = date(2026, 1, 1), TODAY


def _square(lon: float, lat: float, size: float = 0.004, points_per_side: int = 40) -> str:
    """A square boundary with many collinear vertices, as a surveyor's export would have."""
    ring = []
    corners = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size)]
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True):
        ring.extend([x0 + (x1 - x0) * i / points_per_side, y0 + (y1 - y0) * i / points_per_side]
                    for i in range(points_per_side))
    ring.append(ring[0])
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def build_community(session: Session) -> dict[str, int]:
    """Three grids: A (1,000 residents, boundary), B (500, boundary), C (0 residents, no boundary),
    with issues, events, attendance and volunteers, including rows that must not count."""
    community = Area(code="C1", name="桃源居社区", level="community")
    session.add(community)
    session.flush()
    leader_a = Person(name="王芳", phone="+8613800138000")
    leader_b = Person(name="李强", phone="+8613900139000")
    leader_c = Person(name="赵敏", phone="+8613700137000")
    session.add_all([leader_a, leader_b, leader_c])
    session.flush()
    a = Area(code="G01", name="第一网格", level="grid", parent_id=community.id, population=1000, households=400,
             leader_id=leader_a.id, boundary=_square(121.000, 31.000))
    b = Area(code="G02", name="第二网格", level="grid", parent_id=community.id, population=500, households=180,
             leader_id=leader_b.id, boundary=_square(121.004, 31.000))
    c = Area(code="G03", name="第三网格", level="grid", parent_id=community.id, population=0, households=0,
             leader_id=leader_c.id)
    gone = Area(code="G99", name="已撤销网格", level="grid", parent_id=community.id, population=50,
                boundary=_square(121.010, 31.000), deleted_at=NOW)
    session.add_all([a, b, c, gone])
    session.flush()

    def issue(grid, state, due_in_days, deleted=False, title="事项"):
        session.add(Issue(title=title, category="noise", grid_id=grid.id, state=state,
                          reported_at=NOW - timedelta(days=30), due_date=TODAY + timedelta(days=due_in_days),
                          deleted_at=NOW if deleted else None))

    issue(a, "reported", 5, title="楼道噪音")
    issue(a, "in_action", -3, title="充电桩安全")  # overdue
    issue(a, "meeting", 10, title="停车难")
    issue(a, "closed", -20)  # closed: neither open nor overdue
    issue(a, "reported", -5, deleted=True)  # soft-deleted: never counts
    issue(b, "grid_review", -1, title="垃圾分类")  # overdue
    issue(b, "rejected", -9)

    residents = {}
    for key, grid in [("a1", a), ("a2", a), ("a3", a), ("b1", b), ("c1", c), ("gone", a)]:
        person = Person(name=f"居民{key}", grid_id=grid.id, deleted_at=NOW if key == "gone" else None)
        session.add(person)
        residents[key] = person
    session.flush()

    def event(title, starts_at, grid=None, deleted=False, attendees=()):
        row = Event(title=title, kind="festival", grid_id=grid.id if grid else None, starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=2), deleted_at=NOW if deleted else None)
        session.add(row)
        session.flush()
        session.add_all([Attendance(event_id=row.id, person_id=residents[k].id) for k in attendees])

    event("端午包粽子", datetime(2026, 5, 30, 9), attendees=("a1", "a2", "b1", "c1", "gone"))
    event("议事会", datetime(2026, 3, 2, 19), grid=a, attendees=("a1",))  # a1 counted once
    event("去年的活动", datetime(2025, 11, 1, 9), attendees=("a3",))  # before the period
    event("取消的活动", datetime(2026, 4, 1, 9), deleted=True, attendees=("a3",))  # deleted event
    event("下周的活动", NOW + timedelta(days=7), grid=a)  # upcoming in A
    event("下月的活动", NOW + timedelta(days=30), grid=b)  # upcoming in B

    active, paused = VolunteerStatus.ACTIVE, VolunteerStatus.PAUSED
    for key, grid, status, deleted in [("a1", a, active, False), ("a2", a, active, False), ("a3", a, paused, False),
                                       ("b1", b, active, False), ("c1", b, active, True)]:
        session.add(Volunteer(person_id=residents[key].id, grid_id=grid.id, status=status,
                              deleted_at=NOW if deleted else None, joined_on=date(2025, 1, 1)))
    session.flush()
    return {"a": a.id, "b": b.id, "c": c.id, "gone": gone.id}


@pytest.fixture
def community(engine, write):
    with frozen(NOW):
        with write() as session:
            ids = build_community(session)
    return ids


# --- independent computations over rows fetched separately -------------------------------------

def _grid_rows(session):
    return session.execute(select(Area).where(Area.level == "grid", Area.deleted_at.is_(None))).scalars().all()


def _expected_participation(session, start, end) -> dict[int, float | None]:
    rows = session.execute(
        select(Attendance.person_id, Event.starts_at, Event.deleted_at, Person.grid_id, Person.deleted_at)
        .join(Event, Event.id == Attendance.event_id).join(Person, Person.id == Attendance.person_id)).all()
    low, high = datetime.combine(start, datetime.min.time()), datetime.combine(end + timedelta(days=1),
                                                                               datetime.min.time())
    expected = {}
    for grid in _grid_rows(session):
        people = {person for person, starts, event_deleted, home, person_deleted in rows
                  if home == grid.id and event_deleted is None and person_deleted is None and low <= starts < high}
        expected[grid.id] = len(people) / grid.population if grid.population else None
    return expected


def _expected_volunteers_per_1000(session) -> dict[int, float | None]:
    volunteers = session.execute(select(Volunteer)).scalars().all()
    expected = {}
    for grid in _grid_rows(session):
        active = sum(1 for v in volunteers if v.grid_id == grid.id and v.deleted_at is None and v.status == "active")
        expected[grid.id] = active / grid.population * 1000 if grid.population else None
    return expected


def _expected_issue_counts(session) -> dict[int, tuple[int, int]]:
    issues = session.execute(select(Issue)).scalars().all()
    expected = {}
    for grid in _grid_rows(session):
        live_open = [i for i in issues if i.grid_id == grid.id and i.deleted_at is None and i.state in OPEN_STATES]
        expected[grid.id] = (len(live_open), sum(1 for i in live_open if i.due_date < TODAY))
    return expected


def _same(actual, expected) -> bool:
    if expected is None:
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    return math.isclose(actual, expected)


def test_grid_metrics_match_independent_counts(community, session):
    with frozen(NOW):
        frame = grid_metrics(session=session, start=START, end=END)
    assert list(frame.columns) == COLUMNS
    assert list(frame["code"]) == ["G01", "G02", "G03"]  # every live grid, by code; the deleted one left out
    participation = _expected_participation(session, START, END)
    volunteers = _expected_volunteers_per_1000(session)
    issues = _expected_issue_counts(session)
    for row in frame.itertuples():
        assert (row.open_issues, row.overdue) == issues[row.grid_id]
        assert _same(row.participation_rate, participation[row.grid_id]), row
        assert _same(row.volunteers_per_1000, volunteers[row.grid_id]), row


def test_grid_metrics_known_figures(community, session):
    """The same figures written out by hand, so a shared mistake in both computations shows."""
    with frozen(NOW):
        frame = grid_metrics(session=session, start=START, end=END).set_index("code")
    assert frame.loc["G01", ["open_issues", "overdue"]].tolist() == [3, 1]
    assert frame.loc["G02", ["open_issues", "overdue"]].tolist() == [1, 1]
    assert frame.loc["G03", ["open_issues", "overdue"]].tolist() == [0, 0]
    assert frame.loc["G01", "participation_rate"] == pytest.approx(2 / 1000)  # a1, a2 (a3 only outside/deleted)
    assert frame.loc["G02", "participation_rate"] == pytest.approx(1 / 500)
    assert math.isnan(frame.loc["G03", "participation_rate"])  # no population: no rate
    assert frame.loc["G01", "volunteers_per_1000"] == pytest.approx(2.0)  # two active, one paused
    assert frame.loc["G02", "volunteers_per_1000"] == pytest.approx(2.0)  # one active, one deleted
    assert math.isnan(frame.loc["G03", "volunteers_per_1000"])
    assert frame.loc["G01", ["population", "households", "leader"]].tolist() == [1000, 400, "王芳"]


def test_participation_follows_the_period(community, session):
    with frozen(NOW):
        march = grid_metrics(session=session, start=date(2026, 3, 1), end=date(2026, 3, 31)).set_index("code")
    assert march.loc["G01", "participation_rate"] == pytest.approx(1 / 1000)  # only a1 at the March meeting
    assert march.loc["G02", "participation_rate"] == 0


def test_grid_metrics_on_an_empty_database(session):
    frame = grid_metrics(session=session, start=START, end=END)
    assert frame.empty and list(frame.columns) == COLUMNS


def test_grid_shapes_are_simplified_copies_of_the_stored_boundaries(community, session):
    shapes = grid_shapes(session=session)
    assert [s.code for s in shapes] == ["G01", "G02"]  # G03 has no boundary; G99 is deleted
    stored = {grid.id: grid.boundary for grid in _grid_rows(session)}
    for grid_shape in shapes:
        original = json.loads(stored[grid_shape.grid_id])
        assert len(grid_shape.geometry["coordinates"][0]) == 5  # 161 collinear vertices -> the 4 corners
        assert len(original["coordinates"][0]) == 161  # the stored boundary is unchanged
        lons = [point[0] for point in grid_shape.geometry["coordinates"][0]]
        lats = [point[1] for point in grid_shape.geometry["coordinates"][0]]
        assert min(lons) < grid_shape.label_lon < max(lons) and min(lats) < grid_shape.label_lat < max(lats)


def test_grid_panel_shows_leader_figures_issues_and_events(community, session):
    with frozen(NOW):
        panel = grid_panel(session=session, grid_id=community["a"], may_see_personal_data=True)
    assert (panel.code, panel.name, panel.leader, panel.leader_phone) == ("G01", "第一网格", "王芳", "13800138000")
    assert (panel.population, panel.households, panel.open_issues, panel.overdue) == (1000, 400, 3, 1)
    assert set(panel.issues["title"]) == {"楼道噪音", "充电桩安全", "停车难"}
    assert panel.issues.loc[panel.issues["title"] == "充电桩安全", "overdue"].item()
    assert list(panel.events["title"]) == ["下周的活动"]


def test_grid_panel_masks_the_leader_phone_for_viewers_without_the_right(community, session):
    with frozen(NOW):
        panel = grid_panel(session=session, grid_id=community["b"], may_see_personal_data=False)
    assert panel.leader_phone == "139****9000"
    assert "13900139000" not in repr(panel)


def test_grid_panel_of_a_grid_without_activity(community, session):
    with frozen(NOW):
        panel = grid_panel(session=session, grid_id=community["c"], may_see_personal_data=True)
    assert (panel.leader, panel.population, panel.open_issues, panel.overdue) == ("赵敏", 0, 0, 0)
    assert panel.issues.empty and panel.events.empty


def test_grid_without_a_leader(community, engine, write, session):
    with write() as writer:
        writer.add(Area(code="G04", name="第四网格", level="grid", population=10))
    with frozen(NOW):
        frame = grid_metrics(session=session, start=START, end=END).set_index("code")
        grid_id = int(frame.loc["G04", "grid_id"])
        panel = grid_panel(session=session, grid_id=grid_id, may_see_personal_data=True)
    assert frame.loc["G04", "leader"] is None or math.isnan(frame.loc["G04", "leader"])
    assert panel.leader is None and panel.leader_phone == ""


def test_grid_panel_of_a_missing_or_deleted_grid_is_none(community, session):
    with frozen(NOW):
        assert grid_panel(session=session, grid_id=community["gone"], may_see_personal_data=True) is None
        assert grid_panel(session=session, grid_id=9999, may_see_personal_data=True) is None
