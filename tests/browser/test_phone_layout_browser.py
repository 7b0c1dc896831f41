"""The issue list and the map on a phone (390×844) and a desktop (1280×800), in Chinese and
English, in a real Chromium: the list shows each issue's number, title and stage without sideways
scrolling; the map is fitted to the grids (their outline fills at least half of the frame's
shorter side), no grid name lies under a marker, the legend and layer switch lie beside the grids,
not over them; on a phone the sidebar folds away after a page is chosen. Screenshots of each go
to test-artifacts/ (phone_issues_en.png, phone_map_zh-CN.png, …)."""


import pytest

from components.filters import period_bounds
from components.grid_map import LEGEND_OPEN_FROM_PX
from components.issue_forms import ID_WIDTH_PX, STATE_WIDTH_PX, TITLE_WIDTH_PX
from gongzhi.clock import today
from gongzhi.db import get_engine, read_session
from gongzhi.i18n import translate
from gongzhi.queries.issues import list_issues
from tests.browser.helpers import TIMEOUT_MS, frame_with, open_from_menu, save_screenshot, sign_in, wait_for_app

pytestmark = pytest.mark.browser
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture(params=[(screen, lang) for screen in SCREENS for lang in ("zh-CN", "en")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def screen(request, browser):
    name, lang = request.param
    context = browser.new_context(viewport=SCREENS[name], locale=lang, device_scale_factor=1)
    page = context.new_page()
    yield name, lang, page
    context.close()


def newest_issues(app_server) -> list:
    period = period_bounds("period_12m", on=today())
    with read_session(get_engine(app_server.database_url)) as session:
        return list(list_issues(session=session, start=period.start, end=period.end, include_open=True,
                                may_see_personal_data=True).head(5).itertuples())


def open_page(page, lang: str, title_key: str, phone: bool) -> None:
    title = translate(lang, title_key)
    if phone:  # the menu is behind the sidebar's button; choosing a page folds the sidebar again
        # (static/gongzhi-sidebar.js does, once the page has loaded it: a busy machine loads it late)
        page.wait_for_function("() => window.gongzhiSidebar === true", timeout=TIMEOUT_MS)
        page.get_by_test_id("stExpandSidebarButton").click()
        page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click()
        page.locator("h1").filter(has_text=title).wait_for(timeout=TIMEOUT_MS)
        wait_for_app(page)
    else:
        open_from_menu(page, title)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")


def sidebar_folded(page) -> bool:
    """The sidebar lies off-screen (or is gone): nothing of it covers the page."""
    return page.evaluate("""() => {
        const bar = document.querySelector("[data-testid='stSidebar']");
        if (!bar) { return true; }
        const box = bar.getBoundingClientRect();
        return box.right <= 1 || box.width <= 1 || bar.getAttribute("aria-expanded") === "false";
    }""")


def test_issue_list_and_map_fit_the_screen(app_server, screen):
    name, lang, page = screen
    phone = name == "phone"
    sign_in(page, app_server.url, "representative", lang=lang)
    open_page(page, lang, "nav.issues", phone)
    if phone:
        page.wait_for_function("""() => { const bar = document.querySelector("[data-testid='stSidebar']");
            return !bar || bar.getBoundingClientRect().right <= 1 || bar.getAttribute("aria-expanded") === "false"; }""",
                               timeout=TIMEOUT_MS)
        assert sidebar_folded(page)

    newest = newest_issues(app_server)
    if phone:
        cards = page.locator(".st-key-issue_cards button")
        cards.first.wait_for(timeout=TIMEOUT_MS)
        assert page.locator(".st-key-issue_table").is_hidden()
        for card, issue in zip(cards.all()[:5], newest, strict=True):
            text = card.inner_text()
            assert f"#{issue.id}" in text and issue.title in text
            assert translate(lang, f"state.{issue.state}") in text
            box = card.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= SCREENS[name]["width"]
        # A tap opens that issue below.
        cards.nth(2).click()
        page.locator("[data-testid='stMain'] h3").filter(has_text=f"#{newest[2].id} ").wait_for(timeout=TIMEOUT_MS)
    else:
        table = page.locator(".st-key-issue_table [data-testid='stDataFrame']")
        table.locator("[role='gridcell']").first.wait_for(state="attached", timeout=TIMEOUT_MS)
        # The canvas table keeps an accessible copy of its headers, in the order drawn: number,
        # title and stage come first, and the table is wider than the widths given to them, so
        # none of them is off-screen.
        headers = [text.strip() for text in table.locator("[role='columnheader']").all_inner_texts()]
        assert headers[:3] == [translate(lang, f"issues.col_{c}") for c in ("id", "title", "state")], headers
        assert table.bounding_box()["width"] >= ID_WIDTH_PX + TITLE_WIDTH_PX + STATE_WIDTH_PX
    no_sideways_scroll(page)
    save_screenshot(page, f"{name}_issues_{lang}")

    open_page(page, lang, "nav.grid_map", phone)
    frame = frame_with(page, "path.gongzhi-grid")
    frame.wait_for_function("document.querySelectorAll('.gongzhi-grid-label').length > 0", timeout=TIMEOUT_MS)
    layout = map_layout(frame)
    width = layout["outline"]["right"] - layout["outline"]["left"]
    height = layout["outline"]["bottom"] - layout["outline"]["top"]
    shorter = min(layout["container"]["width"], layout["container"]["height"])
    assert max(width, height) >= shorter / 2, layout
    # Fitted, not merely large enough: the grids reach across most of one side of the frame.
    assert max(width / layout["container"]["width"], height / layout["container"]["height"]) >= 0.8, layout
    assert layout["covered"] == [], layout
    assert layout["controls_over_grids"] == 0, layout
    assert layout["legend_open"] is (layout["container"]["width"] >= LEGEND_OPEN_FROM_PX)
    no_sideways_scroll(page)
    save_screenshot(page, f"{name}_map_{lang}")
    # Opened, the legend gets room of its own: the map is fitted again around it.
    frame.locator(".gongzhi-legend summary").click()
    frame.wait_for_function(f"document.querySelector('.gongzhi-legend').open === {str(not layout['legend_open']).lower()}")
    opened = map_layout(frame)
    assert opened["controls_over_grids"] == 0 and opened["covered"] == [], opened
    save_screenshot(page, f"{name}_map_legend_{lang}")


def map_layout(frame) -> dict:
    """Where the grids' outline, their names, the markers and the controls lie in the map's frame,
    once the map has settled: its style sheets and fonts loaded (the controls' sizes depend on
    them, and the map is fitted again when they change), then its view the same at two looks in a row."""
    frame.wait_for_function("""() => document.fonts.status === "loaded"
        && [...document.querySelectorAll("link[rel='stylesheet']")].every((link) => link.sheet !== null)""",
                            timeout=TIMEOUT_MS)
    frame.evaluate("window.__lastView = null")
    frame.wait_for_function("""() => {
        const now = JSON.stringify([window.map.getCenter(), window.map.getZoom()]);
        const same = window.__lastView === now; window.__lastView = now; return same;
    }""", polling=300, timeout=TIMEOUT_MS)
    layout = frame.evaluate("""() => {
        const rect = (e) => e.getBoundingClientRect();
        const container = rect(window.map.getContainer());
        const grids = [...document.querySelectorAll("path.gongzhi-grid")].map(rect);
        const outline = {left: Math.min(...grids.map(r => r.left)), right: Math.max(...grids.map(r => r.right)),
                         top: Math.min(...grids.map(r => r.top)), bottom: Math.max(...grids.map(r => r.bottom))};
        const paneZ = (e) => Number(getComputedStyle(e.closest(".leaflet-pane")).zIndex);
        const meets = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        const markers = [...document.querySelectorAll(".marker-cluster, path.gongzhi-issue, path.gongzhi-event, path.gongzhi-facility")];
        const covered = [...document.querySelectorAll(".gongzhi-grid-label")].filter((label) => {
            const box = rect(label);
            return markers.some((m) => meets(rect(m), box) && paneZ(m) >= paneZ(label));
        }).map((label) => label.textContent);
        const controls = [...document.querySelectorAll(".gongzhi-legend, .leaflet-control-layers")].map(rect);
        return {container: {width: container.width, height: container.height}, outline,
                covered, labels: document.querySelectorAll(".gongzhi-grid-label").length,
                overlapping_markers: markers.filter((m) => [...document.querySelectorAll(".gongzhi-grid-label")]
                    .some((label) => meets(rect(m), rect(label)))).length,
                controls_over_grids: controls.filter((c) => meets(c, outline)).length,
                legend_open: document.querySelector(".gongzhi-legend").open};
    }""")
    return layout
