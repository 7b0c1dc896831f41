import pytest

from gongzhi.escape import escape_text
from gongzhi.privacy import contains_national_id, display_phone, mask_phone, normalise_phone


@pytest.mark.parametrize(("raw", "normalised"), [
    ("13800138000", "+8613800138000"),
    ("138 0013 8000", "+8613800138000"),
    ("138-0013-8000", "+8613800138000"),
    ("＋８６ １３８００１３８０００", "+8613800138000"),  # full-width, as typed on a Chinese keyboard
    ("0086 13800138000", "+8613800138000"),
    ("+86 138 0013 8000", "+8613800138000"),
    ("8613800138000", "+8613800138000"),
    ("0755-27654321", "+8675527654321"),
    ("021 6485 1234", "+862164851234"),
    ("+86 755 2765 4321", "+8675527654321"),  # already international: normalising is idempotent
])
def test_phone_numbers_are_normalised(raw, normalised):
    assert normalise_phone(raw) == normalised


@pytest.mark.parametrize("raw", ["12345", "1380013800", "23800138000", "phone", "138001380001"])
def test_invalid_phone_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw)


def test_empty_phone_is_none():
    assert normalise_phone("  ") is None
    assert normalise_phone(None) is None


def test_masking_keeps_three_leading_and_four_trailing_digits():
    assert mask_phone("+8613800138000") == "138****8000"
    assert display_phone("+8613800138000", may_see=False) == "138****8000"
    assert display_phone("+8613800138000", may_see=True) == "13800138000"
    assert "0013" not in mask_phone("+8613800138000")
    assert display_phone("+8675527654321", may_see=True) == "075527654321"
    assert mask_phone("+8675527654321") == "075****4321"


@pytest.mark.parametrize(("text", "found"), [
    ("身份证 44030619800101123X", True),
    ("440306198001011234", True),
    ("old id 440306800101123", True),
    ("手机 13800138000", False),
    ("3栋 1201 室", False),
    ("", False),
])
def test_national_id_numbers_are_detected(text, found):
    assert contains_national_id(text) is found


def test_escape_neutralises_html_and_template_literals():
    payload = "<img src=x onerror=alert(1)> `${alert(2)}` \\ \"q\" 'a' & done"
    escaped = escape_text(payload)
    for dangerous in ("<", ">", "`", "${", "\\", '"', "'"):
        assert dangerous not in escaped
    assert escaped.startswith("&lt;img")
    assert "&amp; done" in escaped
