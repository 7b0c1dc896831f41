"""Importing 10,000 volunteers (issue 6: "10,000 rows import in seconds, not minutes").

A roster as Chinese Excel writes it (GBK CSV; or XLSX) goes through the whole import: read and
detect, plan (every row checked, duplicates looked up), and the all-or-nothing write with its
audit entries. The baseline, measured in the same run on a fresh database of the same schema, is
a plain sqlite3 executemany INSERT of the same people and volunteers: no checks, no audit. Runs
alternate; the medians are printed with the rows per second and the ratio import / baseline.

    .venv/bin/python bench/imports.py [--rows 10000] [--runs 3] [--format csv|xlsx]
"""

import argparse
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from gongzhi.db import dispose_engines, get_engine, init_db, write_session  # noqa: E402
from gongzhi.importing import match_headers, read_spreadsheet, run_import  # noqa: E402
from gongzhi.models import Area  # noqa: E402
from gongzhi.permissions import SYSTEM_ACTOR  # noqa: E402
from gongzhi.spreadsheet import to_file  # noqa: E402

HEADER = ["姓名", "手机号码", "所属网格", "技能", "状态", "备注"]
SKILLS = ["急救", "助老、维修", "课业辅导", "", "摄影, 文艺"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def roster_rows(count: int) -> list[list[str]]:
    """Rows as committees type them: some phones in full-width digits or with +86 and spaces."""
    rows = []
    for i in range(count):
        phone = f"139{i:08d}"
        if i % 3 == 1:
            phone = phone.translate(FULL_WIDTH)
        elif i % 3 == 2:
            phone = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
        rows.append([f"居民{i:05d}", phone, "一网格" if i % 2 else "G02", SKILLS[i % len(SKILLS)], "在岗", ""])
    return rows


def roster_file(rows: list[list[str]], fmt: str) -> bytes:
    if fmt == "xlsx":
        return to_file("xlsx", HEADER, rows)
    return to_file("csv", HEADER, rows).decode("utf-8-sig").encode("gbk")  # as Chinese Excel saves it


def new_database(directory: Path, name: str) -> str:
    url = f"sqlite:///{directory / name}"
    engine = get_engine(url)
    init_db(engine)
    with write_session(engine) as session:
        session.add(Area(code="G01", name="一网格", level="grid"))
        session.add(Area(code="G02", name="二网格", level="grid"))
    return url


def gongzhi_import(url: str, data: bytes, fmt: str) -> tuple[float, int]:
    """Seconds for the whole import of the file (read, plan, write, commit); rows inserted."""
    engine = get_engine(url)
    started = time.perf_counter()
    sheet = read_spreadsheet(data, f"roster.{fmt}")
    with write_session(engine, actor=SYSTEM_ACTOR) as session:
        result = run_import(session, kind="volunteers", sheet=sheet,
                            mapping=match_headers("volunteers", sheet.headers), actor=SYSTEM_ACTOR)
    return time.perf_counter() - started, result.inserted


def plain_insert(url: str, rows: list[list[str]]) -> float:
    """Seconds for sqlite3 executemany of the same people and volunteers, values already clean."""
    path = url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    grid = dict(connection.execute("SELECT code, id FROM area").fetchall())
    now = datetime.now().isoformat(sep=" ")
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    first_id = (connection.execute("SELECT coalesce(max(id), 0) FROM person").fetchone()[0]) + 1
    connection.executemany(
        "INSERT INTO person (id, name, phone, grid_id, created_at, version) VALUES (?, ?, ?, ?, ?, 1)",
        [(first_id + i, row[0], f"+86139{i:08d}", grid["G01"] if i % 2 else grid["G02"], now)
         for i, row in enumerate(rows)])
    connection.executemany(
        "INSERT INTO volunteer (person_id, grid_id, skills, status, joined_on, note, version) "
        "VALUES (?, ?, ?, 'active', ?, '', 1)",
        [(first_id + i, grid["G01"] if i % 2 else grid["G02"], "first_aid", date.today().isoformat())
         for i in range(len(rows))])
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    args = parser.parse_args()

    rows = roster_rows(args.rows)
    data = roster_file(rows, args.format)
    ours, baseline = [], []
    with tempfile.TemporaryDirectory() as directory:
        for run in range(args.runs):
            ours_url = new_database(Path(directory), f"import-{run}.db")
            plain_url = new_database(Path(directory), f"plain-{run}.db")
            seconds, inserted = gongzhi_import(ours_url, data, args.format)
            assert inserted == args.rows, inserted
            ours.append(seconds)
            baseline.append(plain_insert(plain_url, rows))
            dispose_engines()
    ours_median, baseline_median = statistics.median(ours), statistics.median(baseline)
    print(f"Import of {args.rows:,} volunteers from {args.format.upper()} ({len(data) / 1024:.0f} KB), "
          f"{args.runs} runs, {platform.machine()}, Python {platform.python_version()}")
    print("| measure | median s | rows/s |")
    print("|---|---|---|")
    print(f"| Gongzhi import (read, check, write, audit) | {ours_median:.2f} | {args.rows / ours_median:,.0f} |")
    print(f"| plain executemany INSERT (baseline) | {baseline_median:.3f} | {args.rows / baseline_median:,.0f} |")
    print(f"| ratio import / baseline | {ours_median / baseline_median:.1f}x | |")


if __name__ == "__main__":
    main()
