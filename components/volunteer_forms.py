"""The volunteers page's pieces: headline cards, charts, the roster with its filters, and the forms
to add or edit a volunteer and to log service hours. Data comes only through components.data.query
and every write goes through components.forms.save, so views/volunteers.py stays a short script."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import pandas as pd
import streamlit as st

from components.audit_view import delete_record_action
from components.charts import bar_chart
from components.data import query, query_later, query_view
from components.filters import Period, entry_grid_choices
from components.forms import save
from components.kpi import Kpi, format_number, kpi_row
from components.page_setup import PageContext
from components.projector import PROJECTOR_ROWS, page_controls, paged_table
from gongzhi.clock import today
from gongzhi.crud.volunteers import (
    NAME_MAX,
    SERVICE_NOTE_MAX,
    TEAM_KINDS,
    VOLUNTEER_NOTE_MAX,
    VolunteerCreate,
    VolunteerUpdate,
    create_volunteer,
    log_service_hours,
    update_volunteer,
)
from gongzhi.domain import VOLUNTEER_SKILLS, VolunteerStatus
from gongzhi.privacy import phone_for
from gongzhi.queries import volunteers as volunteer_queries
from gongzhi.queries.areas import list_grids
from gongzhi.queries.events import list_events
from gongzhi.queries.organisations import list_organisations

THREE_STARS = 3
STATUSES = [status.value for status in VolunteerStatus]
NEW_PREFIX = "volunteer_new_"
LOG_PREFIX = "volunteer_log_"
SELECTED_KEY = "volunteer_selected"
ROSTER_ROWS = 50  # roster rows a page
ROSTER_PAGER = "volunteer_roster_pages"
ROSTER_PAGER_STATE = f"pager_{ROSTER_PAGER}"
LIST_SEPARATOR = {"zh-CN": "、", "en": ", "}


def stars_text(stars: int) -> str:
    """Star level as ★ characters, a dash for none yet."""
    return "★" * int(stars) if stars else "—"


def _star_label(ctx: PageContext, stars: int) -> str:
    return "★" * int(stars) if stars else ctx.t("volunteers.no_stars")


def _forget(prefix: str) -> None:
    """Drop the remembered values of a form's widgets, so it shows fresh data after a save."""
    for key in [key for key in st.session_state if str(key).startswith(prefix)]:
        del st.session_state[key]


def names_by_id(frame: pd.DataFrame) -> dict[int, str]:
    """{id: name} of a list of grids or teams (a picker's labels)."""
    return dict(zip(frame["id"].astype(int).tolist(), frame["name"].tolist(), strict=True))


def event_labels(events: pd.DataFrame) -> dict[int, str]:
    """{id: "YYYY-MM-DD title"} of a list of events."""
    return dict(zip(events["id"].astype(int).tolist(),
                    (pd.to_datetime(events["starts_at"]).dt.strftime("%Y-%m-%d") + " " + events["title"]).tolist(), strict=True))


def _grids() -> dict[int, str]:
    return query_view(names_by_id, list_grids)


def _teams() -> dict[int, str]:
    return query_view(names_by_id, list_organisations, kinds=TEAM_KINDS)


# --- Headline and charts ---------------------------------------------------------------------

def headline_cards(ctx: PageContext, period: Period, grid_id: int | None) -> None:
    headline = query(volunteer_queries.volunteer_headline, start=period.start, end=period.end, grid_id=grid_id)
    levels = query(volunteer_queries.hours_by_star_level, grid_id=grid_id)
    three_stars_or_more = int(levels.loc[levels["stars"] >= THREE_STARS, "volunteers"].sum())
    kpi_row([
        Kpi(ctx.t("volunteers.kpi_active"), format_number(headline.active_volunteers),
            help=ctx.t("volunteers.kpi_active_help")),
        Kpi(ctx.t("volunteers.kpi_served"), format_number(headline.volunteers_served),
            help=ctx.t("volunteers.kpi_served_help")),
        Kpi(ctx.t("volunteers.kpi_hours"), format_number(headline.service_hours, digits=1),
            help=ctx.t("volunteers.kpi_hours_help")),
        Kpi(ctx.t("volunteers.kpi_three_stars"), format_number(three_stars_or_more),
            help=ctx.t("volunteers.kpi_three_stars_help")),
    ])


