"""Data revisions per kind of data, the keys every cached figure is looked up by.

A write transaction (`gongzhi.db.write_session`) notes every table it writes to: an engine-wide
`before_cursor_execute` hook reads the table of each INSERT, UPDATE and DELETE the transaction's
connection sends, whoever sends it (an ORM flush, a Core statement, text SQL, the audit trail).
Before the commit the revision of each kind of data written is bumped, in the same transaction,
so a new write path is covered without a line of its own.

Each query a page caches declares the tables it reads (`@reads(Issue, Area)`); its cache key is
the revisions of their kinds. With `CHECK_READS` on (the test suite turns it on) a query that
reads a table of a kind it did not declare raises `UndeclaredRead` (the key is made of kinds), so a
declaration cannot drift from the query; `components.data` refuses a query without one.

No single row every write locks: a kind's revision is the sum of `STRIPES` counter rows
(`datarevision`, keyed on kind and stripe), and each write transaction bumps the rows of one
stripe chosen at random. A sum of counters that only grow changes at every commit that touches
the kind, so a cache key moves at every write; two concurrent writes wait on each other only
when they draw the same stripe, and then only from their bump to their commit. The row
`revision` (id 1) is the generation: bumped by whole-database operations (a reset, a restore, the
district seed), so no key made before one can be seen again after it."""

from __future__ import annotations

import contextvars
import functools
import random
import re
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Table, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ClauseElement, visitors
from sqlalchemy.sql.elements import TextClause
from sqlmodel import Session

from gongzhi import models

# Kinds of data: a write to any of a kind's tables bumps the kind. A table named nowhere here is a
# kind of its own (its table name), so a new table is never left without a revision. Kinds are
# narrow on purpose (measured at district scale, bench/RESULTS.md): nearly every figure names grids
# and people, so had a facility or an hour of service bumped "areas" or "people", a save of either
# would have made almost every figure cold again. A summary table kept by triggers is in the kind
# of the table it summarises (its writes are the database's, never seen as statements).
KINDS: dict[str, tuple[str, ...]] = {
    "issues": ("issue", "issuecooperator", "timelineentry", "rating",
               # residents' own reports, their photos and "me too": written with their issue
               "residentreport", "residentphoto", "issuesupport"),
    "people": ("person",),
    "organisations": ("organisation",),
    "volunteers": ("volunteer", "teammembership"),
    "service_hours": ("servicerecord", "volunteerhours"),
    "events": ("event",),
    # Its own kind: a tick of attendance leaves the events' own figures (events held, headcount) cached.
    "attendance": ("attendance", "eventnamed"),
    "meetings": ("meeting", "agendaitem", "agendaitemcooperator"),
    "areas": ("area",),
    "facilities": ("facility",),
    "accounts": ("user", "usergrid", "appsetting", "apikey"),
    "audit": ("auditentry",),
}
ANY = "any"  # bumped by every write transaction that wrote anything: "something changed", one step per write
STRIPES = 32
_KIND_OF_TABLE = {table: kind for kind, tables in KINDS.items() for table in tables}
# Not data: the revision rows themselves (gongzhi.parts reads the parts') and alembic's bookkeeping.
_NOT_DATA = {models.Revision.__tablename__, models.DataRevision.__tablename__, *models.COUNTER_TABLES,
             "alembic_version"}

WRITTEN_KEY = "gongzhi_tables_written"  # Connection.info: the set of tables the write transaction wrote
_DML = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+(?:"?\w+"?\.)?"?(\w+)"?',
                  re.IGNORECASE)


def kind_of(table: str) -> str:
    return _KIND_OF_TABLE.get(table, table)


def kinds_of_tables(tables: Iterable[str]) -> frozenset[str]:
    return frozenset(kind_of(table) for table in tables if table not in _NOT_DATA)


def table_written(statement: str) -> str | None:
    """The table an INSERT, UPDATE or DELETE statement writes (None for anything else)."""
    match = _DML.match(statement)
    return match.group(1).lower() if match else None


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn: Connection, _cursor, statement: str, _parameters, _context, _executemany) -> None:
    written = conn.info.get(WRITTEN_KEY)
    if written is not None:
        table = table_written(statement)
        if table is not None:
            written.add(table)


def start_noting_writes(connection: Connection) -> tuple[set[str], dict]:
    """Note the tables written on `connection` from now on: (the set they go to, the connection's
    info dict to give to stop_noting_writes, which works after the connection is closed too)."""
    written: set[str] = set()
    connection.info[WRITTEN_KEY] = written
    return written, connection.info


def stop_noting_writes(info: dict) -> None:
    info.pop(WRITTEN_KEY, None)


