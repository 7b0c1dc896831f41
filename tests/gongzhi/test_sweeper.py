"""The hourly sweep of unrated reviews: one thread per process and database, which keeps going
after a failed sweep; `sweep_once` closes exactly the issues past their rating window."""

import threading
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from gongzhi import lifecycle, sweeper
from gongzhi.clock import frozen
from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.domain import AreaLevel, IssueState
from gongzhi.models import Area, Issue
from gongzhi.permissions import Actor, Role

SECRETARY = Actor(name="王秘书", role=Role.COMMITTEE)
START = datetime(2026, 3, 2, 9, 0)


def _issue_in_review(write) -> int:
    with write() as session:
        grid = Area(code="G1", name="第一网格", level=AreaLevel.GRID, centroid_lat=22.5, centroid_lon=113.9)
        session.add(grid)
        session.flush()
        issue = create_issue(session=session, actor=SECRETARY,
                             data=IssueCreate(title="路灯不亮", category="repairs", grid_id=grid.id))
        lifecycle.move(session=session, issue_id=issue.id, to_state="grid_review", actor=SECRETARY)
        lifecycle.move(session=session, issue_id=issue.id, to_state="resident_review", actor=SECRETARY)
        return issue.id


def test_sweep_once_closes_only_after_the_rating_window(db_url, write, engine):
    with frozen(START):
        issue_id = _issue_in_review(write)
    with frozen(START + timedelta(days=14)):
        assert sweeper.sweep_once(db_url) == 0
    with frozen(START + timedelta(days=14, minutes=1)):
        assert sweeper.sweep_once(db_url) == 1
        assert sweeper.sweep_once(db_url) == 0
    with Session(engine) as session:
        assert session.get(Issue, issue_id).state == IssueState.CLOSED_UNRATED


def test_one_thread_per_database_that_outlives_a_failed_sweep(db_url, monkeypatch):
    calls: list[int] = []
    second = threading.Event()

    def flaky(url: str) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        second.set()
        return 0

    monkeypatch.setattr(sweeper, "sweep_once", flaky)
    try:
        thread = sweeper.start_hourly_sweep(db_url, interval=timedelta(milliseconds=10))
        assert sweeper.start_hourly_sweep(db_url) is thread  # started once per process and database
        assert second.wait(60), "the sweep thread stopped after a failed sweep"
        assert thread.is_alive() and thread.daemon
    finally:
        sweeper.stop_hourly_sweep(db_url)
    assert not thread.is_alive()


@pytest.mark.parametrize("role", [Role.LEADER, Role.REPRESENTATIVE, Role.PUBLIC])
def test_only_the_system_or_committee_sweeps(write, role):
    from gongzhi.errors import PermissionDenied

    actor = Actor(name="某人", role=role, grid_ids=frozenset({1}))
    with pytest.raises(PermissionDenied), write() as session:
        lifecycle.close_expired_reviews(session=session, actor=actor)
