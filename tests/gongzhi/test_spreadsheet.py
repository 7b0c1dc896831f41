import csv
import io
from datetime import date

import openpyxl
import pytest

from gongzhi.spreadsheet import neutralise, to_csv, to_file, to_xlsx

INJECTIONS = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("value", INJECTIONS)
def test_formula_like_text_is_prefixed_with_an_apostrophe(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["张三", "138****8000", "", "a=b", 5, -3, 2.5, None, date(2026, 1, 2)])
def test_other_values_are_unchanged(value):
    assert neutralise(value) == value


def test_csv_has_a_bom_and_reads_back_with_chinese_and_neutralised_cells():
    data = to_csv(["姓名", "备注"], [["张三", "=1+1"], ["李四", None], ["王五", date(2026, 3, 4)]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["姓名", "备注"], ["张三", "'=1+1"], ["李四", ""], ["王五", "2026-03-04"]]


def test_xlsx_is_a_workbook_with_typed_cells_and_no_formula():
    data = to_xlsx(["姓名", "时长", "备注"], [["张三", 2.5, "@cmd"], ["李四", -1, "-x"]], sheet_title="志愿者")
    sheet = openpyxl.load_workbook(io.BytesIO(data))["志愿者"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values == [["姓名", "时长", "备注"], ["张三", 2.5, "'@cmd"], ["李四", -1, "'-x"]]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="csv, xlsx"):
        to_file("ods", ["a"], [])
