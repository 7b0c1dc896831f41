"""Bringing grid boundaries in: a GeoJSON file checked feature by feature and previewed on a map
before anything is saved, or one grid's boundary drawn (or its corners moved) on the map with
Leaflet.draw. Both save through gongzhi.boundaries.save_boundaries, all or nothing, with the
repairs it offers applied only where the user ticked their consent.

The maps load only vendored assets: Leaflet as on the grid map (components.grid_map) and
Leaflet.draw from static/leaflet-draw (folium's Draw plugin points to a CDN by default). They
have no basemap: the outlines of the other grids are what the drawing is placed against."""

import folium
import streamlit as st
from branca.element import MacroElement
from folium.plugins import Draw
from folium.template import Template
from streamlit_folium import st_folium

from components.forms import save
from components.grid_map import (
    FitGrids,
    FocusWithoutScrolling,
    Legend,
    MapStyle,
    cached_map_payload,
    send_map,
    use_local_assets,
)
from components.page_setup import PageContext
from gongzhi.boundaries import (
    BoundaryReport,
    FeatureReport,
    Severity,
    read_geojson,
    save_boundaries,
    validate_features,
)
from gongzhi.config import static_url_prefix
from gongzhi.errors import GongzhiError
from gongzhi.escape import escape_text, markdown_join
from gongzhi.geo import combined_bounds, parse_boundary
from gongzhi.permissions import may_write
from gongzhi.queries.areas import grid_boundaries

UPLOAD_KEY = "boundary_upload"
PREVIEW_KEY = "boundary_preview"
DRAW_GRID_KEY = "boundary_draw_grid"
CONSENT_PREFIX = "boundary_consent_"
DRAW_CONSENT_KEY = "boundary_draw_consent"
MAP_HEIGHT = 520
IMPORT_CLASS = "gongzhi-import"  # on every previewed feature's <path>, plus gongzhi-import-<status>
# Preview colours by what will happen to the feature.
STATUS_COLOURS = {"ok": "#2563eb", "repair": "#f59e0b", "error": "#dc2626", "skipped": "#9ca3af"}
EXISTING_COLOUR = "#6b7280"
REPAIR_OF = {"swapped": "swap", "swapped_out_of_range": "swap", "unclosed_ring": "close", "invalid": "make_valid"}

Grid = tuple[int, str, str, str | None]  # id, code, name, stored boundary


def writable_grid_ids(ctx: PageContext, grids: list[Grid]) -> set[int]:
    """The grids whose boundary this user may change (permissions.may_write)."""
    return {grid_id for grid_id, *_ in grids if may_write(ctx.actor, grid_id)}


def status(feature: FeatureReport) -> str:
    if feature.grid_id is None:
        return "skipped"
    if feature.errors:
        return "error"
    return "repair" if feature.repairs else "ok"


def _grid_label(code: str | None, name: str | None) -> str:
    return f"{code} {name}" if code else ""


# --- import ---------------------------------------------------------------------------------------

def import_section(ctx: PageContext, grids: list[Grid]) -> None:
    st.caption(ctx.t("boundaries.import_help"))
    uploaded = st.file_uploader(ctx.t("boundaries.upload"), type=["geojson", "json"], key=UPLOAD_KEY)
    if uploaded is None:
        return
    try:
        features = read_geojson(uploaded.getvalue())
    except GongzhiError as error:
        st.error(error.message(ctx.lang))
        return
    if not features:
        st.warning(ctx.t("boundaries.no_features"))
        return
    report = validate_features(features, grids=grids)
    st.subheader(ctx.t("boundaries.report_title", count=len(report.features), matched=len(report.matched)))
    report_table(ctx, report)
    if report.grids_without_boundary:
        st.warning(ctx.t("boundaries.grids_without_boundary", grids=ctx.t("map.list_separator").join(
            _grid_label(code, name) for _, code, name in report.grids_without_boundary)))
    preview_map(ctx, report, grids)
    save_import(ctx, report, grids)


