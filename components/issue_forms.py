"""The pieces of the issues page: headline cards, the two charts, the list with its filters, one
issue's detail and timeline, and the forms that move an issue round the five-step loop.

Forms send the version of the issue the person was looking at (`expected_version`), so a save
made against a copy someone else has changed meanwhile is refused instead of overwriting it."""

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from components.audit_view import delete_record_action
from components.charts import bar_chart
from components.data import query
from components.filters import entry_grid_choices
from components.forms import save
from components.kpi import Kpi, format_number, format_percent
from components.page_setup import PageContext
from components.projector import paged_table
from gongzhi import lifecycle
from gongzhi.clock import today
from gongzhi.crud.issues import (
    DESCRIPTION_MAX,
    NOTE_MAX,
    TITLE_MAX,
    IssueCreate,
    add_progress_note,
    assign,
    create_issue,
)
from gongzhi.domain import ISSUE_CATEGORIES, ISSUE_STATE_ORDER, FixStatus, IssueState, RejectReason, resolution_due
from gongzhi.errors import FieldError, ValidationError
from gongzhi.escape import Markdown, markdown_literal
from gongzhi.permissions import may_rate, may_write
from gongzhi.queries.areas import list_buildings
from gongzhi.queries.issues import IssueDetail, IssueHeadline, issue_detail, reporter_choices
from gongzhi.queries.organisations import list_organisations
from gongzhi.timeline import loop_steps

PICKER_KEY = "issue_selected"
OPEN_NEXT_KEY = "issue_open_next"  # an issue to select at the next run (e.g. the one just reported)
TABLE_CLICK_KEY = "issue_table_clicked"  # the row last clicked in the list
LINK_PARAM = "issue"  # /issues?issue=N opens issue N
LINK_SEEN_KEY = "_issue_link_seen"  # the last ?issue= value followed (or written)
SEEN_VERSION_KEY = "issue_seen_version"  # (issue id, version) the person last saw
# The list's first columns (number, title, stage): on screen together from 500 px of table on.
ID_WIDTH_PX, TITLE_WIDTH_PX, STATE_WIDTH_PX = 70, 280, 130
CARDS_SHOWN = 20  # issue cards on a phone; the picker below finds any other
REPORTER_CHOICES_MAX = 5_000  # residents offered as reporters of all grids at once (the demo has ~2,100)


# --- headline and charts ----------------------------------------------------------------------

def headline_cards(ctx: PageContext, headline: IssueHeadline) -> list[Kpi]:
    median = headline.median_days_to_resolve
    return [
        Kpi(ctx.t("issues.kpi_open"), format_number(headline.open_issues), help=ctx.t("issues.kpi_open_help")),
        Kpi(ctx.t("issues.kpi_overdue"), format_number(headline.overdue), help=ctx.t("issues.kpi_overdue_help")),
        Kpi(ctx.t("issues.kpi_median_days"), format_number(median, digits=1),
            help=ctx.t("issues.kpi_median_days_help", n=headline.resolved)),
        Kpi(ctx.t("issues.kpi_resolved_in_grid"), format_percent(headline.share_resolved_in_grid),
            help=ctx.t("issues.kpi_resolved_in_grid_help")),
        Kpi(ctx.t("issues.kpi_on_time"), format_percent(headline.on_time_share),
            help=ctx.t("issues.kpi_on_time_help")),
        Kpi(ctx.t("issues.kpi_satisfaction"), format_percent(headline.share_satisfied),
            help=ctx.t("issues.kpi_satisfaction_help", mean=format_number(headline.mean_rating, digits=1))),
    ]


def _bars_height(bars: int) -> int:
    """Room for every label of a horizontal bar chart, readable from the back of the room."""
    return max(220, 44 * bars)


def open_by_state_chart(ctx: PageContext, counts: pd.DataFrame) -> None:
    st.subheader(ctx.t("issues.chart_by_state"))
    total = int(counts["count"].sum())
    if total == 0:
        st.info(ctx.t("issues.no_open_issues"))
        return
    frame = counts.assign(label=[ctx.label("state", s) for s in counts["state"]])
    busiest = frame.loc[frame["count"].idxmax()]
    bar_chart(frame, x="label", y="count", x_title=ctx.t("issues.col_state"), y_title=ctx.t("issues.col_count"),
              sort=list(frame["label"]), horizontal=True, height=_bars_height(len(frame)),
              summary=ctx.plain("issues.chart_by_state_summary", total=total, state=busiest["label"],
                            n=int(busiest["count"])))


