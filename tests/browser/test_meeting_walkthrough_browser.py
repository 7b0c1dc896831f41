"""A whole meeting run on a projector at 1024×768, as a committee runs it: from the agenda, the
attendance, a unanimous approval, a rejection, every other item looked at, "defer the rest", close
(with chair and recorder) and the minutes PDF. For every item the screen starts at the item: its
title and its decision buttons lie inside the window, nothing scrolled. The meeting is closed
before its planned date, and the minutes view still finds it."""

import io

import pytest
from sqlalchemy import select

from gongzhi.clock import today
from gongzhi.db import get_engine, read_session
from gongzhi.i18n import label, translate
from gongzhi.models import AgendaItem, Issue, Meeting
from gongzhi.queries.meetings import attendee_names
from tests.browser.helpers import TIMEOUT_MS, save_screenshot, wait_for_app
from tests.browser.projector_helpers import PROJECTOR_VIEWPORT, open_in_projector, sign_in_at

pytestmark = pytest.mark.browser
LANG = "en"
CHAIR, RECORDER = "王主任", "李秘书"


def t(key: str, **params) -> str:
    return translate(LANG, key, **params)


def _planned_meeting(url: str) -> tuple[Meeting, list[tuple]]:
    with read_session(get_engine(url)) as session:
        meeting = session.execute(select(Meeting).where(Meeting.status == "planned")
                                  .order_by(Meeting.held_at, Meeting.id)).scalars().first()
        rows = session.execute(select(AgendaItem.id, AgendaItem.position, Issue.id, Issue.title, Issue.state)
                               .outerjoin(Issue, Issue.id == AgendaItem.issue_id)
                               .where(AgendaItem.meeting_id == meeting.id)
                               .order_by(AgendaItem.position)).all()
        session.expunge(meeting)
        return meeting, [tuple(row) for row in rows]


