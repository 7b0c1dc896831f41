"""The one home for escaping text that a user, an import or another system wrote.

- markdown_literal: user text placed into Markdown (every st.* element that renders Markdown:
  markdown, headers, captions, alerts, toasts, widget and tab labels, radio options, help), so
  that it shows exactly as typed and never as markup.
- escape_text: user text placed into HTML or JavaScript, e.g. folium popups and tooltips, which
  insert raw HTML inside JS template strings.

Translations (gongzhi.i18n.translate) pass their parameters through markdown_literal; a
`Markdown` string is one that is already safe Markdown and is not escaped again."""

import re


class Markdown(str):
    """Text that is already Markdown: a catalogue text with escaped parameters, or user text
    that went through markdown_literal. Inserted as it is where Markdown is built; any other
    str is user text and gets escaped. Joining or formatting gives a plain str again."""


_REPLACEMENTS = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#x27;",
    "`": "&#x60;",
    "\\": "&#x5C;",
    "$": "&#x24;",  # breaks "${" so a template string cannot interpolate
}
_TABLE = str.maketrans(_REPLACEMENTS)


def escape_text(value: object) -> str:
    """Safe inside HTML text and attributes and inside a JS template literal."""
    return str("" if value is None else value).translate(_TABLE)


# Characters Markdown (and Streamlit's extensions: $…$ maths, :colour[…] directives) reads as
# markup anywhere in a line; a backslash before any ASCII punctuation shows it as itself. & would
# start an entity (&lt;).
_MARKDOWN_TABLE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~$&"})
# A heading (#), list item (-, +, 1.) or quote (>, already escaped above) only at a line's start,
# and only followed by a space (or nothing): "#3", "-5" and "+3.2" stay as they are (a metric reads
# the sign of its delta).
_LINE_START = re.compile(r"^(#{1,6}|[-+]|\d{1,9}(?=[.)]))(?=[.)]?(?:\s|$))")
# What Streamlit finds in the text after escapes are gone, so no backslash can stop it: shortcodes
# (:smile:, :material/home:, :streamlit:), text directives (:red), bare URLs (http://…, www.…) and
# e-mail addresses (GFM autolinks). An invisible WORD JOINER after the colon, after "www" or after
# the @ breaks each pattern and shows nothing.
WORD_JOINER = "\u2060"
_INERT = re.compile(r"(?::(?=[A-Za-z/]|[\w+-]*:))|(?:(?<![^\W_])www(?=\.))|(?:@(?=[\w.-]))", re.IGNORECASE)


def markdown_literal(value: object, *, starts_line: bool = True) -> Markdown:
    """User text placed into Markdown so that it shows exactly as typed, on one line: no
    emphasis, link, image, HTML, maths, colour, icon, heading, list or table. With
    starts_line=False the text follows other text on its line, where # - + 1. mean nothing."""
    if isinstance(value, Markdown):
        return value
    text = " ".join(str("" if value is None else value).split()).translate(_MARKDOWN_TABLE)
    text = _INERT.sub(lambda match: match.group(0) + WORD_JOINER, text)
    if starts_line:
        text = _LINE_START.sub(lambda match: match.group(1) + "\\" if match.group(1)[0].isdigit()
                               else "\\" + match.group(1), text)
    return Markdown(text)


def markdown_join(separator: str, parts) -> Markdown:
    """Texts joined for Markdown, each shown as typed (a Markdown part, e.g. a translation, as it is)."""
    return Markdown(markdown_literal(separator, starts_line=False).join(
        markdown_literal(part, starts_line=False) for part in parts))