def problem_rows(ctx: PageContext, report: BoundaryReport) -> list[dict]:
    """One row per problem (one "ready" row for a feature without any), as the table shows them."""
    rows = []
    for feature in report.features:
        base = {"feature": f"#{feature.number} {feature.label}",
                "grid": _grid_label(feature.grid_code, feature.grid_name) or ctx.t("boundaries.no_grid"),
                "matched_by": ctx.t(f"boundaries.matched_by_{feature.matched_by}") if feature.matched_by else ""}
        if not feature.problems:
            rows.append({**base, "severity": ctx.t("boundaries.severity_ok"), "message": ctx.t("boundaries.ready")})
        for problem in feature.problems:
            rows.append({**base, "severity": ctx.t(f"boundaries.severity_{problem.severity}"),
                         "message": problem.message(ctx.lang)})
    return rows


def report_table(ctx: PageContext, report: BoundaryReport) -> None:
    column = st.column_config
    st.dataframe(problem_rows(ctx, report), hide_index=True, width="stretch",
                 column_order=["feature", "grid", "matched_by", "severity", "message"],
                 column_config={"feature": column.TextColumn(ctx.t("boundaries.column_feature")),
                                "grid": column.TextColumn(ctx.t("boundaries.column_grid")),
                                "matched_by": column.TextColumn(ctx.t("boundaries.column_matched_by")),
                                "severity": column.TextColumn(ctx.t("boundaries.column_severity")),
                                "message": column.TextColumn(ctx.t("boundaries.column_message"), width="large")})


def _on_earth(shape) -> bool:
    min_lon, min_lat, max_lon, max_lat = shape.bounds
    return -180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90


def _base_map(ctx: PageContext, boxes: list) -> folium.Map:
    box = combined_bounds(boxes)
    centre = [(box[1] + box[3]) / 2, (box[0] + box[2]) / 2] if box else [0.0, 0.0]
    m = folium.Map(location=centre, zoom_start=15, tiles=None, control_scale=True, max_zoom=19, zoom_snap=0.25)
    use_local_assets(m)
    MapStyle().add_to(m)
    FocusWithoutScrolling().add_to(m)  # the first click or drawn vertex is not lost to a scroll
    if box:
        FitGrids([[box[1], box[0]], [box[3], box[2]]]).add_to(m)
    return m


def _existing_layer(grids: list[Grid], leave_out: set[int]) -> folium.GeoJson | None:
    """The other grids' stored outlines, dashed, for orientation; not clickable."""
    features = []
    for grid_id, _code, _name, boundary in grids:
        shape = None if grid_id in leave_out else parse_boundary(boundary)
        if shape is not None:
            features.append({"type": "Feature", "properties": {}, "geometry": shape.__geo_interface__})
    if not features:
        return None
    return folium.GeoJson({"type": "FeatureCollection", "features": features}, interactive=False,
                          style_function=lambda _f: {"fill": False, "color": EXISTING_COLOUR, "weight": 1.5,
                                                     "dashArray": "4 4"})


def preview_map(ctx: PageContext, report: BoundaryReport, grids: list[Grid]) -> None:
    """Every readable feature as it would be saved (repairs applied), coloured by what will
    happen to it; the grids the file leaves alone dashed beneath. Nothing comes back from it."""
    drawn = [f for f in report.features if f.shape is not None and not f.shape.is_empty and _on_earth(f.shape)]
    assigned = {f.grid_id for f in report.matched}
    m = _base_map(ctx, [f.shape for f in drawn])
    existing = _existing_layer(grids, assigned)
    if existing is not None:
        existing.add_to(m)
    features = [{"type": "Feature", "id": f.number,
                 "properties": {"number": f.number, "status": status(f),
                                "tip": escape_text(f"#{f.number} {f.label} · {ctx.t(f'boundaries.status_{status(f)}')}")},
                 "geometry": f.shape.__geo_interface__} for f in drawn]
    if features:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            style_function=lambda feature: {
                "color": STATUS_COLOURS[feature["properties"]["status"]], "weight": 3,
                "fillColor": STATUS_COLOURS[feature["properties"]["status"]], "fillOpacity": 0.35,
                "className": f"{IMPORT_CLASS} {IMPORT_CLASS}-{feature['properties']['status']}"},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(m)
    legend = "".join(f'<div><span class="gongzhi-swatch" style="background:{colour}"></span>'
                     f'{escape_text(ctx.t(f"boundaries.status_{key}"))}</div>' for key, colour in STATUS_COLOURS.items())
    Legend(legend).add_to(m)
    st_folium(m, key=PREVIEW_KEY, height=MAP_HEIGHT, use_container_width=True, returned_objects=[])


