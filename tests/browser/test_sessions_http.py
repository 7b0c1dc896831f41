"""Gongzhi's own routes on a real server (`streamlit run app.py`), spoken to in plain HTTP: the
session cookie's flags, no token in clear in the database, the security headers on every kind of
response, /healthz, the sign-in gate and where it may send people back to, and the client address
behind a trusted proxy (only from a trusted peer is X-Forwarded-For believed)."""

import hashlib
import http.client
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest

from gongzhi.accounts import DEMO_PASSWORD, MAX_FAILURES_PER_ADDRESS
from tests.conftest import Sql

UNTRUSTED_PEER = "127.0.0.2"  # a loopback address that is not a trusted proxy by default


def request(server, method: str, path: str, *, body: dict | None = None, headers: dict | None = None,
            source: str | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30,
                                            source_address=(source, 0) if source else None)
    data = urlencode(body) if body is not None else None
    sent = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    connection.request(method, path, body=data, headers={**sent, **(headers or {})})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def sign_in(server, username="committee", password=DEMO_PASSWORD, next_path="/issues?grid=3", **kwargs):
    return request(server, "POST", "/signin", body={"username": username, "password": password, "next": next_path},
                   **kwargs)


def session_cookie(response) -> tuple[str, dict[str, str]]:
    """The gongzhi_session cookie set by a response: its value and its attributes (lower-case)."""
    (header,) = [value for name, value in response.getheaders() if name.lower() == "set-cookie"
                 and value.startswith("gongzhi_session=")]
    cookie = SimpleCookie()
    cookie.load(header)
    morsel = cookie["gongzhi_session"]
    flags = {part.strip().split("=", 1)[0].lower() for part in header.split(";")[1:]}
    return morsel.value, {"httponly": "httponly" in flags, "secure": "secure" in flags,
                          "samesite": morsel["samesite"].lower(), "path": morsel["path"]}


def test_signing_in_sets_an_httponly_cookie_and_returns_to_the_page_asked_for(app_server):
    response = sign_in(app_server)
    assert response.status == 303 and response.getheader("location") == "/issues?grid=3"
    token, flags = session_cookie(response)
    assert flags == {"httponly": True, "secure": False, "samesite": "lax", "path": "/"}  # plain HTTP: not Secure
    assert len(token) >= 43  # 256 bits in URL-safe base64
    # Over HTTPS (as nginx says, from this machine): Secure.
    _, flags = session_cookie(sign_in(app_server, headers={"X-Forwarded-Proto": "https"}))
    assert flags["secure"]
    # The same claim from a peer that is no trusted proxy is not believed.
    _, flags = session_cookie(sign_in(app_server, headers={"X-Forwarded-Proto": "https"}, source=UNTRUSTED_PEER))
    assert not flags["secure"]
    # The database holds the token's hash, never the token.
    sql = Sql(app_server.database_url)
    rows = sql.execute("SELECT token_hash, address, user_agent FROM loginsession").fetchall()
    assert hashlib.sha256(token.encode()).hexdigest() in {row.token_hash for row in rows}
    for table in sql.table_names():
        for row in sql.execute(f'SELECT * FROM "{table}"').fetchall():
            assert token not in " ".join(str(value) for value in row), table


def test_the_cookie_opens_the_app_and_sign_out_ends_it(app_server):
    token, _ = session_cookie(sign_in(app_server))
    cookie = {"Cookie": f"gongzhi_session={token}"}
    assert request(app_server, "GET", "/issues?grid=3", headers=cookie).status == 200
    signed_out = request(app_server, "POST", "/signout", body={"lang": "en"}, headers=cookie)
    assert signed_out.status == 303 and signed_out.getheader("location") == "/signin?lang=en"
    cleared = [value for name, value in signed_out.getheaders() if name.lower() == "set-cookie"
               and value.startswith("gongzhi_session=")]
    assert cleared and ("max-age=0" in cleared[0].lower() or "expires=thu, 01 jan 1970" in cleared[0].lower())
    again = request(app_server, "GET", "/issues?grid=3", headers=cookie)  # the old cookie no longer counts
    assert again.status == 303
    assert again.getheader("location") == "/signin?next=%2Fissues%3Fgrid%3D3&ended=signed_out"
    ended = Sql(app_server.database_url).scalar("SELECT end_reason FROM loginsession WHERE token_hash = :h",
                                                h=hashlib.sha256(token.encode()).hexdigest())
    assert ended == "signed_out"


