"""账号管理 — accounts, for admins: who may sign in with which role and grids, new accounts, and
new passwords (a change takes effect at the account's next rerun); and the Open311 API keys of
the mobile apps that send residents' reports."""

import streamlit as st

from components.account_admin import account_panel, accounts_section, choose_account, create_account_form
from components.forms import show_flash
from components.open311_keys import api_keys_section
from components.page_setup import admins_only, context

ctx = context()
st.title(ctx.t("nav.accounts"))
admins_only(ctx)
show_flash()
st.caption(ctx.t("accounts.intro"))
accounts = accounts_section(ctx)
account = choose_account(ctx, accounts)
if account is not None:
    account_panel(ctx, account)
create_account_form(ctx)
api_keys_section(ctx)
