"""Projector mode in a real Chromium at 1024×768: the type is large and the contrast AAA, the
sidebar and header are gone, the mode survives page changes and leaves by its own button, and
the slideshow moves on by keyboard (arrows and a clicker's page keys) and by its timer.
Screenshots go to test-artifacts/ for people to look at."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from components.projector import BODY_FONT_PX, PROJECTOR_ROWS
from gongzhi.i18n import translate
from tests.browser.helpers import (
    TIMEOUT_MS,
    frame_with,
    rerun_by,
    save_screenshot,
    sign_in,
    wait_for_app,
    wait_until_drawn,
)
from tests.browser.projector_helpers import (
    body_font_sizes,
    new_page,
    open_in_projector,
    sign_in_at,
    text_contrasts,
)

pytestmark = pytest.mark.browser

MIN_BODY_PX = 24
AAA_CONTRAST = 7.0


@pytest.fixture
def projector_page(browser):
    recorded = new_page(browser)
    yield recorded
    recorded.page.context.close()


def _assert_projected(page) -> None:
    """Large type, AAA contrast, and neither sidebar nor header."""
    assert "mode=projector" in page.url
    assert page.locator("[data-testid='stSidebar']").is_hidden()
    assert page.locator("header[data-testid='stHeader']").is_hidden()
    sizes = body_font_sizes(page)
    assert sizes and min(sizes) >= MIN_BODY_PX, sorted(sizes)[:5]
    contrasts = text_contrasts(page)
    weakest = sorted(contrasts, key=lambda item: item["ratio"])[:3]
    assert contrasts and weakest[0]["ratio"] >= AAA_CONTRAST, weakest
    small = [item for item in contrasts if item["size"] < MIN_BODY_PX]
    assert not small, small[:5]
    # axe-core's own AAA contrast rule (off by default) agrees.
    enhanced = Axe().run(page, options={"runOnly": ["color-contrast-enhanced"]}).response["violations"]
    assert not enhanced, [(node["target"], node["failureSummary"]) for v in enhanced for node in v["nodes"]][:5]


def test_a_bookmark_opens_the_overview_in_large_type_and_high_contrast(app_server, projector_page):
    page = projector_page.page
    sign_in_at(page, f"{app_server.url}/?lang=en&mode=projector", "committee")
    page.wait_for_selector("[data-testid='stMetric']")
    wait_until_drawn(page)
    _assert_projected(page)
    value_size = page.eval_on_selector("[data-testid='stMetricValue']", "n => parseFloat(getComputedStyle(n).fontSize)")
    assert value_size >= 2.5 * MIN_BODY_PX  # headline figures much larger than the text
    assert BODY_FONT_PX >= MIN_BODY_PX
    exit_button = page.get_by_role("button", name=translate("en", "projector.exit"))
    assert exit_button.is_visible()
    assert exit_button.bounding_box()["height"] >= 48  # a large way out
    save_screenshot(page, "overview_projector")
    assert projector_page.external_requests() == []


def test_the_toggle_switches_projector_mode_on_it_survives_a_page_change_and_the_exit_button_leaves(
        app_server, projector_page):
    page = projector_page.page
    sign_in(page, app_server.url, "committee")
    assert "mode=" not in page.url
    with rerun_by(page):
        page.locator("[data-testid='stSidebar']").get_by_text(translate("en", "projector.toggle")).click()
    page.wait_for_url(re.compile(r"mode=projector"), timeout=TIMEOUT_MS)
    page.locator("[data-testid='stSidebar']").wait_for(state="hidden", timeout=TIMEOUT_MS)
    open_in_projector(page, translate("en", "nav.meetings"))
    assert re.search(r"/meetings\?(.*&)?mode=projector", page.url), page.url
    wait_until_drawn(page)
    _assert_projected(page)
    save_screenshot(page, "meetings_projector")
    with rerun_by(page):
        page.get_by_role("button", name=translate("en", "projector.exit")).click()
    page.locator("[data-testid='stSidebar']").wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "mode=" not in page.url
    assert page.locator("h1").filter(has_text=translate("en", "nav.meetings")).is_visible()


def _position(page) -> str:
    return page.get_by_text(re.compile(r"^Slide \d+ of \d+$")).inner_text()


def _wait_for_slide(page, index: int, timeout: float = TIMEOUT_MS) -> None:
    page.get_by_text(re.compile(rf"^Slide {index} of \d+$")).wait_for(timeout=timeout)


def test_the_slideshow_moves_on_by_arrow_and_page_keys_and_by_its_timer(app_server, projector_page):
    page = projector_page.page
    sign_in_at(page, f"{app_server.url}/?lang=en&mode=projector", "committee")
    open_in_projector(page, translate("en", "nav.slideshow"))
    _wait_for_slide(page, 1)
    wait_until_drawn(page)
    _assert_projected(page)
    save_screenshot(page, "slideshow_projector")
    page.locator("h1").click()  # focus on the page, nowhere to type, as in a meeting
    for key, index in (("ArrowRight", 2), ("PageDown", 3), ("ArrowLeft", 2), ("PageUp", 1)):
        with rerun_by(page):
            page.keyboard.press(key)
        _wait_for_slide(page, index)
        if (key, index) == ("ArrowRight", 2):  # the map slide: the grids are drawn (a rendered map kept per data)
            frame_with(page, "path.gongzhi-grid")
            wait_until_drawn(page)
            save_screenshot(page, "slideshow_map_projector")
    assert _position(page).startswith("Slide 1 of")
    # Now on a timer: it moves on without any key or click.
    with rerun_by(page):
        page.get_by_text(translate("en", "slideshow.interval_seconds", seconds=5), exact=True).click()
    _wait_for_slide(page, 2)
    _wait_for_slide(page, 3)
    save_screenshot(page, "slideshow_grid_projector")
    assert projector_page.external_requests() == []


LIST_PAGES = ("nav.overview", "nav.grid_map", "nav.issues", "nav.volunteers", "nav.events")

# Scrolling grids, and elements whose content is wider or taller than the box that scrolls it.
SCROLLING_JS = """() => ({
  grids: document.querySelectorAll('[data-testid="stMain"] [data-testid="stDataFrame"]').length,
  tables: document.querySelectorAll('[data-testid="stMain"] [data-testid="stTable"]').length,
  scrolling: [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stTable"],'
                                          + ' [data-testid="stMain"] [data-testid="stTable"] *')]
    .filter(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
    .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)
                 || ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))
    .map(e => e.innerText.slice(0, 60)),
})"""


def test_list_pages_in_projector_mode_page_their_tables_instead_of_scrolling(app_server, projector_page):
    page = projector_page.page
    sign_in_at(page, f"{app_server.url}/?lang=en&mode=projector", "committee")
    tables = 0
    for title_key in LIST_PAGES:
        open_in_projector(page, translate("en", title_key))
        wait_until_drawn(page)
        found = page.evaluate(SCROLLING_JS)
        assert found["grids"] == 0, title_key
        assert found["scrolling"] == [], (title_key, found["scrolling"])
        tables += found["tables"]
        for row_count in page.eval_on_selector_all("[data-testid='stMain'] [data-testid='stTable'] tbody",
                                                   "bodies => bodies.map(b => b.rows.length)"):
            assert row_count <= PROJECTOR_ROWS, title_key
    assert tables >= len(LIST_PAGES)


def _menu_open(page) -> bool:
    return page.evaluate("() => { const body = document.querySelector('[data-testid=\"stPopoverBody\"]');"
                         " return !!body && body.checkVisibility(); }")


def test_the_pages_menu_closes_after_any_choice_the_page_already_shown_included(app_server, projector_page):
    page = projector_page.page
    sign_in_at(page, f"{app_server.url}/?lang=en&mode=projector", "committee")
    open_in_projector(page, translate("en", "nav.issues"))
    wait_for_app(page)
    menu = page.get_by_role("button", name=translate("en", "projector.pages"))
    body = page.locator("[data-testid='stPopoverBody']")
    # The page already shown: the menu closes, the page stays.
    menu.click()
    body.wait_for(timeout=TIMEOUT_MS)
    body.get_by_text(translate("en", "nav.issues"), exact=True).click()
    page.wait_for_function("() => { const body = document.querySelector('[data-testid=\"stPopoverBody\"]');"
                           " return !body || !body.checkVisibility(); }", timeout=TIMEOUT_MS)
    wait_for_app(page)
    assert not _menu_open(page)
    assert "/issues" in page.url and "mode=projector" in page.url
    save_screenshot(page, "projector-menu-closed-after-current-page")
    # Another page: the menu closes too (the new page has a menu of its own, closed).
    open_in_projector(page, translate("en", "nav.events"), press_escape=False)
    wait_for_app(page)
    assert not _menu_open(page)
