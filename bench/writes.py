"""The PostgreSQL write benchmark (issue 17): 10 writers in 2 processes (5 threads each) save for
`seconds` each to a different community, through the real write path (`write_session` and
`crud.issues.create_issue`: the issue, its timeline line, the audit trail, the revisions).

Measured twice in one run on the same database: as Gongzhi writes now (revisions per kind in
striped rows, rows locked only where a save reads them), and with today's-before single-row lock
put back around the same save (the revision row locked FOR UPDATE first and bumped last, as
`write_session` did before issue 17). Throughput (saves per second) and p95 latency of each.

    .venv/bin/python bench/writes.py --database postgresql+psycopg://USER:PW@127.0.0.1:PORT/DB [--seconds 30]

The database must be empty (it is filled with 10 communities of one grid each)."""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROCESSES, THREADS = 2, 5
WRITERS = PROCESSES * THREADS


@dataclass(frozen=True)
class WriteResult:
    mode: str
    saves: int
    seconds: float
    p50_ms: float
    p95_ms: float
    failures: int

    @property
    def per_second(self) -> float:
        return self.saves / self.seconds


def prepare(url: str) -> list[int]:
    """Ten communities of one grid each; the grid ids, one per writer."""
    from sqlalchemy import select

    from gongzhi.db import get_engine, init_db, write_session
    from gongzhi.domain import AreaLevel
    from gongzhi.models import Area

    engine = get_engine(url)
    init_db(engine)
    with write_session(engine) as session:
        existing = session.execute(select(Area.id).where(Area.level == AreaLevel.GRID, Area.code.like("bench-%"))
                                   .order_by(Area.code)).scalars().all()
        if len(existing) >= WRITERS:
            return list(existing[:WRITERS])
        grids = []
        for number in range(WRITERS):
            community = Area(code=f"benchc-{number:02d}", name=f"社区{number}", level=AreaLevel.COMMUNITY)
            session.add(community)
            session.flush()
            grid = Area(code=f"bench-{number:02d}", name=f"网格{number}", level=AreaLevel.GRID, parent_id=community.id,
                        centroid_lon=113.9, centroid_lat=22.55)
            session.add(grid)
            grids.append(grid)
        session.flush()
        return [grid.id for grid in grids]


def _save(engine, grid_id: int, number: int, old_lock: bool) -> None:
    from sqlalchemy import select, update

    from gongzhi.crud.issues import IssueCreate, create_issue
    from gongzhi.db import write_session
    from gongzhi.models import Revision
    from gongzhi.permissions import SYSTEM_ACTOR

    with write_session(engine, actor=SYSTEM_ACTOR) as session:
        if old_lock:  # what write_session did before: every write locks row 1 first ...
            session.execute(select(Revision.value).where(Revision.id == 1).with_for_update())
        create_issue(session=session, actor=SYSTEM_ACTOR,
                     data=IssueCreate(title=f"基准 {number}", category="noise", grid_id=grid_id))
        if old_lock:  # ... and bumps it last
            session.execute(update(Revision).where(Revision.id == 1).values(value=Revision.value + 1))


def _process(url: str, grid_ids: list[int], old_lock: bool, start, seconds: float, ready, out) -> None:
    from gongzhi.db import get_engine

    engine = get_engine(url)
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def writer(grid_id: int) -> None:
        mine, number = [], 0
        while not start.value or time.time() < start.value:
            time.sleep(0.001)
        stop = start.value + seconds
        while time.time() < stop:
            began = time.perf_counter()
            try:
                _save(engine, grid_id, number, old_lock)
            except Exception:  # noqa: BLE001 - counted: a busy database is a result too
                with lock:
                    failures[0] += 1
                continue
            mine.append((time.perf_counter() - began) * 1000)
            number += 1
        with lock:
            latencies.extend(mine)

    # Modules imported and connections made before the clock starts.
    from gongzhi.crud.issues import create_issue  # noqa: F401
    with engine.connect():
        pass
    ready.put(1)
    threads = [threading.Thread(target=writer, args=(grid_id,)) for grid_id in grid_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    out.put((latencies, failures[0]))


def measure(url: str, grid_ids: list[int], *, old_lock: bool, seconds: float) -> WriteResult:
    context = multiprocessing.get_context("spawn")
    queue, ready, start = context.Queue(), context.Queue(), context.Value("d", 0.0)
    processes = [context.Process(target=_process, args=(url, grid_ids[i * THREADS:(i + 1) * THREADS], old_lock,
                                                          start, seconds, ready, queue))
                 for i in range(PROCESSES)]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get()
    start.value = time.time() + 0.5  # every process started and connected
    latencies, failures = [], 0
    for _ in processes:
        found, failed = queue.get()
        latencies += found
        failures += failed
    for process in processes:
        process.join()
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return WriteResult(mode="single revision row (before)" if old_lock else "revisions per kind, striped (now)",
                       saves=len(latencies), seconds=seconds, p50_ms=cuts[49], p95_ms=cuts[94], failures=failures)


def run(url: str, seconds: float) -> list[WriteResult]:
    grid_ids = prepare(url)
    return [measure(url, grid_ids, old_lock=True, seconds=seconds),
            measure(url, grid_ids, old_lock=False, seconds=seconds)]


def rows(results: list[WriteResult], goal: float = 3.0) -> list[tuple[str, str, str, str]]:
    before, now = results
    ratio = now.per_second / before.per_second if before.per_second else float("inf")
    out = []
    for result in results:
        out.append((f"PostgreSQL writes, {WRITERS} writers in {PROCESSES} processes, {result.seconds:.0f} s: "
                    f"{result.mode}",
                    f"{result.per_second:,.1f} saves/s, p50 {result.p50_ms:,.1f} ms, p95 {result.p95_ms:,.1f} ms",
                    "", f"{result.saves:,} saves, {result.failures} failed"))
    out.append(("PostgreSQL write throughput now / before", f"{ratio:.2f}×",
                f"≥ {goal:.0f}×: {'met' if ratio >= goal else '**NOT met**'}",
                f"p95 {before.p95_ms:,.1f} → {now.p95_ms:,.1f} ms"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL URL (postgresql+psycopg://…)")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    for row in rows(run(args.database, args.seconds)):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
