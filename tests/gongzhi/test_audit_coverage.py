"""Every write path leaves an audit entry with before/after: each write function of the core is
called once on a small community, and the trail must hold an entry for the record it changed,
with the expected action, actor and changed fields."""

import inspect as pyinspect
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi import accounts, lifecycle, sessions
from gongzhi.accounts import create_user
from gongzhi.clock import frozen
from gongzhi.crud import events, facilities, issues, meetings, records, volunteers
from gongzhi.db import write_session
from gongzhi.domain import AreaLevel
from gongzhi.models import (
    AgendaItem,
    Area,
    AuditEntry,
    Event,
    Issue,
    LoginSession,
    Meeting,
    Organisation,
    Person,
    Volunteer,
)
from gongzhi.permissions import Actor, Role
from gongzhi.queries.audit import changed_values

AT = datetime(2026, 5, 10, 14, 30)
SECRETARY = Actor(name="王秘书", role=Role.COMMITTEE)
ADMIN = Actor(name="赵管理员", role=Role.ADMIN)


@dataclass(frozen=True)
class Expected:
    table: str
    record_id: int | None  # None: the row this write created, whatever its id
    action: str
    fields: frozenset[str] = frozenset()  # at least these fields changed


def expect(table, record_id, action, *fields) -> Expected:
    return Expected(table, record_id, action, frozenset(fields))


@pytest.fixture
def place(write):
    """A grid with one record in each state the write functions start from."""
    with frozen(AT - timedelta(days=30)), write() as session:
        community = Area(code="C1", name="桃源居社区", level=AreaLevel.COMMUNITY)
        session.add(community)
        session.flush()
        grid = Area(code="C1-G1", name="第一网格", level=AreaLevel.GRID, parent_id=community.id)
        session.add(grid)
        session.flush()
        lead, cooperator = Organisation(name="物业公司", kind="property_manager"), Organisation(name="社工站",
                                                                                            kind="social_work_agency")
        resident = Person(name="张阿姨", phone="+8613812341234", grid_id=grid.id)
        session.add_all([lead, cooperator, resident])
        session.flush()

        def issue(state, **fields):
            row = Issue(title=f"事项 {state}", category="sanitation", grid_id=grid.id, state=state,
                        due_date=AT.date() + timedelta(days=7), reported_at=AT - timedelta(days=30), **fields)
            session.add(row)
            return row

        reported, in_action, reviewed, expired, awaiting = (
            issue("reported"), issue("in_action", lead_org_id=lead.id), issue("resident_review", resolved_at=AT),
            issue("resident_review", resolved_at=AT - timedelta(days=20)), issue("meeting", went_to_meeting=True))
        volunteer = Volunteer(person_id=resident.id, grid_id=grid.id)
        event = Event(title="邻里节", kind="culture_sports", grid_id=grid.id, starts_at=AT - timedelta(days=1),
                      ends_at=AT - timedelta(days=1, hours=-2))
        meeting = Meeting(title="五月议事会", kind="deliberation", held_at=AT + timedelta(days=3))
        session.add_all([volunteer, event, meeting])
        session.flush()
        topic = AgendaItem(meeting_id=meeting.id, position=1, topic="停车位")
        session.add(topic)
        session.flush()
        return {"grid": grid.id, "lead": lead.id, "cooperator": cooperator.id, "resident": resident.id,
                "reported": reported.id, "in_action": in_action.id, "reviewed": reviewed.id, "expired": expired.id,
                "awaiting": awaiting.id, "volunteer": volunteer.id, "event": event.id, "meeting": meeting.id,
                "topic": topic.id}


def _create_issue(s, p):
    issue = issues.create_issue(session=s, actor=SECRETARY, data=issues.IssueCreate(
        title="路灯不亮", category="repairs", grid_id=p["grid"]))
    return [expect("issue", issue.id, "insert", "title", "category", "state", "grid_id"),
            expect("timelineentry", None, "insert", "issue_id", "kind")]


