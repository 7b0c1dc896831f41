"""The personal-data scan: every page of a role's menu is opened on the demo community, with its
main interactions walked (an issue that has a reporter, a past event with named attendance, a
held meeting with attendees, the roster and a volunteer, the map with a grid's panel open), and
everything that reaches the browser is collected: every string of every element's message
(markdown, captions, metric labels and values, widget labels, options and help, chart specs, the
map component's HTML) and every cell and header of every table, hidden columns included.

A representative and the public must get no full phone number and no issue reporter's name; the
public no person's name at all. The same scan as the committee does find full phone numbers and
the reporter's name, so the scanner can fail."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from sqlalchemy import func, select

from components.filters import GRID_KEY
from components.issue_forms import PICKER_KEY as ISSUE_PICKER_KEY
from components.meeting_forms import SELECTED_KEY as MEETING_KEY
from components.navigation import pages_for
from components.volunteer_forms import SELECTED_KEY as VOLUNTEER_KEY
from gongzhi.clock import now
from gongzhi.db import get_engine, read_session
from gongzhi.domain import MeetingStatus
from gongzhi.models import (
    Area,
    Attendance,
    Event,
    Issue,
    Meeting,
    Organisation,
    Person,
    TimelineEntry,
    User,
    UserGrid,
    Volunteer,
)
from gongzhi.permissions import Actor, Role
from gongzhi.queries.issues import OPEN_STATE_CODES
from tests.conftest import account_for_role
from tests.personal_data import FULL_MOBILE, SEPARATOR_BETWEEN_DIGITS, without_generated_ids

ATTENDANCE_EVENT_KEY = "event_attendance_event"  # components.event_forms: the attendance form's event choice
# Any full Shenzhen landline, once separators between digits (138 0013 8000, 0755-2765 4321) are
# gone; mobile numbers and the separators: tests.personal_data.
FULL_LANDLINE = re.compile(r"(?<!\d)(?:\+?86|0)755\d{7,8}(?!\d)")


def _strings(message: Message) -> Iterator[str]:
    """Every string in a protobuf message, however deeply nested (bytes, e.g. Arrow tables, are
    left to the table values)."""
    for descriptor, value in message.ListFields():
        repeated = descriptor.is_repeated
        if descriptor.type == FieldDescriptor.TYPE_MESSAGE:
            if descriptor.message_type.GetOptions().map_entry:
                for key, item in value.items():
                    yield str(key)
                    yield from (_strings(item) if isinstance(item, Message) else [str(item)])
            else:
                for item in value if repeated else [value]:
                    yield from _strings(item)
        elif descriptor.type == FieldDescriptor.TYPE_STRING:
            yield from (value if repeated else [value])


def _table_strings(frame: pd.DataFrame) -> Iterator[str]:
    yield from map(str, frame.columns)
    yield from map(str, frame.index)
    yield from (str(cell) for cell in frame.to_numpy().ravel())


def rendered_strings(app) -> list[str]:
    """Everything the app sent for this run, sidebar and main area (the map's generated element
    names left out: code, not text, and random)."""
    found: list[str] = []
    for root in (app.sidebar, app.main):
        for node in root:
            if getattr(node, "proto", None) is not None:
                found.extend(without_generated_ids(text) for text in _strings(node.proto))
            if node.type in ("dataframe", "table", "arrow_data_frame", "arrow_table"):
                found.extend(_table_strings(node.value))
    return found


@dataclass(frozen=True)
class Demo:
    phones: dict[str, str]  # the core digits of each stored number (mobile: 11 digits; landline: 755 + 8) -> stored
    all_names: frozenset[str]
    reporter_names: frozenset[str]  # reporters shown to no representative in any other capacity
    issue_id: int  # an open issue whose reporter is among reporter_names
    issue_reporter: str
    event_id: int  # a past event (within the default 12 months) with named attendance
    meeting_id: int  # a held meeting with attendees
    grid_id: int  # a grid with a leader
    grid_leader: str


def _core_digits(stored: str) -> str:
    """'+8613800138000' -> '13800138000'; '+8675527654321' -> '75527654321' (found in 0755…, +86 755…)."""
    return stored.removeprefix("+86")


def load_demo(url: str) -> Demo:
    with read_session(get_engine(url)) as session:
        people = session.execute(select(Person.id, Person.name)).all()
        names = {person_id: name for person_id, name in people}
        stored = [p for p in session.execute(select(Person.phone).where(Person.phone.is_not(None))).scalars()]
        stored += list(session.execute(
            select(Organisation.contact_phone).where(Organisation.contact_phone.is_not(None))).scalars())
        reporter_ids = set(session.execute(select(Issue.reporter_id).where(Issue.reporter_id.is_not(None))).scalars())
        # Names a representative legitimately sees in another capacity: grid leaders, volunteers,
        # meeting attendees, who acted on an issue, account names. A reporter who is also one of
        # these is shown as that, not as a reporter; the scan looks for the other reporters.
        shown_elsewhere = {names[i] for i in session.execute(select(Area.leader_id)).scalars() if i is not None}
        shown_elsewhere |= {names[i] for i in session.execute(select(Volunteer.person_id)).scalars()}
        shown_elsewhere |= set(session.execute(select(TimelineEntry.actor).distinct()).scalars())
        shown_elsewhere |= set(session.execute(select(User.display_name)).scalars())
        for attendees in session.execute(select(Meeting.attendees)).scalars():
            shown_elsewhere |= {line.strip() for line in (attendees or "").splitlines() if line.strip()}
        reporter_names = {names[i] for i in reporter_ids} - shown_elsewhere
        # A name inside a longer allowed name (王伟 in 王伟东) would be found without being leaked.
        reporter_names = {r for r in reporter_names if not any(r in other for other in shown_elsewhere)}

        issue_id, reporter_id = session.execute(
            select(Issue.id, Issue.reporter_id)
            .where(Issue.reporter_id.in_([i for i in reporter_ids if names[i] in reporter_names]),
                   Issue.state.in_(OPEN_STATE_CODES), Issue.deleted_at.is_(None))
            .order_by(Issue.reported_at.desc())).first()
        named = func.count(Attendance.id)
        event_id = session.execute(
            select(Event.id).join(Attendance, Attendance.event_id == Event.id)
            .where(Event.starts_at < now(), Event.starts_at > now() - timedelta(days=300), Event.deleted_at.is_(None))
            .group_by(Event.id).order_by(named.desc())).scalars().first()
        meeting_id = session.execute(
            select(Meeting.id).where(Meeting.status == MeetingStatus.HELD.value, Meeting.attendees != "",
                                     Meeting.held_at > now() - timedelta(days=300))
            .order_by(Meeting.held_at.desc())).scalars().first()
        grid_id, leader_id = session.execute(
            select(Area.id, Area.leader_id).where(Area.leader_id.is_not(None)).order_by(Area.code)).first()
    return Demo(phones={_core_digits(p): p for p in stored}, all_names=frozenset(names.values()),
                reporter_names=frozenset(reporter_names), issue_id=issue_id, issue_reporter=names[reporter_id],
                event_id=event_id, meeting_id=meeting_id, grid_id=grid_id, grid_leader=names[leader_id])


def _walk(app, path: str, demo: Demo) -> None:
    """The page's main interaction, where it has one."""
    if path == "views/issues.py":  # by its link: a grid leader's list holds their own grid's issues only
        app.query_params["issue"] = str(demo.issue_id)
        app.run()
        assert app.selectbox(key=ISSUE_PICKER_KEY).value == demo.issue_id
    elif path == "views/events.py":  # every grid's events: a grid leader's page opens on their own grid
        app.session_state[GRID_KEY] = None
        app.run()
        app.selectbox(key=ATTENDANCE_EVENT_KEY).set_value(demo.event_id).run()
    elif path == "views/meetings.py":
        app.selectbox(key=MEETING_KEY).set_value(demo.meeting_id).run()
    elif path == "views/grid_map.py":
        app.session_state[GRID_KEY] = demo.grid_id  # as a click on the grid leaves it
        app.run()


