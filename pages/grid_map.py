"""grid_map page (under construction)."""

import streamlit as st

from components.page_setup import context

ctx = context()
st.title(ctx.t("nav.grid_map"))
