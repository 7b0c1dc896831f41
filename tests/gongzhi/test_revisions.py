"""Revisions per kind of data (gongzhi.revisions): a write bumps exactly the kinds it wrote, in
its own transaction, whoever wrote it; each cached query declares what it reads, and reading an
undeclared table fails."""

import ast
import importlib
import inspect
import pkgutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

import gongzhi.queries
from gongzhi import revisions
from gongzhi.db import read_session, write_session
from gongzhi.models import Area, AuditEntry, Issue, Organisation, Person
from gongzhi.queries.issues import issues_by_category
from gongzhi.revisions import ANY, kinds_read, reads, table_written

ROOT = Path(__file__).resolve().parents[2]


def _kinds(engine) -> dict[str, int]:
    with read_session(engine) as session:
        return revisions.revisions(session)


def _changed(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {kind for kind in set(before) | set(after) if before.get(kind, 0) != after.get(kind, 0)}


def test_a_write_bumps_the_kinds_it_wrote_and_no_other(engine):
    before = _kinds(engine)
    with write_session(engine) as session:
        session.add(Organisation(name="物业公司", kind="property_manager"))
    after = _kinds(engine)
    assert _changed(before, after) == {"organisations", "audit", ANY}  # the organisation and its audit entry
    assert all(after[kind] == before.get(kind, 0) + 1 for kind in ("organisations", "audit", ANY))


def test_core_and_text_sql_writes_are_noted_too(engine):
    with write_session(engine) as session:
        session.add(Organisation(name="居委会", kind="committee"))
    before = _kinds(engine)
    with write_session(engine) as session:  # no ORM flush at all: a statement written by hand
        session.execute(text("UPDATE organisation SET description = 'x' WHERE name = '居委会'"))
    assert _changed(before, _kinds(engine)) == {"organisations", ANY}


def test_a_failed_write_bumps_nothing(engine):
    before = _kinds(engine)
    with pytest.raises(RuntimeError), write_session(engine) as session:
        session.add(Organisation(name="半途", kind="committee"))
        session.flush()
        raise RuntimeError("half-way")
    assert _kinds(engine) == before


def test_a_write_session_that_writes_nothing_bumps_nothing(engine):
    """E.g. the grid filter remembering a grid already remembered: no cache goes cold, and the
    meeting-room screen (which redraws when anything changed) stays as it is."""
    from gongzhi.models import User, UserPreference
    from gongzhi.preferences import remember_grid

    with write_session(engine) as session:
        user = User(username="pref-owner", display_name="网格员", role="grid_leader", password_hash="x")
        session.add(user)
        session.flush()
        user_id = user.id
    grid_id = _grid(engine)
    before = _kinds(engine)
    with write_session(engine) as session:
        session.execute(select(Area.id)).all()
    assert _kinds(engine) == before
    with write_session(engine) as session:
        remember_grid(session=session, user_id=user_id, grid_id=grid_id)
    first = _kinds(engine)
    assert _changed(before, first) == {"userpreference", ANY}  # noted the first time
    with write_session(engine) as session:
        remember_grid(session=session, user_id=user_id, grid_id=grid_id)
    assert _kinds(engine) == first  # the same grid again: nothing written, nothing bumped
    with read_session(engine) as session:
        assert session.get(UserPreference, user_id).grid_id == grid_id


def _grid(engine) -> int:
    from gongzhi.domain import AreaLevel

    with write_session(engine) as session:
        grid = Area(name="一网格", code="PREF-G1", level=AreaLevel.GRID)
        session.add(grid)
        session.flush()
        return grid.id


def test_a_plain_read_session_notes_nothing(engine):
    """Only write sessions note their writes: a read does not leave a note on its connection."""
    with read_session(engine) as session:
        session.execute(select(Area.id)).all()
        assert revisions.WRITTEN_KEY not in session.connection().info


@pytest.mark.parametrize(("statement", "table"), [
    ("INSERT INTO issue (title) VALUES (?)", "issue"),
    ('INSERT INTO "user" (username) VALUES (%(username)s)', "user"),
    ("  UPDATE timelineentry SET note = ?", "timelineentry"),
    ("DELETE FROM attendance WHERE id = ?", "attendance"),
    ("INSERT OR IGNORE INTO rating VALUES (1)", "rating"),
    ("SELECT * FROM issue", None),
])
def test_the_table_of_a_statement(statement, table):
    assert table_written(statement) == table


def test_every_table_has_a_kind_and_new_tables_their_own():
    from sqlmodel import SQLModel
    for table in SQLModel.metadata.tables:
        assert revisions.kind_of(table)
    assert revisions.kind_of("a_table_named_nowhere") == "a_table_named_nowhere"  # a kind of its own
    assert kinds_read(issues_by_category) == {"issues"}


def test_a_summary_is_in_the_kind_of_what_it_summarises():
    """Triggers write summaries unseen by the statement hook: a query reading one must be keyed on
    the kind its source's writes bump, or its cache would never move."""
    from gongzhi.models import SUMMARY_TABLES
    from gongzhi.queries.volunteers import hours_by_star_level

    assert SUMMARY_TABLES
    for summary, sources in SUMMARY_TABLES.items():
        assert revisions.kind_of(summary) == revisions.kind_of(sources[0])
    assert revisions.kind_of("servicerecord") in kinds_read(hours_by_star_level)

    @reads("eventnamed")
    def named(*, session: Session) -> None:
        """Kept from attendance and from persons' deletion: a person's write must move its key too."""

    assert kinds_read(named) == {"attendance", "people"}


def test_a_query_reading_an_undeclared_table_fails(engine):
    @reads(Issue)
    def sneaky(*, session: Session) -> int:
        return len(session.execute(select(Issue.id).join(Area, Area.id == Issue.grid_id)).all())

    @reads(Issue, Area)
    def honest(*, session: Session) -> int:
        return len(session.execute(select(Issue.id).join(Area, Area.id == Issue.grid_id)).all())

    @reads(Person)
    def in_a_subquery(*, session: Session) -> int:
        inner = select(AuditEntry.id).where(AuditEntry.table_name == "person").scalar_subquery()
        return len(session.execute(select(Person.id).where(Person.id.in_(inner))).all())

    @reads(Issue)
    def by_hand(*, session: Session) -> int:
        return session.execute(text("SELECT COUNT(*) FROM issue")).scalar_one()

    with read_session(engine) as session:
        assert honest(session=session) == 0
        with pytest.raises(revisions.UndeclaredRead, match="area"):
            sneaky(session=session)
        with pytest.raises(revisions.UndeclaredRead, match="auditentry"):
            in_a_subquery(session=session)
        with pytest.raises(revisions.UndeclaredRead, match="text SQL"):
            by_hand(session=session)


def _cached_functions() -> set[tuple[str, str]]:
    """(module, name) of every function the pages pass to components.data's query functions."""
    found = set()
    for path in [*(ROOT / "components").glob("*.py"), *(ROOT / "views").glob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    imported[alias.asname or alias.name] = (node.module, alias.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                    "query", "query_later", "query_view") and node.args:
                argument = node.args[1] if node.func.id == "query_view" else node.args[0]
                if isinstance(argument, ast.Name) and argument.id in imported:
                    found.add(imported[argument.id])
                elif isinstance(argument, ast.Attribute) and isinstance(argument.value, ast.Name):
                    module = imported.get(argument.value.id)
                    if module:
                        found.add((f"{module[0]}.{module[1]}", argument.attr))
    return found


def test_every_query_the_pages_cache_declares_what_it_reads():
    functions = _cached_functions()
    assert len(functions) > 40
    for module_name, name in functions:
        function = getattr(importlib.import_module(module_name), name)
        assert revisions.tables_read(function), f"{module_name}.{name} declares no table"


def test_every_public_query_declares_what_it_reads():
    for info in pkgutil.iter_modules(gongzhi.queries.__path__):
        module = importlib.import_module(f"gongzhi.queries.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_") \
                    and "session" in inspect.signature(function).parameters:
                assert hasattr(function, revisions.READS_ATTRIBUTE), f"{module.__name__}.{name} declares nothing"


def test_concurrent_writes_count_every_write(engine):
    """Writers in threads at the same time: the kinds' sums count every write (no bump lost)."""
    with write_session(engine) as session:
        session.add(Organisation(name="计数", kind="committee", description="0"))
    before = _kinds(engine)
    writers, writes_each, failures = 4, 5, []

    def write() -> None:
        try:
            for number in range(writes_each):
                with write_session(engine) as session:
                    session.add(Person(name=f"写入{threading.get_ident()}-{number}"))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    after = _kinds(engine)
    assert after["people"] - before.get("people", 0) == after[ANY] - before[ANY] == writers * writes_each


def _two_grids(engine) -> tuple[int, int]:
    from gongzhi.domain import AreaLevel

    with write_session(engine) as session:
        grids = []
        for number in (1, 2):
            community = Area(code=f"c{number}", name=f"社区{number}", level=AreaLevel.COMMUNITY)
            session.add(community)
            session.flush()
            grid = Area(code=f"g{number}", name=f"网格{number}", level=AreaLevel.GRID, parent_id=community.id,
                        centroid_lon=113.9, centroid_lat=22.55)
            session.add(grid)
            session.flush()
            grids.append(grid.id)
    return grids[0], grids[1]


def _report(engine, grid_id: int, title: str) -> None:
    from gongzhi.crud.issues import IssueCreate, create_issue
    from gongzhi.permissions import SYSTEM_ACTOR

    with write_session(engine, actor=SYSTEM_ACTOR) as session:
        create_issue(session=session, actor=SYSTEM_ACTOR, data=IssueCreate(title=title, category="noise",
                                                                           grid_id=grid_id))


def test_writes_of_different_communities_do_not_wait_on_each_other(engine, monkeypatch):
    """PostgreSQL: while one save of community 1 is open (its rows written, not committed), a save
    of community 2 goes through at once, and a second save of community 1 waits for the first
    (here: past a short lock timeout, so it fails as busy). SQLite runs one write at a time."""
    from gongzhi import db
    from gongzhi.crud.issues import IssueCreate, create_issue
    from gongzhi.dberrors import is_busy
    from gongzhi.permissions import SYSTEM_ACTOR

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time by design (BEGIN IMMEDIATE)")
    first, second = _two_grids(engine)
    monkeypatch.setattr(db, "POSTGRES_LOCK_TIMEOUT", "300ms")
    outcome: dict[str, object] = {}
    with write_session(engine, actor=SYSTEM_ACTOR) as open_save:
        create_issue(session=open_save, actor=SYSTEM_ACTOR, data=IssueCreate(title="开着", category="noise",
                                                                             grid_id=first))
        open_save.flush()

        def other(grid_id: int, key: str) -> None:
            try:
                _report(engine, grid_id, key)
                outcome[key] = "saved"
            except Exception as error:  # noqa: BLE001 - the outcome is the assertion
                outcome[key] = "busy" if is_busy(error) else repr(error)

        for grid_id, key in ((second, "other community"), (first, "same grid")):
            thread = threading.Thread(target=other, args=(grid_id, key))
            thread.start()
            thread.join()
    assert outcome == {"other community": "saved", "same grid": "busy"}
    with read_session(engine) as session:
        titles = set(session.execute(select(Issue.title)).scalars())
    assert titles == {"开着", "other community"}
