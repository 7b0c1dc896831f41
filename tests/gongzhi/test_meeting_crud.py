"""Planning meetings and agendas: every rule refuses bad input naming the field and leaves the
database as it was; valid input is saved as asked."""

from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi.crud.meetings import MeetingCreate, add_agenda_item, plan_meeting, remove_agenda_item
from gongzhi.errors import GongzhiError, NotFound, PermissionDenied, ValidationError
from gongzhi.models import AgendaItem, Area, Issue, Meeting
from gongzhi.permissions import Actor, Role
from tests.conftest import COMMITTEE

VALID = {"title": "六月议事会", "kind": "deliberation", "held_at": datetime(2025, 6, 20, 19, 30),
         "place": "社区活动中心", "attendees": "王主任\n李网格长", "quorum": 5}


def _count(engine, model) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def _fields(error: ValidationError) -> set[str]:
    return {e.field for e in error.errors}


def test_plan_meeting_saves_a_planned_meeting(write, engine):
    with write() as session:
        meeting_id = plan_meeting(session=session, actor=COMMITTEE, data=MeetingCreate(**VALID)).id
    with Session(engine) as session:
        saved = session.get(Meeting, meeting_id)
        assert (saved.title, saved.kind, saved.held_at, saved.place, saved.quorum, saved.status) == (
            "六月议事会", "deliberation", datetime(2025, 6, 20, 19, 30), "社区活动中心", 5, "planned")
        assert saved.attendees == "王主任\n李网格长"


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": "   "}, "meetings.field_title"),
    ({"title": "议" * 121}, "meetings.field_title"),
    ({"kind": "party"}, "meetings.field_kind"),
    ({"held_at": None}, "meetings.field_held_at"),
    ({"quorum": -1}, "meetings.field_quorum"),
    ({"place": "地" * 121}, "meetings.field_place"),
    ({"attendees": "王主任 110101199003074512"}, "meetings.field_attendees"),
])
def test_plan_meeting_refuses_bad_input(write, engine, changes, field):
    with pytest.raises(ValidationError) as raised, write() as session:
        plan_meeting(session=session, actor=COMMITTEE, data=MeetingCreate(**{**VALID, **changes}))
    assert _fields(raised.value) == {field}
    assert _count(engine, Meeting) == 0


def test_plan_meeting_needs_the_committee(write, engine):
    representative = Actor(name="代表", role=Role.REPRESENTATIVE)
    with pytest.raises(PermissionDenied), write() as session:
        plan_meeting(session=session, actor=representative, data=MeetingCreate(**VALID))
    assert _count(engine, Meeting) == 0


@pytest.fixture
def agenda_setup(write):
    """A planned and a held meeting, an issue waiting for a meeting and one still in grid review."""
    with write() as session:
        grid = Area(code="G1", name="一网格", level="grid")
        session.add(grid)
        session.flush()
        waiting = Issue(title="加装电梯", category="other", grid_id=grid.id, state="meeting", due_date=date(2025, 9, 1))
        early = Issue(title="垃圾分类", category="sanitation", grid_id=grid.id, state="grid_review",
                      due_date=date(2025, 9, 1))
        planned = Meeting(title="七月议事会", kind="deliberation", held_at=datetime(2025, 7, 1, 19))
        held = Meeting(title="五月议事会", kind="deliberation", held_at=datetime(2025, 5, 1, 19), status="held")
        session.add_all([waiting, early, planned, held])
        session.flush()
        return {"waiting": waiting.id, "early": early.id, "planned": planned.id, "held": held.id}


def _agenda(engine, meeting_id):
    with Session(engine) as session:
        return [tuple(r) for r in session.execute(
            select(AgendaItem.position, AgendaItem.issue_id, AgendaItem.topic)
            .where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)).all()]


def test_add_agenda_items_in_order(write, engine, agenda_setup):
    ids = agenda_setup
    with write() as session:
        add_agenda_item(session=session, actor=COMMITTEE, meeting_id=ids["planned"], issue_id=ids["waiting"])
    with write() as session:
        add_agenda_item(session=session, actor=COMMITTEE, meeting_id=ids["planned"], topic="  暑期托管 ")
    assert _agenda(engine, ids["planned"]) == [(1, ids["waiting"], ""), (2, None, "暑期托管")]


