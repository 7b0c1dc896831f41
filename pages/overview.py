"""overview page (under construction)."""

import streamlit as st

from components.page_setup import context

ctx = context()
st.title(ctx.t("nav.overview"))
