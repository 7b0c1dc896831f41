"""The map's basemaps and point layers, rendered to HTML without Streamlit on the demo community:
with every layer on it still loads only local assets; the issue layer holds exactly the issues
the database says (finished ones only on request), coloured by state; facilities and upcoming
events are all there; every text is escaped; on AMap tiles every drawn position is in GCJ-02,
and a Tianditu basemap without a key falls back to no basemap with a visible note."""

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from shapely.geometry import Point, shape
from shapely.ops import unary_union
from sqlalchemy import select

from components.filters import period_bounds
from components.grid_map import (
    EVENT_CLASS,
    FACILITY_CLASS,
    ISSUES_LAYER_CLASS,
    STATE_COLOURS,
    MapLayers,
    build_grid_map,
    selection_layer,
)
from components.page_setup import PageContext
from gongzhi import i18n
from gongzhi.clock import now, today
from gongzhi.coords import wgs84_to_gcj02
from gongzhi.db import get_engine, read_session
from gongzhi.domain import CLOSED_STATES, FacilityKind
from gongzhi.escape import escape_text
from gongzhi.models import Area, Event, Facility, Issue, Person
from gongzhi.permissions import Actor, Role
from gongzhi.queries.events import upcoming_events
from gongzhi.queries.facilities import facilities
from gongzhi.queries.grid_metrics import GridShape, grid_metrics, grid_shapes
from gongzhi.queries.issues import issue_points
from tests.components.grid_map_html import grid_features, label_points

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EVIL = "<img src=x onerror=alert(1)>`${x}`"
FINISHED = {state.value for state in CLOSED_STATES}


def _context(role: Role = Role.COMMITTEE) -> PageContext:
    return PageContext(lang="en", actor=Actor(name="秘书", role=role), revision=0, database_url="", empty=False)


@pytest.fixture(autouse=True)
def _no_basemap_configured(monkeypatch):
    for name in ("GONGZHI_BASEMAP", "GONGZHI_TILE_URL", "GONGZHI_TILE_ATTRIBUTION", "GONGZHI_TIANDITU_KEY"):
        monkeypatch.delenv(name, raising=False)


def _map_inputs(url: str, *, include_closed: bool = False):
    period = period_bounds("period_12m", on=today())
    with read_session(get_engine(url)) as session:
        metrics = grid_metrics(session=session, start=period.start, end=period.end)
        shapes = grid_shapes(session=session)
        layers = MapLayers(
            issues=issue_points(session=session, start=period.start, end=period.end, include_closed=include_closed),
            facilities=facilities(session=session), events=upcoming_events(session=session, limit=200))
    return metrics, shapes, layers


def _render(url: str, *, role: Role = Role.COMMITTEE, include_closed: bool = False) -> tuple[object, str]:
    metrics, shapes, layers = _map_inputs(url, include_closed=include_closed)
    m = build_grid_map(_context(role), metrics, shapes, "open_issues", layers)
    return m, m.get_root().render()


def _point_layers(html: str) -> dict[str, tuple[dict, list[dict]]]:
    """css class -> (colour table, features) of every point layer, read back from the script."""
    decoder = json.JSONDecoder()
    layers = {}
    for match in re.finditer(r"var colours = ", html):
        colours, end = decoder.raw_decode(html, match.end())
        start = html.index("L.geoJson(", end) + len("L.geoJson(")
        data, after = decoder.raw_decode(html, start)
        css_class = re.search(r'className: "([\w-]+)"', html[after:]).group(1)
        layers[css_class] = (colours, data["features"])
    return layers


def _grid_features(html: str) -> list[dict]:
    return grid_features(html)


def _tile_urls(html: str) -> list[str]:
    return [json.loads(url) for url in re.findall(r"L\.tileLayer\(\s*(\"[^\"]+\")", html)]


def _issue_id(feature: dict) -> int:
    return int(re.match(r"#(\d+) ", feature["properties"]["tip"]).group(1))


def _expected_issue_ids(url: str, *, include_closed: bool) -> set[int]:
    """Straight from the table: open issues, and (on request) finished ones reported in the period."""
    period = period_bounds("period_12m", on=today())
    start = datetime.combine(period.start, datetime.min.time())
    end = datetime.combine(period.end + timedelta(days=1), datetime.min.time())
    with read_session(get_engine(url)) as session:
        rows = session.execute(select(Issue.id, Issue.state, Issue.reported_at).where(Issue.deleted_at.is_(None))).all()
    return {issue_id for issue_id, state, reported in rows if reported < end and (
        state not in FINISHED or (include_closed and reported >= start))}


