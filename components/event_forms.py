"""The events page's pieces: headline cards, the participation charts, the event lists, and the
forms to create an event, edit it and record who took part."""

from datetime import date, datetime, time, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from components.audit_view import delete_record_action
from components.charts import PALETTE, bar_chart, cached_chart, describe, lowest_grids
from components.data import query
from components.filters import entry_grid_choices
from components.forms import save
from components.kpi import Kpi, format_number, format_percent, kpi_row
from components.page_setup import PageContext
from components.projector import paged_table
from gongzhi.clock import today
from gongzhi.crud.events import EventCreate, EventUpdate, create_event, record_attendance, update_event
from gongzhi.domain import EventKind, unusually_long
from gongzhi.permissions import may_write
from gongzhi.queries.events import EventDetail, EventHeadline, event_detail, people_options
from gongzhi.queries.organisations import list_organisations

NEW = "event_new"  # widget keys of the create form: event_new_title, event_new_kind, ...
EDIT = "event_edit"  # edit form of event 7: event_edit_7_title, ...
ATTENDANCE = "event_attendance"  # attendance form of event 7: event_attendance_7_people, ..._headcount
MONTHLY_HEIGHT = 360  # both monthly charts, side by side
FIELDS = ("title", "kind", "host", "grid", "start_date", "start_time", "end_date", "end_time", "place",
          "capacity", "description", "shown_start", "shown_end", "long_ok")


def event_kpis(ctx: PageContext, headline: EventHeadline) -> None:
    kpi_row([
        Kpi(ctx.t("events.kpi_events"), format_number(headline.events)),
        Kpi(ctx.t("events.kpi_participants"), format_number(headline.participants),
            help=ctx.t("events.kpi_participants_help")),
        Kpi(ctx.t("events.kpi_rate"), format_percent(headline.participation_rate, digits=1),
            help=ctx.t("events.kpi_rate_help")),
        Kpi(ctx.t("events.kpi_named"), format_number(headline.named_attendance),
            help=ctx.t("events.kpi_named_help")),
        Kpi(ctx.t("events.kpi_headcount"), format_number(headline.headcount),
            help=ctx.t("events.kpi_headcount_help")),
    ])


def participation_chart(ctx: PageContext, by_grid: pd.DataFrame, overall_rate: float | None) -> None:
    """Horizontal bars of each grid's participation rate, highest first, with the community's
    overall rate as a dashed reference line (at a district's scale: the lowest GRID_BARS grids)."""
    frame = by_grid.dropna(subset=["rate"]).copy()
    st.subheader(ctx.t("events.chart_by_grid"))
    if frame.empty:
        st.info(ctx.t("events.no_population"))
        return
    frame["rate_pct"] = (frame["rate"] * 100).round(1)
    ranked = frame.sort_values("rate", ascending=False)
    top, bottom = ranked.iloc[0], ranked.iloc[-1]
    summary = ctx.plain("events.chart_by_grid_summary", top=top.grid_name, top_rate=format_percent(top.rate, digits=1),
                    bottom=bottom.grid_name, bottom_rate=format_percent(bottom.rate, digits=1),
                    overall=format_percent(overall_rate, digits=1))  # names top and bottom of all grids
    shown, note = lowest_grids(frame[["grid_name", "participants", "population", "rate_pct"]], y="rate_pct")
    cached_chart(participation_figure, frame=shown, overall_pct=None if overall_rate is None
                 else round(overall_rate * 100, 1), text=f"{summary} {note}".strip(),
                 titles=(ctx.t("common.grid"), ctx.t("events.rate_axis"), ctx.t("events.kpi_participants"),
                         ctx.t("events.population"), ctx.t("events.overall")))


