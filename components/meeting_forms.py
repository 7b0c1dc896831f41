"""The meetings page's pieces: the view switch, meeting lists, the chosen meeting's agenda with
decisions and votes, and the forms to plan a meeting and to set its agenda (accept the proposed
agenda, add, reorder, remove). The live meeting is in components.meeting_live, minutes and the
follow-up in components.meeting_records."""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from components.forms import save
from components.kpi import Kpi, format_number, kpi_row
from components.page_setup import PageContext
from components.projector import paged_table
from gongzhi.clock import today
from gongzhi.crud.meetings import (
    MeetingCreate,
    accept_proposal,
    add_agenda_item,
    move_agenda_item,
    plan_meeting,
    remove_agenda_item,
)
from gongzhi.domain import MeetingKind, MeetingStatus
from gongzhi.escape import markdown_literal
from gongzhi.i18n import LANGUAGES
from gongzhi.permissions import may_write
from gongzhi.queries.meetings import MeetingDetail

SELECTED_KEY = "meetings_selected"
SELECT_NEXT_KEY = "meetings_select_next"  # set by a save, applied before the picker is drawn
VIEW_KEY = "meetings_view"
VIEW_NEXT_KEY = "meetings_view_next"  # set by a save (closing a meeting), applied before the switch is drawn
VIEWS = ("overview", "live", "minutes", "follow_up")
DEFAULT_MEETING_TIME = time(19, 0)
LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}


def view_switch(ctx: PageContext) -> str:
    """Which part of the page to show: the overview (lists, agenda, planning), the live meeting
    (one item at a time, nothing else on screen), the minutes, or the follow-up of decisions."""
    if VIEW_NEXT_KEY in st.session_state:
        st.session_state[VIEW_KEY] = st.session_state.pop(VIEW_NEXT_KEY)
    return st.radio(ctx.t("meetings.view"), VIEWS, key=VIEW_KEY, horizontal=True,
                    format_func=lambda code: ctx.t(f"meetings.view_{code}"), label_visibility="collapsed")


def may_plan(ctx: PageContext) -> bool:
    """Whether the acting user may plan meetings and agendas (the core checks it again on save):
    meetings belong to no grid."""
    return may_write(ctx.actor, None)


def when(moment: datetime | None) -> str:
    return "" if moment is None or pd.isna(moment) else moment.strftime("%Y-%m-%d %H:%M")


def meetings_table(ctx: PageContext, frame: pd.DataFrame, *, key: str) -> None:
    """A list of meetings (rows of list_meetings) with translated columns."""
    table = pd.DataFrame({
        ctx.t("meetings.col_held_at"): [when(value) for value in frame["held_at"]],
        ctx.t("meetings.col_title"): frame["title"],
        ctx.t("meetings.col_kind"): [ctx.label("meeting_kind", kind) for kind in frame["kind"]],
        ctx.t("meetings.col_place"): frame["place"],
        ctx.t("meetings.col_agenda_items"): frame["agenda_items"].astype(int),
        ctx.t("meetings.col_decided_items"): frame["decided_items"].astype(int),
        ctx.t("meetings.col_quorum"): frame["quorum"].astype(int),
        ctx.t("meetings.col_quorum_met"): [_yes_no(ctx, value) for value in frame["quorum_met"]],
    })
    paged_table(ctx, table, key=key, columns=[ctx.t("meetings.col_held_at"), ctx.t("meetings.col_title"),
                                              ctx.t("meetings.col_decided_items")])


def _yes_no(ctx: PageContext, value) -> str:
    if value is None or pd.isna(value):
        return "—"
    return ctx.t("common.yes") if bool(value) else ctx.t("common.no")


def meeting_picker(ctx: PageContext, planned: pd.DataFrame, held: pd.DataFrame) -> int | None:
    """Choose one meeting: the planned ones (soonest first), then those held in the period."""
    rows = pd.concat([planned.iloc[::-1], held]) if not planned.empty else held
    options = {int(row.id): f"{when(row.held_at)} · {row.title} ({ctx.label('meeting_status', row.status)})"
               for row in rows.itertuples()}
    if SELECT_NEXT_KEY in st.session_state:
        st.session_state[SELECTED_KEY] = st.session_state.pop(SELECT_NEXT_KEY)
    if not options:
        return None
    if st.session_state.get(SELECTED_KEY) not in options:
        st.session_state[SELECTED_KEY] = next(iter(options))
    # persist_state: the choice survives a view that does not show the picker (the follow-up).
    return st.selectbox(ctx.t("meetings.choose"), list(options), key=SELECTED_KEY, format_func=options.__getitem__,
                        persist_state="page")


