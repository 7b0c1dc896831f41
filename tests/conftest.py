"""Shared fixtures: fresh databases, the seeded demo (built once, copied per test), and AppTest
helpers that open a page of the real app against a given database."""

import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gongzhi.db import dispose_engines, get_engine, init_db, write_session
from gongzhi.permissions import Actor, Role

PROJECT_ROOT = Path(__file__).resolve().parent.parent
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


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def db_url(tmp_path) -> str:
    """A new, empty database with the schema."""
    url = sqlite_url(tmp_path / "gongzhi.db")
    init_db(get_engine(url))
    return url


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
def demo_template(tmp_path_factory) -> Path:
    """The demo community, seeded once per test run."""
    from gongzhi.seed import seed_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = sqlite_url(path)
    engine = get_engine(url)
    init_db(engine)
    seed_demo(engine=engine)
    engine.dispose()  # checkpoints the WAL into the file so a plain copy is complete
    dispose_engines()
    return path


@pytest.fixture
def demo_url(demo_template, tmp_path) -> str:
    """A private copy of the demo database that a test may change."""
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template, path)
    return sqlite_url(path)


@pytest.fixture
def demo_engine(demo_url) -> Engine:
    return get_engine(demo_url)


@pytest.fixture
def open_page(monkeypatch):
    """open_page(url, "pages/issues.py", lang="en") -> a run AppTest on that page of app.py."""
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(PROJECT_ROOT)

    def run_app_script(main_script_path):
        # AppTest turns Streamlit's legacy pages/ mode back on before every run, which would run
        # the chosen page without app.py (and so lose a button click to the page's catch-up
        # rerun, see components.page_setup.context). The real server leaves that mode after its
        # first run; run app.py every time, as the server then does.
        path = Path(main_script_path)
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), {"__name__": "__main__", "__file__": str(path)})

    monkeypatch.setattr(script_runner, "_mpa_v1", run_app_script)

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
