"""The meeting as it happens, in front of everyone (会议定事): one agenda item at a time with large
headings and nothing else on screen — the issue's summary, the figures that matter (how long it
has waited, how often it was deferred, similar issues in its grid), its grid on a small map and
its timeline — then the secretary records the decision, which moves the issue on in the core.
Previous / next also answer Page Up / Page Down (a presentation clicker). Who reported an issue
is never shown here: the screen is seen by the whole room."""


import folium
import pandas as pd
import streamlit as st
from branca.element import MacroElement, Template
from streamlit_folium import st_folium

from components.data import query
from components.forms import save
from components.grid_map import FitGrids, MapStyle, ProjectorMapStyle, label_html, use_local_assets
from components.issue_forms import note_text, step_text
from components.kpi import format_number
from components.meeting_forms import VIEW_NEXT_KEY, agenda_item_label, may_plan, when
from components.page_setup import PageContext, recheck_sign_in
from components.projector import paged_table, scroll_to_block
from gongzhi.clock import today
from gongzhi.crud.meetings import (
    MEETING_REJECT_REASONS,
    DecisionInput,
    close_meeting,
    decide_item,
    decisions_allowed,
    defer_remaining,
    record_meeting_attendance,
)
from gongzhi.db import current_revision, read_session
from gongzhi.domain import Decision, MeetingStatus, resolution_due
from gongzhi.escape import markdown_literal
from gongzhi.geo import combined_bounds
from gongzhi.privacy import mask_personal_data
from gongzhi.queries.grid_metrics import GridShape, grid_shapes
from gongzhi.queries.issues import issue_detail, issue_timeline
from gongzhi.queries.meetings import ItemFigures, MeetingDetail, follow_up, item_figures, list_meetings, meeting_detail
from gongzhi.queries.organisations import list_organisations

ITEM_KEY = "meeting_live_item"  # (meeting id, index of the agenda item on screen)
ITEM_CONTAINER = "meeting_item"  # the presenter block: its CSS class is st-key-meeting_item
FACTS_CONTAINER = "meeting_facts"
SCROLL_RUN_KEY = "meeting_live_scroll_run"
MAP_HEIGHT = 300
GRID_FILL = "#1d4ed8"
OTHER_FILL = "#e5e7eb"
OUTLINE = "#374151"
MAP_GRID_CLASS = "gongzhi-meeting-grid"  # on every grid's <path>; the issue's grid also has ITEM_GRID_CLASS
ITEM_GRID_CLASS = "gongzhi-meeting-grid-item"
TOPIC_DECISIONS = (Decision.APPROVE.value, Decision.REJECT.value, Decision.DEFER.value)
SCREEN_CHECK_SECONDS = 5  # how often a meeting-room screen looks for a new decision (or a revoked link)


def meeting_screen(ctx: PageContext) -> None:
    """For a screen in the meeting room holding a display link for the live meeting (as the
    public role): the meeting being held — the soonest planned one — read-only, on the item under
    discussion (its first undecided one). Every few seconds the screen checks for a change of the
    data (a decision recorded, attendance saved) and redraws, so it follows the secretary; a
    revoked or expired link stops it at that check."""
    _follow_the_meeting(ctx)
    planned = query(list_meetings, status=MeetingStatus.PLANNED.value)  # latest first
    detail = query(meeting_detail, meeting_id=int(planned.iloc[-1].id)) if not planned.empty else None
    if detail is None:
        st.title(ctx.t("meetings.screen_title"))
        st.info(ctx.t("meetings.screen_no_meeting"))
        return
    st.title(markdown_literal(mask_personal_data(detail.title)))
    live_meeting(ctx, detail, screen=True)


@st.fragment(run_every=SCREEN_CHECK_SECONDS)
def _follow_the_meeting(ctx: PageContext) -> None:
    recheck_sign_in(ctx)
    with read_session() as session:
        if current_revision(session) != ctx.revision:
            st.rerun(scope="app")


