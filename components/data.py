"""Cached access to the core's queries. Every cached result is keyed on the database's data
revision, which every write bumps, so a save is visible on every page (and in every app
process) at the next rerun, and nothing stale is served."""

import importlib
from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from components.page_setup import current_context
from gongzhi.clock import today
from gongzhi.db import get_engine, read_session


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached(function_path: str, database_url: str, revision: int, day: date, kwargs: tuple) -> Any:
    module_name, name = function_path.rsplit(".", 1)
    function = getattr(importlib.import_module(module_name), name)
    with read_session(get_engine(database_url)) as session:
        return function(session=session, **dict(kwargs))


def query(function: Callable, **kwargs) -> Any:
    """Run a core query `function(*, session, **kwargs)` through the cache. Arguments must be
    hashable (ints, strings, dates, tuples)."""
    ctx = current_context()
    # The day is part of the key: "overdue" and "upcoming" change at midnight without any write.
    return _cached(f"{function.__module__}.{function.__qualname__}", ctx.database_url, ctx.revision, today(),
                   tuple(sorted(kwargs.items())))
