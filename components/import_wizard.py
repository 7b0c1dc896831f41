"""The import page's steps: upload -> detected type and encoding -> column mapping -> preview of
every row with its problems -> duplicates skip/update -> import with a progress bar -> result;
and the round-trip exports. The checks and the writing are gongzhi.importing's; this draws them."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st
from sqlalchemy.exc import IntegrityError, OperationalError

from components.data import query, query_later
from components.forms import FLASH_KEY, show_flash
from components.page_setup import PageContext
from gongzhi import i18n
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.dberrors import database_problem
from gongzhi.errors import GongzhiError
from gongzhi.escape import markdown_literal
from gongzhi.importing import (
    DUPLICATE_CHOICES,
    ENCODINGS,
    KINDS,
    SCHEMAS,
    FileRefused,
    ImportPlan,
    ImportRefused,
    Sheet,
    export_file,
    match_headers,
    plan_import,
    read_spreadsheet,
    remembered_mappings,
)
from gongzhi.importing import run_import as write_import
from gongzhi.spreadsheet import MEDIA_TYPES

PAGE_SIZE = 100
UPLOAD_NONCE_KEY = "import_upload_nonce"  # a new uploader after a successful import
PLAN_CACHE_KEY = "import_plan_cache"  # (fingerprint, plan): the plan of 10,000 rows is made once


def import_section(ctx: PageContext) -> None:
    show_flash()
    kind = st.selectbox(ctx.t("imports.kind"), KINDS, key="import_kind",
                        format_func=lambda code: ctx.t(f"imports.kind_{code}"))
    nonce = st.session_state.get(UPLOAD_NONCE_KEY, 0)
    upload = st.file_uploader(ctx.t("imports.upload"), key=f"import_file_{nonce}")
    encoding = st.selectbox(ctx.t("imports.encoding_choice"), (None, *ENCODINGS), key="import_encoding",
                            format_func=lambda name: ctx.t("imports.encoding_auto") if name is None else name)
    if upload is None:
        return
    data = upload.getvalue()
    try:
        sheet = read_spreadsheet(data, upload.name, encoding=encoding)
    except FileRefused as refused:
        st.error(refused.message(ctx.lang))
        return
    st.caption(ctx.t("imports.detected", file_type=sheet.file_type.upper(), encoding=sheet.encoding or "-",
                     rows=len(sheet.rows)))
    file_id = hashlib.sha256(data).hexdigest()[:16]
    mapping = _mapping_step(ctx, kind, sheet, file_id)
    plan = _plan(ctx, kind, sheet, mapping, f"{file_id}:{encoding}")
    _preview(ctx, sheet, plan)
    if plan.refused:
        st.warning(ctx.t("imports.fix_and_upload"))
        return
    counts = plan.counts()
    on_duplicate = "skip"
    if counts["in_database"] or counts["in_file"]:
        on_duplicate = st.radio(ctx.t("imports.duplicates"), DUPLICATE_CHOICES, key=f"import_duplicates_{file_id}",
                                format_func=lambda choice: ctx.t(f"imports.duplicates_{choice}"), horizontal=True)
    if st.button(ctx.t("imports.import_button"), type="primary", key=f"import_go_{file_id}"):
        _commit(ctx, kind, sheet, mapping, on_duplicate)


def _mapping_step(ctx: PageContext, kind: str, sheet: Sheet, file_id: str) -> dict[str, str | None]:
    remembered = query(remembered_mappings, kind=kind)
    suggested = match_headers(kind, sheet.headers, remembered)
    options = (None, *(column.key for column in SCHEMAS[kind]))
    required = {column.key for column in SCHEMAS[kind] if column.required}

    def label(key: str | None) -> str:
        if key is None:
            return ctx.t("imports.not_imported")
        name = ctx.t(f"imports.field_{key}")
        return ctx.t("imports.required_mark", label=name) if key in required else name

    mapping: dict[str, str | None] = {}
    with st.expander(ctx.t("imports.mapping"), expanded=any(key is None for key in suggested.values())):
        st.caption(ctx.t("imports.mapping_help"))
        columns = st.columns(3)
        for index, header in enumerate(sheet.headers):
            with columns[index % 3]:
                mapping[header] = st.selectbox(markdown_literal(header), options, index=options.index(suggested[header]),
                                               format_func=label, key=f"import_map_{kind}_{file_id}_{index}")
    return mapping


def _plan(ctx: PageContext, kind: str, sheet: Sheet, mapping: dict, file_key: str) -> ImportPlan:
    fingerprint = (file_key, kind, tuple(mapping.items()), ctx.revision, ctx.actor)
    cached = st.session_state.get(PLAN_CACHE_KEY)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    with read_session(get_engine(ctx.database_url)) as session:
        plan = plan_import(session, kind=kind, sheet=sheet, mapping=mapping, actor=ctx.actor)
    st.session_state[PLAN_CACHE_KEY] = (fingerprint, plan)
    return plan


def _reason(ctx: PageContext, problem) -> str:
    """A problem's reason for a table cell: plain text (the values it quotes as typed)."""
    with i18n.plain_text():
        return problem.reason(ctx.lang)


