"""Reading one cell as the value a column needs. Each parser returns the value or raises
CellProblem with an i18n key (namespace `imports`) and parameters saying why."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from functools import cache

from gongzhi import i18n, validation
from gongzhi.privacy import contains_national_id, normalise_phone


class CellProblem(ValueError):
    def __init__(self, key: str, **params):
        self.key = key
        self.params = params
        super().__init__(key)


# A cell that a spreadsheet would run as a formula is refused rather than stored: '=' and '@'
# always, '+' and '-' when a word or call follows (a negative number or '- item' stays text).
_FORMULA = re.compile(r"^(?:[=@]|[+\-][^\s\d.])")
# Exports (gongzhi.spreadsheet.neutralise) put an apostrophe before such text, as one types it in
# Excel to keep "+86 138…" as text; it is not part of the value.
_NEUTRALISED = re.compile(r"^'(?=[=+\-@\t\r])")


def unneutralised(raw: str) -> str:
    return _NEUTRALISED.sub("", raw)


def _checked(clean, *args, **kwargs):
    """A value through gongzhi.validation, whose refusal becomes the cell's problem."""
    try:
        return clean(*args, **kwargs)
    except validation.InvalidValue as refused:
        raise CellProblem(refused.key, **refused.params) from None


def text(raw: str, spec: validation.TextField, *, required: bool = False) -> str:
    """Text as every other caller stores it (gongzhi.validation); and no spreadsheet formula."""
    if _FORMULA.match(raw.strip()):
        raise CellProblem("imports.reason_formula")
    return _checked(validation.clean_text, raw, spec, required=required)


def phone(raw: str) -> str | None:
    if contains_national_id(raw):
        raise CellProblem("errors.national_id")
    try:
        return normalise_phone(raw)
    except ValueError:
        raise CellProblem("imports.reason_phone", value=raw) from None


def integer(raw: str, bounds: validation.Bounds, *, required: bool = False) -> int | None:
    value = unicodedata.normalize("NFKC", raw).strip().replace(",", "").replace(" ", "")
    if not value:
        if required:
            raise CellProblem("errors.required")
        return None
    if re.fullmatch(r"\d+\.0*", value):
        value = value.split(".")[0]
    if not re.fullmatch(r"-?\d{1,30}", value):
        raise CellProblem("imports.reason_not_number", value=raw)
    return _checked(validation.clean_number, int(value), bounds)


def decimal(raw: str, bounds: validation.Bounds) -> float | None:
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise CellProblem("imports.reason_not_number", value=raw) from None
    return _checked(validation.clean_number, number, bounds)


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[ T]+(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})秒?)?)?$")


def moment(raw: str, *, required: bool = False, past: bool = False) -> datetime | None:
    """'2026-05-10 14:30', '2026/5/10', '2026年5月10日 9:00' -> a naive local datetime, within the
    dates Gongzhi keeps (gongzhi.validation); with `past`, not after today."""
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value:
        if required:
            raise CellProblem("errors.required")
        return None
    match = _DATE.match(value)
    if match is None:
        raise CellProblem("imports.reason_not_date", value=raw)
    year, month, day, hour, minute, second = (int(part) if part else 0 for part in match.groups())
    try:
        parsed = datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise CellProblem("imports.reason_not_date", value=raw) from None
    return _checked(validation.clean_date, parsed, past=past)


def day(raw: str, *, past: bool = False) -> date | None:
    value = moment(raw, past=past)
    return value.date() if value is not None else None


@cache
def _labels(namespace: str, codes: tuple[str, ...]) -> dict[str, str]:
    """Every way a code may be written -> the code: the code itself and its label in each language."""
    names = {}
    for code in codes:
        names[_plain(code)] = code
        for lang in i18n.LANGUAGES:
            names[_plain(i18n.label(lang, namespace, code))] = code
    return names


def _plain(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().lower().replace(" ", "").replace("_", "")


def choice(raw: str, namespace: str, codes, *, required: bool = False, default: str | None = None) -> str | None:
    """A vocabulary code given as the code or its label in either language."""
    value = _plain(raw)
    if not value:
        if required:
            raise CellProblem("errors.required")
        return default
    code = _labels(namespace, tuple(codes)).get(value)
    if code is None:
        raise CellProblem("imports.reason_unknown_choice", value=raw)
    return code


_LIST_SEPARATORS = re.compile(r"[,，、;；/|\n]+")


def choices(raw: str, namespace: str, codes) -> list[str]:
    """Several codes in one cell, separated as people type them: 急救、维修 / first aid, repairs."""
    names = _labels(namespace, tuple(codes))
    found, unknown = [], []
    for word in _LIST_SEPARATORS.split(unicodedata.normalize("NFKC", raw)):
        if not word.strip():
            continue
        code = names.get(_plain(word))
        if code is None:
            unknown.append(word.strip())
        elif code not in found:
            found.append(code)
    if unknown:
        raise CellProblem("imports.reason_unknown_choice", value="、".join(unknown))
    return found
