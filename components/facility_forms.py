"""Adding, editing and removing the public facilities of the map's facilities layer (a tab of
the boundaries page). Only the grids the user may write in are offered; every save goes
through gongzhi.crud.facilities, which checks the values and the permission again."""

import pandas as pd
import streamlit as st

from components.data import query
from components.forms import save
from components.page_setup import PageContext
from gongzhi.crud.facilities import NAME_MAX, FacilityInput, create_facility, remove_facility, update_facility
from gongzhi.domain import FacilityKind
from gongzhi.geo import centroid
from gongzhi.permissions import may_write
from gongzhi.queries.facilities import facilities, facility_version

PREFIX = "facility"
NEW = 0  # the "new facility" choice


def facility_grids(ctx: PageContext, grids: list[tuple]) -> list[tuple]:
    """(id, code, name, boundary) of the grids whose facilities the user may manage (may_write)."""
    return [grid for grid in grids if may_write(ctx.actor, grid[0])]


def facilities_section(ctx: PageContext, grids: list[tuple]) -> None:
    st.caption(ctx.t("facilities.intro"))
    mine = facility_grids(ctx, grids)
    if not mine:
        st.info(ctx.t("facilities.none_writable"))
        return
    names = {grid[0]: f"{grid[2]} ({grid[1]})" for grid in mine}
    listed = query(facilities)
    listed = listed[listed["grid_id"].isin(list(names))].reset_index(drop=True)
    choices = {NEW: ctx.t("facilities.new")} | {
        int(row.id): f"{row.name} · {ctx.label('facility_kind', row.kind)} · {names[int(row.grid_id)]}"
        for row in listed.itertuples(index=False)}
    chosen = st.selectbox(ctx.t("facilities.choose"), list(choices), format_func=choices.get, key=f"{PREFIX}_choice")
    current = None if chosen == NEW else listed[listed["id"] == chosen].iloc[0]
    _facility_form(ctx, mine, names, current)
    if not listed.empty:
        st.markdown(f"**{ctx.t('facilities.table_title')}**")
        table = listed.assign(kind=[ctx.label("facility_kind", kind) for kind in listed["kind"]],
                              grid=[names[int(grid_id)] for grid_id in listed["grid_id"]])
        column = st.column_config
        st.dataframe(table, hide_index=True, width="stretch", column_order=["name", "kind", "grid", "lon", "lat"],
                     column_config={"name": column.TextColumn(ctx.t("facilities.field_name")),
                                    "kind": column.TextColumn(ctx.t("facilities.field_kind")),
                                    "grid": column.TextColumn(ctx.t("facilities.field_grid")),
                                    "lon": column.NumberColumn(ctx.t("facilities.field_lon"), format="%.6f"),
                                    "lat": column.NumberColumn(ctx.t("facilities.field_lat"), format="%.6f")})


def _facility_form(ctx: PageContext, grids: list[tuple], names: dict[int, str], current: pd.Series | None) -> None:
    facility_id = None if current is None else int(current["id"])
    prefix = f"{PREFIX}_{facility_id or 'new'}"
    version_key = f"{prefix}_version"
    if facility_id is not None and version_key not in st.session_state:
        # The version the user started from: someone else's save in the meantime is refused.
        st.session_state[version_key] = query(facility_version, facility_id=facility_id)
    grid_id = st.selectbox(ctx.t("facilities.field_grid"), list(names), format_func=names.get, key=f"{prefix}_grid",
                           index=list(names).index(int(current["grid_id"])) if current is not None else 0)
    # A new facility starts at the middle of its grid, so only a small correction is needed.
    middle = centroid(next(grid[3] for grid in grids if grid[0] == grid_id)) or (None, None)
    with st.form(prefix, border=True):
        kinds = [kind.value for kind in FacilityKind]
        kind = st.selectbox(ctx.t("facilities.field_kind"), kinds, key=f"{prefix}_kind",
                            index=kinds.index(current["kind"]) if current is not None else 0,
                            format_func=lambda code: ctx.label("facility_kind", code))
        name = st.text_input(ctx.t("facilities.field_name"), value="" if current is None else current["name"],
                             max_chars=NAME_MAX, key=f"{prefix}_name")
        left, right = st.columns(2)
        lon = left.number_input(ctx.t("facilities.field_lon"), min_value=-180.0, max_value=180.0, format="%.6f",
                                value=float(current["lon"]) if current is not None else middle[0],
                                key=f"{prefix}_lon", step=0.0001)
        lat = right.number_input(ctx.t("facilities.field_lat"), min_value=-90.0, max_value=90.0, format="%.6f",
                                 value=float(current["lat"]) if current is not None else middle[1],
                                 key=f"{prefix}_lat", step=0.0001)
        submitted = st.form_submit_button(ctx.t("facilities.create" if current is None else "facilities.save"),
                                          type="primary", key=f"{prefix}_submit")
    values = {"name": name, "kind": kind, "grid_id": grid_id, "lon": lon, "lat": lat}
    if submitted and current is None:
        save(ctx, lambda session: create_facility(session=session, actor=ctx.actor, data=FacilityInput(**values)),
             success=ctx.t("facilities.created", name=name.strip()), form_key=prefix, submission=values)
    elif submitted:
        def update(session):
            facility = update_facility(session=session, actor=ctx.actor, facility_id=facility_id,
                                       data=FacilityInput(**values), expected_version=st.session_state[version_key])
            st.session_state.pop(version_key, None)
            return facility

        save(ctx, update, success=ctx.t("facilities.updated", name=name.strip()))
    if current is not None:
        confirmed = st.checkbox(ctx.t("facilities.confirm_remove", name=current["name"]), key=f"{prefix}_confirm")
        if st.button(ctx.t("facilities.remove"), key=f"{prefix}_remove", disabled=not confirmed):
            def remove(session):
                facility = remove_facility(session=session, actor=ctx.actor, facility_id=facility_id,
                                           expected_version=st.session_state[version_key])
                st.session_state.pop(version_key, None)
                st.session_state.pop(f"{PREFIX}_choice", None)
                return facility

            save(ctx, remove, success=ctx.t("facilities.removed", name=current["name"]))
