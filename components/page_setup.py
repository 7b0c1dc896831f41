"""Shared set-up that runs on every rerun before the page: database, language, actor, and the
context object that pages use to translate and to query through the cache."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from components.projector import projector_mode
from gongzhi import i18n, logs, sweeper
from gongzhi.accounts import actor_for, user_for_identity
from gongzhi.config import database_url, public_access
from gongzhi.db import is_empty, prepare_database, read_session, write_session
from gongzhi.permissions import Actor, Role
from gongzhi.revisions import ANY, key_for, kinds_read, revisions
from gongzhi.sessions import (
    DISPLAY_COOKIE,
    SESSION_COOKIE,
    EndReason,
    check_session,
    display_actor,
    display_link_for,
    end_session,
    touch,
)
from gongzhi.web import sign_in_link_html, sign_out_form_html

# The session's language: plain session state, which Streamlit never drops. (It used to be the
# language box's own key, and Streamlit forgets a widget's value whenever a run ends without drawing
# that widget; the language was then worked out again, see _language.)
LANGUAGE_KEY = "lang"
LANGUAGE_WIDGET_KEY = "_lang_widget"


@dataclass(frozen=True)
class PageContext:
    lang: str
    actor: Actor | None  # None: not signed in (only the login page is offered)
    revision: int  # moves at every write (gongzhi.revisions.total)
    database_url: str
    empty: bool
    projector: bool = False  # large type, high contrast, no sidebar (components.projector)
    revisions: tuple[tuple[str, int], ...] = ()  # (kind, revision) of every kind of data (gongzhi.revisions)

    def key_for(self, *queries: Callable) -> tuple:
        """The cache key of what `queries` read: the revisions of the kinds of data they declare."""
        return key_for(dict(self.revisions), frozenset().union(*(kinds_read(query) for query in queries)))

    def t(self, key: str, **params) -> str:
        """Markdown, for every element that renders it (parameters shown as typed)."""
        return i18n.translate(self.lang, key, **params)

    def plain(self, key: str, **params) -> str:
        """Plain text, for what is never read as Markdown: table cells and headers, selectbox and
        multiselect options, st.text, chart text, the map (escape_text), file names."""
        return i18n.translate_plain(self.lang, key, **params)

    def label(self, namespace: str, code: str | None) -> str:
        return i18n.label(self.lang, namespace, code)


# Runs before the language is known, hence both languages; seeding the demo takes a few seconds.
# A server started by `streamlit run app.py` did this already at start (gongzhi.web.lifespan);
# AppTest runs the script alone and gets it here.
@st.cache_resource(show_spinner="正在准备数据库… Preparing the database…")
def _prepare_database(url: str) -> None:
    """Once per process and database: create the schema, and seed the demo into a new default DB."""
    prepare_database(url)




def _language() -> str:
    """The session's language: ?lang= of the first page opened, else the browser's language, then
    whatever the language box sets. A run that does not know the browser's language (Streamlit
    leaves it out of a run that merges two requests, as on a busy server) uses the default and
    decides nothing: the next run that knows it decides."""
    if LANGUAGE_KEY not in st.session_state:
        requested = st.query_params.get("lang")
        if requested in i18n.LANGUAGES:
            st.session_state[LANGUAGE_KEY] = requested
        elif st.context.locale:
            st.session_state[LANGUAGE_KEY] = i18n.language_from_locale(st.context.locale)
        else:
            return i18n.language_from_locale(None)
    return st.session_state[LANGUAGE_KEY]


# The test seam: AppTest sets session_state["user_id"] to sign a test in (it cannot carry
# cookies). A browser can never set session state (no widget has this key), and nothing in the
# app writes it: in a browser only the session cookie signs anyone in.
USER_KEY = "user_id"
SESSION_ID_KEY = "login_session_id"  # the database id of this browser's session (not its token)
ENDED_KEY = "login_ended"  # why this browser's session ended, shown on the sign-in page
DISPLAY_KEY = "display_link"  # the id of the display link this screen uses
DISPLAY_VIEW_KEY = "display_view"  # what that link shows (gongzhi.sessions.DisplayView)


def _cookie(name: str) -> str | None:
    try:
        value = st.context.cookies.get(name)
    except (AttributeError, RuntimeError):  # no browser (AppTest)
        return None
    return value if isinstance(value, str) and value else None


def _session_actor() -> Actor | None:
    """The actor of this browser's session cookie, as the database says now. An ended session
    (signed out elsewhere, new password, role change, idle, expired) signs out, and says why."""
    token = _cookie(SESSION_COOKIE)
    if not token:
        return None
    with read_session() as session:
        check = check_session(session=session, token=token)
    if check.actor is not None:
        if check.touch:
            with write_session() as session:
                touch(session=session, session_id=check.session_id)
        st.session_state[SESSION_ID_KEY] = check.session_id
        return check.actor
    st.session_state.pop(SESSION_ID_KEY, None)
    if check.ended in (EndReason.IDLE, EndReason.EXPIRED):
        with write_session() as session:  # recorded once, by the system
            end_session(session=session, session_id=check.session_id, reason=check.ended)
    if check.ended is not None:
        st.session_state[ENDED_KEY] = check.ended.value
    return None


def _display_actor() -> Actor | None:
    """A screen in the meeting room opened with a display link: the public role, for as long as
    the link works (revoking it stops the screen at its next rerun)."""
    token = _cookie(DISPLAY_COOKIE)
    if not token:
        return None
    with read_session() as session:
        link = display_link_for(session=session, token=token)
        if link is None:
            st.session_state.pop(DISPLAY_KEY, None)
            st.session_state.pop(DISPLAY_VIEW_KEY, None)
            return None
        st.session_state[DISPLAY_KEY] = link.id
        st.session_state[DISPLAY_VIEW_KEY] = link.view
        return display_actor(link)


def _actor(lang: str) -> Actor | None:
    """Who is acting, as the database says now: a role change, a removed account or an ended
    session takes effect at the next rerun. Only the session cookie (or, in AppTest, USER_KEY)
    counts; nothing in the URL does."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is not None:
        with read_session() as session:
            actor = actor_for(session=session, user_id=user_id)
        if actor is not None:
            return actor
        del st.session_state[USER_KEY]
    actor = _session_actor() or _display_actor()
    if actor is not None:
        return actor
    if oidc_configured() and st.user.is_logged_in:
        with read_session() as session:
            user_id = user_for_identity(session=session, subject=st.user.get("sub"), email=st.user.get("email"))
        if user_id is not None:
            with read_session() as session:
                return actor_for(session=session, user_id=user_id)
    if public_access():
        return Actor(name=i18n.translate(lang, "role.public"), role=Role.PUBLIC)
    return None


