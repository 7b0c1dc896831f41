"""The personal-data scan used by the tests: it looks at what a person sees, the text of each cell
of a CSV or a workbook (read with openpyxl, as a spreadsheet program shows it) or each string a
page renders, never at the bytes of a file format (an XLSX stores a date-time as a serial such as
46362.19084490741, whose digits after the point look like a mobile number)."""

import csv
import io
import re
from collections.abc import Iterable

from openpyxl import load_workbook

# Any full mainland mobile number, optionally with +86 / 86, not inside a longer run of digits.
FULL_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")
# A space, hyphen or no-break space inside one string between digits, as in 138 0013 8000.
SEPARATOR_BETWEEN_DIGITS = re.compile(r"(?<=\d)[ \-\u00a0](?=\d)")


# The names folium and branca give the map's elements (`geo_json_` + 32 random hex digits): code,
# never shown, and their random digits can form an 11-digit run that looks like a mobile number.
GENERATED_ELEMENT_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")
# The ids Streamlit gives its widgets (`$$ID-` + an MD5 + `-` + the widget's key) and the SHA-256
# keys of components (the map's, and the second part of an id when the widget has no key): never
# shown, and their hex digits, like the names above, can form a run that looks like a mobile number.
WIDGET_ID_HASHES = re.compile(r"(?<=\$\$ID-)[0-9a-f]{32}(?![0-9a-f])|(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


def without_generated_ids(text: str) -> str:
    return WIDGET_ID_HASHES.sub("id", GENERATED_ELEMENT_ID.sub("id", text))


def cell_texts(data: bytes, fmt: str) -> list[str]:
    """Every cell of a CSV (UTF-8, BOM allowed) or of every sheet of an XLSX, as text; headers included."""
    if fmt == "csv":
        return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
                for cell in row if cell is not None]
    finally:
        workbook.close()


def full_mobiles(texts: Iterable[str]) -> list[str]:
    """The full mobile numbers a person reading these texts would see, each text on its own."""
    return [number for text in texts for number in FULL_MOBILE.findall(SEPARATOR_BETWEEN_DIGITS.sub("", str(text)))]


def full_mobiles_in_file(data: bytes, fmt: str) -> list[str]:
    return full_mobiles(cell_texts(data, fmt))
