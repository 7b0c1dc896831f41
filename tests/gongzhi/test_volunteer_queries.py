"""Volunteer queries against a hand-built roster with known service records. Every expected
figure is computed here in plain Python from the same specification the fixture is built from,
never by the code under test: star levels at the thresholds, period boundaries (inclusive),
the last 12 months, removed volunteers left out, phones masked."""

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
import pytest

from gongzhi.clock import frozen
from gongzhi.domain import star_level
from gongzhi.models import Area, Event, Organisation, Person, ServiceRecord, TeamMembership, Volunteer
from gongzhi.queries.volunteers import (
    hours_by_star_level,
    monthly_hours,
    service_records,
    top_volunteers,
    volunteer_detail,
    volunteer_headline,
    volunteer_roster,
    volunteer_roster_page,
    volunteers_by_grid,
)

TODAY = date(2025, 6, 15)
TWELVE_MONTHS_START = date(2024, 6, 16)  # the 12 months ending today, inclusive
START, END = date(2025, 3, 1), date(2025, 5, 31)


@dataclass
class Spec:
    name: str
    phone: str
    grid: str
    status: str
    records: list[tuple[date, float]]
    skills: str = ""
    teams: tuple[str, ...] = ()
    deleted: bool = False
    event_record: int | None = None  # index of the record logged on the event
    ids: dict = field(default_factory=dict)


# Totals sit exactly on and just under the star thresholds (100/300/600/1000/1500); record dates sit
# on both sides of the period's first and last day and of the 12-month boundary.
ROSTER = [
    Spec("赵一", "13800000001", "G1", "active", [(date(2025, 3, 1), 49.9), (date(2024, 6, 15), 50.0)],
         skills="first_aid", teams=("红马甲",)),                                             # 99.9 h -> 0★
    Spec("钱二", "13800000002", "G1", "active", [(date(2024, 6, 16), 60.0), (date(2025, 5, 31), 40.0)],
         skills="elderly_care", event_record=1),                                               # 100 h -> 1★
    Spec("孙三", "13800000003", "G2", "paused", [(date(2025, 2, 28), 150.0), (date(2025, 6, 1), 150.0)],
         skills="arts,sports", teams=("舞蹈队",)),                                             # 300 h -> 2★
    Spec("李四", "13800000004", "G2", "active",
         [(date(2023, 1, 1), 200.0), (date(2024, 1, 1), 200.0), (date(2025, 4, 15), 200.0)],
         skills="mediation,first_aid", teams=("红马甲", "舞蹈队")),                              # 600 h -> 3★
    Spec("Anna Zhou", "13800000005", "G1", "left", [(date(2022, 5, 5), 999.5), (date(2025, 5, 31), 0.5)],
         skills="translation"),                                                                # 1000 h -> 4★
    Spec("吴六", "13800000006", "G1", "active", [(date(2021, 1, 1), 1500.0)]),                   # 1500 h -> 5★
    Spec("郑七", "13800000007", "G2", "active", []),                                            # 0 h -> 0★
    Spec("王八", "13800000008", "G1", "active", [(date(2025, 4, 1), 2000.0)], deleted=True),
]
LIVE = [spec for spec in ROSTER if not spec.deleted]


@pytest.fixture(autouse=True)
def fixed_clock():
    with frozen(datetime(2025, 6, 15, 10, 0)):
        yield


