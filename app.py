"""Gongzhi entry point: page config, database, sign-in, language, and the menu over views/."""

import streamlit as st

from components.navigation import DEFAULT_PAGE, LOGIN_PAGE, pages_for
from components.page_setup import account_box, language_switch, page_setup
from components.projector import apply_theme, projector_bar, projector_toggle

st.set_page_config(page_title="Gongzhi 共治", page_icon="🏘️", layout="wide")

ctx = page_setup()
entries = pages_for(ctx.actor)
pages = [
    st.Page(entry.path, title=ctx.t(entry.title_key), icon=entry.icon, url_path=entry.url_path,
            default=entry.url_path == (DEFAULT_PAGE if ctx.actor else LOGIN_PAGE))
    for entry in entries
]
# In projector mode the menu moves from the (hidden) sidebar into the projector bar.
navigation = st.navigation(pages, position="sidebar" if ctx.actor and not ctx.projector else "hidden")
apply_theme(ctx)
if ctx.projector:
    projector_bar(ctx, pages)
account_box(ctx)
projector_toggle(ctx)
language_switch(ctx)
navigation.run()
