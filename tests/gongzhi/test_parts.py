"""Figures kept per community (gongzhi.parts, migration 0009_community_parts) and the events' named
attendance summary (migration 0010_event_named): after any sequence of writes, by the core's write
functions or any other path, every figure served from the kept parts equals the same figure
computed whole, its headline numbers and the summary equal plain SQL from scratch; and a write of
one community leaves the other communities' parts kept, not computed again."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, text, update

from gongzhi import parts
from gongzhi.clock import now, today
from gongzhi.crud.events import record_attendance
from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.crud.records import restore, soft_delete
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.domain import AreaLevel
from gongzhi.models import Area, Attendance, Event, Issue, Person, Rating
from gongzhi.permissions import Actor, Role
from gongzhi.queries.common import twelve_months_start
from gongzhi.queries.events import event_headline, monthly_participation, participation_by_grid
from gongzhi.queries.issues import issue_headline, issues_by_grid, monthly_issue_trend, open_by_state
from gongzhi.queries.service_levels import first_response_by_category

ADMIN = Actor(name="测试管理员", role=Role.ADMIN)

pick = st.integers(0, 10_000)
writes = st.lists(st.one_of(
    st.tuples(st.just("report"), pick),  # crud: a new issue in a grid
    st.tuples(st.just("resolve"), pick, st.integers(0, 60)),  # Core update: state, dates, days to resolve
    st.tuples(st.just("rate"), pick, st.integers(1, 5)),  # Core insert
    st.tuples(st.just("delete_issue"), pick),  # crud soft delete
    st.tuples(st.just("restore_issue"), pick),
    st.tuples(st.just("move_issue"), pick, pick),  # ORM update to a grid of any community
    st.tuples(st.just("tick"), pick, pick),  # crud: attendance of an event set
    st.tuples(st.just("untick"), pick),  # Core delete of an attendance record
    st.tuples(st.just("move_person"), pick, pick),  # ORM update: a resident moves house
    st.tuples(st.just("delete_person"), pick),
    st.tuples(st.just("restore_person"), pick),
    st.tuples(st.just("move_event"), pick, st.integers(-400, 30)),  # an event's date
    st.tuples(st.just("move_grid"), pick, pick),  # a grid to another community: every part again
), max_size=8)


def _ids(session, model, *where) -> list[int]:
    return session.execute(select(model.id).where(*where).order_by(model.id)).scalars().all()


def _apply(engine, write) -> None:  # noqa: C901 - one branch per kind of write, each two lines
    kind, first = write[0], write[1]
    with write_session(engine, actor=ADMIN) as session:
        grids = _ids(session, Area, Area.level == AreaLevel.GRID, Area.deleted_at.is_(None))
        issues = _ids(session, Issue)
        issue = issues[first % len(issues)]
        if kind == "report":
            create_issue(session=session, actor=ADMIN, data=IssueCreate(
                title="楼道灯坏了", category="other", grid_id=grids[first % len(grids)]))
        elif kind == "resolve":
            session.execute(update(Issue).where(Issue.id == issue).values(
                state="resident_review", resolved_at=now() - timedelta(days=write[2]), days_to_resolve=write[2] + 0.5,
                resolved_on_time=write[2] < 20, resolved_in_grid=True))
        elif kind == "rate":
            session.execute(insert(Rating).values(issue_id=issue, rating=write[2], fix_status="fixed", rated_by="居民",
                                                  created_at=now()))
        elif kind in ("delete_issue", "restore_issue"):
            row = session.get(Issue, issue)
            if (row.deleted_at is None) == (kind == "delete_issue"):
                (soft_delete if kind == "delete_issue" else restore)(
                    session=session, actor=ADMIN, kind="issue", record_id=issue)
        elif kind == "move_issue":
            session.get(Issue, issue).grid_id = grids[write[2] % len(grids)]
        elif kind in ("tick", "untick", "move_event"):
            # attendance only of events that have begun (the crud refuses it before)
            events = _ids(session, Event, Event.deleted_at.is_(None), *([Event.starts_at <= now()] if kind == "tick" else []))
            event = session.get(Event, events[first % len(events)])
            if kind == "tick":
                people = _ids(session, Person, Person.deleted_at.is_(None))
                chosen = {people[(write[2] + step * 37) % len(people)] for step in range(5)}
                record_attendance(session=session, actor=ADMIN, event_id=event.id, person_ids=sorted(chosen), headcount=0)
            elif kind == "untick":
                session.execute(delete(Attendance).where(Attendance.event_id == event.id))
            else:
                event.starts_at = now() + timedelta(days=write[2])
                event.ends_at = event.starts_at + timedelta(hours=2)
        elif kind in ("move_person", "delete_person"):
            people = _ids(session, Person, Person.deleted_at.is_(None))
            person = session.get(Person, people[first % len(people)])
            if kind == "move_person":
                person.grid_id = grids[write[2] % len(grids)]
            else:
                person.deleted_at = now()
        elif kind == "restore_person":
            gone = _ids(session, Person, Person.deleted_at.is_not(None))
            if gone:
                session.get(Person, gone[first % len(gone)]).deleted_at = None
        else:  # move_grid
            communities = _ids(session, Area, Area.level == AreaLevel.COMMUNITY)
            session.get(Area, grids[first % len(grids)]).parent_id = communities[write[2] % len(communities)]


FIGURES = [issue_headline, monthly_issue_trend, first_response_by_category, event_headline, monthly_participation]


def _figures(session, grid_id: int) -> list:
    period = {"start": twelve_months_start(today()), "end": today()}
    figures = [figure(session=session, **period, grid_id=chosen) for figure in FIGURES for chosen in (None, grid_id)]
    return [*figures, issues_by_grid(session=session, **period), participation_by_grid(session=session, **period),
            open_by_state(session=session), open_by_state(session=session, grid_id=grid_id)]


def _same(kept: list, whole: list) -> None:
    for a, b in zip(kept, whole, strict=True):
        if hasattr(a, "equals"):
            assert a.equals(b), (a, b)
        else:
            assert a == b


def _from_scratch(session) -> dict[str, int]:
    """Headline numbers in plain SQL, as a reader would count them."""
    start = twelve_months_start(today())
    live = ("i.deleted_at IS NULL AND NOT i.awaiting_screening AND i.id NOT IN "
            "(SELECT issue_id FROM residentreport WHERE outcome IN ('merged', 'rejected'))")
    sql = {
        "reported": f"SELECT COUNT(*) FROM issue i WHERE {live} AND i.reported_at >= :start",
        "open": f"SELECT COUNT(*) FROM issue i WHERE {live} AND i.state IN "
                "('reported', 'grid_review', 'meeting', 'in_action', 'resident_review')",
        "ratings": f"SELECT COUNT(*) FROM rating r JOIN issue i ON i.id = r.issue_id WHERE {live} "
                   "AND r.created_at >= :start",
        "named": "SELECT COUNT(*) FROM attendance a JOIN event e ON e.id = a.event_id JOIN person p ON p.id = a.person_id "
                 "WHERE e.deleted_at IS NULL AND p.deleted_at IS NULL AND e.starts_at >= :start AND e.starts_at < :end",
        "participants": "SELECT COUNT(DISTINCT a.person_id) FROM attendance a JOIN event e ON e.id = a.event_id "
                        "JOIN person p ON p.id = a.person_id JOIN area g ON g.id = p.grid_id WHERE e.deleted_at IS NULL "
                        "AND p.deleted_at IS NULL AND g.level = 'grid' AND g.deleted_at IS NULL "
                        "AND e.starts_at >= :start AND e.starts_at < :end",
    }
    bounds = {"start": start, "end": today() + timedelta(days=1)}
    return {name: int(session.execute(text(statement), bounds).scalar_one()) for name, statement in sql.items()}


@pytest.fixture
def two_communities(demo_url) -> str:
    """The demo with its grids shared by two communities (the demo has one): parts to keep apart."""
    engine = get_engine(demo_url)
    with write_session(engine, actor=ADMIN) as session:
        community = session.execute(select(Area).where(Area.level == AreaLevel.COMMUNITY)).scalars().first()
        second = Area(code="second-community", name="第二社区", level=AreaLevel.COMMUNITY, parent_id=community.parent_id)
        session.add(second)
        session.flush()
        for grid in session.execute(select(Area).where(Area.level == AreaLevel.GRID).order_by(Area.id)).scalars().all()[::2]:
            grid.parent_id = second.id
    with read_session(engine) as session:
        assert session.execute(select(func.count(func.distinct(Area.parent_id)))
                               .where(Area.level == AreaLevel.GRID)).scalar_one() == 2
    return demo_url


def _event_named(session) -> dict[int, int]:
    return {int(event): int(named) for event, named in session.execute(text("SELECT event_id, named FROM eventnamed"))
            if named}


def _event_named_from_scratch(session) -> dict[int, int]:
    return {int(event): int(named) for event, named in session.execute(text(
        "SELECT a.event_id, COUNT(*) FROM attendance a JOIN person p ON p.id = a.person_id "
        "WHERE p.deleted_at IS NULL GROUP BY a.event_id"))}


def test_kept_parts_equal_whole_figures_and_plain_sql_after_any_writes(two_communities):
    engine = get_engine(two_communities)
    with read_session(engine) as session:
        grid_id = _ids(session, Area, Area.level == AreaLevel.GRID)[0]

    with read_session(engine) as session:
        assert _event_named(session) == _event_named_from_scratch(session) != {}  # the migration's start

    @settings(max_examples=15, deadline=None)
    @given(writes)
    def check(sequence):
        with read_session(engine) as session:
            _figures(session, grid_id)  # every part kept, as a server has them
        for write in sequence:
            _apply(engine, write)
        with read_session(engine) as session:
            kept = _figures(session, grid_id)
            parts.forget()
            whole = _figures(session, grid_id)
            _same(kept, whole)
            headline, events = kept[0], kept[6]
            scratch = _from_scratch(session)
            assert (headline.reported, headline.open_issues) == (scratch["reported"], scratch["open"])
            assert (events.named_attendance, events.participants) == (scratch["named"], scratch["participants"])
            assert headline.mean_rating is None or scratch["ratings"] > 0
            assert _event_named(session) == _event_named_from_scratch(session)

    check()


def test_a_write_in_one_community_computes_only_its_part(two_communities, monkeypatch):
    engine = get_engine(two_communities)
    computed: list = []
    by_part = parts.by_part

    def recording(session, query, kind, compute, **arguments):
        return by_part(session, query, kind, lambda chosen: computed.append(chosen) or compute(chosen), **arguments)

    monkeypatch.setattr("gongzhi.queries.issues.by_part", recording)
    monkeypatch.setattr("gongzhi.queries.events.by_part", recording)
    period = {"start": twelve_months_start(today()), "end": today()}
    with read_session(engine) as session:
        grid = session.execute(select(Area).where(Area.level == AreaLevel.GRID).order_by(Area.id)).scalars().first()
        person = session.execute(select(Person.id).where(Person.deleted_at.is_(None))
                                 .order_by(Person.id)).scalars().first()
        issue_headline(session=session, **period)
        event_headline(session=session, **period)
    assert computed == [None, None]  # cold: every part, once each

    _apply(engine, ("report", 0))
    with read_session(engine) as session:
        event_headline(session=session, **period)
        assert computed == [None, None]  # an issue leaves the attendance parts kept
        before = issue_headline(session=session, **period)
    assert computed[2] == frozenset({grid.parent_id})  # only the community written

    with write_session(engine, actor=ADMIN) as session:
        session.get(Person, person).phone = None  # a person's write: the attendance part of their community
        community = session.get(Area, session.get(Person, person).grid_id).parent_id
    with read_session(engine) as session:
        event_headline(session=session, **period)
        assert issue_headline(session=session, **period) == before
    assert computed[3:] == [frozenset({community})]


@pytest.mark.parametrize("figure", [issue_headline, event_headline])
def test_a_figure_is_computed_whole_again_after_an_area_write(two_communities, figure, monkeypatch):
    """Areas are outside the parts (a grid may move to another community): every part again."""
    engine = get_engine(two_communities)
    computed: list = []
    by_part = parts.by_part

    def recording(session, query, kind, compute, **arguments):
        return by_part(session, query, kind, lambda chosen: computed.append(chosen) or compute(chosen), **arguments)

    monkeypatch.setattr(f"{figure.__module__}.by_part", recording)
    period = {"start": twelve_months_start(today()), "end": today()}
    with read_session(engine) as session:
        figure(session=session, **period)
    _apply(engine, ("move_grid", 0, 0))  # the first grid back to the first community
    with read_session(engine) as session:
        after = figure(session=session, **period)
        parts.forget()
        assert after == figure(session=session, **period)
    assert computed == [None, None, None]  # cold, after the area's write, and after forgetting


def test_a_kept_query_is_read_again_only_when_what_it_reads_changed(two_communities):
    from gongzhi.queries.areas import list_grids

    engine = get_engine(two_communities)
    with read_session(engine) as session:
        first = parts.kept(session, list_grids)
        assert parts.kept(session, list_grids) is first  # nothing written: the same result
    _apply(engine, ("report", 0))  # an issue: list_grids reads areas and people only
    with read_session(engine) as session:
        assert parts.kept(session, list_grids) is first
    _apply(engine, ("move_grid", 0, 0))  # an area: the first grid back to the first community
    with read_session(engine) as session:
        again = parts.kept(session, list_grids)
        assert again is not first
        assert again.equals(list_grids(session=session))


def test_totals_add_numbers_and_tuples_by_key():
    assert parts.totals([("a", 1), ("b", 2), ("a", 3)]) == {"a": 4, "b": 2}
    assert parts.totals([("x", (1, 2, 0)), ("x", (0, 5, 1)), ("y", (1, 1, 1))]) == {"x": (1, 7, 1), "y": (1, 1, 1)}
    assert parts.totals([]) == {}
