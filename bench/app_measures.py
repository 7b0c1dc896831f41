"""Measuring the app itself: page reruns in AppTest (warm and cold against an empty page), the
naive "whole tables through the ORM into pandas" overview against Gongzhi's, and the server's
memory with many browser sessions."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
EMPTY_PAGE = "bench/empty_page.py"


# --- page reruns ----------------------------------------------------------------------------

@contextmanager
def app_under_test(url: str) -> Iterator[None]:
    """While measuring in AppTest: the app on `url` and the empty page in the menu. Everything is
    put back afterwards."""
    from components import navigation

    saved_env = {key: os.environ.get(key) for key in ("DATABASE_URL", "GONGZHI_DEMO", "GONGZHI_PUBLIC_ACCESS")}
    saved_pages, saved_cwd = list(navigation.PAGES), os.getcwd()
    os.environ.update(DATABASE_URL=url, GONGZHI_DEMO="0", GONGZHI_PUBLIC_ACCESS="0")
    navigation.PAGES.append(navigation.PageEntry(EMPTY_PAGE, "nav.overview", ":material/dashboard:", "bench_empty",
                                                 navigation.EVERYONE))
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        navigation.PAGES[:] = saved_pages
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def bench_account(url: str) -> int:
    """An admin account for the benchmark (every page is open to it), created on first use."""
    from gongzhi.accounts import create_user
    from gongzhi.db import get_engine, write_session
    from gongzhi.models import User

    with write_session(get_engine(url)) as session:
        existing = session.execute(select(User.id).where(User.username == "bench-admin")).scalar()
        if existing is not None:
            return existing
        return create_user(session=session, username="bench-admin", password="bench-password-123", role="admin",
                           display_name="基准管理员").id


def page_paths() -> list[str]:
    from components.navigation import LOGIN_PAGE, PAGES

    return [entry.path for entry in PAGES if entry.url_path != LOGIN_PAGE and entry.path != EMPTY_PAGE]


@dataclass(frozen=True)
class PageTiming:
    page: str
    warm_ms: float
    cold_ms: float
    exceptions: int


def open_app(url: str, page: str, *, timeout: float = 600):
    """An AppTest of app.py on `page`, signed in as the benchmark's admin, run once (inside
    `app_under_test(url)`)."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    app.session_state["lang"] = "zh-CN"
    app.session_state["user_id"] = bench_account(url)
    app.run()
    app.switch_page(page)
    app.run()
    return app


def _rerun_ms(app) -> float:
    started = time.perf_counter()
    app.run()
    return (time.perf_counter() - started) * 1000


def _forget_everything() -> None:
    """Cold: every cached result, the figures' kept parts and the map's drawn shapes forgotten."""
    import streamlit as st

    from components import grid_map
    from gongzhi import parts

    st.cache_data.clear()
    parts.forget()
    grid_map._cached_drawn.clear()


def measure_pages(url: str, *, runs: int = 3, pages: list[str] | None = None) -> list[PageTiming]:
    """Best of `runs` reruns of each page (and of the empty page first): warm = caches filled by
    the run before; cold = every cache cleared before the rerun (_forget_everything)."""
    timings = []
    chosen = pages or page_paths()
    with app_under_test(url):
        for page in [EMPTY_PAGE, *chosen]:
            app = open_app(url, page)
            repeats = runs * 4 if page == EMPTY_PAGE else runs  # the yardstick: cheap, so measured more
            warm = [_rerun_ms(app) for _ in range(repeats)]
            cold = []
            for _ in range(repeats):
                _forget_everything()
                cold.append(_rerun_ms(app))
            timings.append(PageTiming(page=page, warm_ms=min(warm), cold_ms=min(cold), exceptions=len(app.exception)))
    return timings


# --- the naive pattern ----------------------------------------------------------------------

