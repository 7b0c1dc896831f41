"""备份与数据导出 — for admins: a database backup now, the full data archive, one person's data
(a PIPL request) and Open311 GeoReport v2 files in and out."""

import streamlit as st

from components.downloads import backup_section, full_export_section, open311_section, person_export_section
from components.page_setup import admins_only, context

ctx = context()
st.title(ctx.t("exports.nav_title"))
admins_only(ctx)
st.caption(ctx.t("exports.intro"))
backup_section(ctx)
full_export_section(ctx)
person_export_section(ctx)
open311_section(ctx)
