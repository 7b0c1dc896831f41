"""Heavy figures kept per community, so that a save recomputes one community's part, not the district.

Issues and attendance are counted per community (the parent area of the grid a row belongs to; 0
for a row without one): every figure below is a sum, a count of disjoint residents, or a list
merged from its communities' parts. Database triggers (migration 0009_community_parts) bump the
revision of the part of every issue, rating, timeline line, resident report, attendance record
and person written (and of an event's attendees when it moves or goes), in the writing
transaction, whoever writes it. A figure computed once keeps
each part with the part's revision; the next time only the parts whose revision moved are
computed again (in one statement grouped by part), and the rest come from memory.

A part's result is keyed on its own revision, and the whole figure on everything else it reads
(the generation, the day, and the revisions of its other kinds of data, gongzhi.revisions): an
area, event or account written makes the figure compute every part again, as before.

The memory is the process's own (a bounded dict, no Streamlit): each server keeps its own, and all
of them read the same revisions, so none serves a part older than the database's."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlmodel import Session

from gongzhi import models, revisions
from gongzhi.clock import today

T = TypeVar("T")
Parts = frozenset[int] | None  # the parts to compute; None: every part

# The tables whose writes the triggers count per part, by kind of part (migration 0009).
PART_TABLES: dict[str, frozenset[str]] = {
    "issues": frozenset({"issue", "rating", "timelineentry", "residentreport"}),
    # and the event's date, grid and deletion (the only columns of an event its parts read)
    "attendance": frozenset({"attendance", "person", "event"}),
}
NO_COMMUNITY = 0  # the part of rows whose grid has no parent area (or that have no grid)
MEMORY_ENTRIES = 256


@dataclass(frozen=True)
class _Entry:
    base: tuple  # generation, day and the other kinds' revisions the results were computed at
    part_revisions: dict[int, int]
    results: dict[int, Any]


_memory: OrderedDict[tuple, _Entry] = OrderedDict()
_lock = threading.Lock()


def forget() -> None:
    """Drop every kept part (tests; a figure is then computed whole at its next call)."""
    with _lock:
        _memory.clear()


def part_revisions(session: Session, kind: str) -> dict[int, int]:
    """Each part's revision of `kind` now (the sum of its stripes; a part never written is 0)."""
    table = models.PartRevision.__table__
    return {int(part): int(value) for part, value in session.execute(
        select(table.c.part, func.sum(table.c.value)).where(table.c.kind == kind).group_by(table.c.part)).all()}


def _base(session: Session, query: Callable, kind: str) -> tuple:
    other = revisions.kinds_of_tables(revisions.tables_read(query) - PART_TABLES[kind])
    return (today(), *revisions.key_for(revisions.revisions(session), other))


def by_part(session: Session, query: Callable, kind: str, compute: Callable[[Parts], dict[int, T]],
            **arguments: Any) -> dict[int, T]:
    """Every part's result of `query(**arguments)`: `compute(parts)` returns the results of those
    parts (None: all of them) that have any, in one statement; parts kept from an earlier call
    whose revision did not move are not computed again. `query` declares what it reads
    (revisions.reads): whatever it reads beyond `kind`'s part tables keys the whole figure."""
    url = session.get_bind().url.render_as_string(hide_password=False)
    key = ("parts", url, f"{query.__module__}.{query.__qualname__}", tuple(sorted(arguments.items())))
    # The revisions are read before the data: a part may be newer than its key, never older.
    now_revisions = part_revisions(session, kind)
    base = _base(session, query, kind)
    with _lock:
        entry = _memory.get(key)
    if entry is None or entry.base != base:
        results = compute(None)
    else:
        moved = frozenset(part for part in entry.part_revisions.keys() | now_revisions.keys()
                          if entry.part_revisions.get(part, 0) != now_revisions.get(part, 0))
        if not moved:
            return entry.results
        results = {part: value for part, value in entry.results.items() if part not in moved} | compute(moved)
    _remember(key, _Entry(base, now_revisions, results))
    return results


def kept(session: Session, query: Callable[..., T], **arguments: Any) -> T:
    """`query(session=session, **arguments)`, kept in the same memory while nothing it reads
    changed (its kinds' revisions, the generation and the day): for a query another one composes,
    which the pages' cache does not see. The result is shared: read it, never change it."""
    url = session.get_bind().url.render_as_string(hide_password=False)
    key = ("kept", url, f"{query.__module__}.{query.__qualname__}", tuple(sorted(arguments.items())))
    base = (today(), *revisions.key_for(revisions.revisions(session), revisions.kinds_read(query)))
    with _lock:
        entry = _memory.get(key)
    if entry is not None and entry.base == base:
        return entry.results[NO_COMMUNITY]
    result = query(session=session, **arguments)
    _remember(key, _Entry(base, {}, {NO_COMMUNITY: result}))
    return result


def _remember(key: tuple, entry: _Entry) -> None:
    with _lock:
        _memory[key] = entry
        _memory.move_to_end(key)
        while len(_memory) > MEMORY_ENTRIES:  # the least recently stored goes first
            _memory.popitem(last=False)


# -- the part of a row, in SQL ----------------------------------------------------------------------

def grid_in_parts(grid_column: ColumnElement, parts: Parts) -> ColumnElement:
    """Rows whose grid (`grid_column`) is in one of `parts`, in a form the planners start from the
    communities' grids with (an index on the grid), not from every row."""
    if parts is None:
        return true()
    communities = sorted(part for part in parts if part != NO_COMMUNITY)
    conditions: list[ColumnElement] = []
    if communities:
        conditions.append(grid_column.in_(select(models.Area.id).where(models.Area.parent_id.in_(communities))))
    if NO_COMMUNITY in parts:
        conditions += [grid_column.is_(None),
                       grid_column.in_(select(models.Area.id).where(models.Area.parent_id.is_(None)))]
    return or_(*conditions) if conditions else false()


def grid_parts(session: Session) -> dict[int, int]:
    """Every area's part (its parent area, 0 for none), to fold per-grid rows into parts (a query
    using it reads Area)."""
    return {int(area): int(part) for area, part in session.execute(
        select(models.Area.id, func.coalesce(models.Area.parent_id, NO_COMMUNITY))).all()}


def totals(pairs: Iterable[tuple[Any, Any]]) -> dict:
    """Values added up by key: numbers, or tuples of numbers added place by place (a part's
    counts from its grids' rows, a figure's from its parts)."""
    found: dict = {}
    for key, value in pairs:
        before = found.get(key)
        found[key] = value if before is None else (
            tuple(a + b for a, b in zip(before, value, strict=True)) if isinstance(value, tuple) else before + value)
    return found


def fold(rows: Iterable[tuple], parts_of: dict[int, int]) -> dict[int, list[tuple]]:
    """Rows whose first value is a grid id (or None), grouped by the grid's part."""
    grouped: dict[int, list[tuple]] = {}
    for row in rows:
        grid = row[0]
        grouped.setdefault(NO_COMMUNITY if grid is None else parts_of.get(int(grid), NO_COMMUNITY), []).append(tuple(row))
    return grouped
