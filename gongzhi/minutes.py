"""A meeting's minutes (会议纪要), in the meeting's language: attendees, quorum, and every agenda
item with its decision, votes, lead organisation and due date. One list of blocks is rendered
two ways: Markdown text (kept on the meeting when it closes) and a printable PDF with a Chinese
font (fpdf2). No Streamlit here: the page, the CLI and the tests use the same builder.

The PDF needs a font with Chinese glyphs. It is looked up at run time in FONT_CANDIDATES (the
Debian/Ubuntu packages fonts-noto-cjk, fonts-wqy-zenhei or fonts-arphic-uming, and the Noto
paths of other distributions); with none installed, building the PDF fails with FontNotFound,
which names the package to install. The Markdown needs no font.

Why the font is converted before it is embedded. Noto Sans CJK has CFF (PostScript) outlines and
is CID-keyed; fpdf2 embeds such a font with an Encoding of its own (a CMap stream from its 2-byte
codes to the font's CIDs). That is valid PDF, but text extraction that does not implement
embedded CMaps (pypdf, and with it search and copy in tools built on it) falls back to a one-byte
encoding: each character then reads as a NUL plus the character, and every glyph past the 255th
of a document as two wrong characters. So only the glyphs the minutes use are taken from the font
(fontTools' subsetter) and their outlines converted to TrueType (quadratic, fontTools' cu2qu);
fpdf2 embeds a TrueType font with the standard Identity-H encoding and a ToUnicode map, which
every reader maps back to the minutes' text. A font that is TrueType already is only subset."""

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fpdf import FPDF
from sqlmodel import Session

from gongzhi.errors import GongzhiError
from gongzhi.escape import markdown_literal
from gongzhi.i18n import label, translate_plain
from gongzhi.queries.meetings import MeetingDetail, meeting_detail
from gongzhi.revisions import reads

# (font file, face number in a collection). Noto Sans CJK collections hold JP, KR, SC, TC, HK in
# that order: face 2 draws Chinese characters in their mainland (simplified) forms.
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # Debian/Ubuntu fonts-noto-cjk
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),  # Arch noto-fonts-cjk
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),  # Fedora google-noto-cjk-fonts
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # Debian/Ubuntu fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # Debian/Ubuntu fonts-arphic-uming
)
FONT_FAMILY = "gongzhi-cjk"


class FontNotFound(GongzhiError):
    key = "meetings.error_no_cjk_font"


@dataclass(frozen=True)
class Block:
    """One piece of the minutes. kind: title | meta | heading | item | field | signature."""

    kind: str
    text: str  # user text already combined with catalogue text where needed; never markup
    label: str = ""  # field: the catalogue label before the value; item: its number


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def item_title(lang: str, row) -> str:
    if row.issue_id is not None and not pd.isna(row.issue_id):
        return translate_plain(lang, "meetings.issue_ref", id=int(row.issue_id), title=_text(row.issue_title))
    return _text(row.topic)


def _item_blocks(lang: str, row) -> list[Block]:
    """One agenda item in the minutes: its title, the decision (with votes unless deferred at
    closing), lead and co-operating organisations, due date, merge target and note."""

    def t(key: str, **params) -> str:
        return translate_plain(lang, f"meetings.{key}", **params)

    at_close = bool(row.deferred_at_close)
    decided = isinstance(row.decision, str)
    decision = label(lang, "decision", row.decision) if decided else t("undecided")
    blocks = [Block("item", item_title(lang, row), f"{int(row.position)}."),
              Block("field", t("minutes_deferred_at_close") if at_close else decision, t("col_decision"))]
    if decided and not at_close:
        blocks.append(Block("field", t("minutes_votes", votes_for=int(row.votes_for),
                                       votes_against=int(row.votes_against), votes_abstain=int(row.votes_abstain)),
                            t("minutes_votes_label")))
    fields = [
        (_text(row.lead_org_name), "col_lead_org"),
        (("、" if lang == "zh-CN" else ", ").join(row.cooperator_names or ()), "minutes_cooperators"),
        (row.due_date.isoformat() if _text(row.due_date) else "", "col_due_date"),
        (f"#{int(row.merged_into_id)}" if _text(row.merged_into_id) else "", "field_merge_into"),
        (_text(row.decision_note), "col_decision_note"),
    ]
    blocks += [Block("field", value, t(key)) for value, key in fields if value]
    return blocks


