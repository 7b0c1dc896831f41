"""Real-browser fixtures: the app served by `streamlit run` on a free local port against a
private copy of the demo database (SQLite or PostgreSQL, see tests/conftest.py), and Debian's Chromium driven by Playwright. Every request
the page makes is recorded, so tests can prove nothing left 127.0.0.1."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser.helpers import RUN_TRACKER_JS, TIMEOUT_MS, script_runs

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(base_url: str, process: subprocess.Popen, timeout: float = TIMEOUT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)  # polling: nothing tells us when a port starts answering
    raise TimeoutError("streamlit did not become healthy")


class AppServer:
    """`streamlit run app.py` on a free port against the database at `database_url`."""

    def __init__(self, database_url: str, log: Path, *, base_url_path: str = ""):
        self.database_url = database_url
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}" + (f"/{base_url_path}" if base_url_path else "")
        env = {**os.environ, "DATABASE_URL": database_url, "GONGZHI_DEMO": "0"}
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"),
             "--server.port", str(self.port), "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
             *(("--server.baseUrlPath", base_url_path) if base_url_path else ())],
            cwd=PROJECT_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        _wait_healthy(self.url, self.process)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("GONGZHI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def app_server(databases, demo_template, tmp_path_factory):
    directory = tmp_path_factory.mktemp("server")
    database_url = databases.copy(demo_template, directory)
    server = AppServer(database_url, directory / "streamlit.log")
    yield server
    server.stop()
    databases.drop(database_url)


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                  "--no-first-run", "--disable-component-update", "--disable-sync"],
        )
        watch_script_runs(browser)
        yield browser
        browser.close()


_OPEN_CONTEXTS: list = []  # every context a browser test has opened, for the pictures of a failure


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, each page still open is saved as it stood, a picture and its
    text, under test-artifacts/failed/ (named after the test), for people to see what went wrong."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    folder = PROJECT_ROOT / "test-artifacts" / "failed"
    folder.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in item.nodeid.split("::", 1)[-1])[:120]
    pages = [page for context in _OPEN_CONTEXTS for page in _pages_of(context)]
    for number, page in enumerate(pages, 1):
        try:
            page.screenshot(path=str(folder / f"{name}-{number}.png"), full_page=True, timeout=60_000)
            (folder / f"{name}-{number}.txt").write_text(f"{page.url}\n\n{page.inner_text('body', timeout=60_000)}")
        except Exception as error:  # a closed or hung page: the report keeps the test's own failure
            (folder / f"{name}-{number}.txt").write_text(f"not saved: {error}")


def _pages_of(context) -> list:
    try:
        return list(context.pages)
    except Exception:
        return []


def watch_script_runs(browser) -> None:
    """Every page of every context this browser opens watches the app's script runs from its first
    load (helpers.RUN_TRACKER_JS), whichever way a test opens it: the waits rely on it. Every wait
    Playwright makes of its own (a click waits for its element) has the one deadline, TIMEOUT_MS."""
    new_context, new_page = browser.new_context, browser.new_page

    def watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        _OPEN_CONTEXTS.append(context)
        context.on("close", lambda closed: _OPEN_CONTEXTS.remove(closed) if closed in _OPEN_CONTEXTS else None)
        context.add_init_script(RUN_TRACKER_JS)
        context.set_default_timeout(TIMEOUT_MS)  # one deadline, also for a click's own wait
        return context

    def watched_page(*args, **kwargs):
        page = new_page(*args, **kwargs)
        _OPEN_CONTEXTS.append(page.context)
        page.on("close", lambda closed: _OPEN_CONTEXTS.remove(closed.context) if closed.context in _OPEN_CONTEXTS else None)
        page.add_init_script(RUN_TRACKER_JS)
        page.set_default_timeout(TIMEOUT_MS)
        return page

    browser.new_context, browser.new_page = watched_context, watched_page


class RecordedPage:
    """A page plus every URL it requested (including inside iframes such as the map); its
    script runs are watched from the start (see helpers.ScriptRuns)."""

    def __init__(self, page):
        self.page = page
        script_runs(page)
        self.requests: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))

    def external_requests(self) -> list[str]:
        local = {"127.0.0.1", "localhost", ""}
        return [url for url in self.requests
                if urlparse(url).scheme not in ("data", "blob", "about") and urlparse(url).hostname not in local]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    recorded = RecordedPage(context.new_page())
    yield recorded
    context.close()
