"""Clicking a grid on the map selects it across the app, in the real app and a real Chromium:
the map page's panel names the grid, and the issues page opens filtered to it (sidebar filter,
and every listed issue in that grid, as many as the core query lists for it)."""

import pytest
from sqlalchemy import select

from components.filters import period_bounds
from components.grid_map import MAP_HEIGHT
from gongzhi.clock import today
from gongzhi.db import get_engine, read_session
from gongzhi.domain import AreaLevel
from gongzhi.i18n import translate
from gongzhi.models import Area
from gongzhi.queries.issues import list_issues
from tests.browser.helpers import (
    IDLE_SINCE_JS,
    TIMEOUT_MS,
    bare_spot,
    frame_with,
    open_from_menu,
    rerun_by,
    runs_requested,
    save_screenshot,
    sign_in,
    wait_for_map_still,
    wait_until_drawn,
    when_idle,
)

pytestmark = pytest.mark.browser
GRID_CODE_SUFFIX = "G05"


def _grid_ending_with(app_server, suffix: str) -> Area:
    with read_session(get_engine(app_server.database_url)) as session:
        grids = session.execute(select(Area).where(
            Area.level == AreaLevel.GRID, Area.deleted_at.is_(None), Area.code.endswith(suffix))).scalars().all()
        assert len(grids) == 1, [grid.code for grid in grids]
        session.expunge(grids[0])
        return grids[0]


def _issues_listed_by_default(app_server, grid_id: int):
    """What the issues page lists for the grid with its default filters (last 12 months, every
    state and category, open issues kept), as the core query returns it."""
    period = period_bounds("period_12m", on=today())
    with read_session(get_engine(app_server.database_url)) as session:
        return list_issues(session=session, grid_id=grid_id, start=period.start, end=period.end,
                           include_open=True, may_see_personal_data=True)


def _column_cells(page, table, header: str) -> list[str]:
    """The texts of one column in the rows the data frame has drawn (it is virtualised, so only
    the first rows on screen). The canvas grid keeps an accessible table with the cell texts."""
    headers = table.locator("[role='columnheader']").all_inner_texts()
    column = [text.strip() for text in headers].index(header)
    cells = table.locator(f"[role='gridcell'][aria-colindex='{column + 1}']")
    return [text.strip() for text in cells.all_inner_texts()]


def test_clicking_a_grid_filters_the_issues_page(app_server, page):
    grid = _grid_ending_with(app_server, GRID_CODE_SUFFIX)
    expected = _issues_listed_by_default(app_server, grid.id)
    assert len(expected) > 0  # otherwise the list check below would prove nothing

    sign_in(page.page, app_server.url, "committee")
    open_from_menu(page.page, translate("en", "nav.grid_map"))
    frame = frame_with(page.page, "path.gongzhi-grid")
    wait_until_drawn(page.page)
    polygon = frame.locator(f"path.gongzhi-grid[data-grid-code='{grid.code}']")
    assert polygon.count() == 1
    # The grid's middle carries its label and issue markers: click where the polygon itself is.
    # The map reaches below the window (900 px): the very first click must select the grid. It
    # used to be lost: Leaflet focused the map on the press, the page scrolled the whole map into
    # view, and the release landed elsewhere.
    spot = bare_spot(polygon)
    frame_top = frame.frame_element().bounding_box()["y"]
    assert frame_top + MAP_HEIGHT > page.page.viewport_size["height"]
    panel_title = page.page.locator("[data-testid='stMain'] h3").filter(
        has_text=translate("en", "map.panel_title", name=grid.name, code=grid.code))
    with rerun_by(page.page):  # st_folium sends the click 250 ms after it
        polygon.click(position=spot, force=True)
        assert frame.evaluate("window.__GLOBAL_DATA__.last_object_clicked_count") > 0
    panel_title.wait_for(timeout=TIMEOUT_MS)
    assert panel_title.count() == 1
    save_screenshot(page.page, "map_click_selected")

    open_from_menu(page.page, translate("en", "nav.issues"))
    sidebar_grid = page.page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
        has_text=translate("en", "common.grid"))
    # The chosen option is shown as the value of the select box's input.
    assert sidebar_grid.locator("input").input_value() == grid.name

    table = page.page.locator("[data-testid='stDataFrame']").first
    table.locator("[role='gridcell']").first.wait_for(state="attached", timeout=TIMEOUT_MS)
    grid_cells = _column_cells(page.page, table, translate("en", "issues.col_grid"))
    id_cells = _column_cells(page.page, table, translate("en", "issues.col_id"))
    assert grid_cells and set(grid_cells) == {grid.name}
    # The first rows drawn are the newest issues of the grid, in the core query's order.
    assert [int(text) for text in id_cells] == [int(i) for i in expected["id"][:len(id_cells)]]
    # The accessible table counts all rows (header included), drawn or not.
    assert int(table.locator("[role='grid']").get_attribute("aria-rowcount")) == len(expected) + 1
    save_screenshot(page.page, "map_click_issues")
    assert page.external_requests() == []


def test_panning_and_zooming_do_not_rerun_the_app(app_server, page):
    """The map returns only a clicked grid (and a click count) to the app: dragging and zooming
    it ask the app for no run over its websocket, so the script does not run again."""
    sign_in(page.page, app_server.url, "committee")
    open_from_menu(page.page, translate("en", "nav.grid_map"))
    frame = frame_with(page.page, "path.gongzhi-grid")
    wait_until_drawn(page.page)  # the map's first value (sent as it is made) and its run are over
    wait_for_map_still(frame)
    before = runs_requested(page.page)
    view = frame.evaluate("[window.map.getCenter().lat, window.map.getCenter().lng, window.map.getZoom()]")

    box = frame.frame_element().bounding_box()
    x, y = box["x"] + box["width"] * 0.4, box["y"] + 120
    page.page.mouse.move(x, y)
    page.page.mouse.down()
    page.page.mouse.move(x + 120, y + 60, steps=8)
    page.page.mouse.up()
    page.page.mouse.wheel(0, -400)
    frame.wait_for_function(f"() => window.map.getZoom() > {view[2]}", timeout=TIMEOUT_MS)  # the zoom is over
    # No condition says "nothing was sent": st_folium decides 250 ms after the map's last move
    # (a debounce timer in the map's frame) and is silent when it sends nothing. So: once the map
    # stands still, a timer of four times that delay set in the same frame fires after st_folium's
    # (a page runs its timers in the order they fall due, however busy the machine); anything it
    # sent has then been posted to the app's page, which sends it on before it is next idle.
    wait_for_map_still(frame)
    frame.evaluate("() => new Promise((resolve) => setTimeout(resolve, 1000))")
    when_idle(page.page, IDLE_SINCE_JS)

    moved = frame.evaluate("[window.map.getCenter().lat, window.map.getCenter().lng, window.map.getZoom()]")
    assert moved[:2] != view[:2] and moved[2] > view[2]  # the map did pan and zoom
    assert runs_requested(page.page) == before
