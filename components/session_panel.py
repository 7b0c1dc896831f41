"""Sign-ins and display links on screen: one's own sessions with "sign out everywhere else", an
account's sessions for an admin, and display links for the meeting room (admin and committee).
The core (gongzhi.sessions) checks every permission again; every end is audited there. Sessions
are read straight from the database, not through the cache: their "last seen" moves without a
data revision."""

import pandas as pd
import streamlit as st

from components.forms import save
from components.page_setup import SESSION_ID_KEY, PageContext
from gongzhi.config import site_path
from gongzhi.db import read_session
from gongzhi.escape import markdown_literal
from gongzhi.sessions import (
    DisplayView,
    create_display_link,
    end_account_sessions,
    end_other_sessions,
    list_display_links,
    list_sessions,
    revoke_display_link,
)
from gongzhi.web import DISPLAY_PATH

NEW_LINK_KEY = "display_link_new"  # (label, URL) of the link just made, shown once


def device(user_agent: str) -> str:
    """A short name for a browser from its user agent: browser and system, else the raw text cut short."""
    agent = user_agent or ""
    browser = next((name for token, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
                                             ("MicroMessenger", "WeChat"), ("Chrome/", "Chrome"),
                                             ("Safari/", "Safari")) if token in agent), None)
    system = next((name for token, name in (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
                                            ("Windows", "Windows"), ("Mac OS", "macOS"), ("Linux", "Linux"))
                   if token in agent), None)
    if browser and system:
        return f"{browser} · {system}"
    return agent[:60] or "?"


def _sessions_table(ctx: PageContext, sessions: pd.DataFrame, *, current: int | None, key: str) -> None:
    this = ctx.t("sessions.this_device")
    st.dataframe(pd.DataFrame({
        ctx.t("sessions.col_device"): [device(agent) + (f" ({this})" if int(sid) == current else "")
                                       for sid, agent in zip(sessions["id"], sessions["user_agent"], strict=True)],
        ctx.t("sessions.col_address"): sessions["address"],
        ctx.t("sessions.col_started"): sessions["created_at"],
        ctx.t("sessions.col_last_seen"): sessions["last_seen_at"],
    }), hide_index=True, width="stretch", key=key, column_config={
        ctx.t("sessions.col_started"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        ctx.t("sessions.col_last_seen"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
    })


def own_sessions(ctx: PageContext) -> None:
    """Where this account is signed in, and a way to end every sign-in but this one."""
    st.header(ctx.t("sessions.own_title"))
    with read_session() as session:
        sessions = list_sessions(session=session, actor=ctx.actor)
    current = st.session_state.get(SESSION_ID_KEY)
    if sessions.empty:
        st.caption(ctx.t("sessions.none"))
        return
    _sessions_table(ctx, sessions, current=current, key="own_sessions_table")
    others = int((sessions["id"] != (current or -1)).sum())
    if st.button(ctx.t("sessions.end_others"), key="sessions_end_others", disabled=others == 0):
        save(ctx, lambda session: end_other_sessions(session=session, actor=ctx.actor, current_session_id=current),
             success=ctx.t("sessions.ended_others", count=others))


def account_sessions(ctx: PageContext, user_id: int, username: str) -> None:
    """For an admin: the sessions of one account, and ending them all (e.g. a lost phone)."""
    with read_session() as session:
        sessions = list_sessions(session=session, actor=ctx.actor, user_id=user_id)
    if sessions.empty:
        st.caption(ctx.t("sessions.none"))
        return
    _sessions_table(ctx, sessions, current=st.session_state.get(SESSION_ID_KEY), key="account_sessions_table")
    if st.button(ctx.t("sessions.end_all", username=username), key="account_sessions_end"):
        save(ctx, lambda session: end_account_sessions(session=session, actor=ctx.actor, user_id=user_id),
             success=ctx.t("sessions.ended_all", username=username))


ORIGIN_KEY = "_site_origin"


def _origin() -> str:
    """This site's address as the browser sees it (scheme and host), for a link to copy; the last
    one known in this session when a run does not say (Streamlit leaves the browser's address out
    of a rerun it merges from two requests)."""
    url = st.context.url or ""
    scheme, _, rest = url.partition("://")
    if rest:
        st.session_state[ORIGIN_KEY] = f"{scheme}://{rest.split('/', 1)[0]}"
    return st.session_state.get(ORIGIN_KEY, "")


def display_links(ctx: PageContext) -> None:
    """Display links for a screen in the meeting room: make one (the URL is shown once), see
    those that work, revoke one."""
    st.header(ctx.t("sessions.display_title"))
    st.caption(ctx.t("sessions.display_intro"))
    made = st.session_state.pop(NEW_LINK_KEY, None)
    if made is not None:
        st.success(ctx.t("sessions.display_made", label=markdown_literal(made[0], starts_line=False) or "—"))
        st.code(made[1], language=None)
    with st.form("display_link_form"):
        left, right = st.columns([3, 1])
        label = left.text_input(ctx.t("sessions.field_label"), key="display_link_label", max_chars=80)
        hours = right.number_input(ctx.t("sessions.field_hours"), min_value=1, max_value=24 * 31, value=24, step=1,
                                   key="display_link_hours")
        view = st.radio(ctx.t("sessions.field_view"), [v.value for v in DisplayView], horizontal=True,
                        key="display_link_view", format_func=lambda code: ctx.t(f"sessions.view_{code}"))
        submitted = st.form_submit_button(ctx.t("sessions.display_create"), key="display_link_create", type="primary")
    if submitted:
        origin = _origin()

        def action(session):
            _, token = create_display_link(session=session, actor=ctx.actor, label=label, hours=float(hours),
                                           view=view)
            st.session_state[NEW_LINK_KEY] = (label.strip(), f"{origin}{site_path(f'{DISPLAY_PATH}/{token}')}")

        save(ctx, action, success=ctx.t("common.saved"))
    with read_session() as session:
        links = list_display_links(session=session, actor=ctx.actor)
    if links.empty:
        st.caption(ctx.t("sessions.display_none"))
        return
    for row in links.itertuples():
        cols = st.columns([3, 2, 2, 1])
        cols[0].markdown(f"{markdown_literal(row.label) or '—'} · {ctx.t(f'sessions.view_{row.view}')}")
        cols[1].caption(ctx.t("sessions.display_expires", at=row.expires_at.strftime("%Y-%m-%d %H:%M")))
        cols[2].caption(ctx.t("sessions.display_last_used", at=row.last_used_at.strftime("%Y-%m-%d %H:%M"))
                        if pd.notna(row.last_used_at) else ctx.t("sessions.display_unused"))
        if cols[3].button(ctx.t("sessions.display_revoke"), key=f"display_revoke_{int(row.id)}"):
            save(ctx, lambda session, link_id=int(row.id): revoke_display_link(session=session, actor=ctx.actor,
                                                                                link_id=link_id),
                 success=ctx.t("sessions.display_revoked"))
