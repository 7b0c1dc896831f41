"""Shared fixtures: fresh databases, the seeded demo (built once, copied per test), and AppTest
helpers that open a page of the real app against a given database.

The databases are SQLite files, or, when GONGZHI_TEST_DATABASE_URL names a PostgreSQL server
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres), databases on that server: every test
gets its own, made with CREATE DATABASE … TEMPLATE from one built once per test process."""

import itertools
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from gongzhi import revisions
from gongzhi.db import dispose_engine, get_engine, init_db, write_session
from gongzhi.permissions import Actor, Role

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Property-based tests are the same on every run and on every machine: examples derived from the
# test, not from a random seed or a database of earlier failures, and no time limit per example
# (a busy 2-core CI machine must not turn a slow example into a failure).
settings.register_profile("gongzhi", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile("gongzhi")
# Every cached query run by any test checks that it reads only the tables it declares (@reads):
# a query whose declaration drifted from what it reads fails the tests that run it.
revisions.CHECK_READS = True
COMMITTEE = Actor(name="测试秘书", role=Role.COMMITTEE)
TEST_PASSWORD = "test-password-123"
TEST_DISPLAY_NAMES = {"admin": "测试管理员", "committee": "测试秘书", "leader": "测试网格长", "representative": "测试代表"}


def account_for_role(url: str, role: str) -> int:
    """The id of the test account of `role` in that database, created on first use; a grid
    leader leads the first grid."""
    from sqlalchemy import select

    from gongzhi.accounts import create_user
    from gongzhi.domain import AreaLevel
    from gongzhi.models import Area, User

    engine = get_engine(url)
    username = f"test-{role}"
    with write_session(engine) as session:
        existing = session.execute(select(User.id).where(User.username == username)).scalar()
        if existing is not None:
            return existing
        grids = ()
        if role == "leader":
            grids = (session.execute(select(Area.id).where(Area.level == AreaLevel.GRID).order_by(Area.code)).scalar(),)
        return create_user(session=session, username=username, password=TEST_PASSWORD, role=role,
                           display_name=TEST_DISPLAY_NAMES[role], grid_ids=grids).id


class Sql:
    """Plain SQL on a test database through its engine, so that it runs on SQLite and PostgreSQL
    alike (`:name` parameters); each statement in its own transaction, so that it sees what the
    code under test has committed. execute() returns a buffered result (fetchone, fetchall,
    scalar, iteration)."""

    def __init__(self, url: str):
        self.engine = get_engine(url)

    def execute(self, statement: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(text(statement), params).freeze()()

    def scalar(self, statement: str, **params):
        return self.execute(statement, **params).scalar()

    def table_names(self) -> set[str]:
        from sqlalchemy import inspect

        return set(inspect(self.engine).get_table_names())


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


TEST_DATABASE_ENV = "GONGZHI_TEST_DATABASE_URL"


def postgres_server_url() -> str | None:
    """The PostgreSQL server the tests run on, when configured."""
    url = os.environ.get(TEST_DATABASE_ENV, "").strip()
    return url if url.startswith("postgresql") else None


class SqliteDatabases:
    """Test databases as files: a template is built once, a copy is a file copy."""

    backend = "sqlite"

    def __init__(self, directory: Path):
        self.directory = directory
        self.counter = itertools.count()

    def template(self, name: str, build: Callable[[str], None]) -> str:
        url = sqlite_url(self.directory / f"template-{name}.db")
        build(url)
        dispose_engine(url)  # checkpoints the WAL into the file, so a plain copy is complete
        return url

    def copy(self, template: str, directory: Path | None = None) -> str:
        target = (directory or self.directory) / f"gongzhi-{next(self.counter)}.db"
        shutil.copyfile(make_url(template).database, target)
        return sqlite_url(target)

    def drop(self, url: str) -> None:
        dispose_engine(url)

    def close(self) -> None:
        pass


class PostgresDatabases:
    """Test databases on a PostgreSQL server, named after this process so that pytest-xdist
    workers never share one; a copy is CREATE DATABASE … TEMPLATE (no one may be connected to
    the template then, so its engine is disposed once it is built)."""

    backend = "postgresql"

    def __init__(self, server_url: str):
        self.server = make_url(server_url)
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        self.prefix = f"gztest_{os.getpid()}"
        self.counter = itertools.count()
        self.created: list[str] = []

    def _url(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return self._url(name)

    def template(self, name: str, build: Callable[[str], None]) -> str:
        url = self._create(f"{self.prefix}_tpl_{name}")
        build(url)
        dispose_engine(url)
        return url

    def copy(self, template: str, directory: Path | None = None) -> str:
        return self._create(f"{self.prefix}_{next(self.counter)}", make_url(template).database)

    def drop(self, url: str) -> None:
        dispose_engine(url)
        name = make_url(url).database
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            self.drop(self._url(name))
        self.admin.dispose()


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.sqlite_only(reason)`: a test of something only SQLite has (pragmas, its
    files), skipped with that reason when the tests run on PostgreSQL."""
    if postgres_server_url() is None:
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else "tests SQLite only"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    """Where test databases live: SQLite files, or the PostgreSQL server of GONGZHI_TEST_DATABASE_URL."""
    server = postgres_server_url()
    backend = PostgresDatabases(server) if server else SqliteDatabases(tmp_path_factory.mktemp("databases"))
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def empty_template(databases) -> str:
    """An empty database with the schema, built once."""
    return databases.template("empty", lambda url: init_db(get_engine(url)))


@pytest.fixture
def new_database(databases, tmp_path):
    """new_database() -> the URL of a new, empty database without a schema;
    new_database(template) -> a private copy of that template. Dropped after the test."""
    made: list[str] = []

    def _new(template: str | None = None) -> str:
        if template is not None:
            url = databases.copy(template, tmp_path)
        elif databases.backend == "sqlite":
            url = sqlite_url(tmp_path / f"new-{len(made)}.db")
        else:
            url = databases._create(f"{databases.prefix}_{next(databases.counter)}")
        made.append(url)
        return url

    yield _new
    for url in made:
        databases.drop(url)


@pytest.fixture
def db_url(new_database, empty_template) -> str:
    """A new, empty database with the schema."""
    return new_database(empty_template)


@pytest.fixture
def engine(db_url) -> Engine:
    return get_engine(db_url)


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session


@pytest.fixture
def write(engine):
    """`with write() as session:` — one write transaction on the test database."""
    return lambda: write_session(engine)


@pytest.fixture(scope="session")
def demo_template(databases) -> str:
    """The URL of the demo community, seeded once per test process; copy it with new_database."""
    from gongzhi.seed import seed_demo

    def build(url: str) -> None:
        engine = get_engine(url)
        init_db(engine)
        seed_demo(engine=engine)

    return databases.template("demo", build)


@pytest.fixture
def demo_url(new_database, demo_template) -> str:
    """A private copy of the demo database that a test may change."""
    return new_database(demo_template)


@pytest.fixture
def demo_engine(demo_url) -> Engine:
    return get_engine(demo_url)


@pytest.fixture
def open_page(monkeypatch):
    """open_page(url, "views/issues.py", lang="en") -> a run AppTest on that page of app.py."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(PROJECT_ROOT)

    def _open(url: str, page: str | None = None, *, lang: str = "en", role: str | None = "committee",
              timeout: float = 60, query_params: dict[str, str] | None = None) -> AppTest:
        """Signed in as a test account of `role` ("public": a visitor with public access on;
        None: signed out), opened at a URL with `query_params` (e.g. a bookmark)."""
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("GONGZHI_DEMO", "0")
        monkeypatch.setenv("GONGZHI_PUBLIC_ACCESS", "1" if role == "public" else "0")
        app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=timeout)
        app.query_params.update(query_params or {})
        app.session_state["lang"] = lang
        if role not in (None, "public"):
            app.session_state["user_id"] = account_for_role(url, role)
        app.run()
        if page is not None:
            app.switch_page(page)
            app.run()
        return app

    return _open


@pytest.fixture
def plain_logging():
    """The standard log record factory, as before anything installed gongzhi.logs' mask (the CLI
    and the app install it process-wide); put back afterwards."""
    import logging

    before = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    yield
    logging.setLogRecordFactory(before)
