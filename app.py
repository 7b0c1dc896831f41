"""Gongzhi entry point: page config, database, sign-in, language, and the menu over pages/."""

import streamlit as st

from components.navigation import DEFAULT_PAGE, LOGIN_PAGE, pages_for
from components.page_setup import account_box, language_switch, page_setup

st.set_page_config(page_title="Gongzhi 共治", page_icon="🏘️", layout="wide")

ctx = page_setup()
entries = pages_for(ctx.actor)
navigation = st.navigation([
    st.Page(entry.path, title=ctx.t(entry.title_key), icon=entry.icon, url_path=entry.url_path,
            default=entry.url_path == (DEFAULT_PAGE if ctx.actor else LOGIN_PAGE))
    for entry in entries
], position="sidebar" if ctx.actor else "hidden")
account_box(ctx)
language_switch(ctx)
navigation.run()
