"""Event queries against a small hand-built community whose expected figures are computed here in
plain Python from the same fixture description, independently of the SQL under test."""

import calendar
from datetime import date, datetime

import pytest

from gongzhi.clock import frozen
from gongzhi.models import Area, Attendance, Event, Organisation, Person
from gongzhi.queries.events import (
    event_detail,
    event_headline,
    list_events,
    monthly_participation,
    participation_by_grid,
    people_options,
    upcoming_events,
)

NOW = datetime(2025, 6, 15, 12, 0)
MAY = (date(2025, 5, 1), date(2025, 5, 31))

# grid code -> (population, deleted)
GRIDS = {"A": (100, False), "B": (50, False), "C": (0, False), "D": (1000, True)}
# person key -> (name, phone, grid code or None, deleted)
PEOPLE = {
    "a1": ("王芳", "+8613800001234", "A", False),
    "a2": ("李强", None, "A", False),
    "a3": ("张伟", "+8613900005678", "A", False),
    "a4": ("刘洋", None, "A", False),
    "b1": ("陈静", "+8613700009999", "B", False),
    "b2": ("杨帆", None, "B", False),
    "c1": ("赵敏", None, "C", False),
    "x1": ("外来志愿者", None, None, False),  # lives in no grid: not part of any population
    "d1": ("已删除", None, "A", True),
    "dd": ("删除网格居民", None, "D", False),  # lives in a deleted grid
}
# event key -> (grid code or None, starts_at, headcount, attendees, deleted)
EVENTS = {
    "e1": ("A", datetime(2025, 5, 3, 9), 10, ["a1", "a2", "b1", "d1"], False),
    "e2": (None, datetime(2025, 5, 20, 19), 5, ["a1", "b1", "b2", "c1", "x1", "dd"], False),
    "e3": ("B", datetime(2025, 4, 20, 9), 7, ["a3", "b1"], False),  # before May
    "e4": ("A", datetime(2025, 6, 10, 9), 0, ["a4"], False),  # after May, before NOW
    "e5": ("A", datetime(2025, 5, 10, 9), 99, ["a3"], True),  # deleted
    "e6": ("B", datetime(2025, 7, 1, 9), 0, [], False),  # upcoming
    "e7": (None, datetime(2025, 6, 20, 9), 0, [], False),  # upcoming, whole community
}


@pytest.fixture
def community(write):
    """Build the fixture; returns the ids of grids, people and events by their keys."""
    ids = {}
    with write() as session:
        root = Area(code="C1", name="桃源居社区", level="community")
        session.add(root)
        session.flush()
        for code, (population, deleted) in GRIDS.items():
            grid = Area(code=f"G{code}", name=f"网格{code}", level="grid", parent_id=root.id, population=population,
                        deleted_at=NOW if deleted else None)
            session.add(grid)
            session.flush()
            ids[code] = grid.id
        host = Organisation(name="文体队", kind="culture_sports_team")
        session.add(host)
        session.flush()
        ids["host"] = host.id
        for key, (name, phone, grid, deleted) in PEOPLE.items():
            person = Person(name=name, phone=phone, grid_id=ids[grid] if grid else None,
                            deleted_at=NOW if deleted else None)
            session.add(person)
            session.flush()
            ids[key] = person.id
        for key, (grid, starts_at, headcount, attendees, deleted) in EVENTS.items():
            event = Event(title=f"活动{key}", kind="culture_sports", grid_id=ids[grid] if grid else None,
                          host_org_id=host.id if key == "e1" else None, starts_at=starts_at,
                          ends_at=starts_at.replace(hour=starts_at.hour + 2), place="活动室", headcount=headcount,
                          capacity=50 if key == "e1" else None, deleted_at=NOW if deleted else None)
            session.add(event)
            session.flush()
            ids[key] = event.id
            for person in attendees:
                session.add(Attendance(event_id=event.id, person_id=ids[person]))
    return ids


# ---- the independent computation: plain Python over the fixture description ----

def _in(start: date, end: date, moment: datetime) -> bool:
    return start <= moment.date() <= end


def _live_events(start, end, grid=None):
    return {key: spec for key, spec in EVENTS.items()
            if not spec[4] and _in(start, end, spec[1]) and (grid is None or spec[0] == grid)}


