"""Catalogue completeness: both languages for every key, every key the code names exists, and
every vocabulary code of the domain has a label."""

import re
import string
from pathlib import Path

import pytest

from gongzhi import domain, i18n
from gongzhi.permissions import Role

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ["app.py", "pages", "components", "gongzhi"]
KEY_LITERAL = re.compile(r"""["']([a-z][a-z_]*\.[a-z0-9_]+)["']""")


def _code_files():
    for entry in CODE_DIRS:
        path = ROOT / entry
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def test_every_entry_has_both_languages_and_same_placeholders():
    catalogue = i18n.catalogue()
    assert len(catalogue) > 100
    for key, texts in catalogue.items():
        assert set(texts) == set(i18n.LANGUAGES), key
        for language in i18n.LANGUAGES:
            assert texts[language].strip(), f"{key} is empty in {language}"
        fields = {lang: {f for _, f, _, _ in string.Formatter().parse(texts[lang]) if f} for lang in i18n.LANGUAGES}
        assert fields["zh-CN"] == fields["en"], f"{key} placeholders differ: {fields}"


def test_every_key_named_in_code_exists():
    namespaces = {key.split(".")[0] for key in i18n.catalogue()}
    missing = []
    for path in _code_files():
        for match in KEY_LITERAL.finditer(path.read_text(encoding="utf-8")):
            key = match.group(1)
            if key.split(".")[0] in namespaces and key not in i18n.catalogue():
                missing.append(f"{path.relative_to(ROOT)}: {key}")
    assert not missing, missing


@pytest.mark.parametrize(("namespace", "codes"), [
    ("state", list(domain.IssueState)),
    ("category", list(domain.ISSUE_CATEGORIES)),
    ("level", list(domain.AreaLevel)),
    ("org_kind", list(domain.OrgKind)),
    ("event_kind", list(domain.EventKind)),
    ("facility_kind", list(domain.FacilityKind)),
    ("meeting_kind", list(domain.MeetingKind)),
    ("meeting_status", list(domain.MeetingStatus)),
    ("decision", list(domain.Decision)),
    ("reject_reason", list(domain.RejectReason)),
    ("fix_status", list(domain.FixStatus)),
    ("volunteer_status", list(domain.VolunteerStatus)),
    ("skill", domain.VOLUNTEER_SKILLS),
    ("role", list(Role)),
])
def test_every_vocabulary_code_has_a_label(namespace, codes):
    for code in codes:
        assert f"{namespace}.{code}" in i18n.catalogue(), f"{namespace}.{code}"


def test_translate_formats_parameters_and_falls_back_to_the_key():
    assert i18n.translate("en", "errors.too_long", max=40) == "must be at most 40 characters"
    assert i18n.translate("zh-CN", "errors.too_long", max=40) == "不能超过 40 个字"
    assert i18n.translate("en", "no.such_key") == "no.such_key"


@pytest.mark.parametrize(("locale", "language"), [
    ("zh-CN", "zh-CN"), ("zh-Hans-CN", "zh-CN"), ("zh-TW", "zh-CN"), ("en-US", "en"), ("fr-FR", "en"), (None, "zh-CN"),
])
def test_language_follows_the_browser_locale(locale, language):
    assert i18n.language_from_locale(locale) == language


def test_translate_shows_its_parameters_as_text_in_markdown_and_plain_text_as_typed():
    """translate is for Markdown: each parameter through escape.markdown_literal (once: a
    translation or markdown_literal's result is not escaped again); translate_plain and
    plain_text() are for files, the CLI and table cells; an error's str() is plain."""
    from gongzhi.errors import GongzhiError
    from gongzhi.escape import markdown_literal

    typed = "# :red[X] [l](http://127.0.0.1:9/l) **B**"
    shown = i18n.translate("en", "map.panel_title", name=typed, code="G_1")
    assert shown == f"{markdown_literal(typed)} (G\\_1)"  # at the line's start: the heading escaped too
    assert i18n.translate("en", "map.panel_title", name=shown, code="G") == f"{shown} (G)"
    assert i18n.translate_plain("en", "map.panel_title", name=typed, code="G_1") == f"{typed} (G_1)"
    with i18n.plain_text():
        assert i18n.translate("en", "map.panel_title", name=typed, code="G_1") == f"{typed} (G_1)"
    assert i18n.translate("en", "errors.too_long", max=1000) == "must be at most 1000 characters"  # numbers as they are
    error = GongzhiError("map.panel_title", name=typed, code="G_1")
    assert str(error) == f"{typed} (G_1)" and error.message("en") == shown


def test_streamlits_own_frontend_strings_are_translated_for_chinese_only():
    table = i18n.frontend_strings("zh-CN")
    assert table["Select all"] == "全选" and table["No results"] == "无结果"
    assert table["Choose options"] == "请选择" and table["Select {n} matches"] == "选择 {n} 个匹配项"
    assert i18n.frontend_strings("en") == {}  # Streamlit speaks English itself
