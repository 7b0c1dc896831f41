"""The slideshow for a meeting room: the headline figures, the grid map, then one card per grid.
It advances on its own in a fragment that reruns on a timer (only the slide is redrawn, not the
app), and by large previous/next buttons that a presentation clicker works too: the buttons'
own keyboard shortcuts take the arrow keys, and components.projector.clicker_keys presses the
same buttons on Page Up / Page Down."""

import time
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from components.data import query
from components.filters import Period
from components.grid_map import build_grid_map, cached_map_payload, map_cache_key, map_summary, send_map
from components.kpi import Kpi, format_number, format_percent, kpi_row
from components.overview_sections import load_headlines
from components.page_setup import PageContext, recheck_sign_in
from components.projector import clicker_keys
from gongzhi.queries.grid_metrics import grid_metrics, grid_shapes

INTERVALS = (0, 5, 10, 20, 30, 60)  # seconds; 0: only the buttons move on
DEFAULT_INTERVAL = 20
INTERVAL_KEY = "slideshow_interval"
INDEX_KEY = "slideshow_index"
CHANGED_KEY = "slideshow_changed_at"
PREVIOUS_KEY = "slideshow_previous"
NEXT_KEY = "slideshow_next"
MAP_METRIC = "open_issues"
MAP_HEIGHT = 440  # the whole slide fits a 1024×768 projector
MAP_SLIDE_KEY = "slideshow_map"
TIMER_SLACK = 1.0  # seconds: a timer tick may arrive a little before the interval is quite over



@dataclass(frozen=True)
class Slide:
    kind: str  # "headlines", "map" or "grid"
    grid_id: int | None = None


def deck(metrics: pd.DataFrame, has_map: bool) -> list[Slide]:
    """The slides in order: headline figures, the map (if any grid has a boundary), each grid."""
    slides = [Slide("headlines")]
    if has_map:
        slides.append(Slide("map"))
    slides.extend(Slide("grid", int(grid_id)) for grid_id in metrics["grid_id"])
    return slides


def step(index: int, count: int, delta: int) -> int:
    """The slide `delta` away from `index`, going round at either end."""
    return (index + delta) % count


def due(changed_at: float, now: float, interval: int) -> bool:
    """Whether the slide has been shown for the interval, so a timer run moves on."""
    return interval > 0 and now - changed_at >= interval - TIMER_SLACK


def _move(delta: int, count: int) -> None:
    st.session_state[INDEX_KEY] = step(st.session_state.get(INDEX_KEY, 0), count, delta)
    st.session_state[CHANGED_KEY] = time.monotonic()


def interval_choice(ctx: PageContext) -> int:
    st.session_state.setdefault(INTERVAL_KEY, DEFAULT_INTERVAL)
    return st.radio(ctx.t("slideshow.interval"), INTERVALS, key=INTERVAL_KEY, horizontal=True,
                    format_func=lambda s: ctx.t("slideshow.interval_off") if s == 0
                    else ctx.t("slideshow.interval_seconds", seconds=s))


def slideshow(ctx: PageContext, period: Period, interval: int) -> None:
    """The slideshow; only this part reruns on the timer."""
    metrics = query(grid_metrics, start=period.start, end=period.end)
    shapes = query(grid_shapes)
    slides = deck(metrics, bool(shapes))
    clicker_keys(previous=PREVIOUS_KEY, following=NEXT_KEY)

    @st.fragment(run_every=interval or None)
    def show() -> None:
        recheck_sign_in(ctx)
        now = time.monotonic()
        index = st.session_state.get(INDEX_KEY, 0) % len(slides)
        changed_at = st.session_state.setdefault(CHANGED_KEY, now)
        if due(changed_at, now, interval):
            index = step(index, len(slides), 1)
            changed_at = now
        st.session_state[INDEX_KEY], st.session_state[CHANGED_KEY] = index, changed_at

        previous, position, following = st.columns([2, 3, 2], vertical_alignment="center")
        previous.button(ctx.t("slideshow.previous"), key=PREVIOUS_KEY, icon=":material/arrow_back:",
                        shortcut="Left", on_click=_move, args=(-1, len(slides)), width="stretch")
        position.markdown(ctx.t("slideshow.position", index=index + 1, count=len(slides)))
        following.button(ctx.t("slideshow.next"), key=NEXT_KEY, icon=":material/arrow_forward:", type="primary",
                         shortcut="Right", on_click=_move, args=(1, len(slides)), width="stretch")
        slide = slides[index]
        if slide.kind == "headlines":
            headlines_slide(ctx, period)
        elif slide.kind == "map":
            map_slide(ctx, metrics, shapes, period)
        else:
            grid_slide(ctx, metrics[metrics["grid_id"] == slide.grid_id].iloc[0])

    show()


