"""What every rerun does before the page: language choice and the unrated-review sweep."""

import threading
from datetime import timedelta
from time import monotonic

import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi import sweeper
from gongzhi.clock import now
from gongzhi.db import get_engine, write_session
from gongzhi.domain import IssueState
from gongzhi.models import Issue


def _until(condition, what: str, timeout: float = 60) -> None:
    """Wait for `condition()` to hold (the sweep runs in another thread); fail naming `what`."""
    done = threading.Event()
    deadline = monotonic() + timeout
    while not condition():
        if monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        done.wait(0.05)


def test_issues_unrated_for_fourteen_days_are_closed_while_the_app_runs_without_blocking_a_page(
        open_page, demo_url, monkeypatch):
    """The sweep runs in the app's background thread: the page renders while it is still busy
    (here: held until the page is done), and it closes the expired review but not the fresh one."""
    engine = get_engine(demo_url)
    with write_session(engine) as session:
        waiting = session.execute(select(Issue).where(Issue.state == IssueState.RESIDENT_REVIEW)).scalars().all()
        assert len(waiting) >= 2
        expired, fresh = waiting[0], waiting[1]
        expired.resolved_at = now() - timedelta(days=15)
        fresh.resolved_at = now() - timedelta(days=13)
        expired_id, fresh_id = expired.id, fresh.id

    page_done, sweep_started = threading.Event(), threading.Event()
    real_close = sweeper.close_expired_reviews

    def held_close(**kwargs):
        sweep_started.set()
        assert page_done.wait(120), "the page never finished while the sweep was held"
        return real_close(**kwargs)

    monkeypatch.setattr(sweeper, "close_expired_reviews", held_close)
    try:
        app = open_page(demo_url, "views/overview.py")
        assert not app.exception
        assert app.title[0].value == "Overview"
        page_done.set()  # the page rendered while the sweep was held (or had not even started)
        _until(sweep_started.is_set, "the sweep")

        def state(issue_id):
            with Session(engine) as session:
                return session.get(Issue, issue_id).state

        _until(lambda: state(expired_id) == IssueState.CLOSED_UNRATED, "closing the expired review")
        assert state(fresh_id) == IssueState.RESIDENT_REVIEW
    finally:
        page_done.set()
        sweeper.stop_hourly_sweep(demo_url)


def test_language_follows_the_url_then_the_switch(open_page, demo_url, monkeypatch):
    app = open_page(demo_url, None, lang="zh-CN")
    assert app.title[0].value == "总览"
    app.sidebar.selectbox(key="_lang_widget").select("en").run()
    assert app.title[0].value == "Overview"


def test_a_run_that_does_not_know_the_browsers_language_decides_nothing(demo_url, monkeypatch):
    """AppTest sends no browser context, like a run Streamlit merged from two requests on a busy
    server: the page uses the default language for that run and leaves the session's language to
    the next run that knows it (it used to keep the default for the whole session: an English
    browser turned Chinese midway). ?lang= decides at once."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import PROJECT_ROOT

    monkeypatch.chdir(PROJECT_ROOT)
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.setenv("GONGZHI_DEMO", "0")
    monkeypatch.setenv("GONGZHI_PUBLIC_ACCESS", "1")
    unknown = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60).run()
    assert not unknown.exception and "lang" not in unknown.session_state
    asked = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    asked.query_params["lang"] = "en"
    asked.run()
    assert asked.session_state["lang"] == "en" and asked.title[0].value == "Overview"
    asked.sidebar.selectbox(key="_lang_widget").select("zh-CN").run()
    assert asked.session_state["lang"] == "zh-CN" and asked.title[0].value == "总览"
