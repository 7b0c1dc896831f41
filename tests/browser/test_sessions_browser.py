"""Sign-in that lasts, links that work, and the Content-Security-Policy, in Chromium against a
real server: a reload keeps the sign-in and the page; a bookmark opened signed out leads through
the sign-in form to that page with its query; an admin's new password signs the other browser out
at its next action; a display link shows the slideshow in projector mode without a password and
without names or phone numbers, until revoked, and one made for the live meeting shows the meeting
under way read-only, until revoked; no "Page not found" on any menu page; an outside
image in an issue's title is never fetched."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from components.navigation import LOGIN_PAGE, PAGES
from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.domain import AreaLevel
from gongzhi.i18n import translate
from gongzhi.models import AgendaItem, Area, Issue, Meeting, Person, User
from gongzhi.permissions import Actor, Role
from tests.browser.conftest import RecordedPage
from tests.browser.helpers import (
    TIMEOUT_MS,
    choose,
    fill_sign_in,
    open_from_menu,
    save_screenshot,
    sign_in,
    wait_for_app,
)

pytestmark = pytest.mark.browser
NOT_FOUND = "does not seem to exist"  # Streamlit's "Page not found" dialog, also logged to the console
PHONE = re.compile(r"1[3-9]\d{9}|1\d{2}\*{4}\d{4}")
NEW_PASSWORD = "a brand new passphrase"


def t(key: str, **params) -> str:
    return translate("en", key, **params)


def fresh(browser) -> RecordedPage:
    """A new browser context: no cookies, as a new browser or a bookmark on another machine."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    recorded = RecordedPage(context.new_page())
    recorded.console = []
    recorded.page.on("console", lambda message: recorded.console.append(message.text))
    return recorded


@pytest.fixture
def contexts(browser):
    opened = []

    def open_one() -> RecordedPage:
        opened.append(fresh(browser))
        return opened[-1]

    yield open_one
    for recorded in opened:
        recorded.page.context.close()


def heading(page, key: str) -> None:
    page.locator("h1").filter(has_text=t(key)).first.wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page)


def test_a_reload_keeps_the_sign_in_and_the_page(app_server, contexts):
    page = contexts().page
    sign_in(page, app_server.url, "committee")
    open_from_menu(page, t("nav.volunteers"))
    url = page.url
    page.reload()
    heading(page, "nav.volunteers")
    assert page.url == url
    # A new tab of the same browser is signed in as well.
    tab = page.context.new_page()
    tab.goto(f"{app_server.url}/events?lang=en")
    heading(tab, "nav.events")


@pytest.mark.parametrize("path", ["/issues?grid={grid}&lang=en", "/slideshow?mode=projector&lang=en"])
def test_a_bookmark_opened_signed_out_leads_through_the_sign_in_to_that_page(app_server, contexts, path):
    with read_session(get_engine(app_server.database_url)) as session:
        grid = session.execute(select(Area).where(Area.level == AreaLevel.GRID).order_by(Area.code.desc())).scalars().first()
    bookmark = app_server.url + path.format(grid=grid.code)
    recorded = contexts()
    page = recorded.page
    page.goto(bookmark)
    assert page.url.startswith(f"{app_server.url}/signin?next=")
    fill_sign_in(page, "committee")
    page.wait_for_url(bookmark, timeout=TIMEOUT_MS)
    wait_for_app(page)
    if "grid=" in path:
        heading(page, "nav.issues")
        grid_box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
            has_text=t("common.grid")).first
        assert grid_box.locator("input").input_value() == grid.name  # the query chose the grid
    else:
        heading(page, "nav.slideshow")
        page.locator("[data-testid='stSidebar']").wait_for(state="hidden", timeout=TIMEOUT_MS)  # projector mode
    assert not [text for text in recorded.console if NOT_FOUND in text]


def test_a_new_password_signs_the_other_browser_out_at_its_next_action(app_server, contexts):
    leader = contexts().page
    sign_in(leader, app_server.url, "leader")
    open_from_menu(leader, t("nav.issues"))

    admin = contexts().page
    sign_in(admin, app_server.url, "admin")
    open_from_menu(admin, t("nav.accounts"))
    choose(admin, admin.locator("[data-testid='stMain']"), t("accounts.select_account"), "第一网格网格长 (leader)")
    with read_session(get_engine(app_server.database_url)) as session:
        leader_id = session.execute(select(User.id).where(User.username == "leader")).scalar_one()
    prefix = f".st-key-account_password_{leader_id}_"  # the leader's form (widget keys)
    for _ in range(3):  # a click that lands while the app reruns can be lost
        wait_for_app(admin)
        admin.get_by_role("tab", name=t("accounts.password_title")).click()
        try:
            admin.locator(prefix + "password input").wait_for(timeout=TIMEOUT_MS)
            break
        except PlaywrightTimeout:
            continue
    admin.locator(prefix + "password input").fill(NEW_PASSWORD)
    admin.locator(prefix + "password_repeat input").fill(NEW_PASSWORD)
    admin.get_by_role("button", name=t("accounts.password_button")).click()
    admin.get_by_text(t("accounts.password_reset", username="leader")).wait_for(timeout=TIMEOUT_MS)

    # The leader's next action: signed out, told why, on the same page's address.
    leader.locator("[data-testid='stSidebarNav'] a").filter(has_text=t("nav.volunteers")).first.click()
    heading(leader, "nav.login")
    leader.get_by_text(t("sessions.ended_password_changed")).wait_for(timeout=TIMEOUT_MS)
    assert "/volunteers" in leader.url
    # Signing in again, there, with the new password, returns to that page.
    leader.get_by_role("textbox", name=t("auth.field_username"), exact=True).fill("leader")
    leader.get_by_role("textbox", name=t("auth.field_password"), exact=True).fill(NEW_PASSWORD)
    leader.get_by_role("button", name=t("auth.sign_in"), exact=True).click()
    heading(leader, "nav.volunteers")
    # The admin's own session was not touched.
    open_from_menu(admin, t("nav.audit"))


