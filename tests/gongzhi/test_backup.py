"""Backups and restores: a backup taken while another thread keeps writing is one consistent
state that restores to a database passing PRAGMA integrity_check; a restore refuses a damaged,
foreign or missing file and changes nothing, and keeps the replaced database; retention; the CLI."""

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from gongzhi import backup
from gongzhi.cli import main
from gongzhi.crud.volunteers import VolunteerCreate, create_volunteer
from gongzhi.db import dispose_engines, get_engine, init_db, write_session
from gongzhi.dberrors import is_busy
from gongzhi.models import Person
from gongzhi.permissions import Actor, Role

WRITER = Actor(name="backup-writer", role=Role.ADMIN)
SQLITE_BACKUP = "backs up and restores the SQLite file; PostgreSQL is pointed to pg_dump (last test)"


@pytest.fixture(autouse=True)
def backup_directory(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "backups"
    monkeypatch.setenv("GONGZHI_BACKUP_DIR", str(directory))
    return directory


def path_of(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def scalar(path: Path, sql: str, *params):
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, params).fetchone()[0]
    finally:
        connection.close()


def integrity(path: Path) -> str:
    return scalar(path, "PRAGMA integrity_check")


def writer_state(path: Path) -> tuple[int, int, int]:
    """(people the writer added, audit entries of theirs, revision): one transaction adds one of each."""
    return (scalar(path, "SELECT COUNT(*) FROM person WHERE name LIKE 'writer-%'"),
            scalar(path, "SELECT COUNT(*) FROM auditentry WHERE actor = ? AND table_name = 'person'", WRITER.name),
            scalar(path, "SELECT (SELECT value FROM revision WHERE id = 1) + "
                   "COALESCE((SELECT SUM(value) FROM datarevision WHERE kind = 'any'), 0)"))


@pytest.mark.sqlite_only(SQLITE_BACKUP)
def test_a_backup_taken_during_writes_restores_to_a_consistent_database(db_url, tmp_path):
    engine = get_engine(db_url)
    base_revision = writer_state(path_of(db_url))[2]
    stop, written = threading.Event(), []

    def write_until_stopped():
        while not stop.is_set():
            with write_session(engine, actor=WRITER) as session:
                session.add(Person(name=f"writer-{len(written)}", phone=None))
            written.append(1)

    thread = threading.Thread(target=write_until_stopped)
    thread.start()
    results = []
    try:
        while len(written) < 20:
            stop.wait(0.01)
        first = len(written)
        # Back up again and again until the writer has committed at least 5 times meanwhile.
        while len(written) - first < 5 and len(results) < 500:
            results.append(backup.backup(db_url, tmp_path / f"during-{len(results)}.db"))
        writes_during_backups = len(written) - first
    finally:
        stop.set()
        thread.join()
    assert writes_during_backups >= 5
    for result in results:
        people, audited, revision = writer_state(result.path)
        assert integrity(result.path) == "ok"
        assert people == audited == revision - base_revision > 0  # no half-written transaction
    for result in (results[0], results[-1]):
        restored = tmp_path / f"restored-{result.path.stem}.db"
        target_url = f"sqlite:///{restored}"
        init_db(get_engine(target_url))
        backup.restore(target_url, result.path)
        assert integrity(restored) == "ok"
        assert writer_state(restored)[:2] == writer_state(result.path)[:2]
    dispose_engines()


@pytest.mark.sqlite_only(SQLITE_BACKUP)
def test_restore_keeps_the_replaced_database_and_moves_the_revision_on(db_url, backup_directory):
    engine = get_engine(db_url)
    with write_session(engine, actor=WRITER) as session:
        session.add(Person(name="writer-before"))
    saved = backup.backup(db_url).path
    with write_session(engine, actor=WRITER) as session:
        session.add(Person(name="writer-after"))
    path = path_of(db_url)
    revision_before = writer_state(path)[2]
    result = backup.restore(db_url, saved)
    assert writer_state(path)[0] == 1  # as it was when backed up
    assert result.previous_saved_to.parent == backup_directory
    assert writer_state(result.previous_saved_to)[0] == 2  # the replaced database, kept
    assert integrity(result.previous_saved_to) == "ok"
    assert writer_state(path)[2] > revision_before  # no cached page of the replaced data is served
    # the app's engine sees the restored data without a restart
    with write_session(engine, actor=WRITER) as session:
        assert session.query(Person).filter(Person.name.like("writer-%")).count() == 1


def names_in(path: Path, prefix: str) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        return {row[0] for row in connection.execute("SELECT name FROM person WHERE name LIKE ?", (prefix + "%",))}
    finally:
        connection.close()


@pytest.mark.sqlite_only(SQLITE_BACKUP)
def test_no_save_reported_as_saved_is_lost_by_a_restore_while_the_app_writes(demo_url, tmp_path):
    """Writers keep adding volunteers through the crud layer while the database is restored three
    times; every save reported as successful is in the restored database or in the safety backup
    of a later restore. (Before the lock was held from the safety backup to the end of the copy,
    saves committed between the two were in neither.)"""
    engine, path = get_engine(demo_url), path_of(demo_url)
    old = backup.backup(demo_url, tmp_path / "old.db").path
    grid_id = scalar(path, "SELECT id FROM area WHERE level = 'grid' ORDER BY id")
    writers, restores, attempts_each, saves_between = 2, 3, 400, 4
    acknowledged: list[str] = []
    faults: list[BaseException] = []
    progress, stop = threading.Condition(), threading.Event()
    finished = [0]

    def write(number: int) -> None:
        try:
            for attempt in range(attempts_each):
                if stop.is_set():
                    return
                name = f"restore-writer-{number}-{attempt}"
                try:
                    with write_session(engine, actor=WRITER) as session:
                        create_volunteer(session=session, actor=WRITER, data=VolunteerCreate(name=name, grid_id=grid_id))
                except OperationalError as error:
                    if not is_busy(error):
                        raise
                    continue  # busy past the timeout: reported as not saved, may be anywhere or nowhere
                with progress:
                    acknowledged.append(name)
                    progress.notify_all()
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            faults.append(error)
        finally:
            with progress:
                finished[0] += 1
                progress.notify_all()

    def after_more_saves(count: int) -> None:
        with progress:
            target = len(acknowledged) + count
            progress.wait_for(lambda: len(acknowledged) >= target or finished[0] == writers, timeout=120)

    threads = [threading.Thread(target=write, args=(number,)) for number in range(writers)]
    for thread in threads:
        thread.start()
    results = []
    try:
        for _ in range(restores):
            after_more_saves(saves_between)
            results.append(backup.restore(demo_url, old))
        after_more_saves(saves_between)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not faults, faults
    assert len(acknowledged) >= (restores + 1) * saves_between  # the writers did write around every restore
    kept = names_in(path, "restore-writer-").union(*(names_in(result.previous_saved_to, "restore-writer-")
                                                     for result in results))
    assert sorted(set(acknowledged) - kept) == []
    assert integrity(path) == "ok"
    dispose_engines()


def schema_of(path: Path) -> set[tuple]:
    connection = sqlite3.connect(path)
    try:
        return set(connection.execute("SELECT type, name, sql FROM sqlite_master"))
    finally:
        connection.close()


@pytest.mark.sqlite_only(SQLITE_BACKUP)
def test_restore_brings_back_the_backups_schema_and_a_failed_one_changes_nothing(db_url, tmp_path, monkeypatch,
                                                                                backup_directory):
    path = path_of(db_url)
    saved = backup.backup(db_url, tmp_path / "saved.db").path
    connection = sqlite3.connect(path)  # the live database moved on: a new table and column, new rows
    connection.executescript("CREATE TABLE later (id INTEGER PRIMARY KEY); ALTER TABLE person ADD COLUMN later TEXT;"
                             "INSERT INTO person (version, name, created_at) VALUES (1, 'writer-later', '2026-01-01');")
    connection.close()
    changed, people = schema_of(path), writer_state(path)[0]

    def half_then_fail(database):
        database.execute("DROP TABLE main.later")
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patched, pytest.raises(sqlite3.OperationalError):
        patched.setattr(backup, "_replace_contents", half_then_fail)
        backup.restore(db_url, saved)
    assert schema_of(path) == changed and writer_state(path)[0] == people == 1  # rolled back whole
    backup.restore(db_url, saved)
    assert schema_of(path) == schema_of(saved) and writer_state(path)[0] == 0
    assert integrity(path) == "ok"
    assert len(list(backup_directory.glob("*before-restore*"))) == 2


def damaged_copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    size = target.stat().st_size
    with target.open("r+b") as handle:  # overwrite every page after the first two with noise
        handle.seek(8192)
        handle.write(bytes((i * 37) % 251 for i in range(size - 8192)))
    return target


def not_gongzhi(target: Path) -> Path:
    connection = sqlite3.connect(target)
    connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    connection.commit()
    connection.close()
    return target


@pytest.mark.sqlite_only(SQLITE_BACKUP)
@pytest.mark.parametrize("make_file, reason", [
    (lambda good, tmp: damaged_copy(good, tmp / "damaged.db"), "damaged"),
    (lambda good, tmp: not_gongzhi(tmp / "other.db"), "not a Gongzhi database"),
    (lambda good, tmp: (tmp / "plain.db").write_text("hello") and tmp / "plain.db", "not a SQLite database"),
    (lambda good, tmp: tmp / "missing.db", "no backup file"),
])
def test_restore_refuses_a_bad_file_and_changes_nothing(demo_url, tmp_path, backup_directory, make_file, reason):
    path = path_of(demo_url)
    good = backup.backup(demo_url, tmp_path / "good.db").path
    bad = make_file(good, tmp_path)
    people = scalar(path, "SELECT COUNT(*) FROM person")
    before = path.read_bytes()
    with pytest.raises(backup.BackupError) as refused:
        backup.restore(demo_url, bad)
    assert reason in str(refused.value) and "nothing was changed" in str(refused.value)
    assert path.read_bytes() == before and scalar(path, "SELECT COUNT(*) FROM person") == people
    assert not list(backup_directory.glob("*before-restore*"))  # refused before anything was done


@pytest.mark.sqlite_only(SQLITE_BACKUP)
def test_retention_keeps_the_newest_backups(db_url, backup_directory):
    made = [backup.backup(db_url, keep=2) for _ in range(4)]
    assert sorted(backup.backups_in()) == sorted(result.path for result in made[-2:])
    assert made[-1].removed and all(not path.exists() for path in made[-1].removed)


@pytest.mark.sqlite_only(SQLITE_BACKUP)
def test_the_cli_backs_up_restores_and_refuses(db_url, tmp_path, capsys):
    target = tmp_path / "cli.db"
    assert main(["--database-url", db_url, "backup", str(target)]) == 0
    assert integrity(target) == "ok"
    assert main(["--database-url", db_url, "backup", "--keep", "1"]) == 0
    assert len(backup.backups_in()) == 1
    (tmp_path / "junk.db").write_bytes(b"\x00" * 4096)
    assert main(["--database-url", db_url, "restore", str(tmp_path / "junk.db")]) == 1
    assert "not a SQLite database" in capsys.readouterr().err
    assert main(["--database-url", db_url, "restore", str(target)]) == 0
    assert "Saved the database as it was" in capsys.readouterr().out


def test_postgres_is_pointed_to_pg_dump(capsys):
    url = "postgresql+psycopg://gongzhi:secret@localhost/gongzhi"
    assert main(["--database-url", url, "backup"]) == 1
    assert main(["--database-url", url, "restore", "x.dump"]) == 1
    err = capsys.readouterr().err
    assert "pg_dump" in err and "pg_restore" in err and "secret" not in err
    with pytest.raises(backup.BackupError):
        backup.backup(url)
