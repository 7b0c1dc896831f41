"""Taking data out: every list as CSV or XLSX (gongzhi.spreadsheet), built from the same queries
the pages use, with headers in the reader's language and personal data shown only to a role that
may see it; a full archive of every table for an admin; and everything held about one person
(a personal-data request under PIPL), admin only and written to the audit trail. Files in an
import's own columns, to edit and bring back, are gongzhi.importing.roundtrip."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, SQLModel

from gongzhi import i18n, spreadsheet
from gongzhi.audit import SECRET_COLUMNS
from gongzhi.clock import now
from gongzhi.domain import MeetingStatus
from gongzhi.errors import NotFound
from gongzhi.models import (
    Area,
    Attendance,
    AuditEntry,
    Event,
    EventNamed,
    Issue,
    Person,
    Rating,
    ServiceRecord,
    User,
    Volunteer,
)
from gongzhi.permissions import Actor, require_admin
from gongzhi.privacy import phone_for
from gongzhi.queries.events import chosen_events
from gongzhi.revisions import reads

LIST_KINDS = ("issues", "volunteers", "events", "attendance", "meetings", "decisions")
LIST_SEPARATOR = {"zh-CN": "、", "en": ", "}
# The audit trail's action for a read that took personal data out of the system.
EXPORT_ACTION = "export"


@dataclass(frozen=True)
class Table:
    """A table ready to be written: `name` is its file stem and sheet title."""

    name: str
    header: list[str]
    rows: list[list[Any]]

    def to_file(self, fmt: str) -> bytes:
        return spreadsheet.to_file(fmt, self.header, self.rows, sheet_title=self.name)


def file_name(name: str, fmt: str, at: datetime | None = None) -> str:
    """'gongzhi-issues-20260315-0930.csv': what, and as of when."""
    return f"gongzhi-{name}-{(at or now()):%Y%m%d-%H%M}.{fmt}"


def _blank(value: Any) -> Any:
    """pandas' missing values (NaN, NaT, <NA>) as empty cells; numpy scalars as Python ones."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # lists and other containers
        return value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


def _yes_no(lang: str, value: Any) -> str:
    value = _blank(value)
    if value is None:
        return ""
    return i18n.translate_plain(lang, "common.yes") if bool(value) else i18n.translate_plain(lang, "common.no")


def _columns(lang: str, spec: Sequence[tuple[str, Callable[[Any], Any]]], frame: pd.DataFrame) -> tuple[list, list]:
    """spec: (header i18n key, row -> value) pairs, applied to every row of `frame`."""
    header = [i18n.translate_plain(lang, key) for key, _ in spec]
    rows = [[_blank(get(row)) for _, get in spec] for row in frame.itertuples(index=False)]
    return header, rows


# --- the lists ---------------------------------------------------------------------------------

def issues_table(frame: pd.DataFrame, *, actor: Actor, lang: str) -> Table:
    """Rows of queries.issues.list_issues; the reporter only for roles that may see personal data
    (the query leaves it blank for the others), and never for a role that may not see names."""
    spec = [
        ("issues.col_id", lambda r: r.id),
        ("issues.col_title", lambda r: r.title),
        ("issues.col_state", lambda r: i18n.label(lang, "state", r.state)),
        ("issues.col_category", lambda r: i18n.label(lang, "category", r.category)),
        ("issues.col_grid", lambda r: r.grid_name),
        ("issues.col_reported_at", lambda r: r.reported_at),
        ("issues.col_due_date", lambda r: r.due_date),
        ("issues.col_overdue", lambda r: _yes_no(lang, r.overdue)),
        ("issues.col_lead_org", lambda r: r.lead_org),
        ("issues.col_rating", lambda r: r.rating),
    ]
    if actor.may_see_personal_data and actor.may_see_names:
        anonymous = i18n.translate_plain(lang, "issues.anonymous")
        spec.append(("issues.col_reporter", lambda r: r.reporter or anonymous))
    return Table("issues", *_columns(lang, spec, frame))