def test_with_every_layer_on_only_local_assets_are_loaded(demo_url):
    m, html = _render(demo_url, include_closed=True)
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]*)\"", html)
    styles = re.findall(r"<link[^>]*\bhref=\"([^\"]*)\"", html)
    assert scripts == ["/app/static/leaflet/leaflet.js", "/app/static/leaflet.markercluster/leaflet.markercluster.js"]
    assert styles == ["/app/static/leaflet/leaflet.css", "/app/static/leaflet.markercluster/MarkerCluster.css",
                      "/app/static/leaflet.markercluster/MarkerCluster.Default.css"]
    assert "http://" not in html and "https://" not in html
    for word in ("cdn", "jsdelivr", "unpkg", "d3js", "cloudflare", "jquery", "bootstrap", "fontawesome"):
        assert word not in html.lower(), word
    # streamlit-folium loads what each element lists (not what the HTML says): all local, all on disk.
    links = set()
    stack = [m]
    while stack:
        element = stack.pop()
        links.update(url for attribute in ("default_js", "default_css") for _, url in getattr(element, attribute, []))
        stack.extend(element._children.values())
    assert len(links) == 5
    for url in links:
        assert url.startswith("/app/static/")
        assert (PROJECT_ROOT / "static" / url.removeprefix("/app/static/")).is_file(), url


def test_each_layer_is_in_the_layer_switch_and_the_grids_are_not(demo_url):
    _, html = _render(demo_url)
    overlays = json.loads(re.sub(r"\s*:\s*\w+,", ": 0,", re.search(r"overlays :\s*(\{.*?\}),\n", html, re.S)
                                 .group(1)).replace(",\n                }", "}").replace(",}", "}"))
    names = [re.sub(r"<[^>]+>", "", name) for name in overlays]
    assert names == ["Issues", "Facilities", "Upcoming events"]
    assert "L.control.layers" in html


@pytest.mark.parametrize("include_closed", [False, True])
def test_issue_layer_holds_exactly_the_issues_of_the_period(demo_url, include_closed):
    _, html = _render(demo_url, include_closed=include_closed)
    colours, features = _point_layers(html)[ISSUES_LAYER_CLASS]
    shown = [_issue_id(f) for f in features]
    expected = _expected_issue_ids(demo_url, include_closed=include_closed)
    assert len(shown) == len(set(shown)) == len(expected)
    assert set(shown) == expected
    states = {f["properties"]["k"] for f in features}
    assert (states & FINISHED) == (FINISHED if include_closed else set())


def test_issue_points_are_coloured_by_their_state_and_sit_where_the_issue_is(demo_url):
    _, html = _render(demo_url, include_closed=True)
    colours, features = _point_layers(html)[ISSUES_LAYER_CLASS]
    with read_session(get_engine(demo_url)) as session:
        stored = {i.id: i for i in session.execute(select(Issue)).scalars()}
    for feature in features:
        issue = stored[_issue_id(feature)]
        assert feature["properties"]["k"] == issue.state
        assert colours[issue.state] == STATE_COLOURS[issue.state]
        assert feature["geometry"]["coordinates"] == [round(issue.lon, 6), round(issue.lat, 6)]
        assert i18n.translate("en", f"state.{issue.state}") in feature["properties"]["tip"]
    assert len(set(colours.values())) == len(colours) == 8  # every state its own colour
    assert colours["reported"] == "#dc2626" and colours["closed"] == "#16a34a"


