"""Writing a checked import: all of it or nothing, inside the caller's one write transaction
(gongzhi.db.write_session). The plan is made again inside that transaction, so what is written
is checked against the database as it is now, not as it was at the preview. New rows go in as
bulk INSERTs (a few statements per thousand rows) with their audit entries written alongside in
the same bulk way; updates of existing records go through the ORM, audited by its flush hook."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, insert, select
from sqlmodel import Session

from gongzhi.audit import NOT_AUDITED
from gongzhi.clock import now
from gongzhi.domain import AreaLevel, IssueState
from gongzhi.errors import GongzhiError, PermissionDenied
from gongzhi.importing.plan import ImportPlan, ImportProblem, PlannedRow, plan_import
from gongzhi.importing.reader import Sheet
from gongzhi.importing.schema import remember_mappings
from gongzhi.lifecycle import created_fields
from gongzhi.models import Area, Attendance, AuditEntry, Event, Issue, Person, TimelineEntry, Volunteer
from gongzhi.permissions import Actor, require_some_write, require_write
from gongzhi.timeline import timeline_row

DUPLICATE_CHOICES = ("skip", "update")
WRITE_CHUNK = 1000  # rows per bulk INSERT statement batch; progress is reported after each
Progress = Callable[[int, int], None]  # (rows written, rows to write)


class ImportRefused(GongzhiError):
    """Some rows cannot be imported; `plan.problems` says which and why. Nothing was written."""

    key = "imports.refused_rows"

    def __init__(self, plan: ImportPlan):
        self.plan = plan
        super().__init__(self.key, count=len(plan.problems))


@dataclass(frozen=True)
class ImportResult:
    inserted: int
    updated: int
    skipped: int


def run_import(session: Session, *, kind: str, sheet: Sheet, mapping: dict[str, str | None], actor: Actor,
               on_duplicate: str = "skip", progress: Progress | None = None) -> ImportResult:
    """Plan and write the import in `session` (a write session whose actor is `actor`). Raises
    ImportRefused when any row has a problem; the caller's transaction then writes nothing."""
    if on_duplicate not in DUPLICATE_CHOICES:
        raise ValueError(f"on_duplicate must be one of {DUPLICATE_CHOICES}")
    require_some_write(actor)
    plan = plan_import(session, kind=kind, sheet=sheet, mapping=mapping, actor=actor)
    if plan.refused:
        raise ImportRefused(plan)
    inserts, updates, skipped = _effective_rows(plan, on_duplicate)
    writer = _Writer(session, actor, plan, total=len(inserts) + len(updates), progress=progress)
    _WRITERS[kind](writer, inserts, updates)
    remember_mappings(session, kind, mapping)
    session.flush()
    return ImportResult(inserted=len(inserts), updated=len(updates), skipped=skipped)


