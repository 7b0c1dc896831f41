"""网格地图 — the grids on a map coloured by a chosen figure, every grid's figures in a table,
and the selected grid's panel. Clicking a grid selects it on every page."""

import streamlit as st

from components.data import query
from components.filters import grid_filter, period_filter, select_grid
from components.grid_map import (
    MapLayers,
    grid_map,
    map_summary,
    metrics_table,
    missing_boundaries_note,
    show_grid_panel,
)
from components.page_setup import context
from gongzhi.queries.events import upcoming_events
from gongzhi.queries.facilities import facilities
from gongzhi.queries.grid_metrics import METRICS, grid_metrics, grid_panel, grid_shapes
from gongzhi.queries.issues import issue_points

EVENT_LAYER_LIMIT = 200  # upcoming events on the map; a community plans far fewer

ctx = context()
st.title(ctx.t("nav.grid_map"))
if ctx.empty:
    st.info(ctx.t("common.empty_database"))
    st.stop()

period = period_filter(ctx)
selected = grid_filter(ctx)
metrics = query(grid_metrics, start=period.start, end=period.end)
if metrics.empty:
    st.info(ctx.t("map.no_grids"))
    st.stop()

metric = st.radio(ctx.t("map.metric"), METRICS, key="grid_map_metric", horizontal=True,
                  format_func=lambda code: ctx.t(f"map.metric_{code}"))
st.caption(ctx.t(f"map.metric_help_{metric}"))

shapes = query(grid_shapes)
map_column, panel_column = st.columns([2, 1], gap="large")
with map_column:
    if shapes:
        # The issue layer follows the period like the issues page; finished issues only on request.
        show_closed = st.toggle(ctx.t("map.show_closed_issues"), key="grid_map_show_closed")

        def layers() -> MapLayers:  # loaded only when the map is not cached yet
            return MapLayers(
                issues=query(issue_points, start=period.start, end=period.end, include_closed=show_closed,
                             staff=ctx.actor.may_see_personal_data),
                facilities=query(facilities), events=query(upcoming_events, limit=EVENT_LAYER_LIMIT))

        clicked = grid_map(ctx, metrics, shapes, metric, selected_grid_id=selected, layers=layers,
                           cache_key=(ctx.database_url,
                                      ctx.key_for(grid_metrics, grid_shapes, issue_points, facilities, upcoming_events),
                                      period.start, period.end, show_closed, ctx.actor.may_see_personal_data),
                           shapes_key=(ctx.database_url, ctx.key_for(grid_shapes)))
        if clicked is not None and clicked != selected:
            select_grid(clicked, ctx.actor)
            st.rerun()
        st.caption(map_summary(ctx, metrics, metric))
        note = missing_boundaries_note(ctx, metrics, shapes)
        if note:
            st.caption(note)
    else:
        st.info(ctx.t("map.no_boundaries"))
with panel_column:
    panel = None if selected is None else query(grid_panel, grid_id=selected,
                                                 may_see_personal_data=ctx.actor.may_see_personal_data)
    if panel is None:
        st.info(ctx.t("map.select_prompt") if shapes else ctx.t("map.select_prompt_sidebar"))
    else:
        show_grid_panel(ctx, panel)

st.header(ctx.t("map.table_title"))
metrics_table(ctx, metrics)
st.caption(ctx.t("map.table_caption", start=period.start.isoformat(), end=period.end.isoformat()))
