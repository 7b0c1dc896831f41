"""Signing in, inside the app: shown at any page's address to someone not signed in (a session
that ended meanwhile, a public visitor who asks to sign in). The form is gongzhi.web's plain HTML
form, POSTed to /signin, which sets the HttpOnly session cookie and returns to this page with its
query; the organisation's identity provider when one is configured; the demo accounts while the
database is the demo."""

import streamlit as st

from components.page_setup import ENDED_KEY, PageContext, current_path, oidc_configured
from gongzhi.accounts import DEMO_PASSWORD, listed_demo_accounts
from gongzhi.db import read_session
from gongzhi.web import ended_message_key, sign_in_form_html


def login_form(ctx: PageContext) -> None:
    key = ended_message_key(st.session_state.get(ENDED_KEY))
    if key:
        st.warning(ctx.t(key))
    st.html(sign_in_form_html(ctx.lang, current_path()))
    if oidc_configured() and st.button(ctx.t("auth.sign_in_oidc"), key="login_oidc", icon=":material/badge:"):
        st.login()


def demo_accounts_note(ctx: PageContext) -> None:
    with read_session() as session:
        accounts = listed_demo_accounts(session=session)
    if not accounts:
        return
    lines = "\n".join(f"- `{username}` · {ctx.label('role', role)}" for username, role in accounts)
    st.info(ctx.t("auth.demo_accounts", password=DEMO_PASSWORD) + "\n\n" + lines)
