"""Round-trip exports: data in exactly the columns an import reads (gongzhi.importing.schema), so
a file taken out can be edited in Excel and brought back: export -> import gives the same data.
(The lists people download to read, with the pages' columns, are gongzhi.exports.) Phone numbers are
masked for a role without personal-data rights; a grid leader gets their own grids only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from gongzhi import i18n
from gongzhi.domain import AreaLevel
from gongzhi.importing.schema import export_header
from gongzhi.models import (
    Area,
    Attendance,
    Event,
    Issue,
    Organisation,
    Person,
    Volunteer,
)
from gongzhi.permissions import Actor, Role
from gongzhi.privacy import display_phone
from gongzhi.revisions import reads
from gongzhi.spreadsheet import to_file

_MINUTE = "%Y-%m-%d %H:%M"


def _minute(value) -> str:
    return value.strftime(_MINUTE) if value is not None else ""


def _in_scope(query, grid_column, actor: Actor):
    if actor.role == Role.LEADER:
        return query.where(grid_column.in_(sorted(actor.grid_ids)))
    return query


def export_rows(session: Session, *, kind: str, actor: Actor, lang: str) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of one kind, as an import of that kind reads them."""
    phone = lambda value: display_phone(value, may_see=actor.may_see_personal_data)  # noqa: E731
    grid = aliased(Area)
    rows: list[list[Any]]
    if kind == "volunteers":
        query = (select(Person.name, Person.phone, grid.code, Volunteer.skills, Volunteer.status, Volunteer.joined_on,
                        Volunteer.note)
                 .join(Person, Person.id == Volunteer.person_id).outerjoin(grid, grid.id == Volunteer.grid_id)
                 .where(Volunteer.deleted_at.is_(None), Person.deleted_at.is_(None)).order_by(Volunteer.id))
        separator = "、" if lang == "zh-CN" else ", "
        rows = [[name, phone(number), code or "",
                 separator.join(i18n.label(lang, "skill", skill) for skill in skills.split(",") if skill),
                 i18n.label(lang, "volunteer_status", status), joined_on, note]
                for name, number, code, skills, status, joined_on, note in
                session.execute(_in_scope(query, Volunteer.grid_id, actor))]
    elif kind == "people":
        query = (select(Person.name, Person.phone, grid.code, Person.birth_year)
                 .outerjoin(grid, grid.id == Person.grid_id).where(Person.deleted_at.is_(None)).order_by(Person.id))
        rows = [[name, phone(number), code or "", birth_year]
                for name, number, code, birth_year in session.execute(_in_scope(query, Person.grid_id, actor))]
    elif kind == "population":
        query = (select(Area.code, Area.population, Area.households)
                 .where(Area.level == AreaLevel.GRID, Area.deleted_at.is_(None)).order_by(Area.code))
        rows = [list(row) for row in session.execute(_in_scope(query, Area.id, actor))]
    elif kind == "events":
        query = (select(Event, grid.code, Organisation.name).outerjoin(grid, grid.id == Event.grid_id)
                 .outerjoin(Organisation, Organisation.id == Event.host_org_id)
                 .where(Event.deleted_at.is_(None)).order_by(Event.starts_at, Event.id))
        rows = [[event.title, i18n.label(lang, "event_kind", event.kind), code or "", _minute(event.starts_at),
                 _minute(event.ends_at), event.place, host or "", event.capacity, event.headcount, event.description]
                for event, code, host in session.execute(_in_scope(query, Event.grid_id, actor))]
    elif kind == "attendance":
        query = (select(Event.title, Event.starts_at, Person.name, Person.phone)
                 .select_from(Attendance).join(Event, Event.id == Attendance.event_id)
                 .join(Person, Person.id == Attendance.person_id)
                 .where(Event.deleted_at.is_(None)).order_by(Event.starts_at, Event.id, Attendance.id))
        rows = [[title, _minute(starts_at), name, phone(number)]
                for title, starts_at, name, number in session.execute(_in_scope(query, Event.grid_id, actor))]
    elif kind == "issues":
        query = (select(Issue, grid.code).join(grid, grid.id == Issue.grid_id)
                 .where(Issue.deleted_at.is_(None)).order_by(Issue.id))
        rows = [[issue.title, i18n.label(lang, "category", issue.category), code, issue.description,
                 _minute(issue.reported_at), issue.lat, issue.lon]
                for issue, code in session.execute(_in_scope(query, Issue.grid_id, actor))]
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return export_header(kind, lang), rows


@reads(Area, Attendance, Event, Issue, Organisation, Person, Volunteer)
def export_file(session: Session, *, kind: str, fmt: str, actor: Actor, lang: str) -> bytes:
    """The export as CSV (UTF-8 with BOM) or XLSX bytes, formula-like cells neutralised."""
    header, rows = export_rows(session, kind=kind, actor=actor, lang=lang)
    return to_file(fmt, header, rows, sheet_title=kind)
