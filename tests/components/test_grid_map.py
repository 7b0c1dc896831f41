"""The folium map, rendered to HTML without Streamlit: it loads nothing from outside the server,
draws one feature per grid coloured in the order of the chosen figure, has a legend and
localized tooltips, marks polygons for the browser test, and shows user text only escaped.
The grid layer's data is read back with tests/components/grid_map_html.py."""

import copy
import json
import math
import re

import branca.colormap
import folium
import pandas as pd
import pytest

from components.grid_map import (
    GRID_CLASS,
    LABEL_MIN_PX,
    NO_DATA_COLOUR,
    SCALES,
    SELECTED_CLASS,
    TOOLTIP_FIELDS,
    build_grid_map,
    class_label,
    clicked_grid_id,
    colour_classes,
    format_metric,
    missing_boundaries_note,
    selection_layer,
)
from components.page_setup import PageContext
from gongzhi import i18n
from gongzhi.escape import escape_text
from gongzhi.permissions import Actor, Role
from gongzhi.queries.grid_metrics import METRICS, GridShape
from tests.components.grid_map_html import figures, fill_colours, grid_data, grid_features, label_html

EVIL_NAME = "<img src=x onerror=alert(1)>`${alert(2)}`\\\"'"
EVIL_CODE = "G`${alert(3)}`<b>"


def _context(lang: str = "en") -> PageContext:
    return PageContext(lang=lang, actor=Actor(name="秘书", role=Role.COMMITTEE), revision=0, database_url="",
                       empty=False)


def _square(lon: float, lat: float, size: float = 0.004) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size],
                                                [lon, lat + size], [lon, lat]]]}


def _grids(first_name: str = "第一网格", first_code: str = "G01") -> tuple[pd.DataFrame, list[GridShape]]:
    """Four grids side by side with distinct figures; the fourth has no population (no rates)."""
    names = [first_name, "第二网格", "第三网格", "第四网格"]
    codes = [first_code, "G02", "G03", "G04"]
    metrics = pd.DataFrame({
        "grid_id": [11, 12, 13, 14], "code": codes, "name": names,
        "population": [1200, 800, 500, 0], "households": [480, 300, 200, 0],
        "leader": ["王芳", "李强", None, "赵敏"],
        "open_issues": [9, 2, 0, 5], "overdue": [1, 0, 0, 3],
        "participation_rate": [0.12, 0.30, 0.05, float("nan")],
        "volunteers_per_1000": [12.5, 3.75, 20.0, float("nan")],
    })
    shapes = [GridShape(grid_id=gid, code=code, name=name, geometry=_square(121.0 + 0.004 * i, 31.0),
                        label_lon=121.002 + 0.004 * i, label_lat=31.002)
              for i, (gid, code, name) in enumerate(zip(metrics["grid_id"], codes, names, strict=True))]
    return metrics, shapes


def _render(metric: str = "open_issues", lang: str = "en", **kwargs) -> tuple[folium.Map, str]:
    metrics, shapes = _grids(**kwargs)
    m = build_grid_map(_context(lang), metrics, shapes, metric)
    return m, m.get_root().render()


def _features(html: str) -> list[dict]:
    return grid_features(html)


def _fill_colours(html: str) -> dict[int, str]:
    return fill_colours(html)


def _legend(html: str) -> str:
    return json.loads(re.search(r"div\.innerHTML = (\".*?\");\n", html).group(1))


def _elements(element):
    yield element
    for child in element._children.values():
        yield from _elements(child)


def test_every_asset_is_served_locally():
    m, html = _render()
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]*)\"", html)
    styles = re.findall(r"<link[^>]*\bhref=\"([^\"]*)\"", html)
    assert scripts == ["/app/static/leaflet/leaflet.js"]
    assert styles == ["/app/static/leaflet/leaflet.css"]
    assert "http://" not in html and "https://" not in html
    for word in ("cdn", "jsdelivr", "d3js", "cloudflare", "jquery", "bootstrap", "font-awesome", "fontawesome"):
        assert word not in html.lower(), word
    # streamlit-folium loads every element's default_js/default_css into its iframe, and adds d3
    # from CDNs for any branca colormap: the map must hold neither anything remote nor a colormap.
    links = [url for element in _elements(m) for attribute in ("default_js", "default_css")
             for _, url in getattr(element, attribute, [])]
    assert links and all(url.startswith("/app/static/") for url in links), links
    assert not any(isinstance(element, branca.colormap.ColorMap) for element in _elements(m))
    # The class-level CDN lists folium shares between maps are left alone.
    assert any("jsdelivr" in url for _, url in folium.Map.default_js)