def participation_figure(*, frame: pd.DataFrame, overall_pct: float | None, text: str,
                         titles: tuple[str, str, str, str, str]) -> tuple[alt.LayerChart, int, str]:
    """participation_chart's chart, height and text (titles: grid, rate, participants, population, overall)."""
    grid_title, rate_title, participants_title, population_title, overall_title = titles
    bars = alt.Chart(frame).mark_bar(color=PALETTE[0]).encode(
        y=alt.Y("grid_name:N", title=grid_title, sort="-x", axis=alt.Axis(labelLimit=320)),
        x=alt.X("rate_pct:Q", title=rate_title),
        tooltip=[alt.Tooltip("grid_name:N", title=grid_title),
                 alt.Tooltip("participants:Q", title=participants_title),
                 alt.Tooltip("population:Q", title=population_title),
                 alt.Tooltip("rate_pct:Q", title=rate_title)],
    )
    layers = [bars]
    if overall_pct is not None:
        reference = pd.DataFrame({"rate_pct": [overall_pct], "label": [overall_title]})
        layers.append(alt.Chart(reference).mark_rule(color=PALETTE[1], strokeDash=[6, 4], strokeWidth=3).encode(
            x="rate_pct:Q", tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("rate_pct:Q", title=rate_title)]))
    return alt.layer(*layers), max(200, 44 * len(frame)), text


def monthly_charts(ctx: PageContext, monthly: pd.DataFrame) -> None:
    """Events per month beside attendance per month, named and anonymous stacked (kept apart)."""
    month_title = ctx.t("events.month")
    busiest = monthly.loc[monthly["attendance"].idxmax()]
    left, right = st.columns(2)
    with left:
        st.subheader(ctx.t("events.chart_monthly_events"))
        bar_chart(monthly, x="month", y="events", x_title=month_title, y_title=ctx.t("events.kpi_events"),
                  height=MONTHLY_HEIGHT,
                  summary=ctx.plain("events.chart_monthly_events_summary", total=format_number(monthly["events"].sum()),
                                months=len(monthly)))
    with right:
        st.subheader(ctx.t("events.chart_monthly_attendance"))
        summary = ctx.plain("events.chart_monthly_attendance_summary", total=format_number(monthly["attendance"].sum()),
                        month=busiest["month"], busiest=format_number(busiest["attendance"]))
        _attendance_chart(ctx, monthly, summary)


def _attendance_chart(ctx: PageContext, monthly: pd.DataFrame, summary: str) -> None:
    """Stacked bars: named attendance and the anonymous headcount, visibly apart."""
    cached_chart(attendance_figure, monthly=monthly[["month", "named_attendance", "headcount"]], summary=summary,
                 titles=(ctx.t("events.month"), ctx.t("events.attendance"), ctx.t("events.kpi_named"),
                         ctx.t("events.kpi_headcount")))


def attendance_figure(*, monthly: pd.DataFrame, summary: str,
                      titles: tuple[str, str, str, str]) -> tuple[alt.Chart, int, str]:
    """_attendance_chart's chart, height and text (titles: month, people, named, anonymous)."""
    month_title, people_title, named, anonymous = titles
    long = pd.concat([
        pd.DataFrame({"month": monthly["month"], "people": monthly["named_attendance"], "series": named, "order": 0}),
        pd.DataFrame({"month": monthly["month"], "people": monthly["headcount"], "series": anonymous, "order": 1}),
    ])
    chart = alt.Chart(long).mark_bar().encode(
        x=alt.X("month:N", title=month_title),
        y=alt.Y("people:Q", title=people_title, stack="zero"),
        color=alt.Color("series:N", title=None, sort=[named, anonymous], legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=[named, anonymous], range=PALETTE[:2])),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("month:N", title=month_title), alt.Tooltip("series:N", title=" "),
                 alt.Tooltip("people:Q", title=people_title)],
    )
    facts = describe(long, x="month", y="people", series="series")
    return chart, MONTHLY_HEIGHT, f"{summary} {facts}".strip()


def _grid_label(ctx: PageContext, grid_name: str | None) -> str:
    return grid_name if isinstance(grid_name, str) else ctx.t("common.whole_community")


