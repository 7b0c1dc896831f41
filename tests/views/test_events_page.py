"""The events page through AppTest: the headline cards show what event_headline computes, the
lists and forms work on the demo community and on an empty database, in both languages."""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from components.filters import period_bounds
from components.kpi import format_number, format_percent
from gongzhi.clock import today
from gongzhi.db import get_engine, write_session
from gongzhi.i18n import translate
from gongzhi.models import Area, Attendance, Event, Organisation, Person
from gongzhi.queries.events import event_headline, list_events, people_options

PAGE = "views/events.py"
LANGUAGES = ["en", "zh-CN"]


def default_period():
    return period_bounds("period_12m", on=today())


def direct_headline(url: str, grid_id: int | None = None):
    period = default_period()
    with Session(get_engine(url)) as session:
        return event_headline(session=session, start=period.start, end=period.end, grid_id=grid_id)


def expected_cards(lang: str, headline) -> dict[str, str]:
    return {
        translate(lang, "events.kpi_events"): format_number(headline.events),
        translate(lang, "events.kpi_participants"): format_number(headline.participants),
        translate(lang, "events.kpi_rate"): format_percent(headline.participation_rate, digits=1),
        translate(lang, "events.kpi_named"): format_number(headline.named_attendance),
        translate(lang, "events.kpi_headcount"): format_number(headline.headcount),
    }


def cards(app) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def count(url: str, model) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def errors(app) -> str:
    return "\n".join(str(element.value) for element in app.error)


@pytest.fixture
def community_url(db_url) -> str:
    """A small community with figures known by hand: grids of 100 and 40 residents; one event
    ten days ago in grid A with 3 named residents (two of A, one of B) and 5 anonymous; one
    event in grid B 20 days ago with one of those residents again and 2 anonymous; one event
    next week; one event 400 days ago (outside the default 12 months)."""
    with write_session(get_engine(db_url)) as session:
        grid_a = Area(code="GA", name="东区网格", level="grid", population=100)
        grid_b = Area(code="GB", name="西区网格", level="grid", population=40)
        session.add_all([grid_a, grid_b, Organisation(name="文体队", kind="culture_sports_team")])
        session.flush()
        people = [Person(name=name, phone=f"+8613800000{index:03d}", grid_id=grid)
                  for index, (name, grid) in enumerate([("王芳", grid_a.id), ("李强", grid_a.id), ("陈静", grid_b.id),
                                                        ("赵敏", grid_b.id)])]
        session.add_all(people)
        session.flush()

        def event(title, days_ago, grid, headcount, attendees, capacity=None):
            starts = datetime.combine(today() - timedelta(days=days_ago), time(9, 0))
            row = Event(title=title, kind="culture_sports", grid_id=grid, starts_at=starts,
                        ends_at=starts + timedelta(hours=2), headcount=headcount, capacity=capacity)
            session.add(row)
            session.flush()
            session.add_all([Attendance(event_id=row.id, person_id=person.id) for person in attendees])

        event("广场舞", 10, grid_a.id, 5, people[:3], capacity=30)
        event("读书会", 20, grid_b.id, 2, people[2:3])
        event("义诊", -7, None, 0, [])
        event("旧活动", 400, grid_a.id, 50, people)
    return db_url


@pytest.mark.parametrize("lang", LANGUAGES)
def test_cards_match_a_hand_count(open_page, community_url, lang):
    app = open_page(community_url, PAGE, lang=lang)
    assert not app.exception, [e.value for e in app.exception]
    # Counted by hand from the fixture: 2 events; 王芳 李强 陈静 took part (陈静 twice, counted
    # once) of 140 residents; 4 named attendances; 5 + 2 anonymous.
    assert cards(app) == {
        translate(lang, "events.kpi_events"): "2",
        translate(lang, "events.kpi_participants"): "3",
        translate(lang, "events.kpi_rate"): format_percent(3 / 140, digits=1),
        translate(lang, "events.kpi_named"): "4",
        translate(lang, "events.kpi_headcount"): "7",
    }
    assert cards(app) == expected_cards(lang, direct_headline(community_url))
    upcoming, past = app.dataframe[0].value, app.dataframe[1].value
    assert list(upcoming[translate(lang, "events.field_title")]) == ["义诊"]
    assert list(past[translate(lang, "events.field_title")]) == ["广场舞", "读书会"]
    assert list(past[translate(lang, "events.col_total")]) == [8, 3]
    assert list(upcoming[translate(lang, "common.grid")]) == [translate(lang, "common.whole_community")]


