"""Helpers for the browser tests. They wait on conditions, never for a fixed time: a busy
machine (CI has two cores) only makes them wait longer.

When is the app done? Streamlit says little in the page: `stApp`'s `data-test-script-state`
shows `notRunning` between the runs of one chain (a form that calls `st.rerun()`), and right
after a click, before the browser has even asked for the run the click causes. So the tests
also read the app's websocket, decoded with Streamlit's own protobuf messages (`ScriptRuns`):
the browser asks for a run (`BackMsg.rerun_script`), the server starts it (`new_session`) and
ends it (`script_finished`, which says whether another run follows)."""

import itertools
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 300_000  # generous: a condition that holds costs nothing; at a load of 20 on 2 cores a page's first run took minutes

# The page has had an idle moment since this wait began: the browser calls an idle callback only
# when nothing else is queued (the messages it received, a component's message, React's render),
# so everything queued before has been handled. On a machine so busy that the page never idles
# (a map redrawing under a load of 20 on two cores), the callback's timeout queues it as a task
# after a second: the tasks queued before it have then run all the same. The first call of a wait (`token` new) asks for the
# callback; later calls (Playwright calls the predicate on every animation frame) see if it came.
# Playwright's waits take a predicate's value as it is, so none of these may return a promise.
IDLE_SINCE_JS = """(token) => {
  window.gongzhiIdle = window.gongzhiIdle || {};
  if (!(token in window.gongzhiIdle)) {
    window.gongzhiIdle[token] = false;
    requestIdleCallback(() => { window.gongzhiIdle[token] = true; }, {timeout: 1000});
  }
  return window.gongzhiIdle[token];
}"""

# ... and then Streamlit shows a finished run: connected, not running, nothing left faded as
# stale, something drawn in the main area.
APP_IDLE_JS = """(token) => {
  if (!(IDLE_SINCE)(token)) { return false; }
  const app = document.querySelector('[data-testid="stApp"]');
  return app !== null && app.dataset.testConnectionState === 'CONNECTED'
    && app.dataset.testScriptState === 'notRunning'
    && document.querySelector('[data-stale="true"]') === null
    && document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]') !== null;
}""".replace("IDLE_SINCE", IDLE_SINCE_JS)

# Counts, in the page, the frames it sends on its latest websocket to the app: compared with the
# frames the test has seen (`ScriptRuns.frames_sent`), it tells when the test knows all the page sent.
COUNT_SENT_JS = """(() => {
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (this.url.endsWith('/_stcore/stream')) {
      window.gongzhiSocket = this;
      this.gongzhiSent = (this.gongzhiSent || 0) + 1;
    }
    return send.call(this, data);
  };
})();"""

# What the page has sent on that socket, once it has been idle (a click's or a component's
# message goes out in a task of its own): {sent: n}, or false before the idle moment.
SENT_WHEN_IDLE_JS = """(token) => (IDLE_SINCE)(token)
  && {sent: window.gongzhiSocket === undefined ? 0 : window.gongzhiSocket.gongzhiSent}""".replace(
    "IDLE_SINCE", IDLE_SINCE_JS)

_tokens = itertools.count()


def when_idle(page, predicate_js: str, timeout: float = TIMEOUT_MS):
    """The value of `predicate_js` (which takes an idle-wait token) once it is truthy."""
    return page.wait_for_function(predicate_js, arg=f"wait-{next(_tokens)}", timeout=timeout).json_value()


