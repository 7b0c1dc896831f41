"""Headline figure cards: big numbers readable from the back of a room."""

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from components.projector import in_projector_mode
from gongzhi.escape import markdown_literal


@dataclass(frozen=True)
class Kpi:
    """A card; label, value and delta are shown as text (a metric renders them as Markdown, so
    kpi_row escapes them; a translation is already Markdown and stays as it is)."""

    label: str
    value: str
    delta: str | None = None
    help: str | None = None
    delta_color: str = "normal"  # "inverse" when a rise is bad (e.g. overdue issues)


PROJECTOR_COLUMNS = 3  # cards side by side at most in projector mode, so labels are not cut short


def projector_columns(wanted: int) -> int:
    """Four cards go two by two, more go three a row."""
    return wanted if wanted <= PROJECTOR_COLUMNS else 2 if wanted == 4 else PROJECTOR_COLUMNS


def kpi_row(cards: Sequence[Kpi], *, columns: int | None = None) -> None:
    """A row of cards; in projector mode fewer side by side, and without the help tooltips
    (nobody hovers over a projected screen)."""
    projector = in_projector_mode()
    wanted = columns or len(cards)
    cols = st.columns(projector_columns(wanted) if projector else wanted)
    for index, card in enumerate(cards):
        with cols[index % len(cols)]:
            st.metric(markdown_literal(card.label, starts_line=False), markdown_literal(card.value, starts_line=False),
                      delta=None if card.delta is None else markdown_literal(card.delta, starts_line=False),
                      help=None if projector else card.help, delta_color=card.delta_color, border=True)


def format_number(value: float | int | None, *, digits: int = 0, empty: str = "—") -> str:
    if value is None:
        return empty
    return f"{value:,.{digits}f}"


def format_percent(value: float | None, *, digits: int = 0, empty: str = "—") -> str:
    """value is a share between 0 and 1."""
    if value is None:
        return empty
    return f"{value * 100:.{digits}f}%"