def live_meeting(ctx: PageContext, detail: MeetingDetail, *, screen: bool = False) -> None:
    """The page's title is the meeting's; below it the attendance figures, then the item on
    screen — the presenter block, which the screen scrolls to whenever the item changes — and
    below that, off the projected screen, deferring the rest and closing the meeting. On a
    meeting-room screen (`screen`) the item is always the one under discussion, the only panel is
    the decision, and mobile or ID numbers in user text are masked."""
    decided = int(detail.agenda["decision"].notna().sum())
    planned = detail.status == MeetingStatus.PLANNED
    running = planned and may_plan(ctx) and not screen
    status, attendance = st.columns([3, 1], vertical_alignment="center")
    status.markdown(ctx.t("meetings.live_status_short", present=len(detail.attendees), quorum=detail.quorum,
                          quorum_met=_yes_no(ctx, detail.quorum_met), decided=decided, total=len(detail.agenda)))
    if running:
        with attendance:
            attendance_form(ctx, detail)
        if detail.quorum_met is None:
            st.warning(ctx.t("meetings.error_quorum_unknown"), icon=":material/how_to_reg:")
    if planned:
        promised_last_time(ctx, detail)
    if detail.agenda.empty:
        st.info(ctx.t("meetings.agenda_empty"))
    else:
        if screen:
            st.session_state.pop(ITEM_KEY, None)  # the item under discussion, not one chosen here
        index = _current_index(detail)
        with st.container(key=ITEM_CONTAINER):
            _navigation(ctx, detail, index, screen=screen)
            show_item(ctx, detail, index, screen=screen)
        _scroll_to_item(int(detail.agenda.iloc[index].id))
    if running:
        st.divider()
        defer_rest, close = st.columns(2)
        with defer_rest:
            defer_rest_form(ctx, detail)
        with close:
            close_form(ctx, detail)


def _scroll_to_item(item_id: int) -> None:
    """The item on screen starts at the top of the screen: after every run of the live view (Page
    Up/Down, a decision recorded, attendance saved, a panel chosen) the browser scrolls to the item."""
    run = st.session_state[SCROLL_RUN_KEY] = st.session_state.get(SCROLL_RUN_KEY, 0) + 1
    scroll_to_block(ITEM_CONTAINER, nonce=run * 1_000_000 + int(item_id))


def promised_last_time(ctx: PageContext, detail: MeetingDetail) -> None:
    """The meeting opens with what the previous one promised: how its decisions stand now."""
    decisions = query(follow_up)
    earlier = decisions[decisions["held_at"] < detail.held_at]
    if earlier.empty:
        return
    last = earlier[earlier["meeting_id"] == earlier.iloc[0]["meeting_id"]]  # newest meeting first
    counts = last["status"].value_counts()
    st.markdown(ctx.t("meetings.live_promised", title=markdown_literal(last.iloc[0]["meeting_title"]),
                      held_at=when(last.iloc[0]["held_at"]),
                      done=int(counts.get("done", 0)), on_time=int(counts.get("on_time", 0)),
                      overdue=int(counts.get("overdue", 0)), deferred=int(counts.get("deferred", 0))))


def _yes_no(ctx: PageContext, value) -> str:
    if value is None or pd.isna(value):
        return "—"
    return ctx.t("common.yes") if bool(value) else ctx.t("common.no")


def _current_index(detail: MeetingDetail) -> int:
    """The item on screen: where the secretary left this meeting, else its first undecided item."""
    stored = st.session_state.get(ITEM_KEY)
    if stored and stored[0] == detail.id:
        index = stored[1]
    else:
        undecided = [i for i, d in enumerate(detail.agenda["decision"]) if not isinstance(d, str)]
        index = undecided[0] if undecided else 0
    index = max(0, min(index, len(detail.agenda) - 1))
    st.session_state[ITEM_KEY] = (detail.id, index)
    return index


def _go_to(meeting_id: int, index: int) -> None:
    st.session_state[ITEM_KEY] = (meeting_id, index)


