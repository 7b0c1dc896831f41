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


# -- backup / restore ---------------------------------------------------------------------------

_POSTGRES_BACKUP = ("{where} is not a SQLite database. Back PostgreSQL up with pg_dump and restore it with "
                    "pg_restore, e.g. `pg_dump --format=custom --file=gongzhi.dump \"$DATABASE_URL\"` and "
                    "`pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" gongzhi.dump` (see the README).")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from error
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gongzhi import backup
    from gongzhi.config import database_url

    url = args.database_url or database_url()
    if backup.sqlite_path(url) is None:
        print(_POSTGRES_BACKUP.format(where=make_url(url).render_as_string(hide_password=True)), file=sys.stderr)
        return EXIT_FAILED
    result = backup.backup(url, Path(args.file) if args.file else None, keep=args.keep)
    print(f"Backed up {_shown_url(_engine(args))} to {result.path} ({result.size} bytes, integrity check ok).")
    for path in result.removed:
        print(f"Removed the older backup {path} (--keep {args.keep}).")
    return EXIT_OK


def _add_backup(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "backup", help="back the SQLite database up (consistent while the app writes)",
        description="Copy the SQLite database with SQLite's online backup API: one consistent state even "
                    "while the app keeps writing. The copy is checked with PRAGMA integrity_check. Default "
                    "file: gongzhi-YYYYMMDD-HHMMSS.db in $GONGZHI_BACKUP_DIR (default data/backups). For "
                    "PostgreSQL use pg_dump.")
    parser.add_argument("file", nargs="?", default=None, metavar="FILE", help="where to write the backup")
    parser.add_argument("--keep", type=_positive, default=None, metavar="N",
                        help="afterwards keep only the N newest backups in that file's directory")
    parser.set_defaults(handler=cmd_backup)


def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gongzhi import backup
    from gongzhi.config import database_url

    url = args.database_url or database_url()
    if backup.sqlite_path(url) is None:
        print(_POSTGRES_BACKUP.format(where=make_url(url).render_as_string(hide_password=True)), file=sys.stderr)
        return EXIT_FAILED
    get_engine(url).dispose()  # this process holds no connection while the file is replaced
    result = backup.restore(url, Path(args.file))
    if result.previous_saved_to is not None:
        print(f"Saved the database as it was to {result.previous_saved_to}.")
    print(f"Restored {_shown_url(_engine(args))} from {result.restored_from} (integrity check ok).")
    return EXIT_OK


def _add_restore(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "restore", help="replace the SQLite database with a backup (checked first, current one kept)",
        description="Check FILE (PRAGMA integrity_check, and that it holds Gongzhi's tables), back the "
                    "current database up into the backup directory, then replace the database with FILE. "
                    "Refuses, changing nothing, a file that is missing, damaged or not a Gongzhi database. "
                    "For PostgreSQL use pg_restore.")
    parser.add_argument("file", metavar="FILE", help="the backup to restore")
    parser.set_defaults(handler=cmd_restore)


# -- open311 ------------------------------------------------------------------------------------


def _open311_format(path: str, given: str | None) -> str:
    if given:
        return given
    return "xml" if path.lower().endswith(".xml") else "json"


def cmd_open311_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gongzhi import open311

    fmt = _open311_format(args.file, args.format)
    if args.services:
        items, kind = open311.service_list(lang=args.lang), "services"
    else:
        engine = _engine(args)
        init_db(engine)
        with read_session(engine) as session:
            items, kind = open311.service_requests(session=session, lang=args.lang), "requests"
    Path(args.file).write_bytes(open311.render(items, fmt, kind=kind))
    what = "services" if args.services else "service requests"
    print(f"Wrote {len(items)} GeoReport v2 {what} ({fmt.upper()}) to {args.file}.")
    return EXIT_OK


def _add_open311_export(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "open311-export", help="write issues as Open311 GeoReport v2 service requests (or the service list)",
        description="Write every issue as an Open311 GeoReport v2 service request (no personal data), or "
                    "with --services the issue categories as the service list; JSON, or XML when FILE "
                    "ends in .xml or --format xml is given.")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--services", action="store_true", help="write the service list instead")
    parser.add_argument("--format", choices=["json", "xml"], default=None)
    parser.add_argument("--lang", choices=["zh-CN", "en"], default="zh-CN", help="language of names and notes")
    parser.set_defaults(handler=cmd_open311_export)


def cmd_open311_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gongzhi import open311

    engine = _engine(args)
    init_db(engine)
    data = Path(args.file).read_bytes()
    try:
        with write_session(engine, actor=SYSTEM_ACTOR) as session:
            result = open311.import_requests(session=session, actor=SYSTEM_ACTOR, data=data)
            if args.dry_run:
                raise _DryRun(result)
    except _DryRun as dry:
        print(f"Dry run: {len(dry.result.created)} issue(s) would be created, "
              f"{len(dry.result.skipped_closed)} closed request(s) skipped; nothing was written.")
        return EXIT_OK
    except open311.Open311ImportError as error:
        print(f"error: {error}", file=sys.stderr)
        for problem in error.problems:
            print(f"  row {problem.row}, {problem.field}: {problem.reason}", file=sys.stderr)
        return EXIT_FAILED
    for external_id, issue_id in result.created.items():
        print(f"{external_id} -> issue #{issue_id}")
    print(f"Created {len(result.created)} issue(s); skipped {len(result.skipped_closed)} closed request(s).")
    return EXIT_OK


class _DryRun(Exception):
    """Leaves the write session so that it rolls back, carrying what would have been done."""

    def __init__(self, result):
        self.result = result
        super().__init__("dry run")


def _add_open311_import(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "open311-import", help="create issues from Open311 GeoReport v2 service requests (JSON or XML)",
        description="Create an issue for every open GeoReport v2 service request in FILE (closed ones are "
                    "skipped). The grid is the one holding lat/long, else the one the address names. All or "
                    "nothing: any invalid row refuses the whole file, with every row's problem printed.")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")
    parser.set_defaults(handler=cmd_open311_import)


# -- the parser ---------------------------------------------------------------------------------

COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_seed, _add_close_unrated, _add_create_user,
    _add_backup, _add_restore, _add_open311_export, _add_open311_import,
]


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
