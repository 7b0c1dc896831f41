"""The live meeting in Chromium at a projector's 1024×768: the demo's planned meeting shows its
first item, and on demand the issue's grid filled on a small map drawn from local assets only, Page Down
(a presentation clicker) moves to the next item, and the screen is saved for people to look at."""

import pytest
from sqlalchemy import select

from gongzhi.db import get_engine, read_session
from gongzhi.i18n import translate
from gongzhi.models import AgendaItem, Issue, Meeting
from tests.browser.helpers import (
    TIMEOUT_MS,
    frame_with,
    open_from_menu,
    rerun_by,
    save_screenshot,
    sign_in,
    wait_until_drawn,
)
from tests.browser.projector_helpers import body_font_sizes, new_page, open_in_projector, sign_in_at

pytestmark = pytest.mark.browser


def _planned_agenda(app_server) -> tuple[str, list[tuple]]:
    with read_session(get_engine(app_server.database_url)) as session:
        meeting = session.execute(select(Meeting).where(Meeting.status == "planned")
                                  .order_by(Meeting.held_at, Meeting.id)).scalars().first()
        rows = session.execute(select(AgendaItem.position, Issue.id, Issue.title, Issue.grid_id)
                               .outerjoin(Issue, Issue.id == AgendaItem.issue_id)
                               .where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position)).all()
        return meeting.title, [tuple(r) for r in rows]


def test_live_meeting_on_a_projector_screen(app_server, browser):
    """In projector mode, as the room sees it: large type, the item's grid on the map."""
    recorded = new_page(browser)
    page, context = recorded.page, recorded.page.context
    title, agenda = _planned_agenda(app_server)
    assert agenda and agenda[0][1] is not None, "the demo's planned meeting opens with an issue"
    sign_in_at(page, f"{app_server.url}/?lang=en&mode=projector", "committee")
    open_in_projector(page, translate("en", "nav.meetings"))
    with rerun_by(page):
        page.get_by_test_id("stRadioGroup").get_by_text(translate("en", "meetings.view_live"), exact=True).click()
    page.locator("h1").filter(has_text=title).wait_for(timeout=TIMEOUT_MS)
    position, issue_id, issue_title, _ = agenda[0]
    heading = page.locator("h2").filter(has_text=issue_title).first
    heading.wait_for(timeout=TIMEOUT_MS)
    assert heading.inner_text().strip() == f"{position}. #{issue_id} {issue_title}"
    assert min(body_font_sizes(page)) >= 24
    save_screenshot(page, "meeting-live-item")
    # The map is on demand: its panel replaces the decision, below the title and the facts.
    page.locator(".st-key-meeting_item [data-testid='stButtonGroup']").first.get_by_text(
        translate("en", "meetings.panel_map"), exact=True).click()
    frame = frame_with(page, "path.gongzhi-meeting-grid-item")
    assert frame.locator("path.gongzhi-meeting-grid-item").count() == 1
    assert "mode=projector" in page.url
    wait_until_drawn(page)
    save_screenshot(page, "meeting-live-item-map")

    heading.click()  # the shortcut listens on the page, not inside a field
    with rerun_by(page):
        page.keyboard.press("PageDown")
    page.get_by_text(translate("en", "meetings.live_position", n=2, total=len(agenda))).wait_for(timeout=TIMEOUT_MS)
    assert recorded.external_requests() == []
    context.close()


def test_minutes_download_as_pdf(app_server, browser):
    """The minutes view's PDF button downloads a PDF whose text names the meeting and its items."""
    import io

    from pypdf import PdfReader

    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    title, agenda = _planned_agenda(app_server)
    sign_in(page, app_server.url)
    open_from_menu(page, translate("en", "nav.meetings"))
    with rerun_by(page):
        page.get_by_test_id("stRadioGroup").get_by_text(translate("en", "meetings.view_minutes"), exact=True).click()
    page.get_by_role("heading", name=translate("en", "meetings.minutes_title", title=title)).wait_for(timeout=TIMEOUT_MS)
    save_screenshot(page, "meeting-minutes")
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.get_by_role("button", name=translate("en", "meetings.download_pdf")).click()
    data = open(download.value.path(), "rb").read()
    assert data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    squeezed = "".join(text.replace("\x00", "").split())
    assert "".join(title.split()) in squeezed
    for _, issue_id, issue_title, _ in agenda:
        if issue_id is not None:
            assert "".join(issue_title.split()) in squeezed, issue_title
    context.close()
