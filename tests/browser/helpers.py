"""Helpers for the browser tests."""

from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('[data-testid=\"stMain\"] [data-testid=\"stElementContainer\"]').length > 0",
        timeout=timeout,
    )
    page.wait_for_timeout(300)


def save_screenshot(page, name: str) -> Path:
    """Saved under test-artifacts/ for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fill_sign_in(page, username: str, *, lang: str = "en") -> None:
    """On the sign-in form (the /signin page, or the app's sign-in page), sign in with a demo
    account (password `gongzhi-demo`)."""
    from gongzhi.accounts import DEMO_PASSWORD
    from gongzhi.i18n import translate

    page.get_by_role("textbox", name=translate(lang, "auth.field_username"), exact=True).fill(username)
    page.get_by_role("textbox", name=translate(lang, "auth.field_password"), exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=translate(lang, "auth.sign_in"), exact=True).click()


def sign_in(page, base_url: str, username: str = "committee", *, lang: str = "en") -> None:
    """Open the app (which sends a browser that is not signed in to the sign-in page) and sign in
    with a demo account. The session cookie keeps the sign-in for this browser context: reloads,
    new tabs and bookmarks stay signed in."""
    from gongzhi.i18n import translate

    page.goto(f"{base_url}/?lang={lang}")
    fill_sign_in(page, username, lang=lang)
    page.locator("h1").filter(has_text=translate(lang, "nav.overview")).wait_for(timeout=30_000)
    wait_for_app(page)


def open_from_menu(page, title: str) -> None:
    """Go to a page through the sidebar menu, as a person would (keeps the session)."""
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click()
    page.locator("h1").filter(has_text=title).wait_for(timeout=30_000)
    wait_for_app(page)


def frame_with(page, selector: str, *, tries: int = 120):
    """The frame (e.g. the map component's iframe) that contains `selector`, once it is there."""
    for _ in range(tries):
        for frame in page.frames:
            try:
                if frame.locator(selector).count() > 0:
                    return frame
            except Exception:  # a frame detached while we looked
                continue
        page.wait_for_timeout(500)
    raise AssertionError(f"no frame contains {selector!r}")


def bare_spot(path, timeout_ms: int = 15_000) -> dict:
    """A point of the polygon (relative to its box) where nothing on the map covers it, asked
    again until the map has settled (under load the map may still be fitting its bounds)."""
    for _ in range(timeout_ms // 250):
        spot = _bare_spot_now(path)
        if spot is not None:
            return spot
        path.page.wait_for_timeout(250)
    raise AssertionError("the polygon is covered everywhere")


def _bare_spot_now(path) -> dict | None:
    return path.evaluate("""(path) => {
        const box = path.getBoundingClientRect();
        for (const fy of [0.5, 0.35, 0.65, 0.2, 0.8]) {
            for (const fx of [0.5, 0.35, 0.65, 0.2, 0.8]) {
                if (document.elementFromPoint(box.left + box.width * fx, box.top + box.height * fy) === path) {
                    return {x: box.width * fx, y: box.height * fy};
                }
            }
        }
        return null;
    }""")


def choose(page, within, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` inside `within`, typing to filter as a
    person would (the option list opens in a layer of its own on the page). A click that lands
    while the app is still rerunning can leave the list closed, so try again a few times."""
    combobox = within.locator("[data-testid='stSelectbox']").filter(has_text=label).first.get_by_role("combobox")
    choice = page.get_by_role("option", name=option, exact=True).first
    for _ in range(4):
        wait_for_app(page)
        combobox.click()
        combobox.fill(option)
        try:
            choice.wait_for(timeout=5_000)
            choice.click()
            return
        except PlaywrightTimeout:
            combobox.press("Escape")
    raise AssertionError(f"option {option!r} never appeared in {label!r}")
