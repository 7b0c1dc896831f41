"""The command line: `python -m gongzhi COMMAND`. Each command is one function taking the parsed
arguments and returning the exit status, registered by its own `_add_…` function below; a new
command (create-user, import, export, backup …) is one more pair of the same shape."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy.engine import Engine, make_url

from gongzhi.db import get_engine, init_db, read_session, write_session
from gongzhi.domain import RATING_WINDOW_DAYS
from gongzhi.errors import GongzhiError
from gongzhi.permissions import SYSTEM_ACTOR

EXIT_OK = 0
EXIT_FAILED = 1


def _engine(args: argparse.Namespace) -> Engine:
    engine = get_engine(args.database_url)
    args.engines.append(engine)  # disposed when the command ends (SQLite checkpoints its WAL)
    return engine


def _shown_url(engine: Engine) -> str:
    return make_url(str(engine.url)).render_as_string(hide_password=True)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


# -- seed ---------------------------------------------------------------------------------------


def cmd_seed(args: argparse.Namespace) -> int:
    from gongzhi.seed import DatabaseNotEmptyError, database_is_empty, reset_and_seed, seed_demo

    what = "the demo community"
    seed, reset = seed_demo, reset_and_seed
    if args.scale == "district":
        from functools import partial

        from gongzhi.seed_district import reset_and_seed_district, seed_district

        what = f"a district of {args.communities} communities"
        seed = partial(seed_district, communities=args.communities)
        reset = partial(reset_and_seed_district, communities=args.communities)
    engine = _engine(args)
    where = _shown_url(engine)
    if args.reset:
        summary = reset(engine=engine, today=args.today)
        print(f"Reset {where} and seeded {what}: {summary.line()}")
        return EXIT_OK
    init_db(engine)
    with read_session(engine) as session:
        empty = database_is_empty(session)
    if not empty:
        print(f"{where} already holds data; {what} is only loaded into an empty database. "
              f"Run `python -m gongzhi seed{' --scale district' if args.scale == 'district' else ''} --reset` "
              "to drop ALL data and load it.", file=sys.stderr)
        return EXIT_FAILED
    try:
        summary = seed(engine=engine, today=args.today)
    except DatabaseNotEmptyError:  # someone else wrote to it in the meantime
        print(f"{where} already holds data; nothing was changed.", file=sys.stderr)
        return EXIT_FAILED
    print(f"Seeded {what} into {where}: {summary.line()}")
    if args.scale == "district":
        print("It has no accounts: create one with `python -m gongzhi create-user NAME --role admin`.")
    return EXIT_OK


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return int(text)


def _add_seed(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "seed", help="load the demo community (or a district to measure on) into an empty database",
        description="Load the demo community (桃源居社区: 12 grids, people, organisations, volunteers, "
                    "events, issues and meetings) into an empty database; with --scale district, a street "
                    "of 50 communities (1,000 grids, 100,000 issues, 500,000 attendance records) to measure "
                    "the app on. Refuses a database that already holds data unless --reset is given.")
    parser.add_argument("--scale", choices=("demo", "district"), default="demo",
                        help="demo: one community (default); district: 50 communities, for benchmarks")
    parser.add_argument("--communities", type=_positive_int, default=50, metavar="N",
                        help="with --scale district: how many communities (default 50; every count scales)")
    parser.add_argument("--reset", action="store_true",
                        help="drop every table first (ALL data is lost), then load the data")
    parser.add_argument("--today", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                        help="date the data as of this day (default: today)")
    parser.set_defaults(handler=cmd_seed)


# -- close-unrated ------------------------------------------------------------------------------


def cmd_close_unrated(args: argparse.Namespace) -> int:
    from gongzhi.lifecycle import close_expired_reviews

    engine = _engine(args)
    init_db(engine)
    with write_session(engine, actor=SYSTEM_ACTOR) as session:
        closed = close_expired_reviews(session=session, actor=SYSTEM_ACTOR)
    print(f"Closed {closed} issue(s) left unrated for {RATING_WINDOW_DAYS} days in resident review "
          f"as closed_unrated ({_shown_url(engine)}).")
    return EXIT_OK


def _add_close_unrated(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "close-unrated", help=f"close issues left unrated for {RATING_WINDOW_DAYS} days in resident review",
        description=f"Close every issue that has waited more than {RATING_WINDOW_DAYS} days in resident "
                    "review without a rating (state closed_unrated). Safe to run daily, e.g. from cron.")
    parser.set_defaults(handler=cmd_close_unrated)


# -- create-user --------------------------------------------------------------------------------


def _read_password() -> str:
    """Asked twice without echo at a terminal; read from the first line of standard input otherwise
    (e.g. `printf '%s\n' "$PASSWORD" | python -m gongzhi create-user …`), never from the command line."""
    if sys.stdin.isatty():
        import getpass

        first, second = getpass.getpass("Password: "), getpass.getpass("Password again: ")
        if first != second:
            raise SystemExit("error: the passwords differ; nothing was created")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_create_user(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from gongzhi.accounts import create_user
    from gongzhi.models import Area

    engine = _engine(args)
    init_db(engine)
    password = _read_password()
    with write_session(engine, actor=SYSTEM_ACTOR) as session:
        grid_ids = []
        for code in args.grid:
            grid_id = session.execute(select(Area.id).where(Area.code == code, Area.level == "grid")).scalar()
            if grid_id is None:
                print(f"error: no grid with code {code!r}; nothing was created", file=sys.stderr)
                return EXIT_FAILED
            grid_ids.append(grid_id)
        user = create_user(session=session, username=args.username, password=password, role=args.role,
                           display_name=args.name, grid_ids=tuple(grid_ids))
        user_id = user.id
    print(f"Created account {args.username!r} (role {args.role}, id {user_id}) in {_shown_url(engine)}.")
    return EXIT_OK


def _add_create_user(commands: argparse._SubParsersAction) -> None:
    from gongzhi.permissions import Role

    parser = commands.add_parser(
        "create-user", help="create an account (the first admin, for example)",
        description="Create an account. The password is asked at the terminal, or read from the first "
                    "line of standard input; it must have at least 10 characters.")
    parser.add_argument("username")
    parser.add_argument("--role", required=True, choices=[r.value for r in Role if r != Role.PUBLIC])
    parser.add_argument("--name", default=None, help="the name shown in the app and the audit trail")
    parser.add_argument("--grid", action="append", default=[], metavar="CODE",
                        help="a grid a grid leader leads, by its code (repeat for several)")
    parser.set_defaults(handler=cmd_create_user)


# -- the parser ---------------------------------------------------------------------------------

COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_seed, _add_close_unrated, _add_create_user]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gongzhi", description="Gongzhi command line.")
    parser.add_argument("--database-url", default=None, metavar="URL",
                        help="database to work on (default: $DATABASE_URL, else data/gongzhi.db)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.engines = []
    try:
        return args.handler(args)
    except GongzhiError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        for engine in args.engines:
            engine.dispose()
