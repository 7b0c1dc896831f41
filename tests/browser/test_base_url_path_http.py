"""Gongzhi's own routes under Streamlit's `server.baseUrlPath` (a site served at /gz/ behind a
proxy that forwards only that path): /gz/signin, /gz/signout, /gz/display/TOKEN and /gz/healthz
answer, nothing of ours answers outside /gz; the sign-in gate, `next` and every redirect stay
under /gz, and the cookies' Path is /gz. Spoken to in plain HTTP against a real server, and
once in Chromium: a bookmark under /gz leads through the sign-in form to that page."""

import json
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select

from gongzhi.accounts import DEMO_PASSWORD
from gongzhi.clock import now
from gongzhi.db import get_engine, write_session
from gongzhi.models import DisplayLink, User
from gongzhi.sessions import new_token, token_hash
from tests.browser.conftest import AppServer
from tests.browser.test_sessions_http import request

pytestmark = pytest.mark.browser
BASE = "gz"


@pytest.fixture(scope="module")
def based_server(databases, demo_template, tmp_path_factory):
    directory = tmp_path_factory.mktemp("based")
    database_url = databases.copy(demo_template, directory)
    server = AppServer(database_url, directory / "streamlit.log", base_url_path=BASE)
    yield server
    server.stop()
    databases.drop(database_url)


def _cookies(response) -> dict[str, dict[str, str]]:
    """Every cookie a response sets: its value and Path (an expired one has an empty value)."""
    found = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            cookie = SimpleCookie()
            cookie.load(value)
            for key, morsel in cookie.items():
                found[key] = {"value": morsel.value, "path": morsel["path"], "max-age": morsel["max-age"]}
    return found


def test_health_and_sign_in_page_answer_under_the_base_only(based_server):
    health = request(based_server, "GET", f"/{BASE}/healthz")
    assert health.status == 200 and json.loads(health.body) == {"status": "ok", "database": "ok"}
    assert request(based_server, "GET", "/healthz").status == 404
    assert request(based_server, "GET", "/signin").status == 404
    page = request(based_server, "GET", f"/{BASE}/signin?next=%2Fissues")
    assert page.status == 200
    html = page.body.decode()
    assert f'action="/{BASE}/signin"' in html and f'href="/{BASE}/favicon.png"' in html
    assert 'name="next" value="/issues"' in html


def test_the_gate_signs_in_and_returns_under_the_base_with_the_cookie_path_of_the_base(based_server):
    gate = request(based_server, "GET", f"/{BASE}/issues?grid=3")
    assert gate.status == 303
    assert gate.getheader("location") == f"/{BASE}/signin?next=%2Fissues%3Fgrid%3D3"
    signed_in = request(based_server, "POST", f"/{BASE}/signin",
                        body={"username": "committee", "password": DEMO_PASSWORD, "next": "/issues?grid=3"})
    assert signed_in.status == 303 and signed_in.getheader("location") == f"/{BASE}/issues?grid=3"
    session = _cookies(signed_in)["gongzhi_session"]
    assert session["path"] == f"/{BASE}"
    cookie = {"Cookie": f"gongzhi_session={session['value']}"}
    assert request(based_server, "GET", f"/{BASE}/issues?grid=3", headers=cookie).status == 200  # the app
    assert request(based_server, "GET", f"/{BASE}/overview", headers=cookie).getheader("location") == f"/{BASE}/"
    # A `next` that already names the base, or another site, still lands under the base, once.
    for target, expected in ((f"/{BASE}/events", f"/{BASE}/events"), ("//elsewhere.example/x", f"/{BASE}/")):
        again = request(based_server, "POST", f"/{BASE}/signin",
                        body={"username": "committee", "password": DEMO_PASSWORD, "next": target})
        assert again.getheader("location") == expected, target
    out = request(based_server, "POST", f"/{BASE}/signout", body={"lang": "en"}, headers=cookie)
    assert out.status == 303 and out.getheader("location") == f"/{BASE}/signin?lang=en"
    cleared = _cookies(out)
    assert {cleared[name]["path"] for name in ("gongzhi_session", "gongzhi_display")} == {f"/{BASE}"}
    assert request(based_server, "GET", f"/{BASE}/issues", headers=cookie).status == 303  # ended


def test_a_display_link_opens_under_the_base_until_revoked(based_server):
    token = new_token()
    with write_session(get_engine(based_server.database_url)) as session:
        admin = session.execute(select(User.id).where(User.username == "admin")).scalar_one()
        link = DisplayLink(token_hash=token_hash(token), label="room", view="live_meeting", created_by=admin,
                           created_at=now(), expires_at=now() + timedelta(hours=1))
        session.add(link)
        session.flush()
        link_id = link.id
    assert request(based_server, "GET", f"/display/{token}").status == 404  # outside the base: not ours
    opened = request(based_server, "GET", f"/{BASE}/display/{token}")
    assert opened.status == 303 and opened.getheader("location").startswith(f"/{BASE}/?mode=projector&lang=")
    display = _cookies(opened)["gongzhi_display"]
    assert display["path"] == f"/{BASE}"
    assert request(based_server, "GET", f"/{BASE}/", headers={"Cookie": f"gongzhi_display={display['value']}"}
                   ).status == 200
    with write_session(get_engine(based_server.database_url)) as session:
        session.get(DisplayLink, link_id).revoked_at = now()
    assert request(based_server, "GET", f"/{BASE}/display/{token}").status == 404


def test_in_chromium_a_bookmark_under_the_base_signs_in_and_opens_that_page(based_server, browser):
    from gongzhi.i18n import translate
    from tests.browser.helpers import fill_sign_in, wait_for_app

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    try:
        page.goto(f"{based_server.url}/events?lang=en")
        fill_sign_in(page, "committee")
        page.locator("h1").filter(has_text=translate("en", "nav.events")).wait_for(timeout=30_000)
        wait_for_app(page)
        assert page.url.startswith(f"{based_server.url}/events")
        # Signing out (a form in the sidebar) stays under the base too.
        page.locator("[data-testid='stSidebar']").get_by_role("button", name=translate("en", "auth.sign_out")).click()
        page.get_by_role("button", name=translate("en", "auth.sign_in"), exact=True).wait_for(timeout=30_000)
        assert page.url.startswith(f"{based_server.url}/signin")
    finally:
        context.close()
