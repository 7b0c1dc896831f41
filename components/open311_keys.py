"""Open311 API keys on screen (admins): issue one for a mobile app (the key is shown once), see
them with their last use, revoke one. The core (gongzhi.api_keys) checks the role again and every
change is audited there. Read straight from the database: "last used" moves without a revision."""

import pandas as pd
import streamlit as st

from components.forms import save
from components.page_setup import PageContext
from gongzhi.api_keys import LABEL_MAX, issue_api_key, list_api_keys, revoke_api_key
from gongzhi.config import public_url
from gongzhi.db import read_session
from gongzhi.escape import markdown_literal
from gongzhi.public_web import OPEN311_PATH

NEW_KEY = "open311_key_new"  # (label, key) of the key just issued, shown once


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def api_keys_section(ctx: PageContext) -> None:
    st.header(ctx.t("open311.keys_title"))
    st.caption(ctx.t("open311.keys_intro", url=markdown_literal(f"{public_url()}{OPEN311_PATH}/", starts_line=False)))
    made = st.session_state.pop(NEW_KEY, None)
    if made is not None:
        st.success(ctx.t("open311.key_made", label=markdown_literal(made[0], starts_line=False)))
        st.code(made[1], language=None)
    with st.form("open311_key_form"):
        label = st.text_input(ctx.t("open311.field_key_label"), key="open311_key_label", max_chars=LABEL_MAX)
        submitted = st.form_submit_button(ctx.t("open311.key_issue"), key="open311_key_issue", type="primary")
    if submitted:
        def action(session):
            _, key = issue_api_key(session=session, actor=ctx.actor, label=label)
            st.session_state[NEW_KEY] = (" ".join(label.split()), key)

        save(ctx, action, success=ctx.t("common.saved"))
    with read_session() as session:
        keys = list_api_keys(session=session, actor=ctx.actor)
    if keys.empty:
        st.caption(ctx.t("open311.key_none"))
        return
    for row in keys.itertuples():
        cols = st.columns([3, 2, 2, 1])
        cols[0].markdown(markdown_literal(row.label))
        cols[1].caption(ctx.t("open311.key_created_at", at=_when(row.created_at)))
        cols[2].caption(ctx.t("open311.key_last_used", at=_when(row.last_used_at)) if pd.notna(row.last_used_at)
                        else ctx.t("open311.key_unused"))
        if pd.notna(row.revoked_at):
            cols[3].caption(ctx.t("open311.key_revoked_at", at=_when(row.revoked_at)))
        elif cols[3].button(ctx.t("open311.key_revoke"), key=f"open311_key_revoke_{int(row.id)}"):
            save(ctx, lambda session, key_id=int(row.id): revoke_api_key(session=session, actor=ctx.actor, key_id=key_id),
                 success=ctx.t("open311.key_revoked"))
