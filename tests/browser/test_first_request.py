"""A bookmark to a page as the very first request a new server gets: the page must come up inside
the app (menu, data, no error)."""

import pytest

from gongzhi.i18n import translate
from tests.browser.conftest import AppServer
from tests.browser.helpers import open_from_menu, sign_in, wait_for_app

pytestmark = pytest.mark.browser


def test_a_page_bookmark_works_as_the_first_request_after_a_start(demo_url, tmp_path, page):
    server = AppServer(demo_url, tmp_path / "streamlit.log")
    try:
        page.page.goto(f"{server.url}/volunteers?lang=en")
        wait_for_app(page.page)
        # Signed out, the bookmark leads to the sign-in page, drawn by the app (no error).
        assert page.page.locator("h1").first.inner_text().strip() == translate("en", "nav.login")
        assert page.page.locator("[data-testid='stException']").count() == 0
        sign_in(page.page, server.url, "leader")
        open_from_menu(page.page, translate("en", "nav.volunteers"))
        page.page.wait_for_selector("[data-testid='stMetric']")
        menu = page.page.locator("[data-testid='stSidebarNav']").inner_text()
        assert translate("en", "nav.grid_map") in menu and translate("en", "nav.meetings") in menu
        assert page.page.locator("[data-testid='stException']").count() == 0
    finally:
        server.stop()
