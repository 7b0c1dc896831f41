"""民情事项 — issues: headline figures of the five-step loop, where open issues stand, the list,
and one issue with its timeline and the forms that move it on."""

import streamlit as st

from components.data import query
from components.downloads import list_downloads
from components.filters import grid_filter, period_filter
from components.forms import show_flash
from components.issue_forms import (
    category_chart,
    headline_cards,
    issue_actions,
    issue_detail_panel,
    issue_picker,
    issue_table,
    list_filters,
    new_issue_form,
    open_by_state_chart,
    remember_version,
)
from components.kpi import kpi_row
from components.page_setup import context
from components.resident_screening import residents_affected_note
from gongzhi.queries.issues import (
    issue_detail,
    issue_headline,
    issue_timeline,
    issues_by_category,
    list_issues,
    open_by_state,
)

ctx = context()
st.title(ctx.t("nav.issues"))
show_flash()
if ctx.empty:
    st.info(ctx.t("common.empty_database"))
    st.stop()

period = period_filter(ctx)
grid_id = grid_filter(ctx)
st.caption(ctx.t("issues.intro"))
# Task first: reporting an issue is one click from the top (for those who may report anywhere).
new_issue_form(ctx, grid_id)

kpi_row(headline_cards(ctx, query(issue_headline, start=period.start, end=period.end, grid_id=grid_id)), columns=3)

by_state, by_category = st.columns(2)
with by_state:
    open_by_state_chart(ctx, query(open_by_state, grid_id=grid_id))
with by_category:
    category_chart(ctx, query(issues_by_category, start=period.start, end=period.end, grid_id=grid_id))

st.header(ctx.t("issues.list"))
st.caption(ctx.t("issues.list_caption"))
filters = list_filters(ctx)
issues = query(list_issues, states=filters.states, category=filters.category, grid_id=grid_id,
               overdue_only=filters.overdue_only, start=period.start, end=period.end, include_open=True,
               may_see_personal_data=ctx.actor.may_see_personal_data)
if issues.empty:
    st.info(ctx.t("common.no_data"))
else:
    issue_table(ctx, issues)
    list_downloads(ctx, "issues", issues)

selected = issue_picker(ctx, issues)  # None: nothing listed and no issue linked to
if selected is None:
    st.stop()
detail = query(issue_detail, issue_id=selected, may_see_personal_data=ctx.actor.may_see_personal_data)
if detail is None:
    st.info(ctx.t("common.no_data"))
    st.stop()
issue_detail_panel(ctx, detail, query(issue_timeline, issue_id=detail.id))
residents_affected_note(ctx, detail.id)
issue_actions(ctx, detail)
remember_version(detail)
