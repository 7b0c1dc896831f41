"""Saving a form: one transaction, a clear message per field on bad input, and a rerun after
success so every page shows the new data.

Two things a browser or the database can do to a save are handled here, once for every form:
- a double-clicked submit: Streamlit reruns the page once per click, and the second run carries
  the same submitted values. The browser sends no token with a click, so the only thing that tells
  the second run apart from a new submission is its values: a form that creates records passes
  `form_key` and `submission`, and a submission equal to the last one saved from that form is not
  saved again (the earlier success is shown instead).
- a busy database (SQLite's write lock, PostgreSQL's lock timeout, deadlock or serialisation
  failure): the whole transaction is tried again, a bounded number of times; a database that cannot
  be written (read-only, disk full) is reported and never called "saved"."""

import hashlib
import time
from collections.abc import Callable
from typing import Any

import streamlit as st
from sqlalchemy.exc import InternalError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from components.page_setup import PageContext
from gongzhi.audit import VERSIONED_WRITES_KEY, stale_conflict
from gongzhi.db import read_session, write_session
from gongzhi.dberrors import database_problem, is_busy
from gongzhi.errors import Conflict, GongzhiError, ValidationError

FLASH_KEY = "flash_message"
SAVED_SUBMISSIONS_KEY = "forms_saved_submissions"  # {form_key: (fingerprint, success message)}
SAVE_ATTEMPTS = 3
RETRY_DELAYS_S = (0.25, 0.5)  # before the 2nd and the 3rd attempt


def save(ctx: PageContext, action: Callable[..., Any], *, success: str | None = None,
         form_key: str | None = None, submission: object = None) -> Any | None:
    """Run `action(session)` in one write transaction. On success, remember a flash message and
    rerun; on a user error, show why and leave the database unchanged (the form keeps its input).
    With `form_key`, a `submission` (the values as submitted) equal to the last one saved from
    that form is ignored: it is the second run of a double click."""
    message = success or ctx.t("common.saved")
    fingerprint = _fingerprint(ctx, submission) if form_key else None
    saved = st.session_state.get(SAVED_SUBMISSIONS_KEY, {})
    if form_key and saved.get(form_key, (None,))[0] == fingerprint:
        st.success(saved[form_key][1])
        return None
    write_sessions = []  # kept to explain a StaleDataError: which record moved, and who moved it
    try:
        result = _write_with_retry(ctx, lambda session: write_sessions.append(session) or action(session))
    except ValidationError as error:
        st.error("\n".join(f"- {message}" for message in error.messages(ctx.lang)))
        return None
    except StaleDataError:
        st.error(_stale_conflict(write_sessions[-1]).message(ctx.lang))
        return None
    except GongzhiError as error:
        st.error(error.message(ctx.lang))
        return None
    except (OperationalError, InternalError) as error:
        # Still busy after every attempt, read-only file or server (PostgreSQL says InternalError),
        # full disk: nothing was committed. Said without the error's text, which may hold values.
        st.error(database_problem(error).message(ctx.lang))
        return None
    if form_key:
        # Recorded before anything else can interrupt the run, so a second click never saves again.
        st.session_state[SAVED_SUBMISSIONS_KEY] = {**saved, form_key: (fingerprint, message)}
    st.session_state[FLASH_KEY] = message
    st.rerun()
    return result


def _write_with_retry(ctx: PageContext, action: Callable[..., Any]) -> Any:
    """The whole transaction again when the database stayed busy past its lock timeout; nothing of a
    failed attempt was committed, so running the action again is safe."""
    for attempt in range(SAVE_ATTEMPTS):
        try:
            with write_session(actor=ctx.actor) as session:
                return action(session)
        except OperationalError as error:
            if attempt == SAVE_ATTEMPTS - 1 or not is_busy(error):
                raise
            time.sleep(RETRY_DELAYS_S[attempt])
    raise AssertionError("unreachable")


def _fingerprint(ctx: PageContext, submission: object) -> str:
    """Who submitted what: another person signed in to the same browser session is not a repeat."""
    return hashlib.sha256(repr((ctx.actor, submission)).encode()).hexdigest()


def _stale_conflict(failed_session) -> Conflict:
    """Who changed, and when, the row that a failed flush found at a newer version."""
    with read_session() as session:
        return stale_conflict(session, failed_session.info.get(VERSIONED_WRITES_KEY))


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)