def test_grid_filter_changes_the_cards(open_page, community_url):
    app = open_page(community_url, PAGE)
    with Session(get_engine(community_url)) as session:
        grid_b = session.execute(select(Area.id).where(Area.code == "GB")).scalar_one()
    app.selectbox(key="_grid_widget").select(grid_b).run()
    assert not app.exception
    # Grid B: its one event (读书会) with 1 named + 2 anonymous; residents of B who took part
    # anywhere: 陈静 only, of 40.
    assert cards(app) == {"Events": "1", "Participants": "1", "Participation rate": "2.5%",
                          "Named attendance": "1", "Anonymous headcount": "2"}
    assert cards(app) == expected_cards("en", direct_headline(community_url, grid_b))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_demo_cards_equal_event_headline(open_page, demo_url, lang):
    app = open_page(demo_url, PAGE, lang=lang)
    assert not app.exception, [e.value for e in app.exception]
    headline = direct_headline(demo_url)
    assert headline.events > 0 and headline.participants > 0  # the demo has something to show
    assert cards(app) == expected_cards(lang, headline)
    period = default_period()
    with Session(get_engine(demo_url)) as session:
        past = list_events(session=session, start=period.start, end=period.end, upcoming=False)
        upcoming = list_events(session=session, upcoming=True)
    shown = {frame.shape[0] for frame in (element.value for element in app.dataframe)}
    assert {len(past), len(upcoming)} - {0} <= shown
    assert len(app.get("vega_lite_chart")) == 3  # participation by grid; events and attendance per month