class ScriptRuns:
    """The script runs of one page, as its websocket to the app carries them."""

    def __init__(self, page):
        self.page = page
        self.socket = None
        self.frames_sent = 0  # on the current connection
        self.requests = 0  # runs the browser asked for (BackMsg.rerun_script), on every connection
        self._log: list[tuple[str, object]] = []  # ("requested" | "started" | "finished", detail), this connection
        page.add_init_script(COUNT_SENT_JS)
        page.on("websocket", self._watch)

    def _watch(self, socket) -> None:
        if not urlparse(socket.url).path.endswith("/_stcore/stream"):
            return
        self.socket, self._log, self.frames_sent = socket, [], 0  # a new connection is a new session
        socket.on("framesent", lambda payload: self._sent(socket, payload))
        socket.on("framereceived", lambda payload: self._received(socket, payload))

    def _sent(self, socket, payload) -> None:
        if socket is not self.socket:
            return
        self.frames_sent += 1
        message = BackMsg.FromString(payload if isinstance(payload, bytes) else payload.encode())
        if message.WhichOneof("type") == "rerun_script":
            self.requests += 1
            self._log.append(("requested", None))

    def _received(self, socket, payload) -> None:
        if socket is not self.socket or not isinstance(payload, bytes):
            return
        message = ForwardMsg.FromString(payload)
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self._log.append(("started", message.metadata.run.script_run_id))
        elif kind == "script_finished":
            self._log.append(("finished", (message.script_finished, message.metadata.run.script_run_id)))

    @property
    def settled(self) -> bool:
        """The server has run what the browser last asked for, and no run follows: the last run
        started after the last request and has finished without handing over to a rerun
        (`st.rerun()`, or a request that arrived while it ran)."""
        if not self._log or self._log[-1][0] != "finished":
            return False
        status, run_id = self._log[-1][1]
        kinds = [kind for kind, _ in self._log]
        last_request = max((i for i, kind in enumerate(kinds) if kind == "requested"), default=-1)
        starts = [i for i, kind in enumerate(kinds) if kind == "started"]
        if not starts or starts[-1] < last_request or status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            return False
        started_id = self._log[starts[-1]][1]
        return not run_id or not started_id or run_id == started_id

    def _wait_for_frame(self, event: str, until: float, waiting_for: str) -> None:
        """Until the socket's next `event` ("framereceived" or "framesent"), or until the page
        opens its socket."""
        remaining = (until - time.monotonic()) * 1000
        if remaining <= 0:
            raise AssertionError(f"{waiting_for}; the app's websocket carried {self._log[-6:]}")
        try:
            if self.socket is None or self.socket.is_closed():
                self.page.wait_for_event("websocket", timeout=remaining)
            else:
                self.socket.wait_for_event(event, timeout=remaining)
        except PlaywrightError:  # the socket closed, or time is up (the next round says so)
            pass

    def left(self, until: float) -> float:
        """Milliseconds left until `until` (time.monotonic()); an error once none are."""
        left = (until - time.monotonic()) * 1000
        if left <= 0:
            raise AssertionError(f"the app did not become idle in time: {self.requests} runs asked for, "
                                 f"{self.frames_sent} frames sent; the websocket carried {self._log[-6:]}")
        return left

    def wait_seen_all_sent(self, timeout: float = TIMEOUT_MS) -> None:
        """Until the test has seen every frame the page has sent so far (the browser reports a
        frame a little after the page sends it)."""
        until = time.monotonic() + timeout / 1000
        while self.frames_sent < when_idle(self.page, SENT_WHEN_IDLE_JS, timeout)["sent"]:
            self._wait_for_frame("framesent", until, "the test did not see all the page sent")

    def wait_settled(self, timeout: float = TIMEOUT_MS) -> None:
        until = time.monotonic() + timeout / 1000
        while not self.settled:
            self._wait_for_frame("framereceived", until, "the app did not finish its run")

    def wait_for_request(self, after: int, timeout: float = TIMEOUT_MS) -> None:
        """Until the browser has asked for a run since it had asked for `after` of them."""
        until = time.monotonic() + timeout / 1000
        while self.requests <= after:
            self._wait_for_frame("framesent", until, "the browser did not ask the app to run again")


_RUNS: "weakref.WeakKeyDictionary[object, ScriptRuns]" = weakref.WeakKeyDictionary()


def script_runs(page) -> ScriptRuns:
    """The page's `ScriptRuns`, watched from now on: call it before the page opens the app
    (`RecordedPage` and the sign-in helpers do)."""
    if page not in _RUNS:
        _RUNS[page] = ScriptRuns(page)
    return _RUNS[page]