def category_chart(ctx: PageContext, by_category: pd.DataFrame) -> None:
    st.subheader(ctx.t("issues.chart_by_category"))
    reported = by_category[by_category["reported"] > 0]
    if reported.empty:
        st.info(ctx.t("common.no_data"))
        return
    frame = reported.assign(label=[ctx.label("category", c) for c in reported["category"]])
    top = frame.iloc[0]
    bar_chart(frame, x="label", y="reported", horizontal=True, sort=list(frame["label"]), height=_bars_height(len(frame)),
              x_title=ctx.t("issues.col_category"), y_title=ctx.t("issues.col_reported"),
              summary=ctx.plain("issues.chart_by_category_summary", total=int(frame["reported"].sum()),
                            category=top["label"], n=int(top["reported"]), open=int(frame["still_open"].sum())))


# --- list -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListFilters:
    states: tuple[str, ...]
    category: str | None
    overdue_only: bool


def list_filters(ctx: PageContext) -> ListFilters:
    states_col, category_col, overdue_col = st.columns([3, 2, 1], vertical_alignment="bottom")
    states = states_col.multiselect(ctx.t("issues.filter_states"), [s.value for s in ISSUE_STATE_ORDER],
                                    format_func=lambda s: ctx.label("state", s), key="issue_filter_states",
                                    placeholder=ctx.t("issues.filter_all_states"))
    category = category_col.selectbox(ctx.t("issues.filter_category"), [None, *ISSUE_CATEGORIES],
                                      format_func=lambda c: ctx.t("issues.all_categories") if c is None
                                      else ctx.label("category", c), key="issue_filter_category")
    overdue_only = overdue_col.checkbox(ctx.t("issues.filter_overdue"), key="issue_filter_overdue")
    return ListFilters(tuple(states), category, overdue_only)


