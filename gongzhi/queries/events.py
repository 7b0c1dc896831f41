"""Events and participation, aggregated in SQL.

Participation rate (参与率) = unique named residents who took part in at least one event in the
period ÷ resident population. Only attendees who live in a grid count (the population is the sum
of grid populations); the anonymous headcount is reported beside it, never added to it. A grid
filter selects the events held for that grid (grid_id None = the whole community); for the
participants of a grid it selects the residents who live there, whichever event they went to."""

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from sqlalchemy import ColumnElement, distinct, func, or_, select, true
from sqlmodel import Session

from gongzhi.clock import now
from gongzhi.domain import AreaLevel
from gongzhi.models import Area, Attendance, Event, EventNamed, Organisation, Person
from gongzhi.parts import Parts, by_part, fold, grid_in_parts, grid_parts, totals
from gongzhi.queries.common import datetime_range, fill_months, month_key, share
from gongzhi.revisions import reads

LIST_COLUMNS = ["id", "title", "kind", "host", "grid_id", "grid_name", "starts_at", "ends_at", "place", "capacity",
                "named_attendance", "headcount", "total"]
UPCOMING_COLUMNS = ["id", "title", "kind", "starts_at", "place", "grid_id", "grid_name"]


@dataclass(frozen=True)
class EventHeadline:
    events: int
    named_attendance: int
    headcount: int
    participants: int
    participation_rate: float | None


@dataclass(frozen=True)
class EventDetail:
    id: int
    title: str
    kind: str
    host_org_id: int | None
    host: str | None
    grid_id: int | None  # None = the whole community
    grid_name: str | None
    starts_at: datetime
    ends_at: datetime
    place: str
    capacity: int | None
    headcount: int
    description: str
    version: int
    named_attendance: int
    # (person id, label) of named attendees; empty unless the viewer may see personal data
    attendees: tuple[tuple[int, str], ...] = field(default_factory=tuple)

    @property
    def total_attendance(self) -> int:
        return self.named_attendance + self.headcount


def chosen_events(start: date | None, end: date | None, grid_id: int | None) -> list[ColumnElement]:
    """The one rule of which events a period and grid choose: live, starting in [start, end]
    (either bound optional), held for `grid_id` (None: any)."""
    conditions: list[ColumnElement] = [Event.deleted_at.is_(None)]
    if start is not None:
        conditions.append(Event.starts_at >= datetime_range(start, start)[0])
    if end is not None:
        conditions.append(Event.starts_at < datetime_range(end, end)[1])
    if grid_id is not None:
        conditions.append(Event.grid_id == grid_id)
    return conditions


def _live_grid() -> list[ColumnElement]:
    return [Area.level == AreaLevel.GRID, Area.deleted_at.is_(None)]


def _named_rows():
    """Attendance rows of persons not deleted, joined to their event."""
    return (select().select_from(Attendance)
            .join(Event, Event.id == Attendance.event_id)
            .join(Person, Person.id == Attendance.person_id)
            .where(Person.deleted_at.is_(None)))


def _attendance_parts(session: Session, parts: Parts, events_where: list[ColumnElement],
                      residents_of: int | None = None) -> dict[int, dict[int | None, tuple[int, int]]]:
    """Per community of the attendees (gongzhi.parts): {attendee's grid: (named attendance, unique
    attendees)} at the events `events_where` chooses, of persons not deleted (of grid
    `residents_of` only, when given). Unique attendees add up over grids: a person lives in one."""
    rows = session.execute(
        _named_rows().add_columns(Person.grid_id, func.count(Attendance.id), func.count(distinct(Attendance.person_id)))
        .where(*events_where, grid_in_parts(Person.grid_id, parts),
               true() if residents_of is None else Person.grid_id == residents_of)
        .group_by(Person.grid_id)
    ).all()
    return {part: {grid: (int(named), int(unique)) for grid, named, unique in grid_rows}
            for part, grid_rows in fold(rows, grid_parts(session)).items()}


def _attendance_by_grid(session: Session, query, events_where: list[ColumnElement], residents_of: int | None = None,
                        **arguments) -> dict[int | None, tuple[int, int]]:
    """_attendance_parts of every community, through gongzhi.parts: {attendee's grid: (named, unique)}."""
    found: dict[int | None, tuple[int, int]] = {}
    for grids in by_part(session, query, "attendance",
                         lambda chosen: _attendance_parts(session, chosen, events_where, residents_of),
                         **arguments).values():
        found.update(grids)
    return found


def _live_grid_ids(session: Session) -> set[int]:
    return set(session.execute(select(Area.id).where(*_live_grid())).scalars())


