"""Helpers for the projector-mode and accessibility browser tests: a 1024×768 window, signing in
straight into projector mode (as a bookmark of ?mode=projector does), moving between pages
through the projector menu, and reading computed sizes and contrasts off the page."""

from gongzhi.i18n import translate
from tests.browser.conftest import RecordedPage
from tests.browser.helpers import TIMEOUT_MS, fill_sign_in, rerun_by, script_runs, wait_for_app

PROJECTOR_VIEWPORT = {"width": 1024, "height": 768}


def new_page(browser, viewport=PROJECTOR_VIEWPORT) -> RecordedPage:
    context = browser.new_context(viewport=viewport, locale="en-US")
    return RecordedPage(context.new_page())


def sign_in_at(page, url: str, username: str, *, lang: str = "en") -> None:
    """Open `url` (e.g. a bookmark with ?mode=projector), which leads to the sign-in page, and sign
    in there: the browser comes back to `url`."""
    script_runs(page)
    page.goto(url)
    fill_sign_in(page, username, lang=lang)
    page.locator("h1").filter(has_text=translate(lang, "nav.overview")).wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page)


def open_in_projector(page, title: str, *, lang: str = "en", press_escape: bool = True) -> None:
    """Go to a page through the projector bar's menu (the sidebar is hidden). The menu is opened
    only once the app is idle, so no rerun can close it before the click lands.
    `press_escape=False` leaves the menu as the app leaves it (it closes by itself after a choice)."""
    heading = page.locator("h1").filter(has_text=title)
    wait_for_app(page)
    already_there = heading.count() > 0
    page.get_by_role("button", name=translate(lang, "projector.pages")).click()
    wait_for_app(page)  # opening the menu runs the app (it tracks whether the menu is open)
    # A page's link; the page already shown is a button that closes the menu.
    link = page.locator("[data-testid='stPopoverBody'] a, [data-testid='stPopoverBody'] button").filter(
        has_text=title).first
    link.wait_for(timeout=TIMEOUT_MS)
    if already_there:  # choosing the page that is open may not run the app again
        link.click()
        wait_for_app(page)
    else:
        with rerun_by(page):
            link.click()
    heading.first.wait_for(timeout=TIMEOUT_MS)
    if press_escape:
        page.keyboard.press("Escape")  # the menu may stay open over the new page
        page.locator("[data-testid='stPopoverBody']").wait_for(state="hidden", timeout=TIMEOUT_MS)


# The contrast of every visible piece of text in the main area against the colour behind it
# (the first opaque background up the tree, white at the top), as WCAG 2 defines it.
CONTRASTS_JS = """() => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
                                 if (c[3] > 0.99) { return c; } } return [255, 255, 255, 1]; };
  const results = [];
  const main = document.querySelector('[data-testid="stMain"]');
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('svg, canvas, iframe, [aria-hidden="true"]')) { continue; }
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') { continue; }
    const bg = background(el);
    const fg = parse(style.color);
    const alpha = fg[3] * Number(style.opacity);
    const blended = [0, 1, 2].map((i) => fg[i] * alpha + bg[i] * (1 - alpha));
    const [a, b] = [lum(blended), lum(bg)].sort((x, y) => y - x);
    results.push({text: node.textContent.trim().slice(0, 40), ratio: (a + 0.05) / (b + 0.05),
                  size: parseFloat(style.fontSize)});
  }
  return results;
}"""


def text_contrasts(page) -> list[dict]:
    return page.evaluate(CONTRASTS_JS)


def body_font_sizes(page) -> list[float]:
    """Computed font sizes of the paragraphs, list items, captions and table cells in the main area."""
    return page.eval_on_selector_all(
        "[data-testid='stMain'] [data-testid='stMarkdownContainer'] p, [data-testid='stMain'] li,"
        " [data-testid='stMain'] td, [data-testid='stMain'] [data-testid='stCaptionContainer']",
        "nodes => nodes.filter(n => n.getBoundingClientRect().height > 0)"
        ".map(n => parseFloat(getComputedStyle(n).fontSize))")
