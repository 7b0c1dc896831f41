"""Reading the volunteer roster: headline figures, hours by month and by grid, star levels, the
roster table and one volunteer's record. Hours are summed in SQL; soft-deleted volunteers (and
so their service records) are left out everywhere."""

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import and_, case, func, literal, select
from sqlmodel import Session

from gongzhi.clock import today
from gongzhi.domain import STAR_THRESHOLDS, AreaLevel, VolunteerStatus
from gongzhi.models import (
    Area,
    Event,
    Issue,
    Organisation,
    Person,
    ServiceRecord,
    TeamMembership,
    Volunteer,
    VolunteerHours,
)
from gongzhi.privacy import display_phone
from gongzhi.queries.common import fill_months, month_key, twelve_months_start
from gongzhi.revisions import reads

STAR_LEVELS = list(range(max(stars for stars, _ in STAR_THRESHOLDS) + 1))  # 0 (no star yet) .. 5
TEAM_LOOKUP_IDS = 500  # more volunteers than this: their teams are read from every membership
MILLIHOURS_PER_HOUR = 1000  # volunteerhours.total_millihours counts thousandths of an hour

ROSTER_COLUMNS = ["id", "name", "phone", "grid_id", "grid_name", "skills", "teams", "status", "joined_on",
                  "total_hours", "hours_12m", "stars"]


@dataclass(frozen=True)
class VolunteerHeadline:
    active_volunteers: int
    volunteers_served: int
    service_hours: float


@dataclass(frozen=True)
class VolunteerDetail:
    """One volunteer as the edit form needs them; `version` goes back as expected_version."""

    id: int
    name: str
    phone: str  # displayed: masked unless the viewer may see personal data
    grid_id: int | None
    grid_name: str | None
    skills: tuple[str, ...]
    status: str
    joined_on: date
    team_ids: tuple[int, ...]
    team_names: tuple[str, ...]
    note: str
    version: int
    total_hours: float
    stars: int


def _live_volunteers():
    return Volunteer.deleted_at.is_(None)


def _star_case(hours, *, per_hour: int = 1):
    """Star level of a cumulative-hours expression, in SQL (thresholds from the domain); in
    `per_hour` parts of an hour (1000: the thousandths of the volunteerhours summary)."""
    return case(*[(hours >= minimum * per_hour, stars) for stars, minimum in STAR_THRESHOLDS], else_=0)


def _hours_12m_per_volunteer(volunteer_ids: list[int] | None = None):
    """Subquery: volunteer_id, hours served in the last 12 months (only those months' records), of
    every volunteer or of `volunteer_ids`."""
    since = twelve_months_start(today())
    query = (select(ServiceRecord.volunteer_id.label("volunteer_id"), func.sum(ServiceRecord.hours).label("hours_12m"))
             .where(ServiceRecord.served_on >= since))
    if volunteer_ids is not None:
        query = query.where(ServiceRecord.volunteer_id.in_(volunteer_ids))
    return query.group_by(ServiceRecord.volunteer_id).subquery()


def _total_hours():
    """All-time hours from the volunteerhours summary (outer-joined on Volunteer.id), not from a
    pass over every service record; in thousandths, so the same total the star levels count."""
    return func.coalesce(VolunteerHours.total_millihours, 0)


@reads(ServiceRecord, Volunteer)
def volunteer_headline(*, session: Session, start: date, end: date, grid_id: int | None = None) -> VolunteerHeadline:
    """Active volunteers now; distinct volunteers who served and hours served between start and
    end (inclusive dates). With grid_id: volunteers of that grid."""
    active = select(func.count(Volunteer.id)).where(_live_volunteers(), Volunteer.status == VolunteerStatus.ACTIVE)
    served = (
        select(func.count(func.distinct(ServiceRecord.volunteer_id)), func.coalesce(func.sum(ServiceRecord.hours), 0.0))
        .join(Volunteer, Volunteer.id == ServiceRecord.volunteer_id)
        .where(_live_volunteers(), ServiceRecord.served_on >= start, ServiceRecord.served_on <= end)
    )
    if grid_id is not None:
        active = active.where(Volunteer.grid_id == grid_id)
        served = served.where(Volunteer.grid_id == grid_id)
    volunteers_served, hours = session.execute(served).one()
    return VolunteerHeadline(active_volunteers=int(session.execute(active).scalar_one()),
                             volunteers_served=int(volunteers_served), service_hours=float(hours or 0.0))


