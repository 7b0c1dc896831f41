"""Minutes of a meeting with one item of every decision kind (and a free topic): the Markdown and
the PDF (text extracted with pypdf) each name every item with its decision, votes, lead
organisation and due date, in the meeting's language; user text stays literal in Markdown; a
server without a Chinese font gets a clear error."""

import io
import re
from datetime import date, datetime

import pytest
from pypdf import PdfReader
from sqlmodel import Session

from gongzhi import i18n, minutes
from gongzhi.minutes import FontNotFound, minutes_markdown, minutes_pdf
from gongzhi.models import AgendaItem, Area, Issue, Meeting, Organisation
from gongzhi.queries.meetings import meeting_detail

DUE = date(2031, 3, 15)
ITEMS = [  # (issue title or None, topic, decision, votes, lead organisation?, due?, merged into #, note)
    ("停车难", "", "approve", (7, 1, 2), True, True, None, "先划线"),
    ("充电桩 <script>", "", "reject", (6, 2, 0), False, False, None, "属供电公司职责"),
    ("重复停车", "", "merge", (8, 0, 1), False, False, "停车难", "同一车库"),
    ("加装电梯", "", "defer", (3, 4, 2), False, False, None, "资金未落实"),
    (None, "修订 *居民公约* [链接](http://x)", "approve", (9, 0, 0), True, True, None, ""),
]


@pytest.fixture
def meeting_id(write):
    with write() as session:
        grid = Area(code="G1", name="一网格", level="grid")
        org = Organisation(name="桃源居物业", kind="property_manager")
        session.add_all([grid, org])
        session.flush()
        meeting = Meeting(title="六月议事会", kind="deliberation", held_at=datetime(2031, 2, 20, 19, 30),
                          place="社区活动中心", status="held", attendees="王主任\n李网格长\n张代表", quorum=3,
                          quorum_met=True, language="zh-CN")
        session.add(meeting)
        session.flush()
        issues = {}
        for position, (title, topic, decision, votes, lead, due, merged, note) in enumerate(ITEMS, start=1):
            issue_id = None
            if title:
                issue = Issue(title=title, category="parking", grid_id=grid.id, state="meeting", due_date=DUE)
                session.add(issue)
                session.flush()
                issues[title] = issue_id = issue.id
            session.add(AgendaItem(
                meeting_id=meeting.id, position=position, issue_id=issue_id, topic=topic, decision=decision,
                votes_for=votes[0], votes_against=votes[1], votes_abstain=votes[2], decision_note=note,
                lead_org_id=org.id if lead else None, due_date=DUE if due else None,
                merged_into_id=issues[merged] if merged else None))
        return meeting.id


def _detail(engine, meeting_id):
    with Session(engine) as session:
        return meeting_detail(session=session, meeting_id=meeting_id)


def _squeeze(text: str) -> str:
    """Text to compare without whitespace: pypdf puts spaces between CJK glyphs."""
    return re.sub(r"\s+", "", text)


def _expected_fragments(lang: str, detail) -> list[str]:
    """What the minutes must say, built from the fixture and the catalogue (not from the builder)."""
    t = i18n.translate
    fragments = [detail.title, "王主任", "李网格长", "张代表", "社区活动中心"]
    for row in detail.agenda.itertuples():
        fragments.append(t(lang, f"decision.{row.decision}"))
        fragments.append(t(lang, "meetings.minutes_votes", votes_for=row.votes_for, votes_against=row.votes_against,
                           votes_abstain=row.votes_abstain))
        if row.decision_note:
            fragments.append(row.decision_note)
    fragments += ["桃源居物业", DUE.isoformat(), f"#{int(detail.agenda['issue_id'].iloc[0])}"]
    return fragments


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_markdown_names_every_decision(engine, meeting_id, lang):
    detail = _detail(engine, meeting_id)
    text = minutes_markdown(detail, lang)
    for fragment in _expected_fragments(lang, detail):
        assert fragment in text, fragment
    assert text.count(f"- **{i18n.translate(lang, 'meetings.col_decision')}**:") == len(ITEMS)
    # every item under its own heading, in agenda order
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert [h.split(" ", 2)[1] for h in headings] == ["1.", "2.", "3.", "4.", "5."]
    assert i18n.translate(lang, "meetings.minutes_title", title="六月议事会") in text


def test_markdown_keeps_user_text_literal(engine, meeting_id):
    text = minutes_markdown(_detail(engine, meeting_id), "zh-CN")
    assert "<script>" not in text and "\\<script\\>" in text
    assert "\\*居民公约\\*" in text and "\\[链接\\](http:\u2060//x)" in text  # no autolink either


def test_markdown_defaults_to_the_meetings_language(engine, meeting_id):
    detail = _detail(engine, meeting_id)
    assert minutes_markdown(detail) == minutes_markdown(detail, "zh-CN")
    assert i18n.translate("zh-CN", "decision.defer") in minutes_markdown(detail)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_pdf_opens_and_names_every_decision(engine, meeting_id, lang):
    detail = _detail(engine, meeting_id)
    data = minutes_pdf(detail, lang)
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 1
    text = _squeeze("".join(page.extract_text() for page in reader.pages))
    for fragment in _expected_fragments(lang, detail):
        assert _squeeze(fragment) in text, fragment
    assert _squeeze("充电桩 <script>") in text  # plain text in a PDF: shown as typed
    assert "\\" not in text and "\u2060" not in text  # no Markdown escapes


