"""Meetings (会议定事): the list, one meeting's agenda with its decisions and votes, every decision
taken (the base for following decisions up), and the issues waiting for a meeting."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

import pandas as pd
from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from gongzhi.domain import Decision, IssueState, MeetingStatus
from gongzhi.models import AgendaItem, Area, Issue, Meeting, Organisation, TimelineEntry
from gongzhi.queries.common import datetime_range

MEETING_COLUMNS = ["id", "title", "kind", "held_at", "place", "status", "agenda_items", "decided_items",
                   "quorum", "quorum_met"]
AGENDA_COLUMNS = ["id", "position", "issue_id", "issue_title", "issue_state", "topic", "decision",
                  "decision_note", "votes_for", "votes_against", "votes_abstain", "lead_org_id", "lead_org_name",
                  "due_date", "version"]
DECISION_COLUMNS = ["agenda_item_id", "meeting_id", "meeting_title", "held_at", "position", "issue_id",
                    "issue_title", "topic", "decision", "votes_for", "votes_against", "votes_abstain",
                    "lead_org_name", "due_date", "issue_state", "issue_due_date"]
AWAITING_COLUMNS = ["id", "title", "category", "grid_id", "grid_name", "reported_at", "waiting_since",
                    "times_deferred", "planned_meeting_id", "planned_meeting_title", "planned_meeting_at"]
# A decision that settles an issue for good; a deferred issue waits for the next meeting.
FINAL_DECISIONS = (Decision.APPROVE.value, Decision.REJECT.value, Decision.MERGE.value)


@dataclass(frozen=True)
class MeetingDetail:
    id: int
    title: str
    kind: str
    held_at: datetime
    place: str
    status: str
    attendees: tuple[str, ...]  # one name per line of Meeting.attendees, blanks dropped
    quorum: int
    quorum_met: bool | None
    minutes: str
    version: int
    agenda: pd.DataFrame  # AGENDA_COLUMNS, in position order


def _live_agenda_items():
    """Join condition: the meeting's agenda items, leaving out those whose issue is soft-deleted."""
    return and_(AgendaItem.meeting_id == Meeting.id,
                or_(AgendaItem.issue_id.is_(None), AgendaItem.issue_id.in_(
                    select(Issue.id).where(Issue.deleted_at.is_(None)))))


def _in_period(query, column, start: date | None, end: date | None):
    if start is not None:
        query = query.where(column >= datetime_range(start, start)[0])
    if end is not None:
        query = query.where(column < datetime_range(end, end)[1])
    return query


def list_meetings(*, session: Session, start: date | None = None, end: date | None = None,
                  status: str | None = None) -> pd.DataFrame:
    """Meetings held (or planned) between start and end inclusive, newest first, with how many
    agenda items each has and how many of them are decided."""
    query = (
        select(Meeting.id, Meeting.title, Meeting.kind, Meeting.held_at, Meeting.place, Meeting.status,
               func.count(AgendaItem.id).label("agenda_items"),
               func.coalesce(func.sum(case((AgendaItem.decision.is_not(None), 1), else_=0)), 0)
               .label("decided_items"),
               Meeting.quorum, Meeting.quorum_met)
        .outerjoin(AgendaItem, _live_agenda_items())
        .where(Meeting.deleted_at.is_(None))
        .group_by(Meeting.id, Meeting.title, Meeting.kind, Meeting.held_at, Meeting.place, Meeting.status,
                  Meeting.quorum, Meeting.quorum_met)
        .order_by(Meeting.held_at.desc(), Meeting.id.desc())
    )
    query = _in_period(query, Meeting.held_at, start, end)
    if status is not None:
        query = query.where(Meeting.status == status)
    rows = session.execute(query).mappings().all()
    return pd.DataFrame(rows, columns=MEETING_COLUMNS)


def meeting_detail(*, session: Session, meeting_id: int) -> MeetingDetail | None:
    """One meeting with its attendees, minutes and agenda (items in position order; an item is an
    issue, shown with its current title and state, or a free topic). None when there is no such
    meeting."""
    meeting = session.execute(
        select(Meeting.id, Meeting.title, Meeting.kind, Meeting.held_at, Meeting.place, Meeting.status,
               Meeting.attendees, Meeting.quorum, Meeting.quorum_met, Meeting.minutes, Meeting.version)
        .where(Meeting.id == meeting_id, Meeting.deleted_at.is_(None))
    ).mappings().first()
    if meeting is None:
        return None
    rows = session.execute(
        select(AgendaItem.id, AgendaItem.position, AgendaItem.issue_id, Issue.title.label("issue_title"),
               Issue.state.label("issue_state"), AgendaItem.topic, AgendaItem.decision, AgendaItem.decision_note,
               AgendaItem.votes_for, AgendaItem.votes_against, AgendaItem.votes_abstain, AgendaItem.lead_org_id,
               Organisation.name.label("lead_org_name"), AgendaItem.due_date, AgendaItem.version)
        .outerjoin(Issue, Issue.id == AgendaItem.issue_id)
        .outerjoin(Organisation, Organisation.id == AgendaItem.lead_org_id)
        .where(AgendaItem.meeting_id == meeting_id,
               or_(AgendaItem.issue_id.is_(None), Issue.deleted_at.is_(None)))
        .order_by(AgendaItem.position, AgendaItem.id)
    ).mappings().all()
    attendees = tuple(line.strip() for line in (meeting["attendees"] or "").splitlines() if line.strip())
    return MeetingDetail(
        id=meeting["id"], title=meeting["title"], kind=meeting["kind"], held_at=meeting["held_at"],
        place=meeting["place"], status=meeting["status"], attendees=attendees, quorum=meeting["quorum"],
        quorum_met=meeting["quorum_met"], minutes=meeting["minutes"], version=meeting["version"],
        agenda=pd.DataFrame(rows, columns=AGENDA_COLUMNS),
    )


