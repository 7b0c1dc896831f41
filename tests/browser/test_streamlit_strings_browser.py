"""Streamlit's own frontend strings follow the page language: the dropdown of a multiselect offers
"全选" and, for a filter that matches nothing, says "无结果" in zh-CN, and "Select all" / "No
results" in English (static/gongzhi-streamlit-strings.js with the catalogue's streamlit.* texts)."""

import pytest

from gongzhi.i18n import translate
from tests.browser.helpers import TIMEOUT_MS, open_from_menu, save_screenshot, sign_in, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_multiselect_dropdown_speaks_the_page_language(app_server, fresh_page, lang):
    page = fresh_page
    sign_in(page, app_server.url, "committee", lang=lang)
    open_from_menu(page, translate(lang, "nav.issues"))
    states = page.locator(".st-key-issue_filter_states input")
    states.click()
    page.keyboard.press("ArrowDown")
    options = page.locator("[role='listbox'] [role='option']")
    select_all = translate(lang, "streamlit.select_all")
    options.filter(has_text=select_all).first.wait_for(timeout=TIMEOUT_MS)
    assert options.first.inner_text().strip() == select_all
    save_screenshot(page, f"streamlit-strings-select-all-{lang}")
    states.fill("zzzz-nothing-matches")
    popover = page.locator("[role='listbox']")
    popover.get_by_text(translate(lang, "streamlit.no_results"), exact=True).wait_for(timeout=TIMEOUT_MS)
    save_screenshot(page, f"streamlit-strings-no-results-{lang}")
    other = "No results" if lang == "zh-CN" else "无结果"
    assert popover.get_by_text(other, exact=True).count() == 0
    assert page.evaluate("document.documentElement.lang") == lang
    page.keyboard.press("Escape")
    wait_for_app(page)
