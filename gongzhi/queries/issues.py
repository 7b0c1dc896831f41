"""Issue figures and lists: the headline numbers of the five-step loop, counts by state, grid,
category and month, the filterable list, and one issue's detail and timeline. Everything is
counted in SQL; results are DataFrames or frozen dataclasses so the page cache can keep them."""

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import and_, case, func, literal, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session

from gongzhi.clock import today
from gongzhi.domain import (
    ISSUE_CATEGORIES,
    ISSUE_STATE_ORDER,
    OPEN_STATES,
    RESOLVED_STATES,
    SATISFIED_MIN_RATING,
    SCREENED_OUT,
    AreaLevel,
)
from gongzhi.models import Area, Issue, IssueCooperator, Organisation, Person, Rating, ResidentReport, TimelineEntry
from gongzhi.parts import Parts, by_part, fold, grid_in_parts, grid_parts, totals
from gongzhi.queries.common import datetime_range, fill_months, month_key, share
from gongzhi.revisions import reads

OPEN_STATE_CODES = tuple(s.value for s in ISSUE_STATE_ORDER if s in OPEN_STATES)
RESOLVED_STATE_CODES = tuple(s.value for s in ISSUE_STATE_ORDER if s in RESOLVED_STATES)
# Open and still waiting for the work to be done. An issue in resident review is open (waiting
# for its rating) but already resolved, so it can no longer become overdue; counting it would
# also put it twice into the on-time denominator (once resolved, once overdue).
AWAITING_ACTION_CODES = tuple(code for code in OPEN_STATE_CODES if code not in RESOLVED_STATE_CODES)


def visible_issue_condition(*, staff: bool):
    """The one rule of which issues a viewer sees. Staff (who may see personal data: admins, the
    committee, grid leaders) see every live issue, residents' reports waiting for screening
    included. Everyone else (representatives, the public, display screens, Open311 and the
    resident pages) sees only the loop's issues: never a resident's report before it is screened,
    nor one screened out (spam, not community business, merged into another issue). The figures
    count the same issues as the latter (`_live`)."""
    live = Issue.deleted_at.is_(None)
    if staff:
        return live
    screened_out = select(ResidentReport.issue_id).where(ResidentReport.outcome.in_([o.value for o in SCREENED_OUT]))
    return and_(live, Issue.awaiting_screening.is_(False), Issue.id.not_in(screened_out))


def _live():
    """The issues every figure counts: those anyone may see (visible_issue_condition)."""
    return visible_issue_condition(staff=False)


def _in_grid(grid_id: int | None):
    return true() if grid_id is None else Issue.grid_id == grid_id


def _is_open():
    return Issue.state.in_(OPEN_STATE_CODES)


def _is_overdue(on: date):
    return and_(Issue.state.in_(AWAITING_ACTION_CODES), Issue.due_date < on)


def _resolved_between(start: date, end: date):
    low, high = datetime_range(start, end)
    return and_(Issue.state.in_(RESOLVED_STATE_CODES), Issue.resolved_at >= low, Issue.resolved_at < high)


def _reported_between(start: date, end: date):
    low, high = datetime_range(start, end)
    return and_(Issue.reported_at >= low, Issue.reported_at < high)


