"""Meetings (会议定事): the list, one meeting's agenda with its decisions and votes, every decision
taken and how it is being carried out (follow-up), the issues waiting for a meeting, the agenda a
new meeting is proposed, and the figures shown beside one agenda item during the meeting."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

import pandas as pd
from sqlalchemy import and_, bindparam, case, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from gongzhi.clock import today
from gongzhi.domain import OPEN_STATES, RESOLVED_STATES, Decision, IssueState, MeetingStatus
from gongzhi.models import AgendaItem, AgendaItemCooperator, Area, Issue, Meeting, Organisation, TimelineEntry
from gongzhi.queries.common import datetime_range
from gongzhi.revisions import reads

MEETING_COLUMNS = ["id", "title", "kind", "held_at", "place", "status", "agenda_items", "decided_items",
                   "quorum", "quorum_met"]
AGENDA_COLUMNS = ["id", "position", "issue_id", "issue_title", "issue_state", "topic", "decision",
                  "decision_note", "votes_for", "votes_against", "votes_abstain", "lead_org_id", "lead_org_name",
                  "due_date", "merged_into_id", "version", "deferred_at_close", "cooperator_names"]
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
    language: str = "zh-CN"  # of the minutes
    invited: tuple[str, ...] = ()  # as planned, one name per line of Meeting.invited
    chair: str = ""  # 主持人
    recorder: str = ""  # 记录人

    @property
    def absentees(self) -> tuple[str, ...]:
        """Invited but not recorded as present, in the order of the invitation."""
        present = set(self.attendees)
        return tuple(name for name in self.invited if name not in present)


def attendee_names(text: str | None) -> tuple[str, ...]:
    """Meeting.attendees holds one name per line; blank lines and surrounding spaces do not count."""
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def _live_agenda_items():
    """Join condition: the meeting's agenda items, leaving out those whose issue is soft-deleted."""
    # Each item's own issue looked up by its key: an IN over the live issues listed all 100,000
    # of a district's issues first, at every count of the meetings' items.
    return and_(AgendaItem.meeting_id == Meeting.id,
                or_(AgendaItem.issue_id.is_(None), exists().where(Issue.id == AgendaItem.issue_id,
                                                                  Issue.deleted_at.is_(None))))


def _in_period(query, column, start: date | None, end: date | None):
    if start is not None:
        query = query.where(column >= datetime_range(start, start)[0])
    if end is not None:
        query = query.where(column < datetime_range(end, end)[1])
    return query


@reads(AgendaItem, Issue, Meeting)
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


@reads(AgendaItem, AgendaItemCooperator, Issue, Meeting, Organisation)
def meeting_detail(*, session: Session, meeting_id: int) -> MeetingDetail | None:
    """One meeting with its attendees, minutes and agenda (items in position order; an item is an
    issue, shown with its current title and state, or a free topic). None when there is no such
    meeting."""
    meeting = session.execute(
        select(Meeting.id, Meeting.title, Meeting.kind, Meeting.held_at, Meeting.place, Meeting.status,
               Meeting.attendees, Meeting.quorum, Meeting.quorum_met, Meeting.minutes, Meeting.version,
               Meeting.language, Meeting.invited, Meeting.chair, Meeting.recorder)
        .where(Meeting.id == meeting_id, Meeting.deleted_at.is_(None))
    ).mappings().first()
    if meeting is None:
        return None
    rows = session.execute(
        select(AgendaItem.id, AgendaItem.position, AgendaItem.issue_id, Issue.title.label("issue_title"),
               Issue.state.label("issue_state"), AgendaItem.topic, AgendaItem.decision, AgendaItem.decision_note,
               AgendaItem.votes_for, AgendaItem.votes_against, AgendaItem.votes_abstain, AgendaItem.lead_org_id,
               Organisation.name.label("lead_org_name"), AgendaItem.due_date, AgendaItem.merged_into_id,
               AgendaItem.version, AgendaItem.deferred_at_close)
        .outerjoin(Issue, Issue.id == AgendaItem.issue_id)
        .outerjoin(Organisation, Organisation.id == AgendaItem.lead_org_id)
        .where(AgendaItem.meeting_id == meeting_id,
               or_(AgendaItem.issue_id.is_(None), Issue.deleted_at.is_(None)))
        .order_by(AgendaItem.position, AgendaItem.id)
    ).mappings().all()
    attendees = attendee_names(meeting["attendees"])
    cooperators = _cooperator_names(session, meeting_id)
    rows = [{**row, "cooperator_names": cooperators.get(row["id"], ())} for row in rows]
    return MeetingDetail(
        id=meeting["id"], title=meeting["title"], kind=meeting["kind"], held_at=meeting["held_at"],
        place=meeting["place"], status=meeting["status"], attendees=attendees, quorum=meeting["quorum"],
        quorum_met=meeting["quorum_met"], minutes=meeting["minutes"], version=meeting["version"],
        agenda=pd.DataFrame(rows, columns=AGENDA_COLUMNS), language=meeting["language"],
        invited=attendee_names(meeting["invited"]), chair=meeting["chair"], recorder=meeting["recorder"],
    )