@dataclass(frozen=True)
class Scan:
    text: str  # everything rendered on every page, one string per line
    digits: str  # the same with separators between digits removed (138 0013 8000 -> 13800138000)
    pages: tuple[str, ...]


def scan(open_page, url: str, role: str, demo: Demo) -> Scan:
    strings: list[str] = []
    pages = tuple(entry.path for entry in pages_for(Actor(name=role, role=Role(role))))
    for path in pages:
        app = open_page(url, path, role=role)
        assert not app.exception, (path, [e.value for e in app.exception])
        strings += rendered_strings(app)
        _walk(app, path, demo)
        assert not app.exception, (path, [e.value for e in app.exception])
        strings += rendered_strings(app)
    return Scan(text="\n".join(strings), digits="\n".join(SEPARATOR_BETWEEN_DIGITS.sub("", s) for s in strings),
                pages=pages)


def full_phones(found: Scan, demo: Demo) -> list[str]:
    stored = [stored for core, stored in demo.phones.items() if core in found.digits]
    return stored + FULL_MOBILE.findall(found.digits) + FULL_LANDLINE.findall(found.digits)


@pytest.fixture
def demo(demo_url) -> Demo:
    found = load_demo(demo_url)
    # The scan is only as good as its targets: enough numbers and reporters to look for.
    assert len(found.phones) > 1000 and len(found.reporter_names) > 50, (len(found.phones), len(found.reporter_names))
    return found


