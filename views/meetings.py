"""Meetings (会议定事), in four views: the overview (planned meetings and those held in the period,
the chosen meeting's agenda — proposed, reordered, added to, trimmed — attendees and minutes, the
issues waiting, planning a meeting); the live meeting, one item at a time for the projector, where
decisions are taken; the minutes with their downloads; and the follow-up of past decisions. A
meeting-room screen holding a display link for the live meeting sees that alone, read-only."""

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
    proposal_form,
    reorder_controls,
    view_switch,
)
from components.meeting_live import live_meeting, meeting_screen
from components.meeting_records import follow_up_view, minutes_view
from components.page_setup import context, display_view
from gongzhi.domain import MeetingStatus
from gongzhi.escape import markdown_literal
from gongzhi.queries.meetings import agenda_proposal, issues_awaiting_meeting, list_meetings, meeting_detail
from gongzhi.sessions import DisplayView

ctx = context()
if display_view() == DisplayView.LIVE_MEETING:  # a meeting-room screen with a display link: that alone
    meeting_screen(ctx)
    st.stop()
title = st.empty()  # the page's name, or in the live and minutes views the meeting's title
show_flash()
view = view_switch(ctx)
period = period_filter(ctx)
title.title(ctx.t("nav.meetings"))
if ctx.empty:
    st.info(ctx.t("common.empty_database"))

planned = query(list_meetings, status=MeetingStatus.PLANNED.value)
held = query(list_meetings, start=period.start, end=period.end, status=MeetingStatus.HELD.value)

if view == "overview":
    awaiting = query(issues_awaiting_meeting)
    st.header(ctx.t("meetings.planned_heading"))
    if planned.empty:
        st.info(ctx.t("meetings.none_planned"))
    else:
        meetings_table(ctx, planned.iloc[::-1], key="meetings_planned")
    st.header(ctx.t("meetings.held_heading", start=period.start.isoformat(), end=period.end.isoformat()))
    if held.empty:
        st.info(ctx.t("meetings.none_held"))
    else:
        meetings_table(ctx, held, key="meetings_held")
    meeting_downloads(ctx, planned, held, period)

    st.header(ctx.t("meetings.detail_heading"))
    meeting_id = meeting_picker(ctx, planned, held)
    detail = query(meeting_detail, meeting_id=meeting_id) if meeting_id is not None else None
    if detail is None:
        st.info(ctx.t("meetings.none_chosen"))
    else:
        meeting_summary(ctx, detail)
        agenda_table(ctx, detail)
        reorder_controls(ctx, detail)
        proposal_form(ctx, detail, query(agenda_proposal))
        agenda_forms(ctx, detail, awaiting)
        attendees_and_minutes(ctx, detail)

    st.header(ctx.t("meetings.awaiting_heading", count=len(awaiting)))
    awaiting_table(ctx, awaiting)

    if may_plan(ctx):
        st.header(ctx.t("meetings.plan_heading"))
        plan_meeting_form(ctx)
elif view == "follow_up":
    title.title(ctx.t("meetings.view_follow_up"))
    follow_up_view(ctx, period)
else:
    # Any held meeting, whatever its date: one closed before its planned date (held_at still in
    # the future) must be found here too, not only those of the period.
    meeting_id = meeting_picker(ctx, planned, query(list_meetings, status=MeetingStatus.HELD.value))
    detail = query(meeting_detail, meeting_id=meeting_id) if meeting_id is not None else None
    if detail is None:
        st.info(ctx.t("meetings.none_chosen"))
    elif view == "live":
        title.title(markdown_literal(detail.title))
        live_meeting(ctx, detail)
    else:
        title.title(ctx.t("meetings.minutes_title", title=markdown_literal(detail.title)))
        minutes_view(ctx, detail)