def test_assets_follow_the_base_url_path(monkeypatch):
    monkeypatch.setenv("GONGZHI_BASE_URL_PATH", "/gongzhi/")
    _, html = _render()
    assert '<script src="/gongzhi/app/static/leaflet/leaflet.js">' in html


def test_no_basemap_unless_a_tile_url_is_configured(monkeypatch):
    monkeypatch.delenv("GONGZHI_TILE_URL", raising=False)
    _, html = _render()
    assert "L.tileLayer" not in html
    monkeypatch.setenv("GONGZHI_TILE_URL", "/tiles/{z}/{x}/{y}.png")
    monkeypatch.setenv("GONGZHI_TILE_ATTRIBUTION", "<b>本地瓦片</b>")
    _, html = _render()
    assert "L.tileLayer" in html and "/tiles/{z}/{x}/{y}.png" in html
    assert "<b>" not in html and json.dumps(escape_text("<b>本地瓦片</b>"))[1:-1] in html.replace("\\u0026", "&")


def test_one_feature_per_grid_carrying_only_what_the_map_needs():
    _, html = _render()
    _, shapes = _grids()
    features = _features(html)
    assert sorted(f["id"] for f in features) == [11, 12, 13, 14]
    assert sorted(f["properties"]["grid_id"] for f in features) == [11, 12, 13, 14]
    # What a click returns to the app is the feature: its id and code, nothing more.
    assert all(set(f["properties"]) == {"grid_id", "code"} for f in features)
    # Each outline arrives as grid_shapes simplified it (to the map's 6 decimals, ~0.1 m).
    by_id = {f["id"]: f for f in features}
    for shape in shapes:
        drawn = by_id[shape.grid_id]["geometry"]
        assert drawn["type"] == shape.geometry["type"]
        assert drawn["coordinates"][0] == [[round(lon, 6), round(lat, 6)] for lon, lat in shape.geometry["coordinates"][0]]
    first = figures(html)[11]
    fields = dict(zip(TOOLTIP_FIELDS, first.values(), strict=True))
    assert (fields["name"], fields["code"], fields["open_issues"], fields["participation_rate"]) == (
        "第一网格", "G01", "9", "12.0%")
    assert fields["population"] == "1,200" and fields["volunteers_per_1000"] == "12.5"


def test_grids_share_one_style_and_the_data_is_compact():
    _, html = _render()
    data = grid_data(html)
    assert data["style"]["className"] == GRID_CLASS and "fillColor" not in data["style"]
    assert len(data["palette"]) == len(set(data["palette"]))  # each colour once, grids point into it
    assert "switch(feature.id)" not in html  # no per-grid style function written out by folium
    assert "\\u7b2c" not in html and "第一网格" in html  # names in UTF-8, not as \\u escapes


@pytest.mark.parametrize("metric", METRICS)
def test_colours_follow_the_metric(metric):
    metrics, _ = _grids()
    _, html = _render(metric)
    colours = _fill_colours(html)
    palette = SCALES[metric]
    valued = metrics.dropna(subset=[metric]).sort_values(metric)
    shades = [palette.index(colours[gid]) for gid in valued["grid_id"]]
    assert shades == sorted(shades), "a higher value never gets a lighter colour"
    assert colours[int(valued.iloc[-1]["grid_id"])] == palette[-1], "the highest value gets the darkest colour"
    assert colours[int(valued.iloc[0]["grid_id"])] == palette[0], "the lowest value gets the lightest colour"
    for gid in metrics.loc[metrics[metric].isna(), "grid_id"]:
        assert colours[gid] == NO_DATA_COLOUR


