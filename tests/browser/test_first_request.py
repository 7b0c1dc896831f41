"""A bookmark to a page as the very first request a new server gets: the sign-in page comes up
(no error, no "Page not found"), and signing in leads to that page inside the app (menu, data)."""

import pytest

from gongzhi.i18n import translate
from tests.browser.conftest import AppServer
from tests.browser.helpers import TIMEOUT_MS, fill_sign_in, wait_for_app

pytestmark = pytest.mark.browser


def test_a_page_bookmark_works_as_the_first_request_after_a_start(demo_url, tmp_path, page):
    server = AppServer(demo_url, tmp_path / "streamlit.log")
    try:
        page.page.goto(f"{server.url}/volunteers?lang=en")
        # Signed out, the bookmark leads to the sign-in page (served before the app loads).
        assert page.page.locator("h1").first.inner_text().strip() == translate("en", "nav.login")
        fill_sign_in(page.page, "leader")
        page.page.locator("h1").filter(has_text=translate("en", "nav.volunteers")).wait_for(timeout=TIMEOUT_MS)
        wait_for_app(page.page)
        assert page.page.url == f"{server.url}/volunteers?lang=en"
        page.page.wait_for_selector("[data-testid='stMetric']")
        menu = page.page.locator("[data-testid='stSidebarNav']").inner_text()
        assert translate("en", "nav.grid_map") in menu and translate("en", "nav.meetings") in menu
        assert page.page.locator("[data-testid='stException']").count() == 0
    finally:
        server.stop()
