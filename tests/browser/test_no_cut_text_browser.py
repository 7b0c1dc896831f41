"""No text cut short, on any page of the menu: in projector mode at a projector's 1024×768 and in
normal mode at a laptop's 1280×800, in Chinese and in English. Cut means an element that ends its
text with an ellipsis (`text-overflow: ellipsis`) whose text is wider than its box, or a headline
figure whose text is wider than the card. A screenshot of every page in every mode is saved under
test-artifacts/screenshots/ (the README names the folder) for people to look at. In projector mode
the pages menu closes by itself after a choice, and the period and grid filters (in the hidden
sidebar otherwise) are on the pages that use them."""

import pytest

from components.navigation import PAGES
from gongzhi.i18n import translate
from tests.browser.helpers import ARTIFACTS, TIMEOUT_MS, open_from_menu, wait_until_drawn
from tests.browser.projector_helpers import open_in_projector, sign_in_at

pytestmark = pytest.mark.browser
SCREENSHOTS = ARTIFACTS / "screenshots"
FILTERED_PAGES = {"overview", "issues", "volunteers", "events", "grid_map", "meetings", "audit"}  # period and grid, or period
MODES = {"projector": {"width": 1024, "height": 768}, "normal": {"width": 1280, "height": 800}}

# Every visible element of the page (the sidebar too) whose text is cut: an ellipsis with more text
# than room, or a metric value (or label) whose text is wider than its box. Elements inside a map
# or chart frame are the frame's business (they are tested with the map).
CUT_TEXT_JS = """() => {
  const cut = [];
  const visible = (e) => { const b = e.getBoundingClientRect(); return b.width > 0 && b.height > 0
                           && getComputedStyle(e).visibility !== 'hidden'; };
  for (const e of document.querySelectorAll('[data-testid="stApp"] *')) {
    if (!visible(e) || !e.textContent.trim()) { continue; }
    const style = getComputedStyle(e);
    const ellipsis = style.textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1;
    // A figure wider than its card is cut whether it is clipped or spills over the border.
    const metric = e.matches('[data-testid="stMetricValue"], [data-testid="stMetricValue"] *,'
                             + ' [data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *')
                   && e.scrollWidth > e.clientWidth + 1;
    if (ellipsis || metric) {
      cut.push({text: e.textContent.trim().slice(0, 60), testid: (e.closest('[data-testid]') || e).dataset.testid,
                scroll: e.scrollWidth, client: e.clientWidth});
    }
  }
  return cut;
}"""


def _menu(lang: str) -> list[tuple[str, str]]:
    """(url path, title) of every page an admin's menu lists (the login page is not in it)."""
    return [(entry.url_path, translate(lang, entry.title_key)) for entry in PAGES if entry.url_path != "login"]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("mode", list(MODES))
def test_no_text_is_cut_on_any_page(app_server, browser, mode, lang):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=MODES[mode], locale="zh-CN" if lang == "zh-CN" else "en-US")
    page = context.new_page()
    projector = mode == "projector"
    sign_in_at(page, f"{app_server.url}/?lang={lang}" + ("&mode=projector" if projector else ""), "admin", lang=lang)
    found = {}
    for index, (path, title) in enumerate(_menu(lang)):
        if projector and not index:  # already on the first page (the overview): choosing it changes nothing
            open_in_projector(page, title, lang=lang)
        elif projector:
            open_in_projector(page, title, lang=lang, press_escape=False)
            # The pages menu closed by itself after the choice; nothing covers the page.
            page.wait_for_function("() => !document.querySelector('[data-testid=\"stPopoverBody\"]')"
                                   " || !document.querySelector('[data-testid=\"stPopoverBody\"]').checkVisibility()",
                                   timeout=TIMEOUT_MS)
        else:
            open_from_menu(page, title)
        wait_until_drawn(page)  # the run is over, fonts loaded, charts and maps drawn
        page.screenshot(path=str(SCREENSHOTS / f"{mode}-{lang}-{path}.png"))
        if projector and path in FILTERED_PAGES:
            assert page.get_by_text(translate(lang, "common.filters")).is_visible(), path
        cut = page.evaluate(CUT_TEXT_JS)
        if cut:
            found[path] = cut
    context.close()
    for path, cut in found.items():  # noqa: B007 (read in the report)
        print(mode, lang, path, [(c["testid"], c["text"], c["client"], c["scroll"]) for c in cut])
    assert found == {}, found