def test_the_scan_sees_what_the_committee_may_see(open_page, demo_url, demo):
    """Fail-capable: as the committee the same scan finds full numbers (the roster), the
    selected issue's reporter and the grid leader's name."""
    found = scan(open_page, demo_url, "committee", demo)
    assert full_phones(found, demo)
    assert demo.issue_reporter in found.text
    assert demo.grid_leader in found.text


@pytest.mark.parametrize("role", ["representative", "public"])
def test_no_full_phone_number_and_no_reporter_reaches_the_page(open_page, demo_url, demo, role):
    found = scan(open_page, demo_url, role, demo)
    assert "views/overview.py" in found.pages and "views/grid_map.py" in found.pages
    assert full_phones(found, demo) == []
    leaked = sorted(name for name in demo.reporter_names if name in found.text)
    assert leaked == [], f"reporters' names shown to {role}: {leaked}"


def test_the_public_sees_no_names_at_all(open_page, demo_url, demo):
    found = scan(open_page, demo_url, "public", demo)
    assert set(found.pages) == {"views/overview.py", "views/grid_map.py"}
    leaked = sorted(name for name in demo.all_names if name in found.text)
    assert leaked == [], f"names shown to the public: {leaked}"


def test_the_representative_sees_names_but_masked_phones(open_page, demo_url, demo):
    """Not over-hidden: a representative sees the grid leader and the roster, with masked numbers."""
    found = scan(open_page, demo_url, "representative", demo)
    assert demo.grid_leader in found.text
    assert re.search(r"1[3-9]\d\*{4}\d{4}", found.text)


def _core_of(number: str) -> str:
    """A full number as found on a page -> its core digits (see _core_digits)."""
    digits = number.removeprefix("+").removeprefix("86") if len(number) > 12 else number
    return digits.removeprefix("0")


def _shown_cores(strings: list[str], demo: Demo) -> set[str]:
    digits = "\n".join(SEPARATOR_BETWEEN_DIGITS.sub("", s) for s in strings)
    found = {core for core in demo.phones if core in digits}
    return found | {_core_of(n) for n in FULL_MOBILE.findall(digits) + FULL_LANDLINE.findall(digits)}


def test_a_grid_leader_sees_full_phones_of_their_own_grid_only(open_page, demo_url, demo):
    """As the leader of one grid, on every page of the menu with its interactions, plus the map
    panel, the roster and a volunteer of another grid: every full number shown belongs to the
    leader's grid (a resident, a volunteer or the leader of it), and some are shown."""
    user_id = account_for_role(demo_url, "leader")
    with read_session(get_engine(demo_url)) as session:
        own = session.execute(select(UserGrid.grid_id).where(UserGrid.user_id == user_id)).scalar()
        allowed = {_core_digits(p) for p in session.execute(select(Person.phone).where(
            Person.phone.is_not(None), Person.grid_id == own)).scalars()}
        allowed |= {_core_digits(p) for p in session.execute(
            select(Person.phone).join(Volunteer, Volunteer.person_id == Person.id)
            .where(Person.phone.is_not(None), Volunteer.grid_id == own)).scalars()}
        allowed |= {_core_digits(p) for p in session.execute(
            select(Person.phone).join(Area, Area.leader_id == Person.id)
            .where(Person.phone.is_not(None), Area.id == own)).scalars()}
        other = session.execute(select(Area.id).join(Volunteer, Volunteer.grid_id == Area.id)
                                .where(Area.id != own, Area.leader_id.is_not(None)).order_by(Area.code)).scalar()
    found = scan(open_page, demo_url, "leader", demo)
    strings = found.text.splitlines()
    for path in ("views/grid_map.py", "views/volunteers.py"):  # another grid's panel, roster and volunteer
        app = open_page(demo_url, path, role="leader")
        app.session_state[GRID_KEY] = other
        app.run()
        if path == "views/volunteers.py":
            first = app.selectbox(key=VOLUNTEER_KEY).options[0]  # "name · grid (#id)"
            app.session_state[VOLUNTEER_KEY] = int(re.search(r"#(\d+)\)$", first).group(1))
            app.run()
        assert not app.exception, (path, [e.value for e in app.exception])
        strings += rendered_strings(app)
    shown = _shown_cores(strings, demo)
    assert shown - allowed == set(), sorted(shown - allowed)[:10]
    assert shown & allowed  # not over-masked: the leader's own grid in full (the roster, the map panel)
