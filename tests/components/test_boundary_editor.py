"""The boundary editor's maps load only vendored files (Leaflet and Leaflet.draw from static/),
and the drawing layer streamlit-folium returns becomes one geometry."""

import json
import re
from pathlib import Path

import branca
import folium
from folium.plugins import Draw

from components.boundary_editor import build_draw_map, drawn_geometry
from components.page_setup import PageContext
from gongzhi.permissions import Actor, Role

ROOT = Path(__file__).resolve().parents[2]
CTX = PageContext(lang="en", actor=Actor(name="秘书", role=Role.COMMITTEE), revision=0, database_url="", empty=False)


def _square(lon: float, lat: float, size: float = 0.003) -> list[list[float]]:
    return [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]


def _elements(element):
    yield element
    for child in element._children.values():
        yield from _elements(child)


GRIDS = [(1, "G1", "第一网格", json.dumps({"type": "Polygon", "coordinates": [_square(113.87, 22.57)]})),
         (2, "G2", "第二网格", None)]


def test_the_drawing_map_loads_leaflet_draw_from_this_server():
    m = build_draw_map(CTX, GRIDS, 1)
    html = m.get_root().render()
    links = [url for element in _elements(m) for attribute in ("default_js", "default_css")
             for _, url in getattr(element, attribute, [])]
    assert "/app/static/leaflet-draw/leaflet.draw.js" in links and "/app/static/leaflet-draw/leaflet.draw.css" in links
    assert all(url.startswith("/app/static/") for url in links), links
    assert "http://" not in html and "https://" not in html
    assert not any(isinstance(element, branca.colormap.ColorMap) for element in _elements(m))
    assert "cloudflare" in Draw.default_js[0][1]  # the class list, shared by every Draw, is left alone
    for name in ("leaflet.draw.js", "leaflet.draw.css", "images/spritesheet.svg", "MIT-LICENSE.md"):
        assert (ROOT / "static" / "leaflet-draw" / name).is_file(), name
    # The grid's current boundary is on the drawing layer, ready to edit (lat, lon order for Leaflet).
    polygons = [e for e in _elements(m) if isinstance(e, folium.Polygon)]
    assert len(polygons) == 1 and polygons[0].locations[0][0] == [22.57, 113.87]
    assert re.search(r"draw:drawstart", html)


def test_drawn_layer_becomes_one_geometry():
    first, second = _square(113.87, 22.57), _square(113.88, 22.57)
    feature = lambda ring: {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}  # noqa: E731
    assert drawn_geometry(None) is None
    assert drawn_geometry({"all_drawings": None}) is None
    assert drawn_geometry({"all_drawings": []}) is None
    assert drawn_geometry({"all_drawings": [feature(first)]}) == {"type": "Polygon", "coordinates": [first]}
    assert drawn_geometry({"all_drawings": [feature(first), feature(second)]}) == {
        "type": "MultiPolygon", "coordinates": [[first], [second]]}
