"""A whole committee meeting through the meetings page (AppTest of the real app): plan it, accept
the proposed agenda (minus one issue), reorder it and add a free topic; in the live view record
attendance and quorum, then decide each item — approve, reject (first without a reason: refused,
nothing changed), merge, defer an overdue issue, approve the topic — each issue checked in the
database afterwards with its timeline naming the meeting; close it, and the minutes on screen
name every decision; the follow-up lists them. Read-only roles see the live meeting without any
form."""

import json
import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi import i18n
from gongzhi.clock import today
from gongzhi.db import get_engine, write_session
from gongzhi.models import AgendaItem, Area, Issue, Meeting, Organisation, TimelineEntry

PAGE = "views/meetings.py"
ATTENDEES = "王主任\n李网格长\n张代表\n赵居民\n钱居民"
SQUARE = {"type": "Polygon", "coordinates": [[[113.93, 22.52], [113.94, 22.52], [113.94, 22.53], [113.93, 22.53],
                                              [113.93, 22.52]]]}


@pytest.fixture
def flow(db_url):
    """A grid with a boundary, two organisations, four issues waiting for a meeting, one overdue
    in action and one open issue to merge into."""
    day = today()
    ids = {}
    with write_session(get_engine(db_url)) as session:
        grid = Area(code="G1", name="一网格", level="grid", population=500, boundary=json.dumps(SQUARE))
        org = Organisation(name="桃源居物业", kind="property_manager")
        agency = Organisation(name="阳光社工", kind="social_work_agency")
        session.add_all([grid, org, agency])
        session.flush()
        ids.update(org=org.id, agency=agency.id)
        for n, (title, state, category, due_in) in enumerate((
            ("停车难", "meeting", "parking", 20), ("充电桩", "meeting", "ev_charging", 20),
            ("重复停车", "meeting", "parking", 20), ("以后再议", "meeting", "other", 20),
            ("楼道灯", "in_action", "repairs", -5), ("车库改造", "in_action", "parking", 40),
        )):
            issue = Issue(title=title, category=category, grid_id=grid.id, state=state, went_to_meeting=True,
                          reported_at=datetime.combine(day - timedelta(days=40 - n), time(9)),
                          due_date=day + timedelta(days=due_in), lead_org_id=agency.id if state == "in_action" else None)
            session.add(issue)
            session.flush()
            ids[title] = issue.id
            if state == "meeting":
                session.add(TimelineEntry(issue_id=issue.id, kind="transition", from_state="grid_review",
                                          to_state="meeting", actor="网格长", actor_role="leader",
                                          created_at=datetime.combine(day - timedelta(days=20 - n), time(10))))
    return db_url, ids


def _ok(app):
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def _agenda(url, meeting_id) -> list[tuple]:
    with Session(get_engine(url)) as session:
        return [tuple(r) for r in session.execute(
            select(AgendaItem.id, AgendaItem.issue_id, AgendaItem.topic)
            .where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)).all()]


def _issue(url, issue_id) -> tuple:
    with Session(get_engine(url)) as session:
        issue = session.get(Issue, issue_id)
        last = session.execute(select(TimelineEntry).where(TimelineEntry.issue_id == issue_id)
                               .order_by(TimelineEntry.id.desc()).limit(1)).scalar_one()
        return issue.state, issue.lead_org_id, issue.duplicate_of_id, last.meeting_id, last.note


def _item_on_screen(app) -> str:
    """The item's heading as it reads (its Markdown source escapes the characters of user text
    that Markdown would take as markup, here the dot after the item's number)."""
    return re.sub(r"\\(.)", r"\1", app.header[-1].value)


