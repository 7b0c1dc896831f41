"""The command line: `python -m gongzhi COMMAND`. Each command is one function taking the parsed
arguments and returning the exit status, registered by its own `_add_…` function below; a new
command (create-user, import, export, backup …) is one more pair of the same shape."""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from gongzhi import logs
from gongzhi.db import get_engine, init_db, read_session, schema_revisions, write_session
from gongzhi.dberrors import database_problem
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

# -- import / export ----------------------------------------------------------------------------


def _cli_actor(args: argparse.Namespace, engine: Engine):
    """The system actor (an admin: whoever runs the CLI on the server holds the database anyway),
    or with --as the named account, which must be an active admin; the audit trail records it."""
    if args.as_user is None:
        return SYSTEM_ACTOR
    from sqlalchemy import select

    from gongzhi.accounts import actor_for
    from gongzhi.models import User
    from gongzhi.permissions import Role

    with read_session(engine) as session:
        user_id = session.execute(select(User.id).where(User.username == args.as_user)).scalar()
        actor = actor_for(session=session, user_id=user_id) if user_id is not None else None
    if actor is None or actor.role != Role.ADMIN:
        raise SystemExit(f"error: --as {args.as_user!r} must name an active admin account; nothing was done")
    return actor


def _mapping_option(text: str) -> tuple[str, str]:
    header, separator, key = text.rpartition("=")
    if not separator or not header or not key:
        raise argparse.ArgumentTypeError(f"expected HEADER=FIELD, got {text!r}")
    return header, key


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gongzhi.i18n import translate
    from gongzhi.importing import (
        SCHEMAS,
        ImportRefused,
        match_headers,
        plan_import,
        read_spreadsheet,
        remembered_mappings,
        run_import,
    )

    engine = _engine(args)
    init_db(engine)
    actor = _cli_actor(args, engine)
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as error:
        print(f"error: cannot read {path}: {error.strerror}", file=sys.stderr)
        return EXIT_FAILED
    sheet = read_spreadsheet(data, path.name, encoding=args.encoding)
    with read_session(engine) as session:
        mapping = match_headers(args.kind, sheet.headers, remembered_mappings(session, args.kind))
    fields = {column.key for column in SCHEMAS[args.kind]}
    for header, key in args.map:
        if header not in mapping or key not in fields:
            print(f"error: --map {header}={key}: the file has no header {header!r} or {args.kind} has no field "
                  f"{key!r} (fields: {', '.join(sorted(fields))})", file=sys.stderr)
            return EXIT_FAILED
        mapping[header] = key
    t = lambda key, **params: translate(args.lang, key, **params)  # noqa: E731
    with read_session(engine) as session:
        plan = plan_import(session, kind=args.kind, sheet=sheet, mapping=mapping, actor=actor)
    print(f"{args.kind} <- {path.name} ({sheet.file_type.upper()}"
          f"{', ' + sheet.encoding if sheet.encoding else ''}): " + t("imports.summary", **plan.counts()))
    for header in plan.never_read_columns:
        print(t("imports.never_read", columns=header))
    if plan.ignored_columns:
        print(t("imports.ignored", columns=", ".join(plan.ignored_columns)))
    _print_problems(plan.problems, args.lang)
    if plan.refused:
        print(t("imports.refused_rows", count=len(plan.problems)), file=sys.stderr)
        return EXIT_FAILED
    if args.dry_run:
        print("Dry run: nothing was written." if args.lang == "en" else "试运行：未写入任何内容。")
        return EXIT_OK

    def progress(done: int, total: int) -> None:
        print(t("imports.writing", done=done, total=total), file=sys.stderr, flush=True)

    try:
        with write_session(engine, actor=actor) as session:
            result = run_import(session, kind=args.kind, sheet=sheet, mapping=mapping, actor=actor,
                                on_duplicate=args.on_duplicate, progress=progress)
    except ImportRefused as refused:  # the database changed since the check above
        _print_problems(refused.plan.problems, args.lang)
        print(t("imports.refused_rows", count=len(refused.plan.problems)), file=sys.stderr)
        return EXIT_FAILED
    print(t("imports.done", inserted=result.inserted, updated=result.updated, skipped=result.skipped))
    return EXIT_OK


def _print_problems(problems, lang: str) -> None:
    from gongzhi.i18n import translate

    for problem in problems:
        where = translate(lang, "imports.col_row") + f" {problem.row}" if problem.row else "-"
        column = f", {problem.column}" if problem.column else ""
        print(f"{where}{column}: {problem.reason(lang)}")