@pytest.fixture
def roster(write):
    """Builds ROSTER; returns grid ids by code, team ids by name and the event id."""
    with write() as session:
        community = Area(code="C1", name="桃源居社区", level="community")
        session.add(community)
        session.flush()
        grids = {code: Area(code=code, name=name, level="grid", parent_id=community.id)
                 for code, name in (("G1", "一网格"), ("G2", "二网格"), ("G3", "三网格"))}
        teams = {"红马甲": Organisation(name="红马甲", kind="volunteer_team"),
                 "舞蹈队": Organisation(name="舞蹈队", kind="culture_sports_team")}
        session.add_all([*grids.values(), *teams.values()])
        session.flush()
        event = Event(title="端午义诊", kind="health", starts_at=datetime(2025, 5, 31, 9),
                      ends_at=datetime(2025, 5, 31, 11))
        session.add(event)
        session.flush()
        for spec in ROSTER:
            person = Person(name=spec.name, phone="+86" + spec.phone, grid_id=grids[spec.grid].id)
            session.add(person)
            session.flush()
            volunteer = Volunteer(person_id=person.id, grid_id=grids[spec.grid].id, skills=spec.skills,
                                  status=spec.status, joined_on=date(2020, 1, 1),
                                  deleted_at=datetime(2025, 6, 1) if spec.deleted else None)
            session.add(volunteer)
            session.flush()
            spec.ids["volunteer"] = volunteer.id
            session.add_all(TeamMembership(volunteer_id=volunteer.id, organisation_id=teams[t].id) for t in spec.teams)
            session.add_all(ServiceRecord(volunteer_id=volunteer.id, served_on=day, hours=hours,
                                          event_id=event.id if index == spec.event_record else None)
                            for index, (day, hours) in enumerate(spec.records))
        return {"grids": {code: grid.id for code, grid in grids.items()},
                "teams": {name: team.id for name, team in teams.items()}, "event": event.id}


def _total(spec: Spec) -> float:
    return sum(hours for _, hours in spec.records)


def _hours_between(spec: Spec, start: date, end: date) -> float:
    return sum(hours for day, hours in spec.records if start <= day <= end)


def _in_grid(spec: Spec, grid: str | None) -> bool:
    return grid is None or spec.grid == grid


def test_the_fixture_sits_on_every_star_threshold():
    assert [round(_total(spec), 6) for spec in LIVE] == [99.9, 100, 300, 600, 1000, 1500, 0]
    assert [star_level(_total(spec)) for spec in LIVE] == [0, 1, 2, 3, 4, 5, 0]


@pytest.mark.parametrize("grid", [None, "G1", "G2", "G3"])
def test_headline_counts_active_volunteers_and_service_in_the_period(session, roster, grid):
    specs = [spec for spec in LIVE if _in_grid(spec, grid)]
    expected_active = sum(spec.status == "active" for spec in specs)
    expected_served = sum(any(START <= day <= END for day, _ in spec.records) for spec in specs)
    expected_hours = sum(_hours_between(spec, START, END) for spec in specs)

    headline = volunteer_headline(session=session, start=START, end=END,
                                  grid_id=roster["grids"][grid] if grid else None)

    assert headline.active_volunteers == expected_active
    assert headline.volunteers_served == expected_served
    assert headline.service_hours == pytest.approx(expected_hours)


def test_headline_known_values_for_the_whole_community(session, roster):
    # Written out once by hand as a check on the Python expectations above.
    headline = volunteer_headline(session=session, start=START, end=END)
    assert (headline.active_volunteers, headline.volunteers_served) == (5, 4)
    assert headline.service_hours == pytest.approx(49.9 + 40 + 200 + 0.5)


def test_headline_period_boundaries_are_inclusive(session, roster):
    on_first_day = volunteer_headline(session=session, start=date(2025, 3, 1), end=date(2025, 3, 1))
    assert (on_first_day.volunteers_served, on_first_day.service_hours) == (1, pytest.approx(49.9))
    day_before = volunteer_headline(session=session, start=date(2025, 2, 28), end=date(2025, 2, 28))
    assert (day_before.volunteers_served, day_before.service_hours) == (1, pytest.approx(150.0))
    nothing = volunteer_headline(session=session, start=date(2025, 3, 2), end=date(2025, 3, 31))
    assert (nothing.volunteers_served, nothing.service_hours) == (0, 0.0)


def test_headline_on_an_empty_database_is_all_zero(session):
    headline = volunteer_headline(session=session, start=START, end=END)
    assert (headline.active_volunteers, headline.volunteers_served, headline.service_hours) == (0, 0, 0.0)