@pytest.mark.parametrize("lang", LANGUAGES)
def test_empty_database_shows_the_empty_state_and_can_create(open_page, db_url, lang):
    app = open_page(db_url, PAGE, lang=lang)
    assert not app.exception, [e.value for e in app.exception]
    assert translate(lang, "common.empty_database") in [info.value for info in app.info]
    assert not app.metric
    app.text_input(key="event_new_title").input("第一次活动")
    app.button(key="event_new_submit").click().run()
    assert not app.exception
    assert count(db_url, Event) == 1
    assert translate(lang, "events.created", title="第一次活动") in [s.value for s in app.success]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_create_form_saves(open_page, demo_url, lang):
    app = open_page(demo_url, PAGE, lang=lang)
    before = count(demo_url, Event)
    day = today() + timedelta(days=5)
    app.text_input(key="event_new_title").input("社区读书会")
    app.selectbox(key="event_new_kind").select("child_care")
    app.date_input(key="event_new_start_date").set_value(day)
    app.time_input(key="event_new_start_time").set_value(time(14, 0))
    app.date_input(key="event_new_end_date").set_value(day)
    app.time_input(key="event_new_end_time").set_value(time(16, 30))
    app.text_input(key="event_new_place").input("图书室")
    app.number_input(key="event_new_capacity").set_value(25)
    app.button(key="event_new_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, errors(app)
    assert count(demo_url, Event) == before + 1
    with Session(get_engine(demo_url)) as session:
        saved = session.execute(select(Event).where(Event.title == "社区读书会")).scalar_one()
    assert (saved.kind, saved.place, saved.capacity, saved.headcount, saved.grid_id) == ("child_care", "图书室", 25, 0, None)
    assert (saved.starts_at, saved.ends_at) == (datetime.combine(day, time(14)), datetime.combine(day, time(16, 30)))
    assert translate(lang, "events.created", title="社区读书会") in [s.value for s in app.success]
    assert app.text_input(key="event_new_title").value == ""  # a fresh form for the next event
    upcoming_titles = list(app.dataframe[0].value[translate(lang, "events.field_title")])
    assert "社区读书会" in upcoming_titles


@pytest.mark.parametrize("lang", LANGUAGES)
def test_create_form_refuses_and_names_the_fields(open_page, demo_url, lang):
    app = open_page(demo_url, PAGE, lang=lang)
    before = count(demo_url, Event)
    day = today() + timedelta(days=5)
    app.text_input(key="event_new_title").input("   ")
    app.date_input(key="event_new_start_date").set_value(day)
    app.date_input(key="event_new_end_date").set_value(day - timedelta(days=1))
    app.button(key="event_new_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    shown = errors(app)
    for field, reason in (("events.field_title", "errors.required"), ("events.field_ends_at", "errors.end_before_start")):
        assert translate(lang, "errors.field_message", field=translate(lang, field),
                         reason=translate(lang, reason)) in shown, shown
    assert count(demo_url, Event) == before
    assert app.date_input(key="event_new_end_date").value == day - timedelta(days=1)  # input kept for correction


def _past_event_with_room(url: str, people: int) -> int:
    period = default_period()
    with Session(get_engine(url)) as session:
        past = list_events(session=session, start=period.start, end=period.end, upcoming=False)
    roomy = past[past["capacity"].isna() | (past["capacity"] >= people + 20)]
    return int(roomy.iloc[0]["id"])


def test_attendance_form_saves_named_and_headcount(open_page, demo_url):
    app = open_page(demo_url, PAGE)
    event_id = _past_event_with_room(demo_url, 3)
    app.selectbox(key="event_attendance_event").select(event_id).run()
    with Session(get_engine(demo_url)) as session:
        chosen = [int(person_id) for person_id in people_options(session=session, limit=3, may_see_personal_data=True)["id"]]
    app.multiselect(key=f"event_attendance_{event_id}_people").set_value(chosen)
    app.number_input(key=f"event_attendance_{event_id}_headcount").set_value(12)
    app.button(key=f"event_attendance_{event_id}_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, errors(app)
    with Session(get_engine(demo_url)) as session:
        named = set(session.execute(select(Attendance.person_id).where(Attendance.event_id == event_id)).scalars())
        headcount = session.get(Event, event_id).headcount
    assert (named, headcount) == (set(chosen), 12)
    assert translate("en", "events.attendance_saved", named=3, headcount=12) in [s.value for s in app.success]
    assert cards(app) == expected_cards("en", direct_headline(demo_url))  # the cards follow the save


def test_edit_form_saves_and_refuses_a_stale_copy(open_page, demo_url):
    app = open_page(demo_url, PAGE)
    event_id = _past_event_with_room(demo_url, 0)
    app.selectbox(key="event_edit_event").select(event_id).run()
    prefix = f"event_edit_{event_id}"
    app.text_input(key=f"{prefix}_place").input("新活动中心")
    app.button(key=f"{prefix}_submit").click().run()
    assert not app.error, errors(app)
    with Session(get_engine(demo_url)) as session:
        event = session.get(Event, event_id)
        assert event.place == "新活动中心"
        version = event.version

    # Someone else saves the same event while this form is open: this save must be refused.
    app.text_input(key=f"{prefix}_place").input("礼堂")
    with write_session(get_engine(demo_url)) as session:
        session.get(Event, event_id).title = "别人改的名称"
    app.button(key=f"{prefix}_submit").click().run()
    assert f"system changed this record (event #{event_id}) at " in errors(app)  # who and when, from the trail
    with Session(get_engine(demo_url)) as session:
        event = session.get(Event, event_id)
        assert (event.place, event.title, event.version) == ("新活动中心", "别人改的名称", version + 1)