def _people(database_url: str) -> list[str]:
    with read_session(get_engine(database_url)) as session:
        return [name for name in session.execute(select(Person.name)).scalars() if name and len(name) >= 2]


def test_a_display_link_shows_the_slideshow_without_a_password_until_revoked(app_server, contexts):
    committee = contexts().page
    sign_in(committee, app_server.url, "committee")
    open_from_menu(committee, t("nav.my_account"))
    committee.get_by_label(t("sessions.field_label"), exact=True).fill("Room A")
    committee.get_by_role("button", name=t("sessions.display_create")).click()
    link = committee.locator("[data-testid='stCode'] code").first
    link.wait_for(timeout=TIMEOUT_MS)
    url = link.inner_text().strip()
    assert re.fullmatch(re.escape(app_server.url) + r"/display/[A-Za-z0-9_-]{43,}", url)

    screen = contexts()
    screen.page.goto(url)
    heading(screen.page, "nav.slideshow")
    assert "mode=projector" in screen.page.url
    screen.page.locator("[data-testid='stSidebar']").wait_for(state="hidden", timeout=TIMEOUT_MS)  # projector mode
    assert screen.page.get_by_role("textbox", name=t("auth.field_password")).count() == 0
    people = _people(app_server.database_url)
    texts = []
    for _ in range(3):  # the headline figures and the first grid cards
        wait_for_app(screen.page)
        texts.append(screen.page.locator("[data-testid='stMain']").inner_text())
        screen.page.get_by_role("button", name=re.compile(t("slideshow.next"))).first.click()
    shown = "\n".join(texts)
    assert not PHONE.search(shown)
    assert not [name for name in people if name in shown]
    assert not [text for text in screen.console if NOT_FOUND in text]

    committee.reload()
    heading(committee, "nav.my_account")
    committee.get_by_role("button", name=t("sessions.display_revoke")).first.click()
    committee.get_by_text(t("sessions.display_revoked")).wait_for(timeout=TIMEOUT_MS)
    # The screen stops at its next rerun, and the link no longer opens anything.
    screen.page.get_by_role("button", name=re.compile(t("slideshow.next"))).first.click()
    heading(screen.page, "nav.login")
    again = contexts().page
    response = again.goto(url)
    assert response.status == 404
    assert again.get_by_text(t("sessions.display_invalid")).count() == 1


def _soonest_planned_meeting(database_url: str) -> tuple[str, str]:
    """(title, first undecided item's issue title) of the meeting a live-meeting screen shows."""
    with read_session(get_engine(database_url)) as session:
        meeting = session.execute(select(Meeting).where(Meeting.status == "planned", Meeting.deleted_at.is_(None))
                                  .order_by(Meeting.held_at, Meeting.id)).scalars().first()
        item = session.execute(select(Issue.title).join(AgendaItem, AgendaItem.issue_id == Issue.id)
                               .where(AgendaItem.meeting_id == meeting.id, AgendaItem.decision.is_(None))
                               .order_by(AgendaItem.position)).scalars().first()
        return meeting.title, item


