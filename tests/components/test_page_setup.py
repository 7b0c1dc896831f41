"""What every rerun does before the page: language choice and the unrated-review sweep."""

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from gongzhi.clock import now
from gongzhi.db import get_engine, write_session
from gongzhi.domain import IssueState
from gongzhi.models import Issue


def test_issues_unrated_for_fourteen_days_are_closed_when_the_app_runs(open_page, demo_url):
    engine = get_engine(demo_url)
    with write_session(engine) as session:
        waiting = session.execute(select(Issue).where(Issue.state == IssueState.RESIDENT_REVIEW)).scalars().all()
        assert len(waiting) >= 2
        expired, fresh = waiting[0], waiting[1]
        expired.resolved_at = now() - timedelta(days=15)
        fresh.resolved_at = now() - timedelta(days=13)
        expired_id, fresh_id = expired.id, fresh.id
    app = open_page(demo_url, "views/overview.py")
    assert not app.exception
    with Session(engine) as session:
        assert session.get(Issue, expired_id).state == IssueState.CLOSED_UNRATED
        assert session.get(Issue, fresh_id).state == IssueState.RESIDENT_REVIEW


def test_language_follows_the_url_then_the_switch(open_page, demo_url, monkeypatch):
    app = open_page(demo_url, None, lang="zh-CN")
    assert app.title[0].value == "总览"
    app.sidebar.selectbox(key="lang").select("en").run()
    assert app.title[0].value == "Overview"
