"""Decisions as a meeting takes them, in the core: unanimous in one call (votes for = everyone
recorded present, counted from the database), co-operating organisations beside the lead one
(on the item for the minutes and on the issue), "defer the rest" in one transaction, closing
with the items not reached deferred and said so in the minutes, the chair and the recorder, and
who was absent (invited but not present)."""

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.clock import today
from gongzhi.crud.meetings import (
    DecisionInput,
    MeetingCreate,
    close_meeting,
    decide_item,
    defer_remaining,
    plan_meeting,
    record_meeting_attendance,
)
from gongzhi.errors import GongzhiError, PermissionDenied, ValidationError
from gongzhi.i18n import translate
from gongzhi.minutes import SIGNATURE_BLANK, minutes_markdown, minutes_pdf
from gongzhi.models import (
    AgendaItem,
    AgendaItemCooperator,
    Issue,
    IssueCooperator,
    Meeting,
    Organisation,
    TimelineEntry,
)
from gongzhi.permissions import Actor, Role
from gongzhi.queries.meetings import meeting_detail
from tests.conftest import COMMITTEE
from tests.gongzhi import test_meeting_decisions
from tests.gongzhi.test_meeting_decisions import ATTENDEES, _put_on_agenda

community = test_meeting_decisions.community  # the same fixture: one grid, issues in every state, a planned meeting

PRESENT = len(ATTENDEES.split("\n"))


def _third_org(write) -> int:
    with write() as session:
        org = Organisation(name="街道城管科", kind="government_department")
        session.add(org)
        session.flush()
        return org.id


def _item(engine, item_id) -> AgendaItem:
    with Session(engine) as session:
        return session.get(AgendaItem, item_id)


def test_unanimous_counts_everyone_present_from_the_database(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "停车难")
    with write() as session:
        # The screen's votes are ignored: the count is the attendance recorded now.
        decide_item(session=session, actor=COMMITTEE, agenda_item_id=items["停车难"], unanimous=True,
                    data=DecisionInput(decision="approve", lead_org_id=ids["org"], votes_for=1, votes_against=1,
                                       due_date=today() + timedelta(days=10)))
    item = _item(engine, items["停车难"])
    assert (item.decision, item.votes_for, item.votes_against, item.votes_abstain) == ("approve", PRESENT, 0, 0)


def test_unanimous_without_anyone_present_is_not_carried(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "停车难")
    with write() as session:
        meeting = session.get(Meeting, ids["planned"])
        meeting.attendees, meeting.quorum, meeting.quorum_met = "", 0, True
        session.add(meeting)
    with pytest.raises(ValidationError) as raised, write() as session:
        decide_item(session=session, actor=COMMITTEE, agenda_item_id=items["停车难"], unanimous=True,
                    data=DecisionInput(decision="approve", lead_org_id=ids["org"],
                                       due_date=today() + timedelta(days=10)))
    assert [e.key for e in raised.value.errors] == ["meetings.error_not_carried"]
    assert _item(engine, items["停车难"]).decision is None


def test_approval_names_co_operating_organisations(write, engine, community):
    ids = community
    third = _third_org(write)
    items = _put_on_agenda(write, ids, "停车难", "楼道灯")
    with write() as session:
        for name in ("停车难", "楼道灯"):
            decide_item(session=session, actor=COMMITTEE, agenda_item_id=items[name], unanimous=True,
                        cooperator_ids=[ids["helper"], third] if name == "停车难" else [third],
                        data=DecisionInput(decision="approve", lead_org_id=ids["org"] if name == "停车难"
                                           else ids["helper"], due_date=today() + timedelta(days=10)))
    with Session(engine) as session:
        def cooperators(model, column, value):
            return sorted(session.execute(select(model.organisation_id).where(column == value)).scalars())

        assert cooperators(AgendaItemCooperator, AgendaItemCooperator.agenda_item_id,
                           items["停车难"]) == sorted([ids["helper"], third])
        assert cooperators(IssueCooperator, IssueCooperator.issue_id, ids["停车难"]) == sorted([ids["helper"], third])
        # The overdue issue's earlier co-operator (the property manager) is replaced by the meeting's choice.
        assert cooperators(IssueCooperator, IssueCooperator.issue_id, ids["楼道灯"]) == [third]
        assert session.get(Issue, ids["停车难"]).state == "in_action"
        detail = meeting_detail(session=session, meeting_id=ids["planned"])
    names = dict(zip(detail.agenda["id"], detail.agenda["cooperator_names"], strict=True))
    assert names[items["停车难"]] == tuple(sorted(["阳光社工", "街道城管科"]))


@pytest.mark.parametrize(("decision", "cooperators", "reason"), [
    ("defer", ["helper"], "meetings.error_cooperators_need_approval"),
    ("approve", ["org"], "issues.reason_lead_is_cooperator"),
    ("approve", [999_999], "errors.invalid_choice"),
])
def test_wrong_co_operators_are_refused_with_nothing_changed(write, engine, community, decision, cooperators,
                                                            reason):
    ids = community
    items = _put_on_agenda(write, ids, "停车难")
    chosen = [ids[c] if isinstance(c, str) else c for c in cooperators]
    with pytest.raises(ValidationError) as raised, write() as session:
        decide_item(session=session, actor=COMMITTEE, agenda_item_id=items["停车难"], cooperator_ids=chosen,
                    data=DecisionInput(decision=decision, lead_org_id=ids["org"], votes_for=PRESENT,
                                       due_date=today() + timedelta(days=10)))
    assert [e.key for e in raised.value.errors] == [reason]
    assert _item(engine, items["停车难"]).decision is None
    with Session(engine) as session:
        assert session.execute(select(AgendaItemCooperator)).first() is None


