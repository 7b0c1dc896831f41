"""The benchmark's empty page: the app's shell (set-up, menu, sidebar) and a title, no data.
Every page's rerun is measured against this one (bench/run.py)."""

import streamlit as st

from components.page_setup import context

ctx = context()
st.title(ctx.t("nav.overview"))