def _add_import(commands: argparse._SubParsersAction) -> None:
    from gongzhi.i18n import LANGUAGES
    from gongzhi.importing import DUPLICATE_CHOICES, ENCODINGS, KINDS

    parser = commands.add_parser(
        "import", help="import a CSV or XLSX file (volunteers, people, population, events, attendance, issues)",
        description="Check every row of a CSV or XLSX file and import it all in one transaction, or nothing: "
                    "when any row is refused, the report lists each (row, column, why) and the exit status "
                    "is 1. Runs as the system (an admin) unless --as names an admin account.")
    parser.add_argument("kind", choices=KINDS, metavar="KIND", help=f"one of: {', '.join(KINDS)}")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")
    parser.add_argument("--as", dest="as_user", default=None, metavar="USERNAME",
                        help="record the import under this admin account (default: system)")
    parser.add_argument("--encoding", default=None, choices=ENCODINGS,
                        help="the CSV's text encoding, when detection is not sure")
    parser.add_argument("--map", action="append", default=[], type=_mapping_option, metavar="HEADER=FIELD",
                        help="read the column HEADER as FIELD (repeat for several)")
    parser.add_argument("--on-duplicate", choices=DUPLICATE_CHOICES, default="skip",
                        help="records already in the database or repeated in the file: skip (default) or update")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="language of the report (default: en)")
    parser.set_defaults(handler=cmd_import)


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gongzhi.importing import export_file

    path = Path(args.file)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        print(f"error: {path.name}: the file name must end in .csv or .xlsx", file=sys.stderr)
        return EXIT_FAILED
    engine = _engine(args)
    init_db(engine)
    actor = _cli_actor(args, engine)
    with read_session(engine) as session:
        data = export_file(session, kind=args.kind, fmt=fmt, actor=actor, lang=args.lang)
    path.write_bytes(data)
    print(f"Wrote {args.kind} to {path} ({len(data)} bytes).")
    return EXIT_OK


def _add_export(commands: argparse._SubParsersAction) -> None:
    from gongzhi.i18n import LANGUAGES
    from gongzhi.importing import KINDS

    parser = commands.add_parser(
        "export", help="export one kind of data in the columns its import reads (CSV or XLSX)",
        description="Write KIND to FILE (.csv in UTF-8 with BOM, or .xlsx) in exactly the columns "
                    "`import KIND` reads, so the file can be edited and imported again.")
    parser.add_argument("kind", choices=KINDS, metavar="KIND", help=f"one of: {', '.join(KINDS)}")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--as", dest="as_user", default=None, metavar="USERNAME",
                        help="export as this admin account (default: system)")
    parser.add_argument("--lang", choices=LANGUAGES, default="zh-CN",
                        help="language of the headers and labels (default: zh-CN)")
    parser.set_defaults(handler=cmd_export)

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
    _add_seed, _add_close_unrated, _add_create_user,
    _add_import, _add_export,
    _add_backup, _add_restore, _add_open311_export, _add_open311_import,
    _add_migrate, _add_make_migration, _add_migrate_sqlite_to_postgres,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gongzhi", description="Gongzhi command line.")
    parser.add_argument("--database-url", default=None, metavar="URL",
                        help="database to work on (default: $DATABASE_URL, else data/gongzhi.db)")
    parser.add_argument("--debug", action="store_true",
                        help="on an error, print its full traceback too (phone and ID numbers masked)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(commands)
    return parser


_LOG = logging.getLogger("gongzhi.cli")


def _log_handler() -> logging.Handler:
    """The command's log lines on its standard error, masked (gongzhi.logs)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(logs.PersonalDataFilter())
    return handler


def _failed(args: argparse.Namespace, message: str) -> int:
    """One line on standard error, exit status 1; the traceback only with --debug, through the mask."""
    print(f"error: {message}", file=sys.stderr)
    if args.debug:
        _LOG.error("the traceback (--debug)", exc_info=True)
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. A Gongzhi error, a database error or any other failure is one line on
    standard error that names no value (a table, a row id and a column at most) and exit status 1."""
    logs.install()
    args = build_parser().parse_args(argv)
    args.engines = []
    handler = _log_handler()
    logging.getLogger().addHandler(handler)
    try:
        return args.handler(args)
    except GongzhiError as error:
        return _failed(args, str(error))
    except (SQLAlchemyError, sqlite3.Error) as error:
        return _failed(args, str(database_problem(error)))
    except Exception as error:  # a fault of the program: its text may hold data, so only its kind
        return _failed(args, f"unexpected {type(error).__name__}; nothing more is shown without --debug")
    finally:
        logging.getLogger().removeHandler(handler)
        for engine in args.engines:
            engine.dispose()