def _repair_names(ctx: PageContext, feature: FeatureReport) -> str:
    names = dict.fromkeys(ctx.t(f"boundaries.repair_{REPAIR_OF[p.code]}") for p in feature.repairs)
    return markdown_join(ctx.t("map.list_separator"), names)


def save_import(ctx: PageContext, report: BoundaryReport, grids: list[Grid]) -> None:
    writable = writable_grid_ids(ctx, grids)
    others = [f for f in report.matched if f.grid_id not in writable]
    if others:
        st.info(ctx.t("boundaries.not_yours", features=", ".join(f"#{f.number}" for f in others)))
    consented = set()
    asking = [f for f in report.needing_consent if f.grid_id in writable]
    if asking:
        st.markdown(f"**{ctx.t('boundaries.consent_title')}**")
    for feature in asking:
        if st.checkbox(ctx.t("boundaries.consent_feature", feature=f"#{feature.number} {feature.label}",
                             grid=_grid_label(feature.grid_code, feature.grid_name),
                             repairs=_repair_names(ctx, feature)),
                       key=f"{CONSENT_PREFIX}{feature.number}"):
            consented.add(feature.number)
    assignments, consent = report.assignments(consented, grid_ids=writable)
    blocked = [f for f in report.blocking if f.grid_id in writable]
    if blocked:
        st.error(ctx.t("boundaries.blocked", features=", ".join(f"#{f.number}" for f in blocked)))
    if st.button(ctx.t("boundaries.save_import", count=len(assignments)), type="primary", key="boundary_save_import",
                 disabled=not assignments or bool(blocked)):
        save(ctx, lambda session: save_boundaries(session=session, actor=ctx.actor, assignments=assignments,
                                                  repaired_consent=consent),
             success=ctx.t("boundaries.saved", count=len(assignments)))


# --- drawing --------------------------------------------------------------------------------------

class StartOver(MacroElement):
    """Starting a new shape clears the drawing layer, so what the layer holds is always the one
    boundary being made (streamlit-folium returns the layer's contents as all_drawings)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.on("draw:drawstart", function () {
                {{ this.group.get_name() }}.clearLayers();
            });
        {% endmacro %}
    """)

    def __init__(self, group: folium.FeatureGroup):
        super().__init__()
        self._name = "GongzhiStartOver"
        self.group = group


def local_draw(group: folium.FeatureGroup) -> Draw:
    """Leaflet.draw for polygons (and rectangles) only, loading the vendored copy."""
    draw = Draw(feature_group=group, show_geometry_on_click=False, position="topleft",
                draw_options={"polyline": False, "circle": False, "marker": False, "circlemarker": False,
                              "rectangle": {"showArea": False},
                              "polygon": {"allowIntersection": False, "showArea": False}},
                edit_options={"poly": {"allowIntersection": False}})
    prefix = static_url_prefix()
    # Instance attributes: the class lists (shared by every Draw) point to a CDN.
    draw.default_js = [("leaflet_draw_js", f"{prefix}/leaflet-draw/leaflet.draw.js")]
    draw.default_css = [("leaflet_draw_css", f"{prefix}/leaflet-draw/leaflet.draw.css")]
    return draw


