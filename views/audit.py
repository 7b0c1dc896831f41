"""审计记录 — the audit trail, for admins: who changed which record when, with the values before
and after, filtered by person, record and time; and the deleted records, each restorable."""

import streamlit as st

from components.audit_view import audit_filters, deleted_section, entries_section
from components.filters import period_filter
from components.forms import show_flash
from components.page_setup import admins_only, context

ctx = context()
st.title(ctx.t("nav.audit"))
admins_only(ctx)
show_flash()
st.caption(ctx.t("audit.intro"))
period = period_filter(ctx)
entries_section(ctx, audit_filters(ctx), period)
deleted_section(ctx)
