"""The screening queue of residents' own reports (from the grid's QR code or Open311): each report
with its photos and, for those who may see it, the phone number left for follow-up; and one form to
accept it (editing the title if it names a person), merge it into an open issue, or reject it with
a reason. The rules live in gongzhi.resident_reports."""

import streamlit as st

from components.data import query
from components.forms import save
from components.page_setup import PageContext
from gongzhi.escape import markdown_literal
from gongzhi.queries.issues import OPEN_STATE_CODES, list_issues
from gongzhi.queries.residents import format_code, report_photos, screening_queue, support_counts
from gongzhi.resident_reports import SCREENING_REJECT_REASONS, accept_report, merge_report, reject_report
from gongzhi.validation import NOTE_MAX, TITLE_MAX

ACTIONS = ("accept", "merge", "reject")


def _merge_choices(grid_id: int) -> dict[int, str]:
    issues = query(list_issues, states=OPEN_STATE_CODES, grid_id=grid_id, may_see_personal_data=False)
    return {int(row.id): f"#{int(row.id)} {row.title}" for row in issues.itertuples()}


def _screening_form(ctx: PageContext, row) -> None:
    issue_id = int(row.id)
    key = f"screen_{issue_id}"
    action = st.radio(ctx.t("residents.screening_action"), ACTIONS, horizontal=True, key=f"{key}_action",
                      format_func=lambda a: ctx.plain(f"residents.screening_{a}"))
    with st.form(f"{key}_form"):
        if action == "accept":
            title = st.text_input(ctx.t("issues.field_title"), value=row.title, max_chars=TITLE_MAX, key=f"{key}_title")
        elif action == "merge":
            choices = _merge_choices(int(row.grid_id))
            into = st.selectbox(ctx.t("residents.field_merge_into"), list(choices), index=None,
                                format_func=choices.get, key=f"{key}_into")
        else:
            reason = st.radio(ctx.t("issues.field_reject_reason"), [r.value for r in SCREENING_REJECT_REASONS],
                              format_func=lambda r: ctx.plain(f"reject_reason.{r}"), key=f"{key}_reason")
            note = st.text_input(ctx.t("residents.field_reject_note"), max_chars=NOTE_MAX, key=f"{key}_note")
        submitted = st.form_submit_button(ctx.t(f"residents.screening_{action}"), type="primary", key=f"{key}_submit")
    if not submitted:
        return
    version = int(row.version)
    if action == "accept":
        save(ctx, lambda session: accept_report(session, actor=ctx.actor, issue_id=issue_id, title=title,
                                                expected_version=version), success=ctx.t("residents.screening_done"))
    elif action == "merge":
        save(ctx, lambda session: merge_report(session, actor=ctx.actor, issue_id=issue_id, into_issue_id=into or 0,
                                               expected_version=version), success=ctx.t("residents.screening_done"))
    else:
        save(ctx, lambda session: reject_report(session, actor=ctx.actor, issue_id=issue_id, reason=reason, note=note,
                                                expected_version=version), success=ctx.t("residents.screening_done"))


def screening_queue_section(ctx: PageContext) -> None:
    """Every report waiting that this person may screen, oldest first."""
    queue = query(screening_queue, actor=ctx.actor)
    if queue.empty:
        st.info(ctx.t("residents.screening_empty"))
        return
    for row in queue.itertuples():
        with st.container(border=True, key=f"screening_{int(row.id)}"):
            st.subheader(markdown_literal(f"#{int(row.id)} {row.title}"))
            st.caption(ctx.t("residents.screening_reported", grid=row.grid, building=row.building or "—",
                             at=row.reported_at.strftime("%Y-%m-%d %H:%M"), code=format_code(row.tracking_code))
                       + " · " + ctx.t(f"category.{row.category}"))
            st.markdown(markdown_literal(row.description))
            st.caption(ctx.t("residents.screening_phone", phone=row.phone) if row.phone
                       else ctx.t("residents.screening_no_phone"))
            if int(row.photos):
                st.image(query(report_photos, issue_id=int(row.id)), width=220)
            _screening_form(ctx, row)


def residents_affected_note(ctx: PageContext, issue_id: int) -> None:
    """How many residents said "me too" to this issue (never who)."""
    count = query(support_counts, issue_ids=(issue_id,)).get(issue_id, 0)
    if count:
        st.caption(ctx.t("residents.affected", n=count))