def _cooperator_names(session: Session, meeting_id: int) -> dict[int, tuple[str, ...]]:
    """The co-operating organisations each agenda item of the meeting names, by item id."""
    rows = session.execute(
        select(AgendaItemCooperator.agenda_item_id, Organisation.name)
        .join(AgendaItem, AgendaItem.id == AgendaItemCooperator.agenda_item_id)
        .join(Organisation, Organisation.id == AgendaItemCooperator.organisation_id)
        .where(AgendaItem.meeting_id == meeting_id)
        .order_by(AgendaItemCooperator.agenda_item_id, Organisation.name)
    ).all()
    names: dict[int, tuple[str, ...]] = {}
    for item_id, name in rows:
        names[item_id] = (*names.get(item_id, ()), name)
    return names


@reads(AgendaItem, Issue, Meeting, Organisation)
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
    # Plain rows, in the columns' order: a year of a district's decisions is 10,000 rows, and
    # building a dict of each took as long as the query.
    return pd.DataFrame([tuple(row) for row in session.execute(query).all()], columns=DECISION_COLUMNS)


@reads(AgendaItem, Area, Issue, Meeting, TimelineEntry)
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


# --- the agenda a meeting is proposed ---------------------------------------------------------

PROPOSAL_COLUMNS = ["id", "title", "category", "grid_name", "state", "reason", "since", "due_date",
                    "times_deferred"]
OPEN_STATE_CODES = tuple(state.value for state in OPEN_STATES)
RESOLVED_STATE_CODES = tuple(state.value for state in RESOLVED_STATES)


def _on_a_planned_agenda():
    """Issues on the undecided agenda of some planned meeting: they are spoken for."""
    return (select(AgendaItem.issue_id)
            .join(Meeting, Meeting.id == AgendaItem.meeting_id)
            .where(AgendaItem.issue_id.is_not(None), AgendaItem.decision.is_(None),
                   Meeting.status == MeetingStatus.PLANNED.value, Meeting.deleted_at.is_(None)))


@reads(AgendaItem, Area, Issue, Meeting, TimelineEntry)
def agenda_proposal(*, session: Session) -> pd.DataFrame:
    """What the next meeting should discuss, in this order: issues deferred by an earlier meeting
    (reason "deferred"), the other issues waiting for a meeting ("waiting"), both longest waiting
    first, then issues in action past their due date ("overdue", most overdue first). Issues already
    on a planned meeting's agenda are left out. `since` is when the issue started to wait."""
    awaiting = issues_awaiting_meeting(session=session)
    awaiting = awaiting[awaiting["planned_meeting_id"].isna()]
    waiting = pd.DataFrame({
        "id": awaiting["id"], "title": awaiting["title"], "category": awaiting["category"],
        "grid_name": awaiting["grid_name"], "state": IssueState.MEETING.value,
        "reason": ["deferred" if n > 0 else "waiting" for n in awaiting["times_deferred"]],
        "since": awaiting["waiting_since"].fillna(awaiting["reported_at"]), "due_date": None,
        "times_deferred": awaiting["times_deferred"].astype(int),
    }, columns=PROPOSAL_COLUMNS)
    overdue_rows = session.execute(
        select(Issue.id, Issue.title, Issue.category, Area.name.label("grid_name"), Issue.state, Issue.reported_at,
               Issue.due_date)
        .outerjoin(Area, Area.id == Issue.grid_id)
        .where(Issue.state == IssueState.IN_ACTION.value, Issue.due_date < today(), Issue.deleted_at.is_(None),
               Issue.id.not_in(_on_a_planned_agenda()))
        .order_by(Issue.due_date, Issue.id)
    ).mappings().all()
    overdue = pd.DataFrame([{**row, "reason": "overdue", "since": row["reported_at"], "times_deferred": 0}
                            for row in overdue_rows], columns=PROPOSAL_COLUMNS)
    order = {"deferred": 0, "waiting": 1}
    waiting = waiting.assign(_order=waiting["reason"].map(order)).sort_values(["_order", "since", "id"],
                                                                              kind="stable")
    frames = [frame for frame in (waiting.drop(columns="_order"), overdue) if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=PROPOSAL_COLUMNS)
    return pd.concat(frames, ignore_index=True)[PROPOSAL_COLUMNS]


