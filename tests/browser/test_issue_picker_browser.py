"""The issue picker and the detail below it name the same issue, whatever route chose it: a grid
filter changed in the sidebar, a list filter changed, another page and back, a grid clicked on the
map, a deep link `/issues?issue=N`. In a real Chromium: what the select box shows is what the
browser keeps, not what the server computed.

The bug this guards against: the picker has a fixed key, so its identity survives a change of its
options. When a filter removed the chosen issue, the server fell back to the first listed issue
without telling the browser, which kept showing the issue it had (e.g. "#400" over the detail of
#385)."""

import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from gongzhi.db import get_engine, read_session
from gongzhi.domain import AreaLevel
from gongzhi.i18n import translate
from gongzhi.models import Area, Issue
from tests.browser.helpers import (
    TIMEOUT_MS,
    bare_spot,
    choose,
    frame_with,
    open_from_menu,
    save_screenshot,
    sign_in,
    wait_for_app,
)

pytestmark = pytest.mark.browser
NUMBER = re.compile(r"#(\d+)")


def _grids(app_server) -> list[Area]:
    with read_session(get_engine(app_server.database_url)) as session:
        grids = session.execute(select(Area).where(Area.level == AreaLevel.GRID, Area.deleted_at.is_(None))
                                .order_by(Area.code)).scalars().all()
        for grid in grids:
            session.expunge(grid)
        return list(grids)


def _oldest_issue(app_server) -> Issue:
    with read_session(get_engine(app_server.database_url)) as session:
        issue = session.execute(select(Issue).where(Issue.deleted_at.is_(None)).order_by(Issue.id)).scalars().first()
        session.expunge(issue)
        return issue


def _picker(page):
    return page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").filter(
        has_text=translate("en", "issues.pick")).first


def picked_and_shown(page) -> tuple[int, int]:
    """The issue number the picker shows, and the one the detail's heading names."""
    picked = _picker(page).locator("input").input_value()
    heading = page.locator("[data-testid='stMain'] h3").filter(has_text=NUMBER).first.inner_text()
    return int(NUMBER.search(picked).group(1)), int(NUMBER.search(heading).group(1))


# The issue number the picker shows and the one the detail's heading names agree (both found as
# `picked_and_shown` finds them).
AGREE_JS = """(label) => {
  const number = (text) => { const m = /#(\\d+)/.exec(text || ''); return m ? m[1] : null; };
  const box = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stSelectbox"]')]
    .find((b) => b.innerText.includes(label));
  const heading = [...document.querySelectorAll('[data-testid="stMain"] h3')].find((h) => number(h.innerText) !== null);
  const picked = box && number(box.querySelector('input').value);
  return picked !== null && heading !== undefined && picked === number(heading.innerText);
}"""


def assert_agree(page, route: str) -> int:
    """Once the app has run, the two agree (the browser applies a value the server sets a moment
    after it draws the page); a picker left on a stale issue never does."""
    wait_for_app(page)
    try:
        page.wait_for_function(AGREE_JS, arg=translate("en", "issues.pick"), timeout=TIMEOUT_MS)
    except PlaywrightError:
        pass  # the message below says what the page shows
    picked, shown = picked_and_shown(page)
    assert picked == shown, f"after {route}: the picker shows #{picked}, the detail #{shown}"
    return shown


def test_picker_and_detail_agree_after_every_route(app_server, page):
    grids = _grids(app_server)
    sign_in(page.page, app_server.url, "committee")
    issues_title = translate("en", "nav.issues")
    open_from_menu(page.page, issues_title)
    first = assert_agree(page.page, "opening the page")

    # Filter change: the grid filter in the sidebar, to a grid the first listed issue is not in.
    sidebar = page.page.locator("[data-testid='stSidebar']")
    with read_session(get_engine(app_server.database_url)) as session:
        first_grid = session.get(Issue, first).grid_id
    other = next(grid for grid in grids if grid.id != first_grid)
    choose(page.page, sidebar, translate("en", "common.grid"), other.name)
    shown = assert_agree(page.page, "a grid filter change")
    assert shown != first
    save_screenshot(page.page, "picker_after_grid_filter")

    # Filter change in the list's own filters: only issues in grid review.
    states = page.page.locator("[data-testid='stMultiSelect']").filter(
        has_text=translate("en", "issues.filter_states")).first
    states.get_by_role("combobox").click()
    states.get_by_role("combobox").fill(translate("en", "state.grid_review"))
    page.page.get_by_role("option", name=translate("en", "state.grid_review"), exact=True).first.click()
    page.page.keyboard.press("Escape")
    assert_agree(page.page, "a state filter change")

    # Page change: away to the map and back.
    open_from_menu(page.page, translate("en", "nav.grid_map"))
    open_from_menu(page.page, issues_title)
    assert_agree(page.page, "another page and back")

    # Map click: another grid, then the issues page.
    open_from_menu(page.page, translate("en", "nav.grid_map"))
    target = next(grid for grid in grids if grid.id not in (other.id, first_grid))
    frame = frame_with(page.page, "path.gongzhi-grid")
    polygon = frame.locator(f"path.gongzhi-grid[data-grid-code='{target.code}']")
    polygon.click(position=bare_spot(polygon), force=True)
    page.page.locator("[data-testid='stMain'] h3").filter(has_text=target.code).wait_for(timeout=TIMEOUT_MS)
    open_from_menu(page.page, issues_title)
    assert_agree(page.page, "a map click")
    assert page.page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
        has_text=translate("en", "common.grid")).locator("input").input_value() == target.name

    # Deep link: an issue by number, also one the current filters do not list.
    oldest = _oldest_issue(app_server)
    page.page.goto(f"{app_server.url}/issues?issue={oldest.id}&lang=en")
    page.page.locator("h1").filter(has_text=issues_title).wait_for(timeout=TIMEOUT_MS)
    assert assert_agree(page.page, "a deep link") == oldest.id
    save_screenshot(page.page, "picker_after_deep_link")
