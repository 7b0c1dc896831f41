"""Taking data out from the pages: two download buttons (CSV, XLSX) under each list, holding what
the list shows with its current filters; and the admin page's sections: backups, the full
archive, one person's data (PIPL) and Open311 GeoReport v2 files in and out.

Files are made only when a button is clicked (Streamlit calls `data` then), with no Streamlit
call inside: each maker closes over plain values (the rows, the actor, the database URL)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from components.data import query, query_later
from components.page_setup import PageContext
from gongzhi import backup, exports, open311, spreadsheet
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.errors import GongzhiError
from gongzhi.queries.meetings import decisions


def list_downloads(ctx: PageContext, kind: str, frame: pd.DataFrame | Callable[[], pd.DataFrame] | None, *,
                   key: str | None = None) -> None:
    """CSV and XLSX buttons for the rows of list `kind` (exports.LIST_KINDS) a page just showed;
    personal data as exports.TABLE_BUILDERS masks it for this reader. Nothing when empty. `frame`
    may be a function giving the rows (a list shown a page at a time): called on click only."""
    if frame is None or (isinstance(frame, pd.DataFrame) and frame.empty) or ctx.actor is None:
        return
    build, actor, lang = exports.TABLE_BUILDERS[kind], ctx.actor, ctx.lang
    what = ctx.t(f"exports.kind_{kind}")

    def maker(fmt: str) -> Callable[[], bytes]:
        return lambda: build(frame if isinstance(frame, pd.DataFrame) else frame(), actor=actor,
                             lang=lang).to_file(fmt)

    # A row of buttons as wide as their labels (wrapping when the screen is narrow): in fixed
    # columns the labels were cut short, and CSV and Excel could not be told apart.
    row = st.container(horizontal=True, gap="small")
    for fmt in spreadsheet.FORMATS:
        row.download_button(ctx.t(f"exports.download_{fmt}", what=what), data=maker(fmt),
                            file_name=exports.file_name(kind, fmt), mime=spreadsheet.MEDIA_TYPES[fmt],
                            key=f"download_{key or kind}_{fmt}", on_click="ignore", icon=":material/download:",
                            width="content")


def event_downloads(ctx: PageContext, upcoming: pd.DataFrame, past: pd.DataFrame, period, grid_id: int | None) -> None:
    """The events page's lists (upcoming, then past in the period) and their named attendance."""
    frames = [frame for frame in (upcoming, past) if not frame.empty]
    list_downloads(ctx, "events", pd.concat(frames, ignore_index=True) if frames else past)
    # Built on click: a district's attendance in a year is 250,000 rows, too many to copy out of
    # the cache on every rerun; only whether there are any is read now.
    attendance = {"start": period.start, "end": period.end, "grid_id": grid_id}
    if query(exports.attendance_count, **attendance):
        list_downloads(ctx, "attendance", query_later(exports.attendance_list, **attendance))


def meeting_downloads(ctx: PageContext, planned: pd.DataFrame, held: pd.DataFrame, period) -> None:
    """The meetings page's lists (planned, then held in the period) and the decisions taken."""
    list_downloads(ctx, "meetings", exports.meetings_frame(planned, held))
    list_downloads(ctx, "decisions", query(decisions, start=period.start, end=period.end))


# --- the admin page ----------------------------------------------------------------------------

def _size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(size, 1) / 1024:.0f} KB"


def backup_section(ctx: PageContext) -> None:
    st.header(ctx.t("exports.backup_heading"))
    if backup.sqlite_path(ctx.database_url) is None:
        st.info(ctx.t("exports.backup_postgres"))
        return
    st.caption(ctx.t("exports.backup_intro", directory=str(backup.backup_dir())))
    if st.button(ctx.t("exports.backup_button"), icon=":material/backup:", key="backup_now"):
        try:
            result = backup.backup(ctx.database_url)
        except (GongzhiError, OSError) as error:
            st.error(error.message(ctx.lang) if isinstance(error, GongzhiError) else str(error))
        else:
            st.success(ctx.t("exports.backup_done", path=str(result.path), size=_size(result.size)))
    files = backup.backups_in()
    if not files:
        st.info(ctx.t("exports.backup_none"))
        return
    st.dataframe(pd.DataFrame({
        ctx.t("exports.col_file"): [path.name for path in files],
        ctx.t("exports.col_size"): [_size(path.stat().st_size) for path in files],
    }), hide_index=True, width="stretch")
    newest = files[0]
    st.download_button(ctx.t("exports.backup_download", name=newest.name), data=newest.read_bytes,
                       file_name=newest.name, mime="application/vnd.sqlite3", key="backup_download",
                       on_click="ignore", icon=":material/download:")
    st.caption(ctx.t("exports.restore_hint"))