def _add_progress_note(s, p):
    issues.add_progress_note(session=s, actor=SECRETARY, issue_id=p["in_action"], note="已联系物业")
    return [expect("timelineentry", None, "insert", "note", "kind")]


def _assign(s, p):
    issues.assign(session=s, actor=SECRETARY, issue_id=p["in_action"], lead_org_id=p["lead"],
                  due_date=AT.date() + timedelta(days=10), cooperator_ids=[p["cooperator"]])
    return [expect("issue", p["in_action"], "update", "due_date"),
            expect("issuecooperator", None, "insert", "organisation_id")]


def _move(s, p):
    lifecycle.move(session=s, issue_id=p["reported"], to_state="grid_review", actor=SECRETARY, note="网格议事")
    return [expect("issue", p["reported"], "update", "state", "first_response_at"),
            expect("timelineentry", None, "insert", "from_state", "to_state")]


def _rate(s, p):
    lifecycle.rate(session=s, issue_id=p["reviewed"], rating=5, fix_status="fixed", actor=SECRETARY)
    return [expect("issue", p["reviewed"], "update", "rating", "fix_status", "state", "closed_at"),
            expect("rating", None, "insert", "rating", "fix_status")]


def _close_expired_reviews(s, p):
    assert lifecycle.close_expired_reviews(session=s, actor=SECRETARY) == 1
    return [expect("issue", p["expired"], "update", "state", "closed_at")]


def _close_unrated(s, p):
    assert lifecycle.close_unrated(session=s, issue_id=p["expired"], actor=SECRETARY)
    return [expect("issue", p["expired"], "update", "state", "closed_at")]


def _create_volunteer(s, p):
    volunteer = volunteers.create_volunteer(session=s, actor=SECRETARY, data=volunteers.VolunteerCreate(
        name="李叔叔", grid_id=p["grid"], phone="13900001111"))
    return [expect("volunteer", volunteer.id, "insert", "person_id", "grid_id"),
            expect("person", volunteer.person_id, "insert", "name", "phone")]


def _update_volunteer(s, p):
    volunteers.update_volunteer(session=s, actor=SECRETARY, volunteer_id=p["volunteer"], expected_version=1,
                                data=volunteers.VolunteerUpdate(name="张阿姨", grid_id=p["grid"],
                                                                phone="13812341234", note="周末有空"))
    return [expect("volunteer", p["volunteer"], "update", "note")]


def _log_service_hours(s, p):
    record = volunteers.log_service_hours(session=s, actor=SECRETARY, volunteer_id=p["volunteer"],
                                          served_on=AT.date(), hours=2.5, event_id=p["event"])
    return [expect("servicerecord", record.id, "insert", "hours", "volunteer_id", "event_id")]


def _create_event(s, p):
    event = events.create_event(session=s, actor=SECRETARY, data=events.EventCreate(
        title="义诊", kind="health", grid_id=p["grid"], starts_at=AT + timedelta(days=2),
        ends_at=AT + timedelta(days=2, hours=3)))
    return [expect("event", event.id, "insert", "title", "kind", "starts_at")]


def _update_event(s, p):
    events.update_event(session=s, actor=SECRETARY, event_id=p["event"], data=events.EventUpdate(place="小区广场"),
                        expected_version=1)
    return [expect("event", p["event"], "update", "place")]


def _record_attendance(s, p):
    events.record_attendance(session=s, actor=SECRETARY, event_id=p["event"], person_ids=[p["resident"]],
                             headcount=12, expected_version=1)
    return [expect("event", p["event"], "update", "headcount"),
            expect("attendance", None, "insert", "event_id", "person_id")]


def _plan_meeting(s, p):
    meeting = meetings.plan_meeting(session=s, actor=SECRETARY, data=meetings.MeetingCreate(
        title="六月议事会", kind="deliberation", held_at=AT + timedelta(days=20)))
    return [expect("meeting", meeting.id, "insert", "title", "held_at")]


