"""The volunteers page in the real app (AppTest): it renders on the demo, on a small hand-built
community and on an empty database in both languages; its headline cards show what the core's
volunteer_headline computes; the roster shows star levels and translated skills; and each form
saves valid input and refuses invalid input with a message naming the field, database unchanged."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from components.filters import period_bounds
from components.kpi import format_number
from gongzhi import i18n
from gongzhi.clock import today
from gongzhi.db import get_engine, write_session
from gongzhi.models import Area, Event, Organisation, Person, ServiceRecord, TeamMembership, Volunteer
from gongzhi.queries.volunteers import hours_by_star_level, volunteer_headline

PAGE = "views/volunteers.py"


@pytest.fixture
def small_url(db_url):
    """Two grids, a team, a past event and three volunteers with known hours (620 h = 3★, 120 h = 1★, none)."""
    day = today()
    with write_session(get_engine(db_url)) as session:
        community = Area(code="C1", name="桃源居社区", level="community")
        session.add(community)
        session.flush()
        grid_a = Area(code="G1", name="一网格", level="grid", parent_id=community.id)
        grid_b = Area(code="G2", name="二网格", level="grid", parent_id=community.id)
        team = Organisation(name="红马甲志愿服务队", kind="volunteer_team")
        session.add_all([grid_a, grid_b, team])
        session.flush()
        session.add(Event(title="社区义诊", kind="health", grid_id=grid_a.id,
                          starts_at=datetime.combine(day - timedelta(days=3), datetime.min.time()) + timedelta(hours=9),
                          ends_at=datetime.combine(day - timedelta(days=3), datetime.min.time()) + timedelta(hours=11)))
        people = [("王芳", "+8613800000001", grid_a, "first_aid,elderly_care", "active",
                   [(day - timedelta(days=400), 600.0), (day - timedelta(days=10), 20.0)]),
                  ("李明", "+8613800000002", grid_b, "repairs", "active", [(day - timedelta(days=40), 120.0)]),
                  ("张强", "+8613800000003", grid_b, "", "paused", [])]
        for name, phone, grid, skills, status, records in people:
            person = Person(name=name, phone=phone, grid_id=grid.id)
            session.add(person)
            session.flush()
            volunteer = Volunteer(person_id=person.id, grid_id=grid.id, skills=skills, status=status,
                                  joined_on=day - timedelta(days=500))
            session.add(volunteer)
            session.flush()
            session.add_all(ServiceRecord(volunteer_id=volunteer.id, served_on=served_on, hours=hours)
                            for served_on, hours in records)
            if name == "王芳":
                session.add(TeamMembership(volunteer_id=volunteer.id, organisation_id=team.id))
    return db_url


def _count(url, model) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def _grid_id(url, code) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(Area.id).where(Area.code == code)).scalar_one()


def _errors(app) -> str:
    return " ".join(str(element.value) for element in app.error)


def _metrics(app) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def _expected_cards(url, lang) -> dict[str, str]:
    """The four cards computed straight from the core for the default period (last 12 months)."""
    period = period_bounds("period_12m", on=today())
    with Session(get_engine(url)) as session:
        headline = volunteer_headline(session=session, start=period.start, end=period.end)
        levels = hours_by_star_level(session=session)
    three_or_more = sum(int(count) for stars, count in zip(levels["stars"], levels["volunteers"], strict=True)
                        if stars >= 3)
    t = lambda key: i18n.translate(lang, key)  # noqa: E731
    return {t("volunteers.kpi_active"): format_number(headline.active_volunteers),
            t("volunteers.kpi_served"): format_number(headline.volunteers_served),
            t("volunteers.kpi_hours"): format_number(headline.service_hours, digits=1),
            t("volunteers.kpi_three_stars"): format_number(three_or_more)}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_cards_on_the_small_community_match_hand_counted_values(open_page, small_url, lang):
    app = open_page(small_url, PAGE, lang=lang)
    assert not app.exception, [e.value for e in app.exception]
    assert _metrics(app) == _expected_cards(small_url, lang)
    t = lambda key: i18n.translate(lang, key)  # noqa: E731
    # By hand: two active; 王芳 (20 h) and 李明 (120 h) served in the last 12 months; one volunteer 3★+.
    assert _metrics(app) == {t("volunteers.kpi_active"): "2", t("volunteers.kpi_served"): "2",
                             t("volunteers.kpi_hours"): "140.0", t("volunteers.kpi_three_stars"): "1"}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_cards_on_the_demo_match_the_core(open_page, demo_url, lang):
    app = open_page(demo_url, PAGE, lang=lang)
    assert not app.exception, [e.value for e in app.exception]
    assert _metrics(app) == _expected_cards(demo_url, lang)
    assert len(app.dataframe) >= 1


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_an_empty_database_shows_the_empty_state(open_page, db_url, lang):
    app = open_page(db_url, PAGE, lang=lang)
    assert not app.exception, [e.value for e in app.exception]
    assert [info.value for info in app.info] == [i18n.translate(lang, "common.empty_database")]
    assert not app.metric


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_roster_shows_stars_translated_skills_and_phones(open_page, small_url, lang):
    app = open_page(small_url, PAGE, lang=lang)
    t = lambda key: i18n.translate(lang, key)  # noqa: E731
    roster = next(frame.value for frame in app.dataframe if t("volunteers.col_stars") in frame.value.columns)
    rows = roster.set_index(t("volunteers.col_name"))
    assert list(rows.index) == ["王芳", "李明", "张强"]  # most hours first
    assert list(rows[t("volunteers.col_stars")]) == ["★★★", "★", "—"]
    assert list(rows[t("volunteers.col_total_hours")]) == [620.0, 120.0, 0.0]
    separator = "、" if lang == "zh-CN" else ", "
    assert rows.loc["王芳", t("volunteers.col_skills")] == separator.join(
        [i18n.label(lang, "skill", "first_aid"), i18n.label(lang, "skill", "elderly_care")])
    assert rows.loc["王芳", t("volunteers.col_teams")] == "红马甲志愿服务队"
    assert rows.loc["张强", t("volunteers.col_status")] == i18n.label(lang, "volunteer_status", "paused")
    # The committee secretary may see phone numbers.
    assert rows.loc["李明", t("volunteers.col_phone")] == "13800000002"


def test_roster_filters_narrow_the_table(open_page, small_url):
    app = open_page(small_url, PAGE)
    app.selectbox(key="volunteer_filter_skill").select("repairs").run()
    roster = next(frame.value for frame in app.dataframe if "Stars" in frame.value.columns)
    assert list(roster["Name"]) == ["李明"]
    app.selectbox(key="volunteer_filter_skill").select(None)
    app.text_input(key="volunteer_filter_search").input("张").run()
    roster = next(frame.value for frame in app.dataframe if "Stars" in frame.value.columns)
    assert list(roster["Name"]) == ["张强"]
    app.text_input(key="volunteer_filter_search").input("nobody").run()
    assert "No data for this selection." in [info.value for info in app.info]


def test_add_volunteer_saves_with_a_normalised_phone(open_page, small_url):
    app = open_page(small_url, PAGE)
    before = _count(small_url, Volunteer)
    app.text_input(key="volunteer_new_name").input("陈静")
    app.text_input(key="volunteer_new_phone").input("139 1234-5678")
    app.selectbox(key="volunteer_new_grid").select(_grid_id(small_url, "G2"))
    app.multiselect(key="volunteer_new_skills").select("tutoring")
    app.button(key="volunteer_new_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, _errors(app)
    assert _count(small_url, Volunteer) == before + 1
    with Session(get_engine(small_url)) as session:
        person, volunteer = session.execute(
            select(Person, Volunteer).join(Volunteer, Volunteer.person_id == Person.id).where(Person.name == "陈静")
        ).one()
    assert (person.phone, volunteer.grid_id, volunteer.skills) == ("+8613912345678", _grid_id(small_url, "G2"),
                                                                   "tutoring")
    assert [s.value for s in app.success] == ["Volunteer 陈静 added."]


@pytest.mark.parametrize(("name", "phone", "field"), [
    ("陈静", "12345", "Phone"),
    ("", "13912345678", "Name"),
])
def test_add_volunteer_refuses_invalid_input(open_page, small_url, name, phone, field):
    app = open_page(small_url, PAGE)
    before = _count(small_url, Person)
    app.text_input(key="volunteer_new_name").input(name)
    app.text_input(key="volunteer_new_phone").input(phone)
    app.selectbox(key="volunteer_new_grid").select(_grid_id(small_url, "G1"))
    app.button(key="volunteer_new_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert f"{field}:" in _errors(app)
    assert _count(small_url, Person) == before


def test_add_volunteer_error_is_in_chinese_for_a_chinese_user(open_page, small_url):
    app = open_page(small_url, PAGE, lang="zh-CN")
    app.text_input(key="volunteer_new_name").input("陈静")
    app.text_input(key="volunteer_new_phone").input("12345")
    app.button(key="volunteer_new_submit").click().run()
    errors = _errors(app)
    assert "电话：" in errors and "网格：" in errors


def test_log_hours_saves_for_the_chosen_volunteer(open_page, small_url):
    app = open_page(small_url, PAGE)
    before = _count(small_url, ServiceRecord)
    with Session(get_engine(small_url)) as session:
        li_ming = session.execute(select(Volunteer.id).join(Person, Person.id == Volunteer.person_id)
                                  .where(Person.name == "李明")).scalar_one()
    app.selectbox(key="volunteer_selected").select(li_ming).run()
    app.number_input(key="volunteer_log_hours").set_value(3.5)
    event_box = app.selectbox(key="volunteer_log_event")
    app.selectbox(key="volunteer_log_event").select_index(1)  # the one past event
    assert event_box.options[1].endswith("社区义诊")
    app.button(key="volunteer_log_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, _errors(app)
    assert _count(small_url, ServiceRecord) == before + 1
    with Session(get_engine(small_url)) as session:
        record, name = session.execute(
            select(ServiceRecord, Person.name).join(Volunteer, Volunteer.id == ServiceRecord.volunteer_id)
            .join(Person, Person.id == Volunteer.person_id).order_by(ServiceRecord.id.desc()).limit(1)).one()
    assert (name, record.hours, record.served_on, record.event_id is not None) == ("李明", 3.5, today(), True)


def test_log_hours_refuses_negative_hours(open_page, small_url):
    app = open_page(small_url, PAGE)
    before = _count(small_url, ServiceRecord)
    app.number_input(key="volunteer_log_hours").set_value(-2.0)
    app.button(key="volunteer_log_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert "Hours: must be more than 0 and at most 24 hours" in _errors(app)
    assert _count(small_url, ServiceRecord) == before


def test_edit_form_is_prefilled_and_saves(open_page, small_url):
    app = open_page(small_url, PAGE)
    volunteer_id = app.selectbox(key="volunteer_selected").value  # the first: 王芳
    prefix = f"volunteer_edit_{volunteer_id}_"
    assert app.text_input(key=prefix + "name").value == "王芳"
    assert app.text_input(key=prefix + "phone").value == "13800000001"
    assert app.multiselect(key=prefix + "skills").value == ["first_aid", "elderly_care"]
    app.text_input(key=prefix + "name").input("王芳华")
    app.selectbox(key=prefix + "status").select("paused")
    app.button(key="volunteer_edit_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, _errors(app)
    with Session(get_engine(small_url)) as session:
        volunteer = session.get(Volunteer, volunteer_id)
        assert (session.get(Person, volunteer.person_id).name, volunteer.status, volunteer.version) == (
            "王芳华", "paused", 2)
    # The form shows the saved values after the rerun.
    assert app.text_input(key=prefix + "name").value == "王芳华"


def test_edit_over_someone_elses_change_is_refused(open_page, small_url):
    app = open_page(small_url, PAGE)
    volunteer_id = app.selectbox(key="volunteer_selected").value
    prefix = f"volunteer_edit_{volunteer_id}_"
    # Someone else saves a change while this form is open.
    with write_session(get_engine(small_url)) as session:
        session.get(Volunteer, volunteer_id).note = "changed elsewhere"
    app.text_input(key=prefix + "name").input("王小芳")
    app.button(key="volunteer_edit_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert f"system changed this record (volunteer #{volunteer_id}) at " in _errors(app)  # who and when
    with Session(get_engine(small_url)) as session:
        volunteer = session.get(Volunteer, volunteer_id)
        assert (session.get(Person, volunteer.person_id).name, volunteer.note) == ("王芳", "changed elsewhere")


def test_a_long_roster_is_shown_a_page_at_a_time_and_the_picker_offers_that_page(open_page, small_url):
    """53 more volunteers (56 in all, by hours): the table shows 50, the next page the other 6;
    the picker offers the volunteers of the page shown; a name search finds one on any page."""
    with write_session(get_engine(small_url)) as session:
        grid_id = session.execute(select(Area.id).where(Area.code == "G1")).scalar_one()
        for number in range(53):
            person = Person(name=f"志愿者{number:02d}", grid_id=grid_id)
            session.add(person)
            session.flush()
            session.add(Volunteer(person_id=person.id, grid_id=grid_id, skills="", status="active",
                                  joined_on=today()))
    with Session(get_engine(small_url)) as session:
        everyone = session.execute(select(Person.name).join(Volunteer, Volunteer.person_id == Person.id)).scalars()
        expected = sorted(everyone)

    def roster(app):
        return next(frame.value for frame in app.dataframe if "Stars" in frame.value.columns)

    app = open_page(small_url, PAGE)
    first = roster(app)
    assert len(first) == 50
    assert list(first["Name"][:3]) == ["王芳", "李明", "张强"]  # most hours first, then by name
    assert len(app.selectbox(key="volunteer_selected").options) == 50
    assert any("Page 1 of 2" in markdown.value for markdown in app.markdown)
    app.button(key="pager_volunteer_roster_pages_next").click().run()
    second = roster(app)
    assert len(second) == 6
    assert sorted([*first["Name"], *second["Name"]]) == expected
    assert len(app.selectbox(key="volunteer_selected").options) == 6
    app.text_input(key="volunteer_filter_search").input("志愿者42").run()  # back to the first page of the matches
    assert list(roster(app)["Name"]) == ["志愿者42"]
    picker = app.selectbox(key="volunteer_selected")
    assert picker.options == [f"志愿者42 · 一网格 (#{picker.value})"]