def _resident(person: str) -> bool:
    """Alive and living in a grid that exists."""
    _, _, grid, deleted = PEOPLE[person]
    return not deleted and grid is not None and not GRIDS[grid][1]


def expected_headline(start, end, grid=None):
    events = _live_events(start, end, grid)
    named = sum(1 for spec in events.values() for person in spec[3] if not PEOPLE[person][3])
    headcount = sum(spec[2] for spec in events.values())
    everyone = {person for spec in _live_events(start, end).values() for person in spec[3] if _resident(person)}
    participants = {person for person in everyone if grid is None or PEOPLE[person][2] == grid}
    population = sum(pop for code, (pop, deleted) in GRIDS.items() if not deleted and (grid is None or code == grid))
    return {"events": len(events), "named_attendance": named, "headcount": headcount,
            "participants": len(participants), "participation_rate": len(participants) / population if population else None}


def expected_by_grid(start, end):
    rows = {}
    for code, (population, deleted) in GRIDS.items():
        if deleted:
            continue
        residents = {person for spec in _live_events(start, end).values() for person in spec[3]
                     if _resident(person) and PEOPLE[person][2] == code}
        rows[code] = (population, len(residents), len(residents) / population if population else None)
    return rows


# ---- tests ----

def test_participation_by_grid_matches_hand_count(session, community):
    frame = participation_by_grid(session=session, start=MAY[0], end=MAY[1])
    expected = expected_by_grid(*MAY)
    assert list(frame.columns) == ["grid_id", "grid_name", "population", "participants", "rate"]
    assert sorted(frame["grid_id"]) == sorted(community[code] for code in expected)  # all live grids, no deleted one
    for code, (population, participants, rate) in expected.items():
        row = frame[frame["grid_id"] == community[code]].iloc[0]
        assert row["population"] == population
        assert row["participants"] == participants, code
        if rate is None:
            assert row["rate"] is None or row["rate"] != row["rate"]  # None or NaN
        else:
            assert row["rate"] == pytest.approx(rate)
    # Spelled out, so the fixture's intent is visible: a1 went to e1 and e2 but counts once;
    # d1 is deleted; e5 is deleted; a3/a4 only went to events outside May.
    assert expected == {"A": (100, 2, 0.02), "B": (50, 2, 0.04), "C": (0, 1, None)}


@pytest.mark.parametrize("grid", [None, "A", "B", "C"])
def test_event_headline_matches_hand_count(session, community, grid):
    headline = event_headline(session=session, start=MAY[0], end=MAY[1],
                              grid_id=community[grid] if grid else None)
    expected = expected_headline(*MAY, grid)
    assert headline.events == expected["events"]
    assert headline.named_attendance == expected["named_attendance"]
    assert headline.headcount == expected["headcount"]
    assert headline.participants == expected["participants"]
    if expected["participation_rate"] is None:
        assert headline.participation_rate is None
    else:
        assert headline.participation_rate == pytest.approx(expected["participation_rate"])


def test_event_headline_whole_community_numbers(session, community):
    headline = event_headline(session=session, start=MAY[0], end=MAY[1])
    # e1 + e2; named 3 (d1 deleted) + 6; headcount 10 + 5 (never counted as participants);
    # participants a1 a2 b1 b2 c1 (x1 lives nowhere, dd in a deleted grid) over population 150.
    assert (headline.events, headline.named_attendance, headline.headcount, headline.participants) == (2, 9, 15, 5)
    assert headline.participation_rate == pytest.approx(5 / 150)


def test_event_headline_empty_database(session):
    headline = event_headline(session=session, start=MAY[0], end=MAY[1])
    assert headline.events == headline.named_attendance == headline.headcount == headline.participants == 0
    assert headline.participation_rate is None


def test_monthly_participation_fills_every_month(session, community):
    frame = monthly_participation(session=session, start=date(2025, 3, 1), end=date(2025, 7, 31))
    assert list(frame["month"]) == ["2025-03", "2025-04", "2025-05", "2025-06", "2025-07"]
    for month in frame["month"]:
        year, number = map(int, month.split("-"))
        start, end = date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])
        expected = expected_headline(start, end)
        row = frame[frame["month"] == month].iloc[0]
        assert row["events"] == expected["events"], month
        assert row["attendance"] == expected["named_attendance"] + expected["headcount"], month
    assert list(frame["attendance"]) == [0, 2 + 7, 9 + 15, 1, 0]


