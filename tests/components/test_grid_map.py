"""The folium map, rendered to HTML without Streamlit: it loads nothing from outside the server,
draws one feature per grid coloured in the order of the chosen figure, has a legend and
localized tooltips, marks polygons for the browser test, and shows user text only escaped."""

import json
import re

import branca.colormap
import folium
import pandas as pd
import pytest

from components.grid_map import (
    GRID_CLASS,
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
    """The GeoJSON handed to Leaflet (folium embeds it as JSON in an `_add(...)` call)."""
    calls = re.findall(r"_add\((\{.*?\})\);\n", html)
    assert len(calls) == 1, "exactly one GeoJSON layer of grids"
    return json.loads(calls[0])["features"]


def _fill_colours(html: str) -> dict[int, str]:
    """fillColor per feature id, read from the styler function folium writes."""
    styler = re.search(r"_styler\(feature\) \{\s*switch\(feature\.id\) \{(.*?)\n\s*\}\n\s*\}", html, re.S).group(1)
    colours, default = {}, None
    for cases, style in re.findall(r"((?:case \d+: )+|default:)\s*return (\{.*?\});", styler):
        fill = json.loads(style)["fillColor"]
        if cases == "default:":
            default = fill
        for feature_id in re.findall(r"case (\d+):", cases):
            colours[int(feature_id)] = fill
    for feature in _features(html):
        colours.setdefault(feature["id"], default)
    return colours


def _labels(html: str) -> list[dict]:
    return json.loads(re.search(r"(\[\{\"html\".*?\}\])\.forEach", html).group(1))


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
    features = _features(html)
    assert sorted(f["id"] for f in features) == [11, 12, 13, 14]
    assert sorted(f["properties"]["grid_id"] for f in features) == [11, 12, 13, 14]
    assert all(set(f["properties"]) == {"grid_id", *TOOLTIP_FIELDS} for f in features)
    first = next(f for f in features if f["id"] == 11)["properties"]
    assert (first["name"], first["code"], first["open_issues"], first["participation_rate"]) == (
        "第一网格", "G01", "9", "12.0%")
    assert first["population"] == "1,200" and first["volunteers_per_1000"] == "12.5"


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
    aliases = json.loads(re.search(r"let aliases = (\[.*?\]);", html).group(1))
    assert aliases == [escape_text(i18n.translate(lang, f"map.field_{field}")) for field in TOOLTIP_FIELDS]
    assert re.search(r"let fields = (\[.*?\]);", html).group(1) == json.dumps(list(TOOLTIP_FIELDS))


def test_grid_names_are_drawn_as_labels_that_let_clicks_through():
    _, html = _render()
    labels = _labels(html)
    assert [label["html"] for label in labels] == [f'<div class="gongzhi-grid-label">{name}</div>'
                                                   for name in ("第一网格", "第二网格", "第三网格", "第四网格")]
    assert [(label["lon"], label["lat"]) for label in labels][0] == (121.002, 31.002)
    assert "interactive: false, keyboard: false" in html
    # No folium.Marker: it would create Leaflet's default image icon first and request marker PNGs.
    assert "L.marker" in html and "marker-icon" not in html and ".setIcon(" not in html


def test_polygons_can_be_found_in_the_page():
    _, html = _render()
    for grid_id in (11, 12, 13, 14):
        assert f'"className": "{GRID_CLASS} {GRID_CLASS}-{grid_id}"' in html
    assert 'setAttribute("data-grid-id", String(feature.properties.grid_id))' in html
    assert 'setAttribute("data-grid-code", feature.properties.code)' in html


def test_user_text_appears_only_escaped():
    _, benign = _render()
    _, html = _render(first_name=EVIL_NAME, first_code=EVIL_CODE)
    assert "<img" not in html and "<b>" not in html and "${alert" not in html and "alert(1)>" not in html
    # Backticks and ${ come only from folium's own templates, never from a name or a code.
    assert html.count("`") == benign.count("`")
    assert html.count("${") == benign.count("${")
    # In what Leaflet receives (after JSON decoding), the texts are HTML-escaped.
    first = next(f for f in _features(html) if f["id"] == 11)["properties"]
    assert first["name"] == escape_text(EVIL_NAME) and first["code"] == escape_text(EVIL_CODE)
    for text in (first["name"], first["code"]):
        assert not set(text) & set("<>`$\\\"'")
    labels = [label["html"] for label in _labels(html)]
    assert f'<div class="gongzhi-grid-label">{escape_text(EVIL_NAME)}</div>' in labels


def test_selection_outline_is_a_separate_layer_that_lets_clicks_through():
    metrics, shapes = _grids()
    assert selection_layer(shapes, None) is None
    assert selection_layer(shapes, 999) is None
    m = build_grid_map(_context(), metrics, shapes, "overdue")
    layer = selection_layer(shapes, 12)
    layer.add_to(m)
    html = m.get_root().render()
    assert f'"className": "{SELECTED_CLASS} {SELECTED_CLASS}-12"' in html
    outline = json.loads(re.findall(r"_add\((\{.*?\})\);\n", html)[1])
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