def test_a_whole_meeting(open_page, flow):
    url, ids = flow
    app = open_page(url, PAGE, lang="en")
    _ok(app)

    # plan the meeting; its minutes in Chinese while the screen is in English
    app.text_input(key="meeting_new_title").input("七月议事会")
    app.date_input(key="meeting_new_date").set_value(today())
    app.text_area(key="meeting_new_attendees").input(ATTENDEES)
    app.number_input(key="meeting_new_quorum").set_value(3)
    app.selectbox(key="meeting_new_language").set_value("zh-CN")
    app.button(key="meeting_new_submit").click().run()
    _ok(app)
    with Session(get_engine(url)) as session:
        meeting = session.execute(select(Meeting).where(Meeting.title == "七月议事会")).scalar_one()
        meeting_id = meeting.id
        assert (meeting.language, meeting.quorum, meeting.status) == ("zh-CN", 3, "planned")
    assert app.selectbox(key="meetings_selected").value == meeting_id

    # the proposal: four waiting issues and the overdue one; 车库改造 (in action, on time) is not proposed
    proposal = app.multiselect(key="agenda_proposal_pick")
    assert proposal.value == [ids[n] for n in ("停车难", "充电桩", "重复停车", "以后再议", "楼道灯")]
    proposal.set_value([ids[n] for n in ("充电桩", "停车难", "重复停车", "楼道灯")])
    app.button(key="agenda_proposal_submit").click().run()
    _ok(app)
    agenda = _agenda(url, meeting_id)
    assert [issue for _, issue, _ in agenda] == [ids[n] for n in ("充电桩", "停车难", "重复停车", "楼道灯")]

    # reorder: 充电桩 one down; then a free topic at the end
    app.button(key=f"agenda_down_{agenda[0][0]}").click().run()
    _ok(app)
    app.text_input(key="agenda_add_topic").input("修订居民公约")
    app.button(key="agenda_add_submit").click().run()
    _ok(app)
    agenda = _agenda(url, meeting_id)
    assert [issue or topic for _, issue, topic in agenda] == [
        ids["停车难"], ids["充电桩"], ids["重复停车"], ids["楼道灯"], "修订居民公约"]
    item = {issue or topic: item_id for item_id, issue, topic in agenda}

    # the live meeting: nothing can be decided before attendance and quorum are recorded
    app.radio(key="meetings_view").set_value("live").run()
    _ok(app)
    assert app.title[0].value == "七月议事会"
    assert _item_on_screen(app) == f"1. #{ids['停车难']} 停车难"
    # its figures: sent to a meeting 20 days ago; 重复停车 and 车库改造 are parking issues of the same grid, both open
    entered = datetime.combine(today() - timedelta(days=20), time(10)).strftime("%Y-%m-%d %H:%M")
    # the four facts on screen; the figures behind them in the details panel
    facts = {m.label: m.value for m in app.metric}
    assert facts == {i18n.translate("en", "meetings.fact_grid"): "一网格",
                     i18n.translate("en", "meetings.fact_stage"): i18n.translate("en", "state.meeting"),
                     i18n.translate("en", "meetings.fact_days_waiting"): "20",
                     i18n.translate("en", "meetings.fact_times_deferred"): "0"}
    app.button_group(key=f"meeting_panel_{item[ids['停车难']]}").set_value("details").run()
    shown = " ".join(m.value for m in app.markdown)
    assert i18n.translate("en", "meetings.live_fig_waited", days=20, since=entered) in shown
    assert i18n.translate("en", "meetings.live_fig_similar", open=2, total=2) in shown
    assert i18n.translate("en", "meetings.live_fig_deferred", count=0) in shown
    app.button_group(key=f"meeting_panel_{item[ids['停车难']]}").set_value("decide").run()
    app.radio(key=f"attendance_quorum_{meeting_id}").set_value(True)
    app.button(key="meeting_attendance_submit").click().run()
    _ok(app)
    with Session(get_engine(url)) as session:
        assert session.get(Meeting, meeting_id).quorum_met is True

    # 1. approve 停车难, assigned to the property manager
    due = today() + timedelta(days=30)
    app.button_group(key=f"decide_kind_{item[ids['停车难']]}").set_value("approve").run()
    app.selectbox(key=f"decide_lead_{item[ids['停车难']]}").set_value(ids["org"])
    app.date_input(key=f"decide_due_{item[ids['停车难']]}").set_value(due)
    app.text_input(key=f"decide_note_{item[ids['停车难']]}").input("先划线")
    app.number_input(key=f"decide_votes_for_{item[ids['停车难']]}_5").set_value(4)
    app.number_input(key=f"decide_votes_abstain_{item[ids['停车难']]}_5").set_value(1)
    app.button(key=f"decide_submit_{item[ids['停车难']]}").click().run()
    _ok(app)
    assert _issue(url, ids["停车难"]) == ("in_action", ids["org"], None, meeting_id, "七月议事会 · 先划线")

    # 2. reject 充电桩: without a reason it is refused and nothing changes; with one it is rejected
    assert _item_on_screen(app) == f"2. #{ids['充电桩']} 充电桩"
    key = item[ids["充电桩"]]
    app.button_group(key=f"decide_kind_{key}").set_value("reject").run()
    app.selectbox(key=f"decide_reason_{key}").set_value("not_responsible")
    app.number_input(key=f"decide_votes_for_{key}_5").set_value(5)
    app.button(key=f"decide_submit_{key}").click().run()
    assert not app.exception
    errors = " ".join(e.value for e in app.error)
    assert i18n.translate("en", "meetings.field_decision_note") in errors
    assert i18n.translate("en", "errors.required") in errors
    assert _issue(url, ids["充电桩"])[0] == "meeting"
    app.text_input(key=f"decide_note_{key}").input("属供电公司职责")
    app.button(key=f"decide_submit_{key}").click().run()
    _ok(app)
    state, _, _, named, note = _issue(url, ids["充电桩"])
    assert (state, named, note) == ("rejected", meeting_id, "七月议事会 · 属供电公司职责")

    # 3. merge 重复停车 into itself: refused; into 车库改造: merged
    key = item[ids["重复停车"]]
    app.button_group(key=f"decide_kind_{key}").set_value("merge").run()
    app.number_input(key=f"decide_merge_{key}").set_value(ids["重复停车"])
    app.number_input(key=f"decide_votes_for_{key}_5").set_value(5)
    app.button(key=f"decide_submit_{key}").click().run()
    assert i18n.translate("en", "meetings.error_merge_into_itself") in " ".join(e.value for e in app.error)
    app.number_input(key=f"decide_merge_{key}").set_value(ids["车库改造"])
    app.button(key=f"decide_submit_{key}").click().run()
    _ok(app)
    assert _issue(url, ids["重复停车"])[:4] == ("rejected", None, ids["车库改造"], meeting_id)

    # 4. the overdue issue in action may only be assigned anew or deferred: defer it
    key = item[ids["楼道灯"]]
    assert app.button_group(key=f"decide_kind_{key}").options == [
        i18n.translate("en", f"decision.{d}") for d in ("approve", "defer")]
    app.button_group(key=f"decide_kind_{key}").set_value("defer").run()
    app.text_input(key=f"decide_note_{key}").input("等待供电局")
    app.button(key=f"decide_submit_{key}").click().run()
    _ok(app)
    assert _issue(url, ids["楼道灯"])[0::3] == ("in_action", meeting_id)

    # 5. the free topic: approved with a lead and a due date; votes may not exceed the five present
    key = item["修订居民公约"]
    app.button_group(key=f"decide_kind_{key}").set_value("approve").run()
    app.selectbox(key=f"decide_lead_{key}").set_value(ids["agency"])
    app.number_input(key=f"decide_votes_for_{key}_5").set_value(6)
    app.button(key=f"decide_submit_{key}").click().run()
    assert i18n.translate("en", "meetings.error_votes_exceed_attendees", votes=6, present=5) in " ".join(
        e.value for e in app.error)
    app.number_input(key=f"decide_votes_for_{key}_5").set_value(5)
    app.button(key=f"decide_submit_{key}").click().run()
    _ok(app)

    # back to the first item: its decision is shown, no form
    for _ in range(4):
        app.button(key="meeting_live_previous").click().run()
    assert _item_on_screen(app) == f"1. #{ids['停车难']} 停车难"
    assert not [b for b in app.button if b.key and b.key.startswith("decide_submit_")]
    assert "桃源居物业" in app.success[-1].value

    # close: the page shows the minutes, in Chinese, naming every decision
    app.button(key="meeting_close_submit").click().run()
    _ok(app)
    with Session(get_engine(url)) as session:
        stored = session.get(Meeting, meeting_id)
        assert stored.status == "held"
    assert app.radio(key="meetings_view").value == "minutes"
    shown = " ".join(m.value for m in app.markdown)
    for decision in ("approve", "reject", "merge", "defer"):
        assert i18n.translate("zh-CN", f"decision.{decision}") in shown
    for fragment in ("停车难", "充电桩", "重复停车", "楼道灯", "修订居民公约", "桃源居物业", "阳光社工", due.isoformat(),
                     f"#{ids['车库改造']}", "属供电公司职责", "赞成 4 · 反对 0 · 弃权 1", "王主任", "钱居民"):
        assert fragment in shown, fragment
        assert fragment in stored.minutes, fragment

    # the follow-up lists the five decisions of the meeting
    app.radio(key="meetings_view").set_value("follow_up").run()
    _ok(app)
    table = next(frame.value for frame in app.dataframe
                 if i18n.translate("en", "meetings.col_status") in frame.value.columns)
    mine = table[table[i18n.translate("en", "meetings.col_title")] == "七月议事会"]
    statuses = dict(zip(mine[i18n.translate("en", "meetings.col_item")],
                        mine[i18n.translate("en", "meetings.col_status")], strict=True))
    assert statuses == {
        f"#{ids['停车难']} 停车难": i18n.translate("en", "meetings.status_on_time"),
        f"#{ids['充电桩']} 充电桩": i18n.translate("en", "meetings.status_settled"),
        f"#{ids['重复停车']} 重复停车": i18n.translate("en", "meetings.status_settled"),
        f"#{ids['楼道灯']} 楼道灯": i18n.translate("en", "meetings.status_deferred"),
        "修订居民公约": i18n.translate("en", "meetings.status_on_time"),
    }


