"""axe-core (bundled with axe-playwright-python, nothing fetched) on every page of the menu, in
the default look and in projector mode, in Chromium: no serious or critical violation.
Signed in as the admin, whose menu holds every page but the login page (opened signed out).
axe checks the page itself; the map's Leaflet iframe is a separate document it does not enter."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from components.navigation import LOGIN_PAGE, PAGES
from gongzhi.i18n import translate
from tests.browser.helpers import TIMEOUT_MS, open_from_menu, rerun_by, sign_in, wait_until_drawn
from tests.browser.projector_helpers import new_page, open_in_projector, sign_in_at

pytestmark = pytest.mark.browser

MODES = ("default", "projector")
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def signed_in(browser, app_server):
    """One signed-in admin tab per mode, reused across the pages of this module."""
    tabs = {}

    def tab(mode: str):
        if mode not in tabs:
            recorded = new_page(browser)
            if mode == "projector":
                sign_in_at(recorded.page, f"{app_server.url}/?lang=en&mode=projector", "admin")
            else:
                sign_in(recorded.page, app_server.url, "admin")
            tabs[mode] = recorded
        return tabs[mode].page

    yield tab
    for recorded in tabs.values():
        recorded.page.context.close()


def _open(entry, mode: str, signed_in, browser, app_server):
    title = translate("en", entry.title_key)
    if entry.url_path == LOGIN_PAGE:
        page = new_page(browser).page
        page.goto(f"{app_server.url}/{LOGIN_PAGE}?lang=en" + ("&mode=projector" if mode == "projector" else ""))
        page.locator("h1").filter(has_text=title).wait_for(timeout=TIMEOUT_MS)
        wait_until_drawn(page)
        return page
    page = signed_in(mode)
    if mode == "projector":
        open_in_projector(page, title)
    else:
        open_from_menu(page, title)
    wait_until_drawn(page)  # charts and maps drawn before axe looks
    return page


def _report(violations: list[dict]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in violations]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("entry", PAGES, ids=[entry.url_path for entry in PAGES])
def test_no_serious_or_critical_accessibility_violation(entry, mode, signed_in, browser, app_server):
    page = _open(entry, mode, signed_in, browser, app_server)
    assert ("mode=projector" in page.url) == (mode == "projector")
    violations = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, _report(blocking)
    if entry.url_path == LOGIN_PAGE:
        page.context.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("view", ["live", "minutes", "follow_up"])
def test_the_meeting_views_have_no_serious_or_critical_violation(view, mode, browser, app_server):
    """The meetings page's other views (the live meeting is what the room looks at), each in a
    tab of its own: the page remembers the chosen view."""
    recorded = new_page(browser)
    page = recorded.page
    if mode == "projector":
        sign_in_at(page, f"{app_server.url}/?lang=en&mode=projector", "admin")
        open_in_projector(page, translate("en", "nav.meetings"))
    else:
        sign_in(page, app_server.url, "admin")
        open_from_menu(page, translate("en", "nav.meetings"))
    with rerun_by(page):
        page.get_by_test_id("stRadioGroup").get_by_text(translate("en", f"meetings.view_{view}"), exact=True).click()
    # The overview's title has given way to the view's, and the view is drawn.
    assert page.locator("h1").filter(has_text=translate("en", "nav.meetings")).count() == 0
    wait_until_drawn(page)
    violations = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    page.context.close()
    assert not blocking, _report(blocking)
