"""The audit trail: every ORM write in a write session records who, when, which record and the
values before and after, in the same transaction. It hooks the session's flush, so no write
path can forget it."""

import json
from datetime import date, datetime

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session as OrmSession

from gongzhi.clock import now
from gongzhi.errors import Conflict, NotFound
from gongzhi.models import COUNTER_TABLES, AuditEntry, DataRevision, LoginAttempt, Revision, UserPreference
from gongzhi.queries.audit import last_change

# Not audited: the trail itself, bookkeeping, and what a person chose to look at (not data).
NOT_AUDITED = {AuditEntry.__tablename__, Revision.__tablename__, DataRevision.__tablename__, *COUNTER_TABLES,
               LoginAttempt.__tablename__, UserPreference.__tablename__}
SECRET_COLUMNS = {"password_hash", "token_hash"}  # recorded as changed, never with its value
AUDIT_KEY = "audit_actor"  # session.info key holding the Actor of a write session
# session.info key: (class, primary key, version) of every versioned row a write session's flushes
# update or delete, so that a StaleDataError can be explained afterwards (see stale_conflict).
VERSIONED_WRITES_KEY = "versioned_writes"


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):  # e.g. a resident's photo: its size, not a copy
        return f"{len(value)} bytes"
    return value


def _values(obj, *, previous: bool = False) -> dict:
    state = inspect(obj)
    values = {}
    for attribute in state.mapper.column_attrs:
        key = attribute.key
        if previous:
            history = state.attrs[key].history
            value = history.deleted[0] if history.deleted else (history.unchanged[0] if history.unchanged else None)
        else:
            value = getattr(obj, key)
        values[key] = "***" if key in SECRET_COLUMNS and value is not None else _plain(value)
    return values


def _changed(obj) -> bool:
    state = inspect(obj)
    return any(state.attrs[a.key].history.has_changes() for a in state.mapper.column_attrs if a.key != "version")


def _record_id(obj) -> str:
    # The identity key is not assigned yet for rows inserted by this flush; the key values are.
    return "/".join(str(part) for part in inspect(obj).mapper.primary_key_from_instance(obj))


def _dump(values: dict | None) -> str | None:
    return None if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)


@event.listens_for(OrmSession, "after_flush")
def _audit_after_flush(session, _flush_context):
    actor = session.info.get(AUDIT_KEY)
    if actor is None:
        return
    rows = []
    changes = [("insert", obj) for obj in session.new] + [("update", obj) for obj in session.dirty] + \
              [("delete", obj) for obj in session.deleted]
    for action, obj in changes:
        table = obj.__table__.name
        if table in NOT_AUDITED:
            continue
        before = after = None
        if action == "insert":
            after = _values(obj)
        elif action == "delete":
            before = _values(obj, previous=True)
        else:
            if not _changed(obj):
                continue
            before, after = _values(obj, previous=True), _values(obj)
            state = inspect(obj)
            for key in SECRET_COLUMNS & set(after):
                if state.attrs[key].history.has_changes():
                    after[key] = "*** (changed)"  # that it changed is audited, never the value
            if "deleted_at" in before and before["deleted_at"] != after["deleted_at"]:
                action = "soft_delete" if after["deleted_at"] else "restore"
        rows.append({"at": now(), "actor": actor.name, "actor_role": actor.role.value, "table_name": table,
                     "record_id": _record_id(obj), "action": action, "before": _dump(before), "after": _dump(after)})
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


@event.listens_for(OrmSession, "before_flush")
def _remember_versioned_writes(session, _flush_context, _instances):
    if AUDIT_KEY not in session.info:
        return
    writes = session.info.setdefault(VERSIONED_WRITES_KEY, [])
    for obj in [*session.dirty, *session.deleted]:
        mapper = inspect(obj).mapper
        if mapper.version_id_col is not None:
            # The version as loaded: the flush itself bumps it only in the UPDATE it sends.
            writes.append((mapper.class_, tuple(mapper.primary_key_from_instance(obj)), obj.version))


def conflict(session, record, *, what: str) -> Conflict:
    """The Conflict for a save refused because `record` moved on since the user's copy: it names
    who changed it last and when, from the trail (read in the caller's session)."""
    table, record_id = record.__table__.name, _record_id(record)
    change = last_change(session=session, table_name=table, record_id=record_id)
    if change is None:
        return Conflict("errors.conflict_unknown", what=what, id=record_id)
    who, at = change
    return Conflict(what=what, id=record_id, who=who, when=at.strftime("%Y-%m-%d %H:%M"))


def check_version(session, record, expected_version: int | None, *, what: str) -> None:
    """Refuse a save made on an older copy than `record` (None: the caller has no copy to compare)."""
    if expected_version is not None and record.version != expected_version:
        raise conflict(session, record, what=what)


def get_for_update(session, model, record_id: int, expected_version: int | None, *, what: str):
    """The live record a save is about to change: NotFound when it is missing or soft-deleted, a
    Conflict naming who and when when it moved on since the user's copy."""
    record = session.get(model, record_id)
    if record is None or getattr(record, "deleted_at", None) is not None:
        raise NotFound(what=what, id=record_id)
    check_version(session, record, expected_version, what=what)
    return record


def stale_conflict(session, writes) -> Conflict:
    """The Conflict for a flush that failed with StaleDataError: `writes` is the failed write
    session's info[VERSIONED_WRITES_KEY]; `session` a fresh one to look up which of those rows
    another user changed meanwhile, and who."""
    for cls, primary_key, version in writes or ():
        current = session.get(cls, primary_key)
        if current is None or current.version != version:
            if current is None:
                return Conflict("errors.conflict_unknown", what=cls.__table__.name,
                                id="/".join(map(str, primary_key)))
            return conflict(session, current, what=cls.__table__.name)
    return Conflict("errors.conflict_unknown", what="record", id="?")