def test_pdf_without_a_chinese_font_says_what_to_install(engine, meeting_id, monkeypatch, tmp_path):
    monkeypatch.setattr(minutes, "FONT_CANDIDATES", ((str(tmp_path / "missing.ttc"), 0),))
    with pytest.raises(FontNotFound) as raised:
        minutes_pdf(_detail(engine, meeting_id))
    assert "fonts-noto-cjk" in raised.value.message("en") and "missing.ttc" in raised.value.message("zh-CN")


@pytest.mark.parametrize(("typed", "literal"), [
    ("<b>x</b>", "\\<b\\>x\\</b\\>"),
    ("*a* _b_ `c` ~d~ $e$ |f|", "\\*a\\* \\_b\\_ \\`c\\` \\~d\\~ \\$e\\$ \\|f\\|"),
    ("[x](javascript:y)", "\\[x\\](javascript:\u2060y)"),
    # Found by Streamlit after escapes are resolved: shortcodes, directives, bare URLs, e-mail addresses
    (":red[X] :material/home: :+1:", ":\u2060red\\[X\\] :\u2060material/home: :\u2060+1:"),
    ("www.example.org http://x.org a@b.org", "www\u2060.example.org http:\u2060//x.org a@\u2060b.org"),
    ("&lt; 10:30 会议：下午", "\\&lt; 10:30 会议：下午"),
    ("# not a heading", "\\# not a heading"),
    ("- not a list", "\\- not a list"),
    ("12. not a list", "12\\. not a list"),
    ("two\nlines", "two lines"),
    ("#3 mid-line # stays", "#3 mid-line # stays"),  # no heading without a space after the #
    ("-5 +3.2 1.5", "-5 +3.2 1.5"),  # numbers, not list items
])
def test_markdown_literal(typed, literal):
    from gongzhi.escape import markdown_literal

    assert markdown_literal(typed) == literal
    assert markdown_literal("x " + typed, starts_line=False).startswith("x ")


# Hanzi spread over the whole CJK Unified Ideographs block of GB 2312-era text (U+4E00–U+9FA5),
# more than 255 distinct ones: fpdf2's CID encoding for Noto's CFF outlines read as one-byte codes
# garbled every glyph past the 255th (and put a NUL before each character).
HANZI = [chr(0x4E00 + step * 61) for step in range((0x9FA5 - 0x4E00) // 61)]


def _markdown_as_printed(markdown: str, lang: str) -> str:
    """The minutes' Markdown as plain text, as a reader sees it rendered: escapes and word joiners
    gone, no heading marks, a field as "label：value" (the catalogue's format), a signature line's
    blank left out."""
    lines = []
    for line in markdown.splitlines():
        line = line.replace("\u2060", "")
        line = re.sub(r"^#+ ", "", line)
        line = re.sub(r"(?:\\_)+$", "", line)
        field = re.match(r"^- \*\*(.*?)\*\*: (.*)$", line)
        if field:
            line = i18n.translate_plain(lang, "meetings.minutes_field", label=field[1], value=field[2])
        lines.append(re.sub(r"\\(.)", r"\1", line))
    return "\n".join(lines)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_pdf_text_equals_the_minutes_text(write, engine, lang):
    chunks = ["".join(HANZI[start:start + 12]) for start in range(0, len(HANZI), 12)]
    with write() as session:
        grid = Area(code="G9", name="桃源居第九网格", level="grid")
        org = Organisation(name="宝安区住房和建设局", kind="government")
        session.add_all([grid, org])
        session.flush()
        meeting = Meeting(title="十二月居民议事会（" + chunks[0] + "）", kind="deliberation",
                          held_at=datetime(2031, 12, 6, 19, 30), place="社区党群服务中心三楼",
                          status="held", attendees="王芳\n李建国\n赵晓燕", quorum=3, quorum_met=True,
                          language=lang, chair="王芳", recorder="赵晓燕")
        session.add(meeting)
        session.flush()
        for position, chunk in enumerate(chunks[1:], start=1):
            issue = Issue(title=f"楼道{chunk}", category="parking", grid_id=grid.id, state="meeting", due_date=DUE)
            session.add(issue)
            session.flush()
            session.add(AgendaItem(meeting_id=meeting.id, position=position, issue_id=issue.id, decision="approve",
                                   votes_for=3, votes_against=0, votes_abstain=0, lead_org_id=org.id,
                                   due_date=DUE, decision_note=f"先{chunk[::-1]}"))
        meeting_id = meeting.id
    detail = _detail(engine, meeting_id)
    markdown = minutes_markdown(detail, lang)
    assert len({char for char in markdown if "\u4e00" <= char <= "\u9fff"}) > 300
    reader = PdfReader(io.BytesIO(minutes_pdf(detail, lang)))
    extracted = "".join(page.extract_text() for page in reader.pages)
    assert "\x00" not in extracted
    # pypdf puts spaces between glyphs it finds apart, and lines break where the page ends: all
    # whitespace goes, every other character must be the same, in the same order.
    assert re.sub(r"\s+", "", extracted) == re.sub(r"\s+", "", _markdown_as_printed(markdown, lang))
