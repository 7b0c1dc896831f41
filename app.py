"""Gongzhi entry point: page config, database, language, and the menu over pages/."""

import streamlit as st

from components.navigation import DEFAULT_PAGE, PAGES
from components.page_setup import language_switch, page_setup

st.set_page_config(page_title="Gongzhi 共治", page_icon="🏘️", layout="wide")

ctx = page_setup()
navigation = st.navigation([
    st.Page(entry.path, title=ctx.t(entry.title_key), icon=entry.icon, url_path=entry.url_path,
            default=entry.url_path == DEFAULT_PAGE)
    for entry in PAGES
])
st.sidebar.caption(ctx.t("common.acting_as", name=ctx.actor.name, role=ctx.label("role", ctx.actor.role)))
language_switch(ctx)
navigation.run()
