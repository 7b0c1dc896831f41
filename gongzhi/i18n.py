"""One translation function for all UI text. Catalogues are JSON files in `locales/`, one per
area of the app (`issues.json` holds the keys `issues.*`), each entry holding both languages side
by side so a missing translation is obvious in review and caught by the tests."""

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LOCALES_DIR = Path(__file__).parent / "locales"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    entries: dict[str, dict[str, str]] = {}
    for path in sorted(LOCALES_DIR.glob("*.json")):
        namespace = path.stem
        for key, texts in json.loads(path.read_text(encoding="utf-8")).items():
            entries[f"{namespace}.{key}"] = texts
    return entries


def language_from_locale(locale: str | None) -> str:
    """Browser locale (e.g. 'zh-CN', 'zh-Hans-CN', 'en-US') -> a supported language."""
    if not locale:
        return DEFAULT_LANGUAGE
    return "zh-CN" if locale.lower().startswith("zh") else "en"


def translate(lang: str, key: str, **params) -> str:
    texts = catalogue().get(key)
    if texts is None:
        return key  # visible in the UI, and the catalogue test fails on it
    text = texts.get(lang) or texts[DEFAULT_LANGUAGE]
    return text.format(**params) if params else text


def label(lang: str, namespace: str, code: str | None) -> str:
    """Label of a vocabulary code, e.g. label(lang, 'state', 'in_action')."""
    if code is None:
        return ""
    return translate(lang, f"{namespace}.{code}")
