"""Helpers for the browser tests. They wait on conditions, never for a fixed time: a busy
machine (CI has two cores) only makes them wait longer.

When is the app done? Streamlit says little in the page: `stApp`'s `data-test-script-state`
shows `notRunning` between the runs of one chain (a form that calls `st.rerun()`), and right
after a click, before the browser has even asked for the run the click causes. So a script put
into every page (`RUN_TRACKER_JS`) reads the app's websocket in the page itself, with Streamlit's
own protobuf field numbers: the browser asks for a run (`BackMsg.rerun_script`), and the server
ends each run with `script_finished`, which says whether another run follows. The app is done
when the last run asked for has finished with no run following, the page has had an idle moment
since, and it shows the finished run (connected, not running, nothing faded as stale)."""

import itertools
import time
import weakref
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 300_000  # generous: a condition that holds costs nothing; at a load of 20 on 2 cores a page's first run took minutes

_FIELD = {"rerun_script": BackMsg.DESCRIPTOR.fields_by_name["rerun_script"].number,
          "script_finished": ForwardMsg.DESCRIPTOR.fields_by_name["script_finished"].number,
          "early": ForwardMsg.FINISHED_EARLY_FOR_RERUN}

# Put into every document the page loads (before the app's own scripts): wraps WebSocket so that
# the app's stream is watched. `window.gongzhiRuns` holds, as positions in one sequence of events,
# the latest run asked for and the latest run finished with no run following (0: none yet on this
# connection), whether the last run ended handing over to another, and how many runs were asked for.
RUN_TRACKER_JS = """(() => {
  if (window.gongzhiRuns !== undefined || !window.WebSocket) { return; }
  const runs = window.gongzhiRuns = {seq: 0, asked: 0, finished: 0, handedOver: false, requests: 0};
  const varint = (bytes, i) => {
    let value = 0, shift = 0, byte;
    do { byte = bytes[i++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return [value, i];
  };
  // The top-level fields of one protobuf message: {field number: varint value, or true}.
  const fields = (bytes) => {
    const found = {};
    let i = 0;
    while (i < bytes.length) {
      let tag, length;
      [tag, i] = varint(bytes, i);
      const number = Math.floor(tag / 8), wire = tag & 7;
      if (wire === 0) { [found[number], i] = varint(bytes, i); }
      else if (wire === 2) { [length, i] = varint(bytes, i); found[number] = true; i += length; }
      else if (wire === 1) { found[number] = true; i += 8; }
      else if (wire === 5) { found[number] = true; i += 4; }
      else { break; }
    }
    return found;
  };
  const asBytes = (data) => data instanceof ArrayBuffer ? new Uint8Array(data)
    : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      if (!String(args[0]).endsWith('/_stcore/stream')) { return; }
      runs.socket = this;
      runs.asked = runs.finished = 0;  // a new connection is a new session
      runs.handedOver = false;
      this.addEventListener('message', (event) => {
        const bytes = asBytes(event.data);
        if (this !== runs.socket || bytes === null) { return; }
        const status = fields(bytes)[FINISHED];
        if (status === undefined) { return; }
        runs.handedOver = status === EARLY;
        if (!runs.handedOver) { runs.finished = ++runs.seq; }
      });
    }
    send(data) {
      const bytes = asBytes(data);
      if (this === runs.socket && bytes !== null && fields(bytes)[RERUN] !== undefined) {
        runs.asked = ++runs.seq;
        runs.requests += 1;
      }
      return super.send(data);
    }
  };
})();""".replace("FINISHED", str(_FIELD["script_finished"])).replace("RERUN", str(_FIELD["rerun_script"])).replace(
    "EARLY", str(_FIELD["early"]))

