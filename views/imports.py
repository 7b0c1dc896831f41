"""数据导入 — bring in the rosters committees keep in Excel or CSV (checked and previewed row by
row before anything is written), and take each kind out again in the same columns."""

import streamlit as st

from components.import_wizard import export_section, import_section
from components.page_setup import context
from gongzhi.permissions import Role

ctx = context()
st.title(ctx.t("imports.title"))
if ctx.actor is None or ctx.actor.role not in (Role.ADMIN, Role.COMMITTEE, Role.LEADER):
    st.error(ctx.t("errors.permission_denied", role=ctx.actor.role.value if ctx.actor else "-"))
    st.stop()
st.caption(ctx.t("imports.intro"))
import_tab, export_tab = st.tabs([ctx.t("imports.title"), ctx.t("imports.export")])
with import_tab:
    import_section(ctx)
with export_tab:
    export_section(ctx)
