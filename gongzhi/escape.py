"""The escaping helpers for user text placed into HTML or JavaScript, e.g. folium popups and
tooltips, which insert raw HTML inside JS template strings; and for user text placed into
Markdown."""

import re

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


# Characters Markdown (and Streamlit's extensions: $…$ maths, :colour[…]) reads as markup anywhere
# in a line; a heading (#), list item (-, +, 1.) or quote (>) only at its start.
_MARKDOWN_TABLE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~$"})
_LINE_START = re.compile(r"^(#|[-+]|\d+(?=[.)]))")


def markdown_literal(value: object, *, starts_line: bool = True) -> str:
    """User text placed into Markdown (st.markdown, headers, the minutes file) so that it shows
    exactly as typed, on one line: no emphasis, link, image, HTML, heading or list. With
    starts_line=False the text follows other text on its line, where # - + 1. mean nothing."""
    text = " ".join(str("" if value is None else value).split()).translate(_MARKDOWN_TABLE)
    if not starts_line:
        return text
    return _LINE_START.sub(lambda match: match.group(1) + "\\" if match.group(1)[0].isdigit()
                           else "\\" + match.group(1), text)