@reads(Area, Volunteer)
def volunteers_by_grid(*, session: Session) -> pd.DataFrame:
    """Active volunteers per grid, every grid (zeros included)."""
    rows = session.execute(
        select(Area.id.label("grid_id"), func.count(Volunteer.id).label("active_volunteers"))
        .select_from(Area)
        .outerjoin(Volunteer, and_(Volunteer.grid_id == Area.id, _live_volunteers(),
                                   Volunteer.status == VolunteerStatus.ACTIVE))
        .where(Area.level == AreaLevel.GRID, Area.deleted_at.is_(None))
        .group_by(Area.id)
        .order_by(Area.code)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["grid_id", "active_volunteers"])


@reads(ServiceRecord, Volunteer)
def monthly_hours(*, session: Session, start: date, end: date, grid_id: int | None = None) -> pd.DataFrame:
    """Service hours per month of the period (every month, 0 when none)."""
    month = month_key(ServiceRecord.served_on)
    query = (
        select(month.label("month"), func.sum(ServiceRecord.hours).label("hours"))
        .join(Volunteer, Volunteer.id == ServiceRecord.volunteer_id)
        .where(_live_volunteers(), ServiceRecord.served_on >= start, ServiceRecord.served_on <= end)
        .group_by(month)
    )
    if grid_id is not None:
        query = query.where(Volunteer.grid_id == grid_id)
    frame = pd.DataFrame([(r.month, float(r.hours)) for r in session.execute(query)], columns=["month", "hours"])
    return fill_months(frame, start, end, ["hours"])


def _roster_query(columns: list, *, grid_id: int | None, status: str | None, skill: str | None,
                  team_id: int | None, search: str | None):
    """The roster's rows with `columns`, filtered, most hours first: the one home of the roster's
    filters and order (the whole list and its pages)."""
    total = _total_hours()
    query = (
        select(*columns)
        .join(Person, Person.id == Volunteer.person_id)
        .outerjoin(Area, Area.id == Volunteer.grid_id)
        .outerjoin(VolunteerHours, VolunteerHours.volunteer_id == Volunteer.id)
        .where(_live_volunteers(), Person.deleted_at.is_(None))
        .order_by(total.desc(), Person.name, Volunteer.id)
    )
    if grid_id is not None:
        query = query.where(Volunteer.grid_id == grid_id)
    if status:
        query = query.where(Volunteer.status == status)
    if skill:
        # Skills are stored comma-separated; the commas around both sides match whole codes only.
        query = query.where((literal(",") + Volunteer.skills + literal(",")).contains(f",{skill},", autoescape=True))
    if team_id is not None:
        query = query.where(Volunteer.id.in_(
            select(TeamMembership.volunteer_id).where(TeamMembership.organisation_id == team_id)))
    if search and search.strip():
        query = query.where(func.lower(Person.name).contains(search.strip().lower(), autoescape=True))
    return query


def _roster_columns() -> list:
    total = _total_hours()
    return [Volunteer.id, Person.name, Person.phone, Volunteer.grid_id, Area.name.label("grid_name"),
            Volunteer.skills, Volunteer.status, Volunteer.joined_on, total.label("total_millihours"),
            _star_case(total, per_hour=MILLIHOURS_PER_HOUR).label("stars")]


def _roster_frame(session: Session, rows: list, hours_12m: dict[int, float], may_see_personal_data: bool) -> pd.DataFrame:
    teams = _team_names([row.id for row in rows], session)
    records = [
        (row.id, row.name, display_phone(row.phone, may_see=may_see_personal_data), row.grid_id, row.grid_name,
         [code for code in row.skills.split(",") if code], teams.get(row.id, []), row.status, row.joined_on,
         row.total_millihours / MILLIHOURS_PER_HOUR, float(hours_12m.get(row.id, 0.0)), int(row.stars))
        for row in rows
    ]
    return pd.DataFrame(records, columns=ROSTER_COLUMNS)


