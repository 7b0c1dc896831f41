"""Moving a committee's database to another server (SQLite to PostgreSQL): every row of every
table, in foreign-key order, in one transaction on the target that is committed only after each
table's row count and checksum match the source. A row the target refuses stops the copy with
nothing committed, and is named by its table and key, never by its values (gongzhi.dberrors)."""

import hashlib
from dataclasses import dataclass

from sqlalchemy import Integer, Table, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from gongzhi import models
from gongzhi.db import init_db
from gongzhi.dberrors import DatabaseProblem, database_problem
from gongzhi.errors import GongzhiError

BATCH_ROWS = 5_000


class CopyRefused(GongzhiError):
    key = "database.copy_refused"  # params: reason


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int
    checksum: str


def copy_database(source: Engine, target: Engine) -> list[TableCopy]:
    """Copy every row of `source` into the empty database `target` (both brought to the newest
    schema first). Refuses a target that holds data; raises CopyRefused, with nothing committed,
    when any table's count or checksum differs after the copy."""
    init_db(source)
    init_db(target)
    # Counters the triggers keep count the target's own writes (the copy): not copied, not compared.
    tables = [table for table in SQLModel.metadata.sorted_tables if table.name not in models.COUNTER_TABLES]
    with source.connect() as reading, target.begin() as writing:
        occupied = [table.name for table in tables
                    if table.name != models.Revision.__tablename__ and _count(writing, table)]
        if occupied:
            raise CopyRefused(reason=f"the target already holds data (tables {', '.join(occupied)})")
        writing.execute(models.Revision.__table__.delete())  # the source's revision row replaces it
        for table in tables:
            if table.name not in models.SUMMARY_TABLES:  # the target's triggers build them from the copied rows
                _copy_rows(reading, writing, table)
        for table in tables:
            _restore_late_keys(reading, writing, table)
        if writing.dialect.name == "postgresql":
            _reset_sequences(writing, tables)
        report = []
        for table in tables:
            expected, found = _fingerprint(reading, table), _fingerprint(writing, table)
            if expected != found:
                raise CopyRefused(reason=f"table {table.name}: {found} rows/checksum after the copy, "
                                         f"{expected} in the source; nothing was committed")
            report.append(TableCopy(table.name, *expected))
    return report


def _late_columns(table: Table) -> list[str]:
    """Keys that may point at a row not copied yet: the area ↔ person cycle (use_alter) and keys
    into the same table (a parent area, a duplicate issue). Copied as NULL first, set afterwards."""
    return [fk.parent.name for fk in table.foreign_keys
            if fk.constraint.use_alter or fk.column.table is table]


def _ordered(table: Table):
    return select(table).order_by(*table.primary_key.columns)


def _copy_rows(reading: Connection, writing: Connection, table: Table) -> None:
    late = _late_columns(table)
    result = reading.execution_options(yield_per=BATCH_ROWS).execute(_ordered(table))
    try:
        for batch in result.mappings().partitions():
            _insert(writing, table, [{**row, **dict.fromkeys(late)} for row in batch])
    except (ValueError, TypeError, OverflowError) as error:  # the source holds a value its column type cannot read
        raise DatabaseProblem("unreadable", table=table.name) from error


def _insert(writing: Connection, table: Table, rows: list[dict]) -> None:
    """A batch at once; when the target refuses it, each row again on its own (each in a savepoint,
    which PostgreSQL needs to go on after an error) to name the first one refused."""
    try:
        with writing.begin_nested():
            writing.execute(table.insert(), rows)
        return
    except SQLAlchemyError as batch_error:
        for row in rows:
            try:
                with writing.begin_nested():
                    writing.execute(table.insert(), row)
            except SQLAlchemyError as error:
                raise database_problem(error, table=table, row=row_key(table, row), values=row) from error
        raise database_problem(batch_error, table=table) from batch_error


def row_key(table: Table, row) -> str:
    """'id 123' (or 'user_id 3, grid_id 5'): a row named by its primary key, never its values."""
    return ", ".join(f"{column.name} {row[column.name]}" for column in table.primary_key.columns)


def _restore_late_keys(reading: Connection, writing: Connection, table: Table) -> None:
    late = [table.c[name] for name in _late_columns(table)]
    if not late:
        return
    keys = list(table.primary_key.columns)
    for row in reading.execute(select(*keys, *late).where(or_(*(column.isnot(None) for column in late)))):
        values = {column.name: row[len(keys) + i] for i, column in enumerate(late)}
        try:
            writing.execute(table.update().where(*(key == row[i] for i, key in enumerate(keys))).values(values))
        except SQLAlchemyError as error:
            raise database_problem(error, table=table, row=row_key(table, row._mapping), values=values) from error


def _reset_sequences(writing: Connection, tables: list[Table]) -> None:
    """PostgreSQL hands out ids from sequences, which copying explicit ids does not advance."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        writing.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{keys[0].name}'), "
            f"COALESCE(MAX(\"{keys[0].name}\"), 1), MAX(\"{keys[0].name}\") IS NOT NULL) FROM \"{table.name}\"")


def _count(connection: Connection, table: Table) -> int:
    return connection.execute(select(func.count()).select_from(table)).scalar_one()


def _fingerprint(connection: Connection, table: Table) -> tuple[int, str]:
    """Row count and a SHA-256 over every value, read through the column types (so a SQLite
    text timestamp and a PostgreSQL timestamp of the same moment agree)."""
    digest = hashlib.sha256()
    rows = 0
    for row in connection.execute(_ordered(table)):
        digest.update(repr(tuple(_canonical(value) for value in row)).encode())
        rows += 1
    return rows, digest.hexdigest()


def _canonical(value):
    if isinstance(value, float):
        return repr(round(value, 9))
    return value if value is None else str(value)
