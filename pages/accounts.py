"""账号管理 — accounts, for admins: who may sign in with which role and grids, new accounts, and
new passwords. A change takes effect at the account's next rerun."""

import streamlit as st

from components.account_admin import account_panel, accounts_section, choose_account, create_account_form
from components.forms import show_flash
from components.page_setup import context
from gongzhi.permissions import Role

ctx = context()
st.title(ctx.t("nav.accounts"))
# The menu offers this page to admins only; the page (and the core) refuse anyone else all the same.
if ctx.actor is None or ctx.actor.role != Role.ADMIN:
    st.error(ctx.t("accounts.admins_only"))
    st.stop()
show_flash()
st.caption(ctx.t("accounts.intro"))
accounts = accounts_section(ctx)
account = choose_account(ctx, accounts)
if account is not None:
    account_panel(ctx, account)
create_account_form(ctx)
