"""components.forms.save under what browsers and databases do to it: a double-clicked submit
creates one record; a busy database is waited out by retrying the transaction; a read-only or
full database is reported and nothing is called "saved"."""

import threading
from datetime import time, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlmodel import Session

from gongzhi import db
from gongzhi.clock import today
from gongzhi.db import get_engine
from gongzhi.i18n import translate
from gongzhi.models import Event, Issue

ISSUES = "views/issues.py"
EVENTS = "views/events.py"
TITLE = "单元门禁坏了"


def count_titled(url: str, model, title: str) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(func.count()).select_from(model).where(model.title == title)).scalar_one()


def fill_new_issue(app, title: str = TITLE) -> None:
    app.text_input(key="issue_new_title").input(title)
    app.selectbox(key="issue_new_category").select("repairs")
    app.selectbox(key="issue_new_grid").select_index(0)
    app.text_area(key="issue_new_description").input("3栋2单元门禁刷卡无反应")


def successes(app) -> list[str]:
    return [element.value for element in app.success]


def errors(app) -> list[str]:
    return [element.value for element in app.error]


# --- double submit ---------------------------------------------------------------------------

def test_a_double_clicked_new_issue_is_saved_once(open_page, demo_url):
    app = open_page(demo_url, ISSUES)
    for _click in range(2):
        # The second click's run carries the same submitted values as the first (a browser sends
        # the form's inputs with each click), whatever the first run drew afterwards.
        fill_new_issue(app)
        app.form_submit_button(key="issue_new_submit").click().run()
        assert count_titled(demo_url, Issue, TITLE) == 1
    assert not app.exception and not errors(app), errors(app)
    assert successes(app) == [translate("en", "issues.reported_ok")]  # the earlier success, again


def test_a_different_submission_from_the_same_form_is_saved(open_page, demo_url):
    app = open_page(demo_url, ISSUES)
    fill_new_issue(app)
    app.form_submit_button(key="issue_new_submit").click().run()
    fill_new_issue(app, title="楼道灯不亮")
    app.form_submit_button(key="issue_new_submit").click().run()
    assert not errors(app), errors(app)
    assert (count_titled(demo_url, Issue, TITLE), count_titled(demo_url, Issue, "楼道灯不亮")) == (1, 1)


def test_a_double_clicked_new_event_is_saved_once_although_the_form_was_cleared(open_page, demo_url):
    """The create-event form empties itself after a save; the second click still carries the
    values the person submitted and must not create a second event."""
    app = open_page(demo_url, EVENTS)
    day = today() + timedelta(days=5)
    for click in range(2):
        app.text_input(key="event_new_title").input("社区读书会")
        app.date_input(key="event_new_start_date").set_value(day)
        app.time_input(key="event_new_start_time").set_value(time(14, 0))
        app.date_input(key="event_new_end_date").set_value(day)
        app.time_input(key="event_new_end_time").set_value(time(16, 0))
        app.button(key="event_new_submit").click().run()
        if click == 0:
            assert app.text_input(key="event_new_title").value == ""  # the form was emptied
    assert not app.exception and not errors(app), errors(app)
    assert count_titled(demo_url, Event, "社区读书会") == 1
    assert successes(app) == [translate("en", "events.created", title="社区读书会")]


# --- busy, read-only and full databases ------------------------------------------------------

@pytest.fixture
def short_busy_timeout(monkeypatch):
    """The database's own wait for a lock is 10 s; at 100 ms a lock held for half a second outlasts
    it, so only forms.save's retry can get the save through."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(db, "POSTGRES_LOCK_TIMEOUT", "100ms")


def hold_write_lock(url: str, seconds: float | None) -> tuple[threading.Event, threading.Thread]:
    """Another connection holding the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the data
    revision table, whose rows every write bumps) for `seconds`, or until the returned event is set.
    Returns once the lock is held."""
    taken, release = threading.Event(), threading.Event()

    def run():
        if url.startswith("sqlite"):
            import sqlite3

            connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
            connection.execute("BEGIN IMMEDIATE")
        else:
            import psycopg
            from sqlalchemy.engine import make_url

            connection = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
            # Every save bumps revision rows (gongzhi.revisions): no one may while the table is locked.
            connection.execute("LOCK TABLE datarevision IN EXCLUSIVE MODE")
        taken.set()
        release.wait(seconds)
        connection.rollback()
        connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    taken.wait(5)
    return release, thread


def test_a_save_waits_out_a_briefly_locked_database(open_page, demo_url, short_busy_timeout):
    app = open_page(demo_url, ISSUES)
    fill_new_issue(app)
    _release, holder = hold_write_lock(demo_url, seconds=0.5)
    try:
        app.form_submit_button(key="issue_new_submit").click().run()
    finally:
        holder.join()
    assert not errors(app), errors(app)
    assert count_titled(demo_url, Issue, TITLE) == 1
    assert successes(app) == [translate("en", "issues.reported_ok")]


def test_a_database_locked_for_longer_than_every_retry_is_reported(open_page, demo_url, short_busy_timeout):
    app = open_page(demo_url, ISSUES)
    fill_new_issue(app)
    release, holder = hold_write_lock(demo_url, seconds=None)
    try:
        app.form_submit_button(key="issue_new_submit").click().run()
    finally:
        release.set()
        holder.join()
    # Said as "busy, try again", apart from a database that cannot be written at all.
    assert errors(app) == [translate("en", "errors.database_busy")]
    assert translate("en", "errors.database_busy") != translate("en", "errors.database_unavailable")
    assert successes(app) == []
    assert count_titled(demo_url, Issue, TITLE) == 0


def make_read_only(url: str) -> None:
    """Every new connection of the app's engine is read-only. Tests run as root, where a chmod 0444
    file is still writable, so SQLite is asked for read-only instead; PostgreSQL as a standby
    server would be."""
    engine = get_engine(url)
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record):
        if engine.dialect.name == "sqlite":
            dbapi_connection.execute("PRAGMA query_only=ON")
        else:
            dbapi_connection.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()


def make_full(url: str) -> None:
    """No page can be added to the file: SQLite reports "database or disk is full"."""
    engine = get_engine(url)
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _full(dbapi_connection, _record):
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")


@pytest.mark.parametrize("break_database", [
    make_read_only, pytest.param(make_full, marks=pytest.mark.sqlite_only("a full file via max_page_count")),
], ids=["read_only", "full"])
def test_a_database_that_cannot_be_written_is_reported_and_nothing_is_called_saved(
        open_page, demo_url, break_database):
    app = open_page(demo_url, ISSUES)
    break_database(demo_url)
    fill_new_issue(app)
    app.text_area(key="issue_new_description").input("门禁" * 1000)  # needs new pages in a full file
    app.form_submit_button(key="issue_new_submit").click().run()
    assert not app.exception
    assert errors(app) == [translate("en", "errors.database_unavailable")]
    assert successes(app) == []
    assert count_titled(demo_url, Issue, TITLE) == 0
