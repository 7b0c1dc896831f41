"""Gongzhi entry point: page config, database, language, and the menu over pages/."""

import streamlit as st

from components.page_setup import language_switch, page_setup

st.set_page_config(page_title="Gongzhi 共治", page_icon="🏘️", layout="wide")

ctx = page_setup()

PAGES = [
    ("pages/overview.py", "nav.overview", ":material/dashboard:", "overview"),
    ("pages/grid_map.py", "nav.grid_map", ":material/map:", "map"),
    ("pages/issues.py", "nav.issues", ":material/assignment:", "issues"),
    ("pages/volunteers.py", "nav.volunteers", ":material/volunteer_activism:", "volunteers"),
    ("pages/events.py", "nav.events", ":material/event:", "events"),
    ("pages/meetings.py", "nav.meetings", ":material/groups:", "meetings"),
]
navigation = st.navigation(
    [st.Page(path, title=ctx.t(title), icon=icon, url_path=url, default=(url == "overview"))
     for path, title, icon, url in PAGES]
)
st.sidebar.caption(ctx.t("common.acting_as", name=ctx.actor.name, role=ctx.label("role", ctx.actor.role)))
language_switch(ctx)
navigation.run()