def star_chart(ctx: PageContext, grid_id: int | None) -> None:
    st.subheader(ctx.t("volunteers.chart_stars_title"))
    levels = query(volunteer_queries.hours_by_star_level, grid_id=grid_id)
    total = int(levels["volunteers"].sum())
    if total == 0:
        st.info(ctx.t("common.no_data"))
        return
    frame = levels.assign(level=[_star_label(ctx, stars) for stars in levels["stars"]])
    top = frame.loc[frame["volunteers"].idxmax()]
    summary = ctx.plain("volunteers.chart_stars_summary", total=total,
                    starred=int(frame.loc[frame["stars"] > 0, "volunteers"].sum()),
                    top=top["level"], top_count=int(top["volunteers"]))
    # Horizontal bars keep the ★ labels upright and readable from the back of the room.
    bar_chart(frame, x="level", y="volunteers", x_title=ctx.t("volunteers.chart_stars_x"),
              y_title=ctx.t("volunteers.chart_stars_y"), summary=summary, sort=list(frame["level"]), horizontal=True)


def hours_chart(ctx: PageContext, period: Period, grid_id: int | None) -> None:
    st.subheader(ctx.t("volunteers.chart_hours_title"))
    months = query(volunteer_queries.monthly_hours, start=period.start, end=period.end, grid_id=grid_id)
    total = float(months["hours"].sum())
    if total == 0:
        st.info(ctx.t("volunteers.chart_hours_none"))
        return
    busiest = months.loc[months["hours"].idxmax()]
    summary = ctx.plain("volunteers.chart_hours_summary", total=format_number(total, digits=1), month=busiest["month"],
                    hours=format_number(busiest["hours"], digits=1))
    bar_chart(months, x="month", y="hours", x_title=ctx.t("volunteers.chart_hours_x"),
              y_title=ctx.t("volunteers.chart_hours_y"), summary=summary)


def top_volunteers_table(ctx: PageContext, period: Period, grid_id: int | None) -> None:
    top = query(volunteer_queries.top_volunteers, start=period.start, end=period.end, grid_id=grid_id)
    if top.empty:
        return
    st.subheader(ctx.t("volunteers.top_title"))
    paged_table(ctx, pd.DataFrame({ctx.t("volunteers.col_name"): top["name"],
                                   ctx.t("volunteers.col_grid"): top["grid_name"],
                                   ctx.t("volunteers.col_hours"): top["hours"]}),
                key="top_volunteers",
                column_config={ctx.t("volunteers.col_hours"): st.column_config.NumberColumn(format="%.1f")})


# --- Roster ----------------------------------------------------------------------------------

def roster_display(ctx: PageContext, roster: pd.DataFrame) -> pd.DataFrame:
    """The roster as people read it: translated headers, skill and status labels, ★ levels, each
    phone as the reader may see it for that volunteer's grid (privacy.phone_for)."""
    separator = LIST_SEPARATOR.get(ctx.lang, ", ")
    return pd.DataFrame({
        ctx.t("volunteers.col_name"): roster["name"],
        ctx.t("volunteers.col_phone"): [phone_for(ctx.actor, phone, None if pd.isna(grid_id) else int(grid_id))
                                        for phone, grid_id in zip(roster["phone"], roster["grid_id"], strict=True)],
        ctx.t("volunteers.col_grid"): roster["grid_name"],
        ctx.t("volunteers.col_skills"): [separator.join(ctx.label("skill", code) for code in codes)
                                         for codes in roster["skills"]],
        ctx.t("volunteers.col_teams"): [separator.join(names) for names in roster["teams"]],
        ctx.t("volunteers.col_status"): [ctx.label("volunteer_status", code) for code in roster["status"]],
        ctx.t("volunteers.col_total_hours"): roster["total_hours"],
        ctx.t("volunteers.col_hours_12m"): roster["hours_12m"],
        ctx.t("volunteers.col_stars"): [stars_text(stars) for stars in roster["stars"]],
    })


@dataclass(frozen=True)
class Roster:
    """The roster as the page shows it: the rows of the current page, how many match the
    filters, and the whole filtered list on demand (for downloads)."""
    rows: pd.DataFrame
    total: int
    load_all: Callable[[], pd.DataFrame]


def _first_roster_page() -> None:
    st.session_state.pop(ROSTER_PAGER_STATE, None)