def test_a_display_link_for_the_live_meeting_shows_it_read_only_until_revoked(app_server, contexts):
    committee = contexts().page
    sign_in(committee, app_server.url, "committee")
    open_from_menu(committee, t("nav.my_account"))
    committee.get_by_label(t("sessions.field_label"), exact=True).fill("Room B")
    committee.get_by_text(t("sessions.view_live_meeting"), exact=True).click()
    committee.get_by_role("button", name=t("sessions.display_create")).click()
    link = committee.locator("[data-testid='stCode'] code").first
    link.wait_for(timeout=TIMEOUT_MS)
    url = link.inner_text().strip()

    screen = contexts()
    screen.page.goto(url)
    title, item = _soonest_planned_meeting(app_server.database_url)
    screen.page.locator("h1").filter(has_text=title).first.wait_for(timeout=TIMEOUT_MS)
    wait_for_app(screen.page)
    assert "mode=projector" in screen.page.url
    screen.page.locator("[data-testid='stSidebar']").wait_for(state="hidden", timeout=TIMEOUT_MS)  # projector mode
    header = screen.page.locator("[data-testid='stMain'] h2").filter(has_text=item).first
    header.wait_for(timeout=TIMEOUT_MS)
    shown = screen.page.locator("[data-testid='stMain']").inner_text()
    save_screenshot(screen.page, "display-link-live-meeting")
    # Read-only: no decision, attendance, closing or moving to another item; no password asked.
    for key in ("meetings.decide_unanimous", "meetings.live_next", "meetings.close_submit", "meetings.defer_rest",
                "meetings.attendance_submit", "auth.field_password"):
        assert t(key) not in shown, key
    assert screen.page.get_by_role("button", name=t("meetings.live_next")).count() == 0
    assert not PHONE.search(shown)
    assert not [name for name in _people(app_server.database_url) if name in shown]
    assert not [text for text in screen.console if NOT_FOUND in text]

    committee.reload()
    heading(committee, "nav.my_account")
    row = committee.locator("[data-testid='stHorizontalBlock']").filter(has_text="Room B").first
    row.get_by_role("button", name=t("sessions.display_revoke")).click()
    committee.get_by_text(t("sessions.display_revoked")).wait_for(timeout=TIMEOUT_MS)
    # The screen checks every few seconds by itself (no one touches it) and stops.
    heading(screen.page, "nav.login")
    assert screen.page.get_by_text(title).count() == 0
    assert contexts().page.goto(url).status == 404


def test_no_page_not_found_on_any_menu_page_signed_in_or_out(app_server, contexts):
    admin = contexts()
    sign_in(admin.page, app_server.url, "admin")
    visitor = contexts()
    for entry in PAGES:
        if entry.url_path == LOGIN_PAGE:
            continue
        admin.page.goto(f"{app_server.url}/{entry.url_path}?lang=en")
        heading(admin.page, entry.title_key)
        visitor.page.goto(f"{app_server.url}/{entry.url_path}?lang=en")
        visitor.page.get_by_role("button", name=t("auth.sign_in"), exact=True).wait_for()
    visitor.page.goto(f"{app_server.url}/{LOGIN_PAGE}?lang=en")
    heading(visitor.page, "nav.login")
    # "Page not found" comes from the run of the page asked for: once both pages' runs are over,
    # any such message has arrived.
    wait_for_app(admin.page)
    wait_for_app(visitor.page)
    for recorded in (admin, visitor):
        assert not [text for text in recorded.console if NOT_FOUND in text], recorded.console
        assert not [text for text in recorded.console if "Content Security Policy" in text], recorded.console


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

    def log_message(self, *_args):
        pass


@pytest.fixture
def outside_server():
    """A server on another loopback address that records every request it gets."""
    server = ThreadingHTTPServer(("127.0.0.2", 0), _Recorder)
    _Recorder.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.2:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_outside_image_in_an_issue_title_is_never_fetched(app_server, contexts, browser, outside_server):
    image = f"{outside_server}/pixel.gif"
    title = f"Lamp ![seen]({image}) broken"
    engine = get_engine(app_server.database_url)
    with write_session(engine) as session:
        grid = session.execute(select(Area.id).where(Area.level == AreaLevel.GRID).order_by(Area.code)).scalar()
        create_issue(session=session, actor=Actor(name="测试秘书", role=Role.COMMITTEE),
                     data=IssueCreate(title=title, category="repairs", grid_id=grid))
    # The recorder answers a page that has no policy: it would see the request.
    control = contexts().page
    control.set_content(f'<img src="{image}?control">')
    control.wait_for_function("() => document.images[0].complete")
    assert _Recorder.hits == ["/pixel.gif?control"]

    recorded = contexts()
    sign_in(recorded.page, app_server.url, "committee")
    open_from_menu(recorded.page, t("nav.issues"))
    recorded.page.get_by_text("broken").first.wait_for(state="attached", timeout=TIMEOUT_MS)  # the newest issue is open
    # Whatever the page makes of the title, an image from elsewhere may not load. The browser says
    # when it has refused one (a securitypolicyviolation event): a refusal is the condition waited on.
    recorded.page.evaluate(f"""() => {{
        window.gongzhiRefused = [];
        document.addEventListener("securitypolicyviolation", (e) => window.gongzhiRefused.push(e.blockedURI));
        const img = document.createElement("img"); img.src = "{image}?injected"; document.body.appendChild(img); }}""")
    recorded.page.wait_for_function("() => window.gongzhiRefused.some((uri) => uri.includes('?injected'))",
                                    timeout=TIMEOUT_MS)
    # Chromium reports what the page asked for (the title's image, if the Markdown drew it, and the
    # injected one), but the browser refused to send it: the recorder got nothing.
    assert _Recorder.hits == ["/pixel.gif?control"]
    assert [text for text in recorded.console if "Content Security Policy" in text and "img-src" in text]


def test_the_sign_in_page_has_no_serious_accessibility_violation(app_server, contexts):
    from axe_playwright_python.sync_playwright import Axe

    page = contexts().page
    page.goto(f"{app_server.url}/signin?next=%2Fissues&lang=en")
    violations = Axe().run(page).response["violations"]
    assert not [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
