"""Meeting queries against a small hand-built community whose counts are known by construction:
soft-deleted meetings and issues are left out, agendas come in position order, decisions carry
their votes and the issue's current state."""

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.models import AgendaItem, Area, Issue, Meeting, Organisation, TimelineEntry
from gongzhi.queries.meetings import decisions, issues_awaiting_meeting, list_meetings, meeting_detail

DELETED = datetime(2025, 6, 1, 9, 0)


@pytest.fixture
def community(write):
    """Two grids, six issues, four meetings (one soft-deleted). Returns the ids by name."""
    ids = {}
    with write() as session:
        grid_a = Area(code="G-A", name="东苑网格", level="grid", population=100)
        grid_b = Area(code="G-B", name="西苑网格", level="grid", population=80)
        org = Organisation(name="桃源居物业", kind="property_manager")
        session.add_all([grid_a, grid_b, org])
        session.flush()

        def issue(name, state, grid, reported, deleted=False):
            row = Issue(title=name, category="parking", grid_id=grid.id, state=state, reported_at=reported,
                        due_date=date(2025, 12, 31), deleted_at=DELETED if deleted else None)
            session.add(row)
            session.flush()
            ids[name] = row.id
            return row

        waiting = issue("电动车充电桩", "meeting", grid_a, datetime(2025, 4, 1, 8))
        deferred = issue("停车位划线", "meeting", grid_a, datetime(2025, 2, 1, 8))
        approved = issue("楼道灯维修", "in_action", grid_b, datetime(2025, 2, 2, 8))
        issue("已删除的事项", "meeting", grid_b, datetime(2025, 2, 3, 8), deleted=True)
        issue("噪音投诉", "reported", grid_b, datetime(2025, 5, 3, 8))
        rejected = issue("围墙改造", "rejected", grid_b, datetime(2025, 3, 3, 8))
        for row, at in ((waiting, datetime(2025, 5, 2, 10)), (deferred, datetime(2025, 2, 20, 10))):
            session.add(TimelineEntry(issue_id=row.id, kind="transition", from_state="grid_review",
                                      to_state="meeting", actor="网格长", actor_role="leader", created_at=at))

        def meeting(name, held_at, status="held", deleted=False, **fields):
            row = Meeting(title=name, kind="deliberation", held_at=held_at, status=status,
                          deleted_at=DELETED if deleted else None, **fields)
            session.add(row)
            session.flush()
            ids[name] = row.id
            return row

        march = meeting("三月议事会", datetime(2025, 3, 10, 19), quorum=5, quorum_met=True,
                        attendees="王主任\n\n 李网格长 \n张代表\n", minutes="议定三项。")
        may = meeting("五月议事会", datetime(2025, 5, 20, 19), quorum=7, quorum_met=False)
        july = meeting("七月议事会", datetime(2025, 7, 1, 19), status="planned", quorum=5)
        gone = meeting("已删除的会议", datetime(2025, 4, 1, 19), deleted=True)
        deleted_issue_id = ids["已删除的事项"]
        session.add_all([
            # added out of order: the agenda must come back by position
            AgendaItem(meeting_id=march.id, position=2, issue_id=approved.id, decision="approve", votes_for=5,
                       votes_against=0, votes_abstain=1, lead_org_id=org.id, due_date=date(2025, 4, 30)),
            AgendaItem(meeting_id=march.id, position=1, issue_id=deferred.id, decision="defer", votes_for=3,
                       votes_against=1, votes_abstain=2),
            AgendaItem(meeting_id=march.id, position=3, topic="公共空间使用公约", decision="approve", votes_for=6),
            AgendaItem(meeting_id=may.id, position=1, issue_id=rejected.id, decision="reject", votes_for=1,
                       votes_against=4),
            AgendaItem(meeting_id=may.id, position=2, issue_id=deleted_issue_id, decision="approve", votes_for=9),
            AgendaItem(meeting_id=july.id, position=1, issue_id=deferred.id),
            AgendaItem(meeting_id=july.id, position=2, topic="暑期托管"),
            AgendaItem(meeting_id=gone.id, position=1, issue_id=waiting.id, decision="defer", votes_for=2),
        ])
        ids["org"] = org.id
    return ids


def test_list_meetings_counts_items_and_leaves_out_deleted(community, session: Session):
    frame = list_meetings(session=session)
    assert list(frame["title"]) == ["七月议事会", "五月议事会", "三月议事会"]  # newest first, deleted one gone
    by_title = frame.set_index("title")
    assert by_title.loc["三月议事会", "agenda_items"] == 3
    assert by_title.loc["三月议事会", "decided_items"] == 3
    # the item of the deleted issue is not counted
    assert by_title.loc["五月议事会", "agenda_items"] == 1
    assert by_title.loc["五月议事会", "decided_items"] == 1
    assert by_title.loc["七月议事会", "agenda_items"] == 2
    assert by_title.loc["七月议事会", "decided_items"] == 0
    assert by_title.loc["五月议事会", "quorum"] == 7
    assert not by_title.loc["五月议事会", "quorum_met"]
    assert by_title.loc["七月议事会", "status"] == "planned"


