"""What went wrong in the database, said without the values: the one place that turns a database
error (SQLAlchemy's, or sqlite3's / psycopg's own) into a message for a person, used by the app's
forms and the command line alike.

The text of a driver's error is read only to tell its kind; it is never shown, because it may hold
the values of a row (PostgreSQL's `invalid input syntax … "13800138000"`, SQLAlchemy's
`[parameters: …]`). A message names the kind of problem, and where known the table, the row's key
and the column."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import BigInteger, Column, Integer, SmallInteger, String, Table
from sqlalchemy.exc import DBAPIError, StatementError

from gongzhi.errors import GongzhiError

# SQLite's write lock, PostgreSQL's lock timeout, deadlock or serialisation failure: trying the
# whole transaction again may succeed.
_BUSY_TEXTS = ("database is locked", "database is busy", "database table is locked",  # SQLite
               "lock timeout", "deadlock detected", "could not serialize access")  # PostgreSQL
_BUSY_SQLSTATES = {"55P03", "40P01", "40001"}  # lock_not_available, deadlock, serialization_failure
# A SQLite file that is not (or no longer) a whole database: retrying cannot help, a backup can.
_DAMAGED_TEXTS = ("database disk image is malformed", "file is not a database")
# PostgreSQL SQLSTATEs of a value or row the database refused, by kind.
_SQLSTATE_KINDS = {
    "22003": "out_of_range", "22001": "too_long", "22P02": "wrong_type", "22007": "bad_date",
    "22008": "bad_date", "22021": "bad_text", "22P05": "bad_text", "23502": "missing_value",
    "23503": "missing_reference", "23505": "duplicate", "23514": "check",
}
# SQLite's messages for the same (they hold names, never values).
_SQLITE_KINDS = (
    (re.compile(r"NOT NULL constraint failed: [^.\s]+\.(\w+)"), "missing_value"),
    (re.compile(r"UNIQUE constraint failed: [^.\s]+\.(\w+)"), "duplicate"),
    (re.compile(r"FOREIGN KEY constraint failed"), "missing_reference"),
    (re.compile(r"CHECK constraint failed: (\w+)"), "check"),
    (re.compile(r"datatype mismatch"), "wrong_type"),
    (re.compile(r"string or blob too big"), "too_long"),
)
_INTEGER_BITS = ((BigInteger, 64), (SmallInteger, 16), (Integer, 32))


class DatabaseProblem(GongzhiError):
    """A database error as a message. `kind` is one of busy, damaged, unavailable, unreadable, out_of_range,
    too_long, wrong_type, bad_date, bad_text, missing_value, missing_reference, duplicate, check,
    refused; `column` (with its type) or `constraint` when known; `table` and `row` (its key, e.g.
    "id 123") when the caller knows which row it was writing."""

    key = "errors.database_unavailable"

    def __init__(self, kind: str, *, column: str | None = None, column_type: str | None = None,
                 constraint: str | None = None, table: str | None = None, row: str | None = None):
        self.kind, self.column, self.column_type = kind, column, column_type
        self.constraint, self.table, self.row = constraint, table, row
        super().__init__(_SENTENCES.get(kind, f"database.kind_{kind}"))

    def message(self, lang: str) -> str:
        from gongzhi.i18n import translate

        if self.kind in _SENTENCES:
            return translate(lang, _SENTENCES[self.kind])
        what = translate(lang, f"database.kind_{self.kind}")
        if self.column:
            column = f"{self.column} ({self.column_type})" if self.column_type else self.column
            what = translate(lang, "database.in_column", what=what, column=column)
        elif self.constraint:
            what = translate(lang, "database.in_constraint", what=what, constraint=self.constraint)
        if self.table is None:
            return translate(lang, "database.refused", what=what)
        if self.row is None:
            return translate(lang, "database.at_table", table=self.table, what=what)
        return translate(lang, "database.at_row", table=self.table, row=self.row, what=what)


# Kinds said as a whole sentence, the same for every caller.
_SENTENCES = {"busy": "errors.database_busy", "damaged": "errors.database_damaged",
              "unavailable": "errors.database_unavailable"}


def _driver_error(error: BaseException) -> BaseException:
    """The DBAPI driver's exception inside SQLAlchemy's wrapper (or the error itself)."""
    return getattr(error, "orig", None) or error


def is_busy(error: BaseException) -> bool:
    """A lock held by another writer outlasted the wait (SQLite's busy timeout, PostgreSQL's lock
    timeout), or a deadlock / serialisation failure: nothing was written, a retry may succeed."""
    driver = _driver_error(error)
    if getattr(driver, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    text = str(driver).lower()
    return any(busy in text for busy in _BUSY_TEXTS)


def database_problem(error: BaseException, *, table: Table | None = None, row: str | None = None,
                     values: Mapping[str, object] | None = None) -> DatabaseProblem:
    """`error` as a DatabaseProblem. Given the `table` and the `values` being written, a column the
    driver does not name is found by checking the values against the columns' types."""
    if is_busy(error):
        return DatabaseProblem("busy")
    if any(damaged in str(_driver_error(error)).lower() for damaged in _DAMAGED_TEXTS):
        return DatabaseProblem("damaged")
    driver = _driver_error(error)
    kind, column, constraint = _classify(driver)
    if kind is None and isinstance(error, StatementError) and not isinstance(error, DBAPIError):
        kind = "wrong_type"  # a value SQLAlchemy could not bind for its column type
    if kind is None:
        return DatabaseProblem("unavailable" if table is None else "refused", table=_name(table), row=row)
    column_type = None
    if table is not None:
        if column is None and values is not None:
            column = _suspect_column(kind, table, values)
        if column is not None and column in table.c:
            column_type = str(table.c[column].type).lower()
    return DatabaseProblem(kind, column=column, column_type=column_type, constraint=constraint,
                           table=_name(table), row=row)