def _navigation(ctx: PageContext, detail: MeetingDetail, index: int, *, screen: bool = False) -> None:
    total = len(detail.agenda)
    position = f"**{ctx.t('meetings.live_position', n=index + 1, total=total)}**"
    if screen:  # the screen follows the meeting: no way to move away from the item under discussion
        st.markdown(position, text_alignment="center")
        return
    back, where, forward = st.columns([1, 1, 1], vertical_alignment="center")
    back.button(ctx.t("meetings.live_previous"), key="meeting_live_previous", icon=":material/arrow_back:",
                on_click=_go_to, args=(detail.id, index - 1), disabled=index == 0, width="stretch",
                shortcut="PageUp")
    where.markdown(position, text_alignment="center")
    forward.button(ctx.t("meetings.live_next"), key="meeting_live_next", icon=":material/arrow_forward:",
                   on_click=_go_to, args=(detail.id, index + 1), disabled=index == total - 1, width="stretch",
                   shortcut="PageDown")


# What is on demand, and why a switch of panels in place: the title and the four facts stay on the
# screen while the room looks at the timeline or the map (a dialog would cover them, and a clicker
# cannot close it); only the chosen panel is built, so the map is drawn at its size when it is
# visible (Leaflet in a hidden tab draws at size zero) and a decision does not rebuild maps nobody
# looks at; and each item opens on its decision, so the screen always starts with what to decide.
PANELS = ("decide", "details", "similar", "map")


def show_item(ctx: PageContext, detail: MeetingDetail, index: int, *, screen: bool = False) -> None:
    """The presenter block: the item's number and title, four facts, then one panel — the
    decision (or what was decided), the details and timeline, similar issues, or the map (on a
    meeting-room screen only the decision, with mobile and ID numbers in user text masked)."""
    row = detail.agenda.iloc[index]
    masked = mask_personal_data if screen else str
    st.header(markdown_literal(masked(f"{int(row.position)}. {agenda_item_label(ctx, row)}")), anchor=False)
    issue_id = None if pd.isna(row.issue_id) else int(row.issue_id)
    issue = query(issue_detail, issue_id=issue_id, may_see_personal_data=False) if issue_id is not None else None
    figures = query(item_figures, issue_id=issue_id) if issue_id is not None else None
    if issue_id is not None and (issue is None or figures is None):
        st.warning(ctx.t("meetings.live_issue_gone"))
        return
    _facts(ctx, issue, figures)
    panels = PANELS if issue is not None and not screen else PANELS[:1]
    panel = "decide"
    if len(panels) > 1:
        panel = st.segmented_control(ctx.t("meetings.panel"), panels, default="decide", required=True,
                                     key=f"meeting_panel_{int(row.id)}", label_visibility="collapsed",
                                     format_func=lambda code: ctx.t(f"meetings.panel_{code}"), width="stretch")
    if panel == "details":
        _details_panel(ctx, issue, figures)
    elif panel == "similar":
        _similar_panel(ctx, figures)
    elif panel == "map":
        _map_panel(ctx, issue)
    elif isinstance(row.decision, str):
        st.success(masked(decision_summary(ctx, row)), icon=":material/gavel:")
    elif detail.status == MeetingStatus.PLANNED and may_plan(ctx):
        decision_form(ctx, detail, row, index, issue.state if issue is not None else None)


def _facts(ctx: PageContext, issue, figures: ItemFigures | None) -> None:
    """Grid, stage, days waiting (or overdue) and times deferred, side by side as small cards."""
    if issue is None:
        facts = [(ctx.t("meetings.fact_kind"), ctx.t("meetings.fact_free_topic"))]
    else:
        overdue = bool(figures.days_overdue)
        facts = [
            (ctx.t("meetings.fact_grid"), issue.grid_name),
            (ctx.t("meetings.fact_stage"), ctx.label("state", issue.state)),
            (ctx.t("meetings.fact_days_overdue" if overdue else "meetings.fact_days_waiting"),
             format_number(figures.days_overdue if overdue else figures.days_waited)),
            (ctx.t("meetings.fact_times_deferred"), format_number(figures.times_deferred)),
        ]
    with st.container(key=FACTS_CONTAINER):
        for column, (label, value) in zip(st.columns([3, 2, 2, 2]), facts, strict=False):
            # st.metric renders its value as Markdown: user text (the grid's name) goes through the helper.
            column.metric(label, markdown_literal(value, starts_line=False), border=True)


