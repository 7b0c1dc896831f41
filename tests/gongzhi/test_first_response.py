"""The first-response service level, counted in SQL, against an independent computation in
Python over the rows (the timeline's first move out of reported or first progress note, and
the categories' response days from the domain's table), at a fixed clock; on a hand-built
community with the edge cases, and on the whole demo."""

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from sqlmodel import Session

from gongzhi import lifecycle
from gongzhi.clock import frozen, now, today
from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.db import get_engine, write_session
from gongzhi.domain import ISSUE_CATEGORIES, AreaLevel
from gongzhi.models import Area, Issue
from gongzhi.permissions import Actor, Role
from gongzhi.queries.service_levels import first_response_by_category, first_response_headline
from tests.conftest import Sql

SECRETARY = Actor(name="王秘书", role=Role.COMMITTEE)
NOW = datetime(2026, 3, 20, 10, 0)
START, END = date(2026, 3, 1), date(2026, 3, 20)


def expected(url: str, start: date, end: date, on: date, grid_id: int | None = None) -> dict[str, tuple]:
    """Per category: (responded in the period, of those on time, waiting late), from plain SQL
    rows and the domain's table."""
    sql = Sql(url)
    issues = sql.execute("SELECT id, category, reported_at, grid_id, deleted_at FROM issue").fetchall()
    first: dict[int, datetime] = {}
    for issue_id, created_at in sql.execute(
            "SELECT issue_id, created_at FROM timelineentry WHERE (kind = 'transition' AND from_state = 'reported')"
            " OR kind = 'progress'").fetchall():
        created_at = _datetime(created_at)
        first[issue_id] = min(first.get(issue_id, created_at), created_at)
    counts = {code: [0, 0, 0] for code in ISSUE_CATEGORIES}
    for issue_id, category, reported_at, grid, deleted_at in issues:
        if deleted_at is not None or (grid_id is not None and grid != grid_id):
            continue
        due = _datetime(reported_at).date() + timedelta(days=ISSUE_CATEGORIES[category][0])
        response = first.get(issue_id)
        if response is None:
            counts[category][2] += due < on
        elif start <= response.date() <= end:
            counts[category][0] += 1
            counts[category][1] += response.date() <= due
    return {code: tuple(values) for code, values in counts.items()}


def _datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _observed(session: Session, **kwargs) -> dict[str, tuple]:
    frame = first_response_by_category(session=session, **kwargs)
    return {r.category: (r.responded, r.on_time, r.waiting_late) for r in frame.itertuples()}


@pytest.fixture
def community(db_url):
    return build_community(db_url)


def build_community(db_url: str) -> tuple[str, int]:
    """Issues reported and answered at chosen moments (see the comments), in two grids; the
    database's URL and the first grid's id."""
    engine = get_engine(db_url)
    with write_session(engine) as session:
        grids = [Area(code=f"G{n}", name=f"第{n}网格", level=AreaLevel.GRID, centroid_lat=22.5, centroid_lon=113.9)
                 for n in (1, 2)]
        session.add_all(grids)
        session.flush()
        grid, other = grids[0].id, grids[1].id

    def issue(category: str, reported: datetime, answered: datetime | None = None, *, in_grid: int = grid) -> int:
        with frozen(reported), write_session(engine) as session:
            issue_id = create_issue(session=session, actor=SECRETARY,
                                    data=IssueCreate(title="测试事项", category=category, grid_id=in_grid)).id
        if answered is not None:
            with frozen(answered), write_session(engine) as session:
                lifecycle.move(session=session, issue_id=issue_id, to_state="grid_review", actor=SECRETARY)
        return issue_id

    issue("noise", datetime(2026, 3, 2, 9), datetime(2026, 3, 4, 20))  # 2 days: on the due day, on time
    issue("noise", datetime(2026, 3, 2, 9), datetime(2026, 3, 5, 8))  # a day late
    issue("ev_charging", datetime(2026, 2, 25, 9), datetime(2026, 3, 1, 0, 0))  # late, answered on the first day
    issue("ev_charging", datetime(2026, 2, 20, 9), datetime(2026, 2, 28, 23, 59))  # answered before the period
    issue("sanitation", datetime(2026, 3, 10, 9))  # 1 day, still waiting: late
    issue("other", datetime(2026, 3, 18, 9))  # 3 days, still waiting, due 03-21: not late yet
    issue("repairs", datetime(2026, 1, 5, 9))  # waiting since January: late (whenever reported)
    issue("repairs", datetime(2026, 3, 19, 9), datetime(2026, 3, 20, 9))  # on time
    issue("parking", datetime(2026, 3, 3, 9), datetime(2026, 3, 3, 10), in_grid=other)  # other grid, on time
    issue("parking", datetime(2026, 3, 1, 9), in_grid=other)  # other grid, late
    deleted = issue("security", datetime(2026, 3, 1, 9))  # deleted: not counted
    with write_session(engine) as session:
        session.get(Issue, deleted).deleted_at = NOW
    return db_url, grid


def test_first_response_per_category_matches_an_independent_count(community):
    url, grid = community
    with frozen(NOW), Session(get_engine(url)) as session:
        observed = _observed(session, start=START, end=END)
        in_grid = _observed(session, start=START, end=END, grid_id=grid)
        headline = first_response_headline(session=session, start=START, end=END)
    assert observed == expected(url, START, END, NOW.date())
    assert in_grid == expected(url, START, END, NOW.date(), grid_id=grid)
    # and by hand, so that the independent count is checked too
    assert observed["noise"] == (2, 1, 0)
    assert observed["ev_charging"] == (1, 0, 0)
    assert observed["sanitation"] == (0, 0, 1) and observed["repairs"] == (1, 1, 1)
    assert observed["other"] == (0, 0, 0) and observed["security"] == (0, 0, 0)
    assert observed["parking"] == (1, 1, 1) and in_grid["parking"] == (0, 0, 0)
    assert (headline.responded, headline.on_time, headline.waiting_late) == (5, 3, 3)
    assert headline.on_time_share == pytest.approx(3 / 8)


def test_the_share_per_category_and_an_empty_period(community):
    url, _ = community
    with frozen(NOW), Session(get_engine(url)) as session:
        frame = first_response_by_category(session=session, start=START, end=END).set_index("category")
        assert list(frame.index) == list(ISSUE_CATEGORIES)
        assert frame.loc["noise", "on_time_share"] == pytest.approx(0.5)
        assert frame.loc["noise", "response_days"] == ISSUE_CATEGORIES["noise"][0]
        assert frame.loc["sanitation", "on_time_share"] == 0
        assert pd.isna(frame.loc["other", "on_time_share"])  # nothing to count
        before = first_response_headline(session=session, start=date(2025, 1, 1), end=date(2025, 1, 31))
    # nothing answered then, but the late ones waiting today still count against it
    assert (before.responded, before.waiting_late, before.on_time_share) == (0, 3, 0)


def test_first_response_on_the_demo_matches_an_independent_count(demo_url):
    with frozen(now().replace(microsecond=0)):
        start, end = today() - timedelta(days=365), today()
        with Session(get_engine(demo_url)) as session:
            observed = _observed(session, start=start, end=end)
        assert observed == expected(demo_url, start, end, today())
    assert sum(v[0] for v in observed.values()) > 100
