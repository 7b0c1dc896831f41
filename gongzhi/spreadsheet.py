"""Writing tables as the files committees open: CSV in UTF-8 with a BOM (so Excel on a Chinese
Windows shows Chinese, not mojibake) and XLSX through openpyxl. Every text cell that a spreadsheet
would take for a formula is neutralised first (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook

FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A leading = + - @ (and tab / carriage return, which some spreadsheets skip before them) starts a
# formula; a quote in front makes the cell plain text and is visible, so nothing is hidden.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A cell value that no spreadsheet evaluates: text starting like a formula gets a leading
    apostrophe; numbers, dates and None pass unchanged (a negative number is not a formula)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(neutralise(value))


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The table as CSV bytes: UTF-8 with BOM, CRLF line ends, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell_text(name) for name in header])
    for row in rows:
        writer.writerow([_cell_text(value) for value in row])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet_title: str = "Sheet1") -> bytes:
    """The table as an XLSX workbook with one sheet; text cells neutralised, numbers and dates kept
    as numbers and dates so they sort and sum in Excel."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31] or "Sheet1")  # Excel's limit on sheet names
    sheet.append([neutralise(name) for name in header])
    for row in rows:
        sheet.append([neutralise(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_file(fmt: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet_title: str = "Sheet1") -> bytes:
    """One entry point for both formats: `fmt` is "csv" or "xlsx"."""
    if fmt == "csv":
        return to_csv(header, rows)
    if fmt == "xlsx":
        return to_xlsx(header, rows, sheet_title=sheet_title)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