def event_table(ctx: PageContext, events: pd.DataFrame, *, past: bool, empty_message: str) -> None:
    if events.empty:
        st.info(empty_message)
        return
    table = pd.DataFrame({
        ctx.t("events.col_starts_at"): events["starts_at"].dt.strftime("%Y-%m-%d %H:%M"),
        ctx.t("events.field_title"): events["title"],
        ctx.t("events.field_kind"): [ctx.label("event_kind", kind) for kind in events["kind"]],
        ctx.t("common.grid"): [_grid_label(ctx, name) for name in events["grid_name"]],
        ctx.t("events.field_place"): events["place"],
        ctx.t("events.field_host"): events["host"].fillna(""),
        ctx.t("events.field_capacity"): [ctx.t("events.no_limit") if pd.isna(capacity) else str(int(capacity))
                                         for capacity in events["capacity"]],
    })
    if past:
        table[ctx.t("events.kpi_named")] = events["named_attendance"]
        table[ctx.t("events.kpi_headcount")] = events["headcount"]
        table[ctx.t("events.col_total")] = events["total"]
    paged_table(ctx, table, key="events_past" if past else "events_upcoming")


def _event_choices(events: pd.DataFrame) -> dict[int, str]:
    if events.empty:
        return {}
    # Built column-wise: a district has 10,000 events, and a loop over them took a second.
    starts = pd.to_datetime(events["starts_at"]).dt.strftime("%Y-%m-%d %H:%M")
    return dict(zip(events["id"].astype(int).tolist(), (starts + " · " + events["title"]).tolist(), strict=True))


def _follow_start(prefix: str) -> None:
    """The start was changed: the end moves with it, keeping the event's length (unless the end
    was changed in the same step: then it is what the person chose)."""
    state = st.session_state
    start = _combine(state.get(f"{prefix}_start_date"), state.get(f"{prefix}_start_time"))
    end = _combine(state.get(f"{prefix}_end_date"), state.get(f"{prefix}_end_time"))
    shown_start, shown_end = state.get(f"{prefix}_shown_start"), state.get(f"{prefix}_shown_end")
    if None in (start, end, shown_start) or end != shown_end:
        return
    moved = end + (start - shown_start)
    state[f"{prefix}_end_date"], state[f"{prefix}_end_time"] = moved.date(), moved.time()


def _event_fields(ctx: PageContext, prefix: str, defaults: dict) -> dict:
    """The event's inputs (not in a st.form: the end follows the start as it is changed); returns
    the values as EventCreate/EventUpdate fields. The grids offered are those the person may
    write in (a grid leader: their own, chosen already)."""
    hosts = query(list_organisations)
    host_names = {int(row.id): row.name for row in hosts.itertuples()}
    grids, default_grid = entry_grid_choices(ctx, defaults["grid_id"])
    kinds = [kind.value for kind in EventKind]
    state = st.session_state
    for name, value in (("start_date", defaults["starts_at"].date()), ("start_time", defaults["starts_at"].time()),
                        ("end_date", defaults["ends_at"].date()), ("end_time", defaults["ends_at"].time())):
        state.setdefault(f"{prefix}_{name}", value)
    values = {"title": st.text_input(ctx.t("events.field_title"), value=defaults["title"], max_chars=120,
                                     key=f"{prefix}_title")}
    left, right = st.columns(2)
    with left:
        values["kind"] = st.selectbox(ctx.t("events.field_kind"), kinds,
                                      index=kinds.index(defaults["kind"]) if defaults["kind"] in kinds else 0,
                                      format_func=lambda code: ctx.label("event_kind", code), key=f"{prefix}_kind")
        host_choices = [None, *host_names]
        values["host_org_id"] = st.selectbox(
            ctx.t("events.field_host"), host_choices,
            index=host_choices.index(defaults["host_org_id"]) if defaults["host_org_id"] in host_choices else 0,
            format_func=lambda org: ctx.t("common.none") if org is None else host_names[org], key=f"{prefix}_host")
        start_date = st.date_input(ctx.t("events.field_start_date"), key=f"{prefix}_start_date",
                                   on_change=_follow_start, args=(prefix,))
        end_date = st.date_input(ctx.t("events.field_end_date"), key=f"{prefix}_end_date")
        values["capacity"] = st.number_input(ctx.t("events.field_capacity"), value=defaults["capacity"], step=1,
                                             help=ctx.t("events.capacity_help"), key=f"{prefix}_capacity")
    with right:
        # The whole community (no grid) only for those who may write there: not a grid leader.
        grid_choices = [*([None] if may_write(ctx.actor, None) else []), *grids]
        values["grid_id"] = st.selectbox(
            ctx.t("common.grid"), grid_choices,
            index=grid_choices.index(default_grid) if default_grid in grid_choices else None,
            format_func=lambda grid: ctx.t("common.whole_community") if grid is None else grids[grid],
            key=f"{prefix}_grid", placeholder=ctx.t("common.choose_options"))
        values["place"] = st.text_input(ctx.t("events.field_place"), value=defaults["place"], max_chars=120,
                                        key=f"{prefix}_place")
        start_time = st.time_input(ctx.t("events.field_start_time"), step=timedelta(minutes=15),
                                   key=f"{prefix}_start_time", on_change=_follow_start, args=(prefix,))
        end_time = st.time_input(ctx.t("events.field_end_time"), step=timedelta(minutes=15), key=f"{prefix}_end_time")
    values["description"] = st.text_area(ctx.t("events.field_description"), value=defaults["description"],
                                         max_chars=2000, key=f"{prefix}_description")
    values["starts_at"] = _combine(start_date, start_time)
    values["ends_at"] = _combine(end_date, end_time)
    state[f"{prefix}_shown_start"], state[f"{prefix}_shown_end"] = values["starts_at"], values["ends_at"]
    if values["capacity"] is not None:
        values["capacity"] = int(values["capacity"])
    return values


