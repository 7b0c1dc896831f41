"""The first-response service level (DOMAIN.md): per category, how many days a committee gives
itself to respond to a new issue (domain.ISSUE_CATEGORIES). The first response is the issue's
first move out of `reported` or its first progress note, whichever is earlier — the lifecycle
keeps it in `Issue.first_response_at`. It is on time when it falls on or before the response
due day (the reported day plus the category's response days, domain.response_due).

Over a period, in the same shape as the resolution on-time share: the first responses made in
the period, on time or late, plus the issues still waiting for one past their response days
today (late, whenever they were reported); on-time % = on time ÷ (responded + still waiting late).
Everything is counted in SQL, grouped by category."""

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import and_, case, func, select, true
from sqlmodel import Session

from gongzhi.clock import today
from gongzhi.domain import FALLBACK_CATEGORY, ISSUE_CATEGORIES, service_levels
from gongzhi.models import Area, Issue
from gongzhi.parts import Parts, by_part, fold, grid_in_parts, grid_parts, totals
from gongzhi.queries.common import datetime_range, day_of, days_after, share
from gongzhi.revisions import reads

COLUMNS = ["category", "response_days", "responded", "on_time", "waiting_late", "on_time_share"]


@dataclass(frozen=True)
class FirstResponseHeadline:
    responded: int  # first responses made in the period
    on_time: int  # of those, on or before the response due day
    waiting_late: int  # no first response yet, past the response due day today
    on_time_share: float | None  # on_time / (responded + waiting_late)


def _response_days():
    """The category's days to first response, as SQL (the domain's table, one CASE)."""
    return case({code: service_levels(code)[0] for code in ISSUE_CATEGORIES}, value=Issue.category,
                else_=service_levels(FALLBACK_CATEGORY)[0])


def _count_where(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _response_parts(session: Session, parts: Parts, start: date, end: date,
                    grid_id: int | None, on: date) -> dict[int, dict[str, tuple[int, int, int]]]:
    """Per community: {category: (responded, on time, waiting late)}."""
    low, high = datetime_range(start, end)
    due = days_after(Issue.reported_at, _response_days())
    responded = and_(Issue.first_response_at >= low, Issue.first_response_at < high)
    rows = session.execute(
        select(
            Issue.grid_id,
            Issue.category,
            _count_where(responded),
            _count_where(and_(responded, day_of(Issue.first_response_at) <= due)),
            _count_where(and_(Issue.first_response_at.is_(None), due < on)),
        )
        .where(Issue.deleted_at.is_(None), true() if grid_id is None else Issue.grid_id == grid_id,
               grid_in_parts(Issue.grid_id, parts),
               # only rows that can count: responded in the period, or still waiting
               (Issue.first_response_at.is_(None)) | responded)
        .group_by(Issue.grid_id, Issue.category)
    ).all()
    return {part: totals((category, tuple(int(n) for n in counts)) for _, category, *counts in grid_rows)
            for part, grid_rows in fold(rows, grid_parts(session)).items()}


@reads(Area, Issue)
def first_response_by_category(*, session: Session, start: date, end: date, grid_id: int | None = None) -> pd.DataFrame:
    """One row per category (all of them, in the domain's order, zeros included): response
    days, first responses in [start, end], of those on time, issues still waiting late today,
    and the on-time share (NaN without any). Counted per community (gongzhi.parts)."""
    on = today()
    counted = totals(item for categories in by_part(session, first_response_by_category, "issues",
                                                    lambda chosen: _response_parts(session, chosen, start, end,
                                                                                   grid_id, on),
                                                    start=start, end=end, grid_id=grid_id).values()
                     for item in categories.items())
    records = []
    for code in ISSUE_CATEGORIES:
        answered, on_time, waiting = counted.get(code, (0, 0, 0))
        records.append((code, service_levels(code)[0], answered, on_time, waiting, share(on_time, answered + waiting)))
    return pd.DataFrame(records, columns=COLUMNS)


@reads(first_response_by_category)
def first_response_headline(*, session: Session, start: date, end: date,
                            grid_id: int | None = None) -> FirstResponseHeadline:
    """The figures of first_response_by_category over all categories."""
    frame = first_response_by_category(session=session, start=start, end=end, grid_id=grid_id)
    responded, on_time, waiting = (int(frame[c].sum()) for c in ("responded", "on_time", "waiting_late"))
    return FirstResponseHeadline(responded=responded, on_time=on_time, waiting_late=waiting,
                                 on_time_share=share(on_time, responded + waiting))