# --- the figures beside one item in the meeting -------------------------------------------------

SIMILAR_SHOWN = 5


@dataclass(frozen=True)
class ItemFigures:
    """What the meeting sees beside an issue on its agenda: how long it has waited, how often it
    was deferred, and the other issues of the same category in the same grid."""

    issue_id: int
    grid_id: int
    category: str
    waiting_since: datetime  # entered `meeting`, or reported if it never went through it
    days_waited: int
    days_overdue: int  # 0 unless in action past its due date
    times_deferred: int
    similar_total: int  # same grid and category, this issue left out
    similar_open: int
    similar: pd.DataFrame  # id, title, state, reported_at: the newest SIMILAR_SHOWN of them


@reads(AgendaItem, Issue, Meeting, TimelineEntry)
def item_figures(*, session: Session, issue_id: int) -> ItemFigures | None:
    issue = session.execute(
        select(Issue.id, Issue.grid_id, Issue.category, Issue.state, Issue.reported_at, Issue.due_date)
        .where(Issue.id == issue_id, Issue.deleted_at.is_(None))
    ).mappings().first()
    if issue is None:
        return None
    entered = session.execute(
        select(func.min(TimelineEntry.created_at))
        .where(TimelineEntry.issue_id == issue_id, TimelineEntry.kind == "transition",
               TimelineEntry.to_state == IssueState.MEETING.value)
    ).scalar_one_or_none()
    deferred = session.execute(
        select(func.count(AgendaItem.id)).join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(AgendaItem.issue_id == issue_id, AgendaItem.decision == Decision.DEFER.value,
               Meeting.deleted_at.is_(None))
    ).scalar_one()
    same = and_(Issue.grid_id == issue["grid_id"], Issue.category == issue["category"], Issue.id != issue_id,
                Issue.deleted_at.is_(None))
    total, still_open = session.execute(
        select(func.count(Issue.id), func.coalesce(func.sum(case((Issue.state.in_(OPEN_STATE_CODES), 1), else_=0)), 0))
        .where(same)
    ).one()
    similar = session.execute(
        select(Issue.id, Issue.title, Issue.state, Issue.reported_at).where(same)
        .order_by(Issue.reported_at.desc(), Issue.id.desc()).limit(SIMILAR_SHOWN)
    ).all()
    on = today()
    since = entered or issue["reported_at"]
    overdue = (on - issue["due_date"]).days if issue["state"] == IssueState.IN_ACTION and issue["due_date"] < on else 0
    return ItemFigures(
        issue_id=issue_id, grid_id=issue["grid_id"], category=issue["category"], waiting_since=since,
        days_waited=(on - since.date()).days, days_overdue=overdue, times_deferred=int(deferred),
        similar_total=int(total), similar_open=int(still_open),
        similar=pd.DataFrame([tuple(r) for r in similar], columns=["id", "title", "state", "reported_at"]))


# --- following decisions up -------------------------------------------------------------------

FOLLOW_UP_COLUMNS = ["agenda_item_id", "meeting_id", "meeting_title", "held_at", "position", "issue_id",
                     "issue_title", "topic", "decision", "lead_org_name", "due_date", "issue_state", "status",
                     "resolved_on_time", "progress_notes", "last_progress_at", "last_progress_note"]
