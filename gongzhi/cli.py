"""The command line: `python -m gongzhi COMMAND`. Each command is one function taking the parsed
arguments and returning the exit status, registered by its own `_add_…` function below; a new
command (create-user, import, export, backup …) is one more pair of the same shape."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy.engine import Engine, make_url

from gongzhi.db import get_engine, init_db, read_session, schema_revisions, write_session
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

    engine = _engine(args)
    where = _shown_url(engine)
    if args.reset:
        summary = reset_and_seed(engine=engine, today=args.today)
        print(f"Reset {where} and seeded the demo community: {summary.line()}")
        return EXIT_OK
    init_db(engine)
    with read_session(engine) as session:
        empty = database_is_empty(session)
    if not empty:
        print(f"{where} already holds data; the demo is only loaded into an empty database. "
              "Run `python -m gongzhi seed --reset` to drop ALL data and load the demo.", file=sys.stderr)
        return EXIT_FAILED
    try:
        summary = seed_demo(engine=engine, today=args.today)
    except DatabaseNotEmptyError:  # someone else wrote to it in the meantime
        print(f"{where} already holds data; nothing was changed.", file=sys.stderr)
        return EXIT_FAILED
    print(f"Seeded the demo community into {where}: {summary.line()}")
    return EXIT_OK


def _add_seed(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "seed", help="load the demo community into an empty database",
        description="Load the demo community (桃源居社区: 12 grids, people, organisations, volunteers, "
                    "events, issues and meetings) into an empty database. Refuses a database that "
                    "already holds data unless --reset is given.")
    parser.add_argument("--reset", action="store_true",
                        help="drop every table first (ALL data is lost), then load the demo")
    parser.add_argument("--today", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                        help="date the demo as of this day (default: today)")
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


# -- migrate ------------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    from gongzhi.db import SchemaMismatch, downgrade, upgrade

    engine = _engine(args)
    try:
        if args.downgrade:
            downgrade(engine, args.downgrade)
        else:
            upgrade(engine)
    except SchemaMismatch as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    with engine.connect() as connection:
        revisions = ", ".join(sorted(schema_revisions(connection))) or "base (no tables)"
    print(f"{_shown_url(engine)} is at schema revision {revisions}.")
    return EXIT_OK


def _add_migrate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "migrate", help="bring the database schema to the newest revision (alembic)",
        description="Apply every schema migration the database lacks (the app does this at start as "
                    "well). A database made before migrations existed is adopted when its tables match "
                    "the baseline. With --downgrade, go back to an older revision instead.")
    parser.add_argument("--downgrade", metavar="REV", default=None,
                        help="revision to go back to (e.g. -1 for one step, base for an empty database)")
    parser.set_defaults(handler=cmd_migrate)


# -- make-migration -----------------------------------------------------------------------------


def cmd_make_migration(args: argparse.Namespace) -> int:
    """Autogenerate against a scratch SQLite database at the head revision, so the result depends
    on the models and the existing migrations only, never on someone's data."""
    import tempfile

    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    from gongzhi.db import alembic_config, dispose_engine, migration_connection

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/scratch.db"
        engine = get_engine(url)
        try:
            init_db(engine)
            with migration_connection(engine) as connection:
                if not compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                        SQLModel.metadata):
                    print("The models and the newest migration agree; no migration was written.")
                    return EXIT_OK
                script = command.revision(alembic_config(connection), args.message, autogenerate=True)
        finally:
            dispose_engine(url)
    print(f"Wrote {script.path}: review it (SQLite changes tables in batch mode), then commit it.")
    return EXIT_OK


def _add_make_migration(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "make-migration", help="write a new schema migration from changes to gongzhi/models.py",
        description="Compare gongzhi/models.py with the newest migration and write the difference as a "
                    "new revision in gongzhi/migrations/versions/ (for developers).")
    parser.add_argument("message", help="what changed, e.g. \"add issue priority\"")
    parser.set_defaults(handler=cmd_make_migration)


# -- migrate-sqlite-to-postgres -----------------------------------------------------------------


def cmd_migrate_sqlite_to_postgres(args: argparse.Namespace) -> int:
    from gongzhi.dbcopy import copy_database

    source, target = get_engine(args.sqlite_url), get_engine(args.postgres_url)
    args.engines.extend([source, target])
    if source.dialect.name != "sqlite" or target.dialect.name != "postgresql":
        print("error: the first URL must be a SQLite database (sqlite:///…) and the second a PostgreSQL "
              "one (postgresql+psycopg://…); nothing was copied", file=sys.stderr)
        return EXIT_FAILED
    report = copy_database(source, target)
    for table in report:
        print(f"{table.table:<16} {table.rows:>8} rows  sha256 {table.checksum[:16]}  ok")
    print(f"Copied {sum(t.rows for t in report)} rows in {len(report)} tables from {_shown_url(source)} to "
          f"{_shown_url(target)}; every count and checksum matches.")
    return EXIT_OK


def _add_migrate_sqlite_to_postgres(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "migrate-sqlite-to-postgres", help="copy a SQLite database into an empty PostgreSQL database",
        description="Copy every row of every table from a SQLite database into an empty PostgreSQL "
                    "database (both are first brought to the newest schema), reset PostgreSQL's id "
                    "sequences, and check each table's row count and checksum before committing. "
                    "Refuses a target that already holds data. Stop the app while it runs.")
    parser.add_argument("sqlite_url", metavar="SQLITE_URL", help="e.g. sqlite:///data/gongzhi.db")
    parser.add_argument("postgres_url", metavar="POSTGRES_URL",
                        help="e.g. postgresql+psycopg://gongzhi:PASSWORD@db.example.org/gongzhi")
    parser.set_defaults(handler=cmd_migrate_sqlite_to_postgres)


# -- the parser ---------------------------------------------------------------------------------

COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_seed, _add_close_unrated, _add_create_user, _add_migrate, _add_make_migration,
    _add_migrate_sqlite_to_postgres]


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
