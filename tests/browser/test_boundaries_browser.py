"""Drawing a grid's boundary in Chromium: the Leaflet.draw toolbar (served from static/) draws a
polygon, the page checks it and saves it as the grid's boundary, and the grid map then draws the
new shape. No request leaves 127.0.0.1."""

import json

import pytest
from shapely.geometry import shape
from sqlalchemy import select

from gongzhi.db import get_engine, read_session
from gongzhi.domain import AreaLevel
from gongzhi.i18n import translate
from gongzhi.models import Area
from tests.browser.helpers import (
    TIMEOUT_MS,
    frame_with,
    open_from_menu,
    rerun_by,
    save_screenshot,
    sign_in,
    wait_for_app,
    wait_for_map_still,
)

pytestmark = pytest.mark.browser


def _draw_frame(page):
    return frame_with(page, ".leaflet-draw-draw-polygon")


# Leaflet.draw's polygon tool in the map's frame: how many corners it holds, and whether it takes
# the next press (after each corner it ignores presses for 50 ms, see _enableNewMarkers). Found
# through the Draw control folium put on the page; its handler is Leaflet.draw's own.
POLYGON_TOOL_JS = """(corners) => {
  const control = Object.values(window).find((value) => value instanceof L.Control.Draw);
  const tool = control._toolbars.draw._modes.polygon.handler;
  return tool.enabled() && tool._markers.length === corners && !tool._disableMarkers;
}"""


def _grid(app_server, code=None) -> Area:
    with read_session(get_engine(app_server.database_url)) as session:
        query = select(Area).where(Area.level == AreaLevel.GRID).order_by(Area.code)
        return session.execute(query.where(Area.code == code) if code else query).scalars().first()


def test_a_drawn_polygon_is_saved_as_the_grids_boundary(app_server, page):
    grid = _grid(app_server)
    sign_in(page.page, app_server.url, "committee")
    open_from_menu(page.page, translate("en", "nav.boundaries"))
    page.page.get_by_role("tab", name=translate("en", "boundaries.tab_draw")).click()
    wait_for_app(page.page)
    frame = _draw_frame(page.page)
    wait_for_map_still(frame)  # corners are placed by where the mouse is on the map: it must not move
    frame.locator(".leaflet-draw-draw-polygon").click()
    frame.wait_for_function(POLYGON_TOOL_JS, arg=0, timeout=TIMEOUT_MS)
    box = frame.locator(".leaflet-container").bounding_box()
    # A square in the middle of the map, closed by clicking the first corner again.
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    corners = [(cx - 60, cy - 60), (cx + 60, cy - 60), (cx + 60, cy + 60), (cx - 60, cy + 60)]
    for placed, (x, y) in enumerate(corners, start=1):
        page.page.mouse.click(x, y)
        frame.wait_for_function(POLYGON_TOOL_JS, arg=placed, timeout=TIMEOUT_MS)
    save = page.page.get_by_role("button", name=translate("en", "boundaries.save_drawn", grid=f"{grid.code} {grid.name}"))
    # Closing the square sends the drawing to the app (st_folium waits 250 ms after the last
    # change), which then offers to save it.
    with rerun_by(page.page):
        page.page.mouse.click(*corners[0])
    save.wait_for(timeout=TIMEOUT_MS)
    save_screenshot(page.page, "boundary_drawn")
    before = shape(json.loads(grid.boundary))
    with rerun_by(page.page):
        save.click()
    page.page.get_by_text(translate("en", "boundaries.saved", count=1)).wait_for(timeout=TIMEOUT_MS)
    after = shape(json.loads(_grid(app_server, grid.code).boundary))
    assert after.geom_type == "Polygon" and len(after.exterior.coords) == 5
    assert not after.equals(before) and after.is_valid and after.exterior.is_ccw

    open_from_menu(page.page, translate("en", "nav.grid_map"))
    frame_with(page.page, f"path.gongzhi-grid[data-grid-code='{grid.code}']")  # fails if the map never draws it
    save_screenshot(page.page, "boundary_on_grid_map")
    assert page.external_requests() == [], page.external_requests()
