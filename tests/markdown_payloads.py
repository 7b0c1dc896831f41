"""Markdown payloads and the check that none of them became markup on a page.

The check models what Streamlit's Markdown renderer (react-markdown with remark-gfm, remark-math,
remark-directive and Streamlit's own plugins) makes of a string, for these payloads only: a
backslash before ASCII punctuation makes it a literal character; a link or image needs its
brackets unescaped; a colour needs `:red[` with nothing between the colon and the name; HTML,
maths, code and strong emphasis need their delimiters unescaped. Shortcodes (`:material/home:`)
and bare URLs (GFM autolinks) are found in the text *after* escapes are resolved, so there no
backslash helps; only something in between (an invisible word joiner) does.

Which fields of Streamlit's element messages are rendered as Markdown was read off Streamlit's
frontend (StreamlitMarkdown with isLabel in Metric, Radio, Checkbox, widget labels…): bodies of
markdown, headings, alerts and toasts, every label and help, metric values and deltas, radio
options and captions, tab, expander and popover labels, progress and spinner texts, and the
headers and cells of st.table. Select box and multiselect options, text elements, code, data
grids (st.dataframe) and charts are plain text."""

import re
import string
import unicodedata
from collections.abc import Iterator

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

LOOPBACK = "http://127.0.0.1:9"  # nothing listens there: a fetched URL goes nowhere
PAYLOADS = (":red[X]", f"[l]({LOOPBACK}/l)", f"![i]({LOOPBACK}/i.png)", "<b>x</b>", "$x^2$", "`x`", "**B**",
            ":material/home:")

# Each payload, as markup: a regex over the "active" form of the Markdown source (escaped
# characters replaced by stand-ins, see active_form).
MARKUP = {
    "colour": re.compile(r":red\[X\]"),
    "link": re.compile(r"(?<!!)\[l\]\("),
    "image": re.compile(r"!\[i\]\("),
    "html": re.compile(r"<b>"),
    "maths": re.compile(r"\$x\^2\$"),
    "code": re.compile(r"`x`"),
    "bold": re.compile(r"\*\*B\*\*"),
}
ICON = re.compile(r":material[/_]home:")
AUTOLINK = re.compile(re.escape(LOOPBACK))

# Fields rendered as Markdown, by field name; "options" only where the widget renders them so.
MARKDOWN_FIELDS = {"body", "label", "help", "title", "delta", "delta_description", "captions", "text", "content"}
MARKDOWN_OPTIONS = {"Radio"}
PLAIN_MESSAGES = {"Text", "Html", "Json", "Code", "Exception", "Dataframe", "Table", "VegaLiteChart", "ArrowNamedDataSet",
                  "ComponentInstance", "Selectbox", "MultiSelect"}  # the last two: their labels are checked below
PLAIN_FIELDS_OF = {"Selectbox": {"label", "help"}, "MultiSelect": {"label", "help"}}


def active_form(source: str) -> str:
    """The source with each backslash-escaped punctuation character replaced by a stand-in (a
    private-use character), so that what remains of the punctuation is read as markup."""
    out, index = [], 0
    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source) and source[index + 1] in string.punctuation:
            out.append(chr(0xE000 + ord(source[index + 1])))
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def text_form(source: str) -> str:
    """What a text node holds once the escapes are resolved."""
    return "".join(chr(ord(c) - 0xE000) if 0xE000 <= ord(c) < 0xE080 else c for c in active_form(source))


def _starts_autolink(text: str, position: int) -> bool:
    """GFM: a bare URL is a link at the start, after white space or punctuation (remark-gfm)."""
    if position == 0:
        return True
    before = text[position - 1]
    return before.isspace() or unicodedata.category(before)[0] in "PSZ"


def markup_in(source: str) -> list[str]:
    """The payload markup Streamlit would render from this Markdown source."""
    active, text = active_form(source), text_form(source)
    found = [name for name, pattern in MARKUP.items() if pattern.search(active)]
    if ICON.search(text.replace(":material/", ":material_")):
        found.append("icon")
    if any(_starts_autolink(text, m.start()) for m in AUTOLINK.finditer(text)):
        found.append("autolink")
    return found


def markdown_strings(message: Message, owner: str = "") -> Iterator[str]:
    """Every string of a Streamlit element or block message that is rendered as Markdown."""
    name = message.DESCRIPTOR.name
    for descriptor, value in message.ListFields():
        if descriptor.type == FieldDescriptor.TYPE_MESSAGE:
            if descriptor.message_type.GetOptions().map_entry or name in PLAIN_MESSAGES - set(PLAIN_FIELDS_OF):
                continue
            for item in value if descriptor.is_repeated else [value]:
                yield from markdown_strings(item, name)
        elif descriptor.type == FieldDescriptor.TYPE_STRING:
            if name in PLAIN_FIELDS_OF:
                markdown = descriptor.name in PLAIN_FIELDS_OF[name]
            elif name in PLAIN_MESSAGES:
                markdown = False
            else:
                markdown = descriptor.name in MARKDOWN_FIELDS or (descriptor.name == "options" and name in MARKDOWN_OPTIONS)
            if markdown:
                yield from (value if descriptor.is_repeated else [value])


def rendered_markdown(app) -> list[str]:
    """Every Markdown string of the page (sidebar and main area, blocks included); st.table
    renders its headers and cells as Markdown too (the projector's tables)."""
    found = []
    for root in (app.sidebar, app.main):
        for node in root:
            proto = getattr(node, "proto", None)
            if isinstance(proto, Message):
                found.extend(markdown_strings(proto))
            if node.type == "table":
                found.extend(_frame_strings(node.value))
    return found


def _frame_strings(frame) -> list[str]:
    return [*map(str, frame.columns), *(str(cell) for cell in frame.to_numpy().ravel())]


def payload_markup(app) -> list[tuple[str, str]]:
    """(markup, source) for every payload that came out of the page as markup."""
    return [(kind, source) for source in rendered_markdown(app) for kind in markup_in(source)]


def carries_payload(source: str) -> bool:
    """The source shows one of the payloads, escaped or not (word joiners aside)."""
    text = text_form(source).replace("\u2060", "")
    return any(payload in text for payload in PAYLOADS)


ESCAPED = re.compile(r"\\[\[\]*_`<>$|~&\\]|\u2060")  # what markdown_literal adds: shown as such in plain text


def plain_strings(app) -> list[str]:
    """Every string the page shows as plain text: select box and multiselect options, st.text,
    the headers and cells of data grids (st.dataframe)."""
    found: list[str] = []
    for root in (app.sidebar, app.main):
        for node in root:
            proto = getattr(node, "proto", None)
            name = proto.DESCRIPTOR.name if isinstance(proto, Message) else ""
            if name in ("Selectbox", "MultiSelect"):
                found.extend(proto.options)
            elif name == "Text":
                found.append(proto.body)
            elif node.type == "dataframe":
                found.extend(_frame_strings(node.value))
    return found


def visible_escapes(app) -> list[str]:
    """Texts where a reader would see an escape: a backslash (or word joiner) in plain text, or
    a backslash left in Markdown once its escapes are resolved (escaped twice)."""
    plain = [text for text in plain_strings(app) if carries_payload(text.replace("\\", "")) and ESCAPED.search(text)]
    twice = [source for source in rendered_markdown(app) if "\\" in text_form(source) and carries_payload(
        text_form(source).replace("\\", ""))]
    return plain + twice
