"""The grid map: one polygon per grid coloured by a chosen figure, with grid names, a tooltip of
every figure, a legend, and the selected grid outlined. Everything it loads comes from this
server (`static/` served at /app/static): folium's CDN links are replaced by the vendored
Leaflet and marker-cluster plugin, there is no basemap unless one is configured (gongzhi.config.basemap;
on AMap's GCJ-02 tiles every drawn geometry is converted, see on_basemap), and no branca colormap
is used (streamlit-folium would add d3 from CDNs for it). All text on the map is user text or catalogue
text placed into HTML, so it goes through escape_text."""

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import folium
import folium.elements
import pandas as pd
import streamlit as st
import streamlit_folium
from branca.element import Element, MacroElement
from folium.map import Layer
from folium.plugins import MarkerCluster
from folium.template import Template

from components.kpi import Kpi, format_number, format_percent, kpi_row
from components.page_setup import PageContext
from components.projector import paged_table
from gongzhi.clock import today
from gongzhi.config import Basemap, basemap, static_url_prefix
from gongzhi.coords import geometry_to_gcj02
from gongzhi.escape import Markdown, escape_text
from gongzhi.geo import COORDINATE_DECIMALS, combined_bounds
from gongzhi.privacy import phone_for
from gongzhi.queries.grid_metrics import GridPanel, GridShape

MAP_KEY = "grid_map"
CLICK_KEY = "_grid_map_clicked"  # a click, left by the map's change callback for grid_map() to return
MAP_HEIGHT = 620
FIT_MARGIN_PX = 12  # between the grids and the frame's edge or a control
LEGEND_OPEN_FROM_PX = 600  # the legend starts open on a frame this wide (a projector), else folded
LABEL_MIN_PX = 48  # a grid narrower than this on screen gets no name (see label_min_zoom)
GRID_CLASS = "gongzhi-grid"  # on every grid polygon's <path> (with data-grid-id and data-grid-code)
SELECTED_CLASS = "gongzhi-grid-selected"  # on the selected grid's outline
# Sequential ColorBrewer scales, light to dark (darker = more): oranges for problems, blues for
# strengths. Both stay distinguishable on a washed-out projector.
SCALES = {
    "open_issues": ("#feedde", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603"),
    "overdue": ("#feedde", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603"),
    "participation_rate": ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"),
    "volunteers_per_1000": ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"),
}
COUNT_METRICS = frozenset({"open_issues", "overdue"})
NO_DATA_COLOUR = "#d1d5db"
OUTLINE_COLOUR = "#374151"
SELECTED_COLOUR = "#111827"
TOOLTIP_FIELDS = ("name", "code", "population", "households", "open_issues", "overdue", "participation_rate",
                  "volunteers_per_1000")
# Issue points by state: warm while waiting on the committee, blue in the works, green when
# done, greys for the finished-without-result states (hidden unless asked for).
STATE_COLOURS = {
    "reported": "#dc2626", "grid_review": "#f97316", "meeting": "#a855f7", "in_action": "#2563eb",
    "resident_review": "#0d9488", "closed": "#16a34a", "closed_unrated": "#6b7280", "rejected": "#78716c",
}
FACILITY_COLOUR = "#111827"  # near-black: every hue is taken by an issue state
EVENT_COLOUR = "#db2777"
ISSUES_LAYER_CLASS = "gongzhi-issue"  # on every issue point's <path>, plus gongzhi-issue-<state>
FACILITY_CLASS = "gongzhi-facility"
EVENT_CLASS = "gongzhi-event"


@dataclass(frozen=True)
class ColourClass:
    low: float
    high: float
    colour: str


def format_metric(metric: str, value: float | int | None) -> str:
    """A figure as people read it: counts whole, participation as a percentage."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return format_number(None)
    if metric == "participation_rate":
        return format_percent(value, digits=1)
    if metric in COUNT_METRICS or metric in ("population", "households"):
        return format_number(value)
    return format_number(value, digits=1)


def colour_classes(values: pd.Series, metric: str, *, count: int = 5) -> list[ColourClass]:
    """Up to `count` classes of equal width between the lowest and highest value, lightest
    first, so the grid with the highest value is always in the darkest class. Counts get
    whole-number ranges (0–2, 3–5, …). Empty when no grid has a value."""
    present = pd.to_numeric(values, errors="coerce").dropna()
    if present.empty:
        return []
    palette = SCALES[metric]
    low, high = float(present.min()), float(present.max())
    classes = min(count, present.nunique())
    if metric in COUNT_METRICS:
        step = math.ceil((high - low + 1) / classes)
        bounds = []
        start = low
        while start <= high:
            bounds.append((start, min(start + step - 1, high)))
            start += step
    else:
        width = (high - low) / classes
        bounds = [(low + i * width, high if i == classes - 1 else low + (i + 1) * width) for i in range(classes)]
    last = len(bounds) - 1
    # Spread the palette over however many classes there are; the top class is always darkest.
    shades = [palette[round(i * (len(palette) - 1) / last)] if last else palette[2] for i in range(len(bounds))]
    return [ColourClass(lo, hi, shade) for (lo, hi), shade in zip(bounds, shades, strict=True)]


def colour_for(value: float | None, classes: Sequence[ColourClass]) -> str:
    if value is None or pd.isna(value) or not classes:
        return NO_DATA_COLOUR
    for colour_class in classes:
        if value <= colour_class.high + 1e-9:
            return colour_class.colour
    return classes[-1].colour


def class_label(metric: str, colour_class: ColourClass) -> str:
    low, high = format_metric(metric, colour_class.low), format_metric(metric, colour_class.high)
    return low if low == high else f"{low} – {high}"


class MapStyle(MacroElement):
    """Plain light background, readable grid names with a white halo, legend and tooltip style."""

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
            .leaflet-container { background: #f3f4f6; font-family: "Noto Sans CJK SC", "Microsoft YaHei",
                "PingFang SC", sans-serif; }
            .gongzhi-grid-label-icon { background: none; border: none; }
            .gongzhi-grid-label { position: absolute; left: 0; top: 0; transform: translate(-50%, -50%);
                width: max-content; white-space: nowrap; font-size: 16px; font-weight: 700; color: #111827;
                text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 4px #fff; pointer-events: none; text-align: center;
                line-height: 1.2; }
            .gongzhi-grid-label-sub { font-size: 13px; font-weight: 600; }
            .gongzhi-legend { background: rgba(255, 255, 255, 0.94); padding: 8px 12px; border-radius: 6px;
                box-shadow: 0 1px 4px rgba(0, 0, 0, 0.3); font-size: 14px; line-height: 1.5; color: #111827;
                max-width: 150px; }
            .gongzhi-legend .gongzhi-legend-title { font-weight: 700; margin-bottom: 2px; }
            .gongzhi-legend summary { cursor: pointer; }
            .gongzhi-legend:not([open]) summary { margin-bottom: 0; }
            .gongzhi-legend .gongzhi-legend-note { font-size: 13px; color: #374151; }
            .gongzhi-legend .gongzhi-swatch { display: inline-block; width: 20px; height: 14px; margin-right: 8px;
                vertical-align: middle; border: 1px solid #6b7280; }
            .gongzhi-legend .gongzhi-legend-gap { margin-top: 8px; }
            .gongzhi-swatch.gongzhi-dot { width: 14px; border-radius: 50%; }
            .leaflet-control-layers .gongzhi-swatch { display: inline-block; width: 12px; height: 12px;
                margin: 0 4px; vertical-align: middle; border: 1px solid #6b7280; }
            .gongzhi-tooltip { font-size: 15px; }
            .gongzhi-tooltip th { text-align: left; padding-right: 10px; font-weight: 400; color: #374151; }
            .gongzhi-tooltip td { font-weight: 700; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}{% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "GongzhiMapStyle"


class Legend(MacroElement):
    """The colour key as a Leaflet control that folds: a <details> whose summary names the
    figure; open where the frame is wide enough to keep it beside the grids (FitGrids leaves it
    room), folded to its summary on a phone. `html` is built from escaped text only and may be
    set after the control is added (it is read when the map is rendered)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: "bottomright"});
            {{ this.get_name() }}.onAdd = function (map) {
                var div = L.DomUtil.create("details", "gongzhi-legend");
                div.innerHTML = {{ this.html|tojson }};
                var chosen = false, automatic = false;
                function decide() {  // by the frame's width (it settles after loading), until the reader chooses
                    var wanted = map.getSize().x >= {{ this.open_from }};
                    if (!chosen && div.open !== wanted) { automatic = true; div.open = wanted; }
                }
                decide();
                map.on("resize", decide);
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                div.addEventListener("toggle", function () {
                    if (automatic) { automatic = false; } else { chosen = true; }
                    map.fire("gongzhilegendtoggle");
                });
                return div;
            };
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, html: str = ""):
        super().__init__()
        self._name = "GongzhiLegend"
        self.html = html
        self.open_from = LEGEND_OPEN_FROM_PX