def _add_agenda_item(s, p):
    item = meetings.add_agenda_item(session=s, actor=SECRETARY, meeting_id=p["meeting"], issue_id=p["awaiting"])
    return [expect("agendaitem", item.id, "insert", "issue_id", "position")]


def _remove_agenda_item(s, p):
    meetings.remove_agenda_item(session=s, actor=SECRETARY, agenda_item_id=p["topic"])
    return [expect("agendaitem", p["topic"], "delete", "topic", "meeting_id")]


def _accept_proposal(s, p):
    (item,) = meetings.accept_proposal(session=s, actor=SECRETARY, meeting_id=p["meeting"], issue_ids=[p["awaiting"]])
    return [expect("agendaitem", item.id, "insert", "issue_id", "position")]


def _move_agenda_item(s, p):
    meetings.add_agenda_item(session=s, actor=SECRETARY, meeting_id=p["meeting"], topic="暑期托管")
    meetings.move_agenda_item(session=s, actor=SECRETARY, agenda_item_id=p["topic"], step=1)
    return [expect("agendaitem", p["topic"], "update", "position")]


def _record_meeting_attendance(s, p):
    meetings.record_meeting_attendance(session=s, actor=SECRETARY, meeting_id=p["meeting"],
                                       attendees="王主任\n李网格长", quorum_met=True)
    return [expect("meeting", p["meeting"], "update", "attendees", "quorum_met")]


def _decide(s, p):
    item = meetings.add_agenda_item(session=s, actor=SECRETARY, meeting_id=p["meeting"], issue_id=p["awaiting"])
    meetings.record_meeting_attendance(session=s, actor=SECRETARY, meeting_id=p["meeting"],
                                       attendees="王主任\n李网格长", quorum_met=True)
    meetings.decide(session=s, actor=SECRETARY, agenda_item_id=item.id, data=meetings.DecisionInput(
        decision="approve", lead_org_id=p["lead"], due_date=AT.date() + timedelta(days=10), votes_for=2))
    return [expect("agendaitem", item.id, "update", "decision", "votes_for", "lead_org_id"),
            expect("issue", p["awaiting"], "update", "state", "lead_org_id"),
            expect("timelineentry", None, "insert", "meeting_id", "to_state")]


def _close_meeting(s, p):
    meetings.record_meeting_attendance(session=s, actor=SECRETARY, meeting_id=p["meeting"], attendees="王主任",
                                       quorum_met=False)
    meetings.decide(session=s, actor=SECRETARY, agenda_item_id=p["topic"],
                    data=meetings.DecisionInput(decision="defer"))
    meetings.close_meeting(session=s, actor=SECRETARY, meeting_id=p["meeting"])
    return [expect("meeting", p["meeting"], "update", "status", "minutes")]


def _decide_item(s, p):
    item = meetings.add_agenda_item(session=s, actor=SECRETARY, meeting_id=p["meeting"], issue_id=p["awaiting"])
    meetings.record_meeting_attendance(session=s, actor=SECRETARY, meeting_id=p["meeting"],
                                       attendees="王主任\n李网格长", quorum_met=True)
    meetings.decide_item(session=s, actor=SECRETARY, agenda_item_id=item.id, unanimous=True,
                         cooperator_ids=[p["cooperator"]], data=meetings.DecisionInput(
                             decision="approve", lead_org_id=p["lead"], due_date=AT.date() + timedelta(days=10)))
    return [expect("agendaitem", item.id, "update", "decision", "votes_for", "lead_org_id"),
            expect("agendaitemcooperator", f"{item.id}/{p['cooperator']}", "insert", "organisation_id"),
            expect("issuecooperator", None, "insert", "organisation_id")]


