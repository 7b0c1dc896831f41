"""Backups of a SQLite database and restoring one. A backup uses SQLite's online backup API,
which copies the pages in one read transaction: the copy is one consistent state even while the
app goes on writing. A restore checks the file first (integrity, and that it holds Gongzhi's
tables), then, holding the database's write lock throughout, keeps a backup of the current database
and copies the file's schema and rows into it in one transaction.
PostgreSQL has its own tools (pg_dump / pg_restore, see the README)."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from gongzhi.clock import now
from gongzhi.config import backup_dir
from gongzhi.errors import GongzhiError
from gongzhi.revisions import ANY

BACKUP_PREFIX = "gongzhi-"
BACKUP_SUFFIX = ".db"
BUSY_TIMEOUT_MS = 30_000
# Tables every Gongzhi database has had since the first schema: a file without them is not ours.
GONGZHI_TABLES = frozenset({"area", "person", "issue", "timelineentry", "revision", "auditentry"})


class BackupError(GongzhiError):
    key = "exports.backup_failed"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    removed: list[Path] = field(default_factory=list)  # older backups dropped by the retention


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    previous_saved_to: Path | None  # the database as it was before the restore (None: there was none)


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite database URL; None for another database or an in-memory one."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _require_sqlite(database_url: str) -> Path:
    path = sqlite_path(database_url)
    if path is None:
        raise BackupError("exports.backup_not_sqlite")
    return path


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return connection


def default_backup_path(directory: Path | None = None, *, label: str = "", at: datetime | None = None) -> Path:
    """data/backups/gongzhi-20260315-093000.db (another name if that one exists already)."""
    directory = directory or backup_dir()
    stamp = (at or now()).strftime("%Y%m%d-%H%M%S")
    stem = f"{BACKUP_PREFIX}{label + '-' if label else ''}{stamp}"
    candidate, counter = directory / f"{stem}{BACKUP_SUFFIX}", 1
    while candidate.exists():
        candidate, counter = directory / f"{stem}-{counter}{BACKUP_SUFFIX}", counter + 1
    return candidate


def backups_in(directory: Path | None = None) -> list[Path]:
    """The backup files in `directory`, newest first."""
    directory = directory or backup_dir()
    if not directory.is_dir():
        return []
    files = [path for path in directory.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}") if path.is_file()]
    return sorted(files, key=lambda path: (path.stat().st_mtime, path.name), reverse=True)


def prune(directory: Path, keep: int) -> list[Path]:
    """Keep the `keep` newest backups in `directory` and delete the older ones."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    removed = backups_in(directory)[keep:]
    for path in removed:
        path.unlink()
    return removed


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """Copy a database with the backup API into `target`, written under a temporary name first so
    that an interrupted backup never looks like a finished one."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    destination = sqlite3.connect(partial)
    try:
        source.backup(destination)  # all pages in one step: one read transaction, one consistent state
        destination.execute("PRAGMA journal_mode=DELETE")  # a backup is one self-contained file
        destination.commit()
    finally:
        destination.close()
    os.replace(partial, target)


def backup(database_url: str, target: Path | None = None, *, keep: int | None = None) -> BackupResult:
    """Back the SQLite database up to `target` (default: a new time-stamped file in the backup
    directory) and check the copy; with `keep`, only the `keep` newest backups of that directory
    are kept."""
    path = _require_sqlite(database_url)
    if not path.exists():
        raise BackupError("exports.backup_no_database", path=str(path))
    target = Path(target) if target is not None else default_backup_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    source = _connect(path)
    try:
        _copy(source, target)
    finally:
        source.close()
    check_backup_file(target)
    removed = prune(target.parent, keep) if keep is not None else []
    return BackupResult(path=target, size=target.stat().st_size, removed=removed)


def check_backup_file(path: Path) -> None:
    """Refuse a file that is missing, not a SQLite database, damaged (PRAGMA integrity_check) or
    without Gongzhi's tables. Opened read-only: checking never changes it."""
    path = Path(path)
    if not path.is_file():
        raise BackupError("exports.restore_missing", path=str(path))
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError("exports.restore_not_sqlite", path=str(path))
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            result = [row[0] for row in connection.execute("PRAGMA integrity_check").fetchall()]
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError("exports.restore_corrupt", path=str(path), detail=str(error)) from error
    if result != ["ok"]:
        raise BackupError("exports.restore_corrupt", path=str(path), detail="; ".join(result[:5]))
    missing = GONGZHI_TABLES - tables
    if missing:
        raise BackupError("exports.restore_not_gongzhi", path=str(path), missing=", ".join(sorted(missing)))