def naive_overview(url: str, *, on: date, start: date, end: date) -> dict[str, float | int | None]:
    """What a typical Streamlit dashboard does on each rerun: every table the overview needs
    loaded whole as ORM objects into pandas, the figures computed in pandas."""
    from gongzhi.db import get_engine
    from gongzhi.domain import OPEN_STATES, RESOLVED_STATES, SATISFIED_MIN_RATING, AreaLevel
    from gongzhi.models import Area, Attendance, Event, Issue, Person, Rating, ServiceRecord, Volunteer

    def frame(session: Session, model) -> pd.DataFrame:
        return pd.DataFrame([row.model_dump() for row in session.exec(select(model)).scalars()])

    with Session(get_engine(url)) as session:
        issues, ratings, events, attendance, people, areas, volunteers, service = (
            frame(session, model) for model in (Issue, Rating, Event, Attendance, Person, Area, Volunteer,
                                                ServiceRecord))
    low, high = datetime.combine(start, clock_time()), datetime.combine(end + timedelta(days=1), clock_time())
    month_low = datetime.combine(on.replace(day=1), clock_time())
    issues = issues[issues["deleted_at"].isna()]
    open_ = issues["state"].isin([s.value for s in OPEN_STATES])
    awaiting = open_ & ~issues["state"].isin([s.value for s in RESOLVED_STATES])
    overdue = awaiting & (issues["due_date"] < on)
    resolved = issues[issues["state"].isin([s.value for s in RESOLVED_STATES])
                      & (issues["resolved_at"] >= low) & (issues["resolved_at"] < high)]
    rated = ratings[(ratings["created_at"] >= low) & (ratings["created_at"] < high)
                    & ratings["issue_id"].isin(issues["id"])]
    grids = areas[(areas["level"] == AreaLevel.GRID.value) & areas["deleted_at"].isna()]
    live_events = events[events["deleted_at"].isna()]

    def events_in(lo: datetime, hi: datetime) -> dict:
        chosen = live_events[(live_events["starts_at"] >= lo) & (live_events["starts_at"] < hi)]
        named = attendance[attendance["event_id"].isin(chosen["id"])].merge(
            people[people["deleted_at"].isna()][["id", "grid_id"]], left_on="person_id", right_on="id")
        residents = named[named["grid_id"].isin(grids["id"])]
        return {"events": len(chosen), "attendance": len(named) + int(chosen["headcount"].sum()),
                "participants": residents["person_id"].nunique()}

    period_events, month_events = events_in(low, high), events_in(month_low, high)
    live_volunteers = volunteers[volunteers["deleted_at"].isna()]
    month_service = service[(service["served_on"] >= on.replace(day=1)) & (service["served_on"] <= end)
                            & service["volunteer_id"].isin(live_volunteers["id"])]
    on_time_base = len(resolved) + int(overdue.sum())
    return {
        "open_issues": int(open_.sum()), "overdue": int(overdue.sum()),
        "median_days_to_resolve": float(resolved["days_to_resolve"].median()) if len(resolved) else None,
        "share_resolved_in_grid": float(resolved["resolved_in_grid"].astype(bool).mean()) if len(resolved) else None,
        "mean_rating": float(rated["rating"].mean()) if len(rated) else None,
        "share_satisfied": float((rated["rating"] >= SATISFIED_MIN_RATING).mean()) if len(rated) else None,
        "on_time_share": (int(resolved["resolved_on_time"].astype(bool).sum()) / on_time_base) if on_time_base else None,
        "participation_rate": period_events["participants"] / int(grids["population"].sum()),
        "active_volunteers": int((live_volunteers["status"] == "active").sum()),
        "month_service_hours": float(month_service["hours"].sum()),
        "month_events": month_events["events"], "month_attendance": month_events["attendance"],
    }


def gongzhi_overview(url: str, *, on: date, start: date, end: date) -> dict[str, float | int | None]:
    """The same figures from the core queries the overview page shows."""
    from gongzhi.db import get_engine
    from gongzhi.queries.events import event_headline
    from gongzhi.queries.issues import issue_headline
    from gongzhi.queries.volunteers import volunteer_headline

    with Session(get_engine(url)) as session:
        issues = issue_headline(session=session, start=start, end=end)
        events = event_headline(session=session, start=start, end=end)
        month_events = event_headline(session=session, start=on.replace(day=1), end=end)
        month_volunteers = volunteer_headline(session=session, start=on.replace(day=1), end=end)
    return {
        "open_issues": issues.open_issues, "overdue": issues.overdue,
        "median_days_to_resolve": issues.median_days_to_resolve,
        "share_resolved_in_grid": issues.share_resolved_in_grid, "mean_rating": issues.mean_rating,
        "share_satisfied": issues.share_satisfied, "on_time_share": issues.on_time_share,
        "participation_rate": events.participation_rate, "active_volunteers": month_volunteers.active_volunteers,
        "month_service_hours": month_volunteers.service_hours, "month_events": month_events.events,
        "month_attendance": month_events.named_attendance + month_events.headcount,
    }


def same_figures(a: dict, b: dict) -> bool:
    def close(x, y) -> bool:
        if x is None or y is None:
            return x is None and y is None
        return abs(float(x) - float(y)) <= 1e-9 * max(1.0, abs(float(x)))

    return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)