def roster_section(ctx: PageContext, grid_id: int | None) -> Roster | None:
    """Filters and the roster table a page at a time (a district has 20,000 volunteers: the
    whole list on every rerun made the page 80 times slower than an empty one). None when the
    grid has no volunteers at all."""
    st.header(ctx.t("volunteers.roster_title"))
    everyone = {"grid_id": grid_id, "may_see_personal_data": ctx.actor.may_see_personal_data}
    if query(volunteer_queries.volunteer_roster_page, first=0, stop=0, **everyone)[1] == 0:
        st.info(ctx.t("volunteers.empty_roster"))
        return None
    teams = _teams()
    def all_or(label):
        return lambda value: ctx.t("volunteers.filter_all") if value is None else label(value)

    status_col, skill_col, team_col, search_col = st.columns([1, 1, 1, 2])
    status = status_col.selectbox(ctx.t("volunteers.filter_status"), [None, *STATUSES], key="volunteer_filter_status",
                                  format_func=all_or(lambda code: ctx.label("volunteer_status", code)),
                                  on_change=_first_roster_page)
    skill = skill_col.selectbox(ctx.t("volunteers.filter_skill"), [None, *VOLUNTEER_SKILLS],
                                key="volunteer_filter_skill", format_func=all_or(lambda code: ctx.label("skill", code)),
                                on_change=_first_roster_page)
    team_id = team_col.selectbox(ctx.t("volunteers.filter_team"), [None, *teams], key="volunteer_filter_team",
                                 format_func=all_or(teams.get), on_change=_first_roster_page)
    search = search_col.text_input(ctx.t("volunteers.filter_search"), key="volunteer_filter_search",
                                   on_change=_first_roster_page)
    # Filters left at "all" are left out: no filter chosen is the same query, and cache entry, as above.
    chosen = {"status": status, "skill": skill, "team_id": team_id, "search": search.strip() or None}
    filters = {**everyone, **{name: value for name, value in chosen.items() if value is not None}}
    rows_per_page = PROJECTOR_ROWS if ctx.projector else ROSTER_ROWS
    page = st.session_state.get(ROSTER_PAGER_STATE, 0)
    rows, total = query(volunteer_queries.volunteer_roster_page, first=page * rows_per_page,
                        stop=(page + 1) * rows_per_page, **filters)
    if total == 0:
        st.info(ctx.t("common.no_data"))
        return Roster(rows, total, lambda: rows)
    if rows.empty:  # the page remembered is past the end of a shorter list now: its last page
        page = (total - 1) // rows_per_page
        rows, total = query(volunteer_queries.volunteer_roster_page, first=page * rows_per_page,
                            stop=(page + 1) * rows_per_page, **filters)
        st.session_state[ROSTER_PAGER_STATE] = page
    st.caption(ctx.t("volunteers.roster_count", shown=total))
    hours_format = st.column_config.NumberColumn(format="%.1f")
    # Projected to a room: no phone numbers (not even masked), and only what reads from afar.
    paged_table(ctx, roster_display(ctx, rows), key="volunteer_roster",
                columns=[ctx.t(f"volunteers.col_{c}") for c in ("name", "grid", "status", "total_hours", "stars")],
                column_config={ctx.t("volunteers.col_total_hours"): hours_format,
                               ctx.t("volunteers.col_hours_12m"): hours_format})
    page_controls(ctx, total, ROSTER_PAGER, rows_per_page)
    return Roster(rows, total, query_later(volunteer_queries.volunteer_roster, **filters))


def choose_volunteer(ctx: PageContext, roster: Roster | None) -> int | None:
    """A volunteer from the roster page shown (narrow the roster by grid, name or filters to reach
    anyone: a picker of a district's 20,000 names would be sent to the browser on every rerun)."""
    if roster is None or roster.rows.empty:
        return None
    rows = roster.rows
    names = rows["name"] + " · " + rows["grid_name"].fillna("—") + " (#" + rows["id"].astype(str) + ")"
    labels = dict(zip(rows["id"].astype(int).tolist(), names.tolist(), strict=True))
    if st.session_state.get(SELECTED_KEY) not in labels:
        st.session_state.pop(SELECTED_KEY, None)  # the filters or the page no longer show the one chosen before
    return st.selectbox(ctx.t("volunteers.select_volunteer"), list(labels), key=SELECTED_KEY, format_func=labels.get,
                        help=ctx.t("volunteers.select_volunteer_help") if roster.total > len(rows) else None)