def _length_confirmed(ctx: PageContext, prefix: str, values: dict) -> bool:
    """An event longer than a day (domain.unusually_long) is saved only once confirmed: a
    start moved without its end used to make a nine-day event. (An end before the start is
    refused by the core.)"""
    if not unusually_long(values["starts_at"], values["ends_at"]):
        return True
    length = values["ends_at"] - values["starts_at"]
    st.warning(ctx.t("events.long_event", days=length.days, hours=length.seconds // 3600))
    return st.checkbox(ctx.t("events.long_event_confirm"), key=f"{prefix}_long_ok")


def _submit(ctx: PageContext, prefix: str, label: str, values: dict) -> bool:
    confirmed = _length_confirmed(ctx, prefix, values)
    submitted = st.button(label, type="primary", key=f"{prefix}_submit")
    if submitted and not confirmed:
        st.error(ctx.t("events.long_event_unconfirmed"))
        return False
    return submitted


def _combine(day: date | None, moment: time | None) -> datetime | None:
    """A date and a time from the inputs (either may be cleared) -> a datetime, or None."""
    if day is None or moment is None:
        return None
    return datetime.combine(day, moment)


def _forget(*keys: str) -> None:
    for key in keys:
        st.session_state.pop(key, None)


def create_event_form(ctx: PageContext, *, grid_id: int | None) -> None:
    """A new event; after a save the inputs start again from their defaults."""
    start = datetime.combine(today() + timedelta(days=7), time(9, 0))
    defaults = {"title": "", "kind": EventKind.CULTURE_SPORTS.value, "host_org_id": None, "grid_id": grid_id,
                "starts_at": start, "ends_at": start + timedelta(hours=2), "place": "", "capacity": None,
                "description": ""}
    with st.container(border=True, key=NEW):
        values = _event_fields(ctx, NEW, defaults)
        submitted = _submit(ctx, NEW, ctx.t("events.create"), values)
    if submitted:
        def create(session):
            event = create_event(session=session, actor=ctx.actor, data=EventCreate(**values))
            _forget(*(f"{NEW}_{name}" for name in FIELDS))
            return event

        save(ctx, create, success=ctx.t("events.created", title=values["title"].strip()), form_key=NEW,
             submission=values)


def _remember_version(prefix: str, detail: EventDetail) -> int:
    """The version the user started from, kept while the form keeps their input, so that a change
    someone else saves in the meantime is refused (errors.conflict) instead of overwritten. A form
    shown afresh (its inputs not in the session yet) starts from the current version."""
    key = f"{prefix}_version"
    if not any(name.startswith(f"{prefix}_") and name != key for name in st.session_state):
        st.session_state[key] = detail.version
    return st.session_state.setdefault(key, detail.version)


def _forget_versions(event_id: int) -> None:
    """After a save the event has a new version: both of its forms start from it."""
    _forget(f"{EDIT}_{event_id}_version", f"{ATTENDANCE}_{event_id}_version")


def _choose_event(ctx: PageContext, events: pd.DataFrame, *, key: str) -> EventDetail | None:
    choices = _event_choices(events)
    event_id = st.selectbox(ctx.t("events.choose_event"), list(choices), format_func=choices.get, key=key)
    if event_id is None:
        return None
    return query(event_detail, event_id=event_id, may_see_personal_data=ctx.actor.may_see_personal_data)


def edit_event_form(ctx: PageContext, events: pd.DataFrame) -> None:
    if events.empty:
        st.info(ctx.t("events.nothing_to_edit"))
        return
    detail = _choose_event(ctx, events, key=f"{EDIT}_event")
    if detail is None:
        return
    prefix = f"{EDIT}_{detail.id}"
    version = _remember_version(prefix, detail)
    defaults = {"title": detail.title, "kind": detail.kind, "host_org_id": detail.host_org_id,
                "grid_id": detail.grid_id, "starts_at": detail.starts_at, "ends_at": detail.ends_at,
                "place": detail.place, "capacity": detail.capacity, "description": detail.description}
    with st.container(border=True, key=prefix):
        values = _event_fields(ctx, prefix, defaults)
        submitted = _submit(ctx, prefix, ctx.t("common.save"), values)
    if submitted:
        def update(session):
            event = update_event(session=session, actor=ctx.actor, event_id=detail.id, data=EventUpdate(**values),
                                 expected_version=version)
            _forget_versions(detail.id)
            _forget(*(f"{prefix}_{name}" for name in FIELDS))
            return event

        save(ctx, update, success=ctx.t("events.updated", title=values["title"].strip()))
    delete_record_action(ctx, kind="event", record_id=detail.id, grid_id=detail.grid_id, version=version)


def attendance_form(ctx: PageContext, past_events: pd.DataFrame) -> None:
    """Who took part in an event that has started: named residents (they count towards the
    participation rate) and the anonymous headcount, kept apart."""
    if past_events.empty:
        st.info(ctx.t("events.no_past_events"))
        return
    detail = _choose_event(ctx, past_events, key=f"{ATTENDANCE}_event")
    if detail is None:
        return
    prefix = f"{ATTENDANCE}_{detail.id}"
    version = _remember_version(prefix, detail)
    st.caption(ctx.t("events.attendance_now", named=detail.named_attendance, headcount=detail.headcount,
                     capacity=ctx.t("common.none") if detail.capacity is None else detail.capacity))
    search = st.text_input(ctx.t("events.search_people"), key=f"{ATTENDANCE}_search",
                           help=ctx.t("events.search_people_help"))
    people = query(people_options, search=search.strip() or None,
                   may_see_personal_data=ctx.actor.may_see_personal_data)
    # Labels of everyone shown so far, so people picked before the search changed keep their names.
    labels: dict[int, str] = st.session_state.setdefault(f"{ATTENDANCE}_labels", {})
    labels.update(detail.attendees)
    labels.update(zip(people["id"].astype(int), people["label"], strict=True))
    recorded = [person_id for person_id, _ in detail.attendees]
    chosen = st.session_state.get(f"{prefix}_people", recorded)
    # The recorded and the chosen people stay offered whatever the search shows.
    options = list(dict.fromkeys([*recorded, *chosen, *people["id"].astype(int)]))
    with st.form(prefix, border=True):
        person_ids = st.multiselect(ctx.t("events.field_attendees"), options, default=recorded,
                                    format_func=lambda person_id: labels.get(person_id, f"#{person_id}"),
                                    key=f"{prefix}_people", placeholder=ctx.t("common.choose_options"))
        headcount = st.number_input(ctx.t("events.field_headcount"), min_value=0, value=detail.headcount, step=1,
                                    help=ctx.t("events.headcount_help"), key=f"{prefix}_headcount")
        submitted = st.form_submit_button(ctx.t("events.save_attendance"), type="primary", key=f"{prefix}_submit")
    if submitted:
        def record(session):
            event = record_attendance(session=session, actor=ctx.actor, event_id=detail.id,
                                      person_ids=list(person_ids), headcount=int(headcount), expected_version=version)
            _forget_versions(detail.id)
            return event

        save(ctx, record, success=ctx.t("events.attendance_saved", named=len(person_ids), headcount=int(headcount)))