def test_facility_and_event_layers_hold_every_facility_and_upcoming_event(demo_url):
    _, html = _render(demo_url)
    layers = _point_layers(html)
    with read_session(get_engine(demo_url)) as session:
        stored = session.execute(select(Facility).where(Facility.deleted_at.is_(None))).scalars().all()
        events = session.execute(select(Event).where(Event.deleted_at.is_(None), Event.starts_at >= now())).scalars().all()
        shapes = {s.grid_id: s for s in grid_shapes(session=session)}
    _, facility_features = layers[FACILITY_CLASS]
    assert len(stored) >= 12 and len(facility_features) == len(stored)
    by_name = {f["properties"]["tip"].split("<br>")[0]: f for f in facility_features}
    for facility in stored:
        feature = by_name[escape_text(facility.name)]
        assert feature["geometry"]["coordinates"] == [facility.lon, facility.lat]
        assert feature["properties"]["tip"].endswith(i18n.translate("en", f"facility_kind.{facility.kind}"))
    _, event_features = layers[EVENT_CLASS]
    assert len(events) >= 1 and len(event_features) == len(events)
    # A grid's event at the grid's label point, a community-wide one in the middle of all grids.
    west, south, east, north = unary_union([shape(s.geometry) for s in shapes.values()]).bounds
    middle = (round((west + east) / 2, 6), round((south + north) / 2, 6))
    expected = sorted((shapes[e.grid_id].label_lon, shapes[e.grid_id].label_lat) if e.grid_id is not None else middle
                      for e in events)
    assert sorted(tuple(f["geometry"]["coordinates"]) for f in event_features) == expected


def test_facilities_of_the_demo_lie_inside_their_grid_and_cover_every_kind(demo_url):
    with read_session(get_engine(demo_url)) as session:
        grids = {a.id: shape(json.loads(a.boundary)) for a in session.execute(
            select(Area).where(Area.level == "grid")).scalars()}
        stored = facilities(session=session)
    assert set(stored["kind"]) == {kind.value for kind in FacilityKind}
    assert stored["grid_id"].nunique() == len(grids)
    for row in stored.itertuples():
        assert grids[row.grid_id].contains(Point(row.lon, row.lat)), row.name


def test_every_text_on_the_point_layers_is_escaped():
    metrics = pd.DataFrame({"grid_id": [1], "code": ["G1"], "name": ["第一网格"], "population": [100],
                            "households": [40], "leader": [None], "open_issues": [1], "overdue": [0],
                            "participation_rate": [0.1], "volunteers_per_1000": [1.0]})
    shapes = [GridShape(grid_id=1, code="G1", name="第一网格", label_lon=113.876, label_lat=22.578, geometry={
        "type": "Polygon", "coordinates": [[[113.87, 22.57], [113.88, 22.57], [113.88, 22.58], [113.87, 22.57]]]})]
    layers = MapLayers(
        issues=pd.DataFrame([{"id": 7, "title": EVIL, "state": "reported", "category": "noise", "grid_id": 1,
                              "lon": 113.875, "lat": 22.575}]),
        facilities=pd.DataFrame([{"id": 1, "name": EVIL, "kind": "library", "grid_id": 1, "lon": 113.876,
                                  "lat": 22.576}]),
        events=pd.DataFrame([{"id": 1, "title": EVIL, "kind": "festival", "starts_at": datetime(2030, 1, 1, 9),
                              "place": EVIL, "grid_id": 1, "grid_name": "第一网格"}]))
    html = build_grid_map(_context(), metrics, shapes, "open_issues", layers).get_root().render()
    # Neither the payload nor any piece of it that could run arrives unescaped, as text or in JSON
    # (folium's own templates use backticks, so those are checked in the layers' data below).
    for raw in (EVIL, "<img", "onerror=alert(1)>", "${x}"):
        assert raw not in html and json.dumps(raw)[1:-1] not in html, raw
    escaped = escape_text(EVIL)
    assert "&lt;img src=x onerror=alert(1)&gt;&#x60;&#x24;{x}&#x60;" == escaped
    tips = [f["properties"]["tip"] for _, features in _point_layers(html).values() for f in features]
    assert not any("`" in tip or "$" in tip or "<img" in tip for tip in tips)
    assert tips == [f"#7 {escaped}<br>Reported · Noise", f"{escaped}<br>Library",
                    f"{escaped}<br>2030-01-01 09:00 Festival<br>{escaped}"]


def test_the_public_sees_no_person_name_on_the_map(demo_url):
    _, html = _render(demo_url, role=Role.PUBLIC, include_closed=True)
    with read_session(get_engine(demo_url)) as session:
        names = set(session.execute(select(Person.name)).scalars())
    # Names may reach the page as UTF-8 text or inside JSON as \\u escapes: look for both.
    assert len(names) > 1000
    assert not [name for name in names if name in html or json.dumps(name)[1:-1] in html]


