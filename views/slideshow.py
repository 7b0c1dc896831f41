"""Slideshow (幻灯片): the headline figures, the grid map and one card per grid, one at a time,
for the committee's meeting room; best shown in projector mode."""

import streamlit as st

from components.filters import period_filter
from components.page_setup import context
from components.slideshow import interval_choice, slideshow

ctx = context()
st.title(ctx.t("nav.slideshow"))
period = period_filter(ctx)
if ctx.empty:
    st.info(ctx.t("common.empty_database"))
slides = st.container()  # above the interval choice, which is rarely changed during a meeting
interval = interval_choice(ctx)
with slides:
    slideshow(ctx, period, interval)
