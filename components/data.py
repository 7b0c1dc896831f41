"""Cached access to the core's queries. Every cached result is keyed on the revisions of the kinds
of data its query reads (gongzhi.revisions; declared next to the query with `@reads`), which the
writes of those kinds bump: a save is visible on every page (and in every app process) at the
next rerun, nothing stale is served, and figures that read nothing the save wrote stay cached."""

import importlib
from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from components.page_setup import current_context
from gongzhi.clock import today
from gongzhi.db import get_engine, read_session


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached(function_path: str, database_url: str, revision: tuple, day: date, kwargs: tuple) -> Any:
    module_name, name = function_path.rsplit(".", 1)
    function = getattr(importlib.import_module(module_name), name)
    with read_session(get_engine(database_url)) as session:
        return function(session=session, **dict(kwargs))


def query(function: Callable, **kwargs) -> Any:
    """Run a core query `function(*, session, **kwargs)` through the cache. Arguments must be
    hashable (ints, strings, dates, tuples)."""
    ctx = current_context()
    # The day is part of the key: "overdue" and "upcoming" change at midnight without any write.
    return _cached(f"{function.__module__}.{function.__qualname__}", ctx.database_url, ctx.key_for(function), today(),
                   tuple(sorted(kwargs.items())))


def query_later(function: Callable, **kwargs) -> Callable[[], Any]:
    """`query(function, **kwargs)` run only when called (e.g. a download's file built on click),
    keyed on the data as it is now."""
    ctx = current_context()
    key = (f"{function.__module__}.{function.__qualname__}", ctx.database_url, ctx.key_for(function), today(),
           tuple(sorted(kwargs.items())))
    return lambda: _cached(*key)


@st.cache_data(show_spinner=False, max_entries=256)
def _cached_view(view_path: str, function_path: str, database_url: str, revision: tuple, day: date,
                 kwargs: tuple) -> Any:
    module_name, name = view_path.rsplit(".", 1)
    view = getattr(importlib.import_module(module_name), name)
    return view(_cached(function_path, database_url, revision, day, kwargs))


def query_view(view: Callable[[Any], Any], function: Callable, **kwargs) -> Any:
    """`view(query(function, **kwargs))` through the cache, for a module-level `view` that turns a
    large result into what a page shows (a picker's labels, a chart's spec): a warm rerun
    neither copies the large result nor builds its view again."""
    ctx = current_context()
    return _cached_view(f"{view.__module__}.{view.__qualname__}", f"{function.__module__}.{function.__qualname__}",
                        ctx.database_url, ctx.key_for(function), today(), tuple(sorted(kwargs.items())))
