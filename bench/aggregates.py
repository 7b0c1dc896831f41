"""Every dashboard aggregate of the core (gongzhi/queries) beside the best SQL written by hand for
the same figure, on SQLite with the schema's indexes. Each pair is checked to give the same
figure before it is timed; the plans of both are kept, since an index can make a GROUP BY slower.

The hand-written SQL is SQLite's dialect (substr for months, booleans as 0/1): it is the yardstick
on the database the benchmark runs on, not code the app uses."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from gongzhi.clock import today
from gongzhi.domain import SATISFIED_MIN_RATING, STAR_THRESHOLDS
from gongzhi.queries import events, issues, meetings, volunteers
from gongzhi.queries.common import twelve_months_start
from gongzhi.queries.issues import AWAITING_ACTION_CODES, OPEN_STATE_CODES, RESOLVED_STATE_CODES


def stored(moment: datetime | date) -> str:
    """A time as SQLAlchemy stores it in SQLite, for comparing with the stored text."""
    if isinstance(moment, datetime):
        return moment.isoformat(" ", "microseconds")
    return moment.isoformat()


def _in(codes) -> str:
    return "(" + ", ".join(f"'{code}'" for code in codes) + ")"


OPEN, AWAITING, RESOLVED = _in(OPEN_STATE_CODES), _in(AWAITING_ACTION_CODES), _in(RESOLVED_STATE_CODES)


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def low(self) -> str:
        return stored(datetime.combine(self.start, datetime.min.time()))

    @property
    def high(self) -> str:
        return stored(datetime.combine(self.end + timedelta(days=1), datetime.min.time()))


def default_periods(on: date) -> tuple[Period, Period]:
    """The overview's default: the last 12 months; and this month (the month figures)."""
    twelve = Period(twelve_months_start(on), on)
    return twelve, Period(on.replace(day=1), on)


# --- normalising results to compare ----------------------------------------------------------