def label_cut(name: str) -> int:
    """Where a grid's name on the map breaks onto a second, smaller line, as an index into
    escape_text(name); 0 for no break. A trailing part in brackets, as in 第一网格（桂花苑）, goes on
    the second line so that neighbouring names do not run into each other."""
    for bracket in ("（", " ("):
        main, found, _rest = name.partition(bracket)
        if found and main.strip():
            return len(escape_text(main))
    return 0


class ProjectorMapStyle(MacroElement):
    """On a projector: grid names, legend and tooltips at the projector's type size (the map is in
    its own frame, which the page's projector theme cannot reach)."""

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
            .gongzhi-grid-label { font-size: 26px; }
            .gongzhi-grid-label-sub { font-size: 22px; }
            .gongzhi-legend { font-size: 24px; max-width: 260px; }
            .gongzhi-legend .gongzhi-legend-note { font-size: 22px; }
            .gongzhi-legend .gongzhi-swatch { width: 28px; height: 20px; }
            .gongzhi-tooltip, .leaflet-control-layers, .leaflet-control-attribution { font-size: 22px; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}{% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "GongzhiProjectorMapStyle"


def label_html(name: str) -> str:
    """A grid's name as GridLayer's labels show it (the same markup, built here for reading)."""
    escaped, cut = escape_text(name), label_cut(name)
    if not cut:
        return f'<div class="gongzhi-grid-label">{escaped}</div>'
    return (f'<div class="gongzhi-grid-label">{escaped[:cut].strip()}'
            f'<div class="gongzhi-grid-label-sub">{escaped[cut:].strip()}</div></div>')


def script_json(value) -> str:
    """`value` as compact JSON that is safe inside an inline <script>: UTF-8 rather than \\u escapes
    (a third of the size for Chinese text), with the characters that could end the script or an
    HTML context escaped as jinja's tojson does."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _polygons(geometry: dict) -> list:
    return geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]


def coordinate_decimals(geometries: Sequence[dict]) -> int:
    """The fewest decimals (5 or COORDINATE_DECIMALS) that keep every coordinate as it is."""
    for geometry in geometries:
        for polygon in _polygons(geometry):
            for ring in polygon:
                if any(round(value, 5) != value for point in ring for value in point):
                    return COORDINATE_DECIMALS
    return 5


def encode_polygons(geometry: dict, decimals: int) -> list[list[list[int]]]:
    """A Polygon or MultiPolygon as polygons of rings, each ring flat [x0, y0, dx1, dy1, …] in
    whole units of 10^-decimals degrees: each vertex as its step from the one before, which is
    a few digits instead of ~20 characters (GridLayer decodes it)."""
    scale = 10 ** decimals
    encoded = []
    for polygon in _polygons(geometry):
        rings = []
        for ring in polygon:
            flat, last_x, last_y = [], 0, 0
            for lon, lat in ring:
                x, y = round(lon * scale), round(lat * scale)
                flat += [x - last_x, y - last_y]
                last_x, last_y = x, y
            rings.append(flat)
        encoded.append(rings)
    return encoded


def label_min_zoom(shapes: Sequence[GridShape]) -> float:
    """The zoom from which grid names are shown: where a typical (median) grid is LABEL_MIN_PX
    wide on screen (Web Mercator: 256 px for 360° at zoom 0). Below it names would overlap; a
    district's 1,000 names would also cost the browser more than its polygons."""
    widths = sorted(box[2] - box[0] for box in (combined_bounds([s.geometry]) for s in shapes) if box)
    width = widths[len(widths) // 2] if widths else 0
    return math.log2(LABEL_MIN_PX * 360 / (256 * width)) if width > 0 else 0.0


class RenderedScript(Element):
    """A script already rendered, put into the page as it is (never read as a template)."""

    _template = Template("{{ this.text }}")

    def __init__(self, text: str):
        super().__init__()
        self.text = text


class ScriptAsIs(MacroElement):
    """A MacroElement whose template is a script macro only, its rendered script added to the page
    as it is: branca wraps each rendered script in an Element, which compiles it as a template
    again, and at 1,000 grids and 3,000 points that second pass over their data took 100 ms or
    more at each render of the map."""

    def render(self, **kwargs) -> None:
        self.get_root().script.add_child(RenderedScript(self._template.module.script(self, kwargs)),
                                         name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class GridLayer(ScriptAsIs):
    """Every grid as one Leaflet GeoJSON layer, built in the browser from compact data (see
    `grid_data`): one shared style with each grid's fill from a short palette, a tooltip of
    its figures made on hover, data-grid-id/-code on each <path>, and names as labels from
    `labelZoom` on (built once, on first need; non-interactive divIcons, so a click on a name
    reaches the grid, and no folium.Marker, whose default image icon requests marker PNGs).
    A clicked polygon's feature is {id, properties: {grid_id, code}}, which st_folium returns."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function (map) {
                var data = {{ this.data_json }};
                var scale = Math.pow(10, data.decimals), byId = {};
                function ring(flat) {
                    var points = [], x = 0, y = 0;
                    for (var k = 0; k < flat.length; k += 2) {
                        x += flat[k]; y += flat[k + 1];
                        points.push([x / scale, y / scale]);
                    }
                    return points;
                }
                function geometry(polygons) {
                    var decoded = polygons.map(function (rings) { return rings.map(ring); });
                    return decoded.length === 1 ? {type: "Polygon", coordinates: decoded[0]}
                                                : {type: "MultiPolygon", coordinates: decoded};
                }
                // A grid: [id, code, name, label cut, palette index, figures, polygons, label lon/lat].
                var features = data.grids.map(function (g) {
                    byId[g[0]] = g;
                    return {type: "Feature", id: g[0], properties: {grid_id: g[0], code: g[1]}, geometry: geometry(g[6])};
                });
                function tooltip(g) {
                    var values = [g[2], g[1]].concat(g[5]);
                    return "<table>" + values.map(function (value, k) {
                        return "<tr><th>" + data.fields[k] + "</th><td>" + value + "</td></tr>";
                    }).join("") + "</table>";
                }
                var layer = L.geoJson(features, {
                    style: function (feature) {
                        return L.Util.extend({fillColor: data.palette[byId[feature.id][4]]}, data.style);
                    }
                }).addTo(map);
                layer.eachLayer(function (polygon) {
                    var element = polygon.getElement(), g = byId[polygon.feature.id];
                    element.setAttribute("data-grid-id", String(g[0]));
                    element.setAttribute("data-grid-code", g[1]);
                });
                // One tooltip and one set of listeners on the group for all grids, not one per grid.
                var tip = L.tooltip({sticky: true, className: "gongzhi-tooltip"});
                layer.on("mouseover", function (e) {
                    e.layer.setStyle(data.highlight);
                    map.openTooltip(tip.setContent(tooltip(byId[e.layer.feature.id])).setLatLng(e.latlng));
                });
                layer.on("mousemove", function (e) { tip.setLatLng(e.latlng); });
                layer.on("mouseout", function (e) {
                    layer.resetStyle(e.layer);
                    map.closeTooltip(tip);
                });
                var labels = null;
                function labelHtml(g) {
                    var name = g[2], cut = g[3];
                    if (!cut) { return '<div class="gongzhi-grid-label">' + name + "</div>"; }
                    return '<div class="gongzhi-grid-label">' + name.slice(0, cut).trim() +
                        '<div class="gongzhi-grid-label-sub">' + name.slice(cut).trim() + "</div></div>";
                }
                // Names in a pane of their own above the markers' (600): a cluster bubble or an
                // event at a grid's label point never hides its name. Clicks pass through.
                if (!map.getPane("gongzhiLabels")) {
                    var pane = map.createPane("gongzhiLabels");
                    pane.style.zIndex = 640;
                    pane.style.pointerEvents = "none";
                }
                function showLabels() {
                    var wanted = map.getZoom() >= data.labelZoom;
                    if (wanted && !labels) {
                        labels = L.layerGroup(data.grids.map(function (g) {
                            return L.marker([g[7][1], g[7][0]], {pane: "gongzhiLabels",
                                icon: L.divIcon({className: "gongzhi-grid-label-icon", html: labelHtml(g), iconSize: [0, 0]}),
                                interactive: false, keyboard: false});
                        }));
                    }
                    if (labels && wanted !== map.hasLayer(labels)) {
                        if (wanted) { labels.addTo(map); } else { map.removeLayer(labels); }
                    }
                }
                map.on("zoomend", showLabels);
                setTimeout(showLabels, 0);  // once the map has been fitted to the grids
                return layer;
            })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, data: dict):
        super().__init__()
        self._name = "GongzhiGrids"
        self.data = data
        self.data_json = script_json(data)


@dataclass(frozen=True)
class DrawnShapes:
    """What the map draws of the grids' shapes, whatever they are coloured by: the shapes on the
    basemap, the box around them, the coordinate decimals, the zoom for names and each outline
    encoded. Worked out once per set of shapes (drawn_shapes): at 1,000 grids it was a third of
    building the map again after every save that changed a figure."""

    shapes: tuple[GridShape, ...]
    box: tuple[float, float, float, float] | None
    decimals: int
    label_zoom: float
    encoded: dict[int, list]


def _drawn(boundaries: Sequence[GridShape], base: Basemap) -> DrawnShapes:
    drawn = tuple(shape_on_basemap(shape, base) for shape in boundaries if shape.geometry)
    decimals = coordinate_decimals([s.geometry for s in drawn])
    return DrawnShapes(shapes=drawn, box=combined_bounds(s.geometry for s in drawn), decimals=decimals,
                       label_zoom=round(label_min_zoom(drawn), 2),
                       encoded={s.grid_id: encode_polygons(s.geometry, decimals) for s in drawn})


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_drawn(shapes_key: tuple, base: Basemap, _boundaries: Sequence[GridShape]) -> DrawnShapes:
    return _drawn(_boundaries, base)


def drawn_shapes(boundaries: Sequence[GridShape], base: Basemap, shapes_key: tuple | None = None) -> DrawnShapes:
    """_drawn(boundaries, base), kept (read-only, shared) on `shapes_key` when given: what the
    shapes are (the revision they were read at)."""
    return _drawn(boundaries, base) if shapes_key is None else _cached_drawn(shapes_key, base, boundaries)


def grid_data(ctx: PageContext, drawn: DrawnShapes, rows: dict, fill: dict[int, str]) -> dict:
    """What GridLayer draws, every text escaped: tooltip field names, the fill palette, the shared
    and the hover style, the zoom for names, and per grid [id, code, name, label_cut(name), palette
    index, the figures of TOOLTIP_FIELDS[2:] as read, encode_polygons(outline), [label lon, lat]]."""
    palette = sorted(set(fill.values()))
    grids = [[s.grid_id, escape_text(s.code), escape_text(s.name), label_cut(s.name), palette.index(fill[s.grid_id]),
              [escape_text(format_metric(column, _value(rows.get(s.grid_id), column))) for column in TOOLTIP_FIELDS[2:]],
              drawn.encoded[s.grid_id], [s.label_lon, s.label_lat]] for s in drawn.shapes]
    return {"fields": [escape_text(ctx.t(f"map.field_{field}")) for field in TOOLTIP_FIELDS],
            "palette": palette, "decimals": drawn.decimals, "labelZoom": drawn.label_zoom,
            "style": {"color": OUTLINE_COLOUR, "weight": 1.5, "fillOpacity": 0.8, "className": GRID_CLASS},
            "highlight": {"weight": 4, "color": SELECTED_COLOUR, "fillOpacity": 0.9},
            "grids": grids}


class FocusWithoutScrolling(MacroElement):
    """Leaflet focuses the map on the first mouse press (for keyboard panning). Inside Streamlit's
    iframe that scrolled the page to bring the whole map into view between the press and the
    release, so the first click landed elsewhere and selected no grid. Focusing it first, without
    scrolling, leaves the page where it is (Leaflet then sees the map focused and does nothing)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            (function (container) {
                function focus() {
                    if (document.activeElement !== container) { container.focus({preventScroll: true}); }
                }
                container.addEventListener("pointerdown", focus, true);
                container.addEventListener("mousedown", focus, true);
            })({{ this._parent.get_name() }}.getContainer());
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "GongzhiFocusWithoutScrolling"


class FitGrids(MacroElement):
    """Fit the map to every grid with a small margin, leaving room for the map's controls so that
    they cover no grid: beside the open legend or above it (whichever leaves the grids larger),
    above its folded summary, below the layer switch (added later: measured once it is there). Fit again when the frame is
    resized (the column's width settles after loading), when the legend is opened or folded, or
    when a control changes size (its style arriving late), until the user pans or zooms. Added after the legend and
    the layer switch and before the grids (drawn once, at the fitted zoom)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            (function (map) {
                var fitting = false, touched = false, margin = {{ this.margin }};
                function size(selector) {
                    var element = map.getContainer().querySelector(selector);
                    return element ? [element.offsetWidth, element.offsetHeight, element.open] : [0, 0, false];
                }
                var bounds = L.latLngBounds({{ this.bounds|tojson }});
                function fit() {
                    var legend = size(".gongzhi-legend"), layers = size(".leaflet-control-layers");
                    var topLeft = L.point(margin, layers[1] + 2 * margin);
                    // The open legend beside the grids or below them, whichever lets them be larger.
                    var below = L.point(margin, legend[1] + 2 * margin), beside = L.point(legend[0] + 2 * margin, margin);
                    var bottomRight = !legend[2] || map.getBoundsZoom(bounds, false, topLeft.add(below))
                        >= map.getBoundsZoom(bounds, false, topLeft.add(beside)) ? below : beside;
                    fitting = true;
                    map.fitBounds(bounds, {paddingTopLeft: topLeft, paddingBottomRight: bottomRight,
                                           maxZoom: 18, animate: false});
                    fitting = false;
                }
                map.on("dragstart", function () { touched = true; });
                map.on("zoomstart", function () { if (!fitting) { touched = true; } });
                map.on("resize gongzhilegendtoggle", function () { if (!touched) { fit(); } });
                fit();
                // Again once the layer switch, added after the layers it switches, is there, and
                // whenever a control changes size: its style sheet may arrive after this script
                // (a busy machine), and an unstyled control measures differently.
                setTimeout(function () {
                    if (!touched) { fit(); }
                    if (window.ResizeObserver) {
                        var watcher = new ResizeObserver(function () { if (!touched) { fit(); } });
                        map.getContainer().querySelectorAll(".gongzhi-legend, .leaflet-control-layers")
                            .forEach(function (control) { watcher.observe(control); });
                    }
                }, 0);
            })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, bounds: list[list[float]]):
        super().__init__()
        self._name = "GongzhiFitGrids"
        self.bounds = bounds
        self.margin = FIT_MARGIN_PX


def legend_html(ctx: PageContext, metric: str, classes: Sequence[ColourClass], has_missing: bool) -> str:
    """The legend's summary (the figure shown, what folds) and its colour classes."""
    rows = [f'<summary class="gongzhi-legend-title">{escape_text(ctx.t(f"map.metric_{metric}"))}</summary>',
            f'<div class="gongzhi-legend-note">{escape_text(ctx.t("map.legend_darker"))}</div>']
    for colour_class in reversed(classes):  # highest on top, as on a thermometer
        rows.append(f'<div><span class="gongzhi-swatch" style="background:{colour_class.colour}"></span>'
                    f"{escape_text(class_label(metric, colour_class))}</div>")
    if has_missing or not classes:
        rows.append(f'<div><span class="gongzhi-swatch" style="background:{NO_DATA_COLOUR}"></span>'
                    f'{escape_text(ctx.t("map.no_data"))}</div>')
    return "".join(rows)


def _value(row: Mapping | None, column: str):
    if row is None:
        return None
    value = row[column]
    return None if pd.isna(value) else value


def use_local_assets(m: folium.Map) -> None:
    """Only the vendored Leaflet, from this server (instance attributes: the class lists are shared)."""
    prefix = static_url_prefix()
    m.default_js = [("leaflet", f"{prefix}/leaflet/leaflet.js")]
    m.default_css = [("leaflet_css", f"{prefix}/leaflet/leaflet.css")]


def on_basemap(geometry: dict, base: Basemap) -> dict:
    """A stored (WGS-84) GeoJSON geometry as the map draws it on `base`: in GCJ-02 on tiles drawn
    in it (AMap/Gaode), as it is otherwise. Every polygon, label and point on the map goes through
    here; what is stored never does."""
    return geometry_to_gcj02(geometry) if base.gcj02 else geometry


def point_on_basemap(lon: float, lat: float, base: Basemap) -> list[float]:
    """[lon, lat] of a point as drawn on `base` (see on_basemap), rounded like the boundaries."""
    moved = on_basemap({"type": "Point", "coordinates": [float(lon), float(lat)]}, base)["coordinates"]
    return [round(value, COORDINATE_DECIMALS) for value in moved]


def shape_on_basemap(shape: GridShape, base: Basemap) -> GridShape:
    """A grid's display shape with its outline and label point as drawn on `base`."""
    if not base.gcj02:
        return shape
    label_lon, label_lat = point_on_basemap(shape.label_lon, shape.label_lat, base)
    return replace(shape, geometry=on_basemap(shape.geometry, base), label_lon=label_lon, label_lat=label_lat)


class MapNote(MacroElement):
    """A short notice on the map (e.g. why the configured basemap is not shown); `text` is escaped."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: "bottomleft"});
            {{ this.get_name() }}.onAdd = function () {
                var div = L.DomUtil.create("div", "gongzhi-legend gongzhi-map-note");
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, text: str):
        super().__init__()
        self._name = "GongzhiMapNote"
        self.html = escape_text(text)


class PointLayer(Layer, ScriptAsIs):  # Layer.render (added to its parent) first, then ScriptAsIs
    """Points from a compact GeoJSON FeatureCollection as circle markers: one Leaflet layer and
    one colour table for all of them instead of a folium object per point. Each feature's
    properties are `k` (key into `colours`) and `tip` (tooltip HTML built from escaped text only).
    Added to a MarkerCluster, the cluster takes its markers over."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function () {
                var colours = {{ this.colours|tojson }};
                return L.geoJson({{ this.data|tojson }}, {
                    pointToLayer: function (feature, latlng) {
                        var kind = feature.properties.k;
                        return L.circleMarker(latlng, {radius: {{ this.radius }}, weight: 1.5, color: "#ffffff",
                            fillColor: colours[kind], fillOpacity: 0.95,
                            className: {{ this.css_class|tojson }} + " " + {{ this.css_class|tojson }} + "-" + kind});
                    },
                    onEachFeature: function (feature, layer) {
                        layer.bindTooltip(feature.properties.tip, {className: "gongzhi-tooltip"});
                    }
                });
            })();
        {% endmacro %}
    """)

    def __init__(self, features: list[dict], colours: dict[str, str], css_class: str, *, radius: int = 7,
                 name: str | None = None, control: bool = True, show: bool = True):
        super().__init__(name=name, overlay=True, control=control, show=show)
        self._name = "GongzhiPoints"
        self.data = {"type": "FeatureCollection", "features": features}
        self.colours = colours
        self.css_class = css_class
        self.radius = radius


def _point_feature(position: list[float], kind: str, tip_parts: Sequence[str]) -> dict:
    """A point feature for PointLayer; the tooltip lines are escaped here."""
    tip = "<br>".join(escape_text(part) for part in tip_parts if part)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": position}, "properties": {"k": kind, "tip": tip}}


@dataclass(frozen=True)
class MapLayers:
    """What the point layers show (None = no such layer): issue_points, facilities and
    upcoming_events frames of the core queries."""

    issues: pd.DataFrame | None = None
    facilities: pd.DataFrame | None = None
    events: pd.DataFrame | None = None


def _local_cluster(name_html: str) -> MarkerCluster:
    """A marker cluster loading the vendored Leaflet.markercluster (its class lists point to a CDN);
    `name_html`, its entry in the layer switch, must be built from escaped text."""
    cluster = MarkerCluster(name=name_html, overlay=True, control=True, show=True,
                            options={"showCoverageOnHover": False, "maxClusterRadius": 40, "spiderfyOnMaxZoom": True,
                                     "disableClusteringAtZoom": 19})
    prefix = static_url_prefix()
    cluster.default_js = [("markerclusterjs", f"{prefix}/leaflet.markercluster/leaflet.markercluster.js")]
    cluster.default_css = [("markerclustercss", f"{prefix}/leaflet.markercluster/MarkerCluster.css"),
                           ("markerclusterdefaultcss", f"{prefix}/leaflet.markercluster/MarkerCluster.Default.css")]
    return cluster


def _swatch(colour: str) -> str:
    return f'<span class="gongzhi-swatch gongzhi-dot" style="background:{colour}"></span>'


def add_point_layers(ctx: PageContext, m: folium.Map, layers: MapLayers, shapes: DrawnShapes, base: Basemap) -> str:
    """Add the issue, facility and event layers with a layer switch; returns the legend rows for
    the issue states shown. Points without coordinates of their own (events always: they have
    none) sit at their grid's label point, community-wide events at the middle of all grids."""
    labels = {s.grid_id: [s.label_lon, s.label_lat] for s in shapes.shapes}  # already on the basemap
    box = shapes.box
    middle = [round((box[0] + box[2]) / 2, COORDINATE_DECIMALS), round((box[1] + box[3]) / 2, COORDINATE_DECIMALS)] \
        if box else None

    def place(lon, lat, grid_id) -> list[float] | None:
        if lon is not None and lat is not None and not (pd.isna(lon) or pd.isna(lat)):
            return point_on_basemap(lon, lat, base)
        if grid_id is not None and not pd.isna(grid_id):
            return labels.get(int(grid_id))
        return middle

    legend = ""
    if layers.issues is not None:
        features = []
        for issue in layers.issues.itertuples(index=False):
            position = place(issue.lon, issue.lat, issue.grid_id)
            if position is not None:
                features.append(_point_feature(position, issue.state, [
                    f"#{issue.id} {issue.title}", f"{ctx.label('state', issue.state)} · {ctx.label('category', issue.category)}"]))
        cluster = _local_cluster(escape_text(ctx.t("map.layer_issues")))
        PointLayer(features, {state: STATE_COLOURS[state] for state in sorted({f["properties"]["k"] for f in features})},
                   ISSUES_LAYER_CLASS, control=False).add_to(cluster)
        cluster.add_to(m)
        shown = [state for state in STATE_COLOURS if state in set(layers.issues["state"])]
        legend += f'<div class="gongzhi-legend-title gongzhi-legend-gap">{escape_text(ctx.t("map.layer_issues"))}</div>'
        legend += "".join(f"<div>{_swatch(STATE_COLOURS[state])}{escape_text(ctx.label('state', state))}</div>"
                          for state in shown)
    if layers.facilities is not None:
        features = [_point_feature(point_on_basemap(f.lon, f.lat, base), f.kind,
                                   [f.name, ctx.label("facility_kind", f.kind)])
                    for f in layers.facilities.itertuples(index=False)]
        name = f'{_swatch(FACILITY_COLOUR)}{escape_text(ctx.t("map.layer_facilities"))}'
        PointLayer(features, {kind: FACILITY_COLOUR for kind in set(layers.facilities["kind"])}, FACILITY_CLASS,
                   radius=6, name=name).add_to(m)
    if layers.events is not None:
        features = []
        for event in layers.events.itertuples(index=False):
            position = place(None, None, event.grid_id)
            if position is not None:
                features.append(_point_feature(position, "event", [
                    event.title, f"{pd.Timestamp(event.starts_at):%Y-%m-%d %H:%M} {ctx.label('event_kind', event.kind)}",
                    event.place]))
        cluster = _local_cluster(f'{_swatch(EVENT_COLOUR)}{escape_text(ctx.t("map.layer_events"))}')
        PointLayer(features, {"event": EVENT_COLOUR}, EVENT_CLASS, radius=8, control=False).add_to(cluster)
        cluster.add_to(m)
    # Folded to a button (it took a corner of a phone's map); after the layers it switches.
    folium.LayerControl(position="topright", collapsed=True).add_to(m)
    return legend


def build_grid_map(ctx: PageContext, metrics: pd.DataFrame, boundaries: Sequence[GridShape], metric: str,
                   layers: "MapLayers | None" = None, shapes_key: tuple | None = None) -> folium.Map:
    """The map of every grid with a boundary, coloured by `metric` (a column of grid_metrics),
    on the configured basemap, with the point layers in `layers` (each switchable).
    The selected grid's outline is a separate layer (selection_layer) so that selecting a grid
    does not reload the map. `shapes_key` (what the shapes are) keeps their drawing between builds."""
    # Plain dicts: a Series per grid (iterrows) took 200 ms of a district's 1,000 grids.
    rows = {int(row["grid_id"]): row for row in metrics.to_dict("records")}
    base = basemap()
    shapes = drawn_shapes(boundaries, base, shapes_key)
    drawn = shapes.shapes
    classes = colour_classes(metrics[metric], metric)  # every grid's value, drawn or not
    box = shapes.box
    centre = [(box[1] + box[3]) / 2, (box[0] + box[2]) / 2] if box else [0.0, 0.0]
    # zoomSnap 0.25: fitting the community uses the room there is, not the next whole zoom level down.
    m = folium.Map(location=centre, zoom_start=15, tiles=None, control_scale=True, max_zoom=19, zoom_snap=0.25,
                   zoom_delta=0.5)
    # folium hands max_zoom only to its own tile layer; the marker clusters need it on the map.
    m.options["max_zoom"] = 19
    use_local_assets(m)
    for index, source in enumerate(base.tiles):
        # Later sources (Tianditu's labels) are transparent overlays on the first.
        folium.TileLayer(tiles=source.url, attr=escape_text(source.attribution), max_zoom=19, max_native_zoom=18,
                         subdomains=source.subdomains or "abc", overlay=index > 0, control=False).add_to(m)
    MapStyle().add_to(m)
    if ctx.projector:
        ProjectorMapStyle().add_to(m)
    if base.note_key:
        MapNote(ctx.t(base.note_key)).add_to(m)

    legend = Legend()
    legend.add_to(m)
    if box:
        # After the legend (it leaves it room), before the grids: drawn once at the zoom that
        # shows them all, not first at zoom_start and then again (at 1,000 grids that halves the
        # drawing time).
        FitGrids([[box[1], box[0]], [box[3], box[2]]]).add_to(m)
    fill = {s.grid_id: colour_for(_value(rows.get(s.grid_id), metric), classes) for s in drawn}
    GridLayer(grid_data(ctx, shapes, rows, fill)).add_to(m)
    FocusWithoutScrolling().add_to(m)
    has_missing = any(fill[s.grid_id] == NO_DATA_COLOUR for s in drawn)
    legend.html = legend_html(ctx, metric, classes, has_missing)
    if layers is not None:
        legend.html += add_point_layers(ctx, m, layers, shapes, base)
    return m


def selection_layer(boundaries: Sequence[GridShape], grid_id: int | None) -> folium.FeatureGroup | None:
    """A thick outline around the selected grid; it lets clicks through to the grid below."""
    shape = next((s for s in boundaries if s.grid_id == grid_id), None)
    if shape is None:
        return None
    shape = shape_on_basemap(shape, basemap())
    group = folium.FeatureGroup(name="selection", control=False)
    folium.GeoJson(
        {"type": "Feature", "id": shape.grid_id, "properties": {}, "geometry": shape.geometry},
        style_function=lambda _feature: {"fill": False, "color": SELECTED_COLOUR, "weight": 5,
                                         "className": f"{SELECTED_CLASS} {SELECTED_CLASS}-{shape.grid_id}"},
        interactive=False,
    ).add_to(group)
    return group


def clicked_grid_id(value: dict | None) -> int | None:
    """The grid id in st_folium's `last_active_drawing` (the clicked feature), if any."""
    feature = (value or {}).get("last_active_drawing") or {}
    grid_id = (feature.get("properties") or {}).get("grid_id")
    try:
        return int(grid_id) if grid_id is not None else None
    except (TypeError, ValueError):
        return None


def _remember_click() -> None:
    st.session_state[CLICK_KEY] = clicked_grid_id(st.session_state.get(MAP_KEY))


@dataclass(frozen=True)
class MapPayload:
    """What st_folium sends the browser for a map (streamlit-folium's own steps, see st_folium)."""
    script: str
    header: str
    html: str
    map_id: str
    bounds: list
    zoom: float | None
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    hash_key: str


def _assets(element) -> tuple[list[str], list[str]]:
    """The stylesheets and scripts of `element` and everything in it, in st_folium's order."""
    css, js = [], []
    if isinstance(element, folium.elements.JSCSSMixin):
        css += [href for _, href in getattr(element, "default_css", [])]
        js += [src for _, src in getattr(element, "default_js", [])]
    for child in getattr(element, "_children", {}).values():
        child_css, child_js = _assets(child)
        css, js = css + child_css, js + child_js
    return css, js


def map_payload(m: folium.Map, key: str) -> MapPayload:
    """Render map `m` once as st_folium does (the same steps, the same result): at 1,000 grids
    rendering took over a second, on every rerun, though the map had not changed."""
    m.get_root().render()
    m.render()
    html, header = streamlit_folium._get_html(m), streamlit_folium._get_header(m)
    script = streamlit_folium._get_map_string(m)
    css, js = _assets(m)
    return MapPayload(script=script, header=header, html=html, map_id=streamlit_folium.get_full_id(m),
                      bounds=m.get_bounds(), zoom=m.options.get("zoom"), css_links=tuple(dict.fromkeys(css)),
                      js_links=tuple(dict.fromkeys(js)), hash_key=streamlit_folium.generate_js_hash(script, key, False))


def map_cache_key(ctx: PageContext, data_key: tuple, metric: str) -> tuple:
    """Everything a rendered map depends on: `data_key` (the data revision and the page's
    choices), the day, the metric, and the reader's language, projector mode, role, rights and
    basemap."""
    return (*data_key, today(), metric, ctx.lang, ctx.projector, ctx.actor.role if ctx.actor else None,
            ctx.actor.may_see_personal_data if ctx.actor else False, basemap(), static_url_prefix())


@st.cache_data(show_spinner=False, max_entries=64)
def cached_map_payload(cache_key: tuple, key: str, _build: Callable[[], folium.Map]) -> MapPayload:
    """map_payload(_build(), key), cached on `cache_key`: everything the map depends on (the
    data revision, the reader's choices, language and rights)."""
    return map_payload(_build(), key)


def send_map(payload: MapPayload, *, key: str, height: int, returned_objects: list[str],
             feature_group: folium.FeatureGroup | None = None, on_change=None):
    """st_folium's last step for a rendered map (`payload`): the component with the same
    arguments st_folium gives it. The browser keeps the map drawn while the script is the same."""
    group_script = None
    if feature_group is not None:
        # The outline's script refers to the map by id; a stand-in map of no content gives it one.
        group_script = streamlit_folium._get_feature_group_string(feature_group, map=folium.Map(tiles=None), idx=0)
    southwest, northeast = payload.bounds
    defaults = {"last_clicked": None, "last_object_clicked": None, "last_object_clicked_count": None,
                "last_object_clicked_tooltip": None, "last_object_clicked_popup": None, "all_drawings": None,
                "last_active_drawing": None,
                "bounds": {"_southWest": {"lat": southwest[0], "lng": southwest[1]},
                           "_northEast": {"lat": northeast[0], "lng": northeast[1]}},
                "zoom": payload.zoom, "last_circle_radius": None, "last_circle_polygon": None,
                "selected_layers": None, "selected_tags": None, "last_geocoder_result": None}

    def changed():
        st.session_state[key] = st.session_state.get(payload.hash_key, {})
        if on_change is not None:
            on_change()

    return streamlit_folium._component_func(
        script=payload.script, header=payload.header, html=payload.html, id=payload.map_id, key=payload.hash_key,
        height=height, width=None, returned_objects=returned_objects,
        default={k: v for k, v in defaults.items() if k in returned_objects}, zoom=None, center=None,
        feature_group=group_script, return_on_hover=False, layer_control=None, pixelated=False,
        css_links=list(payload.css_links), js_links=list(payload.js_links), on_change=changed, wrap_longitude=False)


def grid_map(ctx: PageContext, metrics: pd.DataFrame, boundaries: Sequence[GridShape], metric: str,
             selected_grid_id: int | None = None,
             layers: "MapLayers | Callable[[], MapLayers] | None" = None, cache_key: tuple | None = None,
             shapes_key: tuple | None = None) -> int | None:
    """Draw the map; returns the id of a grid the user has just clicked (once per click), else None.
    Only the clicked feature and a click counter come back from the browser (the counter makes
    a second click on the same grid a change too), so panning and zooming do not rerun the app. The selection outline is added as a feature group, which the component swaps in
    place without reloading the map, so a click keeps the user's view. With `cache_key` (what
    the data and the page's choices are: the data revision, period, metric, layers shown) the
    rendered map is cached on it, with the reader's language, role and the basemap; `layers`
    may then be a function loading them, called only when the map is built. With `shapes_key`
    (what the shapes are) their drawing is kept between builds (drawn_shapes)."""
    def build() -> folium.Map:
        return build_grid_map(ctx, metrics, boundaries, metric, layers() if callable(layers) else layers,
                              shapes_key=shapes_key)

    payload = map_payload(build(), MAP_KEY) if cache_key is None else \
        cached_map_payload(map_cache_key(ctx, cache_key, metric), MAP_KEY, build)
    send_map(payload, key=MAP_KEY, height=MAP_HEIGHT,
             returned_objects=["last_active_drawing", "last_object_clicked_count"],
             feature_group=selection_layer(boundaries, selected_grid_id), on_change=_remember_click)
    return st.session_state.pop(CLICK_KEY, None)


def map_summary(ctx: PageContext, metrics: pd.DataFrame, metric: str) -> str:
    """One sentence saying what the colours show: the highest and the lowest grid."""
    name = ctx.t(f"map.metric_{metric}")
    valued = metrics.dropna(subset=[metric])
    if valued.empty:
        return ctx.t("map.summary_no_values", metric=name)
    high = valued.loc[valued[metric].idxmax()]
    low = valued.loc[valued[metric].idxmin()]
    return ctx.t("map.summary", metric=name, high_name=high["name"], high_value=format_metric(metric, high[metric]),
                 low_name=low["name"], low_value=format_metric(metric, low[metric]))


def missing_boundaries_note(ctx: PageContext, metrics: pd.DataFrame, boundaries: Sequence[GridShape]) -> str | None:
    """Names the grids that have figures but no boundary to draw, if any."""
    drawn = {shape.grid_id for shape in boundaries}
    names = metrics.loc[~metrics["grid_id"].isin(drawn), "name"].tolist()
    return ctx.t("map.missing_boundaries", names=ctx.t("map.list_separator").join(names)) if names else None


def metrics_table(ctx: PageContext, metrics: pd.DataFrame) -> None:
    """Every grid's figures, so they can be read without hovering over the map. The leaders'
    names only for those who may see names: the column is dropped, not hidden, because a hidden
    column's values still reach the browser."""
    if ctx.projector:  # large type: the figures that matter, a page at a time
        paged_table(ctx, pd.DataFrame({
            ctx.t("map.field_name"): metrics["name"],
            ctx.t("map.field_open_issues"): metrics["open_issues"].map(format_number),
            ctx.t("map.field_overdue"): metrics["overdue"].map(format_number),
            ctx.t("map.field_participation_rate"): [format_percent(None if pd.isna(v) else v, digits=1)
                                                    for v in metrics["participation_rate"]],
        }), key="grid_metrics")
        return
    column = st.column_config
    shown = ["code", "name", "leader", "population", "households", "open_issues", "overdue",
             "participation_rate", "volunteers_per_1000"]
    if not ctx.actor.may_see_names:
        shown.remove("leader")
        metrics = metrics.drop(columns=["leader"])
    st.dataframe(
        metrics, hide_index=True, width="stretch", column_order=shown,
        column_config={
            "code": column.TextColumn(ctx.t("map.field_code")),
            "name": column.TextColumn(ctx.t("map.field_name")),
            "leader": column.TextColumn(ctx.t("map.field_leader")),
            "population": column.NumberColumn(ctx.t("map.field_population"), format="localized"),
            "households": column.NumberColumn(ctx.t("map.field_households"), format="localized"),
            "open_issues": column.NumberColumn(ctx.t("map.field_open_issues")),
            "overdue": column.NumberColumn(ctx.t("map.field_overdue")),
            "participation_rate": column.NumberColumn(ctx.t("map.field_participation_rate"), format="percent"),
            "volunteers_per_1000": column.NumberColumn(ctx.t("map.field_volunteers_per_1000"), format="%.1f"),
        },
    )


def show_grid_panel(ctx: PageContext, panel: GridPanel) -> None:
    """The selected grid: who leads it, how many live there, what is open and what is coming up."""
    st.subheader(ctx.t("map.panel_title", name=panel.name, code=panel.code))
    may_see_names = ctx.actor.may_see_names  # the public sees no one's name, nor (masked) phone
    kpi_row([
        *([Kpi(ctx.t("map.field_leader"), panel.leader or ctx.t("map.no_leader"))] if may_see_names else []),
        Kpi(ctx.t("map.field_population"), format_number(panel.population)),
        Kpi(ctx.t("map.field_households"), format_number(panel.households)),
        Kpi(ctx.t("map.field_open_issues"), format_number(panel.open_issues)),
        Kpi(ctx.t("map.field_overdue"), format_number(panel.overdue)),
    ], columns=2)
    phone = phone_for(ctx.actor, panel.leader_phone, panel.grid_id)  # in full only to who works on this grid
    if phone and may_see_names:
        # A stored phone is digits only (masked: with asterisks); as code it is shown literally.
        st.caption(ctx.t("map.leader_phone", phone=Markdown(f"`{phone}`")))
    column = st.column_config
    st.markdown(f"**{ctx.t('map.open_issues_list')}**")
    if panel.issues.empty:
        st.caption(ctx.t("map.no_open_issues"))
    else:
        issues = panel.issues.assign(state=[ctx.label("state", code) for code in panel.issues["state"]])
        st.dataframe(issues, hide_index=True, width="stretch", column_order=["title", "state", "due_date", "overdue"],
                     column_config={"title": column.TextColumn(ctx.t("map.column_title")),
                                    "state": column.TextColumn(ctx.t("map.column_state")),
                                    "due_date": column.DateColumn(ctx.t("map.column_due_date")),
                                    "overdue": column.CheckboxColumn(ctx.t("map.field_overdue"))})
    st.markdown(f"**{ctx.t('map.upcoming_events')}**")
    if panel.events.empty:
        st.caption(ctx.t("map.no_upcoming_events"))
    else:
        events = panel.events.assign(kind=[ctx.label("event_kind", code) for code in panel.events["kind"]])
        st.dataframe(events, hide_index=True, width="stretch", column_order=["starts_at", "title", "kind", "place"],
                     column_config={"starts_at": column.DatetimeColumn(ctx.t("map.column_starts_at"),
                                                                       format="YYYY-MM-DD HH:mm"),
                                    "title": column.TextColumn(ctx.t("map.column_title")),
                                    "kind": column.TextColumn(ctx.t("map.column_kind")),
                                    "place": column.TextColumn(ctx.t("map.column_place"))})