def test_without_a_provider_geometries_are_drawn_as_stored(demo_url):
    _, shapes, _ = _map_inputs(demo_url)
    _, html = _render(demo_url)
    first = next(f for f in _grid_features(html) if f["id"] == shapes[0].grid_id)
    assert first["geometry"] == shapes[0].geometry
    assert "L.tileLayer" not in html


def test_on_amap_tiles_every_drawn_position_is_gcj02(demo_url, monkeypatch):
    monkeypatch.setenv("GONGZHI_BASEMAP", "amap")
    metrics, shapes, layers = _map_inputs(demo_url)
    html = build_grid_map(_context(), metrics, shapes, "open_issues", layers).get_root().render()
    assert [url.split("/appmaptile")[0] for url in _tile_urls(html)] == ["https://webrd0{s}.is.autonavi.com"]
    assert json.dumps(escape_text("© 高德地图 AutoNavi"))[1:-1] in html
    stored = shapes[0].geometry["coordinates"][0]
    drawn = next(f for f in _grid_features(html) if f["id"] == shapes[0].grid_id)["geometry"]["coordinates"][0]
    assert len(drawn) == len(stored)
    for (lon, lat), moved in zip(stored, drawn, strict=True):
        # Sent with 6 decimals (~0.1 m), like every position on the map.
        assert moved == pytest.approx(list(wgs84_to_gcj02(lon, lat)), abs=6e-7)
    assert drawn[0][0] - stored[0][0] > 0.004  # ~0.005° east in Shenzhen: a visible ~500 m
    first_label = label_points(html)[shapes[0].grid_id]
    expected = wgs84_to_gcj02(shapes[0].label_lon, shapes[0].label_lat)
    assert first_label == pytest.approx(expected, abs=1e-6)
    issue = layers.issues.iloc[0]
    feature = next(f for f in _point_layers(html)[ISSUES_LAYER_CLASS][1] if _issue_id(f) == issue["id"])
    assert feature["geometry"]["coordinates"] == pytest.approx(list(wgs84_to_gcj02(issue["lon"], issue["lat"])), abs=1e-6)
    outline = selection_layer(shapes, shapes[0].grid_id)
    data = next(iter(outline._children.values())).data  # folium keeps a single feature as a collection
    selected = data["features"][0]["geometry"]["coordinates"][0][0]
    assert selected == pytest.approx(list(wgs84_to_gcj02(*stored[0])), abs=1e-12)


def test_tianditu_without_a_key_falls_back_to_no_basemap_with_a_note(demo_url, monkeypatch):
    monkeypatch.setenv("GONGZHI_BASEMAP", "tianditu")
    _, html = _render(demo_url)
    assert "L.tileLayer" not in html
    note = json.loads(re.search(r'"gongzhi-legend gongzhi-map-note"\);\s*div\.innerHTML = (".*?");\n', html).group(1))
    assert note == escape_text(i18n.translate("en", "map.basemap_needs_tianditu_key"))
    assert "GONGZHI_TIANDITU_KEY" in note


def test_tianditu_with_a_key_draws_streets_and_labels_in_wgs84(demo_url, monkeypatch):
    monkeypatch.setenv("GONGZHI_BASEMAP", "tianditu")
    monkeypatch.setenv("GONGZHI_TIANDITU_KEY", "abc123")
    _, shapes, _ = _map_inputs(demo_url)
    _, html = _render(demo_url)
    tiles = _tile_urls(html)
    assert [re.search(r"LAYER=(\w+)", url).group(1) for url in tiles] == ["vec", "cva"]
    assert all("tk=abc123" in url and "TILEMATRIXSET=w" in url for url in tiles)
    assert "gongzhi-map-note" not in html
    first = next(f for f in _grid_features(html) if f["id"] == shapes[0].grid_id)
    assert first["geometry"] == shapes[0].geometry  # Tianditu's CGCS2000 is WGS-84 for a map


def test_a_tile_url_alone_still_means_an_osm_style_basemap(monkeypatch, demo_url):
    monkeypatch.setenv("GONGZHI_TILE_URL", "/app/static/tiles/{z}/{x}/{y}.png")
    _, html = _render(demo_url)
    assert _tile_urls(html) == ["/app/static/tiles/{z}/{x}/{y}.png"]
    assert "http://" not in html and "https://" not in html
