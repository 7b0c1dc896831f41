"""The own password form of "My account": the current password, the new one twice. The core
(gongzhi.accounts) checks the current password (a wrong one counts as a failed sign-in), applies
the rules every password follows, and ends every session of the account, this one included: the
next rerun shows the sign-in form, saying why."""

import streamlit as st

from components.account_admin import passwords_match
from components.forms import save
from components.page_setup import SESSION_ID_KEY, PageContext
from gongzhi.accounts import MIN_PASSWORD_LENGTH, LoginThrottled, change_own_password, check_own_password
from gongzhi.db import write_session

PREFIX = "own_password_"


def own_password_form(ctx: PageContext) -> None:
    st.header(ctx.t("accounts.own_password_title"))
    st.caption(ctx.t("accounts.own_password_intro"))
    with st.form("own_password", clear_on_submit=True):
        current = st.text_input(ctx.t("accounts.field_current_password"), type="password", key=PREFIX + "current",
                                autocomplete="current-password")
        left, right = st.columns(2)
        password = left.text_input(ctx.t("accounts.field_new_password"), type="password", key=PREFIX + "new",
                                   help=ctx.t("accounts.password_help", min=MIN_PASSWORD_LENGTH),
                                   autocomplete="new-password")
        repeated = right.text_input(ctx.t("accounts.field_password_repeat"), type="password", key=PREFIX + "repeat",
                                    autocomplete="new-password")
        submitted = st.form_submit_button(ctx.t("accounts.own_password_button"), key=PREFIX + "submit",
                                          type="primary")
    if not submitted or not passwords_match(ctx, password, repeated):
        return
    # The check of the current password is a transaction of its own: a wrong one is recorded as a
    # failed sign-in, which the refused change would otherwise roll back.
    try:
        with write_session(actor=ctx.actor) as session:
            right_password = check_own_password(session=session, actor=ctx.actor, password=current,
                                                session_id=st.session_state.get(SESSION_ID_KEY))
    except LoginThrottled as error:
        st.error(error.message(ctx.lang))
        return
    if not right_password:
        st.error(f"{ctx.t('accounts.field_current_password')}: {ctx.t('accounts.current_password_wrong')}")
        return
    save(ctx, lambda session: change_own_password(session=session, actor=ctx.actor, current_password=current,
                                                  new_password=password),
         success=ctx.t("accounts.own_password_changed"))
