"""公示 in a phone's browser (390×844), signed out: a grid's public page from its QR code, in
Chinese by default and in English by its link, fits the screen's width (no sideways scrolling,
nothing cut off), shows each open issue's five steps and offers the report page; no script runs
and nothing leaves this machine. Then the staff side at a desktop: the committee downloads the
grid's poster from the boundaries page and its QR codes lead to the grid's pages."""

import io

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from gongzhi.i18n import translate, translate_plain
from tests.browser.helpers import ARTIFACTS, TIMEOUT_MS, open_from_menu, sign_in, wait_for_app
from tests.conftest import Sql

pytestmark = pytest.mark.browser
GRID = 3
PHONE = {"width": 390, "height": 844}


def screenshot(page, name: str) -> None:
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / f"{name}.png"), full_page=True)


def test_the_public_page_on_a_phone(app_server, browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        page.goto(f"{app_server.url}/grid/{GRID}")
        name = Sql(app_server.database_url).scalar("SELECT name FROM area WHERE id = :id", id=GRID)
        heading = page.locator("h1")
        assert name in heading.inner_text() and page.locator("html").get_attribute("lang") == "zh-CN"
        # The whole width and nothing more: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        first = page.locator("#gz-issues ~ ul li").first
        steps = first.locator(".gz-steps li")
        assert steps.count() == 5
        for index in range(5):
            box = steps.nth(index).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        # Every step's label fits its box (not cut off).
        assert page.evaluate("""() => [...document.querySelectorAll('.gz-steps li')]
            .every(li => li.scrollWidth <= li.clientWidth + 1)""")
        report = page.get_by_role("link", name=translate_plain("zh-CN", "public.report_link"))
        assert report.get_attribute("href") == f"/report/{GRID}?lang=zh-CN"
        screenshot(page, "public-grid-390x844-zh")
        page.get_by_role("link", name="English").click()
        page.locator("h1").filter(has_text="public notice board").wait_for()
        assert page.url.endswith(f"/grid/{GRID}?lang=en")
        assert page.get_by_text(translate_plain("en", "public.decisions_title")).is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "public-grid-390x844-en")
        # On a desktop the same page reads as a column of sensible width.
        page.set_viewport_size({"width": 1280, "height": 900})
        assert page.locator("main").bounding_box()["width"] <= 1000
        screenshot(page, "public-grid-1280-en")
        assert page.evaluate("document.scripts.length") == 0
        assert not errors, errors  # e.g. a Content-Security-Policy refusal
        assert all(url.startswith(app_server.url) for url in requested), requested
    finally:
        context.close()


def test_the_committee_downloads_a_grids_poster(app_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, app_server.url, "committee")
        open_from_menu(page, translate("en", "nav.boundaries"))
        page.get_by_role("tab", name=translate_plain("en", "public.poster_section_title")).click()
        button = page.get_by_role("button", name=translate_plain("en", "public.poster_download"))
        button.wait_for(timeout=TIMEOUT_MS)
        wait_for_app(page)
        screenshot(page, "boundaries-posters-tab")
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            button.click()
        data = open(download.value.path(), "rb").read()
        reader = PdfReader(io.BytesIO(data))
        codes = {barcode.text for image in reader.pages[0].images
                 for barcode in zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)))}
        # GONGZHI_PUBLIC_URL is not set for the test server: the default address, said on the page.
        assert codes == {f"http://localhost:8501/report/{GRID}", f"http://localhost:8501/grid/{GRID}"}
        assert page.get_by_text(translate_plain("en", "public.poster_local_url")).is_visible()
    finally:
        context.close()
