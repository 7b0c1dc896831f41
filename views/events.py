"""Events (活动) and participation (参与率): headline figures, participation by grid against its
population, monthly events and attendance, the upcoming and past events, and the forms."""

import streamlit as st

from components.data import query
from components.downloads import event_downloads
from components.event_forms import (
    attendance_form,
    create_event_form,
    edit_event_form,
    event_kpis,
    event_table,
    monthly_charts,
    participation_chart,
)
from components.filters import grid_filter, period_filter
from components.forms import show_flash
from components.page_setup import context
from gongzhi.permissions import Role
from gongzhi.queries.events import event_headline, list_events, monthly_participation, participation_by_grid

ctx = context()
st.title(ctx.t("nav.events"))
show_flash()
period = period_filter(ctx)
grid_id = grid_filter(ctx)

if ctx.empty:
    st.info(ctx.t("common.empty_database"))
    st.header(ctx.t("events.create"))
    create_event_form(ctx, grid_id=None)
    st.stop()

st.caption(ctx.t("events.intro"))
upcoming = query(list_events, grid_id=grid_id, upcoming=True)
past = query(list_events, start=period.start, end=period.end, grid_id=grid_id, upcoming=False)


def manage() -> None:
    """Create, edit, record attendance: tabs that remember which one is open (a save or a choice
    of event used to jump back to the first)."""
    st.header(ctx.t("events.manage"))
    create_tab, edit_tab, attendance_tab = st.tabs(
        [ctx.t("events.create"), ctx.t("events.edit"), ctx.t("events.record_attendance")],
        key="events_manage_tab", on_change="rerun")
    with create_tab:
        create_event_form(ctx, grid_id=grid_id)
    with edit_tab:
        edit_event_form(ctx, query(list_events, start=period.start, grid_id=grid_id))
    with attendance_tab:
        attendance_form(ctx, past)


# Task first for those whose work here is entering events and attendance (a grid leader): the
# forms at the top of the page, the figures below.
task_first = ctx.actor.role == Role.LEADER
if task_first:
    manage()

headline = query(event_headline, start=period.start, end=period.end, grid_id=grid_id)
event_kpis(ctx, headline)

if headline.events == 0 and headline.participants == 0:
    st.info(ctx.t("common.no_data"))
else:
    community = query(event_headline, start=period.start, end=period.end)
    participation_chart(ctx, query(participation_by_grid, start=period.start, end=period.end),
                        community.participation_rate)
    monthly_charts(ctx, query(monthly_participation, start=period.start, end=period.end, grid_id=grid_id))

upcoming_tab, past_tab = st.tabs([ctx.t("events.tab_upcoming", n=len(upcoming)), ctx.t("events.tab_past", n=len(past))])
with upcoming_tab:
    event_table(ctx, upcoming, past=False, empty_message=ctx.t("events.no_upcoming"))
with past_tab:
    event_table(ctx, past, past=True, empty_message=ctx.t("events.no_past_events"))
event_downloads(ctx, upcoming, past, period, grid_id)

if not task_first:
    manage()