def volunteers_table(frame: pd.DataFrame, *, actor: Actor, lang: str) -> Table:
    """Rows of queries.volunteers.volunteer_roster, phones masked per row (phone_for)."""
    separator = LIST_SEPARATOR.get(lang, ", ")
    spec = []
    if actor.may_see_names:
        spec += [("volunteers.col_name", lambda r: r.name),
                 ("volunteers.col_phone", lambda r: phone_for(actor, r.phone, _blank(r.grid_id)))]
    spec += [
        ("volunteers.col_grid", lambda r: r.grid_name),
        ("volunteers.col_skills", lambda r: separator.join(i18n.label(lang, "skill", c) for c in r.skills)),
        ("volunteers.col_teams", lambda r: separator.join(r.teams)),
        ("volunteers.col_status", lambda r: i18n.label(lang, "volunteer_status", r.status)),
        ("exports.col_joined_on", lambda r: r.joined_on),
        ("volunteers.col_total_hours", lambda r: round(float(r.total_hours), 2)),
        ("volunteers.col_hours_12m", lambda r: round(float(r.hours_12m), 2)),
        ("volunteers.col_stars", lambda r: int(r.stars)),
    ]
    return Table("volunteers", *_columns(lang, spec, frame))


def events_table(frame: pd.DataFrame, *, actor: Actor, lang: str) -> Table:
    """Rows of queries.events.list_events (named attendance is a count: no personal data)."""
    whole = i18n.translate_plain(lang, "common.whole_community")
    spec = [
        ("exports.col_id", lambda r: r.id),
        ("events.col_starts_at", lambda r: r.starts_at),
        ("events.field_ends_at", lambda r: r.ends_at),
        ("events.field_title", lambda r: r.title),
        ("events.field_kind", lambda r: i18n.label(lang, "event_kind", r.kind)),
        ("common.grid", lambda r: _blank(r.grid_name) or whole),
        ("events.field_place", lambda r: r.place),
        ("events.field_host", lambda r: r.host),
        ("events.field_capacity", lambda r: r.capacity),
        ("events.kpi_named", lambda r: r.named_attendance),
        ("events.kpi_headcount", lambda r: r.headcount),
        ("events.col_total", lambda r: r.total),
    ]
    return Table("events", *_columns(lang, spec, frame))


ATTENDANCE_COLUMNS = ["event_id", "event_title", "starts_at", "event_grid_name", "person_id", "name", "phone",
                      "person_grid_id", "person_grid_name"]


@reads(Area, Attendance, Event, Person)
def attendance_list(*, session: Session, start: date | None = None, end: date | None = None,
                    grid_id: int | None = None) -> pd.DataFrame:
    """Named attendance of the (live) events starting in [start, end] held for `grid_id` (as the
    events list chooses them), one row per person and event, newest event first. `phone` is the
    stored number: attendance_table decides what a reader sees of it."""
    event_grid = Area.__table__.alias("event_grid")
    person_grid = Area.__table__.alias("person_grid")
    query = (
        select(Event.id, Event.title, Event.starts_at, event_grid.c.name, Person.id, Person.name, Person.phone,
               Person.grid_id, person_grid.c.name)
        .select_from(Attendance)
        .join(Event, Event.id == Attendance.event_id)
        .join(Person, Person.id == Attendance.person_id)
        .outerjoin(event_grid, event_grid.c.id == Event.grid_id)
        .outerjoin(person_grid, person_grid.c.id == Person.grid_id)
        .where(Person.deleted_at.is_(None), *chosen_events(start, end, grid_id))
        .order_by(Event.starts_at.desc(), Event.id.desc(), Person.name, Person.id)
    )
    return pd.DataFrame([tuple(r) for r in session.execute(query).all()], columns=ATTENDANCE_COLUMNS)


@reads(Event, EventNamed)
def attendance_count(*, session: Session, start: date | None = None, end: date | None = None,
                     grid_id: int | None = None) -> int:
    """How many rows attendance_list has, from the events' named attendance the database keeps
    (models.EventNamed): whether to offer the download, without building a year of attendance."""
    return int(session.execute(
        select(func.coalesce(func.sum(EventNamed.named), 0))
        .join(Event, Event.id == EventNamed.event_id).where(*chosen_events(start, end, grid_id))
    ).scalar_one())