def restore(database_url: str, source: Path) -> RestoreResult:
    """Replace the SQLite database with the backup `source`. The file is checked first; then the
    database's write lock is taken and held until the restored data is committed: under it the
    current database is backed up (into the backup directory) and replaced, schema and rows, by
    the backup's, in one transaction. A save by the app either committed before the lock (and is
    in that safety backup) or waits for the restore (and lands in the restored data), or fails as
    busy without being called saved: none is lost. The data revision ends above both old values,
    so no page serves a cached result of the replaced data."""
    path = _require_sqlite(database_url)
    source = Path(source)
    check_backup_file(source)
    if path.exists() and source.resolve() == path.resolve():
        raise BackupError("exports.restore_same_file", path=str(source))
    existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    database = sqlite3.connect(path.resolve().as_uri(), uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None)  # transactions as written below
    try:
        database.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        database.execute("PRAGMA journal_mode=WAL")  # as the app keeps it (a no-op when it does already)
        database.execute("PRAGMA foreign_keys=OFF")  # tables are dropped and refilled in any order
        database.execute("ATTACH DATABASE ? AS restored", (f"{source.resolve().as_uri()}?mode=ro",))
        database.execute("BEGIN IMMEDIATE")  # from here to COMMIT no one else can write
        try:
            # Read by another connection, which sees the last commit; none can follow until ours.
            previous = backup(database_url, default_backup_path(label="before-restore")).path if existed else None
            revision_before = _revision_in(database, "main")
            _replace_contents(database)
            database.execute("UPDATE main.revision SET value = ? WHERE id = 1",
                             (max(revision_before, _revision_in(database, "main")) + 1,))
            database.execute("COMMIT")
        except BaseException:
            if database.in_transaction:  # SQLite may have rolled back by itself (a full disk)
                database.execute("ROLLBACK")
            raise
    finally:
        database.close()
    return RestoreResult(restored_from=source, previous_saved_to=previous)


def _replace_contents(database: sqlite3.Connection) -> None:
    """Make `main` a copy of the attached `restored`: every table (its rows), index, trigger and
    view, AUTOINCREMENT counters and the user version, in the caller's transaction."""
    for kind in ("view", "trigger", "table"):  # indexes go with their tables
        for (name,) in database.execute("SELECT name FROM main.sqlite_master WHERE type = ? "
                                        "AND name NOT LIKE 'sqlite_%'", (kind,)).fetchall():
            database.execute(f'DROP {kind.upper()} main."{name}"')
    objects = database.execute("SELECT type, name, sql FROM restored.sqlite_master WHERE sql IS NOT NULL "
                               "AND name NOT LIKE 'sqlite_%' ORDER BY type != 'table', rowid").fetchall()
    for kind, name, sql in objects:
        database.execute(sql)  # with no schema named it is made in main, on main's tables
        if kind == "table":
            database.execute(f'INSERT INTO main."{name}" SELECT * FROM restored."{name}"')
    if _has_table(database, "main", "sqlite_sequence"):  # AUTOINCREMENT counters, as the backup has them
        database.execute("DELETE FROM main.sqlite_sequence")
    if _has_table(database, "restored", "sqlite_sequence"):
        database.execute("INSERT INTO main.sqlite_sequence SELECT * FROM restored.sqlite_sequence")
    user_version = database.execute("PRAGMA restored.user_version").fetchone()[0]
    database.execute(f"PRAGMA main.user_version = {int(user_version)}")


def _has_table(database: sqlite3.Connection, schema: str, name: str) -> bool:
    return database.execute(f"SELECT 1 FROM {schema}.sqlite_master WHERE name = ?", (name,)).fetchone() is not None


def _revision_in(database: sqlite3.Connection, schema: str) -> int:
    """The generation plus every write's count (gongzhi.revisions.total) of `schema`."""
    try:
        row = database.execute(f"SELECT value FROM {schema}.revision WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # no revision table (yet)
        return 0
    try:
        writes = database.execute(f"SELECT SUM(value) FROM {schema}.datarevision WHERE kind = ?",
                                  (ANY,)).fetchone()
    except sqlite3.OperationalError:  # a backup made before revisions per kind of data
        writes = None
    return (int(row[0]) if row else 0) + int(writes[0] or 0 if writes else 0)
