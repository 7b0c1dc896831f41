"""Reading an uploaded spreadsheet into a header and rows of text, safely: the file's real type is
told from its content (never its name), an XLSX is checked part by part before openpyxl opens it
(macros, zip bombs, XML entity bombs), and a CSV's encoding is detected, never guessed. Anything
refused raises FileRefused with a message for the user; nothing is written by reading."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath

import charset_normalizer
from defusedxml import ElementTree as SafeElementTree

from gongzhi.config import import_max_bytes
from gongzhi.errors import GongzhiError

# Encodings a user may choose when detection is not sure (what Excel writes on Chinese and
# English Windows, and on a Mac).
ENCODINGS = ("utf-8", "gb18030", "big5", "utf-16", "cp1252")
_CHINESE_ENCODINGS = {"gb18030", "gbk", "gb2312", "hz", "cp936"}
# Uncompressed limits for an XLSX: a workbook whose parts expand past these is a zip bomb, not a roster.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200  # well-formed sheet XML compresses about 10-30x
MAX_ZIP_ENTRIES = 2000
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, or an encrypted (password) workbook
_ZIP_MAGIC = b"PK\x03\x04"
_BINARY_MAGIC = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"%PDF": "PDF", b"GIF8": "GIF", b"\x1f\x8b": "gzip",
                 b"Rar!": "RAR", b"7z\xbc\xaf": "7z", b"MZ": "Windows program"}
_MACRO_CONTENT_TYPE = "macroenabled"
_WORKBOOK_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml"}


class FileRefused(GongzhiError):
    """The file as a whole cannot be imported; params explain why."""

    key = "imports.refused_generic"


@dataclass
class Sheet:
    """A table as read: the header cells and every data row as text, with the row number a
    spreadsheet program shows for it (the header is row `header_row`)."""

    file_type: str  # "csv" | "xlsx"
    encoding: str | None  # for CSV: the encoding it was read in
    headers: list[str]
    rows: list[tuple[int, list[str]]]
    header_row: int = 1
    ragged: list[tuple[int, int]] = field(default_factory=list)  # (row number, cell count) of ragged rows
    formula_cells: list[tuple[int, int]] = field(default_factory=list)  # (row number, column index)


def read_spreadsheet(data: bytes, filename: str = "", *, encoding: str | None = None) -> Sheet:
    """The first sheet of an XLSX or a CSV file. `encoding` overrides CSV encoding detection."""
    limit = import_max_bytes()
    if len(data) > limit:
        raise FileRefused("imports.refused_too_large", size_mb=f"{len(data) / 1048576:.1f}",
                          limit_mb=f"{limit / 1048576:.1f}")
    if not data.strip():
        raise FileRefused("imports.refused_empty")
    kind = sniff_type(data)
    claimed = PurePath(filename).suffix.lower().lstrip(".")
    if kind == "xlsx":
        if claimed in ("xlsm", "xltm", "xlam"):
            raise FileRefused("imports.refused_macros")
        if claimed and claimed not in ("xlsx", "xltx"):
            raise FileRefused("imports.refused_name_mismatch", name=filename, actual="XLSX")
        return _read_xlsx(data)
    if claimed in ("xlsx", "xlsm", "xls", "xltx", "ods"):
        raise FileRefused("imports.refused_not_workbook", name=filename)
    return _read_csv(data, encoding)


def sniff_type(data: bytes) -> str:
    """"xlsx" or "csv" from the bytes; anything else is refused with what it looks like."""
    if data.startswith(_OLE2_MAGIC):
        raise FileRefused("imports.refused_legacy_xls")
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"  # checked to be a real workbook in _check_workbook_zip
    for magic, name in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise FileRefused("imports.refused_binary", actual=name)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused("imports.refused_binary", actual="binary")
    return "csv"


# -- XLSX ---------------------------------------------------------------------------------------


def _check_workbook_zip(data: bytes) -> zipfile.ZipFile:
    """The zip opened after its directory says it is a macro-free OOXML workbook of sane size."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise FileRefused("imports.refused_not_workbook", name="") from error
    if len(entries) > MAX_ZIP_ENTRIES:
        raise FileRefused("imports.refused_zip_bomb")
    total = 0
    for entry in entries:
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if total > MAX_UNCOMPRESSED_BYTES or (entry.file_size > 1024 * 1024 and ratio > MAX_COMPRESSION_RATIO):
            raise FileRefused("imports.refused_zip_bomb")
    names = {entry.filename for entry in entries}
    if any(PurePath(name).name.lower() == "vbaproject.bin" for name in names):
        raise FileRefused("imports.refused_macros")
    if "[Content_Types].xml" not in names:
        raise FileRefused("imports.refused_not_workbook", name="")
    content_types = _parse_xml(archive, "[Content_Types].xml")
    declared = {element.get("ContentType", "").lower() for element in content_types.iter()}
    if any(_MACRO_CONTENT_TYPE in declared_type for declared_type in declared):
        raise FileRefused("imports.refused_macros")
    if not declared & _WORKBOOK_TYPES:
        raise FileRefused("imports.refused_not_workbook", name="")
    # Every XML part's prolog goes through defusedxml first: openpyxl must never meet a DTD or an
    # entity declaration (they can only come before the root element, so the rest is not parsed).
    for name in names:
        if name.lower().endswith((".xml", ".rels")):
            _check_prolog(archive, name)
    return archive