def meeting_summary(ctx: PageContext, detail: MeetingDetail) -> None:
    """Title, kind, time and place, then the agenda and attendance figures as cards."""
    st.subheader(markdown_literal(detail.title))
    st.text(ctx.plain("meetings.summary_line", kind=ctx.label("meeting_kind", detail.kind), held_at=when(detail.held_at),
                          place=detail.place or "—", status=ctx.label("meeting_status", detail.status)))
    decided = int(detail.agenda["decision"].notna().sum())
    kpi_row([
        Kpi(ctx.t("meetings.kpi_agenda_items"), format_number(len(detail.agenda))),
        Kpi(ctx.t("meetings.kpi_decided"), format_number(decided)),
        Kpi(ctx.t("meetings.kpi_attendees"), format_number(len(detail.attendees)),
            help=ctx.t("meetings.kpi_attendees_help", quorum=detail.quorum)),
        Kpi(ctx.t("meetings.kpi_quorum_met"), _yes_no(ctx, detail.quorum_met)),
    ])


def agenda_item_label(ctx: PageContext, row) -> str:
    """Plain text: for tables, options and st.text (markdown_literal it for Markdown)."""
    if row.issue_id is not None and not pd.isna(row.issue_id):
        return ctx.plain("meetings.issue_ref", id=int(row.issue_id), title=row.issue_title)
    return row.topic


def agenda_table(ctx: PageContext, detail: MeetingDetail) -> None:
    """The agenda in order: each item, its issue's state now, the decision and the votes."""
    agenda = detail.agenda
    if agenda.empty:
        st.info(ctx.t("meetings.agenda_empty"))
        return
    table = pd.DataFrame({
        ctx.t("meetings.col_position"): agenda["position"].astype(int),
        ctx.t("meetings.col_item"): [agenda_item_label(ctx, row) for row in agenda.itertuples()],
        ctx.t("meetings.col_issue_state"): [ctx.label("state", s) if isinstance(s, str) else "—"
                                            for s in agenda["issue_state"]],
        ctx.t("meetings.col_decision"): [ctx.label("decision", d) if isinstance(d, str) else ctx.t("meetings.undecided")
                                         for d in agenda["decision"]],
        ctx.t("meetings.col_votes_for"): agenda["votes_for"].astype(int),
        ctx.t("meetings.col_votes_against"): agenda["votes_against"].astype(int),
        ctx.t("meetings.col_votes_abstain"): agenda["votes_abstain"].astype(int),
        ctx.t("meetings.col_lead_org"): agenda["lead_org_name"].fillna("—"),
        ctx.t("meetings.col_due_date"): [d.isoformat() if d is not None and not pd.isna(d) else "—"
                                         for d in agenda["due_date"]],
        ctx.t("meetings.col_decision_note"): agenda["decision_note"],
    })
    paged_table(ctx, table, key="meetings_agenda", columns=[
        ctx.t("meetings.col_position"), ctx.t("meetings.col_item"), ctx.t("meetings.col_decision"),
        ctx.t("meetings.col_lead_org"), ctx.t("meetings.col_due_date")])


def attendees_and_minutes(ctx: PageContext, detail: MeetingDetail) -> None:
    """Names and minutes as plain text: user text is never interpreted as Markdown or HTML."""
    left, right = st.columns([1, 2])
    with left:
        st.markdown(f"**{ctx.t('meetings.attendees')}**")
        st.text("\n".join(detail.attendees) if detail.attendees else ctx.t("meetings.no_attendees"))
    with right:
        st.markdown(f"**{ctx.t('meetings.minutes')}**")
        st.text(detail.minutes or ctx.t("meetings.no_minutes"))


