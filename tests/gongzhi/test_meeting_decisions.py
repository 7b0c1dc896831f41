"""Running a meeting in the core: the proposed agenda, reordering, attendance and quorum, each
kind of decision moving its issue through the lifecycle with the meeting named on the timeline,
every illegal decision refused with nothing changed, and closing the meeting into minutes."""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.clock import today
from gongzhi.crud.meetings import (
    DecisionInput,
    DecisionNotAllowed,
    accept_proposal,
    add_agenda_item,
    close_meeting,
    decide,
    move_agenda_item,
    record_meeting_attendance,
)
from gongzhi.errors import GongzhiError, PermissionDenied, ValidationError
from gongzhi.models import AgendaItem, Area, Issue, IssueCooperator, Meeting, Organisation, TimelineEntry
from gongzhi.permissions import Actor, Role
from gongzhi.queries.meetings import agenda_proposal, follow_up, item_figures
from tests.conftest import COMMITTEE

ATTENDEES = "王主任\n李网格长\n张代表\n赵居民\n钱居民"  # five present


@pytest.fixture
def community(write):
    """One grid, two organisations, issues in every state a meeting meets, an earlier meeting that
    deferred one of them, and a planned meeting (quorum 3, five people present, quorum held)."""
    day = today()
    ids = {}
    with write() as session:
        grid = Area(code="G1", name="一网格", level="grid", population=100)
        other_grid = Area(code="G2", name="二网格", level="grid", population=80)
        org = Organisation(name="桃源居物业", kind="property_manager")
        helper = Organisation(name="阳光社工", kind="social_work_agency")
        session.add_all([grid, other_grid, org, helper])
        session.flush()
        ids.update(grid=grid.id, other_grid=other_grid.id, org=org.id, helper=helper.id)

        def issue(name, state, *, grid_id=grid.id, category="parking", days_ago=30, due_in=20, entered=None):
            row = Issue(title=name, category=category, grid_id=grid_id, state=state,
                        reported_at=datetime.combine(day - timedelta(days=days_ago), time(9)),
                        due_date=day + timedelta(days=due_in), went_to_meeting=state == "meeting")
            session.add(row)
            session.flush()
            ids[name] = row.id
            if entered is not None:
                session.add(TimelineEntry(issue_id=row.id, kind="transition", from_state="grid_review",
                                          to_state="meeting", actor="网格长", actor_role="leader",
                                          created_at=datetime.combine(day - timedelta(days=entered), time(10))))
            return row

        issue("停车难", "meeting", entered=12)
        issue("加装电梯", "meeting", category="elderly_care", days_ago=60, entered=40)
        issue("充电桩", "meeting", category="ev_charging", entered=5)
        late = issue("楼道灯", "in_action", category="repairs", days_ago=50, due_in=-6)
        late.lead_org_id = helper.id
        session.add(IssueCooperator(issue_id=late.id, organisation_id=org.id))
        issue("路灯", "in_action", category="repairs", due_in=10)  # in action, not overdue
        issue("早先停车", "in_action", days_ago=90, due_in=5)  # similar to 停车难 (same grid, category)
        issue("已办结停车", "closed", days_ago=200, due_in=-100)  # similar, finished
        issue("别处停车", "meeting", grid_id=other_grid.id, entered=3)  # other grid: not similar
        issue("已驳回", "rejected")
        issue("噪音", "grid_review", category="noise")

        earlier = Meeting(title="上月议事会", kind="deliberation", status="held", quorum=3, quorum_met=True,
                          held_at=datetime.combine(day - timedelta(days=30), time(19)), attendees=ATTENDEES)
        planned = Meeting(title="本月议事会", kind="deliberation", quorum=3, quorum_met=True,
                          held_at=datetime.combine(day, time(19)), attendees=ATTENDEES, language="zh-CN")
        session.add_all([earlier, planned])
        session.flush()
        session.add(AgendaItem(meeting_id=earlier.id, position=1, issue_id=ids["加装电梯"], decision="defer",
                               votes_for=2, votes_against=2, votes_abstain=1, decision_note="资金未落实"))
        ids.update(earlier=earlier.id, planned=planned.id)
    return ids


def _agenda(engine, meeting_id) -> list[tuple]:
    with Session(engine) as session:
        return [tuple(r) for r in session.execute(
            select(AgendaItem.position, AgendaItem.issue_id, AgendaItem.topic)
            .where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)).all()]