def attendance_table(frame: pd.DataFrame, *, actor: Actor, lang: str) -> Table:
    """Rows of attendance_list. Who attended is personal data (as on the events page): without
    that right the reader gets one row per attendance with the person's grid only."""
    whole = i18n.translate_plain(lang, "common.whole_community")
    spec = [
        ("exports.col_event_id", lambda r: r.event_id),
        ("events.field_title", lambda r: r.event_title),
        ("events.col_starts_at", lambda r: r.starts_at),
        ("common.grid", lambda r: _blank(r.event_grid_name) or whole),
    ]
    if actor.may_see_personal_data and actor.may_see_names:
        spec += [("volunteers.col_name", lambda r: r.name),
                 ("volunteers.col_phone", lambda r: phone_for(actor, _blank(r.phone), _blank(r.person_grid_id)))]
    spec.append(("exports.col_person_grid", lambda r: r.person_grid_name))
    return Table("attendance", *_columns(lang, spec, frame))


def meetings_table(frame: pd.DataFrame, *, actor: Actor, lang: str) -> Table:
    """Rows of queries.meetings.list_meetings."""
    spec = [
        ("exports.col_id", lambda r: r.id),
        ("meetings.col_held_at", lambda r: r.held_at),
        ("meetings.col_title", lambda r: r.title),
        ("meetings.col_kind", lambda r: i18n.label(lang, "meeting_kind", r.kind)),
        ("exports.col_status", lambda r: i18n.label(lang, "meeting_status", r.status)),
        ("meetings.col_place", lambda r: r.place),
        ("meetings.col_agenda_items", lambda r: int(r.agenda_items)),
        ("meetings.col_decided_items", lambda r: int(r.decided_items)),
        ("meetings.col_quorum", lambda r: int(r.quorum)),
        ("meetings.col_quorum_met", lambda r: _yes_no(lang, r.quorum_met)),
    ]
    return Table("meetings", *_columns(lang, spec, frame))


def decisions_table(frame: pd.DataFrame, *, actor: Actor, lang: str) -> Table:
    """Rows of queries.meetings.decisions: each decided agenda item with its votes."""
    spec = [
        ("exports.col_meeting_id", lambda r: r.meeting_id),
        ("meetings.col_held_at", lambda r: r.held_at),
        ("meetings.col_title", lambda r: r.meeting_title),
        ("meetings.col_position", lambda r: r.position),
        ("exports.col_issue_id", lambda r: r.issue_id),
        ("meetings.col_item", lambda r: _blank(r.issue_title) or r.topic),
        ("meetings.col_decision", lambda r: i18n.label(lang, "decision", r.decision)),
        ("meetings.col_votes_for", lambda r: r.votes_for),
        ("meetings.col_votes_against", lambda r: r.votes_against),
        ("meetings.col_votes_abstain", lambda r: r.votes_abstain),
        ("meetings.col_lead_org", lambda r: r.lead_org_name),
        ("meetings.col_due_date", lambda r: r.due_date),
        ("meetings.col_issue_state", lambda r: i18n.label(lang, "state", _blank(r.issue_state))),
    ]
    return Table("decisions", *_columns(lang, spec, frame))


TABLE_BUILDERS: dict[str, Callable[..., Table]] = {
    "issues": issues_table, "volunteers": volunteers_table, "events": events_table,
    "attendance": attendance_table, "meetings": meetings_table, "decisions": decisions_table,
}