def measure_naive(url: str, *, on: date, start: date, end: date, runs: int = 1) -> tuple[float, bool]:
    """Best ms of `runs` naive overviews (minutes each at district scale), and whether its
    figures equal Gongzhi's."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        figures = naive_overview(url, on=on, start=start, end=end)
        times.append((time.perf_counter() - started) * 1000)
    return min(times), same_figures(figures, gongzhi_overview(url, on=on, start=start, end=end))


# --- memory per browser session -------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _wait_rendered(page, timeout: float = 300_000) -> None:
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('[data-testid=\"stMetric\"]').length >= 12", timeout=timeout)


@dataclass(frozen=True)
class MemoryResult:
    rss_1_mb: float
    rss_n_mb: float
    sessions: int

    @property
    def per_extra_session_mb(self) -> float:
        return (self.rss_n_mb - self.rss_1_mb) / (self.sessions - 1)


def measure_memory(url: str, *, sessions: int = 20, settle_s: float = 3.0) -> MemoryResult:
    """Serve the app on `url` (public access on, so each tab is a visitor on the overview) and
    read the server's RSS once one tab has rendered the overview, and once `sessions` tabs have."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "GONGZHI_DEMO": "0", "GONGZHI_PUBLIC_ACCESS": "1"}
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("streamlit did not start") from None
                    time.sleep(0.3)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                     args=["--no-sandbox", "--disable-gpu"])
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                tabs = []
                for n in range(sessions):
                    tab = context.new_page()
                    tab.goto(f"{base}/overview?lang=zh-CN")
                    _wait_rendered(tab)
                    tabs.append(tab)
                    if n == 0:
                        time.sleep(settle_s)
                        first = rss_mb(server.pid)
                time.sleep(settle_s)
                last = rss_mb(server.pid)
                browser.close()
            return MemoryResult(rss_1_mb=first, rss_n_mb=last, sessions=sessions)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


# --- the first render after a write (issue 17) ------------------------------------------------

@dataclass(frozen=True)
class AfterWrite:
    page: str
    write: str
    warm_ms: float
    after_ms: float
    changed: bool  # the write bumped a kind of data the page reads

    @property
    def goal_ms(self) -> float:
        """Unchanged data: within 1.5× the warm rerun; changed: 400 ms or 5× warm, the larger."""
        return self.warm_ms * 1.5 if not self.changed else max(400.0, 5 * self.warm_ms)


def _writes(url: str) -> list[tuple[str, object]]:
    """One save of each kind of data, through the core's own write functions, as a user makes it:
    (name, function doing it in its own write transaction)."""
    from gongzhi.accounts import create_user
    from gongzhi.clock import now
    from gongzhi.crud.events import record_attendance
    from gongzhi.crud.facilities import FacilityInput, create_facility
    from gongzhi.crud.issues import IssueCreate, create_issue
    from gongzhi.crud.meetings import record_meeting_attendance
    from gongzhi.crud.volunteers import log_service_hours
    from gongzhi.db import get_engine, write_session
    from gongzhi.domain import AreaLevel, MeetingStatus
    from gongzhi.models import Area, Attendance, Event, Meeting, Person, Volunteer
    from gongzhi.permissions import SYSTEM_ACTOR

    engine = get_engine(url)
    with Session(engine) as session:
        grid = session.execute(select(Area).where(Area.level == AreaLevel.GRID, Area.deleted_at.is_(None))
                               .order_by(Area.id).limit(1)).scalar_one()
        volunteer_id = session.execute(select(Volunteer.id).where(Volunteer.deleted_at.is_(None))
                                       .order_by(Volunteer.id).limit(1)).scalar_one()
        event = session.execute(select(Event).where(Event.deleted_at.is_(None), Event.starts_at <= now())
                                .order_by(Event.starts_at.desc()).limit(1)).scalar_one()
        attending = list(session.execute(select(Attendance.person_id).where(Attendance.event_id == event.id)).scalars())
        newcomer = session.execute(select(Person.id).where(Person.deleted_at.is_(None), Person.id.not_in(attending))
                                   .order_by(Person.id).limit(1)).scalar_one()
        meeting = session.execute(select(Meeting).where(Meeting.deleted_at.is_(None),
                                                        Meeting.status == MeetingStatus.PLANNED)
                                  .order_by(Meeting.held_at).limit(1)).scalar_one_or_none()
    counter = iter(range(1_000_000))
    turns = iter(range(1, 1_000_000))  # attendance: the newcomer ticked at odd turns, unticked at even

    def save(function, **kwargs):
        with write_session(engine, actor=SYSTEM_ACTOR) as session:
            function(session=session, **kwargs)

    writes = [
        ("issue reported", lambda: save(create_issue, actor=SYSTEM_ACTOR, data=IssueCreate(
            title=f"基准问题 {next(counter)}", category="noise", grid_id=grid.id))),
        ("service hours logged", lambda: save(log_service_hours, actor=SYSTEM_ACTOR, volunteer_id=volunteer_id,
                                              served_on=now().date(), hours=1.5)),
        # Ticked and unticked in turn: a real change each time, never past the event's capacity.
        ("attendance ticked", lambda: save(record_attendance, actor=SYSTEM_ACTOR, event_id=event.id,
                                           person_ids=[*attending, newcomer][:len(attending) + next(turns) % 2],
                                           headcount=event.headcount)),
        ("facility added", lambda: save(create_facility, actor=SYSTEM_ACTOR, data=FacilityInput(
            name=f"基准设施 {next(counter)}", kind="library", grid_id=grid.id, lon=grid.centroid_lon,
            lat=grid.centroid_lat))),
        ("account created", lambda: save(create_user, username=f"bench-{next(counter)}-{time.time_ns()}",
                                         password="bench-password-123", role="committee", display_name="基准")),
    ]
    if meeting is not None:
        writes.insert(3, ("meeting attendance recorded", lambda: save(
            record_meeting_attendance, actor=SYSTEM_ACTOR, meeting_id=meeting.id,
            attendees=f"基准{next(counter)}-{time.time_ns()}", quorum_met=None)))
    return writes


