"""Sign in. Offered alone to anyone who has not signed in."""

import streamlit as st

from components.login_form import demo_accounts_note, login_form
from components.page_setup import context

ctx = context()
st.title(ctx.t("nav.login"))
st.caption(ctx.t("auth.intro"))
login_form(ctx)
demo_accounts_note(ctx)
