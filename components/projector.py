"""Projector mode (投影模式): large type and high contrast for a meeting room, kept in the URL as
`?mode=projector` so that a bookmark opens it. The sidebar, header and toolbar are hidden, so a
large button at the top of every page leads back out; tables are paged instead of scrolled."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from gongzhi.config import static_url_prefix
from gongzhi.escape import markdown_literal

if TYPE_CHECKING:
    from components.page_setup import PageContext

MODE_PARAM = "mode"
PROJECTOR = "projector"
PROJECTOR_KEY = "projector_mode"  # the sidebar toggle's key
# The session's truth after its first run: plain session state, not the toggle's key, because
# Streamlit drops a widget's value after a run that does not keep it (a page change whose request
# it merged with another on a busy server), and the mode then fell back to the address.
PROJECTOR_STATE_KEY = "_projector_on"
PROJECTOR_ROWS = 8  # table rows per page at 1024×768 in projector mode
BODY_FONT_PX = 26
HEADLINE_FONT_PX = 72

# Every colour pair here has a contrast of at least 7:1 (WCAG AAA): text #000 on #fff is 21:1,
# white on the primary #0b4f8a is 8.4:1. Nothing in it comes from a user.
PROJECTOR_CSS = f"""
<style>
.stApp {{ background: #ffffff !important; color: #000000 !important; }}
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"], footer,
[data-testid="stElementToolbar"] {{
  display: none !important;
}}
[data-testid="stMainBlockContainer"] {{ padding: 1rem 1.5rem 3rem 1.5rem !important; max-width: 100% !important; }}
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMain"] label, [data-testid="stMain"] span,
[data-testid="stMain"] td, [data-testid="stMain"] th, [data-testid="stMain"] button, [data-testid="stMain"] kbd,
[data-testid="stMain"] input, [data-testid="stMain"] [data-baseweb="select"] div, [data-testid="stCaptionContainer"] {{
  font-size: {BODY_FONT_PX}px !important; line-height: 1.35 !important;
}}
[data-testid="stMain"] h1 *, [data-testid="stMain"] h2 *, [data-testid="stMain"] h3 *,
[data-testid="stMain"] [data-testid="stMetricValue"] *, [data-testid="stMain"] [data-testid="stMetricLabel"] * {{
  font-size: inherit !important; line-height: inherit !important;
}}
[data-testid="stMain"] h1 {{ font-size: {round(BODY_FONT_PX * 1.9)}px !important; padding: 0.2rem 0 !important; }}
[data-testid="stMain"] h2 {{ font-size: {round(BODY_FONT_PX * 1.5)}px !important; }}
[data-testid="stMain"] h3 {{ font-size: {round(BODY_FONT_PX * 1.25)}px !important; }}
[data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3, [data-testid="stMain"] h4,
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMain"] label, [data-testid="stMain"] td,
[data-testid="stMain"] th, [data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] *,
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *, [data-testid="stMetricDelta"],
[data-testid="stMetricDelta"] *, [data-testid="stMarkdownContainer"] {{
  color: #000000 !important; opacity: 1 !important;
}}
[data-testid="stMain"] [data-testid="stMetricValue"] {{
  font-size: {HEADLINE_FONT_PX}px !important; font-weight: 700 !important; line-height: 1.1 !important;
  color: #000000 !important;
}}
[data-testid="stMetricDelta"] svg {{ width: {BODY_FONT_PX}px !important; height: {BODY_FONT_PX}px !important; }}
[data-testid="stMetric"] {{ border: 3px solid #000000 !important; }}
[data-testid="stMain"] [data-testid="stMetricLabel"] {{ font-size: {BODY_FONT_PX}px !important; }}
[data-testid="stMain"] button {{ min-height: 3.6rem; border: 3px solid #000000 !important; }}
/* The pages menu opens in a layer outside the main area. */
[data-testid="stPopoverBody"] a, [data-testid="stPopoverBody"] p, [data-testid="stPopoverBody"] span {{
  font-size: {BODY_FONT_PX}px !important; color: #000000 !important; line-height: 1.6 !important;
}}
[data-testid="stMain"] button, [data-testid="stMain"] button * {{
  background-color: #ffffff !important; color: #000000 !important; opacity: 1 !important;
}}
[data-testid="stMain"] button[kind^="primary"], [data-testid="stMain"] button[kind^="primary"] * {{
  background-color: #0b4f8a !important; color: #ffffff !important;
}}
/* Disabled: still readable (AAA), told apart by a dashed border. */
[data-testid="stMain"] button:disabled, [data-testid="stMain"] button:disabled * {{
  background-color: #ffffff !important; color: #000000 !important;
}}
[data-testid="stMain"] button:disabled {{ border-style: dashed !important; }}
[data-testid="stMain"] [data-testid="stTable"] table {{ width: 100%; }}
[data-testid="stMain"] [data-testid="stTable"] th, [data-testid="stMain"] [data-testid="stTable"] td {{
  padding: 0.3rem 0.6rem !important; border-bottom: 2px solid #000000 !important;
}}
[data-testid="stAlert"] * {{ color: #000000 !important; }}
[data-testid="stAlertContainer"] {{ border: 3px solid #000000 !important; background: #ffffff !important; }}
[data-testid="stMain"] a, [data-testid="stMain"] a * {{ color: #0b4f8a !important; }}
/* The chosen option of a segmented control (the meeting's panels and decisions) stands out. */
[data-testid="stMain"] [data-testid="stButtonGroup"] button[aria-checked="true"],
[data-testid="stMain"] [data-testid="stButtonGroup"] button[aria-checked="true"] * {{
  background-color: #0b4f8a !important; color: #ffffff !important;
}}
[data-testid="stMain"] [data-testid="stButtonGroup"] button {{ min-height: 3.2rem; }}
/* Dropdown options, date pickers and tooltips open in layers outside the main area. */
[role="listbox"] [role="option"], [role="listbox"] [role="option"] *,
[data-baseweb="popover"] li, [data-baseweb="popover"] [role="option"], [data-baseweb="popover"] [role="option"] *,
[data-baseweb="menu"] li, [data-baseweb="calendar"] *, [data-baseweb="tooltip"] * {{
  font-size: {BODY_FONT_PX}px !important; line-height: 1.35 !important;
}}
[data-testid="stPopoverBody"] label, [data-testid="stPopoverBody"] input, [data-testid="stPopoverBody"] textarea,
[data-testid="stPopoverBody"] button, [data-testid="stPopoverBody"] button * {{
  font-size: {BODY_FONT_PX}px !important;
}}
/* The live meeting's four facts: smaller than a headline figure, so four fit in a row. */
.st-key-meeting_facts [data-testid="stMetric"] {{ padding: 0.3rem 0.7rem !important; }}
[data-testid="stMain"] .st-key-meeting_facts [data-testid="stMetricValue"] {{
  font-size: {round(BODY_FONT_PX * 1.2)}px !important; line-height: 1.2 !important;
}}
/* "Press Enter to submit" would sit over the text typed into a field. */
[data-testid="InputInstructions"] {{ display: none !important; }}
/* The presenter block: tighter gaps, so the item and its decision fit one 1024×768 screen. */
.st-key-meeting_item {{ gap: 0.6rem !important; }}
.st-key-meeting_item h2 {{ padding: 0.3rem 0 0 0 !important; margin: 0 !important; }}
[data-testid="stMain"] .st-key-meeting_item button {{ min-height: 3.1rem; }}
</style>
"""

# Both modes: a figure or its label is never cut short with "…": it wraps, and the card grows.
BASE_CSS = """
<style>
[data-testid="stMetricValue"] .stMarkdownEllipsis, [data-testid="stMetricLabel"] .stMarkdownEllipsis,
[data-testid="stMetricValue"] > div, [data-testid="stMetricLabel"] > div, [data-testid="stMetricValue"] p,
[data-testid="stMetricLabel"] p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere;
}
[data-testid="stMetricLabel"] { height: auto !important; min-height: 0 !important; }
/* Any other label Streamlit would end with "…" (checkboxes and buttons in narrow columns) wraps. */
[data-testid="stMain"] .stMarkdownEllipsis, [data-testid="stMain"] .stMarkdownEllipsis p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
/* Phones: the issue list as cards (number, title and stage, nothing off-screen), the wide table
   on larger screens (components.issue_forms.issue_table). */
.st-key-issue_cards { display: none !important; }
@media (max-width: 640px) {
  .st-key-issue_table { display: none !important; }
  .st-key-issue_cards { display: flex !important; }
}
.st-key-issue_cards button, .st-key-issue_cards button div { justify-content: flex-start !important; }
.st-key-issue_cards button p { white-space: normal !important; text-align: left !important; }
/* A chosen option of a multiselect (e.g. a long issue title on the proposed agenda) wraps. */
[data-testid="stMultiSelectTagsContainer"] [data-tag], [data-testid="stMultiSelectTagsContainer"] [data-tag] * {
  white-space: normal !important; text-overflow: clip !important; max-width: 100% !important; height: auto !important;
}
</style>
"""


def projector_mode() -> bool:
    """Whether this session shows the projector mode. The URL decides when the session starts
    (a bookmark of `?mode=projector`); after that the sidebar toggle and the exit button do, and
    the URL is written back on every run because Streamlit clears query parameters when the page
    changes, so the address bar can always be bookmarked."""
    if PROJECTOR_STATE_KEY not in st.session_state:
        st.session_state[PROJECTOR_STATE_KEY] = st.query_params.get(MODE_PARAM) == PROJECTOR
    on = bool(st.session_state[PROJECTOR_STATE_KEY])
    if on and st.query_params.get(MODE_PARAM) != PROJECTOR:
        st.query_params[MODE_PARAM] = PROJECTOR
    elif not on and MODE_PARAM in st.query_params:
        del st.query_params[MODE_PARAM]
    return on


def in_projector_mode() -> bool:
    """For components that are not handed the page context (charts, cards): whether this rerun
    shows the projector mode (False outside a page, e.g. in unit tests)."""
    ctx = st.session_state.get("page_context")
    return bool(ctx and ctx.projector)


def projector_toggle(ctx: PageContext) -> None:
    """The switch in the sidebar (hidden in projector mode, where `projector_bar` leads back)."""
    st.session_state[PROJECTOR_KEY] = ctx.projector
    st.sidebar.toggle(ctx.t("projector.toggle"), key=PROJECTOR_KEY, help=ctx.t("projector.toggle_help"),
                      on_change=_toggled)


def _toggled() -> None:
    st.session_state[PROJECTOR_STATE_KEY] = bool(st.session_state[PROJECTOR_KEY])


def _leave_projector() -> None:
    st.session_state[PROJECTOR_STATE_KEY] = False


def projector_bar(ctx: PageContext, pages: list[st.Page], current: str) -> None:
    """At the top of every page in projector mode: a large way back out, and the menu (the
    sidebar that holds it is hidden). `current` is the url_path of the page shown."""
    leave, menu = st.columns([1, 1])
    with leave:
        st.button(ctx.t("projector.exit"), key="projector_exit", type="primary", icon=":material/close_fullscreen:",
                  on_click=_leave_projector, width="stretch")
    with menu:
        # Keyed on the page shown: after a choice the next page has a new menu, which starts closed
        # (the same menu would stay open over the new page). Choosing the page already shown
        # changes no page, so its entry is a button that closes the menu (whose open state the
        # app tracks for that: on_change="rerun").
        key = _menu_key(current)
        with st.popover(ctx.t("projector.pages"), icon=":material/menu:", width="stretch", key=key,
                        on_change="rerun"):
            for page in pages:
                if page.url_path == current:
                    st.button(page.title, icon=page.icon, key=f"{key}_current", type="tertiary",
                              on_click=_close_menu, args=(key,))
                else:
                    st.page_link(page, query_params={MODE_PARAM: PROJECTOR})


def _close_menu(key: str) -> None:
    st.session_state[key] = False


def _menu_key(current: str) -> str:
    """The menu's key on the page shown (its url_path; "" for the default page). Not read from the
    browser's address (st.context.url): Streamlit leaves that out of a rerun it merges from two
    requests on a busy server, and the menu then became another one that never closed."""
    return "projector_pages_" + re.sub(r"[^a-z0-9_]", "_", current.lower())


# static/gongzhi-sidebar.js folds the sidebar after a page of the menu is chosen on a phone.
SIDEBAR_HTML = '<script src="@STATIC@/gongzhi-sidebar.js"></script>'


def apply_theme(ctx: PageContext) -> None:
    """The one place where the app's own CSS is injected: text that wraps instead of being cut
    short, and the projector theme in projector mode."""
    st.html(BASE_CSS)
    st.html(SIDEBAR_HTML.replace("@STATIC@", static_url_prefix()), unsafe_allow_javascript=True)
    if ctx.projector:
        st.html(PROJECTOR_CSS)


# Presentation clickers send Page Up / Page Down (some send the arrows, which st.button's own
# `shortcut` takes). static/gongzhi-clicker.js, served by this server (the Content-Security-Policy
# runs no inline script), presses the buttons a marker on the page names, so a key does exactly
# what a click does, and leaves keys typed into a field alone.
CLICKER_HTML = ('<div data-gongzhi-clicker data-previous="@PREVIOUS@" data-next="@NEXT@"></div>'
                '<script src="@STATIC@/gongzhi-clicker.js"></script>')
WIDGET_KEY = re.compile(r"^[a-z_]+$")


def clicker_keys(*, previous: str, following: str) -> None:
    """Page Up / Page Down press the buttons with these widget keys (code constants, never user text)."""
    if not (WIDGET_KEY.match(previous) and WIDGET_KEY.match(following)):
        raise ValueError("clicker keys must be plain widget keys")
    st.html(CLICKER_HTML.replace("@PREVIOUS@", previous).replace("@NEXT@", following)
            .replace("@STATIC@", static_url_prefix()), unsafe_allow_javascript=True)


# A block of the page (a container with a key) at the top of the screen, e.g. the live meeting's
# item after each run. static/gongzhi-scroll.js does it (the Content-Security-Policy runs no inline
# script); only a widget key (checked) and integers are put in, and the nonce in the script's
# address makes it run again on every run that asks for it.
SCROLL_HTML = ('<div data-gongzhi-scroll="@KEY@" data-margin="@MARGIN@"></div>'
               '<script src="@STATIC@/gongzhi-scroll.js?n=@NONCE@"></script>')


def scroll_to_block(container_key: str, *, nonce: int) -> None:
    """Scroll the page so that the container with this key starts at the top of the screen
    (below Streamlit's header, which projector mode hides)."""
    if not WIDGET_KEY.match(container_key):
        raise ValueError("the block is named by a plain widget key")
    margin = 0 if in_projector_mode() else 64
    st.html(SCROLL_HTML.replace("@KEY@", container_key).replace("@MARGIN@", str(margin))
            .replace("@NONCE@", str(int(nonce))).replace("@STATIC@", static_url_prefix()),
            unsafe_allow_javascript=True)


# --- paged tables -------------------------------------------------------------------------------

def page_slice(frame: pd.DataFrame, page: int, rows: int = PROJECTOR_ROWS) -> tuple[pd.DataFrame, int, int]:
    """Rows of page `page` (0-based, clamped to the pages there are), that page and the page count."""
    pages = max(1, math.ceil(len(frame) / rows))
    page = min(max(page, 0), pages - 1)
    return frame.iloc[page * rows:(page + 1) * rows], page, pages


def _turn(state_key: str, step: int) -> None:
    st.session_state[state_key] = st.session_state.get(state_key, 0) + step


def page_controls(ctx: PageContext, total_rows: int, key: str, rows: int = PROJECTOR_ROWS) -> int:
    """Previous / next buttons and "page n of m" for a list of `total_rows` rows; returns the
    current page (0-based, clamped to the pages there are)."""
    state_key = f"pager_{key}"
    pages = max(1, math.ceil(total_rows / rows))
    page = min(max(st.session_state.get(state_key, 0), 0), pages - 1)
    st.session_state[state_key] = page
    if pages > 1:
        previous, position, following = st.columns([1, 1, 1], vertical_alignment="center")
        previous.button(ctx.t("projector.previous_page"), key=f"{state_key}_previous", disabled=page == 0,
                        on_click=_turn, args=(state_key, -1), width="stretch")
        position.markdown(ctx.t("projector.page_of", page=page + 1, pages=pages, rows=total_rows))
        following.button(ctx.t("projector.next_page"), key=f"{state_key}_next", disabled=page == pages - 1,
                         on_click=_turn, args=(state_key, 1), width="stretch")
    return page


def pager(ctx: PageContext, frame: pd.DataFrame, key: str, rows: int = PROJECTOR_ROWS) -> pd.DataFrame:
    """Previous / next buttons and "page n of m" under a table; returns the rows of the current page."""
    return page_slice(frame, page_controls(ctx, len(frame), key, rows), rows)[0]


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as text a room can read: times to the minute, whole numbers without decimals,
    others with one, and blanks for missing values."""
    def cell(value):
        if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
            return ""
        if isinstance(value, pd.Timestamp):
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, float):
            return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
        return str(value)

    return frame.apply(lambda column: column.map(cell)).reset_index(drop=True)


def paged_table(ctx: PageContext, frame: pd.DataFrame, *, key: str, columns: list[str] | None = None,
                **dataframe_options) -> None:
    """A read-only table whose columns are already labelled for display: as usual a scrollable
    grid (with `dataframe_options` for st.dataframe), but in projector mode large type a page at
    a time, with only `columns` if given (those that matter from the back of the room)."""
    if not ctx.projector:
        st.dataframe(frame, hide_index=True, width="stretch", **dataframe_options)
        return
    shown = readable(frame[columns] if columns else frame)
    above_the_pager = st.container()
    # st.table renders its headers and cells as Markdown: every text shown as typed.
    page = pager(ctx, shown, key)
    page = page.rename(columns=lambda name: markdown_literal(name, starts_line=False)).map(
        lambda text: markdown_literal(text, starts_line=False))
    above_the_pager.table(page, hide_index=True, border="horizontal")