def decisions(*, session: Session, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Every decided agenda item of meetings held between start and end, newest meeting first,
    with the issue's state and due date as they are now: whether a decision was carried out."""
    query = (
        select(AgendaItem.id.label("agenda_item_id"), Meeting.id.label("meeting_id"),
               Meeting.title.label("meeting_title"), Meeting.held_at, AgendaItem.position, AgendaItem.issue_id,
               Issue.title.label("issue_title"), AgendaItem.topic, AgendaItem.decision, AgendaItem.votes_for,
               AgendaItem.votes_against, AgendaItem.votes_abstain, Organisation.name.label("lead_org_name"),
               AgendaItem.due_date, Issue.state.label("issue_state"), Issue.due_date.label("issue_due_date"))
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .outerjoin(Issue, Issue.id == AgendaItem.issue_id)
        .outerjoin(Organisation, Organisation.id == AgendaItem.lead_org_id)
        .where(AgendaItem.decision.is_not(None), Meeting.deleted_at.is_(None),
               or_(AgendaItem.issue_id.is_(None), Issue.deleted_at.is_(None)))
        .order_by(Meeting.held_at.desc(), AgendaItem.position, AgendaItem.id)
    )
    query = _in_period(query, Meeting.held_at, start, end)
    rows = session.execute(query).mappings().all()
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


def issues_awaiting_meeting(*, session: Session, grid_id: int | None = None) -> pd.DataFrame:
    """Issues in state `meeting` (of one grid, or all) that no meeting has settled yet, deferred
    ones included, longest waiting first: since when they wait, how often they were deferred, and
    the planned meeting whose agenda already holds them, if any."""
    result = (session.execute(_awaiting_query(by_grid=False)) if grid_id is None
              else session.execute(_awaiting_query(by_grid=True), {"grid_id": grid_id}))
    # Sorted here: ordering in SQL by an expression of the subquery would run it a second time.
    rows = sorted(result.mappings().all(), key=lambda row: (row["waiting_since"] or row["reported_at"], row["id"]))
    return pd.DataFrame(rows, columns=AWAITING_COLUMNS)


@cache
def _awaiting_query(*, by_grid: bool):
    """Built once: composing this statement costs more than running it (a few ms of Python)."""
    # Per waiting issue (there are few) look up its own timeline and agenda items through their
    # issue_id indexes, instead of aggregating every timeline entry and agenda item there is.
    waiting_since = (
        select(func.max(TimelineEntry.created_at))
        .where(TimelineEntry.issue_id == Issue.id, TimelineEntry.kind == "transition",
               TimelineEntry.to_state == IssueState.MEETING.value)
        .scalar_subquery()
    )
    times_deferred = (
        select(func.count(AgendaItem.id))
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(AgendaItem.issue_id == Issue.id, AgendaItem.decision == Decision.DEFER.value,
               Meeting.deleted_at.is_(None))
        .scalar_subquery()
    )
    # A planned meeting whose agenda already holds the issue, still undecided (normally at most one).
    planned_meeting_id = (
        select(func.min(Meeting.id))
        .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(AgendaItem.issue_id == Issue.id, AgendaItem.decision.is_(None),
               Meeting.status == MeetingStatus.PLANNED.value, Meeting.deleted_at.is_(None))
        .scalar_subquery()
    )
    settled = (
        select(AgendaItem.id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(AgendaItem.issue_id == Issue.id, AgendaItem.decision.in_(FINAL_DECISIONS),
               Meeting.deleted_at.is_(None))
        .exists()
    )
    since = waiting_since.label("waiting_since")
    planned = aliased(Meeting)
    query = (
        select(Issue.id, Issue.title, Issue.category, Issue.grid_id, Area.name.label("grid_name"), Issue.reported_at,
               since, times_deferred.label("times_deferred"), planned.id.label("planned_meeting_id"),
               planned.title.label("planned_meeting_title"), planned.held_at.label("planned_meeting_at"))
        .outerjoin(Area, Area.id == Issue.grid_id)
        .outerjoin(planned, planned.id == planned_meeting_id)
        .where(Issue.state == IssueState.MEETING.value, Issue.deleted_at.is_(None), ~settled)
    )
    if by_grid:
        query = query.where(Issue.grid_id == bindparam("grid_id"))
    return query