def issue_table(ctx: PageContext, issues: pd.DataFrame) -> None:
    """The list with readable, translated columns; the reporter column only for viewers who may
    see personal data."""
    shown = pd.DataFrame({
        ctx.t("issues.col_id"): issues["id"],
        ctx.t("issues.col_title"): issues["title"],
        ctx.t("issues.col_state"): [ctx.label("state", s) for s in issues["state"]],
        ctx.t("issues.col_category"): [ctx.label("category", c) for c in issues["category"]],
        ctx.t("issues.col_grid"): issues["grid_name"],
        ctx.t("issues.col_reported_at"): issues["reported_at"],
        ctx.t("issues.col_due_date"): issues["due_date"],
        ctx.t("issues.col_overdue"): [ctx.t("common.yes") if o else "" for o in issues["overdue"]],
        ctx.t("issues.col_lead_org"): issues["lead_org"],
        ctx.t("issues.col_rating"): issues["rating"],
    })
    if ctx.actor.may_see_personal_data:
        shown[ctx.t("issues.col_reporter")] = [r or ctx.t("issues.anonymous") for r in issues["reporter"]]
    if ctx.projector:  # paged, the columns that matter from the back of the room; the picker below opens one
        paged_table(ctx, shown, key="issue_table", columns=[ctx.t(f"issues.col_{c}") for c in (
            "id", "title", "state", "grid", "due_date", "overdue")])
        return
    issue_cards(ctx, issues)
    event = st.dataframe(shown, hide_index=True, width="stretch", key="issue_table", on_select="rerun",
                         selection_mode="single-row", column_config={
                             # Number, title and stage first and of a width that keeps all three
                             # on screen (phones get cards instead: issue_cards).
                             ctx.t("issues.col_id"): st.column_config.NumberColumn(width=ID_WIDTH_PX, pinned=True),
                             ctx.t("issues.col_title"): st.column_config.TextColumn(width=TITLE_WIDTH_PX),
                             ctx.t("issues.col_state"): st.column_config.TextColumn(width=STATE_WIDTH_PX),
                             ctx.t("issues.col_reported_at"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                             ctx.t("issues.col_due_date"): st.column_config.DateColumn(format="YYYY-MM-DD"),
                             ctx.t("issues.col_rating"): st.column_config.NumberColumn(format="%d ★"),
                         })
    # A row clicked in the table opens that issue; only a new click counts, so the select box
    # below still works after a row was clicked once.
    rows = event.selection.rows
    clicked = int(issues["id"].iloc[rows[0]]) if rows and rows[0] < len(issues) else None
    if clicked is not None and clicked != st.session_state.get(TABLE_CLICK_KEY):
        st.session_state[OPEN_NEXT_KEY] = clicked
    st.session_state[TABLE_CLICK_KEY] = clicked


def _open_issue(issue_id: int) -> None:
    st.session_state[OPEN_NEXT_KEY] = issue_id


def issue_cards(ctx: PageContext, issues: pd.DataFrame) -> None:
    """The list on a phone, where the table's stage column was off-screen: the first issues as
    cards of number, title and stage; a tap opens the issue below. Shown by CSS on narrow
    screens only (components.projector.BASE_CSS), in place of the table."""
    with st.container(key="issue_cards", gap="small"):
        for row in issues.head(CARDS_SHOWN).itertuples(index=False):
            label = Markdown(f"**#{int(row.id)}** {markdown_literal(row.title, starts_line=False)} · "
                             f"{markdown_literal(ctx.label('state', row.state), starts_line=False)}")
            st.button(label, key=f"issue_card_{int(row.id)}", width="stretch", on_click=_open_issue,
                      args=(int(row.id),))
        if len(issues) > CARDS_SHOWN:
            st.caption(ctx.t("issues.cards_more", shown=CARDS_SHOWN, total=len(issues)))


def linked_issue() -> int | None:
    """The issue a deep link `?issue=N` asks for, once per link followed (choosing another issue
    afterwards is not undone by the link still in the address bar)."""
    raw = st.query_params.get(LINK_PARAM)
    if not raw or raw == st.session_state.get(LINK_SEEN_KEY):
        return None
    st.session_state[LINK_SEEN_KEY] = raw
    return int(raw) if raw.isdigit() else None


def issue_picker(ctx: PageContext, issues: pd.DataFrame) -> int | None:
    """A select box over the listed issues (and an issue a deep link opened, listed or not, also
    when nothing is listed); an issue just reported, clicked in the list or linked to is selected
    first. None when there is nothing to pick.

    The select box keeps its key while its options change with the filters, so the browser keeps
    showing what it showed last unless the server sets the value: whenever the chosen issue is no
    longer listed, the first listed one is set explicitly, never left to a default the browser
    does not hear of (it showed "#400" over the detail of #385)."""
    options = [int(i) for i in issues["id"]]
    titles = dict(zip(options, issues["title"], strict=True))
    states = dict(zip(options, issues["state"], strict=True))
    linked_id = linked_issue()
    if linked_id is not None:
        st.session_state[OPEN_NEXT_KEY] = linked_id
    linked = None if linked_id is None or linked_id in titles else query(
        issue_detail, issue_id=linked_id, may_see_personal_data=ctx.actor.may_see_personal_data)
    if linked is not None:
        options.insert(0, linked.id)
        titles[linked.id], states[linked.id] = linked.title, linked.state
    if not options:  # nothing listed (the filters) and no issue linked to: no picker
        return None
    pending = st.session_state.pop(OPEN_NEXT_KEY, None)
    if pending in options:
        st.session_state[PICKER_KEY] = pending
    elif st.session_state.get(PICKER_KEY) not in options:
        st.session_state[PICKER_KEY] = options[0]  # e.g. filtered out: the first listed, told to the browser
    def label(issue_id) -> str:  # also asked about a value no longer listed (a choice sent as the list changed)
        if issue_id not in titles:
            return f"#{issue_id}"
        return f"#{issue_id} · {titles[issue_id]} · {ctx.label('state', states[issue_id])}"

    chosen = st.selectbox(ctx.t("issues.pick"), options, key=PICKER_KEY, format_func=label)
    st.query_params[LINK_PARAM] = str(chosen)  # the address bar links to the issue shown
    st.session_state[LINK_SEEN_KEY] = str(chosen)
    return chosen


# --- detail ---------------------------------------------------------------------------------

def _when(moment) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _reporter_text(ctx: PageContext, detail: IssueDetail) -> str:
    if detail.reporter_hidden:
        return ctx.t("issues.reporter_hidden")
    return detail.reporter or ctx.t("issues.anonymous")


def issue_detail_panel(ctx: PageContext, detail: IssueDetail, timeline: pd.DataFrame) -> None:
    st.subheader(markdown_literal(f"#{detail.id} {detail.title}"))
    cards = st.columns(4)
    cards[0].metric(ctx.t("issues.col_state"), ctx.label("state", detail.state), border=True)
    cards[1].metric(ctx.t("issues.col_due_date"), detail.due_date.isoformat(), border=True,
                    delta=ctx.t("issues.overdue_badge") if detail.overdue else None, delta_color="inverse")
    cards[2].metric(ctx.t("issues.col_lead_org"), markdown_literal(detail.lead_org_name or "—", starts_line=False),
                    border=True)
    cards[3].metric(ctx.t("issues.col_rating"), f"{detail.rating} / 5" if detail.rating else "—", border=True,
                    delta=ctx.label("fix_status", detail.fix_status) or None, delta_color="off")
    if detail.description:
        st.text(detail.description)
    facts = [
        (ctx.t("issues.col_category"), ctx.label("category", detail.category)),
        (ctx.t("issues.col_grid"), detail.grid_name),
        (ctx.t("issues.field_building"), detail.building_name or "—"),
        (ctx.t("issues.col_reporter"), _reporter_text(ctx, detail)),
        (ctx.t("issues.col_reported_at"), _when(detail.reported_at)),
        (ctx.t("issues.first_response_at"), _when(detail.first_response_at) or "—"),
        (ctx.t("issues.resolved_at"), _when(detail.resolved_at) or "—"),
        (ctx.t("issues.closed_at"), _when(detail.closed_at) or "—"),
        (ctx.t("issues.field_cooperators"), ctx.t("issues.list_separator").join(name for _, name in detail.cooperators)
         or "—"),
        (ctx.t("issues.went_to_meeting"), ctx.t("common.yes") if detail.went_to_meeting else ctx.t("common.no")),
        (ctx.t("issues.reopen_count"), str(detail.reopen_count)),
    ]
    if detail.reject_reason:
        facts.append((ctx.t("issues.field_reject_reason"), ctx.label("reject_reason", detail.reject_reason)))
    if detail.duplicate_of_id:
        facts.append((ctx.t("issues.field_duplicate_of"), f"#{detail.duplicate_of_id}"))
    if detail.days_to_resolve is not None:
        facts.append((ctx.t("issues.days_to_resolve"), format_number(detail.days_to_resolve, digits=1)))
    paged_table(ctx, pd.DataFrame(facts, columns=[ctx.t("issues.col_field"), ctx.t("issues.col_value")]),
                key="issue_facts", height="content")

    loop_progress(ctx, detail, timeline)
    st.markdown(f"#### {ctx.t('issues.timeline')}")
    steps = [step_text(ctx, row) for row in timeline.itertuples()]
    paged_table(ctx, pd.DataFrame({
        ctx.t("issues.col_time"): [_when(t) for t in timeline["created_at"]],
        ctx.t("issues.col_entry"): [ctx.t(f"issues.entry_{k}") for k in timeline["kind"]],
        ctx.t("issues.col_step"): steps,
        ctx.t("issues.col_who"): timeline["actor"],
        ctx.t("issues.col_role"): [ctx.label("role", r) for r in timeline["actor_role"]],
        ctx.t("issues.col_note"): [note_text(ctx, kind, note) for kind, note in zip(timeline["kind"], timeline["note"],
                                                                                      strict=True)],
    }), key="issue_timeline", height="content")


LOOP_ICONS = {"done": ":material/check_circle:", "current": ":material/radio_button_checked:",
              "skipped": ":material/redo:", "ahead": ":material/radio_button_unchecked:",
              "not_reached": ":material/remove:", "reopened": ":material/replay:"}
LOOP_REACHED = ("done", "current", "reopened")  # steps named in bold


def loop_progress(ctx: PageContext, detail: IssueDetail, timeline: pd.DataFrame) -> None:
    """The issue's way round the five-step loop in plain steps, each with the day it was reached
    (gongzhi.timeline.loop_steps): what a resident representative asks first."""
    steps = loop_steps(zip(timeline["to_state"], timeline["created_at"], strict=True), detail.state)
    st.markdown(f"#### {ctx.t('issues.loop_title')}")
    lines = []
    for number, step in enumerate(steps, start=1):
        day = "" if step.reached_at is None else step.reached_at.strftime("%Y-%m-%d")
        text = ctx.t(f"issues.loop_{step.status}", date=day)
        name = ctx.label("state", step.state)
        lines.append(f"{number}. {LOOP_ICONS[step.status]} **{name}** · {text}" if step.status in LOOP_REACHED
                     else f"{number}. {LOOP_ICONS[step.status]} {name} · {text}")
    with st.container(key="issue_loop"):
        st.markdown("\n".join(lines))


def note_text(ctx: PageContext, kind: str, note: str) -> str:
    """A rating's line is written by the core as "4/5 partly_fixed comment": show the fix status
    in the reader's language."""
    parts = note.split(" ", 2)
    if kind == "rating" and len(parts) >= 2 and parts[1] in {f.value for f in FixStatus}:
        return " ".join([parts[0], ctx.label("fix_status", parts[1]), *parts[2:]])
    return note


def step_text(ctx: PageContext, row) -> str:
    if row.kind == "created" or not row.from_state:
        return ctx.label("state", row.to_state)
    if row.from_state == row.to_state:
        return ctx.label("state", row.to_state)
    return f"{ctx.label('state', row.from_state)} → {ctx.label('state', row.to_state)}"


# --- who may act, and which version they saw ----------------------------------------------------


def seen_version(detail: IssueDetail) -> int:
    """The version shown to the person before this run: what their form was filled against.
    Falls back to the current version for an issue not shown before."""
    seen = st.session_state.get(SEEN_VERSION_KEY)
    if seen and seen[0] == detail.id:
        return seen[1]
    return detail.version


def remember_version(detail: IssueDetail) -> None:
    """Called after the forms: the version now on screen is what the next submit was made against."""
    st.session_state[SEEN_VERSION_KEY] = (detail.id, detail.version)


# --- forms ----------------------------------------------------------------------------------

def _organisations() -> dict[int, str]:
    return {int(r.id): r.name for r in query(list_organisations).itertuples()}


def _default_due_date(detail: IssueDetail):
    on = today()
    return detail.due_date if detail.due_date >= on else resolution_due(detail.category, on)


def new_issue_form(ctx: PageContext, grid_id: int | None) -> None:
    """居民提事, in an expander; only for people who may write in at least one grid, and offering
    only those grids."""
    grids, chosen = entry_grid_choices(ctx, grid_id)
    if not grids:
        return
    with st.expander(ctx.t("issues.new_issue"), icon=":material/add_comment:"):
        _new_issue_fields(ctx, grids, chosen)


def _new_issue_fields(ctx: PageContext, grids: dict[int, str], grid_id: int | None) -> None:
    buildings = {int(r.id): f"{grids[int(r.grid_id)]} · {r.name}"
                 for r in query(list_buildings, grid_id=grid_id).itertuples() if int(r.grid_id) in grids}
    reporters = query(reporter_choices, may_see_personal_data=ctx.actor.may_see_personal_data, grid_id=grid_id)
    # A district's tens of thousands of residents in one select box would be sent to the browser
    # on every rerun (the benchmark measured seconds): beyond a community's size, one grid's only.
    too_many = len(reporters) > REPORTER_CHOICES_MAX
    reporter_names = {} if too_many else dict(zip(
        reporters["id"].astype(int).tolist(), (reporters["name"] + " · " + reporters["grid_name"].fillna("")).tolist(),
        strict=True))
    with st.form("issue_new_form"):
        title = st.text_input(ctx.t("issues.field_title"), max_chars=TITLE_MAX, key="issue_new_title")
        category = st.selectbox(ctx.t("issues.field_category"), list(ISSUE_CATEGORIES), index=None,
                                format_func=lambda c: ctx.label("category", c), key="issue_new_category",
                                placeholder=ctx.t("issues.choose"))
        grid_ids = list(grids)
        chosen_grid = st.selectbox(ctx.t("issues.field_grid"), grid_ids, format_func=grids.__getitem__,
                                   index=grid_ids.index(grid_id) if grid_id in grids else None,
                                   key="issue_new_grid", placeholder=ctx.t("issues.choose"))
        building = st.selectbox(ctx.t("issues.field_building"), [None, *buildings], key="issue_new_building",
                                format_func=lambda b: ctx.t("issues.not_known") if b is None else buildings[b])
        reporter = None
        if ctx.actor.may_see_personal_data and too_many:
            st.caption(ctx.t("scale.reporter_choose_grid", count=f"{len(reporters):,}"))
        elif ctx.actor.may_see_personal_data:
            reporter = st.selectbox(ctx.t("issues.field_reporter"), [None, *reporter_names], key="issue_new_reporter",
                                    format_func=lambda p: ctx.t("issues.anonymous") if p is None else reporter_names[p])
        description = st.text_area(ctx.t("issues.field_description"), max_chars=DESCRIPTION_MAX,
                                   key="issue_new_description", help=ctx.t("issues.no_id_numbers"))
        submitted = st.form_submit_button(ctx.t("issues.report_submit"), type="primary", key="issue_new_submit")
    if submitted:
        data = IssueCreate(title=title, description=description, category=category or "", grid_id=chosen_grid,
                           building_id=building, reporter_id=reporter)

        def report(session):
            issue = create_issue(session=session, actor=ctx.actor, data=data)
            st.session_state[OPEN_NEXT_KEY] = issue.id
            return issue

        save(ctx, report, success=ctx.t("issues.reported_ok"), form_key="issue_new", submission=data)


def move_form(ctx: PageContext, detail: IssueDetail, expected_version: int) -> None:
    """Offers only the moves the loop allows from the current state, with the fields each needs."""
    targets = [t.value for t in lifecycle.allowed_moves(detail.state)]
    if not targets:
        st.caption(ctx.t("issues.no_manual_moves", state=ctx.label("state", detail.state)))
        return
    if st.session_state.get("issue_move_target") not in targets:
        st.session_state.pop("issue_move_target", None)
    target = st.selectbox(ctx.t("issues.field_target"), targets, format_func=lambda s: ctx.label("state", s),
                          key="issue_move_target")
    organisations = _organisations()
    lead = due_date = reason = duplicate_of = None
    with st.form("issue_move_form"):
        if target == IssueState.IN_ACTION:
            org_ids = list(organisations)
            lead = st.selectbox(ctx.t("issues.field_lead_org"), org_ids, format_func=organisations.__getitem__,
                                index=org_ids.index(detail.lead_org_id) if detail.lead_org_id in organisations else None,
                                key="issue_move_lead", placeholder=ctx.t("issues.choose"))
            due_date = st.date_input(ctx.t("issues.field_due_date"), value=_default_due_date(detail),
                                     min_value=today(), key="issue_move_due")
        if target == IssueState.REJECTED:
            reason = st.selectbox(ctx.t("issues.field_reject_reason"), [r.value for r in RejectReason], index=None,
                                  format_func=lambda r: ctx.label("reject_reason", r), key="issue_move_reason",
                                  placeholder=ctx.t("issues.choose"))
            duplicate_of = st.number_input(ctx.t("issues.field_duplicate_of"), min_value=1, step=1, value=None,
                                           key="issue_move_duplicate", help=ctx.t("issues.duplicate_help"))
        note = st.text_area(ctx.t("issues.field_note"), max_chars=NOTE_MAX, key="issue_move_note")
        submitted = st.form_submit_button(ctx.t("issues.move_submit"), type="primary", key="issue_move_submit")
    if submitted:
        save(ctx, lambda session: lifecycle.move(
            session=session, issue_id=detail.id, to_state=target, actor=ctx.actor, note=note.strip(),
            expected_version=expected_version, lead_org_id=lead, due_date=due_date, reject_reason=reason,
            duplicate_of_id=int(duplicate_of) if duplicate_of else None,
        ), success=ctx.t("issues.moved_ok", state=ctx.label("state", target)))


def assign_form(ctx: PageContext, detail: IssueDetail, expected_version: int) -> None:
    organisations = _organisations()
    org_ids = list(organisations)
    with st.form("issue_assign_form"):
        lead = st.selectbox(ctx.t("issues.field_lead_org"), org_ids, format_func=organisations.__getitem__,
                            index=org_ids.index(detail.lead_org_id) if detail.lead_org_id in organisations else None,
                            key="issue_assign_lead", placeholder=ctx.t("issues.choose"))
        due_date = st.date_input(ctx.t("issues.field_due_date"), value=detail.due_date,
                                 min_value=min(detail.due_date, today()), key="issue_assign_due")
        cooperators = st.multiselect(ctx.t("issues.field_cooperators"), org_ids, format_func=organisations.__getitem__,
                                     default=[i for i, _ in detail.cooperators if i in organisations],
                                     key="issue_assign_cooperators", placeholder=ctx.t("issues.none_selected"))
        note = st.text_input(ctx.t("issues.field_note"), max_chars=NOTE_MAX, key="issue_assign_note")
        submitted = st.form_submit_button(ctx.t("issues.assign_submit"), type="primary", key="issue_assign_submit")
    if submitted:
        save(ctx, lambda session: assign(
            session=session, actor=ctx.actor, issue_id=detail.id, lead_org_id=lead, due_date=due_date,
            cooperator_ids=tuple(cooperators), note=note, expected_version=expected_version,
        ), success=ctx.t("issues.assigned_ok"))


def progress_form(ctx: PageContext, detail: IssueDetail, expected_version: int) -> None:
    with st.form("issue_progress_form"):
        note = st.text_area(ctx.t("issues.field_note"), max_chars=NOTE_MAX, key="issue_progress_note",
                            help=ctx.t("issues.no_id_numbers"))
        submitted = st.form_submit_button(ctx.t("issues.progress_submit"), type="primary", key="issue_progress_submit")
    if submitted:
        save(ctx, lambda session: add_progress_note(
            session=session, actor=ctx.actor, issue_id=detail.id, note=note, expected_version=expected_version,
        ), success=ctx.t("issues.progress_ok"))


def rating_form(ctx: PageContext, detail: IssueDetail, expected_version: int) -> None:
    st.caption(ctx.t("issues.rating_rule"))
    with st.form("issue_rating_form"):
        rating = st.radio(ctx.t("issues.field_rating"), [5, 4, 3, 2, 1], horizontal=True, index=None,
                          format_func=lambda n: "★" * n, key="issue_rating_value")
        fix_status = st.radio(ctx.t("issues.field_fix_status"), [f.value for f in FixStatus], horizontal=True,
                              index=None, format_func=lambda f: ctx.label("fix_status", f), key="issue_rating_fix")
        comment = st.text_area(ctx.t("issues.field_comment"), max_chars=500, key="issue_rating_comment")
        submitted = st.form_submit_button(ctx.t("issues.rating_submit"), type="primary", key="issue_rating_submit")
    if submitted:
        def record(session):
            # The core checks values; "nothing chosen yet" only exists in the form.
            missing = [FieldError(field, "errors.required") for field, value in
                       (("issues.field_rating", rating), ("issues.field_fix_status", fix_status)) if value is None]
            if missing:
                raise ValidationError(missing)
            return lifecycle.rate(session=session, issue_id=detail.id, rating=int(rating), fix_status=fix_status,
                                  actor=ctx.actor, comment=comment.strip(), expected_version=expected_version)

        save(ctx, record, success=ctx.t("issues.rated_ok"))


def issue_actions(ctx: PageContext, detail: IssueDetail) -> None:
    """The forms that fit the issue's state, for the people who may use them: editors move,
    assign and note progress; residents' representatives may also record a rating."""
    editor = may_write(ctx.actor, detail.grid_id)
    rater = detail.state == IssueState.RESIDENT_REVIEW and may_rate(ctx.actor, detail.grid_id)
    if not editor and not rater:
        st.caption(ctx.t("issues.read_only"))
        return
    expected_version = seen_version(detail)
    forms = []
    if editor:
        forms.append(("issues.tab_move", move_form))
        if detail.state == IssueState.IN_ACTION:
            forms += [("issues.tab_assign", assign_form), ("issues.tab_progress", progress_form)]
    if rater:
        forms.append(("issues.tab_rating", rating_form))
    for tab, (_, form) in zip(st.tabs([ctx.t(title) for title, _ in forms]), forms, strict=True):
        with tab:
            form(ctx, detail, expected_version)
    delete_record_action(ctx, kind="issue", record_id=detail.id, grid_id=detail.grid_id, version=expected_version)
