"""Soft delete and restore: who may do which, the audit entries both leave, and that a deleted
record drops out of lists and figures and comes back when restored."""

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.clock import frozen
from gongzhi.crud.records import restore, soft_delete
from gongzhi.db import write_session
from gongzhi.domain import AreaLevel
from gongzhi.errors import Conflict, GongzhiError, NotFound, PermissionDenied
from gongzhi.models import Area, AuditEntry, Event, Issue, Meeting, Organisation, Person, Volunteer
from gongzhi.permissions import Actor, Role
from gongzhi.queries.audit import deleted_records
from gongzhi.queries.events import list_events
from gongzhi.queries.issues import issue_headline, list_issues
from gongzhi.queries.organisations import list_organisations
from gongzhi.queries.volunteers import volunteer_roster

AT = datetime(2026, 5, 10, 14, 30)
ADMIN_VIEWER = Actor(name="审计管理员", role=Role.ADMIN)
ADMIN = Actor(name="赵管理员", role=Role.ADMIN)
SECRETARY = Actor(name="王秘书", role=Role.COMMITTEE)
REPRESENTATIVE = Actor(name="居民代表", role=Role.REPRESENTATIVE)
KINDS = ["issue", "volunteer", "event", "meeting", "organisation", "person"]


@pytest.fixture
def records(write):
    """One record of every deletable kind, all in the first grid (the event and the person too)."""
    with write() as session:
        community = Area(code="C1", name="桃源居社区", level=AreaLevel.COMMUNITY)
        session.add(community)
        session.flush()
        grid, other_grid = (Area(code=f"C1-G{n}", name=f"第{n}网格", level=AreaLevel.GRID, parent_id=community.id)
                            for n in (1, 2))
        session.add_all([grid, other_grid])
        session.flush()
        organisation = Organisation(name="社工站", kind="social_work_agency")
        person = Person(name="张阿姨", phone="+8613812341234", grid_id=grid.id)
        session.add_all([organisation, person])
        session.flush()
        issue = Issue(title="楼道堆放杂物", category="sanitation", grid_id=grid.id, due_date=AT.date() + timedelta(days=7),
                      reported_at=AT)
        volunteer = Volunteer(person_id=person.id, grid_id=grid.id)
        event = Event(title="邻里节", kind="culture_sports", grid_id=grid.id, starts_at=AT, ends_at=AT + timedelta(hours=2))
        meeting = Meeting(title="五月议事会", kind="deliberation", held_at=AT)
        session.add_all([issue, volunteer, event, meeting])
        session.flush()
        return {"grid": grid.id, "other_grid": other_grid.id, "issue": issue.id, "volunteer": volunteer.id,
                "event": event.id, "meeting": meeting.id, "organisation": organisation.id, "person": person.id}


MODELS = {"issue": Issue, "volunteer": Volunteer, "event": Event, "meeting": Meeting, "organisation": Organisation,
          "person": Person}


def deleted_at(engine, kind, record_id):
    with Session(engine) as session:
        return session.get(MODELS[kind], record_id).deleted_at


def audit_trail(engine, kind, record_id) -> list[AuditEntry]:
    with Session(engine) as session:
        return session.execute(select(AuditEntry).where(AuditEntry.table_name == kind,
                                                        AuditEntry.record_id == str(record_id))
                               .order_by(AuditEntry.id)).scalars().all()


@pytest.mark.parametrize("kind", KINDS)
def test_soft_delete_and_restore_round_trip_leaves_two_audit_entries(engine, records, kind):
    record_id = records[kind]
    with frozen(AT), write_session(engine, actor=SECRETARY) as session:
        soft_delete(session=session, actor=SECRETARY, kind=kind, record_id=record_id)
    assert deleted_at(engine, kind, record_id) == AT
    with frozen(AT + timedelta(hours=1)), write_session(engine, actor=ADMIN) as session:
        restore(session=session, actor=ADMIN, kind=kind, record_id=record_id)
    assert deleted_at(engine, kind, record_id) is None

    deleted, restored = audit_trail(engine, kind, record_id)[-2:]
    assert (deleted.action, deleted.actor, deleted.actor_role, deleted.at) == ("soft_delete", "王秘书", "committee", AT)
    assert json.loads(deleted.before)["deleted_at"] is None
    assert json.loads(deleted.after)["deleted_at"] == AT.isoformat()
    assert (restored.action, restored.actor, restored.actor_role) == ("restore", "赵管理员", "admin")
    assert json.loads(restored.before)["deleted_at"] == AT.isoformat()
    assert json.loads(restored.after)["deleted_at"] is None


@pytest.mark.parametrize(("kind", "own_grid", "allowed"), [
    ("issue", True, True), ("volunteer", True, True), ("event", True, True),
    ("issue", False, False), ("volunteer", False, False), ("event", False, False),
    # Meetings, organisations and people belong to the whole community, even a person of the grid.
    ("meeting", True, False), ("organisation", True, False), ("person", True, False),
])
def test_a_grid_leader_deletes_only_issues_volunteers_and_events_of_own_grid(engine, records, kind, own_grid, allowed):
    leader = Actor(name="网格长", role=Role.LEADER,
                   grid_ids=frozenset({records["grid"] if own_grid else records["other_grid"]}))
    if allowed:
        with write_session(engine, actor=leader) as session:
            soft_delete(session=session, actor=leader, kind=kind, record_id=records[kind])
        assert deleted_at(engine, kind, records[kind]) is not None
    else:
        with pytest.raises(PermissionDenied), write_session(engine, actor=leader) as session:
            soft_delete(session=session, actor=leader, kind=kind, record_id=records[kind])
        assert deleted_at(engine, kind, records[kind]) is None
        assert [e.action for e in audit_trail(engine, kind, records[kind])] == ["insert"]