@reads(Area, Organisation, Person, ServiceRecord, TeamMembership, Volunteer, VolunteerHours)
def volunteer_roster(*, session: Session, grid_id: int | None = None, status: str | None = None,
                     skill: str | None = None, team_id: int | None = None, search: str | None = None,
                     may_see_personal_data: bool = False) -> pd.DataFrame:
    """The roster, most hours first: one row per volunteer with the columns ROSTER_COLUMNS.
    `skills` is a list of skill codes and `teams` a list of team names; `phone` is masked unless
    the viewer may see personal data; `stars` comes from all-time hours."""
    hours = _hours_12m_per_volunteer()
    rows = session.execute(
        _roster_query([*_roster_columns(), func.coalesce(hours.c.hours_12m, 0.0).label("hours_12m")],
                      grid_id=grid_id, status=status, skill=skill, team_id=team_id, search=search)
        .outerjoin(hours, hours.c.volunteer_id == Volunteer.id)
    ).all()
    return _roster_frame(session, rows, {row.id: row.hours_12m for row in rows}, may_see_personal_data)


@reads(volunteer_roster)
def volunteer_roster_page(*, session: Session, first: int, stop: int, grid_id: int | None = None,
                          status: str | None = None, skill: str | None = None, team_id: int | None = None,
                          search: str | None = None, may_see_personal_data: bool = False) -> tuple[pd.DataFrame, int]:
    """Rows first:stop of volunteer_roster (the same rows, in the same order) and how many match,
    read a page at a time: a district's roster of 20,000 was rebuilt whole after every hour of
    service logged, to show 50 of them."""
    filters = {"grid_id": grid_id, "status": status, "skill": skill, "team_id": team_id, "search": search}
    count = session.execute(select(func.count()).select_from(
        _roster_query([Volunteer.id], **filters).order_by(None).subquery())).scalar_one()
    if stop <= first:
        return pd.DataFrame(columns=ROSTER_COLUMNS), int(count)
    rows = session.execute(_roster_query(_roster_columns(), **filters).offset(first).limit(stop - first)).all()
    hours = _hours_12m_per_volunteer([row.id for row in rows])  # of the page's volunteers only
    hours_12m = dict(session.execute(select(hours.c.volunteer_id, hours.c.hours_12m)).all()) if rows else {}
    return _roster_frame(session, rows, hours_12m, may_see_personal_data), int(count)


def _team_names(volunteer_ids: list[int], session: Session) -> dict[int, list[str]]:
    if not volunteer_ids:
        return {}
    names: dict[int, list[str]] = {}
    query = (select(TeamMembership.volunteer_id, Organisation.name)
             .join(Organisation, Organisation.id == TeamMembership.organisation_id)
             .where(Organisation.deleted_at.is_(None))
             .order_by(Organisation.name))
    # A roster of thousands: read every membership once and keep the roster's, rather than send
    # thousands of ids in an IN list.
    wanted = set(volunteer_ids)
    if len(wanted) <= TEAM_LOOKUP_IDS:
        query = query.where(TeamMembership.volunteer_id.in_(volunteer_ids))
    for volunteer_id, name in session.execute(query):
        if volunteer_id in wanted:
            names.setdefault(volunteer_id, []).append(name)
    return names


@reads(Area, Organisation, Person, TeamMembership, Volunteer, VolunteerHours)
def volunteer_detail(*, session: Session, volunteer_id: int, may_see_personal_data: bool) -> VolunteerDetail | None:
    """One volunteer for the edit form, or None when there is no such (live) volunteer."""
    total = _total_hours()
    row = session.execute(
        select(Volunteer.id, Person.name, Person.phone, Volunteer.grid_id, Area.name.label("grid_name"),
               Volunteer.skills, Volunteer.status, Volunteer.joined_on, Volunteer.note, Volunteer.version,
               total.label("total_millihours"), _star_case(total, per_hour=MILLIHOURS_PER_HOUR).label("stars"))
        .join(Person, Person.id == Volunteer.person_id)
        .outerjoin(Area, Area.id == Volunteer.grid_id)
        .outerjoin(VolunteerHours, VolunteerHours.volunteer_id == Volunteer.id)
        .where(Volunteer.id == volunteer_id, _live_volunteers())
    ).one_or_none()
    if row is None:
        return None
    teams = session.execute(
        select(Organisation.id, Organisation.name)
        .join(TeamMembership, TeamMembership.organisation_id == Organisation.id)
        .where(TeamMembership.volunteer_id == volunteer_id, Organisation.deleted_at.is_(None))
        .order_by(Organisation.name)
    ).all()
    return VolunteerDetail(
        id=row.id, name=row.name, phone=display_phone(row.phone, may_see=may_see_personal_data),
        grid_id=row.grid_id, grid_name=row.grid_name,
        skills=tuple(code for code in row.skills.split(",") if code), status=row.status, joined_on=row.joined_on,
        team_ids=tuple(team.id for team in teams), team_names=tuple(team.name for team in teams), note=row.note,
        version=row.version, total_hours=row.total_millihours / MILLIHOURS_PER_HOUR, stars=int(row.stars),
    )


