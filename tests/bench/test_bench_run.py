"""bench/run.py's measuring functions on a one-community district, untimed (no wall-clock
thresholds): every hand-written yardstick gives the core's figure, the naive overview gives the
overview's, pages rerun without exceptions, and the report keeps the map's section."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench import run  # noqa: E402
from bench.aggregates import default_periods, measure_aggregates, pairs  # noqa: E402
from bench.app_measures import (  # noqa: E402
    EMPTY_PAGE,
    MemoryResult,
    gongzhi_overview,
    measure_after_writes,
    measure_pages,
    naive_overview,
    rss_mb,
    same_figures,
)
from gongzhi.clock import today  # noqa: E402
from gongzhi.db import get_engine  # noqa: E402
from gongzhi.seed_district import seed_district  # noqa: E402


@pytest.fixture(scope="module")
def district_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('bench') / 'district.db'}"
    seed_district(engine=get_engine(url), communities=1)  # as of now: the periods the pages show hold data
    return url


def test_every_aggregate_equals_its_hand_written_sql(district_url):
    results = measure_aggregates(get_engine(district_url), runs=1)
    assert [r.name for r in results] == [p.name for p in pairs(today())]
    assert all(r.same for r in results), [r.name for r in results if not r.same]
    assert all(r.core_plan and r.hand_plan and r.core_ms > 0 and r.hand_ms > 0 for r in results)
    rows = run.aggregate_rows(results)
    assert len(rows) == len(results) and all("figures DIFFER" not in row[3] for row in rows)


def test_the_naive_overview_computes_the_overviews_figures(district_url):
    on = today()
    year, _ = default_periods(on)
    naive = naive_overview(district_url, on=on, start=year.start, end=year.end)
    gongzhi = gongzhi_overview(district_url, on=on, start=year.start, end=year.end)
    assert same_figures(naive, gongzhi), (naive, gongzhi)
    assert naive["open_issues"] > 0 and naive["month_attendance"] >= 0 and naive["participation_rate"] > 0
    assert not same_figures(naive, {**gongzhi, "open_issues": gongzhi["open_issues"] + 1})


def test_pages_rerun_warm_and_cold_and_leave_the_app_as_it_was(district_url):
    from components import navigation

    pages_before = list(navigation.PAGES)
    timings = measure_pages(district_url, runs=1, pages=["views/overview.py"])
    assert [t.page for t in timings] == [EMPTY_PAGE, "views/overview.py"]
    assert all(t.exceptions == 0 and t.warm_ms > 0 and t.cold_ms > 0 for t in timings)
    assert navigation.PAGES == pages_before
    rows = run.page_rows(timings)
    assert rows[0][0].startswith("empty page") and "overview" in rows[1][0] and "warm ≤ 2.5×" in rows[1][2]


def test_first_renders_after_each_kind_of_write_know_which_pages_read_what_changed(district_url):
    """Each save is a real change at every run (the measure refuses a save that changed nothing),
    and a page counts as changed exactly when the save wrote a kind of data it reads."""
    pages = ["views/overview.py", "views/accounts.py"]
    results = measure_after_writes(district_url, pages=pages, runs=2)
    by_cell = {(r.page, r.write): r for r in results}
    writes = {r.write for r in results}
    assert {"issue reported", "service hours logged", "attendance ticked", "account created"} <= writes
    assert len(results) == len(writes) * len(pages) and all(r.after_ms > 0 and r.warm_ms > 0 for r in results)
    assert by_cell[("views/overview.py", "issue reported")].changed
    assert by_cell[("views/overview.py", "attendance ticked")].changed
    assert not by_cell[("views/accounts.py", "issue reported")].changed
    assert by_cell[("views/accounts.py", "account created")].changed
    table, met, goals = run.after_write_table(results)
    assert goals == len(results) and 0 <= met <= goals and "overview" in table


def test_report_rows_and_results_file_keep_the_map_section(tmp_path, monkeypatch):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmarks\n\n## Map at 1,000 grids\n\nmap table\n", encoding="utf-8")
    monkeypatch.setattr(run, "RESULTS", results)
    run.write_section("## District benchmark", "first")
    run.write_section("## District benchmark", "second")
    text = results.read_text(encoding="utf-8")
    assert "map table" in text and "second" in text and "first" not in text
    memory = MemoryResult(rss_1_mb=200.0, rss_n_mb=238.0, sessions=20)
    assert memory.per_extra_session_mb == 2.0 and "met" in run.memory_row(memory)[0][2]
    assert "NOT met" in run.memory_row(MemoryResult(200.0, 258.0, 20))[0][2]
    assert rss_mb(__import__("os").getpid()) > 0