def list_frame(*, session: Session, kind: str, actor: Actor, start: date | None = None, end: date | None = None,
               grid_id: int | None = None, **filters) -> pd.DataFrame:
    """The rows of list `kind` from the query its page uses, with the page's filters. Without a
    period, everything. Issues: states, category, overdue_only; volunteers: status, skill,
    team_id, search; events: kind, upcoming; meetings: status."""
    from gongzhi.queries import events, issues, meetings, volunteers

    personal = actor.may_see_personal_data
    if kind == "issues":
        return issues.list_issues(session=session, grid_id=grid_id, start=start, end=end, include_open=True,
                                  may_see_personal_data=personal, limit=None, **filters)
    if kind == "volunteers":
        return volunteers.volunteer_roster(session=session, grid_id=grid_id, may_see_personal_data=personal,
                                           **filters)
    if kind == "events":
        return events.list_events(session=session, start=start, end=end, grid_id=grid_id, **filters)
    if kind == "attendance":
        return attendance_list(session=session, start=start, end=end, grid_id=grid_id)
    if kind == "meetings":
        return meetings.list_meetings(session=session, start=start, end=end, **filters)
    if kind == "decisions":
        return meetings.decisions(session=session, start=start, end=end)
    raise ValueError(f"unknown list {kind!r}; expected one of {', '.join(LIST_KINDS)}")


def export_list(*, session: Session, kind: str, actor: Actor, lang: str, **filters) -> Table:
    """List `kind` (LIST_KINDS) as this actor may read it, e.g. for `python -m gongzhi export`."""
    frame = list_frame(session=session, kind=kind, actor=actor, **filters)
    return TABLE_BUILDERS[kind](frame, actor=actor, lang=lang)