def minutes_blocks(detail: MeetingDetail, lang: str | None = None) -> list[Block]:
    """The minutes as blocks, in `lang` (the meeting's language when not given): who chaired and
    recorded, who attended and who was absent, quorum, every item with its decision, votes, lead
    and co-operating organisations and due date, and lines for the signatures."""
    lang = lang or detail.language

    def t(key: str, **params) -> str:
        return translate_plain(lang, f"meetings.{key}", **params)

    separator = "、" if lang == "zh-CN" else ", "
    quorum = {True: t("minutes_quorum_met"), False: t("minutes_quorum_not_met"), None: t("minutes_quorum_unknown")}
    blocks = [
        Block("title", t("minutes_title", title=detail.title)),
        Block("meta", t("minutes_meta", kind=label(lang, "meeting_kind", detail.kind),
                        held_at=detail.held_at.strftime("%Y-%m-%d %H:%M"), place=detail.place or "—")),
        Block("meta", t("minutes_chair_recorder", chair=detail.chair or "—", recorder=detail.recorder or "—")),
        Block("heading", t("minutes_attendees", count=len(detail.attendees))),
        Block("meta", separator.join(detail.attendees) or t("no_attendees")),
        Block("heading", t("minutes_absentees", count=len(detail.absentees))),
        Block("meta", separator.join(detail.absentees) or t("no_absentees")),
        Block("meta", t("minutes_quorum_line", quorum=detail.quorum, present=len(detail.attendees),
                        met=quorum[None if detail.quorum_met is None else bool(detail.quorum_met)])),
        Block("heading", t("minutes_items", count=len(detail.agenda))),
    ]
    if detail.agenda.empty:
        blocks.append(Block("meta", t("agenda_empty")))
    for row in detail.agenda.itertuples():
        blocks += _item_blocks(lang, row)
    not_reached = [str(int(row.position)) for row in detail.agenda.itertuples() if bool(row.deferred_at_close)]
    if not_reached:
        blocks.append(Block("meta", t("minutes_auto_deferred_note", positions=", ".join(not_reached))))
    blocks.append(Block("heading", t("minutes_signatures")))
    for key in ("minutes_sign_chair", "minutes_sign_recorder", "minutes_sign_date"):
        blocks.append(Block("signature", "", t(key)))
    return blocks


def minutes_markdown(detail: MeetingDetail, lang: str | None = None, *, top_level: int = 1) -> str:
    """The minutes as Markdown; its title is a heading of `top_level` (a page that has its own
    title shows them from level 2), sections and items one and two levels below."""
    title, section, item = ("#" * (top_level + depth) for depth in range(3))
    lines: list[str] = []
    for block in minutes_blocks(detail, lang):
        if block.kind == "title":
            lines += [f"{title} {markdown_literal(block.text, starts_line=False)}", ""]
        elif block.kind == "meta":
            lines += [markdown_literal(block.text), ""]
        elif block.kind == "heading":
            lines += ["", f"{section} {markdown_literal(block.text, starts_line=False)}", ""]
        elif block.kind == "item":
            lines += ["", f"{item} {block.label} {markdown_literal(block.text, starts_line=False)}", ""]
        elif block.kind == "signature":
            lines += [f"{markdown_literal(block.label)} {SIGNATURE_BLANK}", ""]
        else:
            lines.append(f"- **{markdown_literal(block.label, starts_line=False)}**: "
                         f"{markdown_literal(block.text, starts_line=False)}")
    return "\n".join(lines).strip() + "\n"


def find_cjk_font() -> tuple[Path, int]:
    """The first installed font of FONT_CANDIDATES, as (path, face number)."""
    for path, face in FONT_CANDIDATES:
        if Path(path).is_file():
            return Path(path), face
    raise FontNotFound(paths=", ".join(path for path, _ in FONT_CANDIDATES))


CURVE_TOLERANCE = 1.0  # font units (of 1,000 per em): far below a printer's dot at any size used here
MAXP_TRUETYPE = {"maxZones": 1, "maxTwilightPoints": 0, "maxStorage": 0, "maxFunctionDefs": 0,
                 "maxInstructionDefs": 0, "maxStackElements": 0, "maxSizeOfInstructions": 0,
                 "maxComponentElements": 0, "maxComponentDepth": 0}