def _effective_rows(plan: ImportPlan, on_duplicate: str) -> tuple[list[PlannedRow], list[PlannedRow], int]:
    """Rows of the same key are one record: with "skip" the first row counts and a record already
    in the database is left alone; with "update" the last row's values are written over it."""
    by_key: dict[object, PlannedRow] = {}
    order = []
    for row in plan.rows:
        key = row.key if row.key is not None else ("row", row.number)
        if key not in by_key:
            order.append(key)
            by_key[key] = row
        elif on_duplicate == "update":
            by_key[key] = PlannedRow(row.number, row.values, row.key, by_key[key].existing_id, None)
    always_update = plan.kind == "population"  # a grid's figures are only ever updated
    inserts, updates = [], []
    for key in order:
        row = by_key[key]
        if row.existing_id is None:
            inserts.append(row)
        elif (on_duplicate == "update" or always_update) and plan.kind != "attendance":
            updates.append(row)
    return inserts, updates, len(plan.rows) - len(inserts) - len(updates)


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class _Writer:
    def __init__(self, session: Session, actor: Actor, plan: ImportPlan, *, total: int, progress: Progress | None):
        self.session, self.actor, self.plan, self.total, self.progress = session, actor, plan, total, progress
        self.done = 0
        self.at = now()

    def step(self, count: int) -> None:
        self.done += count
        if self.progress is not None:
            self.progress(self.done, self.total)

    def insert(self, model, rows: list[dict], *, counts_as_progress: bool = True) -> list[int]:
        """Bulk INSERT of `rows` (complete column values), in chunks; returns the new ids in order.
        Each row gets its audit entry, as the flush hook would write it."""
        ids: list[int] = []
        table = model.__table__
        connection = self.session.connection()
        # SQLite cannot return the new ids of a batch in order, so it would insert row by row; but
        # this transaction began IMMEDIATE and holds the only write lock, so ids after the current
        # maximum are ours to give. Other databases return them in order from batched INSERTs.
        next_id = None
        if connection.dialect.name == "sqlite":
            next_id = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
        for start in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[start:start + WRITE_CHUNK]
            if next_id is not None:
                new_ids = list(range(next_id, next_id + len(chunk)))
                next_id += len(chunk)
                chunk = [{**row, "id": new_id} for row, new_id in zip(chunk, new_ids, strict=True)]
                connection.execute(insert(table), chunk)
            else:
                statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
                new_ids = list(connection.execute(statement, chunk).scalars())
            ids.extend(new_ids)
            if table.name not in NOT_AUDITED:
                connection.execute(insert(AuditEntry.__table__), [
                    {"at": self.at, "actor": self.actor.name, "actor_role": self.actor.role.value,
                     "table_name": table.name, "record_id": str(new_id), "action": "insert", "before": None,
                     "after": json.dumps({name: _plain(value) for name, value in {**row, "id": new_id}.items()},
                                         ensure_ascii=False, sort_keys=True, default=str)}
                    for new_id, row in zip(new_ids, chunk, strict=True)])
            if counts_as_progress:
                self.step(len(chunk))
        return ids

    def load(self, model, ids: list[int]) -> dict[int, object]:
        found = {}
        for start in range(0, len(ids), WRITE_CHUNK):
            for record in self.session.execute(select(model).where(model.id.in_(ids[start:start + WRITE_CHUNK]))).scalars():
                found[record.id] = record
        return found

    def update(self, model, rows: list[PlannedRow], apply: Callable[[object, dict], None]) -> None:
        """ORM updates (optimistic version, audit by the flush hook), flushed chunk by chunk. A grid
        leader may change only records of their grids."""
        records = self.load(model, [row.existing_id for row in rows])
        if model is not Area:  # a grid's own figures: checked as the grid itself, in the plan
            others = [row for row in rows if not _may_write(self.actor, getattr(records[row.existing_id], "grid_id", None))]
            if others:
                grid_header = next((header for header, key in self.plan.mapping.items() if key == "grid"), "")
                self.plan.problems = [ImportProblem(row.number, grid_header, "imports.reason_existing_not_your_grid")
                                      for row in others]
                raise ImportRefused(self.plan)
        for start in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[start:start + WRITE_CHUNK]
            for row in chunk:
                record = records[row.existing_id]
                apply(record, row.values)
            self.session.flush()
            self.step(len(chunk))


def _may_write(actor: Actor, grid_id: int | None) -> bool:
    try:
        require_write(actor, grid_id=grid_id)
    except PermissionDenied:
        return False
    return True


def _versioned(values: dict) -> dict:
    return {**values, "version": 1, "deleted_at": None}


# -- per kind -----------------------------------------------------------------------------------


def _new_person(values: dict, at: datetime) -> dict:
    return _versioned({"name": values["name"], "phone": values.get("phone"), "grid_id": values.get("grid"),
                       "building_id": None, "birth_year": values.get("birth_year"), "created_at": at})


def _write_people(writer: _Writer, inserts: list[PlannedRow], updates: list[PlannedRow]) -> None:
    writer.insert(Person, [_new_person(row.values, writer.at) for row in inserts])

    def apply(person: Person, values: dict) -> None:
        person.name = values["name"]
        if values.get("grid") is not None:
            person.grid_id = values["grid"]
        if values.get("birth_year") is not None:
            person.birth_year = values["birth_year"]

    writer.update(Person, updates, apply)


def _write_volunteers(writer: _Writer, inserts: list[PlannedRow], updates: list[PlannedRow]) -> None:
    # A volunteer whose person is already known (same phone) joins that person's record.
    need_person = [row for row in inserts if row.values.get("person_id") is None]
    person_ids = writer.insert(Person, [_new_person(row.values, writer.at) for row in need_person],
                               counts_as_progress=False)
    for row, person_id in zip(need_person, person_ids, strict=True):
        row.values["person_id"] = person_id
    writer.insert(Volunteer, [_versioned({
        "person_id": row.values["person_id"], "grid_id": row.values["grid"], "skills": ",".join(row.values["skills"]),
        "status": row.values["status"], "joined_on": row.values.get("joined_on") or writer.at.date(),
        "note": row.values.get("note", "")}) for row in inserts])

    people = writer.load(Person, [row.values["person_id"] for row in updates])

    def apply(volunteer: Volunteer, values: dict) -> None:
        person = people[volunteer.person_id]
        person.name = values["name"]
        person.grid_id = volunteer.grid_id = values["grid"]
        volunteer.skills = ",".join(values["skills"])
        volunteer.status = values["status"]
        if values.get("joined_on"):
            volunteer.joined_on = values["joined_on"]
        volunteer.note = values.get("note", "")

    writer.update(Volunteer, updates, apply)