@pytest.mark.parametrize("role", ["representative", "leader"])
def test_read_only_roles_follow_the_meeting_without_forms(open_page, flow, role):
    url, ids = flow
    with write_session(get_engine(url)) as session:
        meeting = Meeting(title="七月议事会", kind="deliberation", held_at=datetime.combine(today(), time(19)),
                          attendees=ATTENDEES, quorum=3, quorum_met=True)
        session.add(meeting)
        session.flush()
        session.add(AgendaItem(meeting_id=meeting.id, position=1, issue_id=ids["停车难"]))
    app = open_page(url, PAGE, role=role)
    app.radio(key="meetings_view").set_value("live").run()
    assert not app.exception, [e.value for e in app.exception]
    assert _item_on_screen(app) == f"1. #{ids['停车难']} 停车难"
    keys = {widget.key for widget in [*app.button, *app.radio, *app.text_area] if widget.key}
    assert not {k for k in keys if k.startswith(("decide_", "attendance_", "meeting_attendance", "meeting_close"))}
    assert {"meeting_live_previous", "meeting_live_next"} <= keys


def test_payloads_stay_text_in_the_live_meeting_minutes_and_follow_up(open_page, flow):
    """Script payloads in every text a meeting shows (meeting, grid, issue, organisation, topic,
    attendee, decision note) are never in an element rendered as raw HTML (the item map included)
    and still reach the screen as text."""
    from gongzhi.escape import markdown_literal
    from tests.views.test_injection import PAYLOAD, PAYLOADS, assert_no_payload_in_raw_html, shown_text

    url, ids = flow
    with write_session(get_engine(url)) as session:
        session.get(Area, session.get(Issue, ids["停车难"]).grid_id).name = PAYLOAD
        session.get(Organisation, ids["org"]).name = PAYLOAD
        issue = session.get(Issue, ids["停车难"])
        issue.title = issue.description = PAYLOAD
        planned = Meeting(title=PAYLOAD, kind="deliberation", held_at=datetime.combine(today(), time(19)),
                          attendees=f"{PAYLOAD}\n王主任", quorum=1, quorum_met=True)
        held = Meeting(title=PAYLOAD, kind="joint", status="held", quorum=1, quorum_met=True, attendees=PAYLOAD,
                       held_at=datetime.combine(today() - timedelta(days=3), time(19)))
        session.add_all([planned, held])
        session.flush()
        session.add_all([
            AgendaItem(meeting_id=planned.id, position=1, issue_id=ids["停车难"], decision="approve", votes_for=1,
                       lead_org_id=ids["org"], due_date=today() + timedelta(days=9), decision_note=PAYLOAD),
            AgendaItem(meeting_id=planned.id, position=2, topic=PAYLOAD),
            AgendaItem(meeting_id=held.id, position=1, topic=PAYLOAD, decision="approve", votes_for=1,
                       lead_org_id=ids["org"], due_date=today() + timedelta(days=9), decision_note=PAYLOAD),
        ])
    app = open_page(url, PAGE)
    steps = [
        ("live, free topic", lambda: app.radio(key="meetings_view").set_value("live").run()),
        ("live, decided issue", lambda: app.button(key="meeting_live_previous").click().run()),
        ("minutes", lambda: app.radio(key="meetings_view").set_value("minutes").run()),
        ("follow-up", lambda: app.radio(key="meetings_view").set_value("follow_up").run()),
    ]
    for name, step in steps:
        step()
        assert not app.exception, (name, [e.value for e in app.exception])
        assert_no_payload_in_raw_html(app)
        shown = shown_text(app)
        assert PAYLOADS[0] in shown or markdown_literal(PAYLOADS[0]) in shown, name


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("database", ["demo", "empty"])
def test_every_view_renders_translated(open_page, demo_url, db_url, lang, database):
    """Each view of the page on the demo and on an empty database, in both languages: no
    exception and no catalogue key left untranslated."""
    from tests.views.test_all_pages import KEY_PATTERN, NAMESPACES, _visible_texts

    app = open_page(demo_url if database == "demo" else db_url, PAGE, lang=lang)
    for view in ("live", "minutes", "follow_up", "overview"):
        app.radio(key="meetings_view").set_value(view).run()
        assert not app.exception, (view, [e.value for e in app.exception])
        leaked = [key for text in _visible_texts(app) for key in KEY_PATTERN.findall(text)
                  if key.split(".")[0] in NAMESPACES]
        assert not leaked, (view, leaked)
        if database == "demo" and view == "live":
            assert app.header, "the demo's planned meeting shows its first item"