def volunteer_panel(ctx: PageContext, volunteer_id: int) -> None:
    """One volunteer: hours and stars, their service records, and the edit and log-hours forms."""
    detail = query(volunteer_queries.volunteer_detail, volunteer_id=volunteer_id,
                   may_see_personal_data=ctx.actor.may_see_personal_data)
    if detail is None:
        return
    detail = replace(detail, phone=phone_for(ctx.actor, detail.phone, detail.grid_id))
    st.markdown(ctx.t("volunteers.volunteer_summary", name=detail.name,
                      hours=format_number(detail.total_hours, digits=1), stars=stars_text(detail.stars)))
    records_tab, log_tab, edit_tab = st.tabs([ctx.t("volunteers.records_title"), ctx.t("volunteers.log_title"),
                                              ctx.t("volunteers.edit_title")])
    with records_tab:
        service_records_table(ctx, volunteer_id)
    with log_tab:
        log_hours_form(ctx, detail)
    with edit_tab:
        edit_volunteer_form(ctx, detail)


def service_records_table(ctx: PageContext, volunteer_id: int) -> None:
    records = query(volunteer_queries.service_records, volunteer_id=volunteer_id)
    if records.empty:
        st.info(ctx.t("volunteers.no_records"))
        return
    paged_table(ctx, pd.DataFrame({ctx.t("volunteers.col_served_on"): records["served_on"],
                                   ctx.t("volunteers.col_hours"): records["hours"],
                                   ctx.t("volunteers.col_event"): records["event"].fillna(""),
                                   ctx.t("volunteers.col_issue"): records["issue"].fillna(""),
                                   ctx.t("volunteers.col_note"): records["note"]}),
                key="service_records",
                column_config={ctx.t("volunteers.col_hours"): st.column_config.NumberColumn(format="%.1f")})


# --- Forms -----------------------------------------------------------------------------------

def add_volunteer_form(ctx: PageContext, default_grid_id: int | None) -> None:
    grids, default_grid_id = entry_grid_choices(ctx, default_grid_id)  # a grid leader's own only
    if not grids:  # may write nowhere (a representative)
        return
    teams = _teams()
    grid_ids = list(grids)
    # One click from the top of the page (views/volunteers.py puts it first), folded until then.
    with st.expander(ctx.t("volunteers.add_title"), icon=":material/person_add:"), st.form("volunteer_new"):
        left, right = st.columns(2)
        name = left.text_input(ctx.t("volunteers.field_name"), key=NEW_PREFIX + "name", max_chars=NAME_MAX)
        phone = right.text_input(ctx.t("volunteers.field_phone"), key=NEW_PREFIX + "phone")
        grid_id = left.selectbox(ctx.t("volunteers.field_grid"), grid_ids, key=NEW_PREFIX + "grid",
                                 index=grid_ids.index(default_grid_id) if default_grid_id in grids else None,
                                 format_func=grids.get, placeholder=ctx.t("volunteers.choose"))
        status = right.selectbox(ctx.t("volunteers.field_status"), STATUSES, key=NEW_PREFIX + "status",
                                 format_func=lambda code: ctx.label("volunteer_status", code))
        skills = left.multiselect(ctx.t("volunteers.field_skills"), VOLUNTEER_SKILLS, key=NEW_PREFIX + "skills",
                                  format_func=lambda code: ctx.label("skill", code),
                                  placeholder=ctx.t("volunteers.choose"))
        team_ids = right.multiselect(ctx.t("volunteers.field_teams"), list(teams), key=NEW_PREFIX + "teams",
                                     format_func=teams.get, placeholder=ctx.t("volunteers.choose"))
        joined_on = left.date_input(ctx.t("volunteers.field_joined_on"), value=today(), max_value=today(),
                                    key=NEW_PREFIX + "joined_on")
        note = st.text_area(ctx.t("volunteers.field_note"), key=NEW_PREFIX + "note", max_chars=VOLUNTEER_NOTE_MAX)
        submitted = st.form_submit_button(ctx.t("common.save"), key=NEW_PREFIX + "submit", type="primary")
    if submitted:
        data = VolunteerCreate(name=name, phone=phone, grid_id=grid_id, skills=tuple(skills), status=status,
                               joined_on=joined_on, team_ids=tuple(team_ids), note=note)

        def action(session):
            volunteer = create_volunteer(session=session, actor=ctx.actor, data=data)
            _forget(NEW_PREFIX)
            return volunteer

        save(ctx, action, success=ctx.t("volunteers.added", name=name.strip()), form_key=NEW_PREFIX, submission=data)