@pytest.mark.parametrize(("issue", "topic", "field"), [
    (None, "", "meetings.field_agenda_item"),  # neither
    ("waiting", "也写了议题", "meetings.field_agenda_item"),  # both
    ("early", "", "meetings.field_issue"),  # not waiting for a meeting
    ("missing", "", "meetings.field_issue"),
    (None, "议" * 201, "meetings.field_topic"),
    (None, "张三 11010119900307451X", "meetings.field_topic"),
])
def test_add_agenda_item_refuses_bad_input(write, engine, agenda_setup, issue, topic, field):
    issue_id = {"missing": 99999, None: None}.get(issue, agenda_setup.get(issue))
    with pytest.raises(ValidationError) as raised, write() as session:
        add_agenda_item(session=session, actor=COMMITTEE, meeting_id=agenda_setup["planned"], issue_id=issue_id,
                        topic=topic)
    assert _fields(raised.value) == {field}
    assert _count(engine, AgendaItem) == 0


def test_add_agenda_item_refuses_a_duplicate_issue(write, engine, agenda_setup):
    ids = agenda_setup
    with write() as session:
        add_agenda_item(session=session, actor=COMMITTEE, meeting_id=ids["planned"], issue_id=ids["waiting"])
    with pytest.raises(ValidationError) as raised, write() as session:
        add_agenda_item(session=session, actor=COMMITTEE, meeting_id=ids["planned"], issue_id=ids["waiting"])
    assert raised.value.errors[0].key == "meetings.error_already_on_agenda"
    assert _count(engine, AgendaItem) == 1


def test_add_agenda_item_refuses_held_or_missing_meeting(write, engine, agenda_setup):
    with pytest.raises(GongzhiError) as raised, write() as session:
        add_agenda_item(session=session, actor=COMMITTEE, meeting_id=agenda_setup["held"], topic="补充议题")
    assert raised.value.key == "meetings.error_meeting_held"
    assert "五月议事会" in raised.value.message("zh-CN")
    with pytest.raises(NotFound), write() as session:
        add_agenda_item(session=session, actor=COMMITTEE, meeting_id=99999, topic="补充议题")
    assert _count(engine, AgendaItem) == 0


def test_remove_agenda_item_moves_the_rest_up(write, engine, agenda_setup):
    ids = agenda_setup
    with write() as session:
        first = add_agenda_item(session=session, actor=COMMITTEE, meeting_id=ids["planned"], topic="一").id
        add_agenda_item(session=session, actor=COMMITTEE, meeting_id=ids["planned"], topic="二")
        add_agenda_item(session=session, actor=COMMITTEE, meeting_id=ids["planned"], topic="三")
    with write() as session:
        remove_agenda_item(session=session, actor=COMMITTEE, agenda_item_id=first)
    assert _agenda(engine, ids["planned"]) == [(1, None, "二"), (2, None, "三")]
    with write() as session:
        add_agenda_item(session=session, actor=COMMITTEE, meeting_id=ids["planned"], topic="四")
    assert [row[0] for row in _agenda(engine, ids["planned"])] == [1, 2, 3]


def test_remove_agenda_item_refuses_a_decided_item(write, engine, agenda_setup):
    with write() as session:
        item = AgendaItem(meeting_id=agenda_setup["planned"], position=1, topic="已表决", decision="approve")
        session.add(item)
        session.flush()
        item_id = item.id
    with pytest.raises(GongzhiError) as raised, write() as session:
        remove_agenda_item(session=session, actor=COMMITTEE, agenda_item_id=item_id)
    assert raised.value.key == "meetings.error_item_decided"
    assert _count(engine, AgendaItem) == 1


def test_agenda_changes_need_the_committee(write, engine, agenda_setup):
    leader = Actor(name="网格长", role=Role.LEADER, grid_ids=frozenset({1}))
    with pytest.raises(PermissionDenied), write() as session:
        add_agenda_item(session=session, actor=leader, meeting_id=agenda_setup["planned"], topic="议题")
    assert _count(engine, AgendaItem) == 0