def _name(table: Table | None) -> str | None:
    return None if table is None else table.name


def _classify(driver: BaseException) -> tuple[str | None, str | None, str | None]:
    """(kind, column, constraint) from the driver's error: PostgreSQL's SQLSTATE and diagnostics,
    or SQLite's message. (None, …) when it is not a refused value or row."""
    sqlstate = getattr(driver, "sqlstate", None)
    if sqlstate:
        diag = getattr(driver, "diag", None)
        column = getattr(diag, "column_name", None)
        constraint = getattr(diag, "constraint_name", None)
        if sqlstate in _SQLSTATE_KINDS:
            return _SQLSTATE_KINDS[sqlstate], column, constraint
        if sqlstate[:2] in ("22", "23"):  # another data exception / integrity violation
            return "refused", column, constraint
        return None, None, None
    text = str(driver)
    if "NUL (0x00)" in text:  # psycopg refuses it before sending
        return "bad_text", None, None
    for pattern, kind in _SQLITE_KINDS:
        match = pattern.search(text)
        if match:
            name = match.group(1) if match.groups() else None
            return kind, (name if kind != "check" else None), (name if kind == "check" else None)
    return None, None, None


def _has_nul(column: Column, value: object) -> bool:
    return isinstance(value, str) and "\x00" in value


def _too_long(column: Column, value: object) -> bool:
    length = getattr(column.type, "length", None) if isinstance(column.type, String) else None
    return isinstance(value, str) and bool(length) and len(value) > length


def _out_of_range(column: Column, value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    bits = next((bits for type_, bits in _INTEGER_BITS if isinstance(column.type, type_)), None)
    return bits is not None and not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)


_SUSPECTS = {"bad_text": _has_nul, "too_long": _too_long, "out_of_range": _out_of_range}


def _suspect_column(kind: str, table: Table, values: Mapping[str, object]) -> str | None:
    """The first column whose value the database can have refused as `kind`."""
    suspect = _SUSPECTS.get(kind)
    if suspect is None:
        return None
    return next((column.name for column in table.columns if suspect(column, values.get(column.name))), None)
