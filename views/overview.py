"""Overview (总览): the committee's headline figures for the period and grid, each against the
previous period of equal length, what needs attention now, and the trends."""

import streamlit as st

from components.filters import grid_filter, grid_options, period_filter
from components.overview_sections import (
    attention_section,
    first_response_section,
    headline_cards,
    load_headlines,
    trend_section,
)
from components.page_setup import context

ctx = context()
st.title(ctx.t("nav.overview"))
period = period_filter(ctx)
grid_id = grid_filter(ctx)
if ctx.empty:
    st.info(ctx.t("common.empty_database"))
st.caption(ctx.t("overview.scope", start=period.start.isoformat(), end=period.end.isoformat(),
                 grid=ctx.t("common.all_grids") if grid_id is None else grid_options(ctx)[grid_id]))

figures = load_headlines(period, grid_id)
headline_cards(ctx, figures)
first_response_section(ctx, period, grid_id)
attention_section(ctx, figures, grid_id)
trend_section(ctx, period, grid_id)
