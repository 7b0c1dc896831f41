"""The notice-board poster: an A4 page per grid whose two QR codes, read back from the PDF's images
with zxing-cpp, hold the absolute addresses of the grid's report page and public page on
GONGZHI_PUBLIC_URL, and whose text (pypdf) names the grid, its community and its leader."""

import io
import re

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from gongzhi.db import get_engine, read_session
from gongzhi.i18n import translate_plain
from gongzhi.minutes import FontNotFound, find_cjk_font
from gongzhi.posters import grid_posters_pdf
from tests.conftest import Sql
from tests.personal_data import full_mobiles

BASE = "https://gongzhi.example.org/taoyuanju"
A4_POINTS = (595.28, 841.89)


@pytest.fixture
def demo(demo_url, monkeypatch):
    try:
        find_cjk_font()
    except FontNotFound:
        pytest.skip("no Chinese font installed (fonts-noto-cjk)")
    monkeypatch.setenv("GONGZHI_PUBLIC_URL", BASE + "/")  # a trailing slash is no double slash
    return demo_url, Sql(demo_url)


def pages_of(data: bytes) -> list[tuple[str, list[str], tuple[float, float]]]:
    """(text without spaces, QR codes read back, page size) of every page."""
    reader = PdfReader(io.BytesIO(data))
    found = []
    for page in reader.pages:
        codes = [barcode.text for image in page.images
                 for barcode in zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)))
                 if barcode.format == zxingcpp.BarcodeFormat.QRCode]
        found.append((re.sub(r"[\s\x00]+", "", page.extract_text()), codes,
                      (float(page.mediabox.width), float(page.mediabox.height))))
    return found


def grids(sql: Sql):
    return sql.execute("SELECT a.id, a.name, c.name AS community, p.name AS leader FROM area a "
                       "LEFT JOIN area c ON c.id = a.parent_id LEFT JOIN person p ON p.id = a.leader_id "
                       "WHERE a.level = 'grid' AND a.deleted_at IS NULL ORDER BY a.code").all()


def test_one_grids_poster_holds_both_addresses_and_names_the_grid_and_its_leader(demo):
    url, sql = demo
    grid = grids(sql)[0]
    with read_session(get_engine(url)) as session:
        data = grid_posters_pdf(session=session, grid_id=grid.id)
    (text, codes, size), = pages_of(data)
    assert sorted(codes) == sorted([f"{BASE}/report/{grid.id}", f"{BASE}/grid/{grid.id}"])
    assert size == pytest.approx(A4_POINTS, abs=0.5)
    assert grid.leader and grid.name in text and grid.leader in text and grid.community in text
    for key in ("poster_report_text", "poster_public_text"):
        assert re.sub(r"\s+", "", translate_plain("zh-CN", f"public.{key}")) in text
    assert not full_mobiles([text])  # the leader's name, never a phone number


def test_all_grids_at_once_one_page_each_in_english_too(demo):
    url, sql = demo
    every = grids(sql)
    with read_session(get_engine(url)) as session:
        data = grid_posters_pdf(session=session, lang="en")
        assert grid_posters_pdf(session=session, grid_id=999999) is None
    pages = pages_of(data)
    assert len(pages) == len(every) > 1
    for grid, (text, codes, _) in zip(every, pages, strict=True):
        assert sorted(codes) == sorted([f"{BASE}/report/{grid.id}", f"{BASE}/grid/{grid.id}"])
        assert re.sub(r"\s+", "", grid.name) in text and (grid.leader or "") in text
        assert re.sub(r"\s+", "", translate_plain("en", "public.poster_public_heading")) in text


def test_without_residents_reports_only_the_public_pages_code(demo, monkeypatch):
    url, sql = demo
    monkeypatch.setenv("GONGZHI_RESIDENT_REPORTS", "0")
    grid = grids(sql)[0]
    with read_session(get_engine(url)) as session:
        (text, codes, _), = pages_of(grid_posters_pdf(session=session, grid_id=grid.id))
    assert codes == [f"{BASE}/grid/{grid.id}"]
    assert re.sub(r"\s+", "", translate_plain("zh-CN", "public.poster_report_text")) not in text
