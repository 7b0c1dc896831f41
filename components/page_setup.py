"""Shared set-up that runs on every rerun before the page: database, language, actor, and the
context object that pages use to translate and to query through the cache."""

import os
from dataclasses import dataclass

import streamlit as st

from components.projector import projector_mode
from gongzhi import i18n, logs, sweeper
from gongzhi.accounts import actor_for, user_for_identity
from gongzhi.config import DEFAULT_DATABASE_URL, database_url
from gongzhi.db import current_revision, get_engine, init_db, is_empty, read_session
from gongzhi.permissions import Actor, Role

LANGUAGE_KEY = "lang"


@dataclass(frozen=True)
class PageContext:
    lang: str
    actor: Actor | None  # None: not signed in (only the login page is offered)
    revision: int
    database_url: str
    empty: bool
    projector: bool = False  # large type, high contrast, no sidebar (components.projector)

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
@st.cache_resource(show_spinner="正在准备数据库… Preparing the database…")
def _prepare_database(url: str) -> None:
    """Once per process and database: create the schema, and seed the demo into a new default DB."""
    engine = get_engine(url)
    init_db(engine)
    if _wants_demo(url):
        from gongzhi.seed import ensure_demo

        ensure_demo(engine)


def _wants_demo(url: str) -> bool:
    """The embedded default is seeded with the demo community on first start; a database named
    in DATABASE_URL stays as it is unless GONGZHI_DEMO=1 asks for the demo."""
    setting = os.environ.get("GONGZHI_DEMO")
    if setting is not None:
        return setting == "1"
    return url == DEFAULT_DATABASE_URL


def _language() -> str:
    if LANGUAGE_KEY not in st.session_state:
        requested = st.query_params.get("lang")
        st.session_state[LANGUAGE_KEY] = (
            requested if requested in i18n.LANGUAGES else i18n.language_from_locale(st.context.locale)
        )
    return st.session_state[LANGUAGE_KEY]


USER_KEY = "user_id"
SHOW_LOGIN_KEY = "show_login"


def public_access() -> bool:
    """Off by default: with GONGZHI_PUBLIC_ACCESS=1 visitors who do not sign in see the public
    role (aggregates and the map only)."""
    return os.environ.get("GONGZHI_PUBLIC_ACCESS") == "1"


def _actor(lang: str) -> Actor | None:
    """Who is acting, as the database says now: a role change or a removed account takes
    effect at the next rerun. Nothing in the URL or session state but the account id counts."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is not None:
        with read_session() as session:
            actor = actor_for(session=session, user_id=user_id)
        if actor is None:
            del st.session_state[USER_KEY]
        else:
            return actor
    if oidc_configured() and st.user.is_logged_in:
        with read_session() as session:
            user_id = user_for_identity(session=session, subject=st.user.get("sub"), email=st.user.get("email"))
        if user_id is not None:
            st.session_state[USER_KEY] = user_id
            return _actor(lang)
    if public_access() and not st.session_state.get(SHOW_LOGIN_KEY):
        return Actor(name=i18n.translate(lang, "role.public"), role=Role.PUBLIC)
    return None


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
        revision = current_revision(session)
        empty = is_empty(session)
    context = PageContext(lang=lang, actor=_actor(lang), revision=revision, database_url=url, empty=empty,
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
    st.sidebar.selectbox(
        ctx.t("common.language"), i18n.LANGUAGES, key=LANGUAGE_KEY, format_func=names.__getitem__,
    )


def admins_only(ctx: PageContext) -> None:
    """For an admin page: the menu offers it to admins only; the page refuses anyone else all the same."""
    if ctx.actor is None or ctx.actor.role != Role.ADMIN:
        st.error(ctx.t("common.admins_only"))
        st.stop()


def sign_out() -> None:
    st.session_state.pop(USER_KEY, None)
    if oidc_configured() and st.user.is_logged_in:
        st.logout()


def account_box(ctx: PageContext) -> None:
    """Who is signed in, and the way out (or in, for a public visitor)."""
    if ctx.actor is None:
        return
    st.sidebar.caption(ctx.t("common.acting_as", name=ctx.actor.name, role=ctx.label("role", ctx.actor.role)))
    if ctx.actor.role == Role.PUBLIC:
        if st.sidebar.button(ctx.t("auth.sign_in"), key="sign_in"):
            st.session_state[SHOW_LOGIN_KEY] = True
            st.rerun()
    elif st.sidebar.button(ctx.t("auth.sign_out"), key="sign_out", icon=":material/logout:"):
        sign_out()
        st.rerun()