def build_draw_map(ctx: PageContext, grids: list[Grid], grid_id: int) -> folium.Map:
    """The other grids dashed, and the chosen grid's current boundary on the drawing layer,
    where its corners can be moved (edit tool) or a new shape drawn in its place."""
    current = next((parse_boundary(boundary) for gid, _, _, boundary in grids if gid == grid_id), None)
    shapes = [s for s in (parse_boundary(b) for *_, b in grids) if s is not None]
    m = _base_map(ctx, shapes)
    existing = _existing_layer(grids, {grid_id})
    if existing is not None:
        existing.add_to(m)
    group = folium.FeatureGroup(name="drawing", control=False)
    for polygon in getattr(current, "geoms", [current] if current is not None else []):
        rings = [polygon.exterior, *polygon.interiors]
        folium.Polygon([[[lat, lon] for lon, lat in ring.coords] for ring in rings], color="#2563eb", weight=3,
                       fill_opacity=0.25).add_to(group)
    group.add_to(m)
    local_draw(group).add_to(m)
    StartOver(group).add_to(m)
    return m


def drawn_geometry(value: dict | None) -> dict | None:
    """The drawing layer's contents from st_folium (all_drawings) as one geometry: a Polygon, or
    a MultiPolygon when it holds several shapes; None before anything was drawn or edited."""
    features = (value or {}).get("all_drawings")
    if not features:
        return None
    polygons = [f["geometry"]["coordinates"] for f in features
                if (f.get("geometry") or {}).get("type") == "Polygon"]
    if not polygons:
        return None
    return {"type": "Polygon", "coordinates": polygons[0]} if len(polygons) == 1 else \
        {"type": "MultiPolygon", "coordinates": polygons}


def draw_section(ctx: PageContext, grids: list[Grid]) -> None:
    writable = writable_grid_ids(ctx, grids)
    choices = [grid for grid in grids if grid[0] in writable]
    if not choices:
        st.info(ctx.t("boundaries.no_writable_grids"))
        return
    st.caption(ctx.t("boundaries.draw_help"))
    names = {grid_id: _grid_label(code, name) for grid_id, code, name, _ in choices}
    grid_id = st.selectbox(ctx.t("boundaries.draw_grid"), list(names), key=DRAW_GRID_KEY, format_func=names.get)
    # Keyed on the areas' revision too: after a save of a boundary the map starts again from what
    # is stored (gongzhi.revisions; a save of anything else leaves it as it is).
    revision = ctx.key_for(grid_boundaries)
    key = f"boundary_draw_{grid_id}_{revision}"
    # Rendered once per grid and data revision: with a district's 1,000 outlines around the chosen
    # grid, rendering took seconds on every rerun (the browser keeps the map while it is the same).
    payload = cached_map_payload((ctx.database_url, revision, grid_id, ctx.lang, static_url_prefix()), key,
                                 lambda: build_draw_map(ctx, grids, grid_id))
    value = send_map(payload, key=key, height=MAP_HEIGHT, returned_objects=["all_drawings"])
    geometry = drawn_geometry(value)
    if geometry is None:
        st.caption(ctx.t("boundaries.draw_nothing_yet"))
        return
    code = next(code for gid, code, _, _ in grids if gid == grid_id)
    report = validate_features([{"type": "Feature", "properties": {"code": code}, "geometry": geometry}], grids=grids)
    feature = report.features[0]
    for problem in feature.problems:
        show = st.error if problem.severity == Severity.ERROR else st.warning
        show(problem.message(ctx.lang))
    consented = set()
    if feature.repairs and not feature.errors and st.checkbox(
            ctx.t("boundaries.consent_drawn", repairs=_repair_names(ctx, feature)), key=DRAW_CONSENT_KEY):
        consented.add(feature.number)
    assignments, consent = report.assignments(consented)
    if st.button(ctx.t("boundaries.save_drawn", grid=names[grid_id]), type="primary", key="boundary_save_drawn",
                 disabled=bool(feature.errors)):
        save(ctx, lambda session: save_boundaries(session=session, actor=ctx.actor, assignments=assignments,
                                                  repaired_consent=consent),
             success=ctx.t("boundaries.saved", count=1))
