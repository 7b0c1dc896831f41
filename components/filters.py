"""The filters shared by pages: period and grid, in the sidebar (in projector mode, where the
sidebar is hidden, in one expander at the top of the page). Their values persist across pages (a
grid chosen on the map stays chosen on the issues page) and `?grid=CODE` opens a page already
filtered."""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st
from sqlalchemy.exc import InternalError, OperationalError

from components.data import query
from components.page_setup import PageContext
from gongzhi.clock import today
from gongzhi.db import read_session, write_session
from gongzhi.permissions import Actor, entry_grids, home_grid
from gongzhi.preferences import last_grid, remember_grid
from gongzhi.queries.areas import list_grids
from gongzhi.queries.common import twelve_months_start

logger = logging.getLogger(__name__)
PERIODS = ("period_30d", "period_90d", "period_12m", "period_month", "period_custom")
GRID_KEY = "selected_grid_id"
PERIOD_KEY = "selected_period"
ALL_GRIDS = 0
FILTER_AREA_KEY = "_filter_area"  # (the run's page context, the expander the filters of that run share)


def filter_area(ctx: PageContext):
    """Where this run's filters go: the sidebar; in projector mode, which hides the sidebar, one
    expander in the page, made by the first filter of the run and shared by the others."""
    if not ctx.projector:
        return st.sidebar
    area = st.session_state.get(FILTER_AREA_KEY)
    if area is None or area[0] is not ctx:  # a new run has a new context
        area = (ctx, st.expander(ctx.t("common.filters"), icon=":material/filter_list:"))
        st.session_state[FILTER_AREA_KEY] = area
    return area[1]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive


def period_bounds(choice: str, *, on: date, custom: tuple[date, date] | None = None) -> Period:
    if choice == "period_30d":
        return Period(on - timedelta(days=29), on)
    if choice == "period_90d":
        return Period(on - timedelta(days=89), on)
    if choice == "period_month":
        return Period(on.replace(day=1), on)
    if choice == "period_custom" and custom:
        return Period(*custom)
    return Period(twelve_months_start(on), on)


def _persist(widget_key: str, state_key: str) -> None:
    st.session_state[state_key] = st.session_state[widget_key]


def period_filter(ctx: PageContext) -> Period:
    st.session_state.setdefault(PERIOD_KEY, "period_12m")
    st.session_state["_period_widget"] = st.session_state[PERIOD_KEY]
    area = filter_area(ctx)
    choice = area.selectbox(ctx.t("common.period"), PERIODS, key="_period_widget",
                                  format_func=lambda code: ctx.t(f"common.{code}"),
                                  on_change=_persist, args=("_period_widget", PERIOD_KEY))
    on = today()
    custom = None
    if choice == "period_custom":
        start = area.date_input(ctx.t("common.period_from"), value=on - timedelta(days=89), max_value=on)
        end = area.date_input(ctx.t("common.period_to"), value=on, min_value=start)
        custom = (start, end)
    return period_bounds(choice, on=on, custom=custom)


def grid_options(ctx: PageContext) -> dict[int, str]:
    grids = query(list_grids)
    return dict(zip(grids["id"].astype(int).tolist(), grids["name"].astype(str).tolist(), strict=True))  # column-wise: 1,000 grids


def grid_filter(ctx: PageContext) -> int | None:
    options = grid_options(ctx)
    requested = st.query_params.get("grid")
    if requested and "_grid_from_url" not in st.session_state:
        st.session_state["_grid_from_url"] = True
        codes = {row.code: int(row.id) for row in query(list_grids).itertuples()}
        if requested in codes:
            st.session_state[GRID_KEY] = codes[requested]
    if GRID_KEY not in st.session_state and ctx.actor is not None:
        # "My grid" first: a grid leader's or representative's own grid, else the grid the account
        # chose last time (the choice then stays for the session, on every page).
        st.session_state[GRID_KEY] = home_grid(ctx.actor, options, last=_last_grid(ctx.actor))
    selected = st.session_state.get(GRID_KEY)
    # 0 stands for "all grids": a None value would show the widget as unselected.
    st.session_state["_grid_widget"] = selected if selected in options else ALL_GRIDS
    choice = filter_area(ctx).selectbox(ctx.t("common.grid"), [ALL_GRIDS, *options], key="_grid_widget",
                                  format_func=lambda gid: ctx.t("common.all_grids") if gid == ALL_GRIDS else options[gid],
                                  on_change=_persist_grid, args=(ctx.actor,))
    return None if choice == ALL_GRIDS else choice


def entry_grid_choices(ctx: PageContext, grid_id: int | None) -> tuple[dict[int, str], int | None]:
    """The grids an entry form offers (those the person may write in: permissions.entry_grids)
    by name, and the one it starts on: the page's grid if offered, else the person's own grid,
    else the only one offered, else none (the person chooses)."""
    names = grid_options(ctx)
    grids = {g: names[g] for g in entry_grids(ctx.actor, names)}
    if grid_id in grids:
        return grids, grid_id
    own = home_grid(ctx.actor, grids)
    return grids, own if own is not None else (next(iter(grids)) if len(grids) == 1 else None)


def _persist_grid(actor: Actor | None) -> None:
    choice = st.session_state["_grid_widget"]
    select_grid(None if choice == ALL_GRIDS else choice, actor)


def select_grid(grid_id: int | None, actor: Actor | None) -> None:
    """Select a grid across the app (e.g. from a map click), and for the account's next sign-in."""
    st.session_state[GRID_KEY] = grid_id
    if actor is not None and actor.user_id is not None:
        try:
            with write_session(actor=actor) as session:
                remember_grid(session=session, user_id=actor.user_id, grid_id=grid_id)
        except (OperationalError, InternalError):  # busy or read-only: the choice still holds for this session
            logger.warning("the grid chosen was not remembered for the next sign-in", exc_info=True)


def _last_grid(actor: Actor) -> int | None:
    if actor.user_id is None:  # the public, a display screen
        return None
    with read_session() as session:
        return last_grid(session=session, user_id=actor.user_id)