@reads(Area, Attendance, Event, Person)
def event_headline(*, session: Session, start: date, end: date, grid_id: int | None = None) -> EventHeadline:
    """Named attendance and participants are counted per community of the attendees
    (gongzhi.parts): after a tick only that community is counted again."""
    events_where = chosen_events(start, end, grid_id)
    events, headcount = session.execute(
        select(func.count(Event.id), func.coalesce(func.sum(Event.headcount), 0)).where(*events_where)
    ).one()
    population_query = select(func.coalesce(func.sum(Area.population), 0)).where(*_live_grid())
    by_grid = _attendance_by_grid(session, event_headline, events_where, start=start, end=end, grid_id=grid_id,
                                  figure="events")
    named = sum(named for named, _ in by_grid.values())
    live = _live_grid_ids(session)  # residents of a grid that is not live are not counted
    if grid_id is None:
        participants = sum(unique for grid, (_, unique) in by_grid.items() if grid in live)
    else:
        # The residents of the grid, whichever event they went to.
        residents = _attendance_by_grid(session, event_headline, chosen_events(start, end, None), residents_of=grid_id,
                                        start=start, end=end, grid_id=grid_id, figure="residents")
        participants = residents.get(grid_id, (0, 0))[1] if grid_id in live else 0
        population_query = population_query.where(Area.id == grid_id)
    population = session.execute(population_query).scalar_one()
    return EventHeadline(events=int(events), named_attendance=int(named), headcount=int(headcount),
                         participants=int(participants), participation_rate=share(participants, population))


@reads(Area, Attendance, Event, Person)
def participation_by_grid(*, session: Session, start: date, end: date) -> pd.DataFrame:
    """One row per grid (all grids): population, unique residents of the grid who took part in
    any event of the period, and their rate (None when the population is 0). Counted per
    community (gongzhi.parts)."""
    by_grid = _attendance_by_grid(session, participation_by_grid, chosen_events(start, end, None), start=start, end=end)
    # Residents of a grid that is not live drop out: only live grids are listed.
    rows = session.execute(select(Area.id, Area.name, Area.population).where(*_live_grid()).order_by(Area.code)).all()
    return pd.DataFrame(
        [{"grid_id": grid, "grid_name": name, "population": int(population or 0),
          "participants": by_grid.get(grid, (0, 0))[1], "rate": share(by_grid.get(grid, (0, 0))[1], population)}
         for grid, name, population in rows],
        columns=["grid_id", "grid_name", "population", "participants", "rate"])


@reads(Area, Event)
def upcoming_events(*, session: Session, grid_id: int | None = None, limit: int = 10) -> pd.DataFrame:
    rows = session.execute(
        select(Event.id, Event.title, Event.kind, Event.starts_at, Event.place, Event.grid_id,
               Area.name.label("grid_name"))
        .outerjoin(Area, Area.id == Event.grid_id)
        .where(*chosen_events(None, None, grid_id), Event.starts_at >= now())
        .order_by(Event.starts_at, Event.id).limit(limit)
    ).mappings().all()
    return pd.DataFrame(rows, columns=UPCOMING_COLUMNS)


def _monthly_named_parts(session: Session, parts: Parts, events_where: list[ColumnElement]) -> dict[int, dict[str, int]]:
    """Per community of the attendees: {month: named attendance}."""
    month = month_key(Event.starts_at)
    rows = session.execute(
        _named_rows().add_columns(Person.grid_id, month, func.count(Attendance.id))
        .where(*events_where, grid_in_parts(Person.grid_id, parts)).group_by(Person.grid_id, month)
    ).all()
    return {part: totals((label, int(named)) for _, label, named in grid_rows)
            for part, grid_rows in fold(rows, grid_parts(session)).items()}


@reads(Area, Attendance, Event, Person)
def monthly_participation(*, session: Session, start: date, end: date, grid_id: int | None = None) -> pd.DataFrame:
    """Every month of the period: events held, and attendance = named + anonymous headcount. The
    named attendance is counted per community of the attendees (gongzhi.parts)."""
    events_where = chosen_events(start, end, grid_id)
    month = month_key(Event.starts_at)
    per_month: dict[str, dict[str, int]] = {}
    for label, events, headcount in session.execute(
        select(month, func.count(Event.id), func.coalesce(func.sum(Event.headcount), 0))
        .where(*events_where).group_by(month)
    ).all():
        per_month[label] = {"events": int(events), "headcount": int(headcount), "named_attendance": 0}
    named_by_month = totals(item for months in by_part(session, monthly_participation, "attendance",
                                                       lambda chosen: _monthly_named_parts(session, chosen, events_where),
                                                       start=start, end=end, grid_id=grid_id).values()
                            for item in months.items())
    for label, named in named_by_month.items():
        per_month.setdefault(label, {"events": 0, "headcount": 0})["named_attendance"] = named
    frame = pd.DataFrame([{"month": label, **values} for label, values in sorted(per_month.items())],
                         columns=["month", "events", "named_attendance", "headcount"])
    frame = fill_months(frame, start, end, ["events", "named_attendance", "headcount"])
    frame[["events", "named_attendance", "headcount"]] = frame[["events", "named_attendance", "headcount"]].astype(int)
    frame["attendance"] = frame["named_attendance"] + frame["headcount"]
    return frame[["month", "events", "attendance", "named_attendance", "headcount"]]