def test_list_meetings_filters_period_inclusively_and_by_status(community, session: Session):
    march_only = list_meetings(session=session, start=date(2025, 3, 10), end=date(2025, 3, 10))
    assert list(march_only["title"]) == ["三月议事会"]
    spring = list_meetings(session=session, start=date(2025, 3, 1), end=date(2025, 5, 31))
    assert list(spring["title"]) == ["五月议事会", "三月议事会"]
    assert list(list_meetings(session=session, status="planned")["title"]) == ["七月议事会"]
    assert list_meetings(session=session, start=date(2026, 1, 1)).empty


def test_meeting_detail_lists_agenda_in_position_order(community, session: Session):
    detail = meeting_detail(session=session, meeting_id=community["三月议事会"])
    assert detail.attendees == ("王主任", "李网格长", "张代表")
    assert detail.minutes == "议定三项。"
    assert detail.quorum == 5 and detail.quorum_met is True
    agenda = detail.agenda
    assert list(agenda["position"]) == [1, 2, 3]
    assert list(agenda["issue_title"].fillna("")) == ["停车位划线", "楼道灯维修", ""]
    assert list(agenda["issue_state"].fillna("")) == ["meeting", "in_action", ""]
    assert list(agenda["topic"]) == ["", "", "公共空间使用公约"]
    assert list(agenda["decision"]) == ["defer", "approve", "approve"]
    assert list(agenda["votes_for"]) == [3, 5, 6]
    assert list(agenda["votes_against"]) == [1, 0, 0]
    assert list(agenda["votes_abstain"]) == [2, 1, 0]
    assert agenda.loc[1, "lead_org_name"] == "桃源居物业"
    assert agenda.loc[1, "due_date"] == date(2025, 4, 30)


def test_meeting_detail_hides_deleted_issue_and_meeting(community, session: Session):
    may = meeting_detail(session=session, meeting_id=community["五月议事会"])
    assert list(may.agenda["issue_title"]) == ["围墙改造"]
    assert may.attendees == ()
    assert meeting_detail(session=session, meeting_id=community["已删除的会议"]) is None
    assert meeting_detail(session=session, meeting_id=99999) is None


def test_decisions_lists_every_decided_item_with_current_issue_state(community, session: Session):
    frame = decisions(session=session)
    assert len(frame) == 4  # 3 in March, 1 in May (deleted issue and deleted meeting left out)
    assert list(frame["meeting_title"]) == ["五月议事会", "三月议事会", "三月议事会", "三月议事会"]
    approved = frame[frame["issue_title"] == "楼道灯维修"].iloc[0]
    assert approved["decision"] == "approve"
    assert approved["issue_state"] == "in_action"
    assert approved["lead_org_name"] == "桃源居物业"
    rejected = frame[frame["issue_title"] == "围墙改造"].iloc[0]
    assert (rejected["votes_for"], rejected["votes_against"], rejected["issue_state"]) == (1, 4, "rejected")
    may = decisions(session=session, start=date(2025, 5, 1), end=date(2025, 5, 31))
    assert list(may["issue_title"]) == ["围墙改造"]


def test_issues_awaiting_meeting(community, session: Session):
    frame = issues_awaiting_meeting(session=session)
    # state `meeting`, not deleted; the longest waiting first
    assert list(frame["title"]) == ["停车位划线", "电动车充电桩"]
    deferred = frame.iloc[0]
    assert deferred["times_deferred"] == 1
    assert deferred["planned_meeting_id"] == community["七月议事会"]
    assert deferred["planned_meeting_title"] == "七月议事会"
    assert deferred["grid_name"] == "东苑网格"
    waiting = frame.iloc[1]
    assert waiting["times_deferred"] == 0  # its only deferral was at a deleted meeting
    assert waiting["waiting_since"] == datetime(2025, 5, 2, 10)
    assert pd.isna(waiting["planned_meeting_id"])


def test_empty_database_gives_empty_frames(session: Session):
    assert list_meetings(session=session).empty
    assert decisions(session=session).empty
    assert issues_awaiting_meeting(session=session).empty


def test_issues_awaiting_meeting_of_one_grid(community, session: Session):
    grid_ids = dict(session.execute(select(Area.code, Area.id)).all())
    assert list(issues_awaiting_meeting(session=session, grid_id=grid_ids["G-A"])["title"]) == ["停车位划线", "电动车充电桩"]
    # the only waiting issue of the other grid is soft-deleted
    assert issues_awaiting_meeting(session=session, grid_id=grid_ids["G-B"]).empty