@pytest.mark.parametrize("kind", KINDS)
def test_representatives_delete_nothing(engine, records, kind):
    with pytest.raises(PermissionDenied), write_session(engine, actor=REPRESENTATIVE) as session:
        soft_delete(session=session, actor=REPRESENTATIVE, kind=kind, record_id=records[kind])
    assert deleted_at(engine, kind, records[kind]) is None


@pytest.mark.parametrize("actor", [SECRETARY, REPRESENTATIVE,
                                   Actor(name="网格长", role=Role.LEADER, grid_ids=frozenset({1, 2}))],
                         ids=["committee", "representative", "leader"])
def test_only_an_admin_restores(engine, records, actor):
    with write_session(engine, actor=SECRETARY) as session:
        soft_delete(session=session, actor=SECRETARY, kind="issue", record_id=records["issue"])
    with pytest.raises(PermissionDenied), write_session(engine, actor=actor) as session:
        restore(session=session, actor=actor, kind="issue", record_id=records["issue"])
    assert deleted_at(engine, "issue", records["issue"]) is not None


def test_deleting_twice_or_restoring_a_live_record_is_refused(engine, records):
    with write_session(engine, actor=SECRETARY) as session:
        soft_delete(session=session, actor=SECRETARY, kind="event", record_id=records["event"])
    with pytest.raises(NotFound), write_session(engine, actor=SECRETARY) as session:
        soft_delete(session=session, actor=SECRETARY, kind="event", record_id=records["event"])
    with pytest.raises(GongzhiError) as refused, write_session(engine, actor=ADMIN) as session:
        restore(session=session, actor=ADMIN, kind="issue", record_id=records["issue"])
    assert refused.value.key == "audit.not_deleted"
    with pytest.raises(NotFound), write_session(engine, actor=SECRETARY) as session:
        soft_delete(session=session, actor=SECRETARY, kind="issue", record_id=999)


def test_a_delete_against_an_older_copy_names_who_changed_it_and_when(engine, records):
    with frozen(AT), write_session(engine, actor=ADMIN) as session:
        session.get(Issue, records["issue"]).title = "楼道杂物（已更新）"
    with pytest.raises(Conflict) as refused, write_session(engine, actor=SECRETARY) as session:
        soft_delete(session=session, actor=SECRETARY, kind="issue", record_id=records["issue"], expected_version=1)
    assert refused.value.params == {"what": "issue", "id": str(records["issue"]), "who": "赵管理员",
                                    "when": "2026-05-10 14:30"}
    assert "赵管理员 changed this record (issue" in str(refused.value)
    assert deleted_at(engine, "issue", records["issue"]) is None


def test_deleted_rows_leave_lists_and_figures_and_come_back_after_restore(engine, records):
    def visible():
        with Session(engine) as session:
            return {
                "issues": list(list_issues(session=session, include_open=True)["id"]),
                "open": issue_headline(session=session, start=date(2026, 1, 1), end=date(2026, 12, 31)).open_issues,
                "volunteers": list(volunteer_roster(session=session)["id"]),
                "events": list(list_events(session=session)["id"]),
                "organisations": list(list_organisations(session=session)["id"]),
            }

    before = visible()
    assert before == {"issues": [records["issue"]], "open": 1, "volunteers": [records["volunteer"]],
                      "events": [records["event"]], "organisations": [records["organisation"]]}
    with frozen(AT), write_session(engine, actor=SECRETARY) as session:
        for kind in ("issue", "volunteer", "event", "organisation"):
            soft_delete(session=session, actor=SECRETARY, kind=kind, record_id=records[kind])
    assert visible() == {"issues": [], "open": 0, "volunteers": [], "events": [], "organisations": []}
    with Session(engine) as session:
        listed = deleted_records(session=session, viewer=ADMIN_VIEWER)
    assert sorted(zip(listed["kind"], listed["id"], listed["label"], listed["deleted_by"], strict=True)) == [
        ("event", records["event"], "邻里节", "王秘书"), ("issue", records["issue"], "楼道堆放杂物", "王秘书"),
        ("organisation", records["organisation"], "社工站", "王秘书"),
        ("volunteer", records["volunteer"], "张阿姨", "王秘书")]

    with write_session(engine, actor=ADMIN) as session:
        for kind in ("issue", "volunteer", "event", "organisation"):
            restore(session=session, actor=ADMIN, kind=kind, record_id=records[kind])
    assert visible() == before
    with Session(engine) as session:
        assert deleted_records(session=session, viewer=ADMIN_VIEWER).empty


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.LEADER, Role.REPRESENTATIVE, Role.PUBLIC])
def test_only_admins_may_read_the_audit_trail(engine, role):
    from gongzhi.queries.audit import actors_in_audit, audit_entries, tables_in_audit

    viewer = Actor(name="某人", role=role, grid_ids=frozenset({1}))
    with Session(engine) as session:
        for read in (audit_entries, actors_in_audit, tables_in_audit, deleted_records):
            with pytest.raises(PermissionDenied):
                read(session=session, viewer=viewer)
