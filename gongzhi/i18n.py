"""One translation function for all UI text. Catalogues are JSON files in `locales/`, one per
area of the app (`issues.json` holds the keys `issues.*`), each entry holding both languages side
by side so a missing translation is obvious in review and caught by the tests.

translate() gives Markdown, for the UI (Streamlit renders Markdown in nearly every element): its
parameters are shown as typed (gongzhi.escape.markdown_literal). translate_plain() and the
plain_text() block give the same text unescaped, for what is never read as Markdown: files, PDFs,
the CLI, logs, table cells, select box options, chart text, HTML before escape_text."""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from gongzhi.escape import Markdown, markdown_literal

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


_KEY = re.compile(r"[\w.]+")  # a catalogue key: shows as itself in Markdown too
_PLAIN = ContextVar("gongzhi_plain_text", default=False)


@contextmanager
def plain_text() -> Iterator[None]:
    """Inside it, translate() gives plain text: for what is never read as Markdown (files,
    PDFs, the CLI, logs, table cells, chart text, HTML before escape_text)."""
    token = _PLAIN.set(True)
    try:
        yield
    finally:
        _PLAIN.reset(token)


def translate(lang: str, key: str, **params) -> str:
    """The catalogue text as Markdown, every parameter shown as typed (escaped through
    markdown_literal unless it is already Markdown, e.g. another translation or a number); the
    result is a Markdown string. Plain text: translate_plain, or inside plain_text()."""
    texts = catalogue().get(key)
    if texts is None:  # visible in the UI, and the catalogue test fails on it; a label's key holds a stored code
        return key if _PLAIN.get() or _KEY.fullmatch(key) else markdown_literal(key, starts_line=False)
    text = texts.get(lang) or texts[DEFAULT_LANGUAGE]
    if not params:
        return text if _PLAIN.get() else Markdown(text)
    if _PLAIN.get():
        return text.format(**params)
    return Markdown(text.format(**{name: _markdown_parameter(value, starts_line=text.startswith("{" + name))
                                    for name, value in params.items()}))


def translate_plain(lang: str, key: str, **params) -> str:
    """The catalogue text with its parameters as they are, for plain text (see plain_text)."""
    with plain_text():
        return translate(lang, key, **params)


def _markdown_parameter(value: object, *, starts_line: bool) -> object:
    if isinstance(value, (int, float, Markdown)):  # numbers keep their format specs ({n:,})
        return value
    return markdown_literal(value, starts_line=starts_line)


def label(lang: str, namespace: str, code: str | None) -> str:
    """Label of a vocabulary code, e.g. label(lang, 'state', 'in_action')."""
    if code is None:
        return ""
    return translate(lang, f"{namespace}.{code}")


FRONTEND_NAMESPACE = "streamlit"


def frontend_strings(lang: str) -> dict[str, str]:
    """Streamlit's own frontend strings that no API parameter sets ("Select all", "No results",
    the default placeholders, "Page not found", the file uploader's): each English original (the
    catalogue's `en` text of a `streamlit.*` key, as Streamlit writes it; `{n}` stands for a
    number or size) with its text in `lang`. Empty in English, which Streamlit speaks itself."""
    if lang == "en":
        return {}
    prefix = FRONTEND_NAMESPACE + "."
    return {texts["en"]: texts[lang] for key, texts in catalogue().items() if key.startswith(prefix)}
