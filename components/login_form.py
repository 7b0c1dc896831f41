"""Signing in: the password form (rate-limited in the core), the organisation's identity
provider when one is configured, and the demo accounts while the database is the demo."""

import streamlit as st

from components.page_setup import SHOW_LOGIN_KEY, USER_KEY, PageContext, oidc_configured
from gongzhi.accounts import DEMO_PASSWORD, LoginThrottled, authenticate, listed_demo_accounts
from gongzhi.db import read_session, write_session


def client_address() -> str:
    """The visitor's address for rate limiting; unknown when Streamlit cannot tell (e.g. in tests)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "unknown"


def login_form(ctx: PageContext) -> None:
    with st.form("login_form"):
        username = st.text_input(ctx.t("auth.field_username"), key="login_username", max_chars=40)
        password = st.text_input(ctx.t("auth.field_password"), type="password", key="login_password", max_chars=200)
        submitted = st.form_submit_button(ctx.t("auth.sign_in"), type="primary", key="login_submit")
    if submitted:
        try:
            with write_session() as session:  # the attempt is recorded even when it fails
                user = authenticate(session=session, username=username, password=password, address=client_address())
                user_id = None if user is None else user.id
        except LoginThrottled as error:
            st.error(error.message(ctx.lang))
            return
        if user_id is None:
            st.error(ctx.t("auth.login_refused"))
            return
        st.session_state[USER_KEY] = user_id
        st.session_state.pop(SHOW_LOGIN_KEY, None)
        st.rerun()
    if oidc_configured() and st.button(ctx.t("auth.sign_in_oidc"), key="login_oidc", icon=":material/badge:"):
        st.login()


def demo_accounts_note(ctx: PageContext) -> None:
    with read_session() as session:
        accounts = listed_demo_accounts(session=session)
    if not accounts:
        return
    lines = "\n".join(f"- `{username}` · {ctx.label('role', role)}" for username, role in accounts)
    st.info(ctx.t("auth.demo_accounts", password=DEMO_PASSWORD) + "\n\n" + lines)