def test_defer_the_rest_in_one_go(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "停车难", "加装电梯", "楼道灯", topic="暑期托管")
    with write() as session:
        decide_item(session=session, actor=COMMITTEE, agenda_item_id=items["停车难"], unanimous=True,
                    data=DecisionInput(decision="approve", lead_org_id=ids["org"],
                                       due_date=today() + timedelta(days=10)))
    with write() as session:
        deferred = defer_remaining(session=session, actor=COMMITTEE, meeting_id=ids["planned"])
        assert len(deferred) == 3
    assert _item(engine, items["停车难"]).decision == "approve"
    for name in ("加装电梯", "楼道灯", "暑期托管"):
        item = _item(engine, items[name])
        assert (item.decision, item.deferred_at_close) == ("defer", False)
    with Session(engine) as session:
        entry = session.execute(select(TimelineEntry).where(TimelineEntry.issue_id == ids["加装电梯"])
                                .order_by(TimelineEntry.id.desc())).scalars().first()
        assert entry.meeting_id == ids["planned"] and session.get(Issue, ids["加装电梯"]).state == "meeting"
    with pytest.raises(GongzhiError) as raised, write() as session:
        defer_remaining(session=session, actor=COMMITTEE, meeting_id=ids["planned"])
    assert raised.value.key == "meetings.error_nothing_to_defer"


def test_only_the_committee_defers_the_rest(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "停车难")
    with pytest.raises(PermissionDenied), write() as session:
        defer_remaining(session=session, actor=Actor(name="代表", role=Role.REPRESENTATIVE), meeting_id=ids["planned"])
    assert _item(engine, items["停车难"]).decision is None


def test_closing_defers_what_was_not_reached_and_the_minutes_say_so(write, engine, community):
    ids = community
    items = _put_on_agenda(write, ids, "停车难", "加装电梯", "充电桩")
    with write() as session:
        decide_item(session=session, actor=COMMITTEE, agenda_item_id=items["停车难"], unanimous=True,
                    data=DecisionInput(decision="approve", lead_org_id=ids["org"],
                                       due_date=today() + timedelta(days=10)))
        close_meeting(session=session, actor=COMMITTEE, meeting_id=ids["planned"], defer_undecided=True,
                      chair="王主任", recorder="李网格长")
    with Session(engine) as session:
        meeting = session.get(Meeting, ids["planned"])
        assert (meeting.status, meeting.chair, meeting.recorder) == ("held", "王主任", "李网格长")
        assert session.get(Issue, ids["加装电梯"]).state == "meeting"  # waits for the next meeting
    for name, auto in (("停车难", False), ("加装电梯", True), ("充电桩", True)):
        item = _item(engine, items[name])
        assert item.deferred_at_close is auto and item.decision == ("defer" if auto else "approve")
    note = translate("zh-CN", "meetings.minutes_auto_deferred_note", positions="2, 3")
    assert note in meeting.minutes
    assert meeting.minutes.count(translate("zh-CN", "meetings.minutes_deferred_at_close")) == 2
    assert "主持人：王主任" in meeting.minutes and "记录人：李网格长" in meeting.minutes


def test_closing_without_deferring_still_needs_every_item_decided(write, engine, community):
    ids = community
    _put_on_agenda(write, ids, "停车难")
    with pytest.raises(GongzhiError) as raised, write() as session:
        close_meeting(session=session, actor=COMMITTEE, meeting_id=ids["planned"])
    assert raised.value.key == "meetings.error_undecided"


def test_chair_and_recorder_are_checked(write, engine, community):
    ids = community
    with pytest.raises(ValidationError) as raised, write() as session:
        close_meeting(session=session, actor=COMMITTEE, meeting_id=ids["planned"], chair="王" * 41, recorder="李")
    assert [e.field for e in raised.value.errors] == ["meetings.field_chair"]
    with Session(engine) as session:
        assert session.get(Meeting, ids["planned"]).status == "planned"


def test_minutes_name_absentees_chair_recorder_and_have_signature_lines(write, engine):
    from datetime import datetime, time

    with write() as session:
        meeting = plan_meeting(session=session, actor=COMMITTEE, data=MeetingCreate(
            title="十二月议事会", kind="deliberation", held_at=datetime.combine(today() + timedelta(days=6), time(19)),
            attendees="王主任\n李网格长\n张代表\n赵居民", quorum=2, chair="王主任", recorder="李网格长"))
        meeting_id = meeting.id
    with write() as session:
        record_meeting_attendance(session=session, actor=COMMITTEE, meeting_id=meeting_id,
                                  attendees="王主任\n李网格长\n钱列席", quorum_met=True)
    with Session(engine) as session:
        detail = meeting_detail(session=session, meeting_id=meeting_id)
    assert detail.invited == ("王主任", "李网格长", "张代表", "赵居民")
    assert detail.absentees == ("张代表", "赵居民")  # 钱列席 came uninvited: present, not absent
    text = minutes_markdown(detail)
    t = lambda key, **p: translate("zh-CN", f"meetings.{key}", **p)  # noqa: E731
    assert t("minutes_absentees", count=2) in text and "张代表、赵居民" in text
    assert "".join(t("minutes_chair_recorder", chair="王主任", recorder="李网格长").split()) in "".join(text.split())
    for key in ("minutes_sign_chair", "minutes_sign_recorder", "minutes_sign_date"):
        assert f"{t(key)} {SIGNATURE_BLANK}" in text
    pdf = minutes_pdf(detail)
    reader = PdfReader(io.BytesIO(pdf))
    squeezed = "".join("".join(page.extract_text() for page in reader.pages).replace("\x00", "").split())
    assert squeezed.count("主持人") >= 2 and squeezed.count("记录人") >= 2
    assert reader.pages[-1].get_contents().get_data().count(b" l S") == 3  # three lines to sign on