def _problem_table(ctx: PageContext, problems) -> pd.DataFrame:
    return pd.DataFrame({
        ctx.t("imports.col_row"): [problem.row or "-" for problem in problems],
        ctx.t("imports.col_column"): [problem.column for problem in problems],
        ctx.t("imports.col_reason"): [_reason(ctx, problem) for problem in problems],
    })


def _preview(ctx: PageContext, sheet: Sheet, plan: ImportPlan) -> None:
    st.subheader(ctx.t("imports.preview"))
    st.write(ctx.t("imports.summary", **plan.counts()))
    if plan.never_read_columns:
        st.info(ctx.t("imports.never_read", columns=", ".join(plan.never_read_columns)))
    if plan.ignored_columns:
        st.caption(ctx.t("imports.ignored", columns=", ".join(plan.ignored_columns)))
    st.markdown(f"**{ctx.t('imports.problems')}**")
    if plan.problems:
        st.dataframe(_problem_table(ctx, plan.problems), hide_index=True, width="stretch", key="import_problems")
    else:
        st.success(ctx.t("imports.no_problems"))
    status_of = {}
    for row in plan.rows:
        if row.duplicate_of is not None:
            status_of[row.number] = ctx.plain("imports.status_in_file", row=row.duplicate_of)
        elif row.existing_id is not None:
            status_of[row.number] = ctx.t("imports.status_in_database")
        else:
            status_of[row.number] = ctx.t("imports.status_new")
    reasons: dict[int, list[str]] = {}
    for problem in plan.problems:
        reasons.setdefault(problem.row, []).append(
            f"{problem.column}: {_reason(ctx, problem)}" if problem.column else _reason(ctx, problem))
    pages = max(1, -(-len(sheet.rows) // PAGE_SIZE))
    page = st.number_input(ctx.t("imports.page"), min_value=1, max_value=pages, value=1, step=1,
                           key="import_preview_page") if pages > 1 else 1
    shown = sheet.rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    table = pd.DataFrame([cells for _, cells in shown], columns=sheet.headers)
    table.insert(0, ctx.t("imports.col_row"), [number for number, _ in shown])
    table.insert(1, ctx.t("imports.col_status"),
                 [status_of.get(number, ctx.t("imports.status_problem")) for number, _ in shown])
    table.insert(2, ctx.t("imports.col_reason"), ["; ".join(reasons.get(number, [])) for number, _ in shown])
    # Plain text cells in a data grid: nothing typed in the file is rendered as HTML.
    st.dataframe(table, hide_index=True, width="stretch", key="import_preview")


def _commit(ctx: PageContext, kind: str, sheet: Sheet, mapping: dict, on_duplicate: str) -> None:
    bar = st.progress(0.0)

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=ctx.t("imports.writing", done=done, total=total))

    try:
        with write_session(get_engine(ctx.database_url), actor=ctx.actor) as session:
            result = write_import(session, kind=kind, sheet=sheet, mapping=mapping, actor=ctx.actor,
                                  on_duplicate=on_duplicate, progress=progress)
    except ImportRefused as refused:
        st.error(refused.message(ctx.lang))
        st.dataframe(_problem_table(ctx, refused.plan.problems), hide_index=True, width="stretch")
        return
    except GongzhiError as error:
        st.error(error.message(ctx.lang))
        return
    except OperationalError as error:
        st.error(database_problem(error).message(ctx.lang))
        return
    except IntegrityError:  # a rule of the database the checks missed: nothing was written
        st.error(ctx.t("errors.generic"))
        return
    st.session_state[FLASH_KEY] = ctx.t("imports.done", inserted=result.inserted, updated=result.updated,
                                        skipped=result.skipped)
    st.session_state[UPLOAD_NONCE_KEY] = st.session_state.get(UPLOAD_NONCE_KEY, 0) + 1
    st.session_state.pop(PLAN_CACHE_KEY, None)
    st.rerun()


def export_section(ctx: PageContext) -> None:
    st.caption(ctx.t("imports.export_help"))
    kind = st.selectbox(ctx.t("imports.kind"), KINDS, key="export_kind",
                        format_func=lambda code: ctx.t(f"imports.kind_{code}"))
    columns = st.columns(2)
    for column, fmt in zip(columns, ("csv", "xlsx"), strict=True):
        # Built when clicked (a district's issues are 100,000 rows, in two formats): a render
        # after a save no longer rebuilds both files of the chosen kind.
        data = query_later(export_file, kind=kind, fmt=fmt, actor=ctx.actor, lang=ctx.lang)
        column.download_button(ctx.t(f"imports.download_{fmt}"), data, file_name=f"{kind}.{fmt}",
                               mime=MEDIA_TYPES[fmt],
                               key=f"export_{fmt}")
