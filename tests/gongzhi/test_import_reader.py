"""Reading uploads: real type by content, encodings detected (never silently wrong), and every
kind of unsafe or broken file refused with its own message."""

import pytest

from gongzhi.importing import FileRefused, read_spreadsheet
from gongzhi.importing.reader import detect_encoding
from tests.import_files import (
    PNG_BYTES,
    ROSTER,
    ROSTER_HEADER,
    csv_bytes,
    with_extra_part,
    xlsx_bytes,
    xml_bomb_workbook,
    zip_bomb,
)


def _refused(data: bytes, name: str, **kwargs) -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        read_spreadsheet(data, name, **kwargs)
    return caught.value


def test_gbk_csv_from_chinese_excel_reads_as_chinese():
    sheet = read_spreadsheet(csv_bytes(ROSTER_HEADER, ROSTER, encoding="gbk"), "名册.csv")
    assert sheet.file_type == "csv" and sheet.encoding == "gb18030"
    assert sheet.headers == ROSTER_HEADER
    assert [cells for _, cells in sheet.rows] == ROSTER
    assert [number for number, _ in sheet.rows] == [2, 3, 4]  # as Excel numbers the rows


def test_a_single_short_gbk_line_is_still_read_as_chinese_not_korean():
    # GBK bytes of a short file decode as cp949 just as well; the Chinese reading must win.
    data = "姓名,所属网格\r\n张三,一网格\r\n".encode("gbk")
    assert detect_encoding(data) == "gb18030"
    assert read_spreadsheet(data, "a.csv").rows == [(2, ["张三", "一网格"])]


def test_utf8_with_and_without_bom():
    with_bom = read_spreadsheet(csv_bytes(ROSTER_HEADER, ROSTER, encoding="utf-8", bom=True), "a.csv")
    without = read_spreadsheet(csv_bytes(ROSTER_HEADER, ROSTER, encoding="utf-8"), "a.csv")
    assert with_bom.encoding == "utf-8-sig" and without.encoding == "utf-8"
    assert with_bom.headers == without.headers == ROSTER_HEADER  # the BOM is not part of the first header
    assert with_bom.rows == without.rows


def test_undetectable_encoding_is_refused_and_a_chosen_one_is_used():
    latin = "Name,Grid\r\nJosé Müller,G01\r\nZoë,G02\r\n".encode("cp1252")
    refused = _refused(latin, "a.csv")
    assert refused.key == "imports.refused_encoding_unknown"
    assert "choose the encoding" in refused.message("en")
    wrong = _refused(ROSTER[0][0].encode("gbk") + b"\xff\xff", "a.csv", encoding="utf-8")
    assert wrong.key == "imports.refused_encoding_wrong"
    sheet = read_spreadsheet(csv_bytes(ROSTER_HEADER, ROSTER, encoding="gbk"), "a.csv", encoding="gb18030")
    assert sheet.rows[0][1][0] == "张伟"


def test_xlsx_with_chinese_headers_and_numbers_as_excel_stores_them():
    data = xlsx_bytes(ROSTER_HEADER, [["张伟", 13800138000, "G01", "急救", "在岗", None]])
    sheet = read_spreadsheet(data, "名册.xlsx")
    assert sheet.file_type == "xlsx" and sheet.headers == ROSTER_HEADER
    assert sheet.rows == [(2, ["张伟", "13800138000", "G01", "急救", "在岗", ""])]


def test_ragged_csv_rows_are_noted_with_their_cell_counts():
    data = "姓名,手机号\r\n张三,13800138000,多余\r\n李四\r\n王五,\r\n".encode()
    sheet = read_spreadsheet(data, "a.csv")
    assert sheet.ragged == [(2, 3), (3, 1)]  # 王五's empty phone keeps its comma: not ragged


def test_a_renamed_png_or_text_file_is_not_taken_for_a_workbook():
    assert _refused(PNG_BYTES, "名册.xlsx").key == "imports.refused_binary"
    assert "PNG" in _refused(PNG_BYTES, "名册.csv").message("en")
    text = _refused(csv_bytes(ROSTER_HEADER, ROSTER), "名册.xlsx")
    assert text.key == "imports.refused_not_workbook"
    assert _refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "old.xls").key == "imports.refused_legacy_xls"


def test_a_zip_that_is_not_a_workbook_is_refused():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.txt", "hello")
    assert _refused(buffer.getvalue(), "a.xlsx").key == "imports.refused_not_workbook"


def test_macro_workbooks_are_refused_by_content_and_by_name():
    workbook = xlsx_bytes(ROSTER_HEADER, ROSTER)
    with_vba = with_extra_part(workbook, "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")
    assert _refused(with_vba, "名册.xlsx").key == "imports.refused_macros"
    macro_type = with_extra_part(workbook, "docProps/extra.txt", b"", replace_types=(
        "spreadsheetml.sheet.main+xml", "spreadsheetml.sheet.macroEnabled.main+xml"))
    assert _refused(macro_type, "名册.xlsx").key == "imports.refused_macros"
    assert _refused(workbook, "名册.xlsm").key == "imports.refused_macros"


def test_zip_and_xml_bombs_are_refused_before_openpyxl_opens_them(monkeypatch):
    import openpyxl

    def never(*args, **kwargs):
        raise AssertionError("openpyxl must not open a refused file")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    assert _refused(zip_bomb(), "bomb.xlsx").key == "imports.refused_zip_bomb"
    assert _refused(xml_bomb_workbook(xlsx_bytes(ROSTER_HEADER, ROSTER)), "a.xlsx").key == "imports.refused_xml_bomb"


def test_files_over_the_configured_size_are_refused(monkeypatch):
    data = csv_bytes(ROSTER_HEADER, ROSTER * 2000, encoding="utf-8")
    monkeypatch.setenv("GONGZHI_IMPORT_MAX_MB", "0.1")
    refused = _refused(data, "a.csv")
    assert refused.key == "imports.refused_too_large" and "0.1 MB" in refused.message("en")
    monkeypatch.setenv("GONGZHI_IMPORT_MAX_MB", "5")
    assert len(read_spreadsheet(data, "a.csv").rows) == 6000


def test_empty_and_headerless_files_are_refused():
    assert _refused(b"  \r\n", "a.csv").key == "imports.refused_empty"
    assert _refused("姓名,,姓名\r\n".encode(), "a.csv").key == "imports.refused_bad_header"


def test_xlsx_formula_cells_are_noted():
    data = xlsx_bytes(ROSTER_HEADER, [["=HYPERLINK(\"http://evil\",\"点我\")", "13800138000", "G01", "", "", ""]])
    sheet = read_spreadsheet(data, "a.xlsx")
    assert sheet.formula_cells == [(2, 0)]
