"""Altair charts in one calm style, each with a text summary beside it for people who cannot see
the chart (and for the minutes): the caller's sentence plus the figures read off the data (the
highest and the lowest value), so every chart states its actual numbers. In projector mode the
labels are larger, black, and a chart shows few series."""

import importlib
import json
from collections.abc import Callable

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.elements.vega_charts import _altair_globals_lock

from components.projector import in_projector_mode
from gongzhi import i18n
from gongzhi.escape import markdown_literal

PALETTE = ["#0b4f8a", "#d97706", "#15803d", "#b91c1c", "#6d28d9", "#0e7490", "#a16207", "#be185d"]
LABEL_SIZE = 14
PROJECTOR_LABEL_SIZE = 22
PROJECTOR_MIN_HEIGHT = 340
PROJECTOR_SERIES = 3  # lines or colour groups a chart shows in projector mode
GRID_BARS = 15  # a per-grid chart of more grids (a district has 1,000) shows the lowest this many


def _context():
    """The page's context if a page is running (None in plain unit tests)."""
    return st.session_state.get("page_context")


def _lang() -> str:
    ctx = _context()
    return ctx.lang if ctx else i18n.DEFAULT_LANGUAGE


def style_chart(chart: alt.Chart, height: int) -> alt.Chart:
    """The shared look: large labels that read from the back of a room, no frame; larger still,
    and black, in projector mode."""
    size = LABEL_SIZE
    colour = {}
    if in_projector_mode():
        size, height = PROJECTOR_LABEL_SIZE, max(height, PROJECTOR_MIN_HEIGHT)
        colour = {"labelColor": "#000000", "titleColor": "#000000"}
    return chart.properties(height=height) \
        .configure_axis(labelFontSize=size, titleFontSize=size, labelLimit=360, **colour) \
        .configure_legend(labelFontSize=size, titleFontSize=size, **colour).configure_view(strokeWidth=0)


def format_value(value: float, unit: str = "") -> str:
    """A chart value as the summary states it: whole numbers without decimals, others with one."""
    value = float(value)
    return (f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}") + unit


def _extremes(frame: pd.DataFrame, x: str, y: str, lang: str, unit: str) -> str:
    values = frame.dropna(subset=[y])
    if values.empty:
        return ""
    if len(values) == 1:
        row = values.iloc[0]
        return i18n.translate_plain(lang, "charts.single", name=row[x], value=format_value(row[y], unit))
    high, low = values.loc[values[y].idxmax()], values.loc[values[y].idxmin()]
    return i18n.translate_plain(lang, "charts.extremes", high=high[x], high_value=format_value(high[y], unit),
                          low=low[x], low_value=format_value(low[y], unit))


def describe(frame: pd.DataFrame, *, x: str, y: str, series: str | None = None, unit: str = "",
             lang: str | None = None) -> str:
    """The figures a chart shows, in words: the highest and the lowest value with its label, per
    series if there are several (in the order of the frame)."""
    lang = lang or _lang()
    if series is None:
        return _extremes(frame, x, y, lang, unit)
    parts = []
    for name, rows in frame.groupby(series, sort=False):
        extremes = _extremes(rows, x, y, lang, unit)
        if extremes:
            parts.append(i18n.translate_plain(lang, "charts.series", series=name, extremes=extremes))
    return " ".join(parts)


def lowest_grids(frame: pd.DataFrame, *, y: str, limit: int = GRID_BARS) -> tuple[pd.DataFrame, str]:
    """The `limit` rows with the lowest `y` (all of them if there are no more) and a note saying
    how many of how many a chart of them shows ("" when all)."""
    if len(frame) <= limit:
        return frame, ""
    return (frame.sort_values(y, kind="stable").head(limit),
            i18n.translate_plain(_lang(), "charts.lowest_grids", shown=limit, total=f"{len(frame):,}"))


def few_series(frame: pd.DataFrame, *, y: str, series: str, limit: int = PROJECTOR_SERIES) -> pd.DataFrame:
    """The `limit` series with the largest totals (all of them if there are no more)."""
    totals = frame.groupby(series, sort=False)[y].sum()
    if len(totals) <= limit:
        return frame
    kept = totals.sort_values(ascending=False, kind="stable").index[:limit]
    return frame[frame[series].isin(kept)]