def test_a_page_without_a_sign_in_goes_to_the_sign_in_page_and_back(app_server):
    for path in ("/issues?grid=3", "/slideshow?mode=projector", "/"):
        response = request(app_server, "GET", path)
        assert response.status == 303
        location = urlsplit(response.getheader("location"))
        assert location.path == "/signin"
        page = request(app_server, "GET", response.getheader("location"), headers={"Accept-Language": "en"})
        assert page.status == 200 and b'action="/signin"' in page.body
        assert f'name="next" value="{path}"'.replace("&", "&amp;").encode() in page.body
    # Streamlit's own files and ours are never gated.
    for path in ("/_stcore/health", "/healthz", "/signin", "/favicon.png"):
        assert request(app_server, "GET", path).status == 200, path


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_a_sign_in_never_sends_anyone_to_another_site(app_server, target):
    response = sign_in(app_server, next_path=target)
    assert response.status == 303 and response.getheader("location") == "/"


def test_wrong_passwords_and_foreign_posts_are_refused(app_server):
    wrong = sign_in(app_server, password="not the password", headers={"Accept-Language": "en"})
    assert wrong.status == 401 and "gongzhi_session" not in (wrong.getheader("set-cookie") or "")
    assert b"Wrong username or password." in wrong.body
    foreign = sign_in(app_server, headers={"Origin": "https://evil.example"})
    assert foreign.status == 403 and not foreign.getheader("set-cookie")
    assert request(app_server, "POST", "/signout", body={}, headers={"Origin": "https://evil.example"}).status == 403


def test_every_response_carries_the_security_headers(app_server):
    token, _ = session_cookie(sign_in(app_server))
    responses = {
        "page": request(app_server, "GET", "/issues", headers={"Cookie": f"gongzhi_session={token}"}),
        "redirect": request(app_server, "GET", "/issues"),
        "sign-in page": request(app_server, "GET", "/signin"),
        "health": request(app_server, "GET", "/healthz"),
        "Streamlit health": request(app_server, "GET", "/_stcore/health"),
        "static file": request(app_server, "GET", "/app/static/gongzhi-clicker.js"),
    }
    for what, response in responses.items():
        policy = response.getheader("content-security-policy") or ""
        assert "default-src 'self'" in policy and "frame-ancestors 'self'" in policy, what
        assert response.getheader("referrer-policy") == "same-origin", what
        assert response.getheader("x-content-type-options") == "nosniff", what
    assert responses["static file"].getheader("content-type").split(";")[0] in ("application/javascript",
                                                                               "text/javascript")


def test_the_sign_in_limit_counts_the_real_client_behind_the_proxy(app_server):
    sql = Sql(app_server.database_url)
    # Through nginx on this machine: each client counts for itself.
    for attempt in range(MAX_FAILURES_PER_ADDRESS):  # other usernames each time: the per-address limit
        sign_in(app_server, username=f"nobody-{attempt}", password="wrong", headers={"X-Forwarded-For": "198.51.100.7"})
    throttled = sign_in(app_server, username="leader", headers={"X-Forwarded-For": "198.51.100.7"})
    assert throttled.status == 429
    assert sign_in(app_server, username="leader", headers={"X-Forwarded-For": "198.51.100.8"}).status == 303
    assert sql.scalar("SELECT count(*) FROM loginattempt WHERE address = '198.51.100.7'") == MAX_FAILURES_PER_ADDRESS
    # From a peer that is no trusted proxy the header is a lie: the peer itself counts.
    sign_in(app_server, username="nobody", password="wrong", headers={"X-Forwarded-For": "198.51.100.9"},
            source=UNTRUSTED_PEER)
    assert sql.scalar("SELECT count(*) FROM loginattempt WHERE address = :a AND succeeded = :no",
                      a=UNTRUSTED_PEER, no=False) == 1
    assert sql.scalar("SELECT count(*) FROM loginattempt WHERE address = '198.51.100.9'") == 0


def test_signing_in_again_ends_the_browsers_earlier_session(app_server):
    first, _ = session_cookie(sign_in(app_server))
    second, _ = session_cookie(sign_in(app_server, username="admin", headers={"Cookie": f"gongzhi_session={first}"}))
    assert second != first
    assert request(app_server, "GET", "/issues", headers={"Cookie": f"gongzhi_session={first}"}).status == 303
    assert request(app_server, "GET", "/issues", headers={"Cookie": f"gongzhi_session={second}"}).status == 200