@reads(Area, Event, EventNamed, Organisation)
def list_events(*, session: Session, start: date | None = None, end: date | None = None, grid_id: int | None = None,
                kind: str | None = None, upcoming: bool | None = None) -> pd.DataFrame:
    """Events starting in [start, end] (either bound optional). upcoming=True: not started yet,
    soonest first; False: already started, latest first; None: both, latest first.
    grid_name is None for an event of the whole community."""
    moment = now()
    listed = chosen_events(start, end, grid_id)
    if kind is not None:
        listed.append(Event.kind == kind)
    if upcoming is not None:
        listed.append(Event.starts_at >= moment if upcoming else Event.starts_at < moment)
    # The named attendance from the summary the database keeps (models.EventNamed), not counted
    # again over every listed event's attendance records.
    query = (select(Event.id, Event.title, Event.kind, Organisation.name.label("host"), Event.grid_id,
                    Area.name.label("grid_name"), Event.starts_at, Event.ends_at, Event.place, Event.capacity,
                    func.coalesce(EventNamed.named, 0).label("named_attendance"), Event.headcount)
             .outerjoin(Organisation, Organisation.id == Event.host_org_id)
             .outerjoin(Area, Area.id == Event.grid_id)
             .outerjoin(EventNamed, EventNamed.event_id == Event.id)
             .where(*listed))
    if upcoming is True:
        query = query.order_by(Event.starts_at, Event.id)
    else:
        query = query.order_by(Event.starts_at.desc(), Event.id.desc())
    frame = pd.DataFrame(session.execute(query).mappings().all(), columns=LIST_COLUMNS[:-1])
    frame["capacity"] = frame["capacity"].astype("Int64")
    frame["total"] = frame["named_attendance"] + frame["headcount"]
    return frame


def person_label(name: str, phone: str | None) -> str:
    """'王芳 (…1234)': the last four digits tell namesakes apart without showing the number."""
    return f"{name} (…{phone[-4:]})" if phone else name


@reads(Area, Attendance, Event, Organisation, Person)
def event_detail(*, session: Session, event_id: int, may_see_personal_data: bool) -> EventDetail | None:
    """One event with its version (for edits) and attendance. Attendee names are personal data:
    without the right to see them only the counts are returned. None when there is no such event."""
    row = session.execute(
        select(Event, Organisation.name, Area.name)
        .outerjoin(Organisation, Organisation.id == Event.host_org_id)
        .outerjoin(Area, Area.id == Event.grid_id)
        .where(Event.id == event_id, Event.deleted_at.is_(None))
    ).first()
    if row is None:
        return None
    event, host, grid_name = row
    named = session.execute(_named_rows().add_columns(func.count(Attendance.id))
                            .where(Attendance.event_id == event_id)).scalar_one()
    attendees: tuple[tuple[int, str], ...] = ()
    if may_see_personal_data:
        attendees = tuple(
            (person_id, person_label(name, phone)) for person_id, name, phone in session.execute(
                _named_rows().add_columns(Person.id, Person.name, Person.phone)
                .where(Attendance.event_id == event_id).order_by(Person.name, Person.id)).all())
    return EventDetail(id=event.id, title=event.title, kind=event.kind, host_org_id=event.host_org_id, host=host,
                       grid_id=event.grid_id, grid_name=grid_name, starts_at=event.starts_at, ends_at=event.ends_at,
                       place=event.place, capacity=event.capacity, headcount=event.headcount,
                       description=event.description, version=event.version, named_attendance=int(named),
                       attendees=attendees)


@reads(Person)
def people_options(*, session: Session, grid_id: int | None = None, search: str | None = None, limit: int = 200,
                   may_see_personal_data: bool = False) -> pd.DataFrame:
    """Residents to pick as named attendees: id and a label (name + last four phone digits).
    Names are personal data, so a viewer without that right gets no options."""
    if not may_see_personal_data:
        return pd.DataFrame(columns=["id", "label"])
    query = select(Person.id, Person.name, Person.phone).where(Person.deleted_at.is_(None))
    if grid_id is not None:
        query = query.where(Person.grid_id == grid_id)
    text = (search or "").strip()
    if text:
        query = query.where(or_(Person.name.contains(text, autoescape=True),
                                Person.phone.contains(text, autoescape=True)))
    rows = session.execute(query.order_by(Person.name, Person.id).limit(limit)).all()
    return pd.DataFrame([{"id": person_id, "label": person_label(name, phone)} for person_id, name, phone in rows],
                        columns=["id", "label"])