# The page has had an idle moment since this wait began: the browser calls an idle callback only
# when nothing else is queued (the messages it received, a component's message, React's render),
# so everything queued before has been handled. On a machine so busy that the page never idles
# (a map redrawing under a load of 20 on two cores), the callback's timeout queues it as a task
# after a second: the tasks queued before it have then run all the same.
IDLE_SINCE_JS = """(token) => {
  window.gongzhiIdle = window.gongzhiIdle || {};
  if (!(token in window.gongzhiIdle)) {
    window.gongzhiIdle[token] = false;
    requestIdleCallback(() => { window.gongzhiIdle[token] = true; }, {timeout: 1000});
  }
  return window.gongzhiIdle[token];
}"""

# ... and then the app has finished what was last asked of it, and the page shows it: connected,
# not running, nothing left faded as stale, something drawn in the main area.
APP_IDLE_JS = """(token) => {
  if (!(IDLE_SINCE)(token)) { return false; }
  const runs = window.gongzhiRuns;
  const app = document.querySelector('[data-testid="stApp"]');
  return runs !== undefined && runs.finished > runs.asked && !runs.handedOver
    && app !== null && app.dataset.testConnectionState === 'CONNECTED'
    && app.dataset.testScriptState === 'notRunning'
    && document.querySelector('[data-stale="true"]') === null
    && document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]') !== null;
}""".replace("IDLE_SINCE", IDLE_SINCE_JS)

# What the page shows of its state, for the message of a wait that ran out.
PAGE_STATE_JS = """(token) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const runs = window.gongzhiRuns || {};
  return {idle: (window.gongzhiIdle || {})[token], asked: runs.asked, finished: runs.finished,
          handedOver: runs.handedOver, connection: app && app.dataset.testConnectionState,
          script: app && app.dataset.testScriptState,
          stale: [...document.querySelectorAll('[data-stale="true"]')].map((e) => e.className.slice(0, 60)).slice(0, 5),
          drawn: document.querySelectorAll('[data-testid="stMain"] [data-testid="stElementContainer"]').length};
}"""

_tokens = itertools.count()
_WATCHED: "weakref.WeakSet" = weakref.WeakSet()


def when_idle(page, predicate_js: str, timeout: float = TIMEOUT_MS):
    """The value of `predicate_js` (which takes an idle-wait token) once it is truthy."""
    token = f"wait-{next(_tokens)}"
    try:
        return page.wait_for_function(predicate_js, arg=token, timeout=timeout).json_value()
    except PlaywrightError as error:
        try:
            state = page.evaluate(PAGE_STATE_JS, token)
        except PlaywrightError:
            state = "unreadable"
        raise AssertionError(f"the app did not settle in time: {state}") from error


def script_runs(page) -> None:
    """Watch the page's script runs from its next load on: call it before the page opens the app
    (`RecordedPage` and the sign-in helpers do)."""
    if page not in _WATCHED:
        _WATCHED.add(page)
        page.add_init_script(RUN_TRACKER_JS)


def runs_requested(page) -> int:
    """How many runs the page has asked the app for since it loaded."""
    return page.evaluate("() => window.gongzhiRuns === undefined ? 0 : window.gongzhiRuns.requests")


def wait_for_app(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished all the page asked it to run and the page shows it."""
    when_idle(page, APP_IDLE_JS, timeout)


@contextmanager
def rerun_by(page, timeout: float = TIMEOUT_MS):
    """Around an action that makes the app run again (a button, a menu link, a radio, a key
    the page listens to): first the app is idle, then the browser asks for the run, and the
    block ends when that run is over and drawn, so nothing after it reads the page from before.
    Usage: `with rerun_by(page): page.get_by_role("button", name=...).click()`."""
    wait_for_app(page, timeout)
    asked = runs_requested(page)
    yield
    page.wait_for_function("(asked) => window.gongzhiRuns.requests > asked", arg=asked, timeout=timeout)
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
    """Go to a page through the sidebar menu, as a person would (keeps the session), once the
    page being left is drawn, as a person would see it. A map sends its first value when it is
    made, and the run that value asks for names the map's page: when it came just after the menu
    choice, Streamlit merged the two requests (a merged request takes the later one's page) and
    the choice was lost, the map's page stayed (seen under load)."""
    wait_until_drawn(page)
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