def truetype_subset(font_path: Path, face: int, text: str, target: Path) -> Path:
    """Write to `target` the glyphs of `font_path` (face `face`) that `text` needs, as a TrueType
    font (module docstring: why)."""
    font = TTFont(str(font_path), fontNumber=face)
    options = subset.Options()
    options.layout_features = []  # no shaping tables: fpdf2 places glyphs one after another
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text))))
    subsetter.subset(font)
    if "CFF " in font:
        order = font.getGlyphOrder()
        glyphs = font.getGlyphSet()
        glyf = newTable("glyf")
        glyf.glyphOrder, glyf.glyphs = order, {}
        for name in order:
            pen = TTGlyphPen(None)
            glyphs[name].draw(Cu2QuPen(pen, max_err=CURVE_TOLERANCE, reverse_direction=True))
            glyf.glyphs[name] = pen.glyph()
        font["loca"], font["glyf"] = newTable("loca"), glyf
        for tag in ("CFF ", "VORG"):
            if tag in font:
                del font[tag]
        maxp = font["maxp"]
        maxp.tableVersion = 0x00010000
        for name, value in MAXP_TRUETYPE.items():
            setattr(maxp, name, value)
        font["head"].glyphDataFormat = 0
        post = font["post"]
        post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
        font.sfntVersion = "\x00\x01\x00\x00"
    font.save(str(target))
    return target


SIZES = {"title": 18, "heading": 14, "item": 12.5, "meta": 11, "field": 11, "signature": 12}
SPACE_BEFORE = {"heading": 4, "item": 3, "signature": 8}
SIGNATURE_BLANK = "\\_" * 24  # Markdown: a line to sign on (escaped underscores, not emphasis)
SIGNATURE_LINE_MM = 80


def _pdf_lines(blocks: list[Block], lang: str) -> list[tuple[Block, str]]:
    """Each block with the text the PDF prints for it."""
    lines = []
    for block in blocks:
        text = " ".join(block.text.split())
        if block.kind == "field":
            text = translate_plain(lang, "meetings.minutes_field", label=block.label, value=text)
        elif block.kind == "item":
            text = f"{block.label} {text}"
        elif block.kind == "signature":
            text = block.label
        lines.append((block, text))
    return lines


def minutes_pdf(detail: MeetingDetail, lang: str | None = None) -> bytes:
    """The minutes as an A4 PDF, with the glyphs it uses embedded (as TrueType: module docstring)
    so it prints anywhere and its text can be searched and copied."""
    lang = lang or detail.language
    font_path, face = find_cjk_font()
    title = translate_plain(lang, "meetings.minutes_title", title=detail.title)
    lines = _pdf_lines(minutes_blocks(detail, lang), lang)
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    with tempfile.TemporaryDirectory(prefix="gongzhi-minutes-") as folder:
        font_file = truetype_subset(font_path, face, title + "".join(text for _, text in lines),
                                    Path(folder) / "minutes-font.ttf")
        pdf.add_font(FONT_FAMILY, fname=str(font_file))
        pdf.set_title(title)
        pdf.set_lang(lang)
        pdf.set_creator("Gongzhi")
        pdf.add_page()
        for block, text in lines:
            size = SIZES[block.kind]
            pdf.set_font(FONT_FAMILY, size=size)
            if block.kind in SPACE_BEFORE:
                pdf.ln(SPACE_BEFORE[block.kind])
            if block.kind == "signature":
                pdf.set_x(pdf.l_margin)
                pdf.cell(pdf.get_string_width(text) + 2, size * 0.55, text)
                pdf.line(pdf.get_x(), pdf.get_y() + size * 0.5, pdf.get_x() + SIGNATURE_LINE_MM,
                         pdf.get_y() + size * 0.5)
                pdf.ln(size * 0.55)
                continue
            indent = 6 if block.kind == "field" else 0
            pdf.set_x(pdf.l_margin + indent)
            pdf.multi_cell(pdf.epw - indent, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())


@reads(meeting_detail)
def meeting_minutes_pdf(*, session: Session, meeting_id: int) -> bytes | None:
    """The PDF minutes of one meeting in its language (None when there is no such meeting), in
    the signature of a query so that pages can cache it on the data revision."""
    detail = meeting_detail(session=session, meeting_id=meeting_id)
    return None if detail is None else minutes_pdf(detail)