def awaiting_table(ctx: PageContext, awaiting: pd.DataFrame) -> None:
    """Issues waiting for a meeting, longest waiting first."""
    if awaiting.empty:
        st.info(ctx.t("meetings.none_awaiting"))
        return
    table = pd.DataFrame({
        ctx.t("meetings.col_issue"): [ctx.plain("meetings.issue_ref", id=int(row.id), title=row.title)
                                      for row in awaiting.itertuples()],
        ctx.t("meetings.col_grid"): awaiting["grid_name"].fillna("—"),
        ctx.t("meetings.col_category"): [ctx.label("category", c) for c in awaiting["category"]],
        ctx.t("meetings.col_waiting_since"): [when(row.waiting_since if not pd.isna(row.waiting_since)
                                                   else row.reported_at) for row in awaiting.itertuples()],
        ctx.t("meetings.col_times_deferred"): awaiting["times_deferred"].astype(int),
        ctx.t("meetings.col_planned_for"): [
            "—" if pd.isna(row.planned_meeting_id) else f"{when(row.planned_meeting_at)} · {row.planned_meeting_title}"
            for row in awaiting.itertuples()],
    })
    paged_table(ctx, table, key="meetings_awaiting", columns=[
        ctx.t("meetings.col_issue"), ctx.t("meetings.col_grid"), ctx.t("meetings.col_waiting_since")])


def plan_meeting_form(ctx: PageContext) -> None:
    """Plan a new meeting; on success the page shows it as the chosen meeting."""
    with st.form("meeting_new"):
        title = st.text_input(ctx.t("meetings.field_title"), key="meeting_new_title", max_chars=120)
        kind = st.selectbox(ctx.t("meetings.field_kind"), [k.value for k in MeetingKind], key="meeting_new_kind",
                            format_func=lambda code: ctx.label("meeting_kind", code))
        day_column, time_column = st.columns(2)
        day = day_column.date_input(ctx.t("meetings.field_held_at"), value=today() + timedelta(days=7),
                                    key="meeting_new_date")
        hour = time_column.time_input(ctx.t("meetings.field_time"), value=DEFAULT_MEETING_TIME, key="meeting_new_time")
        place = st.text_input(ctx.t("meetings.field_place"), key="meeting_new_place", max_chars=120)
        attendees = st.text_area(ctx.t("meetings.field_attendees"), key="meeting_new_attendees",
                                 help=ctx.t("meetings.field_attendees_help"))
        chair_column, recorder_column = st.columns(2)
        chair = chair_column.text_input(ctx.t("meetings.field_chair"), key="meeting_new_chair", max_chars=40)
        recorder = recorder_column.text_input(ctx.t("meetings.field_recorder"), key="meeting_new_recorder",
                                              max_chars=40)
        quorum = st.number_input(ctx.t("meetings.field_quorum"), min_value=0, step=1, value=0, key="meeting_new_quorum")
        language = st.selectbox(ctx.t("meetings.field_language"), LANGUAGES, index=LANGUAGES.index(ctx.lang),
                                key="meeting_new_language", format_func=LANGUAGE_NAMES.__getitem__)
        submitted = st.form_submit_button(ctx.t("meetings.plan_submit"), key="meeting_new_submit", type="primary")
    if submitted:
        data = MeetingCreate(title=title or "", kind=kind or "", place=place or "", attendees=attendees or "",
                             held_at=datetime.combine(day, hour) if day and hour else None, quorum=int(quorum or 0),
                             language=language or ctx.lang, chair=chair or "", recorder=recorder or "")

        def plan(session):
            meeting = plan_meeting(session=session, actor=ctx.actor, data=data)
            st.session_state[SELECT_NEXT_KEY] = meeting.id
            return meeting

        save(ctx, plan, success=ctx.t("meetings.planned_saved", title=data.title.strip()), form_key="meeting_new",
             submission=data)


def proposal_form(ctx: PageContext, detail: MeetingDetail, proposal: pd.DataFrame) -> None:
    """The agenda proposed for a planned meeting (agenda_proposal: deferred, waiting, overdue):
    the secretary keeps what should be discussed and accepts it onto the agenda."""
    if detail.status != MeetingStatus.PLANNED or not may_plan(ctx):
        return
    st.markdown(f"#### {ctx.t('meetings.proposal_heading')}")
    if proposal.empty:
        st.caption(ctx.t("meetings.proposal_empty"))
        return
    labels = {int(row.id): ctx.plain("meetings.proposal_option", ref=ctx.plain("meetings.issue_ref", id=int(row.id),
                                                                                title=row.title),
                                 reason=ctx.t(f"meetings.reason_{row.reason}"), grid=row.grid_name or "—")
              for row in proposal.itertuples()}
    with st.form("agenda_proposal"):
        chosen = st.multiselect(ctx.t("meetings.field_proposal"), list(labels), default=list(labels),
                                format_func=labels.__getitem__, key="agenda_proposal_pick",
                                help=ctx.t("meetings.proposal_help"), placeholder=ctx.t("common.choose_options"))
        accept = st.form_submit_button(ctx.t("meetings.proposal_submit"), key="agenda_proposal_submit",
                                       type="primary")
    if accept:
        save(ctx, lambda session: accept_proposal(session=session, actor=ctx.actor, meeting_id=detail.id,
                                                  issue_ids=chosen or [], expected_version=detail.version),
             success=ctx.t("meetings.proposal_accepted", count=len(chosen or [])))


