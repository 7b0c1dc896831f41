"""Summary data kept by the database in each write's transaction (migration 0007_scale_revisions):
after any sequence of writes, through the core's write functions or any other path, every
summary figure equals the same figure computed from scratch with plain SQL."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text

from gongzhi.clock import today
from gongzhi.crud.records import restore, soft_delete
from gongzhi.crud.volunteers import log_service_hours
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.domain import STAR_THRESHOLDS
from gongzhi.models import ServiceRecord, Volunteer
from gongzhi.permissions import Actor, Role
from gongzhi.queries.volunteers import hours_by_star_level, volunteer_detail, volunteer_roster

ADMIN = Actor(name="测试管理员", role=Role.ADMIN)

log_hours = st.tuples(st.just("log"), st.integers(0, 10_000), st.integers(1, 240), st.integers(0, 800))
remove_volunteer = st.tuples(st.just("soft_delete"), st.integers(0, 10_000))
bring_back = st.tuples(st.just("restore"), st.integers(0, 10_000))
delete_record = st.tuples(st.just("delete_record"), st.integers(0, 10_000))  # not a crud path: any write
change_record = st.tuples(st.just("change_record"), st.integers(0, 10_000), st.integers(1, 240),
                          st.integers(0, 10_000))
writes = st.lists(st.one_of(log_hours, remove_volunteer, bring_back, delete_record, change_record), max_size=12)


def _apply(engine, write, volunteer_ids: list[int]) -> None:
    kind = write[0]
    with write_session(engine, actor=ADMIN) as session:
        if kind == "log":
            _, who, tenths, days_ago = write
            volunteer = session.get(Volunteer, volunteer_ids[who % len(volunteer_ids)])
            if volunteer.deleted_at is None:
                log_service_hours(session=session, actor=ADMIN, volunteer_id=volunteer.id,
                                  served_on=today() - timedelta(days=days_ago), hours=tenths / 10)
        elif kind in ("soft_delete", "restore"):
            volunteer = session.get(Volunteer, volunteer_ids[write[1] % len(volunteer_ids)])
            if (volunteer.deleted_at is None) == (kind == "soft_delete"):
                (soft_delete if kind == "soft_delete" else restore)(
                    session=session, actor=ADMIN, kind="volunteer", record_id=volunteer.id)
        else:
            records = session.execute(select(ServiceRecord.id).order_by(ServiceRecord.id)).scalars().all()
            record_id = records[write[1] % len(records)]
            if kind == "delete_record":
                session.execute(delete(ServiceRecord).where(ServiceRecord.id == record_id))
            else:  # an ORM update moving hours and volunteer
                record = session.get(ServiceRecord, record_id)
                record.hours = write[2] / 10
                record.volunteer_id = volunteer_ids[write[3] % len(volunteer_ids)]


def _summary_from_scratch(session) -> dict[int, int]:
    rows = session.execute(text(
        "SELECT volunteer_id, SUM(CAST(ROUND(hours * 1000) AS BIGINT)) FROM servicerecord GROUP BY volunteer_id"))
    return {int(volunteer): int(total) for volunteer, total in rows}


def _summary(session) -> dict[int, int]:
    rows = session.execute(text("SELECT volunteer_id, total_millihours FROM volunteerhours"))
    return {int(volunteer): int(total) for volunteer, total in rows if total}


def _star_levels_from_scratch(session, grid_id: int | None) -> list[int]:
    """The star-level figure as it was computed before the summary: every service record summed."""
    stars = " ".join(f"WHEN COALESCE(h.total, 0) >= {minimum} THEN {level}" for level, minimum in STAR_THRESHOLDS)
    where = "" if grid_id is None else f" AND v.grid_id = {int(grid_id)}"
    rows = session.execute(text(
        f"SELECT CASE {stars} ELSE 0 END AS stars, COUNT(*) FROM volunteer v "
        "LEFT JOIN (SELECT volunteer_id, SUM(hours) AS total FROM servicerecord GROUP BY volunteer_id) h "
        f"ON h.volunteer_id = v.id WHERE v.deleted_at IS NULL{where} GROUP BY 1"))
    counts = {int(level): int(count) for level, count in rows}
    return [counts.get(level, 0) for level in range(6)]


def _roster_hours_from_scratch(session) -> dict[int, tuple[float, float]]:
    """Each live volunteer's (all-time, last 12 months) hours as the roster computed them before
    the summary: every service record summed."""
    from gongzhi.queries.common import twelve_months_start

    since = twelve_months_start(today())
    rows = session.execute(text(
        "SELECT v.id, COALESCE(SUM(r.hours), 0), COALESCE(SUM(CASE WHEN r.served_on >= :since THEN r.hours END), 0) "
        "FROM volunteer v JOIN person p ON p.id = v.person_id LEFT JOIN servicerecord r ON r.volunteer_id = v.id "
        "WHERE v.deleted_at IS NULL AND p.deleted_at IS NULL GROUP BY v.id"), {"since": since})
    return {int(volunteer): (round(float(total), 3), round(float(recent), 3)) for volunteer, total, recent in rows}


def test_summaries_equal_their_figures_from_scratch_after_any_writes(demo_url):
    engine = get_engine(demo_url)
    with read_session(engine) as session:
        volunteer_ids = session.execute(select(Volunteer.id).order_by(Volunteer.id)).scalars().all()
        grid_ids = sorted({grid for grid in session.execute(select(Volunteer.grid_id)).scalars() if grid})[:2]
        # The demo's own history: the summary built by the migration and the triggers of the seed.
        assert _summary(session) == _summary_from_scratch(session)
        assert sum(_star_levels_from_scratch(session, None)[1:]) > 0  # some stars to get right

    @settings(max_examples=12)
    @given(writes)
    def check(sequence):
        for write in sequence:
            _apply(engine, write, volunteer_ids)
        with read_session(engine) as session:
            assert _summary(session) == _summary_from_scratch(session)
            for grid_id in (None, *grid_ids):
                figure = hours_by_star_level(session=session, grid_id=grid_id)
                assert list(figure["volunteers"]) == _star_levels_from_scratch(session, grid_id)
            roster = volunteer_roster(session=session)
            expected = _roster_hours_from_scratch(session)
            assert {int(row.id): (round(row.total_hours, 3), round(row.hours_12m, 3))
                    for row in roster.itertuples()} == expected
            totals = list(roster["total_hours"])
            assert totals == sorted(totals, reverse=True)  # most hours first
            first = int(roster["id"].iloc[0])
            assert volunteer_detail(session=session, volunteer_id=first, may_see_personal_data=False).total_hours \
                == pytest.approx(expected[first][0])

    check()