def wait_for_app(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished all the page asked it to run and the page shows it:
    the page asked for nothing more while the last run was being drawn."""
    runs = script_runs(page)
    until = time.monotonic() + timeout / 1000
    while True:
        runs.wait_seen_all_sent(runs.left(until))
        asked = runs.requests
        runs.wait_settled(runs.left(until))
        when_idle(page, APP_IDLE_JS, runs.left(until))
        runs.wait_seen_all_sent(runs.left(until))
        if runs.requests == asked:
            return


@contextmanager
def rerun_by(page, timeout: float = TIMEOUT_MS):
    """Around an action that makes the app run again (a button, a menu link, a radio, a key
    the page listens to): first the app is idle, then the browser asks for the run, and the
    block ends when that run is over and drawn, so nothing after it reads the page from before.
    Usage: `with rerun_by(page): page.get_by_role("button", name=...).click()`."""
    runs = script_runs(page)
    wait_for_app(page, timeout)
    asked = runs.requests
    yield
    runs.wait_for_request(asked, timeout)
    wait_for_app(page, timeout)


def save_screenshot(page, name: str) -> Path:
    """Saved under test-artifacts/ for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fill_sign_in(page, username: str, *, lang: str = "en") -> None:
    """On the sign-in form (gongzhi.web's plain HTML form, on /signin or inside the app's sign-in
    page), sign in with a demo account (password `gongzhi-demo`). The form is POSTed: the block
    ends once the browser has loaded the page the form returns to."""
    from gongzhi.accounts import DEMO_PASSWORD
    from gongzhi.i18n import translate

    script_runs(page)
    page.get_by_role("textbox", name=translate(lang, "auth.field_username"), exact=True).fill(username, timeout=TIMEOUT_MS)
    page.get_by_role("textbox", name=translate(lang, "auth.field_password"), exact=True).fill(DEMO_PASSWORD)
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.get_by_role("button", name=translate(lang, "auth.sign_in"), exact=True).click()


def sign_in(page, base_url: str, username: str = "committee", *, lang: str = "en") -> None:
    """Open the app (which shows a browser that is not signed in the sign-in form) and sign in
    with a demo account; the overview follows, its run finished. The session cookie keeps the
    sign-in for this browser context: reloads, new tabs and bookmarks stay signed in."""
    from gongzhi.i18n import translate

    script_runs(page)
    page.goto(f"{base_url}/?lang={lang}")
    fill_sign_in(page, username, lang=lang)
    page.locator("h1").filter(has_text=translate(lang, "nav.overview")).wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page)


def open_from_menu(page, title: str) -> None:
    """Go to a page through the sidebar menu, as a person would (keeps the session)."""
    with rerun_by(page):
        page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click()
    page.locator("h1").filter(has_text=title).wait_for(timeout=TIMEOUT_MS)


# The first iframe of the page whose document holds `selector` (components are served from the
# app's own address, so the page can look inside them).
FRAME_WITH_JS = """(selector) => [...document.querySelectorAll('iframe')].find(
  (frame) => frame.contentDocument !== null && frame.contentDocument.querySelector(selector) !== null) || null"""


def frame_with(page, selector: str, timeout: float = TIMEOUT_MS):
    """The frame (e.g. the map component's iframe) that contains `selector`, once it is there."""
    until = time.monotonic() + timeout / 1000
    while True:
        remaining = max((until - time.monotonic()) * 1000, 1)
        frame = page.wait_for_function(FRAME_WITH_JS, arg=selector, timeout=remaining).as_element().content_frame()
        if frame is not None and frame.locator(selector).count() > 0:
            return frame
        # The iframe was replaced between finding it and looking into it: find it again.