def reorder_controls(ctx: PageContext, detail: MeetingDetail) -> None:
    """The agenda in order, each item with buttons to move it up or down."""
    agenda = detail.agenda
    if detail.status != MeetingStatus.PLANNED or not may_plan(ctx) or len(agenda) < 2:
        return
    with st.expander(ctx.t("meetings.reorder_heading"), icon=":material/swap_vert:"):
        last = len(agenda) - 1
        for index, row in enumerate(agenda.itertuples()):
            text, up, down = st.columns([6, 2, 2], vertical_alignment="center")
            text.text(f"{int(row.position)}. {agenda_item_label(ctx, row)}")
            for column, step, icon, disabled, name in ((up, -1, ":material/arrow_upward:", index == 0, "up"),
                                                       (down, 1, ":material/arrow_downward:", index == last, "down")):
                if column.button(ctx.t(f"meetings.move_{name}"), key=f"agenda_{name}_{int(row.id)}", icon=icon,
                                 disabled=disabled, width="stretch"):
                    save(ctx, lambda session, item_id=int(row.id), step=step, version=int(row.version):
                         move_agenda_item(session=session, actor=ctx.actor, agenda_item_id=item_id, step=step,
                                          expected_version=version),
                         success=ctx.t("meetings.item_moved"))


def agenda_forms(ctx: PageContext, detail: MeetingDetail, awaiting: pd.DataFrame) -> None:
    """Add an issue waiting for a meeting (or a free topic) to a planned meeting's agenda, or
    take an undecided item off it."""
    if detail.status != MeetingStatus.PLANNED:
        st.caption(ctx.t("meetings.agenda_closed"))
        return
    if not may_plan(ctx):
        return
    on_agenda = {int(i) for i in detail.agenda["issue_id"].dropna()}
    issues = {int(row.id): ctx.plain("meetings.issue_ref", id=int(row.id), title=row.title)
              for row in awaiting.itertuples() if int(row.id) not in on_agenda}
    add_column, remove_column = st.columns(2)
    with add_column, st.form("agenda_add"):
        st.markdown(f"**{ctx.t('meetings.add_heading')}**")
        issue_id = st.selectbox(ctx.t("meetings.field_issue"), [None, *issues], key="agenda_add_issue",
                                format_func=lambda i: ctx.t("meetings.no_issue") if i is None else issues[i])
        topic = st.text_input(ctx.t("meetings.field_topic"), key="agenda_add_topic", max_chars=200,
                              help=ctx.t("meetings.field_topic_help"))
        add = st.form_submit_button(ctx.t("meetings.add_submit"), key="agenda_add_submit", type="primary")
    if add:
        save(ctx, lambda session: add_agenda_item(session=session, actor=ctx.actor, meeting_id=detail.id,
                                                  issue_id=issue_id, topic=topic or "",
                                                  expected_version=detail.version),
             success=ctx.t("meetings.item_added"))

    undecided = detail.agenda[detail.agenda["decision"].isna()]
    if undecided.empty:
        return
    items = {int(row.id): f"{int(row.position)}. {agenda_item_label(ctx, row)}" for row in undecided.itertuples()}
    versions = {int(row.id): int(row.version) for row in undecided.itertuples()}
    with remove_column, st.form("agenda_remove"):
        st.markdown(f"**{ctx.t('meetings.remove_heading')}**")
        item_id = st.selectbox(ctx.t("meetings.field_agenda_item"), list(items), key="agenda_remove_item",
                               format_func=items.__getitem__)
        remove = st.form_submit_button(ctx.t("meetings.remove_submit"), key="agenda_remove_submit")
    if remove and item_id is not None:
        save(ctx, lambda session: remove_agenda_item(session=session, actor=ctx.actor, agenda_item_id=item_id,
                                                     expected_version=versions[item_id]),
             success=ctx.t("meetings.item_removed"))