def edit_volunteer_form(ctx: PageContext, detail: volunteer_queries.VolunteerDetail) -> None:
    """Prefilled with the volunteer as now stored. The version the form was opened on is kept, so
    a save over someone else's change in the meantime is refused rather than overwriting it."""
    prefix = f"volunteer_edit_{detail.id}_"
    version_key = prefix + "version"
    opened_version = st.session_state.setdefault(version_key, detail.version)
    if opened_version != detail.version:
        st.warning(ctx.t("volunteers.changed_meanwhile"))
        if st.button(ctx.t("volunteers.reload"), key="volunteer_edit_reload"):
            _forget(prefix)
            st.rerun()
    grids, teams = _grids(), _teams()
    grid_ids = list(grids)
    with st.form(f"volunteer_edit_{detail.id}"):
        left, right = st.columns(2)
        name = left.text_input(ctx.t("volunteers.field_name"), value=detail.name, key=prefix + "name",
                               max_chars=NAME_MAX)
        phone = right.text_input(ctx.t("volunteers.field_phone"), value=detail.phone, key=prefix + "phone")
        grid_id = left.selectbox(ctx.t("volunteers.field_grid"), grid_ids, key=prefix + "grid",
                                 index=grid_ids.index(detail.grid_id) if detail.grid_id in grids else None,
                                 format_func=grids.get, placeholder=ctx.t("volunteers.choose"))
        status = right.selectbox(ctx.t("volunteers.field_status"), STATUSES, key=prefix + "status",
                                 index=STATUSES.index(detail.status) if detail.status in STATUSES else 0,
                                 format_func=lambda code: ctx.label("volunteer_status", code))
        skills = left.multiselect(ctx.t("volunteers.field_skills"), VOLUNTEER_SKILLS, key=prefix + "skills",
                                  default=[code for code in detail.skills if code in VOLUNTEER_SKILLS],
                                  format_func=lambda code: ctx.label("skill", code),
                                  placeholder=ctx.t("volunteers.choose"))
        team_ids = right.multiselect(ctx.t("volunteers.field_teams"), list(teams), key=prefix + "teams",
                                     default=[team for team in detail.team_ids if team in teams],
                                     format_func=teams.get, placeholder=ctx.t("volunteers.choose"))
        note = st.text_area(ctx.t("volunteers.field_note"), value=detail.note, key=prefix + "note",
                            max_chars=VOLUNTEER_NOTE_MAX)
        submitted = st.form_submit_button(ctx.t("common.save"), key="volunteer_edit_submit", type="primary")
    if submitted:
        data = VolunteerUpdate(name=name, phone=phone, grid_id=grid_id, skills=tuple(skills), status=status,
                               team_ids=tuple(team_ids), note=note)

        def action(session):
            volunteer = update_volunteer(session=session, actor=ctx.actor, volunteer_id=detail.id, data=data,
                                         expected_version=opened_version)
            _forget(prefix)
            return volunteer

        save(ctx, action, success=ctx.t("volunteers.updated", name=name.strip()))
    delete_record_action(ctx, kind="volunteer", record_id=detail.id, grid_id=detail.grid_id, version=opened_version)


def log_hours_form(ctx: PageContext, detail: volunteer_queries.VolunteerDetail) -> None:
    labels = query_view(event_labels, list_events, start=today() - timedelta(days=365), end=today(), upcoming=False)
    with st.form("volunteer_log"):
        left, right = st.columns(2)
        served_on = left.date_input(ctx.t("volunteers.field_served_on"), value=today(), max_value=today(),
                                    key=LOG_PREFIX + "served_on")
        # No lower bound in the widget: the core explains what is allowed (more than 0, at most 24).
        hours = right.number_input(ctx.t("volunteers.field_hours"), value=2.0, step=0.5, format="%.1f",
                                   key=LOG_PREFIX + "hours")
        event_id = st.selectbox(ctx.t("volunteers.field_event"), [None, *labels], key=LOG_PREFIX + "event",
                                format_func=lambda event: ctx.t("volunteers.no_event") if event is None
                                else labels[event])
        note = st.text_input(ctx.t("volunteers.field_service_note"), key=LOG_PREFIX + "note",
                             max_chars=SERVICE_NOTE_MAX)
        submitted = st.form_submit_button(ctx.t("common.save"), key=LOG_PREFIX + "submit", type="primary")
    if submitted:
        def action(session):
            record = log_service_hours(session=session, actor=ctx.actor, volunteer_id=detail.id, served_on=served_on,
                                       hours=hours, event_id=event_id, note=note)
            _forget(LOG_PREFIX)
            return record

        save(ctx, action, success=ctx.t("volunteers.hours_logged", name=detail.name,
                                        hours=format_number(hours, digits=1)),
             form_key=LOG_PREFIX, submission=(detail.id, served_on, hours, event_id, note))
