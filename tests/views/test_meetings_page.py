"""The meetings page in the real app (AppTest): the chosen meeting's agenda table shows every
decision and vote count as stored (read here with a separate query), on a small hand-built
community and on the demo; the plan-meeting form saves valid input and refuses an empty title
with a message naming the field; agenda items are added and removed through the forms; the page
renders on an empty database in both languages."""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi import i18n
from gongzhi.clock import today
from gongzhi.db import get_engine, write_session
from gongzhi.models import AgendaItem, Area, Issue, Meeting, Organisation
from gongzhi.queries.common import twelve_months_start

PAGE = "views/meetings.py"


@pytest.fixture
def small_url(db_url):
    """A held meeting 20 days ago with three decided items, a planned one in 10 days with one
    undecided item, and two issues waiting for a meeting (one already on the planned agenda)."""
    day = today()
    with write_session(get_engine(db_url)) as session:
        grid = Area(code="G1", name="一网格", level="grid", population=100)
        org = Organisation(name="桃源居物业", kind="property_manager")
        session.add_all([grid, org])
        session.flush()
        issues = {title: Issue(title=title, category="parking", grid_id=grid.id, state=state,
                               reported_at=datetime.combine(day - timedelta(days=40), time(9)),
                               due_date=day + timedelta(days=30))
                  for title, state in (("停车难", "in_action"), ("加装电梯", "meeting"), ("围墙改造", "rejected"),
                                       ("充电桩", "meeting"))}
        session.add_all(issues.values())
        held = Meeting(title="上月议事会", kind="deliberation", held_at=datetime.combine(day - timedelta(days=20), time(19)),
                       status="held", quorum=5, quorum_met=True, attendees="王主任\n李网格长\n张代表",
                       minutes="议定停车方案。")
        planned = Meeting(title="下次议事会", kind="joint", held_at=datetime.combine(day + timedelta(days=10), time(19)))
        session.add_all([held, planned])
        session.flush()
        session.add_all([
            AgendaItem(meeting_id=held.id, position=1, issue_id=issues["停车难"].id, decision="approve", votes_for=7,
                       votes_against=1, votes_abstain=2, lead_org_id=org.id, due_date=day + timedelta(days=30)),
            AgendaItem(meeting_id=held.id, position=2, issue_id=issues["加装电梯"].id, decision="defer", votes_for=3,
                       votes_against=4, votes_abstain=3),
            AgendaItem(meeting_id=held.id, position=3, issue_id=issues["围墙改造"].id, decision="reject", votes_for=0,
                       votes_against=9, votes_abstain=1),
            AgendaItem(meeting_id=planned.id, position=1, issue_id=issues["加装电梯"].id),
        ])
    return db_url


def _count(url, model) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def _meeting_id(url, title) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(Meeting.id).where(Meeting.title == title)).scalar_one()


def _stored_agenda(url, meeting_id) -> list[tuple]:
    """(decision, for, against, abstain) of the meeting's items in order, straight from the table."""
    with Session(get_engine(url)) as session:
        return [tuple(row) for row in session.execute(
            select(AgendaItem.decision, AgendaItem.votes_for, AgendaItem.votes_against, AgendaItem.votes_abstain)
            .outerjoin(Issue, Issue.id == AgendaItem.issue_id)
            .where(AgendaItem.meeting_id == meeting_id, Issue.deleted_at.is_(None))
            .order_by(AgendaItem.position, AgendaItem.id)).all()]


def _agenda_table(app, lang):
    votes_for = i18n.translate(lang, "meetings.col_votes_for")
    return next(frame.value for frame in app.dataframe if votes_for in frame.value.columns)


def _check_agenda(app, url, meeting_id, lang):
    app.selectbox(key="meetings_selected").select(meeting_id).run()
    assert not app.exception, [e.value for e in app.exception]
    table = _agenda_table(app, lang)

    def column(key):
        return list(table[i18n.translate(lang, f"meetings.col_{key}")])

    stored = _stored_agenda(url, meeting_id)
    assert len(table) == len(stored)
    assert column("decision") == [i18n.translate(lang, f"decision.{d}") if d else
                                  i18n.translate(lang, "meetings.undecided") for d, *_ in stored]
    assert column("votes_for") == [row[1] for row in stored]
    assert column("votes_against") == [row[2] for row in stored]
    assert column("votes_abstain") == [row[3] for row in stored]
    return table


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_agenda_shows_decisions_and_votes(open_page, small_url, lang):
    app = open_page(small_url, PAGE, lang=lang)
    held = _meeting_id(small_url, "上月议事会")
    table = _check_agenda(app, small_url, held, lang)
    # and against the fixture itself
    assert list(table[i18n.translate(lang, "meetings.col_votes_against")]) == [1, 4, 9]
    assert list(table[i18n.translate(lang, "meetings.col_lead_org")])[0] == "桃源居物业"
    assert list(table[i18n.translate(lang, "meetings.col_issue_state")]) == [
        i18n.translate(lang, f"state.{s}") for s in ("in_action", "meeting", "rejected")]
    texts = [element.value for element in app.text]
    assert "王主任\n李网格长\n张代表" in texts and "议定停车方案。" in texts
    shown = {metric.label: metric.value for metric in app.metric}
    assert shown[i18n.translate(lang, "meetings.kpi_decided")] == "3"
    assert shown[i18n.translate(lang, "meetings.kpi_attendees")] == "3"


