"""The one escaping helper for user text placed into HTML or JavaScript, e.g. folium popups and
tooltips, which insert raw HTML inside JS template strings."""

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


# Characters Markdown (and Streamlit's extensions: $…$ maths, :colour[…]) reads as markup.
_MARKDOWN_TABLE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~$"})


def markdown_literal(value: object) -> str:
    """User text placed into Markdown (st.markdown, headers, the minutes file) so that it shows
    exactly as typed, on one line: no emphasis, link, image, HTML or heading."""
    return " ".join(str("" if value is None else value).split()).translate(_MARKDOWN_TABLE)