def meetings_frame(planned: pd.DataFrame, held: pd.DataFrame) -> pd.DataFrame:
    """The two meeting lists of the meetings page as one: planned (soonest first), then held."""
    frames = [frame for frame in (planned.iloc[::-1], held) if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else held


def all_meetings(*, session: Session, start: date, end: date) -> pd.DataFrame:
    """What the meetings page lists: every planned meeting and those held in [start, end]."""
    from gongzhi.queries.meetings import list_meetings

    return meetings_frame(list_meetings(session=session, status=MeetingStatus.PLANNED.value),
                          list_meetings(session=session, start=start, end=end, status=MeetingStatus.HELD.value))


# --- the full archive --------------------------------------------------------------------------

MANIFEST = "manifest.json"


def _plain_cell(column: str, value: Any) -> Any:
    if column in SECRET_COLUMNS and value is not None:
        return "***"  # a password hash is no one's data to take away
    return value


def _table_csv(session: Session, table) -> tuple[bytes, int]:
    order = list(table.primary_key.columns) or list(table.columns)
    rows = [[_plain_cell(column.name, value) for column, value in zip(table.columns, row, strict=True)]
            for row in session.execute(select(table).order_by(*order)).all()]
    return spreadsheet.to_csv([column.name for column in table.columns], rows), len(rows)


def _audit_export(session: Session, actor: Actor, *, table_name: str, record_id: str, what: str) -> None:
    """An export of personal data is a read, which the flush hook cannot see: record it here."""
    session.add(AuditEntry(at=now(), actor=actor.name, actor_role=actor.role.value, table_name=table_name,
                           record_id=record_id, action=EXPORT_ACTION,
                           after=json.dumps({"export": what}, ensure_ascii=False)))


def full_archive(*, session: Session, actor: Actor) -> tuple[bytes, dict[str, int]]:
    """Every table as `<table>.csv` (column names as in the database, UTF-8 with BOM) in one ZIP,
    with manifest.json giving the row count of each. Admins only; the export is audited, so
    `session` must be a write session (it is read in the same transaction, one consistent view)."""
    require_admin(actor)
    counts: dict[str, int] = {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in SQLModel.metadata.sorted_tables:
            data, counts[table.name] = _table_csv(session, table)
            archive.writestr(f"{table.name}.csv", data)
        archive.writestr(MANIFEST, json.dumps(
            {"generated_at": now().isoformat(), "by": actor.name, "tables": counts},
            ensure_ascii=False, indent=2))
    _audit_export(session, actor, table_name="*", record_id="*", what="full_archive")
    return buffer.getvalue(), counts


# --- one person's data (PIPL) ------------------------------------------------------------------

def _rows(session: Session, model, where) -> list:
    return list(session.execute(select(model).where(where).order_by(*model.__table__.primary_key.columns))
                .scalars().all())


def _records_table(name: str, model, records: list) -> tuple[str, bytes]:
    columns = [column.name for column in model.__table__.columns]
    rows = [[_plain_cell(column, getattr(record, column)) for column in columns] for record in records]
    return name, spreadsheet.to_csv(columns, rows)


def person_archive(*, session: Session, actor: Actor, person_id: int) -> tuple[bytes, dict[str, int]]:
    """Everything held about one person, as a ZIP of CSVs: their person row, volunteer record,
    service records, attendance, the issues they reported and the ratings of those (and ratings
    given under their accounts' names), their accounts (no password hash) and the audit entries about any of these rows. No other person's
    row is included. Admins only; audited (`session` must be a write session)."""
    require_admin(actor)
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(what="person", id=person_id)
    volunteers = _rows(session, Volunteer, Volunteer.person_id == person_id)
    volunteer_ids = [v.id for v in volunteers]
    services = _rows(session, ServiceRecord, ServiceRecord.volunteer_id.in_(volunteer_ids))
    attendance = _rows(session, Attendance, Attendance.person_id == person_id)
    issues = _rows(session, Issue, Issue.reporter_id == person_id)
    users = _rows(session, User, User.person_id == person_id)
    # Ratings of the issues they reported, and those given under one of their accounts' names.
    ratings = _rows(session, Rating, or_(Rating.issue_id.in_([i.id for i in issues]),
                                         Rating.rated_by.in_({u.display_name for u in users})))
    event_titles = dict(session.execute(
        select(Event.id, Event.title).where(Event.id.in_([a.event_id for a in attendance]))).all())
    about = [("person", [person_id]), ("volunteer", volunteer_ids), ("servicerecord", [s.id for s in services]),
             ("attendance", [a.id for a in attendance]), ("user", [u.id for u in users])]
    audit = _rows(session, AuditEntry, or_(*[
        and_(AuditEntry.table_name == table, AuditEntry.record_id.in_([str(i) for i in ids]))
        for table, ids in about if ids]) if any(ids for _, ids in about) else AuditEntry.id.is_(None))
    files = [
        _records_table("person", Person, [person]),
        _records_table("volunteer", Volunteer, volunteers),
        _records_table("servicerecord", ServiceRecord, services),
        ("attendance", spreadsheet.to_csv(
            ["id", "event_id", "event_title", "person_id"],
            [[a.id, a.event_id, event_titles.get(a.event_id, ""), a.person_id] for a in attendance])),
        _records_table("issue", Issue, issues),
        _records_table("rating", Rating, ratings),
        _records_table("user", User, users),
        _records_table("auditentry", AuditEntry, audit),
    ]
    counts = {"person": 1, "volunteer": len(volunteers), "servicerecord": len(services),
              "attendance": len(attendance), "issue": len(issues), "rating": len(ratings), "user": len(users),
              "auditentry": len(audit)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(f"{name}.csv", data)
        archive.writestr(MANIFEST, json.dumps(
            {"generated_at": now().isoformat(), "by": actor.name, "person_id": person_id, "tables": counts},
            ensure_ascii=False, indent=2))
    _audit_export(session, actor, table_name="person", record_id=str(person_id), what="personal_data")
    return buffer.getvalue(), counts


@reads(Area, Person)
def find_people(*, session: Session, search: str, limit: int = 50) -> pd.DataFrame:
    """People whose name contains `search` or whose phone ends with it (id, name, phone as stored,
    grid_name), for an admin choosing whose data to export."""
    text = search.strip()
    columns = ["id", "name", "phone", "grid_name"]
    if not text:
        return pd.DataFrame(columns=columns)
    rows = session.execute(
        select(Person.id, Person.name, Person.phone, Area.name)
        .outerjoin(Area, Area.id == Person.grid_id)
        .where(or_(Person.name.contains(text, autoescape=True), Person.phone.endswith(text, autoescape=True)))
        .order_by(Person.name, Person.id).limit(limit)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def table_counts(*, session: Session) -> dict[str, int]:
    """SELECT COUNT(*) of every table, to check an archive's manifest against."""
    return {table.name: int(session.execute(select(func.count()).select_from(table)).scalar_one())
            for table in SQLModel.metadata.sorted_tables}