def test_volunteers_by_grid_lists_every_grid(session, roster):
    frame = volunteers_by_grid(session=session)
    got = dict(zip(frame["grid_id"], frame["active_volunteers"], strict=True))
    expected = {grid_id: sum(spec.grid == code and spec.status == "active" for spec in LIVE)
                for code, grid_id in roster["grids"].items()}
    assert got == expected
    assert got[roster["grids"]["G3"]] == 0


@pytest.mark.parametrize("grid", [None, "G1"])
def test_monthly_hours_fill_every_month_of_the_period(session, roster, grid):
    frame = monthly_hours(session=session, start=date(2025, 1, 10), end=END,
                          grid_id=roster["grids"][grid] if grid else None)
    expected = {}
    for month in ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05"):
        expected[month] = sum(hours for spec in LIVE if _in_grid(spec, grid) for day, hours in spec.records
                              if day.strftime("%Y-%m") == month and date(2025, 1, 10) <= day <= END)
    assert list(frame["month"]) == list(expected)
    assert list(frame["hours"]) == pytest.approx(list(expected.values()))


def test_roster_rows_hours_and_star_levels(session, roster):
    frame = volunteer_roster(session=session, may_see_personal_data=True)
    assert len(frame) == len(LIVE)
    by_name = frame.set_index("name")
    for spec in LIVE:
        row = by_name.loc[spec.name]
        assert row["total_hours"] == pytest.approx(_total(spec)), spec.name
        assert row["hours_12m"] == pytest.approx(_hours_between(spec, TWELVE_MONTHS_START, TODAY)), spec.name
        assert row["stars"] == star_level(_total(spec)), spec.name
        assert list(row["skills"]) == [code for code in spec.skills.split(",") if code]
        assert sorted(row["teams"]) == sorted(spec.teams)
        assert row["status"] == spec.status
        assert row["phone"] == spec.phone
        assert row["grid_name"] == {"G1": "一网格", "G2": "二网格"}[spec.grid]
    # Most hours first.
    assert list(frame["total_hours"]) == sorted(frame["total_hours"], reverse=True)
    assert "王八" not in set(frame["name"])


def test_roster_phone_is_masked_without_the_right_to_see_it(session, roster):
    frame = volunteer_roster(session=session, may_see_personal_data=False)
    text = frame.astype(str).to_csv()
    for spec in ROSTER:
        assert spec.phone not in text
    assert set(frame["phone"]) == {f"{spec.phone[:3]}****{spec.phone[-4:]}" for spec in LIVE}


@pytest.mark.parametrize(("filters", "expected"), [
    ({"status": "paused"}, {"孙三"}),
    ({"status": "left"}, {"Anna Zhou"}),
    ({"skill": "arts"}, {"孙三"}),
    ({"skill": "first_aid"}, {"赵一", "李四"}),
    ({"skill": "aid"}, set()),  # whole codes only
    ({"team": "红马甲"}, {"赵一", "李四"}),
    ({"team": "舞蹈队"}, {"孙三", "李四"}),
    ({"grid": "G2"}, {"孙三", "李四", "郑七"}),
    ({"grid": "G3"}, set()),
    ({"search": "anna"}, {"Anna Zhou"}),
    ({"search": " 李 "}, {"李四"}),
    ({"search": "%"}, set()),  # a wildcard character is searched for literally
    ({"grid": "G1", "status": "active", "skill": "first_aid"}, {"赵一"}),
])
def test_roster_filters(session, roster, filters, expected):
    kwargs = {key: value for key, value in filters.items() if key in ("status", "skill", "search")}
    if "team" in filters:
        kwargs["team_id"] = roster["teams"][filters["team"]]
    if "grid" in filters:
        kwargs["grid_id"] = roster["grids"][filters["grid"]]
    frame = volunteer_roster(session=session, **kwargs)
    assert set(frame["name"]) == expected


@pytest.mark.parametrize("filters", [{}, {"status": "active"}, {"skill": "first_aid"}, {"search": "李"},
                                     {"status": "left"}])