def _defer_remaining(s, p):
    meetings.defer_remaining(session=s, actor=SECRETARY, meeting_id=p["meeting"])
    return [expect("agendaitem", p["topic"], "update", "decision")]


def _soft_delete(s, p):
    records.soft_delete(session=s, actor=SECRETARY, kind="event", record_id=p["event"])
    return [expect("event", p["event"], "soft_delete", "deleted_at")]


def _restore(s, p):
    records.soft_delete(session=s, actor=SECRETARY, kind="meeting", record_id=p["meeting"])
    s.flush()
    records.restore(session=s, actor=ADMIN, kind="meeting", record_id=p["meeting"])
    return [expect("meeting", p["meeting"], "soft_delete", "deleted_at"),
            expect("meeting", p["meeting"], "restore", "deleted_at")]


def _facility(s, p):
    return facilities.create_facility(session=s, actor=SECRETARY, data=facilities.FacilityInput(
        name="长者饭堂", kind="canteen", grid_id=p["grid"], lon=113.88, lat=22.58))


def _create_facility(s, p):
    facility = _facility(s, p)
    return [expect("facility", facility.id, "insert", "name", "kind", "grid_id", "lon", "lat")]


def _update_facility(s, p):
    facility = _facility(s, p)
    s.flush()
    facilities.update_facility(session=s, actor=SECRETARY, facility_id=facility.id, expected_version=1,
                               data=facilities.FacilityInput(name="长者食堂", kind="canteen", grid_id=p["grid"],
                                                             lon=113.881, lat=22.58))
    return [expect("facility", facility.id, "update", "name", "lon")]


def _remove_facility(s, p):
    facility = _facility(s, p)
    s.flush()
    facilities.remove_facility(session=s, actor=SECRETARY, facility_id=facility.id, expected_version=1)
    return [expect("facility", facility.id, "soft_delete", "deleted_at")]


def _create_user(s, p):
    user = create_user(session=s, username="clerk", password="a-long-password", role="committee",
                       display_name="新秘书")
    return [expect("user", user.id, "insert", "username", "role", "password_hash")]


def _create_account(s, p):
    user = accounts.create_account(session=s, actor=ADMIN, username="grid2", password="a-long-password",
                                   role="leader", grid_ids=(p["grid"],))
    return [expect("user", user.id, "insert", "username", "role", "password_hash"),
            expect("usergrid", f"{user.id}/{p['grid']}", "insert", "grid_id")]


def _update_account(s, p):
    user = create_user(session=s, username="clerk", password="a-long-password", role="committee")
    s.flush()
    accounts.update_account(session=s, actor=ADMIN, user_id=user.id, role="representative", display_name="代表",
                            grid_ids=(), active=False, expected_version=1)
    return [expect("user", user.id, "update", "role", "display_name", "active")]


def _reset_password(s, p):
    user = create_user(session=s, username="clerk", password="a-long-password", role="committee")
    s.flush()
    accounts.reset_password(session=s, actor=ADMIN, user_id=user.id, new_password="another-long-one")
    # The hash is recorded as "***" before and after, so no field shows as changed; the entry is there.
    return [expect("user", user.id, "update")]


def _own_account(s):
    user = create_user(session=s, username="clerk", password="a-long-password", role="committee")
    s.flush()
    session_token = sessions.start_session(session=s, user_id=user.id, address="127.0.0.1", user_agent="test")
    session_id = s.execute(select(LoginSession.id).where(LoginSession.token_hash == sessions.token_hash(session_token))
                           ).scalar_one()
    return user, accounts.actor_for(session=s, user_id=user.id), session_id


def _change_own_password(s, p):
    user, actor, session_id = _own_account(s)
    accounts.change_own_password(session=s, actor=actor, current_password="a-long-password",
                                 new_password="another-long-one")
    return [expect("user", user.id, "update"), expect("loginsession", session_id, "update", "ended_at", "end_reason")]