def measure_after_writes(url: str, *, pages: list[str] | None = None, runs: int = 3) -> list[AfterWrite]:
    """Every page open in its own AppTest and warm; then, for each kind of write, the write and the
    first rerun of every page after it (the caches as a server has them: nothing cleared). The
    writes are made `runs` times over, each time a new change: the best first rerun of each page
    after each kind counts, as the best warm rerun does (other work on the machine only adds time)."""
    from gongzhi import sweeper

    chosen = pages or page_paths()
    results: list[AfterWrite] = []
    # The hourly sweep (unrated issues closed) is a write of its own: done once before, and its
    # thread kept from starting, so that only the measured saves change data while measuring.
    sweeper.sweep_once(url)
    start_sweep, sweeper.start_hourly_sweep = sweeper.start_hourly_sweep, lambda *args, **kwargs: None
    try:
        return _after_writes(url, chosen, runs, results)
    finally:
        sweeper.start_hourly_sweep = start_sweep


def _after_writes(url: str, chosen: list[str], runs: int, results: list[AfterWrite]) -> list[AfterWrite]:
    from components import page_setup
    from gongzhi import revisions

    with app_under_test(url):
        apps, warm, reads = {}, {}, {}
        original = page_setup.kinds_read
        for page in chosen:
            apps[page] = open_app(url, page)
            seen: set[str] = set()

            def recording(function, _seen=seen):
                kinds = original(function)
                _seen.update(kinds)
                return kinds

            page_setup.kinds_read = recording  # what PageContext.key_for looks up: the kinds the page reads
            try:
                apps[page].run()
            finally:
                page_setup.kinds_read = original
            reads[page] = seen
            warm[page] = min(_rerun_ms(apps[page]) for _ in range(runs))
        best: dict[tuple[str, str], float] = {}
        changed: dict[tuple[str, str], bool] = {}
        writes = _writes(url)
        from gongzhi.db import get_engine, read_session

        for _ in range(runs):
            for name, write in writes:
                with read_session(get_engine(url)) as session:
                    before = revisions.revisions(session)
                write()
                with read_session(get_engine(url)) as session:
                    after = revisions.revisions(session)
                bumped = {kind for kind in after if after[kind] != before.get(kind)}
                assert revisions.ANY in bumped, f"the save '{name}' changed nothing: nothing to measure"
                for page in chosen:
                    after_ms = _rerun_ms(apps[page])
                    best[(page, name)] = min(best.get((page, name), after_ms), after_ms)
                    changed[(page, name)] = bool(bumped & reads[page])
        for name, _write in writes:
            for page in chosen:
                results.append(AfterWrite(page=page, write=name, warm_ms=warm[page], after_ms=best[(page, name)],
                                          changed=changed[(page, name)]))
    return results