def test_live_meeting_opens_with_what_the_last_one_promised(open_page, flow):
    url, ids = flow
    with write_session(get_engine(url)) as session:
        older = Meeting(title="五月议事会", kind="deliberation", status="held", quorum=1, quorum_met=True,
                        attendees="王主任", held_at=datetime.combine(today() - timedelta(days=60), time(19)))
        last = Meeting(title="六月议事会", kind="deliberation", status="held", quorum=1, quorum_met=True,
                       attendees="王主任", held_at=datetime.combine(today() - timedelta(days=30), time(19)))
        planned = Meeting(title="七月议事会", kind="deliberation", held_at=datetime.combine(today(), time(19)))
        session.add_all([older, last, planned])
        session.flush()
        session.add_all([
            AgendaItem(meeting_id=older.id, position=1, issue_id=ids["停车难"], decision="defer"),  # not the last
            AgendaItem(meeting_id=last.id, position=1, issue_id=ids["车库改造"], decision="approve", votes_for=1,
                       lead_org_id=ids["agency"], due_date=today() + timedelta(days=40)),  # in action, due later
            AgendaItem(meeting_id=last.id, position=2, issue_id=ids["楼道灯"], decision="approve", votes_for=1,
                       lead_org_id=ids["agency"], due_date=today() - timedelta(days=5)),  # in action, past due
            AgendaItem(meeting_id=last.id, position=3, issue_id=ids["以后再议"], decision="defer"),
            AgendaItem(meeting_id=planned.id, position=1, issue_id=ids["以后再议"]),
        ])
    app = open_page(url, PAGE)
    app.radio(key="meetings_view").set_value("live").run()
    assert not app.exception, [e.value for e in app.exception]
    expected = i18n.translate("en", "meetings.live_promised", title="六月议事会",
                              held_at=datetime.combine(today() - timedelta(days=30), time(19)).strftime("%Y-%m-%d %H:%M"),
                              done=0, on_time=1, overdue=1, deferred=1)
    assert expected in [m.value for m in app.markdown]