# A point of the polygon (relative to its box) where nothing on the map covers it, once the
# polygon has stood still from one animation frame to the next (the map may still be fitting
# its bounds or zooming); null until then.
BARE_SPOT_JS = """(path) => {
  const box = path.getBoundingClientRect();
  const where = [box.left, box.top, box.width, box.height].join();
  window.gongzhiLastBoxes = window.gongzhiLastBoxes || new WeakMap();
  const still = window.gongzhiLastBoxes.get(path) === where;
  window.gongzhiLastBoxes.set(path, where);
  if (!still) { return null; }
  for (const fy of [0.5, 0.35, 0.65, 0.2, 0.8]) {
    for (const fx of [0.5, 0.35, 0.65, 0.2, 0.8]) {
      if (document.elementFromPoint(box.left + box.width * fx, box.top + box.height * fy) === path) {
        return {x: box.width * fx, y: box.height * fy};
      }
    }
  }
  return null;
}"""


def bare_spot(path, timeout: float = TIMEOUT_MS) -> dict:
    """Where to point at the polygon `path` (a locator in the map's frame) so that it gets the
    mouse: asked on every animation frame until the map has settled."""
    handle = path.element_handle(timeout=timeout)
    try:
        return handle.owner_frame().wait_for_function(BARE_SPOT_JS, arg=handle, polling="raf",
                                                      timeout=timeout).json_value()
    except PlaywrightError as error:
        raise AssertionError(f"the polygon is covered everywhere: {error}") from error


# Everything the finished run asked the browser to draw has been drawn: every chart by Vega (a
# canvas or an SVG in its box) and every map component (st_folium's iframe has made its Leaflet
# map), the web fonts loaded. Axe, a screenshot or a look into every frame can come after this.
DRAWN_JS = """() => document.fonts.status === 'loaded'
  && document.querySelector('[data-testid="stSkeleton"]') === null
  && [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].every((chart) => chart.querySelector('canvas, svg'))
  && [...document.querySelectorAll('iframe')].every((frame) => {
       const inside = frame.contentWindow;
       return inside !== null && inside.document.readyState === 'complete'
         && (!frame.src.includes('streamlit_folium') || (inside.map !== undefined && inside.map._loaded === true));
     })"""


def wait_until_drawn(page, timeout: float = TIMEOUT_MS) -> None:
    """The app is idle and its charts and maps are drawn. A map that returns a value sends its
    first one as soon as it is made (st_folium's initComponent): the run that causes is waited for."""
    wait_for_app(page, timeout)
    page.wait_for_function(DRAWN_JS, timeout=timeout)
    wait_for_app(page, timeout)


# The Leaflet map in a component's frame (st_folium keeps it as window.map) has stood still from
# one animation frame to the next: loaded, in no zoom or pan animation (Leaflet's _animatingZoom,
# _panAnim), its view and its pane's position unchanged.
MAP_STILL_JS = """() => {
  if (window.map === undefined || window.map._loaded !== true || window.map._animatingZoom
      || (window.map._panAnim !== undefined && window.map._panAnim._inProgress)) { return false; }
  const center = window.map.getCenter();
  const pane = window.map.getPane('mapPane');
  const where = [center.lat, center.lng, window.map.getZoom(), pane.style.transform].join();
  const still = window.gongzhiLastView === where;
  window.gongzhiLastView = where;
  return still;
}"""


def wait_for_map_still(frame, timeout: float = TIMEOUT_MS) -> None:
    frame.wait_for_function(MAP_STILL_JS, polling="raf", timeout=timeout)


def choose(page, within, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` inside `within`, typing to filter as a
    person would (the option list opens in a layer of its own on the page). The list is opened
    only once the app is idle (a rerun that ended while it was open would close it); the block
    ends when the box shows the choice and any run it caused is over."""
    combobox = within.locator("[data-testid='stSelectbox']").filter(has_text=label).first.get_by_role("combobox")
    wait_for_app(page)
    combobox.click()
    combobox.fill(option)
    page.get_by_role("option", name=option, exact=True).first.click()
    expect(combobox).to_have_value(option, timeout=TIMEOUT_MS)
    wait_for_app(page)