def _inside_window(page, selectors: list[str]) -> None:
    """Wait until every element lies wholly inside the 1024×768 window (the screen scrolls to the
    item after each run), then check each bounding box."""
    script = """(selectors) => selectors.every((s) => { const e = document.querySelector(s); if (!e) return false;
                  const b = e.getBoundingClientRect();
                  return b.height > 0 && b.top >= 0 && b.left >= 0 && b.bottom <= window.innerHeight
                         && b.right <= window.innerWidth; })"""
    try:
        page.wait_for_function(script, arg=selectors, timeout=TIMEOUT_MS)
    except Exception:
        save_screenshot(page, "meeting-walkthrough-failed")
    for selector in selectors:
        box = page.locator(selector).first.bounding_box()
        assert box is not None, selector
        assert box["y"] >= 0 and box["y"] + box["height"] <= PROJECTOR_VIEWPORT["height"], (selector, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PROJECTOR_VIEWPORT["width"], (selector, box)


def _item_on_screen(page, item_id: int, position: int, issue_id: int | None, title: str | None, total: int,
                    *, undecided: bool = True) -> None:
    page.get_by_text(t("meetings.live_position", n=position, total=total), exact=True).wait_for(timeout=TIMEOUT_MS)
    heading = page.locator(".st-key-meeting_item h2").first
    expected = f"{position}. #{issue_id} {title}" if issue_id is not None else None
    if expected:
        page.locator(".st-key-meeting_item h2").filter(has_text=title).first.wait_for(timeout=TIMEOUT_MS)
        assert heading.inner_text().strip() == expected
    wait_for_app(page)
    selectors = [".st-key-meeting_item h2"]
    if undecided:
        selectors += [f".st-key-decide_kind_{item_id} button", f".st-key-decide_unanimous_{item_id} button",
                      f".st-key-decide_submit_{item_id} button"]
    _inside_window(page, selectors)
    if undecided:
        buttons = page.locator(f".st-key-decide_kind_{item_id} button")
        for index in range(buttons.count()):  # every decision the item allows, not only the first
            box = buttons.nth(index).bounding_box()
            assert 0 <= box["y"] and box["y"] + box["height"] <= PROJECTOR_VIEWPORT["height"]


def _press_until(page, key: str, reached, items: int) -> None:
    """Move through the agenda by `key` until `reached()`: at most one press per item, the screen
    focused before each (a rerun may take the focus), so that a lost press fails the test instead
    of looping for ever."""
    for _ in range(items):
        if reached():
            return
        page.locator(".st-key-meeting_item h2").first.click()
        page.keyboard.press(key)
        wait_for_app(page)
    assert reached(), f"{key} {items} times did not reach the item"


def _choose(page, container: str, option_index: int = 0) -> None:
    page.locator(f"{container} [role='combobox']").first.click()
    page.locator("[role='option']").nth(option_index).click()


def test_a_whole_meeting_on_a_projector(app_server, browser):
    from pypdf import PdfReader

    meeting, agenda = _planned_meeting(app_server.database_url)
    total = len(agenda)
    waiting = [row for row in agenda if row[2] is not None and row[4] == "meeting"]
    assert total >= 4 and len(waiting) >= 2, "the demo's planned meeting has issues waiting for it"
    context = browser.new_context(viewport=PROJECTOR_VIEWPORT, locale="en-US", accept_downloads=True)
    page = context.new_page()
    sign_in_at(page, f"{app_server.url}/?lang={LANG}&mode=projector", "committee")
    open_in_projector(page, t("nav.meetings"))
    page.get_by_test_id("stRadioGroup").get_by_text(t("meetings.view_live"), exact=True).click()
    page.locator("h1").filter(has_text=meeting.title).wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page)

    # Attendance: everyone invited came (the list starts from the invitation); quorum held.
    invited = attendee_names(meeting.invited)
    page.get_by_role("button", name=t("meetings.attendance_heading")).click()
    body = page.locator("[data-testid='stPopoverBody']")
    assert body.locator("textarea").input_value().split("\n") == list(invited)
    body.get_by_text(translate(LANG, "common.yes"), exact=True).click()
    body.get_by_role("button", name=t("meetings.attendance_submit")).click()
    page.get_by_text(t("meetings.attendance_saved")).wait_for(timeout=TIMEOUT_MS)
    page.keyboard.press("Escape")
    wait_for_app(page)
    present = len(invited)

    # Item 1, an issue waiting for the meeting: approved unanimously with a lead organisation.
    approve = waiting[0]
    reject = waiting[1]
    order = [row[1] for row in agenda]
    for _ in agenda[:order.index(approve[1])]:
        page.locator(".st-key-meeting_item h2").first.click()
        page.keyboard.press("PageDown")
    item_id, position, issue_id, title, _ = approve
    _item_on_screen(page, item_id, position, issue_id, title, total)
    save_screenshot(page, "meeting-walkthrough-approve")
    _choose(page, f".st-key-decide_lead_{item_id}")
    page.locator(f".st-key-decide_unanimous_{item_id} button").click()
    page.get_by_text(t("meetings.live_position", n=position + 1, total=total), exact=True).wait_for(timeout=TIMEOUT_MS)

    # The next item waiting for the meeting: rejected, with a reason and a note.
    _press_until(page, "PageDown", lambda: page.locator(f".st-key-decide_kind_{reject[0]}").count() > 0, total)
    item_id, position, issue_id, title, _ = reject
    _item_on_screen(page, item_id, position, issue_id, title, total)
    page.locator(f".st-key-decide_kind_{item_id}").get_by_text(label(LANG, "decision", "reject"), exact=True).click()
    page.locator(f".st-key-decide_reason_{item_id}").wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page)
    _inside_window(page, [".st-key-meeting_item h2", f".st-key-decide_unanimous_{item_id} button"])
    _choose(page, f".st-key-decide_reason_{item_id}")
    page.locator(f".st-key-decide_note_{item_id} input").fill("不属于居委会职责，已告知居民向街道反映")
    save_screenshot(page, "meeting-walkthrough-reject")
    page.locator(f".st-key-decide_unanimous_{item_id} button").click()
    page.get_by_text(t("meetings.live_position", n=min(position + 1, total), total=total),
                     exact=True).wait_for(timeout=TIMEOUT_MS)

    # Every item from the first, by Page Up / Page Down: each starts at the top of the screen.
    _press_until(page, "PageUp",
                 lambda: page.get_by_text(t("meetings.live_position", n=1, total=total), exact=True).is_visible(), total)
    decided = {approve[0], reject[0]}
    for index, (item_id, position, issue_id, title, _) in enumerate(agenda):
        if index:
            page.locator(".st-key-meeting_item h2").first.click()
            page.keyboard.press("PageDown")
        _item_on_screen(page, item_id, position, issue_id, title, total, undecided=item_id not in decided)
        if index == 2:
            save_screenshot(page, "meeting-walkthrough-item")

    # The rest is deferred after one confirmation.
    page.get_by_role("button", name=t("meetings.defer_rest", count=total - 2)).click()
    page.get_by_role("button", name=t("meetings.defer_rest_confirm", count=total - 2)).click()
    page.get_by_text(t("meetings.defer_rest_saved", count=total - 2)).wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page)

    # Closed, with its chair and recorder, days before its planned date: the minutes follow.
    page.get_by_role("button", name=t("meetings.close_heading")).click()
    body = page.locator("[data-testid='stPopoverBody']")
    body.get_by_label(t("meetings.field_chair")).fill(CHAIR)
    body.get_by_label(t("meetings.field_recorder")).fill(RECORDER)
    body.get_by_role("button", name=t("meetings.close_submit")).click()
    page.get_by_role("heading", name=t("meetings.minutes_title", title=meeting.title)).wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page)
    save_screenshot(page, "meeting-walkthrough-minutes")

    with read_session(get_engine(app_server.database_url)) as session:
        closed = session.get(Meeting, meeting.id)
        items = {item.id: item for item in session.execute(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)).scalars()}
        assert closed.status == "held" and (closed.chair, closed.recorder) == (CHAIR, RECORDER)
        assert (items[approve[0]].decision, items[approve[0]].votes_for, items[approve[0]].votes_against,
                items[approve[0]].votes_abstain) == ("approve", present, 0, 0)
        assert items[approve[0]].lead_org_id is not None
        assert (items[reject[0]].decision, items[reject[0]].votes_for) == ("reject", present)
        rest = [item for item in items.values() if item.id not in decided]
        assert rest and all(item.decision == "defer" and not item.deferred_at_close for item in rest)
        assert closed.held_at.date() > today(), "closed before its planned date, yet listed and shown"
        minutes_lang = closed.language

    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.get_by_role("button", name=t("meetings.download_pdf")).click()
    data = open(download.value.path(), "rb").read()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    squeezed = "".join(text.replace("\x00", "").split())

    def in_pdf(key: str, **params) -> bool:
        return "".join(translate(minutes_lang, key, **params).split()) in squeezed

    assert "".join(meeting.title.split()) in squeezed
    assert in_pdf("meetings.minutes_votes", votes_for=present, votes_against=0, votes_abstain=0)
    # 主持人 and 记录人 twice each: named under the title, and on their signature lines, which are
    # drawn as lines (fpdf2's "x y l S") on the last page. (pypdf reads a few CJK glyphs of the
    # subset font back as other characters, so the labels' other words are not compared.)
    chair_word, recorder_word = (("主持人", "记录人") if minutes_lang == "zh-CN" else ("Chair", "Recorder"))
    assert squeezed.count(chair_word) >= 2 and squeezed.count(recorder_word) >= 2
    last_page = PdfReader(io.BytesIO(data)).pages[-1].get_contents().get_data()
    assert last_page.count(b" l S") >= 3
    context.close()