@pytest.mark.parametrize(("first", "stop"), [(0, 2), (1, 3), (2, 50), (0, 0), (40, 50)])
def test_a_roster_page_is_that_slice_of_the_roster_with_its_count(session, roster, filters, first, stop):
    """The page read in SQL (offset and limit, 12 months' hours of its rows only) is exactly the
    rows the whole roster has there, phones masked alike, and the count is the whole roster's."""
    for may_see in (False, True):
        whole = volunteer_roster(session=session, may_see_personal_data=may_see, **filters)
        page, total = volunteer_roster_page(session=session, first=first, stop=stop, may_see_personal_data=may_see,
                                            **filters)
        assert total == len(whole)
        expected = whole.iloc[first:stop].reset_index(drop=True)
        assert page[["id", "name", "phone", "total_hours", "hours_12m", "stars"]].to_dict("records") == \
            expected[["id", "name", "phone", "total_hours", "hours_12m", "stars"]].to_dict("records")
        assert [list(teams) for teams in page["teams"]] == [list(teams) for teams in expected["teams"]]


def test_roster_on_an_empty_database_has_the_columns(session):
    frame = volunteer_roster(session=session)
    assert frame.empty
    assert {"id", "name", "phone", "grid_name", "skills", "teams", "status", "total_hours", "hours_12m",
            "stars"} <= set(frame.columns)


@pytest.mark.parametrize("grid", [None, "G1", "G2"])
def test_hours_by_star_level_counts_every_level(session, roster, grid):
    frame = hours_by_star_level(session=session, grid_id=roster["grids"][grid] if grid else None)
    expected = {level: sum(star_level(_total(spec)) == level for spec in LIVE if _in_grid(spec, grid))
                for level in range(6)}
    assert dict(zip(frame["stars"], frame["volunteers"], strict=True)) == expected


def test_top_volunteers_rank_hours_in_the_period(session, roster):
    frame = top_volunteers(session=session, start=START, end=END, limit=3)
    ranked = sorted(((spec.name, _hours_between(spec, START, END)) for spec in LIVE
                     if _hours_between(spec, START, END) > 0), key=lambda pair: -pair[1])[:3]
    assert list(frame["name"]) == [name for name, _ in ranked]
    assert list(frame["hours"]) == pytest.approx([hours for _, hours in ranked])


def test_volunteer_detail_has_what_the_edit_form_needs(session, roster):
    spec = ROSTER[3]  # 李四
    detail = volunteer_detail(session=session, volunteer_id=spec.ids["volunteer"], may_see_personal_data=True)
    assert (detail.name, detail.phone, detail.status, detail.version) == (spec.name, spec.phone, "active", 1)
    assert detail.grid_id == roster["grids"]["G2"]
    assert detail.skills == ("mediation", "first_aid")
    assert set(detail.team_ids) == {roster["teams"]["红马甲"], roster["teams"]["舞蹈队"]}
    assert (detail.total_hours, detail.stars) == (pytest.approx(600.0), 3)
    masked = volunteer_detail(session=session, volunteer_id=spec.ids["volunteer"], may_see_personal_data=False)
    assert masked.phone == "138****0004"


def test_volunteer_detail_of_a_removed_or_missing_volunteer_is_none(session, roster):
    removed = ROSTER[-1]
    assert volunteer_detail(session=session, volunteer_id=removed.ids["volunteer"], may_see_personal_data=True) is None
    assert volunteer_detail(session=session, volunteer_id=9999, may_see_personal_data=True) is None


def test_service_records_newest_first_with_the_event(session, roster):
    li_si, qian_er = ROSTER[3], ROSTER[1]
    frame = service_records(session=session, volunteer_id=li_si.ids["volunteer"], limit=2)
    newest = sorted(li_si.records, reverse=True)[:2]
    assert list(frame["served_on"]) == [day for day, _ in newest]
    assert list(frame["hours"]) == [hours for _, hours in newest]
    frame = service_records(session=session, volunteer_id=qian_er.ids["volunteer"])
    assert frame["event"].iloc[0] == "端午义诊"
    assert pd.isna(frame["event"].iloc[1])
