"""What each kind of import reads: its columns, the header names committees actually use for them
(Chinese and English), and matching a file's headers to them, with the user's own mappings for
unknown headers remembered per kind in AppSetting."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from gongzhi.models import AppSetting
from gongzhi.revisions import reads

KINDS = ("volunteers", "people", "population", "events", "attendance", "issues")


@dataclass(frozen=True)
class Column:
    key: str  # the field's code; its label is imports.field_<key>
    required: bool
    zh: tuple[str, ...]  # header names in use, the first is the one exports write
    en: tuple[str, ...]


_NAME = Column("name", True, ("姓名", "名字", "居民姓名", "志愿者姓名", "参与人", "参与人姓名"), ("name", "full name"))
_PHONE = Column("phone", False, ("手机号", "手机号码", "联系电话", "电话", "手机", "联系方式", "电话号码"),
                ("phone", "mobile", "telephone", "phone number", "mobile phone", "tel"))
_GRID = Column("grid", True, ("所属网格", "网格", "网格编号", "网格编码", "网格名称"), ("grid", "grid code", "grid name"))
_OPTIONAL_GRID = Column("grid", False, _GRID.zh, _GRID.en)

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "volunteers": (
        _NAME, _PHONE, _GRID,
        Column("skills", False, ("技能", "特长", "技能特长", "专长", "服务技能"), ("skills", "skill", "specialities")),
        Column("status", False, ("状态", "志愿者状态"), ("status",)),
        Column("joined_on", False, ("加入日期", "入队日期", "注册日期", "加入时间"), ("joined on", "joined", "join date")),
        Column("note", False, ("备注", "说明"), ("note", "notes", "remark", "remarks")),
    ),
    "people": (
        _NAME, _PHONE, _OPTIONAL_GRID,
        Column("birth_year", False, ("出生年份", "出生年"), ("birth year", "year of birth")),
    ),
    "population": (
        _GRID,
        Column("population", True, ("人口", "人口数", "常住人口", "人数"), ("population", "residents")),
        Column("households", True, ("户数", "住户数", "户籍数"), ("households", "household count")),
    ),
    "events": (
        Column("title", True, ("活动名称", "活动", "活动主题", "标题", "名称"), ("title", "event", "event title")),
        Column("kind", True, ("活动类型", "类型", "类别"), ("kind", "type", "event kind")),
        _OPTIONAL_GRID,
        Column("starts_at", True, ("开始时间", "活动时间", "时间"), ("starts at", "start", "start time")),
        Column("ends_at", True, ("结束时间",), ("ends at", "end", "end time")),
        Column("place", False, ("地点", "活动地点"), ("place", "location", "venue")),
        Column("host", False, ("主办单位", "主办方", "主办组织"), ("host", "organiser", "organizer")),
        Column("capacity", False, ("名额", "人数上限", "容量"), ("capacity",)),
        Column("headcount", False, ("匿名人数", "现场人数"), ("headcount", "anonymous headcount")),
        Column("description", False, ("活动内容", "说明", "描述", "简介"), ("description", "details")),
    ),
    "attendance": (
        Column("event", True, ("活动名称", "活动", "活动主题"), ("event", "event title")),
        Column("event_starts_at", False, ("活动时间", "开始时间", "活动开始时间"), ("event start", "starts at")),
        _NAME, _PHONE,
    ),
    "issues": (
        Column("title", True, ("标题", "事项", "诉求", "问题", "事项名称"), ("title", "subject", "issue")),
        Column("category", True, ("类别", "分类", "问题类别", "事项类别"), ("category",)),
        _GRID,
        Column("description", False, ("描述", "详情", "内容", "问题描述"), ("description", "details")),
        Column("reported_at", False, ("上报时间", "反映时间", "提出时间", "日期"), ("reported at", "reported", "date")),
        Column("lat", False, ("纬度",), ("lat", "latitude")),
        Column("lon", False, ("经度",), ("lon", "lng", "longitude")),
    ),
}

# Columns that are never read, whatever the mapping: national ID numbers are not stored.
NEVER_READ = ("身份证", "身份证号", "身份证号码", "证件号", "证件号码", "公民身份号码", "id number", "id card",
              "national id", "id no")

_DECORATION = re.compile(r"[\s*＊:：]|\(.*?\)")  # spaces, required-markers, notes like (必填)


def normalise_header(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).strip().lower()
    return _DECORATION.sub("", text).replace("_", "")


def columns(kind: str) -> tuple[Column, ...]:
    return SCHEMAS[kind]


def column(kind: str, key: str) -> Column:
    return next(col for col in SCHEMAS[kind] if col.key == key)


def export_header(kind: str, lang: str) -> list[str]:
    """The header an export writes: the first, most common name of each column."""
    return [(col.zh if lang == "zh-CN" else col.en)[0] for col in SCHEMAS[kind]]


def is_never_read(header: str) -> bool:
    name = normalise_header(header)
    return any(normalise_header(word) in name for word in NEVER_READ)


def match_headers(kind: str, headers: list[str], remembered: dict[str, str] | None = None) -> dict[str, str | None]:
    """header -> column key (None: not imported). Known names first, then what the user mapped
    before; each column is taken by one header at most (the first that names it)."""
    remembered = remembered or {}
    aliases = {}
    for col in SCHEMAS[kind]:
        for name in (*col.zh, *col.en, col.key):
            aliases.setdefault(normalise_header(name), col.key)
    mapping: dict[str, str | None] = {}
    taken: set[str] = set()
    for header in headers:
        key = None if is_never_read(header) else aliases.get(normalise_header(header))
        if key is None and not is_never_read(header):
            key = remembered.get(normalise_header(header))
        if key is not None and key in taken:
            key = None
        if key is not None:
            taken.add(key)
        mapping[header] = key
    return mapping


def missing_required(kind: str, mapping: dict[str, str | None]) -> list[str]:
    mapped = set(mapping.values())
    return [col.key for col in SCHEMAS[kind] if col.required and col.key not in mapped]


# -- remembered mappings -----------------------------------------------------------------------

_SETTING_PREFIX = "import."
_SETTING_VALUE_MAX = 200  # AppSetting.value


def _setting_key(kind: str, header: str) -> str:
    digest = hashlib.sha256(normalise_header(header).encode()).hexdigest()[:16]
    return f"{_SETTING_PREFIX}{kind}.{digest}"  # at most 34 characters: AppSetting.key holds 40


@reads(AppSetting)
def remembered_mappings(session: Session, kind: str) -> dict[str, str]:
    """normalised header -> column key, as users of this installation mapped them before."""
    mappings = {}
    rows = session.execute(select(AppSetting.value).where(AppSetting.key.like(f"{_SETTING_PREFIX}{kind}.%")))
    for (value,) in rows:
        try:
            entry = json.loads(value)
            header, key = entry["h"], entry["c"]
        except (ValueError, KeyError, TypeError):
            continue
        if any(col.key == key for col in SCHEMAS[kind]):
            mappings[header] = key
    return mappings


def remember_mappings(session: Session, kind: str, chosen: dict[str, str | None]) -> None:
    """Keep the user's choices for headers the schema does not know, for the next file."""
    known = match_headers(kind, list(chosen))
    for header, key in chosen.items():
        if key is None or known.get(header) == key or is_never_read(header):
            continue
        value = json.dumps({"h": normalise_header(header), "c": key}, ensure_ascii=False)
        if len(value) > _SETTING_VALUE_MAX:
            continue
        session.merge(AppSetting(key=_setting_key(kind, header), value=value))