def test_agenda_of_the_demo_meeting_with_most_decisions(open_page, demo_url):
    with Session(get_engine(demo_url)) as session:
        since = twelve_months_start(today())  # the page's default period (29 February included)
        busiest = session.execute(
            select(Meeting.id).join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
            .where(Meeting.deleted_at.is_(None), Meeting.status == "held", AgendaItem.decision.is_not(None),
                   Meeting.held_at >= datetime.combine(since, time.min))
            .group_by(Meeting.id).order_by(func.count(AgendaItem.id).desc(), Meeting.id).limit(1)
        ).scalar_one_or_none()
    if busiest is None:
        pytest.skip("the demo holds no decided meeting in the last 12 months")
    app = open_page(demo_url, PAGE, lang="zh-CN")
    _check_agenda(app, demo_url, busiest, "zh-CN")


def test_plan_meeting_form_saves(open_page, small_url):
    app = open_page(small_url, PAGE)
    before = _count(small_url, Meeting)
    app.text_input(key="meeting_new_title").input("社区公约修订会")
    app.selectbox(key="meeting_new_kind").select("residents_congress")
    app.date_input(key="meeting_new_date").set_value(today() + timedelta(days=14))
    app.text_input(key="meeting_new_place").input("社区活动中心")
    app.number_input(key="meeting_new_quorum").set_value(30)
    app.button(key="meeting_new_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert _count(small_url, Meeting) == before + 1
    with Session(get_engine(small_url)) as session:
        saved = session.execute(select(Meeting).where(Meeting.title == "社区公约修订会")).scalar_one()
        assert (saved.kind, saved.place, saved.quorum, saved.status) == ("residents_congress", "社区活动中心", 30, "planned")
        assert saved.held_at == datetime.combine(today() + timedelta(days=14), time(19))
    assert i18n.translate("en", "meetings.planned_saved", title="社区公约修订会") in [s.value for s in app.success]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_plan_meeting_form_refuses_an_empty_title(open_page, small_url, lang):
    app = open_page(small_url, PAGE, lang=lang)
    before = _count(small_url, Meeting)
    app.text_input(key="meeting_new_place").input("社区活动中心")
    app.button(key="meeting_new_submit").click().run()
    assert not app.exception
    errors = " ".join(e.value for e in app.error)
    assert i18n.translate(lang, "meetings.field_title") in errors
    assert i18n.translate(lang, "errors.required") in errors
    assert _count(small_url, Meeting) == before


def test_add_and_remove_agenda_items(open_page, small_url):
    planned = _meeting_id(small_url, "下次议事会")
    app = open_page(small_url, PAGE)
    app.selectbox(key="meetings_selected").select(planned).run()
    # only the waiting issue not yet on this agenda is offered
    offered = app.selectbox(key="agenda_add_issue").options
    assert offered == ["(no issue)", "#4 充电桩"]
    app.selectbox(key="agenda_add_issue").select(4)
    app.button(key="agenda_add_submit").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    with Session(get_engine(small_url)) as session:
        items = session.execute(select(AgendaItem.position, AgendaItem.issue_id)
                                .where(AgendaItem.meeting_id == planned).order_by(AgendaItem.position)).all()
    assert [tuple(i) for i in items] == [(1, 2), (2, 4)]

    app = open_page(small_url, PAGE)
    app.selectbox(key="meetings_selected").select(planned).run()
    # neither an issue nor a topic: refused, nothing saved
    app.selectbox(key="agenda_add_issue").select(None)
    app.text_input(key="agenda_add_topic").input("")
    app.button(key="agenda_add_submit").click().run()
    assert i18n.translate("en", "meetings.error_issue_or_topic") in " ".join(e.value for e in app.error)
    assert _count(small_url, AgendaItem) == 5

    first = next(iter(app.selectbox(key="agenda_remove_item").options))
    assert first == "1. #2 加装电梯"
    app.button(key="agenda_remove_submit").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    with Session(get_engine(small_url)) as session:
        items = session.execute(select(AgendaItem.position, AgendaItem.issue_id)
                                .where(AgendaItem.meeting_id == planned)).all()
    assert [tuple(i) for i in items] == [(1, 4)]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_empty_database(open_page, db_url, lang):
    app = open_page(db_url, PAGE, lang=lang)
    assert not app.exception
    infos = [info.value for info in app.info]
    assert i18n.translate(lang, "meetings.none_planned") in infos
    assert i18n.translate(lang, "meetings.none_chosen") in infos
    assert app.text_input(key="meeting_new_title") is not None


def test_read_only_roles_see_no_forms(open_page, small_url):
    app = open_page(small_url, PAGE, role="representative")
    assert not app.exception
    keys = {widget.key for widget in [*app.text_input, *app.button]}
    assert not keys & {"meeting_new_title", "meeting_new_submit", "agenda_add_submit"}
    assert len(_agenda_table(app, "en")) == 1  # the planned meeting's agenda is still shown