def _check_own_password(s, p):
    _, actor, session_id = _own_account(s)
    assert not accounts.check_own_password(session=s, actor=actor, password="a wrong guess", session_id=session_id)
    return []  # a failed check writes a LoginAttempt only, which (as every sign-in attempt) is not audited


def _delete_account(s, p):
    user, _, session_id = _own_account(s)
    accounts.delete_account(session=s, actor=ADMIN, user_id=user.id, expected_version=None)
    return [expect("user", user.id, "soft_delete", "deleted_at"),
            expect("loginsession", session_id, "update", "ended_at", "end_reason")]


WRITES = {
    "create_issue": _create_issue, "add_progress_note": _add_progress_note, "assign": _assign, "move": _move,
    "rate": _rate, "close_expired_reviews": _close_expired_reviews, "close_unrated": _close_unrated, "create_volunteer": _create_volunteer,
    "update_volunteer": _update_volunteer, "log_service_hours": _log_service_hours, "create_event": _create_event,
    "update_event": _update_event, "record_attendance": _record_attendance, "plan_meeting": _plan_meeting,
    "add_agenda_item": _add_agenda_item, "remove_agenda_item": _remove_agenda_item, "soft_delete": _soft_delete,
    "accept_proposal": _accept_proposal, "move_agenda_item": _move_agenda_item,
    "record_meeting_attendance": _record_meeting_attendance, "decide": _decide, "close_meeting": _close_meeting,
    "decide_item": _decide_item, "defer_remaining": _defer_remaining,
    "create_facility": _create_facility, "update_facility": _update_facility, "remove_facility": _remove_facility,
    "restore": _restore, "create_user": _create_user, "create_account": _create_account,
    "update_account": _update_account, "reset_password": _reset_password,
    "change_own_password": _change_own_password, "check_own_password": _check_own_password,
    "delete_account": _delete_account,
}


def test_every_write_function_of_the_core_has_a_case_here():
    """A new write function (it takes the acting `actor` and a `session`) must be added above."""
    found = set()
    for module in (issues, volunteers, events, meetings, facilities, records, lifecycle, accounts):
        for name, function in pyinspect.getmembers(module, pyinspect.isfunction):
            parameters = pyinspect.signature(function).parameters
            if function.__module__ == module.__name__ and not name.startswith("_") \
                    and {"session", "actor"} <= set(parameters):
                found.add(name)
    assert found - set(WRITES) == set()


def _matches(entry: AuditEntry, wanted: Expected) -> bool:
    if (entry.table_name, entry.action) != (wanted.table, wanted.action):
        return False
    if wanted.record_id is not None and entry.record_id != str(wanted.record_id):
        return False
    return wanted.fields <= {field for field, _, _ in changed_values(entry.before, entry.after)}


@pytest.mark.parametrize("name", list(WRITES))
def test_every_write_path_leaves_an_entry_with_before_and_after(engine, place, name):
    with Session(engine) as session:
        last_before = session.execute(select(func.max(AuditEntry.id))).scalar_one()
    with frozen(AT), write_session(engine, actor=SECRETARY) as session:
        wanted = WRITES[name](session, place)
    with Session(engine) as session:
        written = session.execute(select(AuditEntry).where(AuditEntry.id > last_before)).scalars().all()

    for item in wanted:
        matching = [entry for entry in written if _matches(entry, item)]
        assert matching, f"{name}: no {item} among {[(e.table_name, e.record_id, e.action) for e in written]}"
        entry = matching[0]
        assert (entry.actor, entry.actor_role, entry.at) == ("王秘书", "committee", AT)
        # An insert has only "after", a delete only "before"; every other change has both.
        assert (entry.before is None) == (item.action == "insert")
        assert (entry.after is None) == (item.action == "delete")
        for snapshot in (entry.before, entry.after):
            assert snapshot is None or isinstance(json.loads(snapshot), dict)
