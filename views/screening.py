"""居民反映审核 — the screening queue of residents' own reports (from the grid's QR code or
Open311), for grid leaders (their grids) and the committee: accept, merge or reject."""

import streamlit as st

from components.forms import show_flash
from components.page_setup import context
from components.resident_screening import screening_queue_section

ctx = context()
st.title(ctx.t("residents.nav"))
show_flash()
st.caption(ctx.t("residents.screening_intro"))
screening_queue_section(ctx)