def _details_panel(ctx: PageContext, issue, figures: ItemFigures) -> None:
    summary = ctx.t("meetings.live_summary", category=ctx.label("category", issue.category),
                    grid=markdown_literal(issue.grid_name), state=ctx.label("state", issue.state),
                    reported=when(issue.reported_at))
    st.markdown(f"**{summary}**")
    if issue.description:
        st.text(issue.description)
    if issue.lead_org_name:
        st.text(ctx.plain("meetings.live_lead_now", org=issue.lead_org_name, due=issue.due_date.isoformat()))
    st.markdown(figures_text(ctx, figures, issue.due_date.isoformat()))
    st.markdown(f"##### {ctx.t('issues.timeline')}")
    timeline_table(ctx, query(issue_timeline, issue_id=issue.id))


def _similar_panel(ctx: PageContext, figures: ItemFigures) -> None:
    st.markdown(ctx.t("meetings.live_fig_similar", open=figures.similar_open, total=figures.similar_total))
    if not figures.similar.empty:
        paged_table(ctx, pd.DataFrame({
            ctx.t("meetings.live_similar"): [ctx.plain("meetings.issue_ref", id=int(r.id), title=r.title)
                                             for r in figures.similar.itertuples()],
            ctx.t("meetings.col_issue_state"): [ctx.label("state", s) for s in figures.similar["state"]],
        }), key="meeting_live_similar")


def _map_panel(ctx: PageContext, issue) -> None:
    shapes = query(grid_shapes)
    if any(shape.grid_id == issue.grid_id for shape in shapes):
        st_folium(item_map(shapes, issue.grid_id, projector=ctx.projector), key="meeting_item_map", height=MAP_HEIGHT,
                  use_container_width=True, returned_objects=[])
        st.caption(ctx.t("meetings.live_map_caption", grid=issue.grid_name))
    else:
        st.caption(ctx.t("meetings.live_no_boundary", grid=issue.grid_name))


def figures_text(ctx: PageContext, figures: ItemFigures, due: str) -> str:
    """The figures that matter as three short lines: a sentence reads better from the back of the
    room than a row of cards."""
    waited = (ctx.t("meetings.live_fig_overdue", days=figures.days_overdue, due=due) if figures.days_overdue
              else ctx.t("meetings.live_fig_waited", days=figures.days_waited, since=when(figures.waiting_since)))
    lines = [waited, ctx.t("meetings.live_fig_deferred", count=figures.times_deferred),
             ctx.t("meetings.live_fig_similar", open=figures.similar_open, total=figures.similar_total)]
    return "\n".join(f"- {line}" for line in lines)


def timeline_table(ctx: PageContext, timeline: pd.DataFrame) -> None:
    """The issue's timeline, newest first: when, which step, and the note (no names: the room sees it)."""
    newest = timeline.iloc[::-1]
    paged_table(ctx, pd.DataFrame({
        ctx.t("issues.col_time"): [when(t) for t in newest["created_at"]],
        ctx.t("issues.col_step"): [step_text(ctx, row) for row in newest.itertuples()],
        ctx.t("issues.col_note"): [note_text(ctx, kind, note)
                                   for kind, note in zip(newest["kind"], newest["note"], strict=True)],
    }), key="meeting_live_timeline")


