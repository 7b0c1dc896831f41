"""The issues page as people use it: the headline cards show exactly what issue_headline
computes, the list and the forms work, each form saves valid input and refuses invalid input
with a message naming the field while the database stays unchanged, and a save made against an
issue someone else changed meanwhile is refused."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from components.filters import period_bounds
from components.kpi import format_number, format_percent
from gongzhi import i18n, lifecycle
from gongzhi.clock import today
from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.domain import AreaLevel
from gongzhi.models import Area, Issue, Organisation, Person, Rating, TimelineEntry
from gongzhi.permissions import Actor, Role
from gongzhi.queries.issues import issue_headline, list_issues
from tests.conftest import TEST_DISPLAY_NAMES

PAGE = "views/issues.py"
SECRETARY = Actor(name="王秘书", role=Role.COMMITTEE)
# title -> the steps that bring it to its state
STORY = {
    "楼道噪音": [],
    "小区停车难": ["grid_review"],
    "充电桩安全隐患": ["grid_review", "in_action"],
    "电梯维修": ["grid_review", "in_action", "resident_review"],
    "垃圾分类": ["grid_review", "in_action", "resident_review", "closed"],
    "重复反映停车": ["grid_review", "rejected"],
}


def build_community(url: str) -> dict:
    """Two grids, two organisations, a resident and one issue in each step of the loop (one of
    them overdue); returns the ids by name."""
    with write_session(get_engine(url)) as session:
        community = Area(code="C1", name="桃源居社区", level=AreaLevel.COMMUNITY)
        session.add(community)
        session.flush()
        grid_one = Area(code="C1-G1", name="第一网格", level=AreaLevel.GRID, parent_id=community.id, population=800)
        grid_two = Area(code="C1-G2", name="第二网格", level=AreaLevel.GRID, parent_id=community.id, population=600)
        lead, helper = Organisation(name="物业公司", kind="property_manager"), Organisation(name="社工站", kind="social_work_agency")
        session.add_all([grid_one, grid_two, lead, helper])
        session.flush()
        resident = Person(name="张阿姨", grid_id=grid_one.id)
        session.add(resident)
        session.flush()
        ids = {"G1": grid_one.id, "G2": grid_two.id, "lead": lead.id, "helper": helper.id}
        for n, (title, steps) in enumerate(STORY.items()):
            issue = create_issue(session=session, actor=SECRETARY, data=IssueCreate(
                title=title, category="parking" if "停车" in title else "repairs",
                grid_id=grid_two.id if n % 3 == 2 else grid_one.id, reporter_id=resident.id if n == 0 else None))
            for step in steps:
                if step == "closed":
                    lifecycle.rate(session=session, issue_id=issue.id, rating=5, fix_status="fixed", actor=SECRETARY)
                else:
                    lifecycle.move(session=session, issue_id=issue.id, to_state=step, actor=SECRETARY, lead_org_id=lead.id,
                                   reject_reason="withdrawn")
            ids[title] = issue.id
        session.flush()
        session.execute(update(Issue).where(Issue.id == ids["小区停车难"]).values(due_date=today() - timedelta(days=3)))
    return ids


@pytest.fixture
def community(db_url) -> tuple[str, dict]:
    return db_url, build_community(db_url)


def count(url: str, model) -> int:
    with read_session(get_engine(url)) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def fetch(url: str, issue_id: int) -> Issue:
    with Session(get_engine(url)) as session:
        return session.get(Issue, issue_id)


def metric_values(app) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def expected_cards(lang: str, url: str, grid_id: int | None = None) -> dict[str, str]:
    period = period_bounds("period_12m", on=today())  # the page's default period
    with read_session(get_engine(url)) as session:
        headline = issue_headline(session=session, start=period.start, end=period.end, grid_id=grid_id)
    t = lambda key: i18n.translate(lang, key)  # noqa: E731
    return {
        t("issues.kpi_open"): str(headline.open_issues),
        t("issues.kpi_overdue"): str(headline.overdue),
        t("issues.kpi_median_days"): format_number(headline.median_days_to_resolve, digits=1),
        t("issues.kpi_resolved_in_grid"): format_percent(headline.share_resolved_in_grid),
        t("issues.kpi_on_time"): format_percent(headline.on_time_share),
        t("issues.kpi_satisfaction"): format_percent(headline.share_satisfied),
    }


def table(app, column: str):
    """The table (as a DataFrame) that has this column; tables without a selection carry no key."""
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)


def errors(app) -> str:
    return " ".join(str(e.value) for e in app.error)


def open_issue(app, issue_id: int):
    app.selectbox(key="issue_selected").select(issue_id).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


# --- rendering and figures -------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_demo_shows_the_headline_of_issue_headline(open_page, demo_url, lang):
    app = open_page(demo_url, PAGE, lang=lang)
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == i18n.translate(lang, "nav.issues")
    shown = metric_values(app)
    for label, value in expected_cards(lang, demo_url).items():
        assert shown[label] == value, label
    assert app.dataframe(key="issue_table").value.shape[0] > 0


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_empty_database_shows_the_empty_state(open_page, db_url, lang):
    app = open_page(db_url, PAGE, lang=lang)
    assert not app.exception
    assert [i.value for i in app.info] == [i18n.translate(lang, "common.empty_database")]
    assert not app.metric and not app.dataframe


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_headline_cards_equal_issue_headline(open_page, community, lang):
    url, ids = community
    app = open_page(url, PAGE, lang=lang)
    assert not app.exception
    shown = metric_values(app)
    expected = expected_cards(lang, url)
    assert {label: shown[label] for label in expected} == expected
    # hand check of the same: 4 open (all but closed and rejected), 1 overdue, 2 resolved (review + closed)
    assert (shown[i18n.translate(lang, "issues.kpi_open")], shown[i18n.translate(lang, "issues.kpi_overdue")]) == ("4", "1")
    assert shown[i18n.translate(lang, "issues.kpi_resolved_in_grid")] == "100%"
    assert shown[i18n.translate(lang, "issues.kpi_satisfaction")] == "100%"
    app.selectbox(key="_grid_widget").select(ids["G2"]).run()
    shown = metric_values(app)
    expected = expected_cards(lang, url, grid_id=ids["G2"])
    assert {label: shown[label] for label in expected} == expected
    assert shown[i18n.translate(lang, "issues.kpi_open")] == "1"  # 充电桩安全隐患 (in action)


def test_the_list_shows_translated_states_and_filters(open_page, community):
    url, ids = community
    app = open_page(url, PAGE, lang="zh-CN")
    table = app.dataframe(key="issue_table").value
    with read_session(get_engine(url)) as session:
        titles_by_state = {title: fetch(url, ids[title]).state for title in STORY}
        assert len(list_issues(session=session)) == len(STORY)
    assert len(table) == len(STORY)
    shown = dict(zip(table["事项"], table["环节"], strict=True))
    assert shown == {title: i18n.translate("zh-CN", f"state.{state}") for title, state in titles_by_state.items()}
    assert dict(zip(table["事项"], table["提出人"], strict=True))["楼道噪音"] == "张阿姨"

    app.multiselect(key="issue_filter_states").select("in_action").select("resident_review").run()
    assert set(app.dataframe(key="issue_table").value["事项"]) == {"充电桩安全隐患", "电梯维修"}
    app.multiselect(key="issue_filter_states").set_value([]).run()
    app.checkbox(key="issue_filter_overdue").check().run()
    assert app.dataframe(key="issue_table").value["事项"].tolist() == ["小区停车难"]
    app.selectbox(key="issue_filter_category").select("noise").run()
    assert [i.value for i in app.info] == [i18n.translate("zh-CN", "common.no_data")]


def test_detail_shows_the_timeline(open_page, community):
    url, ids = community
    app = open_issue(open_page(url, PAGE), ids["电梯维修"])
    timeline = table(app, "By")
    assert timeline["Step"].tolist() == ["Reported", "Reported → Grid review", "Grid review → In action",
                                         "In action → Resident review"]
    assert set(timeline["By"]) == {"王秘书"} and set(timeline["Role"]) == {"Committee"}
    assert metric_values(app)["Step"] == "Resident review"


def test_a_representative_sees_no_reporter_and_only_rates(open_page, community):
    url, ids = community
    app = open_issue(open_page(url, PAGE, role="representative"), ids["楼道噪音"])
    assert "Reported by" not in app.dataframe(key="issue_table").value.columns
    assert "张阿姨" not in table(app, "Item")["Value"].tolist()
    assert not app.form_submit_button
    assert i18n.translate("en", "issues.read_only") in [c.value for c in app.caption]
    # representatives do rate results (群众评事): for an issue in resident review, that form only
    open_issue(app, ids["电梯维修"])
    assert [b.key for b in app.form_submit_button] == ["issue_rating_submit"]
    app.radio(key="issue_rating_value").set_value(3)
    app.radio(key="issue_rating_fix").set_value("partly_fixed")
    app.form_submit_button(key="issue_rating_submit").click().run()
    assert not app.error, errors(app)
    assert fetch(url, ids["电梯维修"]).state == "closed"


# --- new issue -------------------------------------------------------------------------------

def test_new_issue_form_saves_the_issue_and_its_timeline(open_page, community):
    url, ids = community
    before = count(url, Issue)
    app = open_page(url, PAGE)
    app.text_input(key="issue_new_title").input("  单元门禁坏了  ")
    app.selectbox(key="issue_new_category").select("repairs")
    app.selectbox(key="issue_new_grid").select(ids["G2"])
    app.text_area(key="issue_new_description").input("3栋2单元")
    app.form_submit_button(key="issue_new_submit").click().run()
    assert not app.exception and not app.error, errors(app)
    assert count(url, Issue) == before + 1
    with Session(get_engine(url)) as session:
        issue = session.execute(select(Issue).where(Issue.title == "单元门禁坏了")).scalar_one()
        assert (issue.category, issue.grid_id, issue.description, issue.state) == ("repairs", ids["G2"], "3栋2单元", "reported")
        entries = session.execute(select(TimelineEntry.kind, TimelineEntry.to_state, TimelineEntry.actor)
                                  .where(TimelineEntry.issue_id == issue.id)).all()
        assert [tuple(e) for e in entries] == [("created", "reported", TEST_DISPLAY_NAMES["committee"])]
    assert [s.value for s in app.success] == [i18n.translate("en", "issues.reported_ok")]
    assert issue.id in app.dataframe(key="issue_table").value["No."].tolist()
    assert app.selectbox(key="issue_selected").value == issue.id  # the new issue is opened


@pytest.mark.parametrize(("lang", "title", "description", "field", "reason"), [
    ("en", "", "", "Title", "is required"),
    ("zh-CN", "", "", "事项标题", "必填"),
    ("en", "门禁", "联系人身份证110101199003074518", "Description", "must not contain a national ID number"),
])
def test_new_issue_form_refuses_invalid_input(open_page, community, lang, title, description, field, reason):
    url, ids = community
    before = (count(url, Issue), count(url, TimelineEntry))
    app = open_page(url, PAGE, lang=lang)
    app.text_input(key="issue_new_title").input(title)
    app.selectbox(key="issue_new_category").select("repairs")
    app.selectbox(key="issue_new_grid").select(ids["G1"])
    app.text_area(key="issue_new_description").input(description)
    app.form_submit_button(key="issue_new_submit").click().run()
    assert not app.exception
    assert f"{field}" in errors(app) and reason in errors(app)
    assert (count(url, Issue), count(url, TimelineEntry)) == before


def test_new_issue_form_needs_a_category(open_page, community):
    url, _ = community
    before = count(url, Issue)
    app = open_page(url, PAGE)
    app.text_input(key="issue_new_title").input("门禁坏了")
    app.form_submit_button(key="issue_new_submit").click().run()
    assert "Category: is required" in errors(app)
    assert count(url, Issue) == before


# --- moves -----------------------------------------------------------------------------------

@pytest.mark.parametrize("title", list(STORY))
def test_the_move_form_offers_only_the_allowed_moves(open_page, community, title):
    url, ids = community
    app = open_issue(open_page(url, PAGE), ids[title])
    state = fetch(url, ids[title]).state
    allowed = [i18n.translate("en", f"state.{s}") for s in lifecycle.allowed_moves(state)]
    targets = [w for w in app.selectbox if w.key == "issue_move_target"]
    if allowed:
        assert targets[0].options == allowed
    else:
        assert not targets
        assert "issue_move_submit" not in [b.key for b in app.form_submit_button]


def test_a_move_to_in_action_saves_lead_and_due_date(open_page, community):
    url, ids = community
    issue_id = ids["小区停车难"]
    before = count(url, TimelineEntry)
    app = open_issue(open_page(url, PAGE), issue_id)
    app.selectbox(key="issue_move_target").select("in_action").run()
    due = today() + timedelta(days=10)
    app.selectbox(key="issue_move_lead").select(ids["helper"])
    app.date_input(key="issue_move_due").set_value(due)
    app.text_area(key="issue_move_note").input("交物业处理")
    app.form_submit_button(key="issue_move_submit").click().run()
    assert not app.exception and not app.error, errors(app)
    issue = fetch(url, issue_id)
    assert (issue.state, issue.lead_org_id, issue.due_date) == ("in_action", ids["helper"], due)
    assert count(url, TimelineEntry) == before + 1
    assert [s.value for s in app.success] == ['The issue moved to "In action".']
    # now in action: the assignment and progress forms are offered
    assert {"issue_assign_submit", "issue_progress_submit"} <= {b.key for b in app.form_submit_button}


def test_a_move_without_what_it_needs_is_refused(open_page, community):
    url, ids = community
    issue_id = ids["小区停车难"]
    app = open_issue(open_page(url, PAGE), issue_id)
    before = (fetch(url, issue_id).version, count(url, TimelineEntry))
    app.selectbox(key="issue_move_target").select("rejected").run()
    app.selectbox(key="issue_move_reason").select("duplicate")
    app.number_input(key="issue_move_duplicate").set_value(9999)
    app.form_submit_button(key="issue_move_submit").click().run()
    assert "Duplicate of issue no.: does not name an existing issue" in errors(app)
    assert (fetch(url, issue_id).version, count(url, TimelineEntry)) == before
    app.selectbox(key="issue_move_target").select("in_action").run()
    app.form_submit_button(key="issue_move_submit").click().run()
    assert "Lead organisation: is required" in errors(app)
    assert (fetch(url, issue_id).version, count(url, TimelineEntry)) == before


def test_a_move_against_a_changed_issue_is_a_conflict(open_page, community):
    url, ids = community
    issue_id = ids["楼道噪音"]
    app = open_issue(open_page(url, PAGE), issue_id)
    with write_session(get_engine(url)) as session:  # someone else moves it meanwhile
        lifecycle.move(session=session, issue_id=issue_id, to_state="grid_review", actor=SECRETARY, note="别人先处理了")
    before = (fetch(url, issue_id).version, count(url, TimelineEntry))
    app.form_submit_button(key="issue_move_submit").click().run()
    assert f"system changed this record (issue #{issue_id}) at " in errors(app)  # who and when, from the trail
    assert (fetch(url, issue_id).version, count(url, TimelineEntry)) == before
    assert fetch(url, issue_id).state == "grid_review"
    # the page now shows the new state, and a second try against it works
    assert metric_values(app)["Step"] == "Grid review"
    app.selectbox(key="issue_move_target").select("meeting").run()
    app.form_submit_button(key="issue_move_submit").click().run()
    assert not app.error, errors(app)
    assert fetch(url, issue_id).state == "meeting"


# --- in action: assignment and progress --------------------------------------------------------

def test_assign_and_progress_forms(open_page, community):
    url, ids = community
    issue_id = ids["充电桩安全隐患"]
    app = open_issue(open_page(url, PAGE), issue_id)
    due = today() + timedelta(days=15)
    app.selectbox(key="issue_assign_lead").select(ids["helper"])
    app.date_input(key="issue_assign_due").set_value(due)
    app.multiselect(key="issue_assign_cooperators").set_value([ids["lead"]])
    app.form_submit_button(key="issue_assign_submit").click().run()
    assert not app.error, errors(app)
    issue = fetch(url, issue_id)
    assert (issue.lead_org_id, issue.due_date) == (ids["helper"], due)
    facts = table(app, "Item").set_index("Item")["Value"]
    assert facts["Co-operating organisations"] == "物业公司"

    app.text_area(key="issue_progress_note").input("已更换充电线路")
    app.form_submit_button(key="issue_progress_submit").click().run()
    assert not app.error, errors(app)
    assert table(app, "By")["Note"].tolist()[-1] == "已更换充电线路"


def test_assign_and_progress_forms_refuse_invalid_input(open_page, community):
    url, ids = community
    issue_id = ids["充电桩安全隐患"]
    app = open_issue(open_page(url, PAGE), issue_id)
    before = (fetch(url, issue_id).version, count(url, TimelineEntry))
    app.multiselect(key="issue_assign_cooperators").set_value([ids["lead"]])  # the lead itself
    app.form_submit_button(key="issue_assign_submit").click().run()
    assert "Co-operating organisations: must not include the lead organisation" in errors(app)
    app.text_area(key="issue_progress_note").input("   ")
    app.form_submit_button(key="issue_progress_submit").click().run()
    assert "Note: is required" in errors(app)
    assert (fetch(url, issue_id).version, count(url, TimelineEntry)) == before


# --- rating ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("stars", "fix_status", "state"), [(4, "fixed", "closed"), (2, "partly_fixed", "in_action")])
def test_the_rating_form_closes_or_reopens(open_page, community, stars, fix_status, state):
    url, ids = community
    issue_id = ids["电梯维修"]
    app = open_issue(open_page(url, PAGE), issue_id)
    app.radio(key="issue_rating_value").set_value(stars)
    app.radio(key="issue_rating_fix").set_value(fix_status)
    app.text_area(key="issue_rating_comment").input("师傅很负责")
    app.form_submit_button(key="issue_rating_submit").click().run()
    assert not app.error, errors(app)
    issue = fetch(url, issue_id)
    assert (issue.state, issue.rating, issue.fix_status) == (state, stars, fix_status)
    with Session(get_engine(url)) as session:
        assert session.execute(select(Rating.comment).where(Rating.issue_id == issue_id)).scalars().all() == ["师傅很负责"]
    notes = table(app, "By")["Note"].tolist()
    assert f"{stars}/5 {i18n.translate('en', f'fix_status.{fix_status}')} 师傅很负责" in notes


def test_the_rating_form_refuses_a_missing_rating(open_page, community):
    url, ids = community
    issue_id = ids["电梯维修"]
    app = open_issue(open_page(url, PAGE, lang="zh-CN"), issue_id)
    before = (count(url, Rating), fetch(url, issue_id).version)
    app.form_submit_button(key="issue_rating_submit").click().run()
    assert "满意度：必填" in errors(app) and "问题是否解决：必填" in errors(app)
    assert (count(url, Rating), fetch(url, issue_id).version) == before


def test_clicking_a_row_opens_that_issue(open_page, community):
    url, ids = community
    app = open_page(url, PAGE)
    listed = app.dataframe(key="issue_table").value["No."].tolist()
    app.session_state["issue_table"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    app.run()
    assert app.selectbox(key="issue_selected").value == listed[2]
    assert app.subheader[-1].value.startswith(f"#{listed[2]} ")
    # the select box still works after a row was clicked
    open_issue(app, listed[4])
    assert app.subheader[-1].value.startswith(f"#{listed[4]} ")
