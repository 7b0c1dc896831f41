"""The notice-board posters on screen (committee and admins): the A4 PDF of one grid or of every
grid, with its two QR codes (gongzhi.posters). Built on click, cached on the data revision."""

import streamlit as st

from components.data import query_later
from components.page_setup import PageContext
from gongzhi.config import public_url, public_url_configured
from gongzhi.escape import markdown_literal
from gongzhi.minutes import FontNotFound, find_cjk_font
from gongzhi.posters import grid_posters_pdf

Grid = tuple[int, str, str, str | None]  # id, code, name, boundary (gongzhi.queries.areas.grid_boundaries)


def poster_section(ctx: PageContext, grids: list[Grid]) -> None:
    st.caption(ctx.t("public.poster_intro", url=markdown_literal(public_url(), starts_line=False)))
    if not public_url_configured():
        st.warning(ctx.t("public.poster_local_url"))
    try:
        find_cjk_font()
    except FontNotFound as error:
        st.error(error.message(ctx.lang))
        return
    names = {grid_id: f"{code} · {name}" for grid_id, code, name, _ in grids}
    grid_id = st.selectbox(ctx.t("public.poster_grid"), list(names), format_func=names.get, key="poster_grid")
    one, every = st.columns(2)
    one.download_button(ctx.t("public.poster_download"), data=query_later(grid_posters_pdf, grid_id=grid_id, lang=ctx.lang),
                        file_name=f"poster-grid-{grid_id}.pdf", mime="application/pdf", key="poster_download_one",
                        icon=":material/qr_code_2:", on_click="ignore")
    every.download_button(ctx.t("public.poster_download_all"), data=query_later(grid_posters_pdf, lang=ctx.lang),
                          file_name="posters-all-grids.pdf", mime="application/pdf", key="poster_download_all",
                          icon=":material/picture_as_pdf:", on_click="ignore")
