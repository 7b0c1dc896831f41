"""我的账号 — one's own sign-ins (with "sign out everywhere else"), a new password, and, for admins and committee
members, display links for the meeting room."""

import streamlit as st

from components.forms import show_flash
from components.own_password import own_password_form
from components.page_setup import context
from components.session_panel import display_links, own_sessions
from gongzhi.permissions import Role

ctx = context()
st.title(ctx.t("nav.my_account"))
show_flash()
own_sessions(ctx)
own_password_form(ctx)
if ctx.actor.role in (Role.ADMIN, Role.COMMITTEE):
    display_links(ctx)