@reads(Event, Issue, ServiceRecord)
def service_records(*, session: Session, volunteer_id: int, limit: int = 50) -> pd.DataFrame:
    """A volunteer's service records, newest first: id, served_on, hours, event, issue, note."""
    rows = session.execute(
        select(ServiceRecord.id, ServiceRecord.served_on, ServiceRecord.hours, Event.title.label("event"),
               Issue.title.label("issue"), ServiceRecord.note)
        .outerjoin(Event, and_(Event.id == ServiceRecord.event_id, Event.deleted_at.is_(None)))
        .outerjoin(Issue, and_(Issue.id == ServiceRecord.issue_id, Issue.deleted_at.is_(None)))
        .where(ServiceRecord.volunteer_id == volunteer_id)
        .order_by(ServiceRecord.served_on.desc(), ServiceRecord.id.desc())
        .limit(limit)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["id", "served_on", "hours", "event", "issue", "note"])


@reads(VolunteerHours, Volunteer)
def hours_by_star_level(*, session: Session, grid_id: int | None = None) -> pd.DataFrame:
    """How many volunteers hold each star level 0..5 (all-time hours), every level listed.
    Counts every volunteer on the roster whatever their status: a star, once earned, stays.
    From the volunteerhours summary (kept by the database in each write's transaction), not from
    every service record: a save does not make this figure cost a pass over all of them."""
    stars = _star_case(_total_hours(), per_hour=MILLIHOURS_PER_HOUR)
    query = (
        select(stars.label("stars"), func.count(Volunteer.id).label("volunteers"))
        .select_from(Volunteer)
        .outerjoin(VolunteerHours, VolunteerHours.volunteer_id == Volunteer.id)
        .where(_live_volunteers())
        .group_by(stars)
    )
    if grid_id is not None:
        query = query.where(Volunteer.grid_id == grid_id)
    counts = {int(row.stars): int(row.volunteers) for row in session.execute(query)}
    return pd.DataFrame([(level, counts.get(level, 0)) for level in STAR_LEVELS], columns=["stars", "volunteers"])


@reads(Area, Person, ServiceRecord, Volunteer)
def top_volunteers(*, session: Session, start: date, end: date, limit: int = 10,
                   grid_id: int | None = None) -> pd.DataFrame:
    """Volunteers with the most hours served between start and end: id, name, grid_name, hours."""
    # Sum the period's records per volunteer first, then join the few names: grouping after the
    # joins would carry every record through three joins and group on text.
    per_volunteer = (
        select(ServiceRecord.volunteer_id.label("volunteer_id"), func.sum(ServiceRecord.hours).label("hours"))
        .where(ServiceRecord.served_on >= start, ServiceRecord.served_on <= end)
        .group_by(ServiceRecord.volunteer_id).subquery()
    )
    query = (
        select(Volunteer.id, Person.name, Area.name.label("grid_name"), per_volunteer.c.hours)
        .select_from(per_volunteer)
        .join(Volunteer, Volunteer.id == per_volunteer.c.volunteer_id)
        .join(Person, Person.id == Volunteer.person_id)
        .outerjoin(Area, Area.id == Volunteer.grid_id)
        .where(_live_volunteers())
        .order_by(per_volunteer.c.hours.desc(), Person.name)
        .limit(limit)
    )
    if grid_id is not None:
        query = query.where(Volunteer.grid_id == grid_id)
    rows = session.execute(query).all()
    return pd.DataFrame([(r.id, r.name, r.grid_name, float(r.hours)) for r in rows],
                        columns=["id", "name", "grid_name", "hours"])