class ItemLabel(MacroElement):
    """The item's grid name at its label point, as the grid map draws names: a divIcon marker
    (no default marker image to fetch), not interactive."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            L.marker([{{ this.lat }}, {{ this.lon }}], {
                icon: L.divIcon({className: "gongzhi-grid-label-icon", html: {{ this.html|tojson }}, iconSize: [0, 0]}),
                interactive: false, keyboard: false
            }).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, shape: GridShape):
        super().__init__()
        self._name = "GongzhiItemLabel"
        self.lat, self.lon, self.html = float(shape.label_lat), float(shape.label_lon), label_html(shape.name)


def item_map(shapes: list[GridShape], grid_id: int, *, projector: bool = False) -> folium.Map:
    """The issue's grid filled among its neighbours, fitted to it; no basemap and no interaction,
    so it reads well on a projector and needs nothing from the internet."""
    target = next(shape for shape in shapes if shape.grid_id == grid_id)
    box = combined_bounds([target.geometry])
    m = folium.Map(location=[(box[1] + box[3]) / 2, (box[0] + box[2]) / 2], zoom_start=16, tiles=None,
                   zoom_control=False, scrollWheelZoom=False, dragging=False, zoom_snap=0.25)
    use_local_assets(m)
    MapStyle().add_to(m)
    if projector:
        ProjectorMapStyle().add_to(m)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": shape.grid_id, "properties": {}, "geometry": shape.geometry}
            for shape in shapes]},
        style_function=lambda feature: {
            "fillColor": GRID_FILL if feature["id"] == grid_id else OTHER_FILL,
            "fillOpacity": 0.55 if feature["id"] == grid_id else 0.8, "color": OUTLINE,
            "weight": 4 if feature["id"] == grid_id else 1,
            "className": f"{MAP_GRID_CLASS} {ITEM_GRID_CLASS}" if feature["id"] == grid_id else MAP_GRID_CLASS},
        interactive=False,
    ).add_to(m)
    ItemLabel(target).add_to(m)
    fit = FitGrids([[box[1], box[0]], [box[3], box[2]]])
    fit.legend_room = 24  # no legend on this map
    fit.add_to(m)
    return m


def decision_summary(ctx: PageContext, row) -> str:
    """One line saying what was decided, with the votes: Markdown with user text made literal."""
    parts = [f"**{ctx.label('decision', row.decision)}**"]
    if isinstance(row.lead_org_name, str):
        parts.append(ctx.t("meetings.summary_lead", org=markdown_literal(row.lead_org_name)))
    if row.due_date is not None and not pd.isna(row.due_date):
        parts.append(ctx.t("meetings.summary_due", due=row.due_date.isoformat()))
    if not pd.isna(row.merged_into_id):
        parts.append(ctx.t("meetings.summary_merged", id=int(row.merged_into_id)))
    parts.append(ctx.t("meetings.minutes_votes", votes_for=int(row.votes_for), votes_against=int(row.votes_against),
                       votes_abstain=int(row.votes_abstain)))
    if row.decision_note:
        parts.append(markdown_literal(row.decision_note))
    return " · ".join(parts)


def _default_due(category: str | None) -> object:
    return resolution_due(category, today())


def decision_form(ctx: PageContext, detail: MeetingDetail, row, index: int, state: str | None) -> None:
    """The decisions this item allows as one row of choices, the fields the chosen one needs, the
    votes (everyone present for, by default), and two ways to record it: unanimous in one click,
    or with the votes as entered."""
    item_id = int(row.id)
    is_issue = not pd.isna(row.issue_id)
    options = decisions_allowed(state) if is_issue else TOPIC_DECISIONS
    if is_issue and not options:
        st.warning(ctx.t("meetings.live_no_decision", state=ctx.label("state", state) if state else "—"))
        return
    decision = st.segmented_control(ctx.t("meetings.field_decision"), options, default=options[0], required=True,
                                    key=f"decide_kind_{item_id}", width="stretch", label_visibility="collapsed",
                                    format_func=lambda code: ctx.label("decision", code))
    organisations = {int(r.id): r.name for r in query(list_organisations).itertuples()}
    lead = due = reason = merge_into = None
    cooperators: list[int] = []
    present = len(detail.attendees)
    with st.form(f"decide_{item_id}", border=False):
        if decision == Decision.APPROVE:
            lead_column, others_column, due_column = st.columns([3, 3, 2])
            lead = lead_column.selectbox(ctx.t("meetings.field_lead_org"), list(organisations), index=None,
                                         format_func=organisations.__getitem__, key=f"decide_lead_{item_id}",
                                         placeholder=ctx.t("meetings.choose_placeholder"))
            cooperators = others_column.multiselect(ctx.t("meetings.field_cooperators"), list(organisations),
                                                    format_func=organisations.__getitem__,
                                                    key=f"decide_cooperators_{item_id}",
                                                    placeholder=ctx.t("common.choose_options"))
            category = query(issue_detail, issue_id=int(row.issue_id),
                             may_see_personal_data=False).category if is_issue else None
            due = due_column.date_input(ctx.t("meetings.field_due_date"), value=_default_due(category),
                                        min_value=today(), key=f"decide_due_{item_id}")
        if decision == Decision.REJECT and is_issue:
            reason = st.selectbox(ctx.t("meetings.field_reject_reason"), MEETING_REJECT_REASONS,
                                  index=None, format_func=lambda code: ctx.label("reject_reason", code),
                                  key=f"decide_reason_{item_id}", placeholder=ctx.t("meetings.choose_placeholder"))
        if decision == Decision.MERGE:
            merge_into = st.number_input(ctx.t("meetings.field_merge_into"), min_value=1, step=1, value=None,
                                         key=f"decide_merge_{item_id}", help=ctx.t("meetings.merge_help"))
        # The note beside the votes: one row, so the whole decision fits the projected screen.
        note_column, *vote_columns = st.columns([4, 2, 2, 2])
        note = note_column.text_input(ctx.t("meetings.field_decision_note"), max_chars=1000,
                                      key=f"decide_note_{item_id}", help=ctx.t("meetings.note_help"))
        # Keyed on the number present: recorded attendance changes the default, not a typed count.
        defaults = {"for": present, "against": 0, "abstain": 0}
        votes = [column.number_input(ctx.t(f"meetings.field_votes_{side}"), min_value=0, step=1,
                                     value=defaults[side], key=f"decide_votes_{side}_{item_id}_{present}")
                 for column, side in zip(vote_columns, ("for", "against", "abstain"), strict=True)]
        unanimous_column, votes_column = st.columns(2)
        unanimous = unanimous_column.form_submit_button(
            ctx.t("meetings.decide_unanimous", present=present), key=f"decide_unanimous_{item_id}", type="primary",
            icon=":material/done_all:", width="stretch")
        with_votes = votes_column.form_submit_button(ctx.t("meetings.decide_with_votes"),
                                                     key=f"decide_submit_{item_id}", width="stretch")
    if unanimous or with_votes:
        data = DecisionInput(decision=decision, note=note or "", lead_org_id=lead, due_date=due, reject_reason=reason,
                             merge_into_id=int(merge_into) if merge_into else None,
                             votes_for=int(votes[0] or 0), votes_against=int(votes[1] or 0),
                             votes_abstain=int(votes[2] or 0))

        def record(session):
            item = decide_item(session=session, actor=ctx.actor, agenda_item_id=item_id, data=data,
                               cooperator_ids=cooperators or [], unanimous=bool(unanimous),
                               expected_version=int(row.version))
            _go_to(detail.id, min(index + 1, len(detail.agenda) - 1))  # on to the next item
            return item

        # form_key: the second run of a double click shows the first one's success instead of
        # "already decided"
        save(ctx, record, success=ctx.t("meetings.decision_saved", decision=ctx.label("decision", decision),
                                        item=markdown_literal(agenda_item_label(ctx, row))),
             form_key=f"decide_{item_id}", submission=(item_id, data, tuple(cooperators or []), bool(unanimous)))


def attendance_form(ctx: PageContext, detail: MeetingDetail) -> None:
    """Who is present and whether quorum held, recorded before the first decision."""
    with st.popover(ctx.t("meetings.attendance_heading"), icon=":material/how_to_reg:"):
        with st.form("meeting_attendance"):
            # Before attendance is first recorded, the list starts from whom the meeting invited.
            attendees = st.text_area(ctx.t("meetings.field_attendees"),
                                     value="\n".join(detail.attendees or detail.invited),
                                     key=f"attendance_names_{detail.id}", help=ctx.t("meetings.field_attendees_help"))
            choices = (True, False)
            quorum_met = st.radio(ctx.t("meetings.field_quorum_met"), choices, horizontal=True,
                                  index=None if detail.quorum_met is None else choices.index(bool(detail.quorum_met)),
                                  format_func=lambda value: _yes_no(ctx, value), key=f"attendance_quorum_{detail.id}",
                                  help=ctx.t("meetings.quorum_help", quorum=detail.quorum))
            submitted = st.form_submit_button(ctx.t("meetings.attendance_submit"), key="meeting_attendance_submit")
    if submitted:
        save(ctx, lambda session: record_meeting_attendance(
            session=session, actor=ctx.actor, meeting_id=detail.id, attendees=attendees or "", quorum_met=quorum_met,
            expected_version=detail.version),
             success=ctx.t("meetings.attendance_saved"))


def defer_rest_form(ctx: PageContext, detail: MeetingDetail) -> None:
    """Defer every item not decided yet, after one confirmation (the meeting ran out of time)."""
    undecided = int(detail.agenda["decision"].isna().sum())
    if not undecided:
        return
    with st.popover(ctx.t("meetings.defer_rest", count=undecided), icon=":material/schedule:", width="stretch"):
        confirmed = st.button(ctx.t("meetings.defer_rest_confirm", count=undecided), key="meeting_defer_rest_confirm",
                              type="primary", width="stretch")
    if confirmed:
        def defer(session):
            items = defer_remaining(session=session, actor=ctx.actor, meeting_id=detail.id,
                                    expected_version=detail.version)
            _go_to(detail.id, len(detail.agenda) - 1)
            return items

        save(ctx, defer, success=ctx.t("meetings.defer_rest_saved", count=undecided), form_key="meeting_defer_rest",
             submission=detail.id)


def close_form(ctx: PageContext, detail: MeetingDetail) -> None:
    """Close the meeting: its chair and recorder are confirmed, items not decided are deferred
    (the minutes say so), it becomes held and its minutes are written; the minutes are shown next."""
    undecided = int(detail.agenda["decision"].isna().sum())
    with st.popover(ctx.t("meetings.close_heading"), icon=":material/task_alt:", width="stretch"), \
            st.form("meeting_close", border=False):
        chair = st.text_input(ctx.t("meetings.field_chair"), value=detail.chair, max_chars=40,
                              key=f"meeting_close_chair_{detail.id}")
        recorder = st.text_input(ctx.t("meetings.field_recorder"), value=detail.recorder, max_chars=40,
                                 key=f"meeting_close_recorder_{detail.id}")
        if undecided:
            st.caption(ctx.t("meetings.close_will_defer", count=undecided))
        submitted = st.form_submit_button(ctx.t("meetings.close_submit"), key="meeting_close_submit",
                                          type="primary", icon=":material/task_alt:", width="stretch")
    if submitted:
        def close(session):
            meeting = close_meeting(session=session, actor=ctx.actor, meeting_id=detail.id,
                                    expected_version=detail.version, defer_undecided=True,
                                    chair=chair or "", recorder=recorder or "")
            st.session_state[VIEW_NEXT_KEY] = "minutes"
            return meeting

        save(ctx, close, success=ctx.t("meetings.closed_saved", title=markdown_literal(detail.title)),
             form_key="meeting_close", submission=detail.id)