def _put_on_agenda(write, ids, *names, topic=None) -> dict[str, int]:
    items = {}
    with write() as session:
        for name in names:
            items[name] = add_agenda_item(session=session, actor=COMMITTEE, meeting_id=ids["planned"],
                                          issue_id=ids[name]).id
        if topic:
            items[topic] = add_agenda_item(session=session, actor=COMMITTEE, meeting_id=ids["planned"],
                                           topic=topic).id
    return items


def _snapshot(engine, item_id) -> tuple:
    """Everything a decision may change: the item, its issue, the issue's timeline."""
    with Session(engine) as session:
        item = session.get(AgendaItem, item_id)
        issue = session.get(Issue, item.issue_id) if item.issue_id else None
        timeline = session.execute(select(TimelineEntry.id).where(TimelineEntry.issue_id == item.issue_id)).all()
        return (item.model_dump(), issue.model_dump() if issue else None, len(timeline))


def _last_entry(engine, issue_id) -> TimelineEntry:
    with Session(engine) as session:
        return session.execute(select(TimelineEntry).where(TimelineEntry.issue_id == issue_id)
                               .order_by(TimelineEntry.id.desc()).limit(1)).scalar_one()


# --- the proposed agenda ------------------------------------------------------------------------

def test_proposal_lists_deferred_then_waiting_then_overdue(session, community):
    ids = community
    proposal = agenda_proposal(session=session)
    assert list(proposal["id"]) == [ids["加装电梯"], ids["停车难"], ids["充电桩"], ids["别处停车"], ids["楼道灯"]]
    assert list(proposal["reason"]) == ["deferred", "waiting", "waiting", "waiting", "overdue"]
    assert list(proposal["times_deferred"]) == [1, 0, 0, 0, 0]
    # not proposed: in action on time (路灯), finished, rejected, still in grid review
    assert not {ids["路灯"], ids["已驳回"], ids["噪音"], ids["已办结停车"]} & set(proposal["id"])


def test_accepted_proposal_fills_the_agenda_and_leaves_the_proposal(write, engine, community):
    ids = community
    chosen = [ids["加装电梯"], ids["楼道灯"], ids["停车难"]]
    with write() as session:
        accept_proposal(session=session, actor=COMMITTEE, meeting_id=ids["planned"], issue_ids=chosen)
    assert _agenda(engine, ids["planned"]) == [(1, ids["加装电梯"], ""), (2, ids["楼道灯"], ""), (3, ids["停车难"], "")]
    with Session(engine) as session:
        left = set(agenda_proposal(session=session)["id"])
    assert left == {ids["充电桩"], ids["别处停车"]}
    # accepting again skips what is already on the agenda
    with write() as session:
        added = [item.issue_id for item in accept_proposal(session=session, actor=COMMITTEE, meeting_id=ids["planned"],
                                                           issue_ids=[ids["停车难"], ids["充电桩"]])]
    assert added == [ids["充电桩"]]


def test_accepting_nothing_is_refused(write, engine, community):
    with pytest.raises(ValidationError), write() as session:
        accept_proposal(session=session, actor=COMMITTEE, meeting_id=community["planned"], issue_ids=[])
    assert _agenda(engine, community["planned"]) == []


def test_reorder_up_and_down(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "停车难", "充电桩", topic="暑期托管")
    with write() as session:
        move_agenda_item(session=session, actor=COMMITTEE, agenda_item_id=items["暑期托管"], step=-1)
    assert _agenda(engine, ids["planned"]) == [(1, ids["停车难"], ""), (2, None, "暑期托管"), (3, ids["充电桩"], "")]
    with write() as session:
        move_agenda_item(session=session, actor=COMMITTEE, agenda_item_id=items["停车难"], step=1)
    assert _agenda(engine, ids["planned"]) == [(1, None, "暑期托管"), (2, ids["停车难"], ""), (3, ids["充电桩"], "")]
    with pytest.raises(GongzhiError) as raised, write() as session:
        move_agenda_item(session=session, actor=COMMITTEE, agenda_item_id=items["暑期托管"], step=-1)
    assert raised.value.key == "meetings.error_already_first"
    assert _agenda(engine, ids["planned"])[0] == (1, None, "暑期托管")


# --- attendance and quorum ---------------------------------------------------------------------

