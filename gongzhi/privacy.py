"""Personal data rules: phone numbers normalised to +86… for storage and masked for display;
national ID numbers refused wherever free text could carry one."""

import re
import unicodedata

from gongzhi.permissions import Actor, may_see_phone

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
# 18-digit resident ID (last may be X) or the old 15-digit form, standing alone.
_NATIONAL_ID = re.compile(r"(?<![0-9])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")


def normalise_phone(raw: str | None) -> str | None:
    """'138 0013-8000', '＋86１３８００１３８０００', '0086 138…' -> '+8613800138000'.
    Returns None for empty input; raises ValueError for something that is not a phone number."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if not text:
        return None
    digits = re.sub(r"[\s\-()（）.]", "", text)
    international = True
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    else:
        international = False
    if international and digits[:1] not in ("1", "0"):
        digits = "0" + digits  # +86 755 … is the landline 0755 …
    if not digits.isdigit():
        raise ValueError("not a phone number")
    if _MOBILE.match(digits):
        return "+86" + digits
    if _LANDLINE.match(digits):
        return "+86" + digits[1:]  # E.164 drops the trunk prefix 0: 0755-2765… -> +86 755 2765…
    raise ValueError("not a phone number")


def _national(phone: str) -> str:
    """'+8613800138000' -> '13800138000'; '+8675527654321' -> '075527654321'."""
    if not phone.startswith("+86"):
        return phone
    rest = phone[3:]
    return rest if rest.startswith("1") else "0" + rest


def mask_phone(phone: str | None) -> str:
    """'+8613800138000' -> '138****8000'. Keeps 3 leading and 4 trailing digits, never more."""
    if not phone:
        return ""
    digits = _national(phone)
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def display_phone(phone: str | None, *, may_see: bool) -> str:
    if not phone:
        return ""
    if not may_see:
        return mask_phone(phone)
    return _national(phone)


def phone_for(actor: Actor, phone: str | None, grid_id: int | None) -> str:
    """A phone as this actor may read it, by permissions.may_see_phone for the person's grid.
    Also takes a number a query already displayed in national form or masked (mask_phone keeps 3
    leading and 4 trailing digits of either)."""
    return display_phone(phone, may_see=may_see_phone(actor, grid_id))


def contains_national_id(text: str | None) -> bool:
    if not text:
        return False
    return bool(_NATIONAL_ID.search(unicodedata.normalize("NFKC", text)))


# A mainland mobile number inside any text (a log line, an error, a traceback): optionally +86,
# 0086 or 86 in front, digits optionally grouped by spaces or hyphens, standing alone; full-width
# characters as typed on a Chinese keyboard too.
_MOBILE_IN_TEXT = re.compile(r"(?<![\d+＋])(?:(?:[+＋]|[0０]{2})?[8８][6６][\s\-－]?)?[1１][3-9３-９]\d(?:[\s\-－]?\d){8}(?!\d)")


def _masked_mobile(match: re.Match) -> str:
    digits = unicodedata.normalize("NFKC", re.sub(r"\D", "", match.group()))
    return mask_phone("+86" + digits[-11:])


def mask_personal_data(text: str) -> str:
    """Every national ID number in `text` replaced by asterisks and every mobile number masked
    like on screen (138****8000): for texts that leave the app's control, logs and errors."""
    if not text:
        return text
    text = _NATIONAL_ID.sub(lambda match: "*" * len(match.group()), text)
    return _MOBILE_IN_TEXT.sub(_masked_mobile, text)