def _audited(database_url: str, actor, make: Callable) -> Callable[[], bytes]:
    """A maker whose export is written to the audit trail in the same transaction."""
    def run() -> bytes:
        with write_session(get_engine(database_url), actor=actor) as session:
            data, _counts = make(session)
        return data
    return run


def full_export_section(ctx: PageContext) -> None:
    st.header(ctx.t("exports.full_heading"))
    st.caption(ctx.t("exports.full_intro"))
    st.download_button(ctx.t("exports.full_button"), key="full_archive", on_click="ignore",
                       data=_audited(ctx.database_url, ctx.actor,
                                     lambda session: exports.full_archive(session=session, actor=ctx.actor)),
                       file_name=exports.file_name("all-data", "zip"), mime="application/zip",
                       icon=":material/folder_zip:")


def person_export_section(ctx: PageContext) -> None:
    st.header(ctx.t("exports.person_heading"))
    st.caption(ctx.t("exports.person_intro"))
    search = st.text_input(ctx.t("exports.person_search"), key="person_export_search")
    if not search.strip():
        return
    people = query(exports.find_people, search=search.strip())
    if people.empty:
        st.info(ctx.t("common.no_data"))
        return
    labels = {int(row.id): f"{row.name} · {row.grid_name or '—'} · {row.phone or '—'} (#{row.id})"
              for row in people.itertuples()}
    person_id = st.selectbox(ctx.t("exports.person_choose"), list(labels), format_func=labels.get,
                             key="person_export_choice")
    actor = ctx.actor
    st.download_button(ctx.t("exports.person_button"), key="person_archive", on_click="ignore",
                       data=_audited(ctx.database_url, actor, lambda session: exports.person_archive(
                           session=session, actor=actor, person_id=person_id)),
                       file_name=exports.file_name(f"person-{person_id}", "zip"), mime="application/zip",
                       icon=":material/person:")


def _open311_maker(database_url: str, lang: str, kind: str, fmt: str) -> Callable[[], bytes]:
    def run() -> bytes:
        if kind == "services":
            return open311.render(open311.service_list(lang=lang), fmt, kind=kind)
        with read_session(get_engine(database_url)) as session:
            return open311.render(open311.service_requests(session=session, lang=lang), fmt, kind=kind)
    return run


def open311_section(ctx: PageContext) -> None:
    st.header(ctx.t("exports.open311_heading"))
    st.caption(ctx.t("exports.open311_intro"))
    row = st.container(horizontal=True, gap="small")  # buttons as wide as their labels, never cut short
    buttons = [(kind, fmt) for kind in ("requests", "services") for fmt in open311.FORMATS]
    for kind, fmt in buttons:
        row.download_button(ctx.t(f"exports.open311_{kind}", fmt=fmt.upper()), width="content",
                            data=_open311_maker(ctx.database_url, ctx.lang, kind, fmt),
                            file_name=exports.file_name(f"open311-{kind}", fmt), mime=open311.MEDIA_TYPES[fmt],
                            key=f"open311_{kind}_{fmt}", on_click="ignore", icon=":material/download:")
    upload = st.file_uploader(ctx.t("exports.open311_upload"), type=list(open311.FORMATS), key="open311_upload")
    if upload is None or not st.button(ctx.t("exports.open311_import_button"), key="open311_import"):
        return
    try:
        with write_session(get_engine(ctx.database_url), actor=ctx.actor) as session:
            result = open311.import_requests(session=session, actor=ctx.actor, data=upload.getvalue(), lang=ctx.lang)
    except open311.Open311ImportError as error:
        st.error(error.message(ctx.lang))
        if error.problems:
            st.dataframe(pd.DataFrame({
                ctx.t("exports.col_row"): [p.row for p in error.problems],
                ctx.t("exports.col_field"): [p.field for p in error.problems],
                ctx.t("exports.col_reason"): [p.reason for p in error.problems],
            }), hide_index=True, width="stretch")
        return
    except GongzhiError as error:
        st.error(error.message(ctx.lang))
        return
    st.success(ctx.t("exports.open311_imported", created=len(result.created), skipped=len(result.skipped_closed)))
