"""Volunteers (志愿者): the form to add one (first, folded), headline figures, star levels and
monthly hours, the roster with its filters, one volunteer's service records, and the forms to
edit and log hours."""

import streamlit as st

from components.downloads import list_downloads
from components.filters import grid_filter, period_filter
from components.forms import show_flash
from components.page_setup import context
from components.volunteer_forms import (
    add_volunteer_form,
    choose_volunteer,
    headline_cards,
    hours_chart,
    roster_section,
    star_chart,
    top_volunteers_table,
    volunteer_panel,
)

ctx = context()
st.title(ctx.t("nav.volunteers"))
show_flash()
period = period_filter(ctx)
grid_id = grid_filter(ctx)

if ctx.empty:
    st.info(ctx.t("common.empty_database"))
else:
    st.caption(ctx.t("volunteers.intro"))
    add_volunteer_form(ctx, grid_id)  # task first: adding a volunteer is one click from the top
    headline_cards(ctx, period, grid_id)
    left, right = st.columns(2)
    with left:
        star_chart(ctx, grid_id)
    with right:
        hours_chart(ctx, period, grid_id)
    top_volunteers_table(ctx, period, grid_id)

    roster = roster_section(ctx, grid_id)
    list_downloads(ctx, "volunteers", roster.load_all if roster and roster.total else None)
    volunteer_id = choose_volunteer(ctx, roster)
    if volunteer_id is not None:
        volunteer_panel(ctx, volunteer_id)
