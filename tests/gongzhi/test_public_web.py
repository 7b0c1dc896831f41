"""公示, a grid's public page (/grid/{id}), as a signed-out visitor gets it through the app's own
middleware: its screened open issues with their step, the decisions of its last meetings and how
they stand, its headline figures — each checked against an independent count in SQL; never an
issue waiting for screening, a resident's rejected report, a name or a phone number; every text
escaped; Chinese by default, English with ?lang=en."""

import re
from html.parser import HTMLParser

import pytest

from gongzhi.clock import today
from gongzhi.i18n import label, translate_plain
from gongzhi.public_web import LAST_MEETINGS
from gongzhi.queries.common import twelve_months_start
from tests.asgi import call, change, public_app
from tests.conftest import Sql
from tests.personal_data import full_mobiles

GRID = 3  # the demo's first grid (第一网格)
OPEN = ("reported", "grid_review", "meeting", "in_action", "resident_review")


class Texts(HTMLParser):
    """The texts a person sees on a page (no markup, no style), each on its own."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data.strip())


@pytest.fixture
def demo(public_demo):
    return public_demo


def texts_of(html: str) -> list[str]:
    parser = Texts()
    parser.feed(html)
    return parser.texts


def section(html: str, heading_id: str) -> str:
    return html.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


def listed_ids(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'<div class="gz-title">#(\d+) ', html)]


def open_screened_ids(sql: Sql, grid_id: int) -> set[int]:
    return {row[0] for row in sql.execute(
        "SELECT id FROM issue WHERE grid_id = :grid AND deleted_at IS NULL AND awaiting_screening = :no "
        "AND state IN ('reported', 'grid_review', 'meeting', 'in_action', 'resident_review')",
        grid=grid_id, no=False).all()}


def an_open_issue(sql: Sql) -> int:
    """One of GRID's screened open issues (which steps the demo's issues are at depends on the day
    it is built for, so no test counts on one step being there)."""
    found = open_screened_ids(sql, GRID)
    assert found, "the demo's first grid has no open issue"
    return min(found)


def test_a_signed_out_visitor_sees_the_grids_screened_open_issues_with_their_step(demo):
    waiting = an_open_issue(demo)  # as a resident's new report: reported, waiting for screening
    change(demo, "UPDATE issue SET awaiting_screening = :yes, source = 'resident', state = 'reported' WHERE id = :id",
           yes=True, id=waiting)
    answer = call(public_app(), "GET", f"/grid/{GRID}")
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/html")
    issues = section(answer.text, "gz-issues")
    expected = open_screened_ids(demo, GRID)
    assert expected and set(listed_ids(issues)) == expected and waiting not in listed_ids(answer.text)
    # Each issue shows the loop's five steps with its own marked as the current one.
    states = dict(demo.execute("SELECT id, state FROM issue WHERE grid_id = :grid", grid=GRID).all())
    for item in issues.split("<li><div")[1:]:
        number = int(re.search(r"#(\d+) ", item).group(1))
        current = re.search(r'<li class="gz-now" aria-current="step">([^<]+)</li>', item).group(1)
        assert current == label("zh-CN", "state", states[number])
    assert 'lang="zh-CN"' in answer.text and translate_plain("zh-CN", "public.report_link") in answer.text
    assert f'href="/report/{GRID}?lang=zh-CN"' in answer.text


def test_the_headline_figures_count_only_what_the_public_may_see(demo):
    change(demo, "UPDATE issue SET awaiting_screening = :yes, source = 'resident' WHERE id IN "
                 "(SELECT id FROM issue WHERE grid_id = :grid AND state = 'reported')", yes=True, grid=GRID)
    figures = texts_of(section(call(public_app(), "GET", f"/grid/{GRID}", query={"lang": "en"}).text, "gz-figures"))
    shown = dict(zip(figures[2::2], figures[1::2], strict=False))
    on = today()
    overdue = demo.scalar("SELECT COUNT(*) FROM issue WHERE grid_id = :grid AND deleted_at IS NULL "
                          "AND awaiting_screening = :no AND state IN ('reported', 'grid_review', 'meeting', "
                          "'in_action') AND due_date < :on", grid=GRID, no=False, on=on)
    assert shown[translate_plain("en", "public.figure_open")] == str(len(open_screened_ids(demo, GRID)))
    assert shown[translate_plain("en", "public.figure_overdue")] == str(overdue)


def test_the_decisions_of_the_last_meetings_on_the_grids_issues_and_how_they_stand(demo):
    decisions = section(call(public_app(), "GET", f"/grid/{GRID}", query={"lang": "en"}).text, "gz-decisions")
    shown = {}
    for meeting in decisions.split('<h3 class="gz-meeting">')[1:]:
        held = re.search(r"\d{4}-\d{2}-\d{2}", meeting.split("</h3>")[0]).group(0)  # the meeting's heading
        for item in meeting.split("<li><div")[1:]:
            shown[(int(re.search(r"#(\d+) ", item).group(1)), held)] = item
    rows = demo.execute(
        "SELECT a.issue_id, m.id AS meeting, m.held_at, i.state, i.due_date, a.decision FROM agendaitem a "
        "JOIN meeting m ON m.id = a.meeting_id JOIN issue i ON i.id = a.issue_id "
        "WHERE a.decision IS NOT NULL AND m.status = 'held' AND m.deleted_at IS NULL AND i.deleted_at IS NULL "
        "AND i.grid_id = :grid AND m.held_at >= :since", grid=GRID, since=twelve_months_start(today())).all()
    held = {row.meeting: str(row.held_at) for row in rows}
    latest = sorted(held, key=held.get, reverse=True)[:LAST_MEETINGS]
    expected = {(row.issue_id, str(row.held_at)[:10]): row for row in rows if row.meeting in latest}
    assert expected and set(shown) == set(expected)
    # How each approved one stands, computed here from its state and due date.
    for key, row in expected.items():
        if row.decision != "approve":
            continue
        if row.state in ("resident_review", "closed", "closed_unrated"):
            status = "done"
        elif row.state == "in_action" and str(row.due_date) < today().isoformat():
            status = "overdue"
        else:
            status = "on_time"
        assert translate_plain("en", f"meetings.status_{status}") in shown[key]


def test_no_name_and_no_phone_number_on_the_page(demo):
    issue_id = an_open_issue(demo)
    change(demo, "UPDATE issue SET title = :title WHERE id = :id", title="楼道灯坏了，请回电 138 0013 8000", id=issue_id)
    html = call(public_app(), "GET", f"/grid/{GRID}").text
    texts = texts_of(html)
    assert issue_id in listed_ids(html) and not full_mobiles(texts) and not full_mobiles([html])
    assert any("138****8000" in text for text in texts)
    names = {row[0] for row in demo.execute(
        "SELECT p.name FROM person p JOIN issue i ON i.reporter_id = p.id WHERE i.grid_id = :grid "
        "UNION SELECT p.name FROM person p JOIN area a ON a.leader_id = p.id WHERE a.id = :grid", grid=GRID).all()}
    assert names and not [name for name in names if name in html]


def test_every_text_is_escaped(demo):
    issue_id = an_open_issue(demo)
    change(demo, "UPDATE issue SET title = :title WHERE id = :id", title='<img src=x onerror="alert(1)">', id=issue_id)
    html = call(public_app(), "GET", f"/grid/{GRID}").text
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<script" not in html  # no script at all (the Content-Security-Policy runs none inline)


def test_english_on_request_and_an_unknown_grid_is_not_found(demo):
    english = call(public_app(), "GET", f"/grid/{GRID}", query={"lang": "en"})
    assert 'lang="en"' in english.text and translate_plain("en", "public.decisions_title") in english.text
    missing = call(public_app(), "GET", "/grid/999999")
    assert missing.status == 404 and translate_plain("zh-CN", "public.no_such_grid") in missing.text
    assert call(public_app(), "GET", "/grid/abc").status == 404


def test_no_report_link_where_residents_reports_are_switched_off(demo, monkeypatch):
    monkeypatch.setenv("GONGZHI_RESIDENT_REPORTS", "0")
    html = call(public_app(), "GET", f"/grid/{GRID}").text
    assert "/report/" not in html and translate_plain("zh-CN", "public.report_link") not in html
