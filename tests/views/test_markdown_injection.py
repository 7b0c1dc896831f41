"""User text is text on every page: Markdown payloads (a colour, a link and an image to a loopback
address, HTML bold, maths, code, bold, an icon) written into every text field a user, an import or
another system can fill; then every page is opened as an admin (who sees every page) and its main
interactions are walked: the selected issue, a held meeting in the overview, live and minutes
views, an event in the edit and attendance forms, a volunteer, an account, the map panel of a
grid, the slideshow's map and grid cards. No payload may come out of any Markdown the page sends
as markup (tests/markdown_payloads.py says how that is judged) nor reach raw HTML (the map)
unescaped, no escape may show in plain text, and the payloads must be on the pages as text, so
the check has something to find."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import case, select, update

from components.account_admin import SELECTED_KEY as ACCOUNT_KEY
from components.event_forms import ATTENDANCE, EDIT
from components.filters import GRID_KEY
from components.issue_forms import OPEN_NEXT_KEY as ISSUE_NEXT_KEY
from components.meeting_forms import SELECTED_KEY as MEETING_KEY
from components.meeting_forms import VIEW_KEY as MEETING_VIEW_KEY
from components.navigation import pages_for
from components.slideshow import CHANGED_KEY, INDEX_KEY, INTERVAL_KEY
from components.volunteer_forms import SELECTED_KEY as VOLUNTEER_KEY
from gongzhi.clock import now
from gongzhi.db import get_engine, write_session
from gongzhi.domain import AreaLevel, MeetingStatus
from gongzhi.escape import markdown_literal
from gongzhi.models import (
    AgendaItem,
    Area,
    Event,
    Facility,
    Issue,
    Meeting,
    Organisation,
    Person,
    Rating,
    ServiceRecord,
    TimelineEntry,
    User,
    Volunteer,
)
from gongzhi.permissions import Actor, Role
from tests.conftest import account_for_role
from tests.markdown_payloads import (
    ESCAPED,
    PAYLOADS,
    carries_payload,
    markup_in,
    payload_markup,
    rendered_markdown,
    text_form,
    visible_escapes,
)
from tests.views.test_injection import raw_html_elements

FULL = " ".join(PAYLOADS)


def packs(limit: int) -> list[str]:
    """The payloads joined into as few texts of at most `limit` characters as they fit in."""
    texts = [""]
    for payload in PAYLOADS:
        if texts[-1] and len(texts[-1]) + 1 + len(payload) > limit:
            texts.append("")
        texts[-1] = f"{texts[-1]} {payload}".strip()
    return texts


def rotating(column, limit: int):
    """A SQL expression giving row n the payload text n mod k (every text on some row)."""
    texts = packs(limit)
    return case(*[(column % len(texts) == index, text) for index, text in enumerate(texts[1:], start=1)],
                else_=texts[0])


@pytest.fixture
def poisoned(demo_url) -> tuple[str, dict[str, int]]:
    """The demo with a payload in every free text: names of areas (grids, buildings), people
    (residents, volunteers, leaders, reporters), organisations, facilities and accounts; titles,
    places and descriptions of issues, events and meetings; attendees, agenda topics, decision
    notes, timeline notes and actors, rating comments and raters, volunteer and service notes."""
    account_for_role(demo_url, "admin")
    with write_session(get_engine(demo_url)) as session:
        for model, column, limit in [(Area, Area.name, 80), (Person, Person.name, 40), (User, User.display_name, 40),
                                     (Facility, Facility.name, 80), (TimelineEntry, TimelineEntry.actor, 40),
                                     (Rating, Rating.rated_by, 40)]:
            session.execute(update(model).values({column.key: rotating(model.id, limit)}))
        for model, columns in [(Issue, ("title", "description")), (Event, ("title", "place", "description")),
                               (Meeting, ("title", "place")), (AgendaItem, ("topic", "decision_note")),
                               (TimelineEntry, ("note",)), (Rating, ("comment",)), (Volunteer, ("note",)),
                               (ServiceRecord, ("note",)), (Organisation, ("description",))]:
            session.execute(update(model).values({name: FULL for name in columns}))
        session.execute(update(Meeting).values(attendees="\n".join(packs(40))))
        for organisation in session.execute(select(Organisation)).scalars():  # names are unique
            organisation.name = f"{packs(70)[organisation.id % 2]} {organisation.id}"
            organisation.contact_name = packs(40)[organisation.id % 3]
        grid = session.execute(select(Area.id).where(Area.level == AreaLevel.GRID).order_by(Area.code)).scalar()
        held = session.execute(select(Meeting.id).where(Meeting.status == MeetingStatus.HELD.value)
                               .order_by(Meeting.held_at.desc())).scalar()
        issue = session.execute(select(TimelineEntry.issue_id).where(TimelineEntry.kind == "progress")
                                .order_by(TimelineEntry.id.desc())).scalar()
        event = session.execute(select(Event.id).where(Event.starts_at < now(),
                                                       Event.starts_at > now() - timedelta(days=200))
                                .order_by(Event.starts_at.desc())).scalar()
        volunteer = session.execute(select(Volunteer.id).join(ServiceRecord, ServiceRecord.volunteer_id == Volunteer.id)
                                    .order_by(Volunteer.id)).scalar()
        account = session.execute(select(User.id).order_by(User.id)).scalar()
    return demo_url, {"grid": grid, "meeting": held, "issue": issue, "event": event, "volunteer": volunteer,
                      "account": account}


def _interactions(path: str, ids: dict[str, int]) -> list[tuple[str, dict]]:
    """(name, session state to set before a rerun) for the page's main interactions."""
    if path == "views/issues.py":
        return [("issue", {ISSUE_NEXT_KEY: ids["issue"]})]
    if path == "views/meetings.py":
        return [(f"meeting {view}", {MEETING_KEY: ids["meeting"], MEETING_VIEW_KEY: view})
                for view in ("overview", "live", "minutes", "follow_up")]
    if path == "views/events.py":
        return [("event", {f"{EDIT}_event": ids["event"], f"{ATTENDANCE}_event": ids["event"]})]
    if path == "views/volunteers.py":
        return [("volunteer", {VOLUNTEER_KEY: ids["volunteer"]})]
    if path == "views/accounts.py":
        return [("account", {ACCOUNT_KEY: ids["account"]})]
    if path == "views/grid_map.py":
        return [("grid panel", {GRID_KEY: ids["grid"]})]
    if path == "views/slideshow.py":  # the map, then the first grid's card; the timer off
        return [(f"slide {index}", {INTERVAL_KEY: 0, INDEX_KEY: index, CHANGED_KEY: time.monotonic()})
                for index in (1, 2)]
    return []