def test_count_classes_are_whole_number_ranges():
    classes = colour_classes(pd.Series(range(10)), "open_issues")
    assert [class_label("open_issues", c) for c in classes] == ["0 – 1", "2 – 3", "4 – 5", "6 – 7", "8 – 9"]
    assert [c.colour for c in classes] == list(SCALES["open_issues"])
    # Fewer distinct values than shades: fewer classes, still from lightest to darkest.
    classes = colour_classes(pd.Series([0, 2, 9, 5]), "open_issues")
    assert [class_label("open_issues", c) for c in classes] == ["0 – 2", "3 – 5", "6 – 8", "9"]
    palette = SCALES["open_issues"]
    assert [c.colour for c in classes] == [palette[0], palette[1], palette[3], palette[4]]
    same = colour_classes(pd.Series([3, 3]), "overdue")
    assert len(same) == 1 and class_label("overdue", same[0]) == "3"
    assert colour_classes(pd.Series([float("nan")]), "participation_rate") == []


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_legend_names_the_metric_and_its_ranges(lang):
    _, html = _render("participation_rate", lang=lang)
    legend = _legend(html)
    assert escape_text(i18n.translate(lang, "map.metric_participation_rate")) in legend
    assert escape_text(i18n.translate(lang, "map.legend_darker")) in legend
    assert escape_text(i18n.translate(lang, "map.no_data")) in legend  # the grid without population
    classes = colour_classes(pd.Series([0.12, 0.30, 0.05]), "participation_rate")
    for colour_class in classes:
        assert escape_text(class_label("participation_rate", colour_class)) in legend
        assert colour_class.colour in legend
    assert "5.0% – 13.3%" in legend and "21.7% – 30.0%" in legend


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_tooltip_labels_are_localized(lang):
    _, html = _render(lang=lang)
    assert grid_data(html)["fields"] == [escape_text(i18n.translate(lang, f"map.field_{field}"))
                                         for field in TOOLTIP_FIELDS]


def test_grid_names_are_drawn_as_labels_that_let_clicks_through():
    _, html = _render()
    labels = label_html(html)
    assert [labels[grid_id] for grid_id in (11, 12, 13, 14)] == [
        f'<div class="gongzhi-grid-label">{name}</div>' for name in ("第一网格", "第二网格", "第三网格", "第四网格")]
    assert grid_data(html)["grids"][0][7] == [121.002, 31.002]
    assert "interactive: false, keyboard: false" in html
    # No folium.Marker: it would create Leaflet's default image icon first and request marker PNGs.
    assert "L.marker" in html and "marker-icon" not in html and ".setIcon(" not in html


def test_a_bracketed_part_of_a_name_goes_on_a_second_line():
    _, html = _render(first_name="第一网格（桂花苑）")
    assert label_html(html)[11] == ('<div class="gongzhi-grid-label">第一网格'
                                    '<div class="gongzhi-grid-label-sub">（桂花苑）</div></div>')
    _, html = _render(first_name="Grid 1 (North <b>)")
    assert label_html(html)[11] == ('<div class="gongzhi-grid-label">Grid 1'
                                    '<div class="gongzhi-grid-label-sub">(North &lt;b&gt;)</div></div>')


def test_names_are_shown_from_the_zoom_where_a_grid_is_wide_enough():
    _, html = _render()
    # The test grids are 0.004° wide: LABEL_MIN_PX wide at 256 × 2^z / 360 px per degree.
    expected = math.log2(LABEL_MIN_PX * 360 / (256 * 0.004))
    assert grid_data(html)["labelZoom"] == pytest.approx(expected, abs=0.01)
    assert 'map.on("zoomend", showLabels)' in html


def test_polygons_can_be_found_in_the_page():
    _, html = _render()
    assert 'element.setAttribute("data-grid-id", String(g[0]))' in html
    assert 'element.setAttribute("data-grid-code", g[1])' in html
    assert grid_data(html)["style"]["className"] == GRID_CLASS


