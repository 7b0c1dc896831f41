"""Meetings (会议定事): planned meetings and those held in the period, the chosen meeting's agenda
with its decisions and votes, attendees and minutes; planning a meeting and its agenda."""

import streamlit as st

from components.data import query
from components.downloads import meeting_downloads
from components.filters import period_filter
from components.forms import show_flash
from components.meeting_forms import (
    agenda_forms,
    agenda_table,
    attendees_and_minutes,
    awaiting_table,
    may_plan,
    meeting_picker,
    meeting_summary,
    meetings_table,
    plan_meeting_form,
)
from components.page_setup import context
from gongzhi.domain import MeetingStatus
from gongzhi.queries.meetings import issues_awaiting_meeting, list_meetings, meeting_detail

ctx = context()
st.title(ctx.t("nav.meetings"))
show_flash()
period = period_filter(ctx)
if ctx.empty:
    st.info(ctx.t("common.empty_database"))

planned = query(list_meetings, status=MeetingStatus.PLANNED.value)
held = query(list_meetings, start=period.start, end=period.end, status=MeetingStatus.HELD.value)
awaiting = query(issues_awaiting_meeting)

st.header(ctx.t("meetings.planned_heading"))
if planned.empty:
    st.info(ctx.t("meetings.none_planned"))
else:
    meetings_table(ctx, planned.iloc[::-1])
st.header(ctx.t("meetings.held_heading", start=period.start.isoformat(), end=period.end.isoformat()))
if held.empty:
    st.info(ctx.t("meetings.none_held"))
else:
    meetings_table(ctx, held)
meeting_downloads(ctx, planned, held, period)

st.header(ctx.t("meetings.detail_heading"))
meeting_id = meeting_picker(ctx, planned, held)
detail = query(meeting_detail, meeting_id=meeting_id) if meeting_id is not None else None
if detail is None:
    st.info(ctx.t("meetings.none_chosen"))
else:
    meeting_summary(ctx, detail)
    agenda_table(ctx, detail)
    agenda_forms(ctx, detail, awaiting)
    attendees_and_minutes(ctx, detail)

st.header(ctx.t("meetings.awaiting_heading", count=len(awaiting)))
awaiting_table(ctx, awaiting)

if may_plan(ctx):
    st.header(ctx.t("meetings.plan_heading"))
    plan_meeting_form(ctx)