def _write_population(writer: _Writer, inserts: list[PlannedRow], updates: list[PlannedRow]) -> None:
    assert not inserts  # every row names an existing grid

    def apply(grid: Area, values: dict) -> None:
        require_write(writer.actor, grid_id=grid.id)
        grid.population = values["population"]
        grid.households = values["households"]

    writer.update(Area, updates, apply)


def _event_values(values: dict) -> dict:
    return {"title": values["title"], "kind": values["kind"], "host_org_id": values.get("host"),
            "grid_id": values.get("grid"), "starts_at": values["starts_at"], "ends_at": values["ends_at"],
            "place": values.get("place", ""), "capacity": values.get("capacity"),
            "headcount": values.get("headcount") or 0, "description": values.get("description", "")}


def _write_events(writer: _Writer, inserts: list[PlannedRow], updates: list[PlannedRow]) -> None:
    for row in inserts:
        require_write(writer.actor, grid_id=row.values.get("grid"))
    writer.insert(Event, [_versioned(_event_values(row.values)) for row in inserts])

    def apply(event: Event, values: dict) -> None:
        for name, value in _event_values(values).items():
            setattr(event, name, value)

    writer.update(Event, updates, apply)


def _write_attendance(writer: _Writer, inserts: list[PlannedRow], updates: list[PlannedRow]) -> None:
    new_people: dict[tuple, dict] = {}
    for row in inserts:
        if row.values["person_id"] is None:
            new_people.setdefault(row.values["person_key"], _new_person(row.values, writer.at))
    ids = writer.insert(Person, list(new_people.values()), counts_as_progress=False)
    person_of = dict(zip(new_people, ids, strict=True))
    unique: dict[tuple[int, int], dict] = {}
    for row in inserts:
        person_id = row.values["person_id"] or person_of[row.values["person_key"]]
        unique.setdefault((row.values["event_id"], person_id), {"event_id": row.values["event_id"], "person_id": person_id})
    writer.insert(Attendance, list(unique.values()))


def _write_issues(writer: _Writer, inserts: list[PlannedRow], updates: list[PlannedRow]) -> None:
    grid_ids = sorted({row.values["grid"] for row in inserts})
    centroids = {grid_id: (lat, lon) for grid_id, lat, lon in writer.session.execute(
        select(Area.id, Area.centroid_lat, Area.centroid_lon).where(Area.id.in_(grid_ids), Area.level == AreaLevel.GRID))} \
        if grid_ids else {}
    rows = []
    for row in inserts:
        values = row.values
        require_write(writer.actor, grid_id=values["grid"])
        reported_at = values.get("reported_at") or writer.at
        lat, lon = centroids.get(values["grid"], (None, None))
        rows.append(_versioned({
            "title": values["title"], "description": values.get("description", ""), "category": values["category"],
            "grid_id": values["grid"], "building_id": None, "reporter_id": None,
            **created_fields(values["category"], reported_at),
            "lat": values["lat"] if values.get("lat") is not None else lat,
            "lon": values["lon"] if values.get("lon") is not None else lon}))
    ids = writer.insert(Issue, rows)
    # Every issue's timeline starts with its "created" line (居民提事), dated when it was reported.
    writer.insert(TimelineEntry, [
        timeline_row(issue_id=issue_id, kind="created", actor=writer.actor, at=row["reported_at"],
                     to_state=IssueState.REPORTED.value) for issue_id, row in zip(ids, rows, strict=True)],
        counts_as_progress=False)

    def apply(issue: Issue, values: dict) -> None:
        issue.description = values.get("description", "")
        if values.get("lat") is not None and values.get("lon") is not None:
            issue.lat, issue.lon = values["lat"], values["lon"]

    writer.update(Issue, updates, apply)


_WRITERS = {
    "people": _write_people,
    "volunteers": _write_volunteers,
    "population": _write_population,
    "events": _write_events,
    "attendance": _write_attendance,
    "issues": _write_issues,
}