def test_attendance_and_quorum(write, engine, community):
    ids = community
    with write() as session:
        record_meeting_attendance(session=session, actor=COMMITTEE, meeting_id=ids["planned"],
                                  attendees="王主任\n李网格长\n\n张代表\n", quorum_met=True)
    with Session(engine) as session:
        meeting = session.get(Meeting, ids["planned"])
        assert (meeting.attendees, meeting.quorum_met) == ("王主任\n李网格长\n\n张代表", True)
    # two present cannot make a quorum of three
    with pytest.raises(ValidationError) as raised, write() as session:
        record_meeting_attendance(session=session, actor=COMMITTEE, meeting_id=ids["planned"],
                                  attendees="王主任\n李网格长", quorum_met=True)
    assert raised.value.errors[0].key == "meetings.error_quorum_not_present"
    with Session(engine) as session:
        assert session.get(Meeting, ids["planned"]).attendees == "王主任\n李网格长\n\n张代表"


# --- each decision moves its issue ------------------------------------------------------------

def test_approve_moves_the_issue_into_action(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "停车难")
    due = today() + timedelta(days=30)
    with write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["停车难"], data=DecisionInput(
            decision="approve", lead_org_id=ids["org"], due_date=due, note="先划线", votes_for=4, votes_abstain=1))
    with Session(engine) as session:
        issue = session.get(Issue, ids["停车难"])
        item = session.get(AgendaItem, items["停车难"])
        assert (issue.state, issue.lead_org_id, issue.due_date) == ("in_action", ids["org"], due)
        assert (item.decision, item.lead_org_id, item.due_date, item.votes_for, item.votes_abstain) == (
            "approve", ids["org"], due, 4, 1)
    entry = _last_entry(engine, ids["停车难"])
    assert (entry.kind, entry.from_state, entry.to_state, entry.meeting_id) == (
        "transition", "meeting", "in_action", ids["planned"])
    assert entry.note == "本月议事会 · 先划线"


def test_approve_assigns_an_overdue_issue_anew(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "楼道灯")
    due = today() + timedelta(days=14)
    with write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["楼道灯"], data=DecisionInput(
            decision="approve", lead_org_id=ids["org"], due_date=due, votes_for=5))
    with Session(engine) as session:
        issue = session.get(Issue, ids["楼道灯"])
        assert (issue.state, issue.lead_org_id, issue.due_date) == ("in_action", ids["org"], due)
        # the new lead is no longer listed as a co-operator
        assert session.execute(select(IssueCooperator).where(IssueCooperator.issue_id == issue.id)).first() is None
    entry = _last_entry(engine, ids["楼道灯"])
    assert (entry.kind, entry.meeting_id) == ("assignment", ids["planned"])
    assert "本月议事会" in entry.note and "桃源居物业" in entry.note


def test_reject_closes_the_issue_with_its_reason(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "充电桩")
    with write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["充电桩"], data=DecisionInput(
            decision="reject", reject_reason="not_responsible", note="属供电公司职责", votes_for=3, votes_against=1))
    with Session(engine) as session:
        issue = session.get(Issue, ids["充电桩"])
        assert (issue.state, issue.reject_reason) == ("rejected", "not_responsible")
        assert issue.closed_at is not None
        assert session.get(AgendaItem, items["充电桩"]).decision_note == "属供电公司职责"
    entry = _last_entry(engine, ids["充电桩"])
    assert (entry.kind, entry.from_state, entry.to_state, entry.meeting_id, entry.note) == (
        "transition", "meeting", "rejected", ids["planned"], "本月议事会 · 属供电公司职责")


def test_merge_closes_the_issue_as_a_duplicate(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "停车难")
    with write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["停车难"], data=DecisionInput(
            decision="merge", merge_into_id=ids["早先停车"], votes_for=5))
    with Session(engine) as session:
        issue = session.get(Issue, ids["停车难"])
        assert (issue.state, issue.reject_reason, issue.duplicate_of_id) == ("rejected", "duplicate", ids["早先停车"])
        assert session.get(AgendaItem, items["停车难"]).merged_into_id == ids["早先停车"]
    entry = _last_entry(engine, ids["停车难"])
    assert (entry.to_state, entry.meeting_id, entry.note) == ("rejected", ids["planned"], "本月议事会")