def recheck_sign_in(ctx: PageContext) -> None:
    """For a fragment that reruns alone (the slideshow on its timer): the whole app reruns as soon
    as who is acting changed, so an ended session or a revoked display link stops it too."""
    if _actor(ctx.lang) != ctx.actor:
        st.rerun(scope="app")


def display_screen() -> int | None:
    """The id of the display link this screen uses, if it uses one."""
    return st.session_state.get(DISPLAY_KEY)


def display_view() -> str | None:
    """What this screen's display link shows (a DisplayView value), if it uses one."""
    return st.session_state.get(DISPLAY_VIEW_KEY) if display_screen() is not None else None


def oidc_configured() -> bool:
    """An [auth] section in secrets.toml turns on sign-in with the organisation's identity provider."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def page_setup() -> PageContext:
    logs.install()  # once per process: no phone or ID number reaches the server log (a no-op after)
    url = database_url()
    _prepare_database(url)
    # Issues unrated for 14 days close once an hour in a background thread, never in a page.
    sweeper.start_hourly_sweep(url)
    lang = _language()
    with read_session() as session:
        kinds = revisions(session)
        empty = is_empty(session)
    context = PageContext(lang=lang, actor=_actor(lang), revision=kinds[""] + kinds.get(ANY, 0), revisions=tuple(sorted(kinds.items())),
                          database_url=url, empty=empty,
                          projector=projector_mode())
    st.session_state["page_context"] = context
    return context


def current_context() -> PageContext:
    """The context app.py prepared for this rerun, for components."""
    return st.session_state["page_context"]


def context() -> PageContext:
    """The context app.py prepared for this rerun; called once at the top of every page."""
    return current_context()


def language_switch(ctx: PageContext) -> None:
    names = {"zh-CN": "中文", "en": "English"}
    st.session_state[LANGUAGE_WIDGET_KEY] = ctx.lang
    st.sidebar.selectbox(
        ctx.t("common.language"), i18n.LANGUAGES, key=LANGUAGE_WIDGET_KEY, format_func=names.__getitem__,
        on_change=_choose_language,
    )


def _choose_language() -> None:
    st.session_state[LANGUAGE_KEY] = st.session_state[LANGUAGE_WIDGET_KEY]


def admins_only(ctx: PageContext) -> None:
    """For an admin page: the menu offers it to admins only; the page refuses anyone else all the same."""
    if ctx.actor is None or ctx.actor.role != Role.ADMIN:
        st.error(ctx.t("common.admins_only"))
        st.stop()


def account_box(ctx: PageContext) -> None:
    """Who is signed in, and the way out (or in, for a public visitor). Signing out is a POST to
    gongzhi.web's /signout, which ends the session and clears the cookie."""
    if ctx.actor is None:
        return
    st.sidebar.caption(ctx.t("common.acting_as", name=ctx.actor.name, role=ctx.label("role", ctx.actor.role)))
    if ctx.actor.role == Role.PUBLIC:
        if display_screen() is None:
            with st.sidebar:
                st.html(sign_in_link_html(ctx.lang, current_path()))
        return
    if oidc_configured() and st.user.is_logged_in and _cookie(SESSION_COOKIE) is None:
        if st.sidebar.button(ctx.t("auth.sign_out"), key="sign_out", icon=":material/logout:"):
            st.logout()
        return
    with st.sidebar:
        st.html(sign_out_form_html(ctx.lang))


def current_path() -> str:
    """This page's path with its query (e.g. /issues?grid=3), to come back to after signing in."""
    page = st.session_state.get(CURRENT_PAGE_KEY, "")
    query = urlencode([(key, value) for key in st.query_params for value in st.query_params.get_all(key)])
    return f"/{page}" + (f"?{query}" if query else "")


CURRENT_PAGE_KEY = "current_page_path"
