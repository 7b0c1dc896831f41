"""The district benchmark (issue 7): seeds `python -m gongzhi seed --scale district` into a
temporary SQLite database and prints a table of ratios measured in this one run (absolute times
on a shared machine are noise; ratios are the figure):

- every page's rerun in AppTest, warm (caches filled) and cold (caches cleared), against the
  empty page's (bench/empty_page.py): goal warm ≤ 2.5×;
- every dashboard aggregate of the core against the best hand-written SQL for the same figure
  (checked equal), with both query plans: goal ≤ 1.5×;
- the naive pattern (whole tables through ORM objects into pandas on every rerun) against
  Gongzhi's overview page for the same figures (checked equal): goal ≥ 10× faster;
- the server's RSS after 1 and after 20 Chromium tabs on the overview: goal ≤ 2 MB per extra tab;
- the first render of every page after a save of each kind of data (issue 17), every page open and
  warm before: pages whose data did not change within 1.5× their warm rerun, pages whose data did
  within 400 ms or 5× their warm rerun, whichever is larger (section "First render after a write");
- with `--postgres URL` (an empty PostgreSQL database): 10 writers in 2 processes saving to
  different communities for `--write-seconds`, now against the single revision row of before, in
  the same run (bench/writes.py; section "PostgreSQL writes"): goal ≥ 3× the throughput.

The table goes to bench/RESULTS.md too (sections "District benchmark" and "Query plans"; the
map's section is bench/district_map.py's).

    /work/main/.venv/bin/python bench/run.py [--runs 3] [--skip aggregates,pages,naive,memory,after] [--database PATH]
        [--postgres postgresql+psycopg://USER:PW@HOST:PORT/DB] [--write-seconds 30]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.aggregates import AggregateResult, default_periods, measure_aggregates  # noqa: E402
from bench.app_measures import (  # noqa: E402
    EMPTY_PAGE,
    AfterWrite,
    MemoryResult,
    PageTiming,
    measure_after_writes,
    measure_memory,
    measure_naive,
    measure_pages,
)
from gongzhi.clock import today  # noqa: E402
from gongzhi.db import dispose_engines, get_engine  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
PAGE_GOAL = 2.5
AGGREGATE_GOAL = 1.5
NAIVE_GOAL = 10.0
MEMORY_GOAL_MB = 2.0
SECTIONS = ("## District benchmark", "## Query plans", "## First render after a write", "## PostgreSQL writes")


def _verdict(met: bool) -> str:
    return "met" if met else "**NOT met**"


def page_rows(timings: list[PageTiming]) -> list[tuple[str, str, str, str]]:
    empty = next(t for t in timings if t.page == EMPTY_PAGE)
    rows = [("empty page rerun (ms): warm / cold", f"{empty.warm_ms:,.0f} / {empty.cold_ms:,.0f}", "", "")]
    for t in timings:
        if t.page == EMPTY_PAGE:
            continue
        ratio = t.warm_ms / empty.warm_ms
        note = f"{t.exceptions} exception(s)!" if t.exceptions else ""
        rows.append((f"page {Path(t.page).stem}: warm / cold rerun vs empty",
                     f"{ratio:.1f}× / {t.cold_ms / empty.cold_ms:.0f}× ({t.warm_ms:,.0f} / {t.cold_ms:,.0f} ms)",
                     f"warm ≤ {PAGE_GOAL}×: {_verdict(ratio <= PAGE_GOAL)}", note))
    return rows


def aggregate_rows(results: list[AggregateResult]) -> list[tuple[str, str, str, str]]:
    rows = []
    for r in results:
        note = "" if r.same else "figures DIFFER"
        rows.append((f"aggregate {r.name}: core / hand SQL",
                     f"{r.ratio:.2f}× ({r.core_ms:,.1f} / {r.hand_ms:,.1f} ms)",
                     f"≤ {AGGREGATE_GOAL}×: {_verdict(r.ratio <= AGGREGATE_GOAL)}", note))
    return rows


def naive_row(naive_ms: float, same: bool, overview: PageTiming) -> list[tuple[str, str, str, str]]:
    ratio = naive_ms / overview.warm_ms
    cold_ratio = naive_ms / overview.cold_ms
    return [("naive overview (ORM → pandas) vs Gongzhi's overview, warm (cold)",
             f"{ratio:,.0f}× ({cold_ratio:,.1f}×) faster ({naive_ms:,.0f} vs {overview.warm_ms:,.0f} "
             f"({overview.cold_ms:,.0f}) ms)",
             f"≥ {NAIVE_GOAL:.0f}×: {_verdict(ratio >= NAIVE_GOAL)}", "same figures" if same else "figures DIFFER")]


def memory_row(memory: MemoryResult) -> list[tuple[str, str, str, str]]:
    per = memory.per_extra_session_mb
    return [(f"server RSS after 1 / {memory.sessions} browser tabs (MB)",
             f"{memory.rss_1_mb:,.0f} / {memory.rss_n_mb:,.0f}: {per:.2f} MB per extra tab",
             f"≤ {MEMORY_GOAL_MB} MB: {_verdict(per <= MEMORY_GOAL_MB)}", "")]


def after_write_table(results: list[AfterWrite]) -> tuple[str, int, int]:
    """Pages down, writes across: each cell the first render after that write in ms, * where the
    write changed the page's data, ✗ where the goal was missed. Returns (table, met, goals)."""
    writes = list(dict.fromkeys(r.write for r in results))
    pages = list(dict.fromkeys(r.page for r in results))
    cell = {(r.page, r.write): r for r in results}
    lines = ["| page (warm ms) | " + " | ".join(writes) + " |", "|---|" + "---|" * len(writes)]
    met = 0
    for page in pages:
        cells = []
        for write in writes:
            r = cell[(page, write)]
            ok = r.after_ms <= r.goal_ms
            met += ok
            cells.append(f"{r.after_ms:,.0f}{' *' if r.changed else ''}{'' if ok else ' ✗'}")
        lines.append(f"| {Path(page).stem} ({cell[(page, writes[0])].warm_ms:,.0f}) | " + " | ".join(cells) + " |")
    return "\n".join(lines), met, len(results)