def test_defer_keeps_the_issue_waiting_for_the_next_meeting(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "加装电梯")
    with write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["加装电梯"], data=DecisionInput(
            decision="defer", note="待业主投票", votes_for=2, votes_against=3))  # a deferral needs no majority
    with Session(engine) as session:
        assert session.get(Issue, ids["加装电梯"]).state == "meeting"
        figures = item_figures(session=session, issue_id=ids["加装电梯"])
    entry = _last_entry(engine, ids["加装电梯"])
    assert (entry.kind, entry.from_state, entry.to_state, entry.meeting_id, entry.note) == (
        "progress", "meeting", "meeting", ids["planned"], "本月议事会 · 待业主投票")
    assert figures.times_deferred == 2


def test_free_topic_approved(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, topic="修订居民公约")
    due = today() + timedelta(days=60)
    with write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["修订居民公约"], data=DecisionInput(
            decision="approve", lead_org_id=ids["helper"], due_date=due, votes_for=5))
    with Session(engine) as session:
        item = session.get(AgendaItem, items["修订居民公约"])
        assert (item.decision, item.lead_org_id, item.due_date) == ("approve", ids["helper"], due)


# --- illegal decisions are refused, nothing changes ---------------------------------------------

DUE = 30


@pytest.mark.parametrize(("name", "changes", "field", "reason"), [
    ("停车难", {"decision": "approve", "lead_org_id": None}, "meetings.field_lead_org", "errors.required"),
    ("停车难", {"decision": "approve", "due_date": None}, "meetings.field_due_date", "errors.required"),
    ("停车难", {"decision": "approve", "due_date": -1}, "meetings.field_due_date", "errors.date_in_past"),
    ("停车难", {"decision": "approve", "lead_org_id": 99999}, "meetings.field_lead_org", "errors.organisation_not_found"),
    ("停车难", {"decision": "reject", "note": "  "}, "meetings.field_decision_note", "errors.required"),
    ("停车难", {"decision": "reject", "reject_reason": None}, "meetings.field_reject_reason", "errors.required"),
    ("停车难", {"decision": "reject", "reject_reason": "duplicate"}, "meetings.field_reject_reason",
     "errors.required"),
    ("停车难", {"decision": "merge", "merge_into_id": "self"}, "meetings.field_merge_into",
     "meetings.error_merge_into_itself"),
    ("停车难", {"decision": "merge", "merge_into_id": "已办结停车"}, "meetings.field_merge_into",
     "meetings.error_merge_into_closed"),
    ("停车难", {"decision": "merge", "merge_into_id": "已驳回"}, "meetings.field_merge_into",
     "meetings.error_merge_into_closed"),
    ("停车难", {"decision": "merge", "merge_into_id": 99999}, "meetings.field_merge_into", "errors.issue_not_found"),
    ("停车难", {"decision": "merge", "merge_into_id": None}, "meetings.field_merge_into", "errors.required"),
    ("停车难", {"votes_for": 4, "votes_against": 1, "votes_abstain": 1}, "meetings.field_votes",
     "meetings.error_votes_exceed_attendees"),
    ("停车难", {"votes_for": 2, "votes_against": 2}, "meetings.field_votes", "meetings.error_not_carried"),
    ("停车难", {"votes_for": -1}, "meetings.field_votes", "errors.not_negative"),
    ("停车难", {"decision": "teleport"}, "meetings.field_decision", "errors.invalid_choice"),
    ("停车难", {"note": "张三 11010119900307451X"}, "meetings.field_decision_note", "errors.national_id"),
])
def test_illegal_decision_is_refused(write, engine, community, name, changes, field, reason):
    ids = community
    items = _put_on_agenda(write, ids, name)
    values = {"decision": "approve", "lead_org_id": ids["org"], "due_date": DUE, "note": "理由",
              "reject_reason": "withdrawn", "votes_for": 4, "votes_against": 1, **changes}
    if isinstance(values["due_date"], int):
        values["due_date"] = today() + timedelta(days=values["due_date"])
    target = values.get("merge_into_id")
    if isinstance(target, str):
        values["merge_into_id"] = ids[name] if target == "self" else ids[target]
    before = _snapshot(engine, items[name])
    with pytest.raises(ValidationError) as raised, write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items[name], data=DecisionInput(**values))
    assert [(e.field, e.key) for e in raised.value.errors] == [(field, reason)]
    assert raised.value.message("zh-CN") and raised.value.message("en")
    assert _snapshot(engine, items[name]) == before


