"""网格边界 — bring grid boundaries in from a GeoJSON file (checked and previewed before saving),
draw one grid's boundary on the map, keep the facilities of the map's facilities layer, and (for
the committee and admins) print the notice-board posters with the grids' QR codes."""

import streamlit as st

from components.boundary_editor import draw_section, import_section
from components.data import query
from components.facility_forms import facilities_section
from components.forms import show_flash
from components.page_setup import context
from components.poster_downloads import poster_section
from gongzhi.permissions import may_print_posters
from gongzhi.queries.areas import grid_boundaries

ctx = context()
st.title(ctx.t("nav.boundaries"))
show_flash()
if ctx.empty:
    st.info(ctx.t("common.empty_database"))
    st.stop()

grids = query(grid_boundaries)
if not grids:
    st.info(ctx.t("map.no_grids"))
    st.stop()

posters = may_print_posters(ctx.actor)
tabs = st.tabs([ctx.t("boundaries.tab_import"), ctx.t("boundaries.tab_draw"), ctx.t("facilities.tab"),
                *([ctx.t("public.poster_section_title")] if posters else [])])
import_tab, draw_tab, facilities_tab = tabs[:3]
with import_tab:
    import_section(ctx, grids)
with draw_tab:
    draw_section(ctx, grids)
with facilities_tab:
    facilities_section(ctx, grids)
if posters:
    with tabs[3]:
        poster_section(ctx, grids)
