"""What a valid value is, written once for every caller: the forms (through gongzhi.crud), the
spreadsheet importer, Open311 and the account admin all check text, numbers and dates here.

Text: stripped (Unicode white space, and a stray byte-order mark or zero-width space at either
end) and NFC-normalised; refused when it holds a control character (NUL and the like; long text
such as descriptions and notes may hold line breaks and tabs, and a Windows line break becomes a
plain one), a lone surrogate (half of a UTF-16 pair, which no database can store), more
characters than its field allows, or a national ID number. A required field that holds nothing
visible after cleaning is "required".

Numbers and dates: each kind of field has its bounds here; a date lies in the window from
EARLIEST_DATE to YEARS_AHEAD years after today.

Refusals are Gongzhi errors (InvalidValue) carrying an i18n key and parameters, so that each
caller can name its own field: crud collects them as FieldErrors, the importer as cell problems."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from gongzhi.clock import today
from gongzhi.errors import FieldError, GongzhiError
from gongzhi.privacy import contains_national_id


class InvalidValue(GongzhiError):
    """One value refused: `key` says why (an `errors.*` message), `params` fill it in."""


# -- text ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextField:
    max_length: int  # in characters (code points), as PostgreSQL's varchar counts them
    long: bool = False  # long text (descriptions, notes, lists of names): line breaks and tabs allowed


TITLE = TextField(120)  # of an issue, an event, a meeting
PLACE = TextField(120)
DESCRIPTION = TextField(2000, long=True)
NOTE = TextField(1000, long=True)  # a progress note, a move's note, a meeting's decision
PERSON_NAME = TextField(40)
VOLUNTEER_NOTE = TextField(500, long=True)
SERVICE_NOTE = TextField(300, long=True)
FACILITY_NAME = TextField(80)
TOPIC = TextField(200)  # a free topic on a meeting's agenda
ATTENDEES = TextField(5000, long=True)  # one name per line
COMMENT = TextField(500, long=True)  # with a rating
USERNAME = TextField(40)
DISPLAY_NAME = TextField(40)

# The limits as the forms' max_chars need them.
TITLE_MAX = TITLE.max_length
DESCRIPTION_MAX = DESCRIPTION.max_length
NOTE_MAX = NOTE.max_length
NAME_MAX = PERSON_NAME.max_length
VOLUNTEER_NOTE_MAX = VOLUNTEER_NOTE.max_length
SERVICE_NOTE_MAX = SERVICE_NOTE.max_length
FACILITY_NAME_MAX = FACILITY_NAME.max_length
DISPLAY_NAME_MAX = DISPLAY_NAME.max_length

_LONG_TEXT_CONTROLS = frozenset("\n\t")
# Invisible at either end of a pasted value: stripped with the white space.
_EDGE_INVISIBLE = "\ufeff\u200b"
# Categories that show nothing: a value made only of these is empty.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def _code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def _first_bad_character(value: str, *, long: bool) -> str | None:
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and not (long and char in _LONG_TEXT_CONTROLS)):
            return char
    return None


def _strip(value: str) -> str:
    return value.strip().strip(_EDGE_INVISIBLE).strip()


def _blank(value: str) -> bool:
    return all(char.isspace() or unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in value)


def clean_text(value, spec: TextField, *, required: bool = False) -> str:
    """`value` as it is to be stored, or InvalidValue saying why it cannot be."""
    text = "" if value is None else value if isinstance(value, str) else str(value)
    if spec.long:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _strip(text)
    bad = _first_bad_character(text, long=spec.long)
    if bad is not None:
        if bad in "\r\n":
            raise InvalidValue("errors.one_line")
        raise InvalidValue("errors.invalid_character", char=_code_point(bad))
    text = _strip(unicodedata.normalize("NFC", text))
    if _blank(text):
        if required:
            raise InvalidValue("errors.required")
        return ""
    if len(text) > spec.max_length:
        raise InvalidValue("errors.too_long", max=spec.max_length)
    if contains_national_id(text):
        raise InvalidValue("errors.national_id")
    return text


def _collect(errors: list[FieldError], field: str, check, fallback):
    try:
        return check()
    except InvalidValue as refused:
        errors.append(FieldError(field, refused.key, refused.params))
        return fallback


def check_text(errors: list[FieldError], field: str, value, spec: TextField, *, required: bool = False) -> str:
    """clean_text for a form: a refusal becomes a FieldError of `field` (an i18n key) in `errors`."""
    return _collect(errors, field, lambda: clean_text(value, spec, required=required), "")


# -- numbers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    low: int | float
    high: int | float
    integer: bool = True


HEADCOUNT = Bounds(0, 100_000)  # an event's anonymous attendance
CAPACITY = Bounds(1, 100_000)  # an event's places
QUORUM = Bounds(0, 10_000)  # people needed at a meeting
POPULATION = Bounds(0, 1_000_000)  # of a grid: residents, and households
LATITUDE = Bounds(-90, 90, integer=False)
LONGITUDE = Bounds(-180, 180, integer=False)
# Service hours on one day: more than 0 and at most a day (checked as low < hours <= high).
HOURS = Bounds(0, 24, integer=False)


def birth_years() -> Bounds:
    return Bounds(1900, today().year)


def clean_number(value, bounds: Bounds, *, required: bool = False):
    """`value` if it is a number within `bounds` (a whole one where the field counts things)."""
    if value is None:
        if required:
            raise InvalidValue("errors.required")
        return None
    number_types = (int,) if bounds.integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, number_types) or not math.isfinite(value) \
            or not bounds.low <= value <= bounds.high:
        raise InvalidValue("errors.between", low=bounds.low, high=bounds.high)
    return value


def check_number(errors: list[FieldError], field: str, value, bounds: Bounds, *, required: bool = False):
    return _collect(errors, field, lambda: clean_number(value, bounds, required=required), None)


# -- dates --------------------------------------------------------------------------------------

EARLIEST_DATE = date(1990, 1, 1)  # older records are history no committee brings in
YEARS_AHEAD = 10  # plans (events, meetings, due dates) reach at most this far ahead


def latest_date() -> date:
    current = today()
    try:
        return current.replace(year=current.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return current.replace(year=current.year + YEARS_AHEAD, day=28)


def clean_date(value: date | datetime | None, *, required: bool = False, past: bool = False):
    """`value` (a date or a moment) if it lies in the window EARLIEST_DATE..latest_date(); with
    `past`, a day that has been (a volunteer joined, served, an issue was reported): not after today."""
    if value is None:
        if required:
            raise InvalidValue("errors.required")
        return None
    day = value.date() if isinstance(value, datetime) else value
    if past and day > today():
        raise InvalidValue("errors.date_in_future")
    if not EARLIEST_DATE <= day <= latest_date():
        raise InvalidValue("errors.date_between", low=EARLIEST_DATE.isoformat(), high=latest_date().isoformat())
    return value


def check_date(errors: list[FieldError], field: str, value, *, required: bool = False, past: bool = False):
    return _collect(errors, field, lambda: clean_date(value, required=required, past=past), None)