def _count_where(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- headline -------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssueHeadline:
    open_issues: int
    overdue: int
    reported: int
    resolved: int
    median_days_to_resolve: float | None
    share_resolved_in_grid: float | None
    mean_rating: float | None
    share_satisfied: float | None
    on_time_share: float | None


@dataclass(frozen=True)
class _HeadlinePart:
    """issue_headline's counts of one community (gongzhi.parts), added up over communities."""

    counts: tuple[int, ...]  # open, overdue, reported, resolved, resolved in grid, resolved on time
    ratings: tuple[int, int, int]  # ratings given in the period: how many, their sum, how many satisfied
    days: tuple[float, ...]  # days to resolve of the issues resolved in the period, ascending


def _headline_parts(session: Session, parts: Parts, start: date, end: date, grid_id: int | None,
                    on: date) -> dict[int, _HeadlinePart]:
    """issue_headline per community, for `parts`: one pass per figure, grouped by grid."""
    scope = and_(_live(), _in_grid(grid_id), grid_in_parts(Issue.grid_id, parts))
    resolved_in_period = _resolved_between(start, end)
    counts = session.execute(
        select(
            Issue.grid_id,
            _count_where(_is_open()),
            _count_where(_is_overdue(on)),
            _count_where(_reported_between(start, end)),
            _count_where(resolved_in_period),
            _count_where(and_(resolved_in_period, Issue.resolved_in_grid.is_(True))),
            _count_where(and_(resolved_in_period, Issue.resolved_on_time.is_(True))),
        ).where(scope).group_by(Issue.grid_id)
    ).all()
    low, high = datetime_range(start, end)
    ratings = session.execute(
        select(Issue.grid_id, func.count(Rating.id), func.coalesce(func.sum(Rating.rating), 0),
               _count_where(Rating.rating >= SATISFIED_MIN_RATING))
        .join(Issue, Issue.id == Rating.issue_id)
        .where(scope, Rating.created_at >= low, Rating.created_at < high).group_by(Issue.grid_id)
    ).all()
    days = session.execute(
        select(Issue.grid_id, Issue.days_to_resolve)
        .where(scope, resolved_in_period, Issue.days_to_resolve.is_not(None))
    ).all()
    parts_of = grid_parts(session)
    counts_by_part, ratings_by_part, days_by_part = (fold(rows, parts_of) for rows in (counts, ratings, days))
    return {part: _HeadlinePart(
        counts=tuple(sum(int(row[i]) for row in counts_by_part.get(part, ())) for i in range(1, 7)),
        ratings=tuple(sum(int(row[i]) for row in ratings_by_part.get(part, ())) for i in range(1, 4)),
        days=tuple(sorted(float(row[1]) for row in days_by_part.get(part, ()))),
    ) for part in counts_by_part.keys() | ratings_by_part.keys()}


def _median(values: list[float]) -> float | None:
    """The middle value, or the mean of the middle two."""
    n = len(values)
    if n == 0:
        return None
    middle = values[(n - 1) // 2:(n - 1) // 2 + 1] if n % 2 else values[n // 2 - 1:n // 2 + 1]
    return float(sum(middle)) / len(middle)


@reads(Area, Issue, Rating)
def issue_headline(*, session: Session, start: date, end: date, grid_id: int | None = None) -> IssueHeadline:
    """Open and overdue are today's snapshot (overdue: past its due date and not yet resolved);
    the rest count what happened in [start, end]. On-time share counts open overdue issues in
    its denominator (DOMAIN.md). Counted per community (gongzhi.parts): after a save only the
    community written is counted again."""
    on = today()
    parts = by_part(session, issue_headline, "issues",
                    lambda chosen: _headline_parts(session, chosen, start, end, grid_id, on),
                    start=start, end=end, grid_id=grid_id).values()
    open_issues, overdue, reported, resolved, resolved_in_grid, resolved_on_time = (
        sum(part.counts[i] for part in parts) for i in range(6))
    rating_count, rating_sum, satisfied = (sum(part.ratings[i] for part in parts) for i in range(3))
    return IssueHeadline(
        open_issues=open_issues,
        overdue=overdue,
        reported=reported,
        resolved=resolved,
        median_days_to_resolve=_median(sorted(day for part in parts for day in part.days)),
        share_resolved_in_grid=share(resolved_in_grid, resolved),
        mean_rating=rating_sum / rating_count if rating_count else None,
        share_satisfied=share(satisfied, rating_count),
        on_time_share=share(resolved_on_time, resolved + overdue),
    )


# --- breakdowns -----------------------------------------------------------------------------

def _by_grid_parts(session: Session, parts: Parts, start: date, end: date, on: date) -> dict[int, dict]:
    rows = session.execute(
        select(Issue.grid_id, _count_where(_is_open()), _count_where(_is_overdue(on)),
               _count_where(_reported_between(start, end)))
        .where(_live(), grid_in_parts(Issue.grid_id, parts)).group_by(Issue.grid_id)
    ).all()
    return {part: {row[0]: tuple(int(value) for value in row[1:]) for row in grid_rows}
            for part, grid_rows in fold(rows, grid_parts(session)).items()}


@reads(Area, Issue)
def issues_by_grid(*, session: Session, start: date, end: date) -> pd.DataFrame:
    """One row per grid (zeros included): open and overdue now, reported in the period.
    Counted per community (gongzhi.parts)."""
    on = today()
    counts: dict[int, tuple[int, ...]] = {}
    for grids in by_part(session, issues_by_grid, "issues", lambda chosen: _by_grid_parts(session, chosen, start, end, on),
                         start=start, end=end).values():
        counts.update(grids)
    grids = session.execute(select(Area.id).where(Area.level == AreaLevel.GRID, Area.deleted_at.is_(None))
                            .order_by(Area.code)).scalars().all()
    return pd.DataFrame([(int(grid), *counts.get(grid, (0, 0, 0))) for grid in grids],
                        columns=["grid_id", "open_issues", "overdue", "reported"])


def _by_state_parts(session: Session, parts: Parts, grid_id: int | None) -> dict[int, dict[str, int]]:
    rows = session.execute(
        select(Issue.grid_id, Issue.state, func.count(Issue.id))
        .where(_live(), _in_grid(grid_id), _is_open(), grid_in_parts(Issue.grid_id, parts))
        .group_by(Issue.grid_id, Issue.state)
    ).all()
    by_part_rows = fold(rows, grid_parts(session))
    return {part: {state: sum(int(n) for _, s, n in grid_rows if s == state) for state in OPEN_STATE_CODES}
            for part, grid_rows in by_part_rows.items()}


@reads(Area, Issue)
def open_by_state(*, session: Session, grid_id: int | None = None) -> pd.DataFrame:
    """Open issues now, per state in loop order (every open state, zeros included)."""
    parts = by_part(session, open_by_state, "issues", lambda chosen: _by_state_parts(session, chosen, grid_id),
                    grid_id=grid_id).values()
    return pd.DataFrame({"state": list(OPEN_STATE_CODES),
                         "count": [sum(part[state] for part in parts) for state in OPEN_STATE_CODES]})


@reads(Issue)
def issues_by_category(*, session: Session, start: date, end: date, grid_id: int | None = None) -> pd.DataFrame:
    """Per category (all of them, zeros included, most reported first): issues reported in the
    period, and how many of those are still open."""
    rows = dict((r.category, (int(r.reported), int(r.still_open))) for r in session.execute(
        select(Issue.category, func.count(Issue.id).label("reported"), _count_where(_is_open()).label("still_open"))
        .where(_live(), _in_grid(grid_id), _reported_between(start, end))
        .group_by(Issue.category)
    ).all())
    frame = pd.DataFrame(
        [(code, *rows.get(code, (0, 0))) for code in ISSUE_CATEGORIES], columns=["category", "reported", "still_open"])
    return frame.sort_values(["reported", "category"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _trend_parts(session: Session, parts: Parts, start: date, end: date,
                 grid_id: int | None) -> dict[int, dict[tuple[str, str], int]]:
    """Per community: {(month, "reported" or "resolved"): issues}."""
    parts_of = grid_parts(session)
    rows_by_part: dict[int, list[tuple]] = {}
    for name, column, condition in (("reported", Issue.reported_at, _reported_between(start, end)),
                                    ("resolved", Issue.resolved_at, _resolved_between(start, end))):
        month = month_key(column)
        rows = session.execute(
            select(Issue.grid_id, month, func.count(Issue.id))
            .where(_live(), _in_grid(grid_id), condition, grid_in_parts(Issue.grid_id, parts))
            .group_by(Issue.grid_id, month)
        ).all()
        for part, grid_rows in fold(rows, parts_of).items():
            rows_by_part.setdefault(part, []).extend(((label, name), int(n)) for _, label, n in grid_rows)
    return {part: totals(pairs) for part, pairs in rows_by_part.items()}


@reads(Area, Issue)
def monthly_issue_trend(*, session: Session, start: date, end: date, grid_id: int | None = None) -> pd.DataFrame:
    """Issues reported and resolved per month, every month of the period (counted per community,
    gongzhi.parts)."""
    counted = totals(item for counts in by_part(session, monthly_issue_trend, "issues",
                                                lambda chosen: _trend_parts(session, chosen, start, end, grid_id),
                                                start=start, end=end, grid_id=grid_id).values()
                     for item in counts.items())

    def per_month(name: str) -> pd.DataFrame:
        return pd.DataFrame([(month, n) for (month, kind), n in sorted(counted.items()) if kind == name],
                            columns=["month", name])

    frame = fill_months(per_month("reported"), start, end, ["reported"]).merge(
        fill_months(per_month("resolved"), start, end, ["resolved"]), on="month")
    return frame.astype({"reported": int, "resolved": int})


@reads(Area, Issue)
def overdue_issues(*, session: Session, grid_id: int | None = None, limit: int = 20) -> pd.DataFrame:
    """Open issues not yet resolved and past their due date, most overdue first."""
    on = today()
    rows = session.execute(
        select(Issue.id, Issue.title, Area.name.label("grid_name"), Issue.state, Issue.due_date)
        .join(Area, Area.id == Issue.grid_id)
        .where(_live(), _in_grid(grid_id), _is_overdue(on))
        .order_by(Issue.due_date, Issue.id)
        .limit(limit)
    ).all()
    return pd.DataFrame([(*r, (on - r.due_date).days) for r in rows],
                        columns=["id", "title", "grid_name", "state", "due_date", "days_overdue"])


# --- list, detail, timeline ------------------------------------------------------------------

LIST_COLUMNS = ["id", "title", "category", "state", "grid_id", "grid_name", "reported_at", "due_date", "overdue",
                "lead_org", "rating", "reporter"]


@reads(Area, Issue, Organisation, Person)
def list_issues(*, session: Session, states: tuple[str, ...] = (), category: str | None = None,
                grid_id: int | None = None, overdue_only: bool = False, start: date | None = None,
                end: date | None = None, include_open: bool = False, may_see_personal_data: bool = False,
                limit: int = 500) -> pd.DataFrame:
    """Issues newest first, filtered by state(s), category, grid, overdue now, and reported
    between start and end (each bound optional). With include_open, issues still open are listed
    even when reported before start: the period picks which finished work to show, and nothing
    open drops off the list. `reporter` is the reporter's name only for viewers who may see
    personal data, and blank otherwise (also blank when anonymous)."""
    on = today()
    reporter = Person.name if may_see_personal_data else literal("")
    query = (
        select(Issue.id, Issue.title, Issue.category, Issue.state, Issue.grid_id, Area.name.label("grid_name"),
               Issue.reported_at, Issue.due_date, case((_is_overdue(on), True), else_=False).label("overdue"),
               Organisation.name.label("lead_org"), Issue.rating, reporter.label("reporter"))
        .join(Area, Area.id == Issue.grid_id)
        .outerjoin(Organisation, Organisation.id == Issue.lead_org_id)
        .where(visible_issue_condition(staff=may_see_personal_data), _in_grid(grid_id))
    )
    if may_see_personal_data:
        query = query.outerjoin(Person, Person.id == Issue.reporter_id)
    if states:
        query = query.where(Issue.state.in_(tuple(states)))
    if category:
        query = query.where(Issue.category == category)
    if overdue_only:
        query = query.where(_is_overdue(on))
    if start is not None:
        after_start = Issue.reported_at >= datetime_range(start, start)[0]
        query = query.where(or_(after_start, _is_open()) if include_open else after_start)
    if end is not None:
        query = query.where(Issue.reported_at < datetime_range(end, end)[1])
    rows = session.execute(query.order_by(Issue.reported_at.desc(), Issue.id.desc()).limit(limit)).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=LIST_COLUMNS)
    frame["overdue"] = frame["overdue"].astype(bool)
    frame["reporter"] = frame["reporter"].fillna("")
    frame["lead_org"] = frame["lead_org"].fillna("")
    return frame


@dataclass(frozen=True)
class RatingRecord:
    rating: int
    fix_status: str
    comment: str
    rated_by: str  # blank for viewers who may not see personal data
    created_at: datetime


@dataclass(frozen=True)
class IssueDetail:
    id: int
    version: int
    title: str
    description: str
    category: str
    state: str
    grid_id: int
    grid_name: str
    building_name: str | None
    reporter: str | None  # None when anonymous, or hidden from this viewer (see reporter_hidden)
    reporter_hidden: bool
    reported_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    due_date: date
    overdue: bool
    days_to_resolve: float | None
    resolved_on_time: bool | None
    resolved_in_grid: bool | None
    went_to_meeting: bool
    lead_org_id: int | None
    lead_org_name: str | None
    cooperators: tuple[tuple[int, str], ...]  # (organisation id, name)
    reject_reason: str | None
    duplicate_of_id: int | None
    rating: int | None
    fix_status: str | None
    reopen_count: int
    ratings: tuple[RatingRecord, ...]  # oldest first
    lat: float | None
    lon: float | None


@reads(Area, Issue, IssueCooperator, Organisation, Person, Rating)
def issue_detail(*, session: Session, issue_id: int, may_see_personal_data: bool) -> IssueDetail | None:
    """One issue with its names resolved, co-operators and ratings; None when it does not exist
    (or was deleted)."""
    building = aliased(Area)
    row = session.execute(
        select(Issue, Area.name.label("grid_name"), building.name.label("building_name"),
               Organisation.name.label("lead_org_name"), Person.name.label("reporter_name"))
        .join(Area, Area.id == Issue.grid_id)
        .outerjoin(building, building.id == Issue.building_id)
        .outerjoin(Organisation, Organisation.id == Issue.lead_org_id)
        .outerjoin(Person, Person.id == Issue.reporter_id)
        .where(Issue.id == issue_id, visible_issue_condition(staff=may_see_personal_data))
    ).first()
    if row is None:
        return None
    issue: Issue = row.Issue
    cooperators = tuple((int(i), name) for i, name in session.execute(
        select(Organisation.id, Organisation.name)
        .join(IssueCooperator, IssueCooperator.organisation_id == Organisation.id)
        .where(IssueCooperator.issue_id == issue_id).order_by(Organisation.name)
    ).all())
    ratings = tuple(
        RatingRecord(rating=r.rating, fix_status=r.fix_status, comment=r.comment,
                     rated_by=r.rated_by if may_see_personal_data else "", created_at=r.created_at)
        for r in session.execute(
            select(Rating.rating, Rating.fix_status, Rating.comment, Rating.rated_by, Rating.created_at)
            .where(Rating.issue_id == issue_id).order_by(Rating.created_at, Rating.id)
        ).all()
    )
    return IssueDetail(
        id=issue.id, version=issue.version, title=issue.title, description=issue.description,
        category=issue.category, state=issue.state, grid_id=issue.grid_id, grid_name=row.grid_name,
        building_name=row.building_name,
        reporter=row.reporter_name if may_see_personal_data else None,
        reporter_hidden=not may_see_personal_data,
        reported_at=issue.reported_at, first_response_at=issue.first_response_at, resolved_at=issue.resolved_at,
        closed_at=issue.closed_at, due_date=issue.due_date,
        overdue=issue.state in AWAITING_ACTION_CODES and issue.due_date < today(),
        days_to_resolve=issue.days_to_resolve, resolved_on_time=issue.resolved_on_time,
        resolved_in_grid=issue.resolved_in_grid, went_to_meeting=issue.went_to_meeting,
        lead_org_id=issue.lead_org_id, lead_org_name=row.lead_org_name, cooperators=cooperators,
        reject_reason=issue.reject_reason, duplicate_of_id=issue.duplicate_of_id, rating=issue.rating,
        fix_status=issue.fix_status, reopen_count=issue.reopen_count, ratings=ratings, lat=issue.lat, lon=issue.lon,
    )


TIMELINE_COLUMNS = ["id", "kind", "from_state", "to_state", "actor", "actor_role", "note", "meeting_id", "created_at"]


@reads(TimelineEntry)
def issue_timeline(*, session: Session, issue_id: int) -> pd.DataFrame:
    """Every line of an issue's timeline, oldest first."""
    rows = session.execute(
        select(TimelineEntry.id, TimelineEntry.kind, TimelineEntry.from_state, TimelineEntry.to_state,
               TimelineEntry.actor, TimelineEntry.actor_role, TimelineEntry.note, TimelineEntry.meeting_id,
               TimelineEntry.created_at)
        .where(TimelineEntry.issue_id == issue_id)
        .order_by(TimelineEntry.created_at, TimelineEntry.id)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=TIMELINE_COLUMNS)


@reads(Area, Person)
def reporter_choices(*, session: Session, may_see_personal_data: bool, grid_id: int | None = None) -> pd.DataFrame:
    """Residents who can be named as an issue's reporter (id, name, grid_name). Empty for viewers
    who may not see personal data: they report anonymously."""
    columns = ["id", "name", "grid_name"]
    if not may_see_personal_data:
        return pd.DataFrame(columns=columns)
    query = (select(Person.id, Person.name, Area.name.label("grid_name"))
             .outerjoin(Area, Area.id == Person.grid_id).where(Person.deleted_at.is_(None)))
    if grid_id is not None:
        query = query.where(Person.grid_id == grid_id)
    rows = session.execute(query.order_by(Person.name, Person.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


POINT_COLUMNS = ["id", "title", "state", "category", "grid_id", "lon", "lat"]


@reads(Area, Issue)
def issue_points(*, session: Session, start: date, end: date, include_closed: bool = False,
                 staff: bool = False) -> pd.DataFrame:
    """The issues the map draws as points, chosen as the issues page chooses them (list_issues with
    include_open: the open ones, and the finished ones reported between start and end), the
    finished ones (closed, closed unrated, rejected) only with include_closed. lon/lat may be
    None for an issue without a place."""
    low, high = datetime_range(start, end)
    query = (select(Issue.id, Issue.title, Issue.state, Issue.category, Issue.grid_id, Issue.lon, Issue.lat)
             .join(Area, Area.id == Issue.grid_id)
             .where(visible_issue_condition(staff=staff), or_(Issue.reported_at >= low, _is_open()),
                    Issue.reported_at < high))
    if not include_closed:
        query = query.where(_is_open())
    rows = session.execute(query.order_by(Issue.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=POINT_COLUMNS)