@pytest.mark.parametrize("decision", ["reject", "merge"])
def test_decision_the_issue_state_does_not_allow(write, engine, community, decision):
    """An overdue issue already in action cannot be rejected or merged: the lifecycle allows no
    way back once work has started."""
    ids = community
    items = _put_on_agenda(write, ids, "楼道灯")
    before = _snapshot(engine, items["楼道灯"])
    with pytest.raises(DecisionNotAllowed) as raised, write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["楼道灯"], data=DecisionInput(
            decision=decision, note="理由", reject_reason="withdrawn", merge_into_id=ids["停车难"], votes_for=5))
    assert "联动办事" in raised.value.message("zh-CN") or "in action" in raised.value.message("en").lower()
    assert _snapshot(engine, items["楼道灯"]) == before


def test_issue_moved_on_since_the_agenda_was_set(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "停车难")
    with write() as session:  # e.g. rejected on the issues page meanwhile
        issue = session.get(Issue, ids["停车难"])
        issue.state = "rejected"
        session.add(issue)
    with pytest.raises(DecisionNotAllowed), write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["停车难"], data=DecisionInput(decision="defer"))


@pytest.mark.parametrize(("quorum_met", "key"), [(None, "meetings.error_quorum_unknown"),
                                                  (False, "meetings.error_no_quorum")])
def test_without_quorum_only_deferral(write, engine, community, quorum_met, key):
    ids = community
    items = _put_on_agenda(write, ids, "停车难", "充电桩")
    with write() as session:
        meeting = session.get(Meeting, ids["planned"])
        meeting.quorum_met = quorum_met
        session.add(meeting)
    before = _snapshot(engine, items["停车难"])
    with pytest.raises(GongzhiError) as raised, write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["停车难"], data=DecisionInput(
            decision="approve", lead_org_id=ids["org"], due_date=today() + timedelta(days=9), votes_for=5))
    assert raised.value.key == key
    assert _snapshot(engine, items["停车难"]) == before
    with write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["充电桩"], data=DecisionInput(decision="defer"))


def test_a_decision_stands(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "加装电梯")
    with write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["加装电梯"], data=DecisionInput(decision="defer"))
    before = _snapshot(engine, items["加装电梯"])
    with pytest.raises(GongzhiError) as raised, write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["加装电梯"], data=DecisionInput(
            decision="reject", note="改变主意", reject_reason="withdrawn", votes_for=5))
    assert raised.value.key == "meetings.error_item_decided_already"
    assert _snapshot(engine, items["加装电梯"]) == before


def test_free_topic_cannot_be_merged(write, engine, community):
    items = _put_on_agenda(write, community, topic="公约")
    with pytest.raises(GongzhiError) as raised, write() as session:
        decide(session=session, actor=COMMITTEE, agenda_item_id=items["公约"], data=DecisionInput(
            decision="merge", merge_into_id=community["停车难"], votes_for=5))
    assert raised.value.key == "meetings.error_merge_needs_issue"


@pytest.mark.parametrize("actor", [
    Actor(name="代表", role=Role.REPRESENTATIVE),
    Actor(name="网格长", role=Role.LEADER, grid_ids=frozenset({1})),  # even in the issue's own grid
])
def test_only_the_committee_runs_the_meeting(write, engine, community, actor):
    ids = community
    items = _put_on_agenda(write, ids, "停车难")
    before = _snapshot(engine, items["停车难"])
    calls = [
        lambda s: decide(session=s, actor=actor, agenda_item_id=items["停车难"], data=DecisionInput(decision="defer")),
        lambda s: move_agenda_item(session=s, actor=actor, agenda_item_id=items["停车难"], step=1),
        lambda s: record_meeting_attendance(session=s, actor=actor, meeting_id=ids["planned"], attendees="",
                                            quorum_met=None),
        lambda s: accept_proposal(session=s, actor=actor, meeting_id=ids["planned"], issue_ids=[ids["充电桩"]]),
        lambda s: close_meeting(session=s, actor=actor, meeting_id=ids["planned"]),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied), write() as session:
            call(session)
    assert _snapshot(engine, items["停车难"]) == before
    assert _agenda(engine, ids["planned"]) == [(1, ids["停车难"], "")]


# --- closing, figures, follow-up ----------------------------------------------------------------

