"""Reading the audit trail: the entries an admin browses (filtered by person, record and time),
who last changed a record (for conflict messages), and the soft-deleted records an admin may
restore. Before/after values are the JSON the trail stored; phone numbers in them are kept, as
only admins see this, and the page shows them as plain text, never as HTML."""

import json
from datetime import date, datetime

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.models import AuditEntry, Event, Facility, Issue, Meeting, Organisation, Person, Volunteer
from gongzhi.permissions import Actor, require_admin
from gongzhi.queries.common import datetime_range
from gongzhi.revisions import reads

# The records that are deleted softly and may be restored, by the kind name the UI and the
# crud functions use. The kind is the table name too.
DELETABLE_KINDS = {
    "issue": Issue,
    "volunteer": Volunteer,
    "event": Event,
    "meeting": Meeting,
    "organisation": Organisation,
    "person": Person,
    "facility": Facility,
}
# Bookkeeping that changes with every update; listing it as "changed" would hide what did.
NOT_SUMMARISED = {"version"}
ENTRY_COLUMNS = ["id", "at", "actor", "role", "table", "record", "action", "changed", "before", "after"]


def snapshot(text: str | None) -> dict:
    """A stored before/after value as a dict; nothing stored (or a frame's NaN for it) is {}."""
    return json.loads(text) if isinstance(text, str) and text else {}


def changed_values(before: str | None, after: str | None) -> list[tuple[str, object, object]]:
    """(field, value before, value after) of every field that differs between two stored
    snapshots; an insert lists the fields it filled, a delete those it removed."""
    old, new = snapshot(before), snapshot(after)
    changes = []
    for field in sorted(set(old) | set(new)):
        if field in NOT_SUMMARISED:
            continue
        was, now_is = old.get(field), new.get(field)
        if was != now_is:
            changes.append((field, was, now_is))
    return changes


@reads(AuditEntry)
def audit_entries(*, session: Session, viewer: Actor, actor_name: str | None = None, table_name: str | None = None,
                  record_id: str | int | None = None, start: date | None = None, end: date | None = None,
                  limit: int = 500) -> pd.DataFrame:
    """The latest `limit` entries matching every filter given (dates inclusive), latest first,
    with the names of the fields each one changed."""
    require_admin(viewer)
    query = select(AuditEntry)
    if actor_name:
        query = query.where(AuditEntry.actor == actor_name)
    if table_name:
        query = query.where(AuditEntry.table_name == table_name)
    if record_id is not None and str(record_id).strip():
        query = query.where(AuditEntry.record_id == str(record_id).strip())
    if start is not None:
        query = query.where(AuditEntry.at >= datetime_range(start, start)[0])
    if end is not None:
        query = query.where(AuditEntry.at < datetime_range(end, end)[1])
    rows = session.execute(query.order_by(AuditEntry.id.desc()).limit(limit)).scalars().all()
    return pd.DataFrame([
        (e.id, e.at, e.actor, e.actor_role, e.table_name, e.record_id, e.action,
         ", ".join(field for field, _, _ in changed_values(e.before, e.after)), e.before, e.after)
        for e in rows
    ], columns=ENTRY_COLUMNS)


@reads(AuditEntry)
def actors_in_audit(*, session: Session, viewer: Actor) -> list[str]:
    """Everyone who appears in the trail, for the person filter."""
    require_admin(viewer)
    return list(session.execute(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)).scalars())


@reads(AuditEntry)
def tables_in_audit(*, session: Session, viewer: Actor) -> list[str]:
    """Every table the trail has entries for, for the record filter."""
    require_admin(viewer)
    return list(session.execute(select(AuditEntry.table_name).distinct().order_by(AuditEntry.table_name)).scalars())


@reads(AuditEntry)
def last_change(*, session: Session, table_name: str, record_id: str | int,
                action: str | None = None) -> tuple[str, datetime] | None:
    """Who last changed a record (optionally: by this action) and when, or None when the trail
    has nothing on it."""
    query = select(AuditEntry.actor, AuditEntry.at).where(AuditEntry.table_name == table_name,
                                                          AuditEntry.record_id == str(record_id))
    if action:
        query = query.where(AuditEntry.action == action)
    # Entry ids follow the order of the writes (one writer at a time); clock times need not.
    row = session.execute(query.order_by(AuditEntry.id.desc()).limit(1)).first()
    return None if row is None else (row.actor, row.at)


def _labels(session: Session, kind: str, ids: list[int]) -> dict[int, str]:
    if kind == "volunteer":
        rows = session.execute(select(Volunteer.id, Person.name).join(Person, Person.id == Volunteer.person_id)
                               .where(Volunteer.id.in_(ids)))
    else:
        model = DELETABLE_KINDS[kind]
        name = model.name if hasattr(model, "name") else model.title
        rows = session.execute(select(model.id, name).where(model.id.in_(ids)))
    return {int(record_id): label for record_id, label in rows}


@reads(AuditEntry, Person, *DELETABLE_KINDS.values())
def deleted_records(*, session: Session, viewer: Actor, limit_per_kind: int = 200) -> pd.DataFrame:
    """kind, id, label, deleted_at and who deleted it, of every soft-deleted record an admin may
    restore, most recently deleted first."""
    require_admin(viewer)
    rows = []
    for kind, model in DELETABLE_KINDS.items():
        found = session.execute(select(model.id, model.deleted_at).where(model.deleted_at.is_not(None))
                                .order_by(model.deleted_at.desc()).limit(limit_per_kind)).all()
        labels = _labels(session, kind, [int(record_id) for record_id, _ in found])
        for record_id, deleted_at in found:
            change = last_change(session=session, table_name=kind, record_id=record_id, action="soft_delete")
            rows.append((kind, int(record_id), labels.get(int(record_id), ""), deleted_at,
                         change[0] if change else ""))
    frame = pd.DataFrame(rows, columns=["kind", "id", "label", "deleted_at", "deleted_by"])
    return frame.sort_values(["deleted_at", "kind", "id"], ascending=[False, True, True], ignore_index=True)
