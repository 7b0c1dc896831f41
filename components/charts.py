"""Altair charts in one calm style, each with a one-line text summary beside it for people who
cannot see the chart (and for the minutes)."""

import altair as alt
import pandas as pd
import streamlit as st

PALETTE = ["#0b4f8a", "#d97706", "#15803d", "#b91c1c", "#6d28d9", "#0e7490", "#a16207", "#be185d"]
LABEL_SIZE = 14


def style_chart(chart: alt.Chart, height: int) -> alt.Chart:
    """The shared look: large labels that read from the back of a room, no frame."""
    return chart.properties(height=height).configure_axis(labelFontSize=LABEL_SIZE, titleFontSize=LABEL_SIZE) \
        .configure_legend(labelFontSize=LABEL_SIZE, titleFontSize=LABEL_SIZE).configure_view(strokeWidth=0)


def bar_chart(frame: pd.DataFrame, *, x: str, y: str, x_title: str, y_title: str, summary: str,
              color: str | None = None, horizontal: bool = False, height: int = 280, sort: list | str | None = None) -> None:
    """A bar chart; `summary` is shown as text under it (what the chart says, in one sentence)."""
    if frame.empty:
        return
    category = alt.X(f"{x}:N", title=x_title, sort=sort) if not horizontal else alt.Y(f"{x}:N", title=x_title, sort=sort)
    value = alt.Y(f"{y}:Q", title=y_title) if not horizontal else alt.X(f"{y}:Q", title=y_title)
    encoding = {"x": category, "y": value} if not horizontal else {"y": category, "x": value}
    tooltip = [alt.Tooltip(f"{x}:N", title=x_title), alt.Tooltip(f"{y}:Q", title=y_title)]
    chart = alt.Chart(frame).mark_bar(**({} if color else {"color": PALETTE[0]})).encode(**encoding, tooltip=tooltip)
    if color:
        chart = chart.encode(color=alt.Color(f"{color}:N", scale=alt.Scale(range=PALETTE)))
    st.altair_chart(style_chart(chart, height), width="stretch", alt=summary)
    st.caption(summary)


def line_chart(frame: pd.DataFrame, *, x: str, y: str, series: str, x_title: str, y_title: str, summary: str,
               height: int = 280) -> None:
    """Lines over time in long format (one row per x and series)."""
    if frame.empty:
        return
    chart = alt.Chart(frame).mark_line(point=True, strokeWidth=3).encode(
        x=alt.X(f"{x}:O", title=x_title),
        y=alt.Y(f"{y}:Q", title=y_title),
        color=alt.Color(f"{series}:N", title=None, scale=alt.Scale(range=PALETTE)),
        tooltip=[alt.Tooltip(f"{x}:O", title=x_title), alt.Tooltip(f"{series}:N"), alt.Tooltip(f"{y}:Q", title=y_title)],
    )
    st.altair_chart(style_chart(chart, height), width="stretch", alt=summary)
    st.caption(summary)