def test_close_needs_every_item_decided_then_writes_minutes(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "停车难", "加装电梯")
    with pytest.raises(GongzhiError) as raised, write() as session:
        close_meeting(session=session, actor=COMMITTEE, meeting_id=ids["planned"])
    assert raised.value.key == "meetings.error_undecided" and raised.value.params["positions"] == "1, 2"
    with write() as session:
        for name in ("停车难", "加装电梯"):
            decide(session=session, actor=COMMITTEE, agenda_item_id=items[name], data=DecisionInput(decision="defer"))
        close_meeting(session=session, actor=COMMITTEE, meeting_id=ids["planned"])
    with Session(engine) as session:
        meeting = session.get(Meeting, ids["planned"])
        assert meeting.status == "held"
        assert "本月议事会" in meeting.minutes and "停车难" in meeting.minutes and "加装电梯" in meeting.minutes
    # a held meeting takes no more decisions or agenda changes
    with pytest.raises(GongzhiError) as raised, write() as session:
        add_agenda_item(session=session, actor=COMMITTEE, meeting_id=ids["planned"], topic="补充")
    assert raised.value.key == "meetings.error_meeting_held"


def test_item_figures(session, community):
    ids = community
    figures = item_figures(session=session, issue_id=ids["停车难"])
    assert figures.days_waited == 12
    assert figures.times_deferred == 0
    # same grid and category: 早先停车 (open), 已办结停车 and 已驳回 (finished); not 别处停车 (other grid)
    assert (figures.similar_total, figures.similar_open) == (3, 1)
    assert set(figures.similar["id"]) == {ids["早先停车"], ids["已办结停车"], ids["已驳回"]}
    late = item_figures(session=session, issue_id=ids["楼道灯"])
    assert late.days_overdue == 6
    assert item_figures(session=session, issue_id=99999) is None


def test_follow_up_status_of_each_decision(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "停车难", "充电桩", "加装电梯", "楼道灯")
    due = today() + timedelta(days=30)
    with write() as session:
        for name, data in (
            ("停车难", DecisionInput(decision="approve", lead_org_id=ids["org"], due_date=due, votes_for=5)),
            ("楼道灯", DecisionInput(decision="approve", lead_org_id=ids["org"], due_date=today(), votes_for=5)),
            ("充电桩", DecisionInput(decision="reject", reject_reason="withdrawn", note="撤回", votes_for=5)),
            ("加装电梯", DecisionInput(decision="defer")),
        ):
            decide(session=session, actor=COMMITTEE, agenda_item_id=items[name], data=data)
        close_meeting(session=session, actor=COMMITTEE, meeting_id=ids["planned"])
    with write() as session:  # progress on one approved issue; the other one becomes overdue
        latest = datetime.combine(today(), time(9))
        earlier = latest - timedelta(days=2)
        # the latest note written first: the latest is chosen by time, not by row id; another
        # issue's note at the time of the earlier one must not confuse it
        for issue, at, note in (("停车难", latest, "已划线一半"), ("停车难", earlier, "开始划线"),
                                ("路灯", earlier, "别的事项")):
            session.add(TimelineEntry(issue_id=ids[issue], kind="progress", from_state="in_action",
                                      to_state="in_action", actor="物业", actor_role="leader", note=note,
                                      created_at=at))
        late = session.get(Issue, ids["楼道灯"])
        late.due_date = today() - timedelta(days=1)
        session.add(late)
    with Session(engine) as session:
        frame = follow_up(session=session)
    this_meeting = frame[frame["meeting_id"] == ids["planned"]].set_index("issue_id")
    assert this_meeting.loc[ids["停车难"], "status"] == "on_time"
    assert this_meeting.loc[ids["停车难"], "progress_notes"] == 2
    assert this_meeting.loc[ids["停车难"], "last_progress_note"] == "已划线一半"
    assert this_meeting.loc[ids["停车难"], "last_progress_at"] == latest
    assert this_meeting.loc[ids["楼道灯"], "status"] == "overdue"
    assert this_meeting.loc[ids["充电桩"], "status"] == "settled"
    assert this_meeting.loc[ids["加装电梯"], "status"] == "deferred"
    with write() as session:
        done = session.get(Issue, ids["停车难"])
        done.state = "resident_review"
        session.add(done)
    with Session(engine) as session:
        assert list(follow_up(session=session, status="done")["issue_id"]) == [ids["停车难"]]
