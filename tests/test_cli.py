"""`python -m gongzhi …`: seed, seed --reset, close-unrated."""

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi import cli
from gongzhi.clock import now
from gongzhi.db import get_engine, init_db
from gongzhi.domain import RATING_WINDOW_DAYS, AreaLevel, IssueState
from gongzhi.models import Area, Issue, Organisation, TimelineEntry

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _run(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    # The CLI's own settings are the test's, except the clock: it runs at the suite's moment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGZHI_") or k == "GONGZHI_NOW"}
    env["DATABASE_URL"] = url
    return subprocess.run([sys.executable, "-m", "gongzhi", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, input=stdin)


def _count(url: str, model) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_seed_fills_an_empty_database_refuses_a_full_one_and_resets(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    first = _run(url, "seed")
    assert first.returncode == 0, first.stderr
    assert "400 issues" in first.stdout and "12 grids" in first.stdout
    assert first.stdout.count("\n") == 1  # one summary line
    assert _count(url, Issue) == 400

    again = _run(url, "seed")
    assert again.returncode == 1
    assert "--reset" in again.stderr and "already holds data" in again.stderr
    assert _count(url, Issue) == 400

    with Session(get_engine(url)) as session:
        session.add(Organisation(name="临时组织", kind="social_org"))
        session.commit()
    reset = _run(url, "seed", "--reset")
    assert reset.returncode == 0, reset.stderr
    assert "Reset" in reset.stdout and "400 issues" in reset.stdout
    with Session(get_engine(url)) as session:
        assert session.execute(select(Organisation).where(Organisation.name == "临时组织")).first() is None
    assert _count(url, Issue) == 400


def test_seed_takes_a_date_and_rejects_a_bad_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'dated.db'}"
    assert cli.main(["--database-url", url, "seed", "--today", "2025-06-30"]) == 0
    with Session(get_engine(url)) as session:
        latest = session.execute(select(func.max(Issue.reported_at))).scalar_one()
    assert date(2025, 6, 23) <= latest.date() <= date(2025, 6, 30)
    bad = _run(url, "seed", "--today", "2025-13-01")
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_close_unrated_closes_only_expired_reviews(tmp_path):
    url = f"sqlite:///{tmp_path / 'close.db'}"
    engine = get_engine(url)
    init_db(engine)
    moment = now()
    with Session(engine) as session:
        grid = Area(code="G", name="网格", level=AreaLevel.GRID.value)
        session.add(grid)
        session.flush()
        for days, title in ((RATING_WINDOW_DAYS + 3, "早已办结"), (2, "刚办结")):
            resolved = moment - timedelta(days=days)
            session.add(Issue(title=title, category="repairs", grid_id=grid.id, state=IssueState.RESIDENT_REVIEW.value,
                              reported_at=resolved - timedelta(days=5), resolved_at=resolved,
                              due_date=resolved.date()))
        session.commit()

    result = _run(url, "close-unrated")
    assert result.returncode == 0, result.stderr
    assert "Closed 1 issue" in result.stdout
    with Session(engine) as session:
        states = dict(session.execute(select(Issue.title, Issue.state)).all())
        assert states == {"早已办结": IssueState.CLOSED_UNRATED, "刚办结": IssueState.RESIDENT_REVIEW}
        entry = session.execute(select(TimelineEntry)).scalar_one()
        assert (entry.actor, entry.actor_role, entry.to_state) == ("system", "admin", IssueState.CLOSED_UNRATED)

    assert cli.main(["--database-url", url, "close-unrated"]) == 0  # nothing left: still fine


def test_the_parser_names_its_commands():
    parser = cli.build_parser()
    help_text = parser.format_help()
    assert "seed" in help_text and "close-unrated" in help_text
    args = parser.parse_args(["seed", "--reset"])
    assert args.handler is cli.cmd_seed and args.reset


def test_create_user_makes_an_account_that_can_sign_in(tmp_path):
    from gongzhi.accounts import actor_for, authenticate
    from gongzhi.db import write_session
    from gongzhi.models import User

    url = f"sqlite:///{tmp_path / 'users.db'}"
    init_db(get_engine(url))
    with write_session(get_engine(url)) as session:
        session.add(Area(code="G01", name="第一网格", level=AreaLevel.GRID))
    created = _run(url, "create-user", "li.wei", "--role", "leader", "--name", "李伟", "--grid", "G01",
                   stdin="a long secret 42\n")
    assert created.returncode == 0, created.stderr
    assert "a long secret" not in created.stdout + created.stderr
    with write_session(get_engine(url)) as session:
        user = authenticate(session=session, username="li.wei", password="a long secret 42", address="cli")
        actor = actor_for(session=session, user_id=user.id)
    assert (actor.name, actor.role.value, len(actor.grid_ids)) == ("李伟", "leader", 1)

    short = _run(url, "create-user", "x", "--role", "admin", stdin="short\n")
    unknown_grid = _run(url, "create-user", "y", "--role", "leader", "--grid", "NOPE", stdin="a long secret 42\n")
    assert short.returncode == unknown_grid.returncode == 1
    assert "at least 10 characters" in short.stderr and "NOPE" in unknown_grid.stderr
    assert _count(url, User) == 1