def test_the_check_finds_every_payload_as_markup_unless_escaped():
    """The judge can fail: each payload as it is comes out as markup; through markdown_literal,
    none does, and the text still shows the payload."""
    raw = {payload: markup_in(f"A {payload} z") for payload in PAYLOADS}
    assert all(raw.values()), raw
    assert markup_in(f"**{markdown_literal(FULL)}**") == []
    assert carries_payload(markdown_literal(FULL))
    assert ESCAPED.search(markdown_literal(FULL))  # as plain text, it would show its escapes
    twice = text_form(markdown_literal(str(markdown_literal(FULL))))  # str(): no longer marked as Markdown
    assert "\\" in twice and carries_payload(twice.replace("\\", ""))


def _pass(open_page, url: str, ids: dict[str, int], pages: list[str], query_params: dict | None = None):
    """Open each page and walk its interactions: (payload markup found, escapes shown, where the
    payloads were shown in Markdown)."""
    found: list[tuple[str, str, str]] = []
    escaped: list[tuple[str, str, str]] = []
    shown: set[str] = set()
    for path in pages:
        app = open_page(url, path, role="admin", query_params=query_params)
        for name, state in [("page", {}), *_interactions(path, ids)]:
            if state:
                for key, value in state.items():
                    app.session_state[key] = value
                app.run()
            assert not app.exception, (path, name, [e.value for e in app.exception])
            found += [(path, name, f"{kind}: {source}") for kind, source in payload_markup(app)]
            found += [(path, name, f"raw html: {body[:200]}") for body in raw_html_elements(app) if "<b>x</b>" in body]
            escaped += [(path, name, text) for text in visible_escapes(app)]
            if any(carries_payload(source) for source in rendered_markdown(app)):
                shown.add(f"{path} {name}")
    return found, escaped, shown


def test_no_payload_becomes_markup_on_any_page(open_page, poisoned):
    url, ids = poisoned
    found, escaped, shown = _pass(open_page, url, ids, [entry.path for entry in pages_for(Actor(name="a", role=Role.ADMIN))])
    assert not found, "\n".join(sorted(set(map(str, found))))
    assert not escaped, "\n".join(sorted(set(map(str, escaped))))  # and no backslash shows
    # Not vacuous: the payloads are shown, as text, where user text is in Markdown.
    assert {"views/issues.py issue", "views/meetings.py meeting overview", "views/meetings.py meeting live",
            "views/meetings.py meeting minutes", "views/grid_map.py grid panel", "views/slideshow.py slide 2",
            "views/volunteers.py volunteer"} <= shown, sorted(shown)


def test_no_payload_becomes_markup_in_projector_mode(open_page, poisoned):
    """Projector mode shows tables with st.table, whose cells are Markdown."""
    url, ids = poisoned
    pages = ["views/overview.py", "views/grid_map.py", "views/issues.py", "views/volunteers.py", "views/meetings.py"]
    found, escaped, shown = _pass(open_page, url, ids, pages, query_params={"mode": "projector"})
    assert not found, "\n".join(sorted(set(map(str, found))))
    assert not escaped, "\n".join(sorted(set(map(str, escaped))))
    assert {"views/issues.py issue", "views/meetings.py meeting live", "views/grid_map.py page"} <= shown, sorted(shown)
