"""What a meeting leaves behind: its minutes (on screen, as Markdown and as PDF, in the meeting's
language) and the follow-up of every decision taken — done, on time or overdue, with the latest
progress note — so that the next meeting opens with what was promised last time."""

import pandas as pd
import streamlit as st

from components.data import query
from components.filters import Period
from components.kpi import Kpi, format_number, kpi_row
from components.meeting_forms import when
from components.page_setup import PageContext
from components.projector import paged_table
from gongzhi.domain import MeetingStatus
from gongzhi.minutes import FontNotFound, item_title, meeting_minutes_pdf, minutes_markdown
from gongzhi.queries.meetings import FOLLOW_UP_STATUSES, MeetingDetail, follow_up

FOLLOW_UP_STATUS_KEY = "follow_up_status"
# The figures a meeting opens with: what is late, what is under way, what got done.
HEADLINE_STATUSES = ("overdue", "on_time", "done", "deferred")


def minutes_view(ctx: PageContext, detail: MeetingDetail) -> None:
    """The two downloads, then the minutes as they read on paper. A meeting not closed yet shows
    a draft built from its agenda so far."""
    if detail.status == MeetingStatus.PLANNED:
        st.info(ctx.t("meetings.minutes_draft"))
    text = minutes_markdown(detail)  # user text in it is made literal: safe to render as Markdown
    markdown_column, pdf_column = st.columns(2)
    markdown_column.download_button(
        ctx.t("meetings.download_markdown"), data=text.encode("utf-8"), file_name=f"minutes-{detail.id}.md",
        mime="text/markdown", key="minutes_download_markdown", icon=":material/description:", on_click="ignore")
    try:
        pdf = query(meeting_minutes_pdf, meeting_id=detail.id)
    except FontNotFound as error:
        pdf_column.error(error.message(ctx.lang))
        pdf = None
    if pdf is not None:
        pdf_column.download_button(
            ctx.t("meetings.download_pdf"), data=pdf, file_name=f"minutes-{detail.id}.pdf", mime="application/pdf",
            key="minutes_download_pdf", icon=":material/picture_as_pdf:", on_click="ignore")
    with st.container(border=True):
        st.markdown(minutes_markdown(detail, top_level=2), anchors=False)  # below the page's own title


def follow_up_view(ctx: PageContext, period: Period) -> None:
    """Every decision of the meetings held in the period and where it stands now."""
    st.caption(ctx.t("meetings.follow_up_intro", start=period.start.isoformat(), end=period.end.isoformat()))
    decisions = query(follow_up, start=period.start, end=period.end)
    counts = decisions["status"].value_counts()
    kpi_row([Kpi(ctx.t(f"meetings.status_{status}"), format_number(int(counts.get(status, 0))))
             for status in HEADLINE_STATUSES])
    status = st.selectbox(ctx.t("meetings.field_follow_up_status"), [None, *FOLLOW_UP_STATUSES],
                          key=FOLLOW_UP_STATUS_KEY,
                          format_func=lambda code: ctx.t("meetings.all_statuses") if code is None
                          else ctx.t(f"meetings.status_{code}"))
    shown = decisions if status is None else decisions[decisions["status"] == status]
    if shown.empty:
        st.info(ctx.t("meetings.follow_up_empty"))
        return
    paged_table(ctx, pd.DataFrame({
        ctx.t("meetings.col_held_at"): [when(value) for value in shown["held_at"]],
        ctx.t("meetings.col_title"): shown["meeting_title"],
        ctx.t("meetings.col_item"): [item_title(ctx.lang, row) for row in shown.itertuples()],
        ctx.t("meetings.col_decision"): [ctx.label("decision", d) for d in shown["decision"]],
        ctx.t("meetings.col_lead_org"): shown["lead_org_name"].fillna("—"),
        ctx.t("meetings.col_due_date"): [d.isoformat() if d is not None and not pd.isna(d) else "—"
                                         for d in shown["due_date"]],
        ctx.t("meetings.col_status"): [ctx.t(f"meetings.status_{s}") for s in shown["status"]],
        ctx.t("meetings.col_progress_notes"): shown["progress_notes"].astype(int),
        ctx.t("meetings.col_last_progress"): [
            "—" if pd.isna(at) else f"{when(at)} · {note}"
            for at, note in zip(shown["last_progress_at"], shown["last_progress_note"], strict=True)],
    }), key="meeting_follow_up", columns=[ctx.t("meetings.col_item"), ctx.t("meetings.col_decision"),
                                          ctx.t("meetings.col_due_date"), ctx.t("meetings.col_status")])
