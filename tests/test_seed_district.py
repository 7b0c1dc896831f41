"""The district to measure on, at 2 communities instead of 50: the promised proportions, every
issue state, timelines that follow the lifecycle's rules, and the same rows every time."""

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi import cli
from gongzhi.db import get_engine, init_db
from gongzhi.domain import RESOLVED_STATES, AreaLevel, IssueState, MeetingStatus
from gongzhi.lifecycle import ALLOWED
from gongzhi.models import AgendaItem, Area, Attendance, Event, Issue, Meeting, Rating, TimelineEntry, Volunteer
from gongzhi.queries.issues import issue_headline
from gongzhi.seed import DatabaseNotEmptyError
from gongzhi.seed_district import (
    ATTENDANCE_PER_EVENT,
    EVENTS_PER_COMMUNITY,
    GRIDS_PER_COMMUNITY,
    ISSUES_PER_COMMUNITY,
    POPULATION_PER_GRID,
    VOLUNTEERS_PER_COMMUNITY,
    checksum_rows,
    seed_district,
)

TODAY = date(2026, 11, 1)
AS_OF = datetime(2026, 11, 1)
COMMUNITIES = 2


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    path = tmp_path_factory.mktemp("district") / "district.db"
    engine = get_engine(f"sqlite:///{path}")
    summary = seed_district(engine=engine, today=TODAY, communities=COMMUNITIES)
    return engine, summary


def test_counts_are_in_the_promised_proportions(district):
    engine, summary = district
    assert summary.communities == COMMUNITIES
    assert summary.grids == COMMUNITIES * GRIDS_PER_COMMUNITY
    assert summary.issues == COMMUNITIES * ISSUES_PER_COMMUNITY
    assert summary.volunteers == COMMUNITIES * VOLUNTEERS_PER_COMMUNITY
    assert summary.events == COMMUNITIES * EVENTS_PER_COMMUNITY
    mean_attendance = sum(ATTENDANCE_PER_EVENT) / 2
    assert 0.85 * summary.events * mean_attendance < summary.attendances < 1.05 * summary.events * mean_attendance
    with Session(engine) as session:
        grids = session.execute(select(Area).where(Area.level == AreaLevel.GRID)).scalars().all()
        assert all(POPULATION_PER_GRID[0] <= g.population <= POPULATION_PER_GRID[1] for g in grids)
        assert all(g.boundary and g.leader_id for g in grids)
        assert summary.population == sum(g.population for g in grids)
        # Residents are figures: only event-goers, volunteers and grid leaders are person rows.
        assert summary.people < summary.population / 5
        # Three years of issues, nothing after the day the data is as of.
        first, last = session.execute(select(Issue.reported_at).order_by(Issue.reported_at)).scalars().all()[::summary.issues - 1]
        assert first >= AS_OF - timedelta(days=3 * 365) and last < AS_OF and last - first > timedelta(days=3 * 360)
        assert session.execute(select(TimelineEntry.created_at).order_by(TimelineEntry.created_at.desc())).scalar() <= AS_OF
        past = session.execute(select(Event).where(Event.starts_at < AS_OF)).scalars().all()
        attended = {e for (e,) in session.execute(select(Attendance.event_id).distinct())}
        assert attended == {e.id for e in past}  # upcoming events have no attendance yet
        assert session.execute(select(Volunteer.person_id)).scalars().all()


def test_every_issue_state_is_present(district):
    _, summary = district
    assert all(summary.issues_by_state[state.value] > 0 for state in IssueState), summary.issues_by_state
    assert sum(summary.issues_by_state.values()) == summary.issues