def test_monthly_participation_for_a_grid(session, community):
    frame = monthly_participation(session=session, start=date(2025, 4, 1), end=date(2025, 6, 30),
                                  grid_id=community["A"])
    assert list(frame["events"]) == [0, 1, 1]
    assert list(frame["attendance"]) == [0, 3 + 10, 1]


def test_list_events_columns_totals_and_order(session, community):
    with frozen(NOW):
        past = list_events(session=session, start=MAY[0], end=MAY[1], upcoming=False)
        upcoming = list_events(session=session, upcoming=True)
        only_b = list_events(session=session, grid_id=community["B"])
    assert list(past.columns) == ["id", "title", "kind", "host", "grid_id", "grid_name", "starts_at", "ends_at",
                                  "place", "capacity", "named_attendance", "headcount", "total"]
    assert list(past["id"]) == [community["e2"], community["e1"]]  # latest first, deleted e5 absent
    e1 = past[past["id"] == community["e1"]].iloc[0]
    assert (e1["named_attendance"], e1["headcount"], e1["total"], e1["capacity"]) == (3, 10, 13, 50)
    assert e1["host"] == "文体队" and e1["grid_name"] == "网格A"
    e2 = past[past["id"] == community["e2"]].iloc[0]
    assert e2["grid_name"] is None or e2["grid_name"] != e2["grid_name"]  # whole community
    assert list(upcoming["id"]) == [community["e7"], community["e6"]]  # soonest first
    assert set(only_b["id"]) == {community["e3"], community["e6"]}


def test_upcoming_events(session, community):
    with frozen(NOW):
        frame = upcoming_events(session=session)
        in_b = upcoming_events(session=session, grid_id=community["B"], limit=5)
        first = upcoming_events(session=session, limit=1)
    assert list(frame.columns) == ["id", "title", "kind", "starts_at", "place", "grid_id", "grid_name"]
    assert list(frame["id"]) == [community["e7"], community["e6"]]
    assert list(in_b["id"]) == [community["e6"]] and in_b.iloc[0]["grid_name"] == "网格B"
    assert list(first["id"]) == [community["e7"]]


def test_event_detail_hides_names_without_the_right(session, community):
    full = event_detail(session=session, event_id=community["e1"], may_see_personal_data=True)
    masked = event_detail(session=session, event_id=community["e1"], may_see_personal_data=False)
    assert full.version == 1 and full.grid_name == "网格A" and full.host == "文体队"
    assert full.named_attendance == masked.named_attendance == 3
    assert full.total_attendance == 13
    assert {person_id for person_id, _ in full.attendees} == {community["a1"], community["a2"], community["b1"]}
    assert "王芳 (…1234)" in {label for _, label in full.attendees}
    assert masked.attendees == ()
    assert "王芳" not in repr(masked)
    assert event_detail(session=session, event_id=community["e5"], may_see_personal_data=True) is None  # deleted
    assert event_detail(session=session, event_id=99999, may_see_personal_data=True) is None


def test_people_options_labels_search_and_privacy(session, community):
    everyone = people_options(session=session, may_see_personal_data=True)
    labels = dict(zip(everyone["id"], everyone["label"], strict=True))
    assert labels[community["a1"]] == "王芳 (…1234)"
    assert labels[community["a2"]] == "李强"  # no phone, just the name
    assert community["d1"] not in labels  # deleted
    assert "+86" not in " ".join(labels.values()) and "138" not in " ".join(labels.values())
    in_b = people_options(session=session, grid_id=community["B"], may_see_personal_data=True)
    assert set(in_b["id"]) == {community["b1"], community["b2"]}
    assert list(people_options(session=session, search="王", may_see_personal_data=True)["id"]) == [community["a1"]]
    assert list(people_options(session=session, search="5678", may_see_personal_data=True)["id"]) == [community["a3"]]
    assert len(people_options(session=session, limit=3, may_see_personal_data=True)) == 3
    assert people_options(session=session, may_see_personal_data=False).empty