def plain(value):
    """A result as plain rows of rounded numbers and text, whatever shape it came in."""
    if is_dataclass(value):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [plain(tuple(row)) for row in value.itertuples(index=False)]
    if isinstance(value, list | tuple) or hasattr(value, "_mapping"):  # also SQLAlchemy's rows
        return [plain(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    return value


def _nonzero_months(frame: pd.DataFrame, columns: list[str]) -> list:
    rows = frame[frame[columns].sum(axis=1) != 0]
    return plain(rows[["month", *columns]])


def _share(numerator, denominator):
    return None if not denominator else (numerator or 0) / denominator


# --- the pairs ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pair:
    name: str
    core: Callable[[Session], object]  # the core's query, as the page calls it
    hand: Callable[[Connection], object]  # the hand-written SQL, giving the same figure
    same: Callable[[object], object]  # the core result in the hand result's shape


def _median(connection: Connection, where: str, count: int, params: dict) -> float | None:
    if count == 0:
        return None
    offset, take = ((count - 1) // 2, 1) if count % 2 else (count // 2 - 1, 2)
    middle = connection.execute(text(
        f"SELECT days_to_resolve FROM issue WHERE {where} ORDER BY days_to_resolve, id LIMIT :take OFFSET :offset"),
        {**params, "take": take, "offset": offset}).scalars().all()
    return sum(middle) / len(middle)


def pairs(on: date) -> list[Pair]:
    year, month = default_periods(on)
    p = {"low": year.low, "high": year.high, "today": stored(on)}

    def issue_headline_hand(c: Connection):
        resolved_where = f"state IN {RESOLVED} AND resolved_at >= :low AND resolved_at < :high"
        row = c.execute(text(f"""
            SELECT SUM(state IN {OPEN}), SUM(state IN {AWAITING} AND due_date < :today),
                   SUM(reported_at >= :low AND reported_at < :high), SUM({resolved_where}),
                   SUM({resolved_where} AND resolved_in_grid = 1), SUM({resolved_where} AND resolved_on_time = 1)
            FROM issue WHERE deleted_at IS NULL"""), p).one()
        open_, overdue, reported, resolved, in_grid, on_time = (int(v or 0) for v in row)
        count, mean, satisfied = c.execute(text(f"""
            SELECT COUNT(*), AVG(r.rating), SUM(r.rating >= {SATISFIED_MIN_RATING}) FROM rating r
            JOIN issue i ON i.id = r.issue_id
            WHERE i.deleted_at IS NULL AND r.created_at >= :low AND r.created_at < :high"""), p).one()
        median = _median(c, f"deleted_at IS NULL AND {resolved_where} AND days_to_resolve IS NOT NULL", resolved, p)
        return plain(issues.IssueHeadline(
            open_issues=open_, overdue=overdue, reported=reported, resolved=resolved, median_days_to_resolve=median,
            share_resolved_in_grid=_share(in_grid, resolved), mean_rating=float(mean) if count else None,
            share_satisfied=_share(satisfied, count), on_time_share=_share(on_time, resolved + overdue)))

    def issues_by_grid_hand(c: Connection):
        return plain(c.execute(text(f"""
            SELECT a.id, COALESCE(x.open_issues, 0), COALESCE(x.overdue, 0), COALESCE(x.reported, 0)
            FROM area a LEFT JOIN (
                SELECT grid_id, SUM(state IN {OPEN}) AS open_issues,
                       SUM(state IN {AWAITING} AND due_date < :today) AS overdue,
                       SUM(reported_at >= :low AND reported_at < :high) AS reported
                FROM issue WHERE deleted_at IS NULL GROUP BY grid_id) x ON x.grid_id = a.id
            WHERE a.level = 'grid' AND a.deleted_at IS NULL ORDER BY a.code""").bindparams(**p)).all())

    def open_by_state_hand(c: Connection):
        counts = dict(c.execute(text(
            f"SELECT state, COUNT(*) FROM issue WHERE deleted_at IS NULL AND state IN {OPEN} GROUP BY state")).all())
        return [[state, counts.get(state, 0)] for state in OPEN_STATE_CODES]

    def issues_by_category_hand(c: Connection):
        rows = c.execute(text(f"""
            SELECT category, COUNT(*), SUM(state IN {OPEN}) FROM issue
            WHERE deleted_at IS NULL AND reported_at >= :low AND reported_at < :high GROUP BY category"""), p).all()
        return sorted([category, int(n), int(still)] for category, n, still in rows)

    def monthly_issue_trend_hand(c: Connection):
        reported = dict(c.execute(text("""
            SELECT substr(reported_at, 1, 7), COUNT(*) FROM issue
            WHERE deleted_at IS NULL AND reported_at >= :low AND reported_at < :high GROUP BY 1"""), p).all())
        resolved = dict(c.execute(text(f"""
            SELECT substr(resolved_at, 1, 7), COUNT(*) FROM issue WHERE deleted_at IS NULL
            AND state IN {RESOLVED} AND resolved_at >= :low AND resolved_at < :high GROUP BY 1"""), p).all())
        return [[m, reported.get(m, 0), resolved.get(m, 0)] for m in sorted(set(reported) | set(resolved))]

    def overdue_issues_hand(c: Connection):
        rows = c.execute(text(f"""
            SELECT i.id, i.title, a.name, i.state, i.due_date FROM issue i JOIN area a ON a.id = i.grid_id
            WHERE i.deleted_at IS NULL AND i.state IN {AWAITING} AND i.due_date < :today
            ORDER BY i.due_date, i.id LIMIT 20"""), p).all()
        return plain([(*r[:4], date.fromisoformat(r[4]), (on - date.fromisoformat(r[4])).days) for r in rows])

    def event_headline_hand(period: Period):
        def run(c: Connection):
            q = {"low": period.low, "high": period.high}
            events_, headcount = c.execute(text("""
                SELECT COUNT(*), COALESCE(SUM(headcount), 0) FROM event
                WHERE deleted_at IS NULL AND starts_at >= :low AND starts_at < :high"""), q).one()
            named, participants = c.execute(text("""
                SELECT COUNT(*), COUNT(DISTINCT CASE WHEN g.id IS NOT NULL THEN a.person_id END)
                FROM event e JOIN attendance a ON a.event_id = e.id JOIN person p ON p.id = a.person_id
                LEFT JOIN area g ON g.id = p.grid_id AND g.level = 'grid' AND g.deleted_at IS NULL
                WHERE e.deleted_at IS NULL AND e.starts_at >= :low AND e.starts_at < :high
                  AND p.deleted_at IS NULL"""), q).one()
            population = c.execute(text(
                "SELECT COALESCE(SUM(population), 0) FROM area WHERE level = 'grid' AND deleted_at IS NULL")).scalar()
            return plain(events.EventHeadline(events=events_, named_attendance=named, headcount=headcount,
                                              participants=participants,
                                              participation_rate=_share(participants, population)))
        return run

    def participation_by_grid_hand(c: Connection):
        rows = c.execute(text("""
            SELECT g.id, g.name, g.population, COALESCE(x.n, 0) FROM area g LEFT JOIN (
                SELECT p.grid_id, COUNT(DISTINCT a.person_id) AS n
                FROM event e JOIN attendance a ON a.event_id = e.id JOIN person p ON p.id = a.person_id
                WHERE e.deleted_at IS NULL AND e.starts_at >= :low AND e.starts_at < :high AND p.deleted_at IS NULL
                GROUP BY p.grid_id) x ON x.grid_id = g.id
            WHERE g.level = 'grid' AND g.deleted_at IS NULL ORDER BY g.code"""), p).all()
        return plain([(grid, name, population, n, _share(n, population)) for grid, name, population, n in rows])

    def monthly_participation_hand(c: Connection):
        per_month = {m: [int(n), int(h)] for m, n, h in c.execute(text("""
            SELECT substr(starts_at, 1, 7), COUNT(*), COALESCE(SUM(headcount), 0) FROM event
            WHERE deleted_at IS NULL AND starts_at >= :low AND starts_at < :high GROUP BY 1"""), p).all()}
        named = dict(c.execute(text("""
            SELECT substr(e.starts_at, 1, 7), COUNT(*) FROM event e JOIN attendance a ON a.event_id = e.id
            JOIN person p ON p.id = a.person_id
            WHERE e.deleted_at IS NULL AND e.starts_at >= :low AND e.starts_at < :high AND p.deleted_at IS NULL
            GROUP BY 1"""), p).all())
        return [[m, per_month[m][0], per_month[m][1] + named.get(m, 0), named.get(m, 0), per_month[m][1]]
                for m in sorted(per_month)]

    def volunteer_headline_hand(c: Connection):
        active = c.execute(text(
            "SELECT COUNT(*) FROM volunteer WHERE deleted_at IS NULL AND status = 'active'")).scalar()
        served, hours = c.execute(text("""
            SELECT COUNT(DISTINCT s.volunteer_id), COALESCE(SUM(s.hours), 0.0) FROM servicerecord s
            JOIN volunteer v ON v.id = s.volunteer_id
            WHERE v.deleted_at IS NULL AND s.served_on >= :start AND s.served_on <= :end"""),
            {"start": stored(month.start), "end": stored(month.end)}).one()
        return plain(volunteers.VolunteerHeadline(active_volunteers=active, volunteers_served=served,
                                                  service_hours=float(hours)))

    def volunteers_by_grid_hand(c: Connection):
        return plain(c.execute(text("""
            SELECT g.id, COALESCE(x.n, 0) FROM area g LEFT JOIN (
                SELECT grid_id, COUNT(*) AS n FROM volunteer WHERE deleted_at IS NULL AND status = 'active'
                GROUP BY grid_id) x ON x.grid_id = g.id
            WHERE g.level = 'grid' AND g.deleted_at IS NULL ORDER BY g.code""")).all())

    def monthly_hours_hand(c: Connection):
        return plain(c.execute(text("""
            SELECT substr(s.served_on, 1, 7), SUM(s.hours) FROM servicerecord s JOIN volunteer v ON v.id = s.volunteer_id
            WHERE v.deleted_at IS NULL AND s.served_on >= :start AND s.served_on <= :end GROUP BY 1 ORDER BY 1"""),
            {"start": stored(year.start), "end": stored(year.end)}).all())

    def hours_by_star_level_hand(c: Connection):
        levels = " ".join(f"WHEN t >= {minimum} THEN {stars}" for stars, minimum in STAR_THRESHOLDS)
        counts = dict(c.execute(text(f"""
            SELECT CASE {levels} ELSE 0 END AS stars, COUNT(*) FROM (
                SELECT v.id, COALESCE((SELECT SUM(hours) FROM servicerecord s WHERE s.volunteer_id = v.id), 0.0) AS t
                FROM volunteer v WHERE v.deleted_at IS NULL) GROUP BY stars""")).all())
        return [[level, counts.get(level, 0)] for level in volunteers.STAR_LEVELS]

    def top_volunteers_hand(c: Connection):
        return plain(c.execute(text("""
            SELECT v.id, p.name, g.name, x.hours FROM (
                SELECT s.volunteer_id, SUM(s.hours) AS hours FROM servicerecord s
                WHERE s.served_on >= :start AND s.served_on <= :end GROUP BY s.volunteer_id) x
            JOIN volunteer v ON v.id = x.volunteer_id JOIN person p ON p.id = v.person_id
            LEFT JOIN area g ON g.id = v.grid_id
            WHERE v.deleted_at IS NULL ORDER BY x.hours DESC, p.name LIMIT 10"""),
            {"start": stored(year.start), "end": stored(year.end)}).all())

    def awaiting_hand(c: Connection):
        rows = c.execute(text("""
            SELECT i.id, i.title, i.category, i.grid_id, g.name, i.reported_at,
                   (SELECT MAX(t.created_at) FROM timelineentry t WHERE t.issue_id = i.id AND t.kind = 'transition'
                      AND t.to_state = 'meeting') AS waiting_since,
                   (SELECT COUNT(*) FROM agendaitem d JOIN meeting m ON m.id = d.meeting_id
                      WHERE d.issue_id = i.id AND d.decision = 'defer' AND m.deleted_at IS NULL) AS deferred,
                   (SELECT MIN(m.id) FROM agendaitem d JOIN meeting m ON m.id = d.meeting_id
                      WHERE d.issue_id = i.id AND d.decision IS NULL AND m.status = 'planned'
                        AND m.deleted_at IS NULL) AS planned_id
            FROM issue i LEFT JOIN area g ON g.id = i.grid_id
            WHERE i.state = 'meeting' AND i.deleted_at IS NULL AND NOT EXISTS (
                SELECT 1 FROM agendaitem d JOIN meeting m ON m.id = d.meeting_id
                WHERE d.issue_id = i.id AND d.decision IN ('approve', 'reject', 'merge') AND m.deleted_at IS NULL)
            ORDER BY COALESCE(waiting_since, i.reported_at), i.id""")).all()
        return [[r[0], r[7], r[8]] for r in rows]

    def core(function, **kwargs):
        return lambda session: function(session=session, **kwargs)

    return [
        Pair("issue_headline (12 months)", core(issues.issue_headline, start=year.start, end=year.end),
             issue_headline_hand, plain),
        Pair("issues_by_grid", core(issues.issues_by_grid, start=year.start, end=year.end), issues_by_grid_hand, plain),
        Pair("open_by_state", core(issues.open_by_state), open_by_state_hand, plain),
        Pair("issues_by_category", core(issues.issues_by_category, start=year.start, end=year.end),
             issues_by_category_hand, lambda f: sorted(plain(f))),
        Pair("monthly_issue_trend", core(issues.monthly_issue_trend, start=year.start, end=year.end),
             monthly_issue_trend_hand, lambda f: _nonzero_months(f, ["reported", "resolved"])),
        Pair("overdue_issues", core(issues.overdue_issues), overdue_issues_hand, plain),
        Pair("event_headline (12 months)", core(events.event_headline, start=year.start, end=year.end),
             event_headline_hand(year), plain),
        Pair("event_headline (month)", core(events.event_headline, start=month.start, end=month.end),
             event_headline_hand(month), plain),
        Pair("participation_by_grid", core(events.participation_by_grid, start=year.start, end=year.end),
             participation_by_grid_hand, plain),
        Pair("monthly_participation", core(events.monthly_participation, start=year.start, end=year.end),
             monthly_participation_hand, lambda f: _nonzero_months(
                 f, ["events", "attendance", "named_attendance", "headcount"])),
        Pair("volunteer_headline (month)", core(volunteers.volunteer_headline, start=month.start, end=month.end),
             volunteer_headline_hand, plain),
        Pair("volunteers_by_grid", core(volunteers.volunteers_by_grid), volunteers_by_grid_hand, plain),
        Pair("monthly_hours", core(volunteers.monthly_hours, start=year.start, end=year.end), monthly_hours_hand,
             lambda f: _nonzero_months(f, ["hours"])),
        Pair("hours_by_star_level", core(volunteers.hours_by_star_level), hours_by_star_level_hand, plain),
        Pair("top_volunteers", core(volunteers.top_volunteers, start=year.start, end=year.end), top_volunteers_hand,
             plain),
        Pair("issues_awaiting_meeting", core(meetings.issues_awaiting_meeting), awaiting_hand,
             lambda f: plain(f[["id", "times_deferred", "planned_meeting_id"]])),
    ]


# --- measuring ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AggregateResult:
    name: str
    core_ms: float
    hand_ms: float
    same: bool
    core_plan: list[str]
    hand_plan: list[str]

    @property
    def ratio(self) -> float:
        return self.core_ms / self.hand_ms if self.hand_ms else float("inf")


class _Statements:
    """The SQL statements (with parameters) a piece of code runs on an engine."""

    def __init__(self, engine: Engine):
        self.engine, self.seen = engine, []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append((statement, parameters))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)


def _plans(engine: Engine, statements) -> list[str]:
    """EXPLAIN QUERY PLAN of each statement, one line per step (SQLite)."""
    lines = []
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters or ()).fetchall()
            lines.append(" / ".join(row[-1] for row in rows))
    return lines


def _timed(function) -> float:
    """One run of `function` in ms, computed whole: the parts a figure keeps per community
    (gongzhi.parts) are forgotten first, so the core is timed doing what the hand SQL does."""
    from gongzhi import parts

    parts.forget()
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def measure_aggregates(engine: Engine, *, runs: int = 5, on: date | None = None,
                       only: set[str] | None = None) -> list[AggregateResult]:
    """Each pair: checked equal once, then run alternately `runs` times; the best time of each in
    ms (other work on a shared machine only ever adds time). Both sides get a fresh connection
    from the same pool, so neither pays for connecting."""
    on = on or today()
    results = []
    for pair in pairs(on):
        if only and pair.name not in only:
            continue
        with _Statements(engine) as core_sql, Session(engine) as session:
            core_value = pair.same(pair.core(session))
        with _Statements(engine) as hand_sql, engine.connect() as connection:
            hand_value = plain(pair.hand(connection))
        core_times, hand_times = [], []
        # Every pair is run at least 7 times, quick ones more often (up to about 3 s each), so that
        # a pause caused by other work on the machine cannot decide a ratio.
        for _ in range(runs):
            with Session(engine) as session:
                core_times.append(_timed(lambda s=session, run=pair.core: run(s)))
            with engine.connect() as connection:
                hand_times.append(_timed(lambda c=connection, run=pair.hand: run(c)))
        extra = max(7 - runs, min(40, int(3000 / max(1.0, min(core_times) + min(hand_times)))))
        for _ in range(extra):
            with Session(engine) as session:
                core_times.append(_timed(lambda s=session, run=pair.core: run(s)))
            with engine.connect() as connection:
                hand_times.append(_timed(lambda c=connection, run=pair.hand: run(c)))
        results.append(AggregateResult(
            name=pair.name, core_ms=min(core_times), hand_ms=min(hand_times),
            same=core_value == hand_value, core_plan=_plans(engine, core_sql.seen),
            hand_plan=_plans(engine, hand_sql.seen)))
    return results


def differences(engine: Engine, name: str, on: date | None = None) -> tuple[object, object]:
    """The core's and the hand-written figure of one pair, for looking into a mismatch."""
    pair = next(p for p in pairs(on or today()) if p.name == name)
    with Session(engine) as session:
        core_value = pair.same(pair.core(session))
    with engine.connect() as connection:
        return core_value, plain(pair.hand(connection))