class _RootReached(Exception):
    pass


class _StopAtRoot:
    def start(self, tag, attributes):
        raise _RootReached

    def close(self):
        return None


def _check_prolog(archive: zipfile.ZipFile, name: str) -> None:
    parser = SafeElementTree.DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=True)
    try:
        with archive.open(name) as part:
            while chunk := part.read(65536):
                parser.feed(chunk)
            parser.close()
    except _RootReached:
        return
    except Exception as error:  # defusedxml's DTD/entity errors, malformed XML, bad zip data
        if error.__class__.__module__.startswith("defusedxml"):
            raise FileRefused("imports.refused_xml_bomb") from error
        raise FileRefused("imports.refused_not_workbook", name="") from error


def _parse_xml(archive: zipfile.ZipFile, name: str):
    _check_prolog(archive, name)
    try:
        with archive.open(name) as part:
            return SafeElementTree.parse(part, forbid_dtd=True)
    except Exception as error:
        raise FileRefused("imports.refused_not_workbook", name="") from error


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute) != (0, 0) else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # a phone typed as a number: 13800138000.0 -> 13800138000
    return str(value).strip()


def _read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    _check_workbook_zip(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds on a broken workbook
        raise FileRefused("imports.refused_not_workbook", name="") from error
    try:
        sheets = [sheet for sheet in workbook.worksheets if getattr(sheet, "sheet_state", "visible") == "visible"]
        if not sheets:
            raise FileRefused("imports.refused_no_header")
        raw_rows = []
        formula_cells = []
        for number, row in enumerate(sheets[0].iter_rows(values_only=True), start=1):
            cells = [_cell_text(value) for value in row]
            for index, value in enumerate(row):
                if isinstance(value, str) and value.startswith("="):
                    formula_cells.append((number, index))
            raw_rows.append((number, cells))
    finally:
        workbook.close()
    sheet = _table("xlsx", None, raw_rows)
    sheet.formula_cells = formula_cells
    return sheet


# -- CSV ----------------------------------------------------------------------------------------


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM) when the bytes are valid UTF-8; GB18030 when charset-normalizer
    finds a Chinese encoding among its best equally good answers; otherwise refused, so that the
    user chooses rather than the import storing mojibake."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    results = list(charset_normalizer.from_bytes(data))
    if results:
        best_chaos = min(result.chaos for result in results)
        # Short files leave ties (GBK bytes also decode as Korean cp949): among the best, a
        # Chinese encoding wins, since the files come from Chinese committees; the page shows
        # the detected encoding and the decoded text so the user can still choose another.
        tied = [result.encoding.lower() for result in results if result.chaos <= best_chaos + 0.02]
        if best_chaos < 0.2 and any(name in _CHINESE_ENCODINGS for name in tied):
            try:
                data.decode("gb18030")
            except UnicodeDecodeError:
                pass
            else:
                return "gb18030"
    raise FileRefused("imports.refused_encoding_unknown")


def _read_csv(data: bytes, encoding: str | None) -> Sheet:
    encoding = encoding or detect_encoding(data)
    if encoding.replace("_", "-").lower() in ("gbk", "gb2312", "cp936"):
        encoding = "gb18030"  # the superset: characters GBK lacks (e.g. rare names) still decode
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise FileRefused("imports.refused_encoding_wrong", encoding=encoding) from error
    text = text.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise FileRefused("imports.refused_bad_csv", reason=str(error)) from error
    return _table("csv", encoding, [(number, [cell.strip() for cell in row]) for number, row in enumerate(rows, 1)])


def _table(file_type: str, encoding: str | None, raw_rows: list[tuple[int, list[str]]]) -> Sheet:
    """Header = the first row with any text; later rows trimmed of trailing empty cells, blank
    rows dropped, rows longer or shorter than the header noted as ragged."""
    rows = [(number, len(cells), _trim(cells)) for number, cells in raw_rows]
    rows = [row for row in rows if row[2]]
    if not rows:
        raise FileRefused("imports.refused_no_header")
    header_row, _, headers = rows[0]
    headers = [unicodedata.normalize("NFC", header) for header in headers]
    if not all(headers) or len(set(headers)) != len(headers):
        raise FileRefused("imports.refused_bad_header")
    sheet = Sheet(file_type=file_type, encoding=encoding, headers=headers, rows=[], header_row=header_row)
    width = len(headers)
    for number, raw_length, cells in rows[1:]:
        # Text beyond the header's columns is ragged in both formats; a CSV row must also have
        # every comma (Excel writes them), while an XLSX row simply ends at its last filled cell.
        if len(cells) > width or (file_type == "csv" and raw_length < width):
            sheet.ragged.append((number, raw_length))
        sheet.rows.append((number, (cells + [""] * width)[:width]))
    return sheet


def _trim(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]
