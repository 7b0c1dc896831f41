"""Shared set-up that runs on every rerun before the page: database, language, actor, and the
context object that pages use to translate and to query through the cache."""

import os
from dataclasses import dataclass

import streamlit as st

from gongzhi import i18n, lifecycle
from gongzhi.clock import now
from gongzhi.config import DEFAULT_DATABASE_URL, database_url
from gongzhi.db import current_revision, get_engine, init_db, is_empty, read_session, write_session
from gongzhi.permissions import SYSTEM_ACTOR, Actor, Role

LANGUAGE_KEY = "lang"


@dataclass(frozen=True)
class PageContext:
    lang: str
    actor: Actor
    revision: int
    database_url: str
    empty: bool

    def t(self, key: str, **params) -> str:
        return i18n.translate(self.lang, key, **params)

    def label(self, namespace: str, code: str | None) -> str:
        return i18n.label(self.lang, namespace, code)


@st.cache_resource(show_spinner=False)
def _prepare_database(url: str) -> None:
    """Once per process and database: create the schema, and seed the demo into a new default DB."""
    engine = get_engine(url)
    init_db(engine)
    if _wants_demo(url):
        from gongzhi.seed import ensure_demo

        ensure_demo(engine)


@st.cache_resource(show_spinner=False, max_entries=4)
def _close_expired_reviews(url: str, hour: str) -> int:
    """Once an hour per process: issues unrated for 14 days close as closed_unrated (群众评事),
    so the figures never wait for someone to run the CLI. Writes only when there is work."""
    engine = get_engine(url)
    with read_session(engine) as session:
        if not lifecycle.expired_reviews(session=session):
            return 0
    with write_session(engine) as session:
        return lifecycle.close_expired_reviews(session=session, actor=SYSTEM_ACTOR)


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


def default_actor(lang: str) -> Actor:
    # Until accounts exist, the app acts as the committee secretary.
    return Actor(name=i18n.translate(lang, "common.default_actor"), role=Role.COMMITTEE)


def page_setup() -> PageContext:
    url = database_url()
    _prepare_database(url)
    _close_expired_reviews(url, now().strftime("%Y-%m-%d %H"))
    lang = _language()
    with read_session() as session:
        revision = current_revision(session)
        empty = is_empty(session)
    context = PageContext(lang=lang, actor=default_actor(lang), revision=revision, database_url=url, empty=empty)
    st.session_state["page_context"] = context
    st.session_state[SHELL_MARKER] = True
    return context


SHELL_MARKER = "_app_shell_ran"


def current_context() -> PageContext:
    """The context app.py prepared for this rerun, for components."""
    return st.session_state["page_context"]


def context() -> PageContext:
    """The context app.py prepared for this rerun; called once at the top of every page.

    Because a `pages/` folder sits beside app.py, Streamlit's legacy multipage mode can run a page
    file on its own, without app.py, on a process's first run (and AppTest does so on every run).
    A page started that way registers the real menu (which turns the legacy mode off) and reruns,
    so that app.py always runs first and the context is never stale."""
    if not st.session_state.pop(SHELL_MARKER, False):
        from components.navigation import PAGES

        st.navigation([st.Page(entry.path, url_path=entry.url_path) for entry in PAGES], position="hidden")
        st.rerun()
    return current_context()


def language_switch(ctx: PageContext) -> None:
    names = {"zh-CN": "中文", "en": "English"}
    st.sidebar.selectbox(
        ctx.t("common.language"), i18n.LANGUAGES, key=LANGUAGE_KEY, format_func=names.__getitem__,
    )