def test_user_text_appears_only_escaped():
    _, benign = _render()
    _, html = _render(first_name=EVIL_NAME, first_code=EVIL_CODE)
    assert "<img" not in html and "<b>" not in html and "${alert" not in html and "alert(1)>" not in html
    # Backticks and ${ come only from folium's own templates, never from a name or a code.
    assert html.count("`") == benign.count("`")
    assert html.count("${") == benign.count("${")
    # In what Leaflet receives (after JSON decoding), the texts are HTML-escaped.
    shown = figures(html)[11]
    name, code = list(shown.values())[:2]
    assert name == escape_text(EVIL_NAME) and code == escape_text(EVIL_CODE)
    for text in (name, code):
        assert not set(text) & set("<>`$\\\"'")
    assert label_html(html)[11] == f'<div class="gongzhi-grid-label">{escape_text(EVIL_NAME)}</div>'


def test_selection_outline_is_a_separate_layer_that_lets_clicks_through():
    metrics, shapes = _grids()
    assert selection_layer(shapes, None) is None
    assert selection_layer(shapes, 999) is None
    m = build_grid_map(_context(), metrics, shapes, "overdue")
    layer = selection_layer(shapes, 12)
    layer.add_to(m)
    html = m.get_root().render()
    assert f'"className": "{SELECTED_CLASS} {SELECTED_CLASS}-12"' in html
    outline = json.loads(re.findall(r"_add\((\{.*?\})\);\n", html)[0])  # the only folium GeoJson
    assert outline["features"][0]["geometry"] == shapes[1].geometry
    assert '"interactive": false' in html.split("L.featureGroup")[1]


def test_clicked_grid_id_reads_the_feature_streamlit_folium_returns():
    value = {"last_active_drawing": {"type": "Feature", "id": 12, "properties": {"grid_id": 12, "code": "G02"},
                                     "geometry": _square(121.004, 31.0)}}
    assert clicked_grid_id(value) == 12
    assert clicked_grid_id({"last_active_drawing": None}) is None
    assert clicked_grid_id({"last_active_drawing": {"type": "Feature", "properties": {}}}) is None
    assert clicked_grid_id(None) is None and clicked_grid_id({}) is None


def test_figures_are_formatted_for_reading():
    assert format_metric("participation_rate", 0.1234) == "12.3%"
    assert format_metric("open_issues", 12) == "12"
    assert format_metric("volunteers_per_1000", 3.75) == "3.8"
    assert format_metric("population", 12345) == "12,345"
    assert format_metric("participation_rate", float("nan")) == "—"
    assert format_metric("volunteers_per_1000", None) == "—"


@pytest.mark.parametrize(("lang", "expected"), [("en", "第三网格, 第四网格"), ("zh-CN", "第三网格、第四网格")])
def test_grids_without_a_boundary_are_named(lang, expected):
    metrics, shapes = _grids()
    assert missing_boundaries_note(_context(lang), metrics, shapes) is None
    note = missing_boundaries_note(_context(lang), metrics, shapes[:2])
    assert note == i18n.translate(lang, "map.missing_boundaries", names=expected)


def test_the_map_has_a_scale_bar():
    _, html = _render()
    assert "L.control.scale(" in html


def test_a_cached_rendering_reaches_the_browser_exactly_as_st_folium_sends_it(monkeypatch):
    """send_map(map_payload(m)) gives streamlit-folium's component the same arguments as
    st_folium(m) does (so a cached map draws, and clicks come back, the same way)."""
    import streamlit_folium

    from components.grid_map import MAP_KEY, map_payload, send_map

    sent = []
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **arguments: sent.append(arguments))
    metrics, shapes = _grids()
    m = build_grid_map(_context(), metrics, shapes, "overdue")
    same_map = copy.deepcopy(m)  # the same ids; rendering adds to a map, so each call gets a fresh one
    returned = ["last_active_drawing", "last_object_clicked_count"]
    send_map(map_payload(same_map, MAP_KEY), key=MAP_KEY, height=620, returned_objects=returned,
             feature_group=selection_layer(shapes, 12))
    streamlit_folium.st_folium(m, key=MAP_KEY, height=620, use_container_width=True, returned_objects=returned,
                               feature_group_to_add=selection_layer(shapes, 12))
    ours, theirs = ({name: value for name, value in arguments.items() if name != "on_change"} for arguments in sent)
    assert ours == theirs
    assert "gongzhi-grid-selected-12" in ours["feature_group"] and ours["js_links"]
