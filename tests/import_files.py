"""Files and a small community for the import tests, built by the tests themselves: CSV as Chinese
Excel writes it (GBK, CRLF), UTF-8 with BOM, XLSX through openpyxl, and malicious look-alikes."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

from openpyxl import Workbook
from sqlalchemy import select

from gongzhi.db import get_engine, write_session
from gongzhi.models import Area, Event, Organisation

ROSTER_HEADER = ["姓名", "手机号码", "所属网格", "技能", "状态", "备注"]
ROSTER = [
    ["张伟", "１３８ ００１３-８０００", "一网格", "急救、维修", "在岗", "楼长"],  # full-width digits, grid by name
    ["李娜", "+86 139-0013-9000", "G02", "助老", "", ""],  # +86 with dashes, grid by code
    ["王芳", "0086 137 0013 7000", "G01", "first aid, tutoring", "paused", ""],  # labels in English
]


def make_community(url: str) -> dict[str, int]:
    """Two grids (G01 一网格, G02 二网格), a volunteer team and a past event; returns their ids."""
    with write_session(get_engine(url)) as session:
        for code, name in (("G01", "一网格"), ("G02", "二网格")):
            if session.execute(select(Area.id).where(Area.code == code)).scalar() is None:
                session.add(Area(code=code, name=name, level="grid", population=100, households=40,
                                 centroid_lat=22.5, centroid_lon=113.9))
        session.add(Organisation(name="阳光志愿服务队", kind="volunteer_team"))
        session.flush()
        grids = dict(session.execute(select(Area.code, Area.id)).all())
        session.add(Event(title="重阳节敬老活动", kind="elderly_care", grid_id=grids["G01"],
                          starts_at=datetime(2025, 10, 29, 9, 0), ends_at=datetime(2025, 10, 29, 11, 0)))
    return grids


def csv_bytes(header: list[str], rows: list[list[str]], *, encoding: str = "gbk", bom: bool = False) -> bytes:
    """A CSV as Excel saves it: CRLF line ends, every comma present; GBK on a Chinese Windows."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *rows])
    text = buffer.getvalue()
    return ("\ufeff" if bom else "").encode(encoding) + text.encode(encoding)


def xlsx_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名册"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_extra_part(workbook: bytes, name: str, content: bytes, *, replace_types: tuple[str, str] | None = None) -> bytes:
    """The workbook with one more zip entry (e.g. xl/vbaProject.bin), optionally editing
    [Content_Types].xml, as Excel writes an .xlsm."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if replace_types and item.filename == "[Content_Types].xml":
                data = data.replace(replace_types[0].encode(), replace_types[1].encode())
            target.writestr(item, data)
        target.writestr(name, content)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    """A workbook-shaped zip whose sheet expands from a few hundred KB to 300 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="x"/>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            block = b"0" * (1024 * 1024)
            for _ in range(300):
                part.write(block)
    return buffer.getvalue()


def xml_bomb_workbook(workbook: bytes) -> bytes:
    """The workbook with a billion-laughs DTD in its shared strings part."""
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol2;</t></si></sst>')
    return with_extra_part(workbook, "xl/bomb.xml", laughs)


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
