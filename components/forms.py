"""Saving a form: one transaction, a clear message per field on bad input, and a rerun after
success so every page shows the new data."""

from collections.abc import Callable
from typing import Any

import streamlit as st
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from components.page_setup import PageContext
from gongzhi.db import write_session
from gongzhi.errors import Conflict, GongzhiError, ValidationError

FLASH_KEY = "flash_message"


def save(ctx: PageContext, action: Callable[..., Any], *, success: str | None = None) -> Any | None:
    """Run `action(session)` in one write transaction. On success, remember a flash message and
    rerun; on a user error, show why and leave the database unchanged (the form keeps its input)."""
    try:
        with write_session(actor=ctx.actor) as session:
            result = action(session)
    except ValidationError as error:
        st.error("\n".join(f"- {message}" for message in error.messages(ctx.lang)))
        return None
    except StaleDataError:
        st.error(Conflict(what="record", id="?").message(ctx.lang))
        return None
    except GongzhiError as error:
        st.error(error.message(ctx.lang))
        return None
    except OperationalError:
        st.error(ctx.t("errors.database_unavailable"))
        return None
    st.session_state[FLASH_KEY] = success or ctx.t("common.saved")
    st.rerun()
    return result


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)
