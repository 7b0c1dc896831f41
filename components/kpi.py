"""Headline figure cards: big numbers readable from the back of a room."""

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    delta: str | None = None
    help: str | None = None
    delta_color: str = "normal"  # "inverse" when a rise is bad (e.g. overdue issues)


def kpi_row(cards: Sequence[Kpi], *, columns: int | None = None) -> None:
    cols = st.columns(columns or len(cards))
    for index, card in enumerate(cards):
        with cols[index % len(cols)]:
            st.metric(card.label, card.value, delta=card.delta, help=card.help,
                      delta_color=card.delta_color, border=True)


def format_number(value: float | int | None, *, digits: int = 0, empty: str = "—") -> str:
    if value is None:
        return empty
    return f"{value:,.{digits}f}"


def format_percent(value: float | None, *, digits: int = 0, empty: str = "—") -> str:
    """value is a share between 0 and 1."""
    if value is None:
        return empty
    return f"{value * 100:.{digits}f}%"