# status of a decision: done / on_time / overdue for an approval; settled for a rejection or a
# merge (the issue closed at the meeting); deferred for a deferral.
FOLLOW_UP_STATUSES = ("overdue", "on_time", "done", "deferred", "settled")


@reads(AgendaItem, Issue, Meeting, Organisation, TimelineEntry)
def follow_up(*, session: Session, start: date | None = None, end: date | None = None,
              status: str | None = None, grid_id: int | None = None) -> pd.DataFrame:
    """Every decision of the meetings held between start and end (newest meeting first) and how it
    is being carried out now: an approved issue is done once it reached resident review or beyond,
    overdue when still in action past its current due date, else on time (a free topic by the due
    date the meeting set). With the number of progress notes written on the issue's timeline since
    (meeting notes left out) and the latest of them. With grid_id, only the decisions on that
    grid's issues (free topics belong to no grid)."""
    on = today()
    progress = (
        select(TimelineEntry.issue_id, func.count(TimelineEntry.id).label("progress_notes"),
               func.max(TimelineEntry.created_at).label("last_progress_at"))
        .where(TimelineEntry.kind == "progress", TimelineEntry.meeting_id.is_(None))
        .group_by(TimelineEntry.issue_id)
        .subquery()
    )
    last_note = aliased(TimelineEntry)
    approve = AgendaItem.decision == Decision.APPROVE.value
    status_column = case(
        (AgendaItem.decision == Decision.DEFER.value, "deferred"),
        (AgendaItem.decision.in_((Decision.REJECT.value, Decision.MERGE.value)), "settled"),
        (and_(approve, Issue.state.in_(RESOLVED_STATE_CODES)), "done"),
        (and_(approve, AgendaItem.issue_id.is_not(None), Issue.state == IssueState.IN_ACTION.value,
              Issue.due_date < on), "overdue"),
        (and_(approve, AgendaItem.issue_id.is_(None), AgendaItem.due_date < on), "overdue"),
        else_="on_time",
    ).label("status")
    query = (
        select(AgendaItem.id.label("agenda_item_id"), Meeting.id.label("meeting_id"),
               Meeting.title.label("meeting_title"), Meeting.held_at, AgendaItem.position, AgendaItem.issue_id,
               Issue.title.label("issue_title"), AgendaItem.topic, AgendaItem.decision,
               Organisation.name.label("lead_org_name"),
               func.coalesce(Issue.due_date, AgendaItem.due_date).label("due_date"),
               Issue.state.label("issue_state"), status_column, Issue.resolved_on_time,
               func.coalesce(progress.c.progress_notes, 0).label("progress_notes"), progress.c.last_progress_at,
               last_note.note.label("last_progress_note"))
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .outerjoin(Issue, Issue.id == AgendaItem.issue_id)
        .outerjoin(Organisation, Organisation.id == func.coalesce(Issue.lead_org_id, AgendaItem.lead_org_id))
        .outerjoin(progress, progress.c.issue_id == AgendaItem.issue_id)
        # the latest note itself; the id breaks a tie of two notes written in the same second
        .outerjoin(last_note, last_note.id == select(TimelineEntry.id).where(
            TimelineEntry.issue_id == AgendaItem.issue_id, TimelineEntry.kind == "progress",
            TimelineEntry.meeting_id.is_(None))
            .order_by(TimelineEntry.created_at.desc(), TimelineEntry.id.desc()).limit(1)
            .correlate(AgendaItem).scalar_subquery())
        .where(AgendaItem.decision.is_not(None), Meeting.status == MeetingStatus.HELD.value,
               Meeting.deleted_at.is_(None), or_(AgendaItem.issue_id.is_(None), Issue.deleted_at.is_(None)))
        .order_by(Meeting.held_at.desc(), AgendaItem.position, AgendaItem.id)
    )
    query = _in_period(query, Meeting.held_at, start, end)
    if grid_id is not None:
        query = query.where(Issue.grid_id == grid_id)
    rows = session.execute(query).mappings().all()
    frame = pd.DataFrame(rows, columns=FOLLOW_UP_COLUMNS)
    if status is not None:
        frame = frame[frame["status"] == status].reset_index(drop=True)
    return frame