def vega_lite_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec as st.altair_chart makes it (no theme defaults), but not
    validated against the Vega-Lite JSON schema: that took 8–25 ms a chart on every rerun, more
    than the rest of a page. The charts are built only by this module's functions, whose specs
    the tests validate (tests/components/test_charts.py)."""
    with _altair_globals_lock, alt.theme.enable("none"):  # Altair's theme is global to all sessions
        spec = chart.to_dict(validate=False)
    # Altair names datasets by a hex digest, whose digits read like a phone number to a scan for
    # personal data (tests/views/test_personal_data_scan.py); plain letters say the same.
    text = json.dumps(spec, ensure_ascii=False)
    for index, name in enumerate(spec.get("datasets", {})):
        text = text.replace(json.dumps(name), json.dumps(f"data-{chr(ord('a') + index)}"))
    return json.loads(text)


def _draw(spec: dict, text: str) -> None:
    """`text` is plain (summaries come from ctx.plain): alt text as it is, the caption escaped."""
    st.vega_lite_chart(spec=spec, width="stretch", alt=text)
    st.caption(markdown_literal(text))


def show_chart(chart: alt.TopLevelMixin, *, height: int, summary: str, facts: str = "") -> None:
    """Draw a chart with its summary (plain text) as alt text and as a caption next to it."""
    _draw(vega_lite_spec(style_chart(chart, height)), f"{summary} {facts}".strip())


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_figure(builder: str, projector: bool, lang: str, kwargs: dict) -> tuple[dict, str] | None:
    # `projector` and `lang` are in the key because builders read them (in_projector_mode, _lang).
    module_name, name = builder.rsplit(".", 1)
    figure = getattr(importlib.import_module(module_name), name)(**kwargs)
    if figure is None:
        return None
    chart, height, text = figure
    return vega_lite_spec(style_chart(chart, height)), text


def cached_chart(builder: Callable[..., tuple[alt.TopLevelMixin, int, str] | None], **kwargs) -> None:
    """Draw the chart `builder(**kwargs)` returns as (chart, height, text), its spec cached on the
    arguments (data frames by their content): a warm rerun neither builds nor serialises it
    again. `builder` is a module-level function; its arguments carry every translated title."""
    figure = _cached_figure(f"{builder.__module__}.{builder.__qualname__}", in_projector_mode(), _lang(), kwargs)
    if figure is not None:
        _draw(*figure)


def _series_note(frame: pd.DataFrame, shown: pd.DataFrame, series: str) -> str:
    total, kept = frame[series].nunique(), shown[series].nunique()
    return "" if kept == total else i18n.translate_plain(_lang(), "charts.few_series", shown=kept, total=total)


def bar_figure(frame: pd.DataFrame, *, x: str, y: str, x_title: str, y_title: str, summary: str,
               color: str | None = None, horizontal: bool = False, height: int = 280,
               sort: list | str | None = None, unit: str = "",
               state_extremes: bool = True) -> tuple[alt.Chart, int, str] | None:
    """bar_chart's chart, height and text."""
    if frame.empty:
        return None
    shown = few_series(frame, y=y, series=color) if color and in_projector_mode() else frame
    category = alt.X(f"{x}:N", title=x_title, sort=sort) if not horizontal else alt.Y(f"{x}:N", title=x_title, sort=sort)
    value = alt.Y(f"{y}:Q", title=y_title) if not horizontal else alt.X(f"{y}:Q", title=y_title)
    encoding = {"x": category, "y": value} if not horizontal else {"y": category, "x": value}
    tooltip = [alt.Tooltip(f"{x}:N", title=x_title), alt.Tooltip(f"{y}:Q", title=y_title)]
    chart = alt.Chart(shown).mark_bar(**({} if color else {"color": PALETTE[0]})).encode(**encoding, tooltip=tooltip)
    if color:
        chart = chart.encode(color=alt.Color(f"{color}:N", scale=alt.Scale(range=PALETTE)))
    facts = describe(shown, x=x, y=y, series=color, unit=unit) if state_extremes else ""
    if color:
        facts = f"{facts} {_series_note(frame, shown, color)}".strip()
    return chart, height, f"{summary} {facts}".strip()


def bar_chart(frame: pd.DataFrame, *, x: str, y: str, x_title: str, y_title: str, summary: str,
              color: str | None = None, horizontal: bool = False, height: int = 280, sort: list | str | None = None,
              unit: str = "", state_extremes: bool = True) -> None:
    """A bar chart; `summary` is shown as text under it (what the chart says, in one sentence),
    followed by the highest and the lowest bar (unless the summary already names them:
    `state_extremes=False`)."""
    cached_chart(bar_figure, frame=frame, x=x, y=y, x_title=x_title, y_title=y_title, summary=summary, color=color,
                 horizontal=horizontal, height=height, sort=sort, unit=unit, state_extremes=state_extremes)


def line_figure(frame: pd.DataFrame, *, x: str, y: str, series: str, x_title: str, y_title: str, summary: str,
                height: int = 280, unit: str = "") -> tuple[alt.Chart, int, str] | None:
    """line_chart's chart, height and text."""
    if frame.empty:
        return None
    shown = few_series(frame, y=y, series=series) if in_projector_mode() else frame
    chart = alt.Chart(shown).mark_line(point=True, strokeWidth=5 if in_projector_mode() else 3).encode(
        x=alt.X(f"{x}:O", title=x_title),
        y=alt.Y(f"{y}:Q", title=y_title),
        color=alt.Color(f"{series}:N", title=None, scale=alt.Scale(range=PALETTE)),
        tooltip=[alt.Tooltip(f"{x}:O", title=x_title), alt.Tooltip(f"{series}:N"), alt.Tooltip(f"{y}:Q", title=y_title)],
    )
    facts = f"{describe(shown, x=x, y=y, series=series, unit=unit)} {_series_note(frame, shown, series)}".strip()
    return chart, height, f"{summary} {facts}".strip()


def line_chart(frame: pd.DataFrame, *, x: str, y: str, series: str, x_title: str, y_title: str, summary: str,
               height: int = 280, unit: str = "") -> None:
    """Lines over time in long format (one row per x and series); the summary adds each line's
    highest and lowest point."""
    cached_chart(line_figure, frame=frame, x=x, y=y, series=series, x_title=x_title, y_title=y_title,
                 summary=summary, height=height, unit=unit)