def test_timelines_follow_the_lifecycle_and_end_in_the_issue_state(district):
    engine, _ = district
    with Session(engine) as session:
        issues = {i.id: i for i in session.execute(select(Issue)).scalars()}
        entries = defaultdict(list)
        for entry in session.execute(select(TimelineEntry).order_by(TimelineEntry.created_at, TimelineEntry.id)).scalars():
            entries[entry.issue_id].append(entry)
        ratings = Counter(session.execute(select(Rating.issue_id)).scalars())
        agenda = defaultdict(list)
        for item in session.execute(select(AgendaItem).where(AgendaItem.issue_id.is_not(None))).scalars():
            agenda[item.issue_id].append(item)
        planned = {m.id for m in session.execute(select(Meeting).where(Meeting.status == MeetingStatus.PLANNED)).scalars()}
    for issue_id, issue in issues.items():
        timeline = entries[issue_id]
        assert timeline[0].kind == "created" and timeline[0].to_state == IssueState.REPORTED
        assert timeline[0].created_at == issue.reported_at
        state, went_to_meeting, reopened, rated = IssueState.REPORTED, False, 0, 0
        for entry in timeline[1:]:
            if entry.kind == "rating":
                assert state == IssueState.RESIDENT_REVIEW
                rated += 1
                continue
            if entry.kind != "transition":
                continue
            assert entry.from_state == state and IssueState(entry.to_state) in ALLOWED[state], (issue_id, entry)
            reopened += state == IssueState.RESIDENT_REVIEW and entry.to_state == IssueState.IN_ACTION
            state = IssueState(entry.to_state)
            went_to_meeting |= state == IssueState.MEETING
        assert state == issue.state
        assert issue.went_to_meeting == went_to_meeting and issue.reopen_count == reopened
        assert ratings[issue_id] == rated and (issue.rating is not None) == (rated > 0)
        assert (issue.first_response_at is not None) == (len(timeline) > 1)
        resolved = state in RESOLVED_STATES
        assert (issue.resolved_at is not None) == resolved == (issue.days_to_resolve is not None)
        if resolved:
            assert issue.resolved_in_grid == (not went_to_meeting)
            assert issue.resolved_on_time == (issue.resolved_at.date() <= issue.due_date)
        assert (issue.closed_at is not None) == (state in (IssueState.CLOSED, IssueState.CLOSED_UNRATED,
                                                            IssueState.REJECTED))
        assert (issue.reject_reason is not None) == (state == IssueState.REJECTED)
        if issue.duplicate_of_id is not None:
            assert issue.duplicate_of_id < issue_id and issues[issue.duplicate_of_id].grid_id == issue.grid_id
        if state == IssueState.IN_ACTION and not reopened:
            assert issue.lead_org_id is not None
        # Every issue sent to a meeting is on an agenda; one still waiting only on the planned one's.
        assert bool(agenda[issue_id]) == went_to_meeting
        if state == IssueState.MEETING:
            undecided = [item for item in agenda[issue_id] if item.decision is None]
            assert len(undecided) == 1 and undecided[0].meeting_id in planned


def test_figures_read_back_through_the_core_queries(district):
    """The bulk insert stores times as the ORM does: SQL period filters agree with Python."""
    engine, _ = district
    start, end = date(2026, 1, 1), date(2026, 6, 30)
    with Session(engine) as session:
        issues = session.execute(select(Issue)).scalars().all()
        headline = issue_headline(session=session, start=start, end=end)
    low, high = datetime(2026, 1, 1), datetime(2026, 7, 1)
    assert headline.reported == sum(1 for i in issues if low <= i.reported_at < high)
    assert headline.resolved == sum(1 for i in issues if i.resolved_at and low <= i.resolved_at < high)
    assert headline.open_issues == sum(1 for i in issues if i.state not in ("closed", "closed_unrated", "rejected"))


def test_the_same_day_gives_the_same_rows(district, tmp_path):
    engine, summary = district
    again = get_engine(f"sqlite:///{tmp_path}/again.db")
    second = seed_district(engine=again, today=TODAY, communities=COMMUNITIES)
    assert second.as_dict() | {"seconds": 0} == summary.as_dict() | {"seconds": 0}
    with engine.connect() as first_connection, again.connect() as second_connection:
        assert checksum_rows(first_connection) == checksum_rows(second_connection)


def test_refuses_a_database_that_holds_data(district):
    engine, _ = district
    with pytest.raises(DatabaseNotEmptyError):
        seed_district(engine=engine, today=TODAY, communities=1)


def test_cli_seeds_the_district_and_resets_it(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/cli.db"
    init_db(get_engine(url))
    args = ["--database-url", url, "seed", "--scale", "district", "--communities", "1", "--today", "2026-11-01"]
    assert cli.main(args) == cli.EXIT_OK
    assert "a district of 1 communities" in capsys.readouterr().out
    assert cli.main(args) == cli.EXIT_FAILED
    assert "--scale district --reset" in capsys.readouterr().err
    assert cli.main([*args, "--reset"]) == cli.EXIT_OK
    with Session(get_engine(url)) as session:
        assert len(session.execute(select(Issue.id)).all()) == ISSUES_PER_COMMUNITY
