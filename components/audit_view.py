"""The audit page's pieces: filters (person, record, time), the entries with what each changed
(before → after), one entry's full values, and the soft-deleted records with a Restore button
each. Values recorded in the trail are user text: they are shown only as plain text (table
cells, st.text, st.json), never as Markdown or HTML."""

import json
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from components.data import query
from components.filters import Period
from components.forms import save
from components.page_setup import PageContext
from gongzhi.crud.records import may_delete, restore, soft_delete
from gongzhi.queries.audit import (
    actors_in_audit,
    audit_entries,
    changed_values,
    deleted_records,
    snapshot,
    tables_in_audit,
)

ENTRY_LIMIT = 500
VALUE_MAX = 80  # characters of one value in the changes column; the full values are below the table
ENTRY_KEY = "audit_entry"


@dataclass(frozen=True)
class AuditFilters:
    actor_name: str | None
    table_name: str | None
    record_id: str | None


def table_label(ctx: PageContext, table: str) -> str:
    return ctx.t(f"audit.table_{table}")


def audit_filters(ctx: PageContext) -> AuditFilters:
    actor_col, table_col, record_col = st.columns([2, 2, 1], vertical_alignment="bottom")
    actor = actor_col.selectbox(ctx.t("audit.filter_actor"), [None, *query(actors_in_audit, viewer=ctx.actor)], key="audit_actor",
                                format_func=lambda name: ctx.t("audit.all_actors") if name is None else name)
    table = table_col.selectbox(ctx.t("audit.filter_table"), [None, *query(tables_in_audit, viewer=ctx.actor)], key="audit_table",
                                format_func=lambda name: ctx.t("audit.all_tables") if name is None
                                else table_label(ctx, name))
    record = record_col.text_input(ctx.t("audit.filter_record"), key="audit_record", max_chars=80,
                                   help=ctx.t("audit.filter_record_help"))
    return AuditFilters(actor, table, record.strip() or None)


def _value_text(ctx: PageContext, value) -> str:
    if value is None or value == "":
        return ctx.t("audit.empty_value")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_MAX else text[:VALUE_MAX - 1] + "…"


def changes_text(ctx: PageContext, before: str | None, after: str | None) -> str:
    """"field: before → after" for every changed field, one after another."""
    return "; ".join(f"{field}: {_value_text(ctx, was)} → {_value_text(ctx, now_is)}"
                     for field, was, now_is in changed_values(before, after))


def entries_section(ctx: PageContext, filters: AuditFilters, period: Period) -> None:
    st.header(ctx.t("audit.entries_title"))
    entries = query(audit_entries, viewer=ctx.actor, actor_name=filters.actor_name, table_name=filters.table_name,
                    record_id=filters.record_id, start=period.start, end=period.end, limit=ENTRY_LIMIT)
    if entries.empty:
        st.info(ctx.t("audit.no_entries"))
        return
    st.caption(ctx.t("audit.entries_caption", n=len(entries), limit=ENTRY_LIMIT))
    st.dataframe(pd.DataFrame({
        ctx.t("audit.col_at"): entries["at"],
        ctx.t("audit.col_actor"): entries["actor"],
        ctx.t("audit.col_role"): [ctx.label("role", role) for role in entries["role"]],
        ctx.t("audit.col_table"): [table_label(ctx, table) for table in entries["table"]],
        ctx.t("audit.col_record"): entries["record"],
        ctx.t("audit.col_action"): [ctx.t(f"audit.action_{action}") for action in entries["action"]],
        ctx.t("audit.col_changes"): [changes_text(ctx, before, after)
                                     for before, after in zip(entries["before"], entries["after"], strict=True)],
    }), hide_index=True, width="stretch", key="audit_entries_table", column_config={
        ctx.t("audit.col_at"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
    })
    entry_details(ctx, entries)


def entry_details(ctx: PageContext, entries: pd.DataFrame) -> None:
    """The complete values before and after of one entry, as JSON."""
    rows = {int(row.id): row for row in entries.itertuples()}
    if st.session_state.get(ENTRY_KEY) not in rows:
        st.session_state.pop(ENTRY_KEY, None)
    chosen = st.selectbox(ctx.t("audit.entry_pick"), list(rows), key=ENTRY_KEY, format_func=lambda i: (
        f"{rows[i].at:%Y-%m-%d %H:%M:%S} · {rows[i].actor} · {table_label(ctx, rows[i].table)} #{rows[i].record} · "
        f"{ctx.t(f'audit.action_{rows[i].action}')}"))
    row = rows[chosen]
    before_col, after_col = st.columns(2)
    with before_col:
        st.caption(ctx.t("audit.before"))
        st.json(snapshot(row.before), expanded=True)
    with after_col:
        st.caption(ctx.t("audit.after"))
        st.json(snapshot(row.after), expanded=True)


def deleted_section(ctx: PageContext) -> None:
    """Soft-deleted records, each with a Restore button (the page is for admins; the core
    refuses a restore by anyone else anyway)."""
    st.header(ctx.t("audit.deleted_title"))
    st.caption(ctx.t("audit.deleted_caption"))
    deleted = query(deleted_records, viewer=ctx.actor)
    if deleted.empty:
        st.info(ctx.t("audit.no_deleted"))
        return
    widths = [2, 1, 4, 2, 2, 1]
    for col, title in zip(st.columns(widths), ["col_kind", "col_record", "col_label", "col_deleted_at",
                                                "col_deleted_by", "restore"], strict=True):
        col.caption(ctx.t(f"audit.{title}"))
    for row in deleted.itertuples():
        cols = st.columns(widths, vertical_alignment="center")
        cols[0].text(table_label(ctx, row.kind))
        cols[1].text(f"#{row.id}")
        cols[2].text(row.label)
        cols[3].text(f"{row.deleted_at:%Y-%m-%d %H:%M}")
        cols[4].text(row.deleted_by)
        if cols[5].button(ctx.t("audit.restore"), key=f"audit_restore_{row.kind}_{row.id}"):
            kind, record_id = row.kind, int(row.id)
            save(ctx, lambda session, kind=kind, record_id=record_id: restore(
                session=session, actor=ctx.actor, kind=kind, record_id=record_id),
                success=ctx.t("audit.restored_ok", what=table_label(ctx, kind), id=record_id))


def delete_record_action(ctx: PageContext, *, kind: str, record_id: int, grid_id: int | None,
                         version: int | None) -> None:
    """Delete, behind an "I am sure" box, for the people who may delete this record only. The
    version is the one the person was looking at, so a record changed meanwhile is not deleted
    unseen."""
    if not may_delete(ctx.actor, kind=kind, grid_id=grid_id):
        return
    what = table_label(ctx, kind)
    with st.expander(ctx.t("audit.delete_title"), icon=":material/delete:"):
        st.caption(ctx.t("audit.delete_help"))
        sure = st.checkbox(ctx.t("audit.delete_confirm", what=what, id=record_id), key=f"delete_{kind}_{record_id}_sure")
        if st.button(ctx.t("audit.delete_button"), key=f"delete_{kind}_{record_id}", disabled=not sure):
            save(ctx, lambda session: soft_delete(session=session, actor=ctx.actor, kind=kind, record_id=record_id,
                                                  expected_version=version),
                 success=ctx.t("audit.deleted_ok", what=what, id=record_id))
