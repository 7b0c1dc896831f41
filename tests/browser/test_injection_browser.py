"""Script-injection payloads in a grid name, an issue, an event and a facility, in the real app
and a real Chromium: on the overview, the map (grid tooltip and label, facility tooltip drawn),
the issues and the events pages no script runs (no dialog opens) and no payload element exists
in any frame."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from gongzhi.clock import now
from gongzhi.crud.events import EventCreate, create_event
from gongzhi.crud.facilities import FacilityInput, create_facility
from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.db import get_engine, write_session
from gongzhi.domain import AreaLevel
from gongzhi.geo import parse_boundary
from gongzhi.i18n import translate
from gongzhi.models import Area
from gongzhi.permissions import Actor, Role
from tests.browser.conftest import AppServer
from tests.browser.helpers import (
    TIMEOUT_MS,
    bare_spot,
    frame_with,
    open_from_menu,
    rerun_by,
    save_screenshot,
    sign_in,
    wait_for_app,
    wait_until_drawn,
)
from tests.browser.helpers import choose as _choose
from tests.markdown_payloads import LOOPBACK
from tests.markdown_payloads import PAYLOADS as MARKDOWN_PAYLOADS
from tests.views.test_injection import PAYLOAD

pytestmark = pytest.mark.browser
LOOPBACK_HOST = LOOPBACK.removeprefix("http://")
SECRETARY = Actor(name="测试秘书", role=Role.COMMITTEE)


def _server_with(databases, demo_template, directory, poison):
    """A test server on a copy of the demo, after `poison(session, first_grid)` wrote into it."""
    database_url = databases.copy(demo_template, directory)
    engine = get_engine(database_url)
    with write_session(engine) as session:
        poison(session, session.execute(select(Area).where(Area.level == AreaLevel.GRID)
                                        .order_by(Area.code)).scalars().first())
    engine.dispose()
    server = AppServer(database_url, directory / "streamlit.log")
    yield server
    server.stop()
    databases.drop(database_url)


def _script_payloads(session, grid) -> None:
    grid.name = PAYLOAD
    create_issue(session=session, actor=SECRETARY, data=IssueCreate(
        title=PAYLOAD, description=PAYLOAD, category="repairs", grid_id=grid.id))
    start = now().replace(minute=0, second=0, microsecond=0)
    create_event(session=session, actor=SECRETARY, data=EventCreate(
        title=PAYLOAD, kind="culture_sports", starts_at=start, ends_at=start + timedelta(hours=1), place=PAYLOAD,
        description=PAYLOAD, grid_id=grid.id))
    # In a corner of the grid, away from its label point where the issue and event markers sit.
    boundary = parse_boundary(grid.boundary)
    west, south, east, north = boundary.bounds
    corner = boundary.intersection(boundary.envelope.buffer(-(east - west) * 0.15)).representative_point()
    create_facility(session=session, actor=SECRETARY, data=FacilityInput(
        name=PAYLOAD[:80], kind="library", grid_id=grid.id, lon=corner.x, lat=corner.y))


@pytest.fixture(scope="module")
def poisoned_server(databases, demo_template, tmp_path_factory):
    yield from _server_with(databases, demo_template, tmp_path_factory.mktemp("poisoned"), _script_payloads)

def payload_elements(page) -> int:
    """Elements the payload would have created, had it been parsed as HTML, in every frame."""
    found = 0
    for frame in page.frames:
        try:
            found += frame.locator("img[src='x']").count()
        except Exception:  # a frame detached while we looked
            continue
    return found


def test_payloads_run_no_script_anywhere(poisoned_server, page):
    dialogs: list[str] = []
    page.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page.page, poisoned_server.url, "committee")
    wait_until_drawn(page.page)
    assert payload_elements(page.page) == 0

    open_from_menu(page.page, translate("en", "nav.grid_map"))
    frame = frame_with(page.page, "path.gongzhi-grid")
    polygon = frame.locator("path.gongzhi-grid").first
    # The grid's middle carries its label point, where issue and event markers sit: point at bare polygon.
    spot = bare_spot(polygon)
    polygon.hover(position=spot)
    frame.locator(".gongzhi-tooltip").first.wait_for(timeout=TIMEOUT_MS)
    assert "<img src=x onerror=alert(1)>" in frame.locator(".gongzhi-tooltip").first.inner_text()  # as text
    # The click selects the grid: its panel names it, as text, once the app has run again.
    with rerun_by(page.page):
        polygon.click(position=spot)
    page.page.locator("[data-testid='stMain'] h3").filter(has_text="onerror=alert(1)").first.wait_for(timeout=TIMEOUT_MS)
    wait_until_drawn(page.page)
    frame = frame_with(page.page, "path.gongzhi-grid")
    assert "<img src=x onerror=alert(1)>" in frame.locator(".gongzhi-grid-label").first.inner_text()
    # Each facility's tooltip in turn, until the poisoned one's: its name shows as text.
    facilities = frame.locator("path.gongzhi-facility")
    shown = False
    for index in range(facilities.count()):
        facilities.nth(index).dispatch_event("mouseover")
        tips = frame.locator(".leaflet-tooltip").all_inner_texts()
        facilities.nth(index).dispatch_event("mouseout")
        if any("<img src=x onerror=alert(1)>" in tip and translate("en", "facility_kind.library") in tip
               for tip in tips):
            shown = True
            break
    assert shown
    assert payload_elements(page.page) == 0
    save_screenshot(page.page, "injection_map")
    assert payload_elements(page.page) == 0

    open_from_menu(page.page, translate("en", "nav.issues"))
    page.page.get_by_text("onerror=alert(1)").first.wait_for(state="attached", timeout=TIMEOUT_MS)  # the newest issue is open
    wait_until_drawn(page.page)
    assert payload_elements(page.page) == 0

    open_from_menu(page.page, translate("en", "nav.events"))
    page.page.get_by_text("onerror=alert(1)").first.wait_for(state="attached", timeout=TIMEOUT_MS)
    wait_until_drawn(page.page)  # every frame drawn before it is searched
    assert payload_elements(page.page) == 0
    assert dialogs == []


MARKDOWN_PAYLOAD = " ".join(MARKDOWN_PAYLOADS)  # 105 characters: fits an issue title and an event title
GRID_NAME = " ".join(MARKDOWN_PAYLOADS[:4])  # 73 characters


def _markdown_payloads(session, grid) -> None:
    grid.name = GRID_NAME
    create_issue(session=session, actor=SECRETARY, data=IssueCreate(
        title=MARKDOWN_PAYLOAD, description=MARKDOWN_PAYLOAD, category="repairs", grid_id=grid.id))


@pytest.fixture(scope="module")
def markdown_server(databases, demo_template, tmp_path_factory):
    """The demo with Markdown payloads in the newest issue's title and the first grid's name."""
    yield from _server_with(databases, demo_template, tmp_path_factory.mktemp("markdown"), _markdown_payloads)

def markdown_markup(page) -> dict[str, int]:
    """What Streamlit's Markdown made of the payloads, in the page itself: links and images to
    the loopback address, coloured text, bold x or B, maths, the code x, the home icon."""
    main = page.locator("[data-testid='stMain']")
    return {
        "link": main.locator(f"a[href*='{LOOPBACK_HOST}']").count(),
        "image": main.locator(f"img[src*='{LOOPBACK_HOST}']").count(),
        "colour": main.locator(".stMarkdownColoredText, .stMarkdownColoredBackground").count(),
        "bold": main.locator("b, strong").filter(has_text=re.compile(r"^(x|B)$")).count(),
        "maths": main.locator(".katex").count(),
        "code": main.locator("code").filter(has_text=re.compile(r"^x$")).count(),
        "icon": main.locator("[aria-label='home icon']").count(),
    }


def test_markdown_payloads_show_as_typed_in_the_browser(markdown_server, page):
    """Streamlit's own renderer, in Chromium: the issue's heading and its lead-organisation card,
    and the map panel of the poisoned grid, show the payloads as typed; nothing of them became a
    link, an image, colour, bold, maths, code or an icon, and the browser never asked the
    loopback address for anything."""
    requested: list[str] = []
    page.page.on("request", lambda request: requested.append(request.url) if LOOPBACK_HOST in request.url else None)
    sign_in(page.page, markdown_server.url, "committee")
    open_from_menu(page.page, translate("en", "nav.issues"))
    heading = page.page.locator("[data-testid='stMain'] h3").filter(has_text="material")
    heading.first.wait_for(timeout=TIMEOUT_MS)  # the newest issue is open
    wait_for_app(page.page)
    assert heading.first.inner_text().replace("\u2060", "").endswith(MARKDOWN_PAYLOAD)
    assert markdown_markup(page.page) == dict.fromkeys(markdown_markup(page.page), 0)
    save_screenshot(page.page, "injection_markdown_issue")

    open_from_menu(page.page, translate("en", "nav.grid_map"))
    _choose(page.page, page.page.locator("[data-testid='stSidebar']"), translate("en", "common.grid"), GRID_NAME)
    panel = page.page.locator("[data-testid='stMain'] h3").filter(has_text="red")
    panel.first.wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page.page)
    assert panel.first.inner_text().replace("\u2060", "").startswith(":red[X] [l](")
    assert markdown_markup(page.page) == dict.fromkeys(markdown_markup(page.page), 0)
    save_screenshot(page.page, "injection_markdown_map")
    assert requested == []
