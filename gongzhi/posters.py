"""The notice-board poster (网格公示牌): an A4 page per grid with the grid's name, its leader's name
and two QR codes, one to the resident report page (`/report/{grid_id}`; left out where residents'
own reports are switched off) and one to the grid's public page (`/grid/{grid_id}`), each with one
sentence on what it is for. The addresses are
absolute, built on GONGZHI_PUBLIC_URL (gongzhi.config.public_url), so that a phone anywhere can
open them. QR codes by the `qrcode` library, the PDF by fpdf2 with the Chinese font of the minutes
(gongzhi.minutes.find_cjk_font). No Streamlit here."""

from dataclasses import dataclass

import pandas as pd
import qrcode
from fpdf import FPDF
from qrcode.constants import ERROR_CORRECT_M
from sqlmodel import Session

from gongzhi.config import public_url, resident_reports
from gongzhi.i18n import translate_plain
from gongzhi.minutes import FONT_FAMILY, find_cjk_font
from gongzhi.public_web import GRID_PATH, REPORT_PATH
from gongzhi.queries.areas import list_grids
from gongzhi.revisions import reads

QR_MM = 80  # printed size of each code: read from a metre away by a phone
MARGIN_MM = 16


@dataclass(frozen=True)
class PosterGrid:
    grid_id: int
    name: str
    community: str | None
    leader: str | None


def report_url(grid_id: int, base: str | None = None) -> str:
    return f"{base or public_url()}{REPORT_PATH}/{grid_id}"


def public_page_url(grid_id: int, base: str | None = None) -> str:
    return f"{base or public_url()}{GRID_PATH}/{grid_id}"


def poster_grids(*, session: Session, grid_id: int | None = None) -> list[PosterGrid]:
    """The grids to print (one, or all in code order), with their leader's name (no phone)."""
    grids = list_grids(session=session)
    if grid_id is not None:
        grids = grids[grids["id"] == grid_id]
    return [PosterGrid(grid_id=int(row.id), name=str(row.name),
                       community=None if pd.isna(row.community) else str(row.community),
                       leader=None if pd.isna(row.leader) else str(row.leader))
            for row in grids.itertuples()]


def qr_image(url: str):
    """A QR code of `url` as a black-on-white image (medium error correction: survives a smudge)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def _code_block(pdf: FPDF, x: float, y: float, width: float, heading: str, sentence: str, url: str) -> None:
    pdf.set_xy(x, y)
    pdf.set_font(FONT_FAMILY, size=20)
    pdf.multi_cell(width, 10, heading, align="C", new_x="LEFT", new_y="NEXT")
    pdf.image(qr_image(url), x=x + (width - QR_MM) / 2, y=pdf.get_y() + 2, w=QR_MM, h=QR_MM)
    pdf.set_xy(x, pdf.get_y() + QR_MM + 4)
    pdf.set_font(FONT_FAMILY, size=12)
    pdf.multi_cell(width, 6.5, sentence, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, size=8.5)
    pdf.set_text_color(80, 80, 80)
    pdf.multi_cell(width, 4.5, url, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)


def _page(pdf: FPDF, lang: str, grid: PosterGrid, base: str) -> None:
    def t(key: str, **params) -> str:
        return translate_plain(lang, f"public.{key}", **params)

    pdf.add_page()
    pdf.set_fill_color(179, 38, 30)
    pdf.rect(0, 0, pdf.w, 12, style="F")
    pdf.set_y(22)
    pdf.set_font(FONT_FAMILY, size=30)
    pdf.multi_cell(pdf.epw, 14, t("poster_title", grid=grid.name), align="C", new_x="LMARGIN", new_y="NEXT")
    if grid.community:
        pdf.set_font(FONT_FAMILY, size=15)
        pdf.multi_cell(pdf.epw, 9, grid.community, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT_FAMILY, size=17)
    leader = t("poster_leader", name=grid.leader) if grid.leader else t("poster_no_leader")
    pdf.multi_cell(pdf.epw, 10, leader, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(14)
    top = pdf.get_y()
    column = (pdf.epw - 10) / 2
    codes = [(t("poster_public_heading"), t("poster_public_text"), public_page_url(grid.grid_id, base))]
    if resident_reports():  # residents' own reports are on (GONGZHI_RESIDENT_REPORTS): the report code first
        codes.insert(0, (t("poster_report_heading"), t("poster_report_text"), report_url(grid.grid_id, base)))
    left = pdf.l_margin + (pdf.epw - column * len(codes) - 10 * (len(codes) - 1)) / 2
    for index, (heading, sentence, url) in enumerate(codes):
        _code_block(pdf, left + index * (column + 10), top, column, heading, sentence, url)
    pdf.set_y(pdf.h - MARGIN_MM - 6)
    pdf.set_font(FONT_FAMILY, size=10)
    pdf.set_text_color(80, 80, 80)
    pdf.cell(pdf.epw, 6, t("poster_footer", community=grid.community or ""), align="C")
    pdf.set_text_color(0, 0, 0)


def posters_pdf(grids: list[PosterGrid], lang: str = "zh-CN", *, base: str | None = None) -> bytes:
    """One A4 page per grid, the font embedded (subset) so it prints anywhere."""
    base = (base or public_url()).rstrip("/")
    font_path, face = find_cjk_font()
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(False)
    pdf.add_font(FONT_FAMILY, fname=str(font_path), collection_font_number=face)
    pdf.set_lang(lang)
    pdf.set_creator("Gongzhi")
    pdf.set_title(translate_plain(lang, "public.poster_section_title"))
    for grid in grids:
        _page(pdf, lang, grid, base)
    return bytes(pdf.output())


@reads(list_grids)
def grid_posters_pdf(*, session: Session, grid_id: int | None = None, lang: str = "zh-CN") -> bytes | None:
    """The poster of one grid, or of every grid when grid_id is None; None when there is no such
    grid. In the signature of a query, so that a page can cache it on the data revision."""
    grids = poster_grids(session=session, grid_id=grid_id)
    return posters_pdf(grids, lang) if grids else None