def table(rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["| measure | ratio (times) | goal | note |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def plans_text(results: list[AggregateResult]) -> str:
    parts = []
    for r in results:
        parts.append(f"**{r.name}**\n\n```\n" + "\n".join(f"core: {line}" for line in r.core_plan)
                     + "\n" + "\n".join(f"hand: {line}" for line in r.hand_plan) + "\n```")
    return "\n\n".join(parts)


def write_section(heading: str, body: str) -> None:
    """Replace (or add) one section of bench/RESULTS.md, leaving the others as they are."""
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"{re.escape(heading)}\n.*?(?=\n## |\Z)", re.S)
    section = f"{heading}\n\n{body}\n"
    updated = pattern.sub(lambda _m: section, existing) if pattern.search(existing) \
        else existing.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(updated, encoding="utf-8")


def seed(url: str) -> str:
    from gongzhi.seed_district import seed_district

    started, cpu = time.perf_counter(), time.process_time()
    summary = seed_district(engine=get_engine(url))
    return (f"seeded in {time.perf_counter() - started:.0f} s wall, {time.process_time() - cpu:.0f} s CPU: "
            f"{summary.line().rsplit(' in ', 1)[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each measure (medians)")
    parser.add_argument("--skip", default="", help="comma-separated: pages, aggregates, naive, memory")
    parser.add_argument("--database", default=None, help="an already seeded district (SQLite file) to use")
    parser.add_argument("--no-write", action="store_true", help="print only, leave bench/RESULTS.md alone")
    parser.add_argument("--postgres", default=None, help="an empty PostgreSQL database for the write benchmark")
    parser.add_argument("--write-seconds", type=float, default=30)
    args = parser.parse_args(argv)
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    with tempfile.TemporaryDirectory() as folder:
        if args.database:
            url, seeded = f"sqlite:///{Path(args.database).resolve()}", f"existing database {args.database}"
        else:
            url = f"sqlite:///{folder}/district.db"
            seeded = seed(url)
        print(seeded, flush=True)
        on = today()
        year, _ = default_periods(on)
        rows: list[tuple[str, str, str, str]] = []
        aggregates: list[AggregateResult] = []
        if "aggregates" not in skip:
            aggregates = measure_aggregates(get_engine(url), runs=max(args.runs, 3), on=on)
            rows += aggregate_rows(aggregates)
            print(table(rows), flush=True)
        timings: list[PageTiming] = []
        if "pages" not in skip:
            timings = measure_pages(url, runs=args.runs)
            rows = page_rows(timings) + rows
            print(table(page_rows(timings)), flush=True)
        if "naive" not in skip and timings:
            overview = next(t for t in timings if t.page == "views/overview.py")
            naive_ms, same = measure_naive(url, on=on, start=year.start, end=year.end)
            rows += naive_row(naive_ms, same, overview)
            print(table(rows[-1:]), flush=True)
        if "memory" not in skip:
            dispose_engines()
            memory = measure_memory(url)
            rows += memory_row(memory)
            print(table(rows[-1:]), flush=True)
        after_text = None
        if "after" not in skip:
            after, after_met, after_goals = after_write_table(measure_after_writes(url, runs=args.runs))
            after_text = (f"{date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} CPUs (load average "
                          f"{os.getloadavg()[0]:.1f} at the end), SQLite, {seeded}. Every page open in its own "
                          "AppTest and warm; then one save of each kind through the core's write functions, each "
                          f"followed by one rerun of every page, all of it {args.runs} times over (each save a new "
                          "change). Milliseconds of the best first rerun; * = the save "
                          "changed data the page reads (goal: ≤ 400 ms or 5× warm, the larger), otherwise goal "
                          f"≤ 1.5× warm; ✗ = goal missed. {after_met} of {after_goals} met.\n\n{after}")
            print(after_text, flush=True)
    writes_text = None
    if args.postgres:
        from bench.writes import rows as write_rows
        from bench.writes import run as run_writes

        write_table = table(write_rows(run_writes(args.postgres, args.write_seconds)))
        writes_text = (f"{date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} CPUs (load average "
                       f"{os.getloadavg()[0]:.1f} at the end), PostgreSQL on loopback (`bench/writes.py`): each "
                       "writer reports issues in its own community through `crud.issues.create_issue`; both modes "
                       f"in this run, the old one first.\n\n{write_table}")
        print(writes_text, flush=True)
    met = sum("NOT met" not in row[2] for row in rows if row[2])
    goals = sum(1 for row in rows if row[2])
    header = (f"{date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} CPUs "
              f"(load average {os.getloadavg()[0]:.1f} at the end), SQLite, Python {platform.python_version()} "
              f"(`/work/main/.venv/bin/python bench/run.py`). {seeded}.\n\n"
              f"{met} of {goals} goals met. Best of {args.runs} runs (other work on the shared machine only adds "
              "time); every ratio is measured within this run.")
    text = f"{header}\n\n{table(rows)}"
    print("\n" + text)
    if not args.no_write and after_text:
        write_section(SECTIONS[2], after_text)
    if not args.no_write and writes_text:
        write_section(SECTIONS[3], writes_text)
    if not args.no_write and rows:
        write_section(SECTIONS[0], text + "\n\n" + EXPLANATIONS)
        if aggregates:
            write_section(SECTIONS[1], "EXPLAIN QUERY PLAN of each statement the core runs for an aggregate, and of "
                                       "the hand-written SQL (SQLite, district database).\n\n"
                          + plans_text(aggregates))
    return 0


EXPLANATIONS = """How to read it, and why the goals not met are not (found by profiling the reruns; "Query plans"
below has every plan):

- **Aggregates.** Each core aggregate runs the same plan as the hand-written SQL (checked equal before
  timing). What made the core slower was fixed: the single-column indexes on `deleted_at` (every row
  NULL, so they filter nothing) led SQLite's planner, which has no statistics, to start the event
  figures at the people and walk all 500,000 attendance records (17× the hand SQL); they are gone,
  and the figures now start at the period's events. Issues awaiting a meeting look up each waiting
  issue's own timeline and agenda (was 78×); months are grouped by one key (`month_key`), top
  volunteers are summed before the names are joined. What is left above 1.5× is Python's share,
  not SQL: the plans are the same, and the core's SQL run alone through the driver is as fast as
  the hand-written one (issues_by_category: 34 vs 41 ms); on queries of a few milliseconds
  SQLAlchemy's statement and row handling and the DataFrame the pages need cost about as much
  again. On this shared machine (load average 10–18 from the other engineers' test runs) the
  heavier pairs also move between runs: monthly_issue_trend measured 0.63×–2.65× on the same
  plans, so a single run's verdict near the line is not a finding.
- **Pages against the empty page.** Warm, no page touches the database (every figure is a cache
  hit keyed on the data revision); what is left is Streamlit's own work per element and copying
  cached results out of the cache (`st.cache_data` hands every caller an unpickled copy, and
  every lookup hashes its arguments). The empty page is the app's shell (sign-in check, menu,
  sidebar, a title): 6–30 ms depending on the machine's load, so the same page's ratio moves
  with it; the absolute times are given too. Fixed (issue 7; warm ms before → after, measured
  the same way): the volunteers page shows the roster 50 rows a page with a pager (search and
  filters as before), its picker offers the volunteers of the page shown instead of 20,000
  names, only the page's rows are read, in SQL (`volunteer_roster_page`), its download is
  built on click (1,233 → ~46 ms); every chart's
  Vega-Lite spec is built once per data and cached (`charts.cached_chart`), drawn without
  Altair's per-rerun schema check (the tests validate the specs), and per-grid charts show the 15
  lowest grids with a note at district scale (overview 196 → ~65 ms, events 305 → ~84 ms); the
  grid map and the boundary drawing map are rendered once per data revision and choices and
  sent with exactly st_folium's arguments (tested), and the map's point layers are loaded only
  when it is built (grid map 1,776 → ~47 ms, boundaries 2,660 → ~48 ms). Left: every page still
  draws far more elements than the empty page's four (the overview: 12 cards, 5 charts, 3
  tables; events: two event lists of up to 5,000 rows and pickers of the period's events;
  meetings: the meeting lists and their forms), and each of their 10–20 cache lookups costs
  0.5–2 ms of argument hashing and unpickling. Reaching 2.5× an empty page would take caching
  whole sections per data revision and paging the event lists as the roster is paged. Earlier
  fixes: the issues page no longer sends a select box of all 81,000 named residents (1.6 s → 46–75
  ms). The "before" figures come from a run whose empty page took 15 ms (this one: 6 ms), so
  compare the milliseconds; pages not changed here moved with the load (meetings 77 → 101 ms,
  accounts 26 → 31 ms, audit 53 → 17 ms).
- **Cold** (every cache cleared: the pages', the figures' parts kept per community and the map's
  drawn shapes) is the sum of the page's aggregates, reported for reference.
- **Figures kept per community** (issue 17, "Invalidation, locks and summaries" below) are timed
  here computed whole, their parts forgotten before each run, which is what a server does once
  after it starts or after an area is written: they group by grid and put 50 parts together, so
  issue_headline (1.6×), monthly_issue_trend (2.2×), monthly_participation (1.5×) and the small
  ones (open_by_state 7.5 vs 1.5 ms, the month's event headline 9 vs 5 ms) are now slower than one
  pass of hand SQL. That is the price of recounting one community of 50 after every other save
  ("First render after a write": 100–270 ms where these figures used to take seconds).
- **Naive pattern.** Loading issues, ratings, events, 500,000 attendance records, people,
  volunteers and service records as ORM objects into pandas takes half a minute to three minutes
  per rerun (29 s, 71 s and 173 s in three runs); it computes
  the same figures as the overview (checked), which Gongzhi serves from SQL aggregates and the cache.
- **Seed.** `python -m gongzhi seed --scale district` takes 18–21 s of CPU; its wall time on this
  machine was 46–110 s, depending on what else ran (the benchmark prints both when it seeds). The
  triggers of issue 17 (parts per community, the events' named attendance) run for every row it
  writes: 22 s → 37 s wall (23.5 s of CPU) with little else running, measured on 2026-12-06.
- **Memory.** Caches are shared by all sessions (`st.cache_data` in the server process); a session
  holds only its widget state, so 19 more tabs on the district add well under the 2 MB goal each."""


if __name__ == "__main__":
    raise SystemExit(main())