def bump(session: Session, tables: Iterable[str], *, stripe: int | None = None) -> None:
    """Bump, in the session's transaction, the revision of every kind of data among `tables` and
    ANY, on one stripe, in a fixed order (two writers on the same stripe never deadlock)."""
    stripe = random.randrange(STRIPES) if stripe is None else stripe
    table = models.DataRevision.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # One statement (one round trip), its rows in the order of their kinds.
    statement = insert(table).values([{"kind": kind, "stripe": stripe, "value": 1}
                                      for kind in sorted(kinds_of_tables(tables) | {ANY})])
    session.execute(statement.on_conflict_do_update(index_elements=["kind", "stripe"],
                                                    set_={"value": table.c.value + 1}))


def bump_generation(connection: Connection | Session) -> None:
    """For whole-database operations (a reset, a restore, a bulk seed): every key changes."""
    connection.execute(update(models.Revision).where(models.Revision.id == 1)
                       .values(value=models.Revision.value + 1))


def generation(session: Session | Connection) -> int:
    return session.execute(select(models.Revision.value).where(models.Revision.id == 1)).scalar_one_or_none() or 0


def revisions(session: Session | Connection) -> dict[str, int]:
    """Every kind's revision now, with the generation under "" (one statement each)."""
    table = models.DataRevision.__table__
    rows = session.execute(select(table.c.kind, func.sum(table.c.value)).group_by(table.c.kind)).all()
    return {"": generation(session), **{kind: int(value) for kind, value in rows}}


def total(session: Session | Connection) -> int:
    """One number that grows at every write transaction and every whole-database operation."""
    values = revisions(session)
    return values[""] + values.get(ANY, 0)


def key_for(values: dict[str, int], kinds: Iterable[str]) -> tuple:
    """The cache key of a result that reads `kinds`, given `revisions()`."""
    return (values.get("", 0), *((kind, values.get(kind, 0)) for kind in sorted(kinds)))


# -- what a query reads --------------------------------------------------------------------------

READS_ATTRIBUTE = "__gongzhi_reads__"
CHECK_READS = False  # the test suite turns it on: an undeclared read raises
_reading: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("gongzhi_reading", default=None)


class UndeclaredRead(AssertionError):
    """A cached query read a table it does not declare: its cache would miss that table's writes."""


def _table_names(read: Any) -> frozenset[str]:
    name = read if isinstance(read, str) else getattr(read, "__tablename__", None)
    if name is None:
        return tables_read(read)  # another query: what it reads
    # A summary the database keeps from other tables is read with them: a write to any moves its key.
    return frozenset({name, *models.SUMMARY_TABLES.get(name, ())})


def reads(*read: Any) -> Callable[[Callable], Callable]:
    """Declare the tables a query reads: models, table names, or other queries it calls (their
    declarations). Its cache key is their kinds' revisions (`kinds_read`); with CHECK_READS on,
    reading any other table raises UndeclaredRead."""
    declared = frozenset().union(*(_table_names(item) for item in read))

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def checked(*args, **kwargs):
            if not CHECK_READS:
                return function(*args, **kwargs)
            outer = _reading.get()
            touched: set[str] = set()
            token = _reading.set(touched)
            try:
                result = function(*args, **kwargs)
            finally:
                _reading.reset(token)
            if outer is not None:
                outer.update(touched)
            # The cache key is made of kinds: a table read is covered when its kind is declared.
            declared_kinds = {kind_of(table) for table in declared}
            undeclared = {table for table in touched if kind_of(table) not in declared_kinds and table not in _NOT_DATA}
            if undeclared:
                raise UndeclaredRead(f"{function.__module__}.{function.__qualname__} reads "
                                     f"{sorted(undeclared)} but declares only {sorted(declared)}")
            return result

        setattr(checked, READS_ATTRIBUTE, declared)
        return checked

    return decorate


def tables_read(function: Callable) -> frozenset[str]:
    declared = getattr(function, READS_ATTRIBUTE, None)
    if declared is None:
        raise TypeError(f"{function.__module__}.{function.__qualname__} does not declare the tables it reads "
                        "(gongzhi.revisions.reads): it cannot be cached")
    return declared


def kinds_read(function: Callable) -> frozenset[str]:
    return kinds_of_tables(tables_read(function))


@event.listens_for(Engine, "before_execute")
def _note_read(_conn, clauseelement, _multiparams, _params, _execution_options):
    touched = _reading.get()
    if touched is None or not isinstance(clauseelement, ClauseElement):
        return
    if isinstance(clauseelement, TextClause):
        touched.add("<text SQL: declare nothing, it cannot be checked>")
        return
    for element in visitors.iterate(clauseelement):
        if isinstance(element, Table):
            touched.add(element.name)