def headlines_slide(ctx: PageContext, period: Period) -> None:
    figures = load_headlines(period, None)
    issues = figures.issues
    st.header(ctx.t("slideshow.headlines_title", start=period.start.isoformat(), end=period.end.isoformat()))
    kpi_row([
        Kpi(ctx.t("overview.kpi_open_issues"), format_number(issues.open_issues)),
        Kpi(ctx.t("overview.kpi_overdue"), format_number(issues.overdue)),
        Kpi(ctx.t("overview.kpi_resolved_in_grid"), format_percent(issues.share_resolved_in_grid)),
        Kpi(ctx.t("overview.kpi_satisfied"), format_percent(issues.share_satisfied)),
        Kpi(ctx.t("overview.kpi_participation"), format_percent(figures.events.participation_rate, digits=1)),
        Kpi(ctx.t("overview.kpi_active_volunteers"), format_number(figures.month_volunteers.active_volunteers)),
    ], columns=3)


def map_slide(ctx: PageContext, metrics: pd.DataFrame, shapes, period: Period) -> None:
    st.header(ctx.t("slideshow.map_title", metric=ctx.t(f"map.metric_{MAP_METRIC}")))
    # Rendered once per data revision (at 1,000 grids a second of the server's time each time the
    # slide came round). Nothing comes back from the map: looking at it must not rerun the slideshow.
    shapes_key = (ctx.database_url, ctx.key_for(grid_shapes))
    payload = cached_map_payload(
        map_cache_key(ctx, (ctx.database_url, ctx.key_for(grid_metrics, grid_shapes), period.start, period.end),
                      MAP_METRIC), MAP_SLIDE_KEY,
        lambda: build_grid_map(ctx, metrics, shapes, MAP_METRIC, shapes_key=shapes_key))
    send_map(payload, key=MAP_SLIDE_KEY, height=MAP_HEIGHT, returned_objects=[])
    st.caption(map_summary(ctx, metrics, MAP_METRIC))


def grid_slide(ctx: PageContext, grid: pd.Series) -> None:
    st.header(ctx.t("slideshow.grid_title", name=grid["name"], code=grid["code"]))
    leader = grid["leader"] if isinstance(grid["leader"], str) else ctx.t("map.no_leader")
    cards = [
        Kpi(ctx.t("map.field_open_issues"), format_number(grid["open_issues"])),
        Kpi(ctx.t("map.field_overdue"), format_number(grid["overdue"])),
        Kpi(ctx.t("map.field_participation_rate"), format_percent(_number(grid["participation_rate"]), digits=1)),
        Kpi(ctx.t("map.field_population"), format_number(grid["population"])),
        Kpi(ctx.t("map.field_households"), format_number(grid["households"])),
        Kpi(ctx.t("map.field_volunteers_per_1000"), format_number(_number(grid["volunteers_per_1000"]), digits=1)),
    ]
    kpi_row(cards, columns=3)
    if ctx.actor.may_see_names:  # the public sees no one's name
        st.markdown(ctx.t("slideshow.grid_leader", leader=leader))


def _number(value) -> float | None:
    return None if pd.isna(value) else float(value)
