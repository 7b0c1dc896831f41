"""The pure parts of gongzhi.web: the client address behind trusted proxies, where a sign-in may
return to, and the Content-Security-Policy."""

import asyncio
import json

import pytest

from gongzhi.web import client_address, content_security_policy, health, safe_next


@pytest.mark.parametrize(("peer", "forwarded", "proxies", "expected"), [
    ("203.0.113.9", None, ["127.0.0.1"], "203.0.113.9"),  # no proxy
    ("203.0.113.9", "198.51.100.7", ["127.0.0.1"], "203.0.113.9"),  # not a trusted proxy: header ignored
    ("127.0.0.1", "198.51.100.7", ["127.0.0.1"], "198.51.100.7"),  # nginx on this machine
    ("127.0.0.1", "6.6.6.6, 198.51.100.7", ["127.0.0.1"], "198.51.100.7"),  # the client's own claim ignored
    ("10.0.0.2", "198.51.100.7, 10.0.0.3", ["10.0.0.0/24"], "198.51.100.7"),  # two proxies of a network
    ("127.0.0.1", "198.51.100.7", [], "127.0.0.1"),  # trusting no one
    ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
    ("127.0.0.1", "10.0.0.3", ["127.0.0.1", "10.0.0.0/8"], "10.0.0.3"),  # all trusted: the left-most
    ("127.0.0.1", "not-an-address", ["127.0.0.1", "bogus"], "not-an-address"),
])
def test_the_client_address_believes_x_forwarded_for_only_from_trusted_proxies(peer, forwarded, proxies, expected):
    assert client_address(peer, forwarded, proxies) == expected


def test_the_trusted_proxies_are_a_setting(monkeypatch):
    monkeypatch.setenv("GONGZHI_TRUSTED_PROXIES", "none")
    assert client_address("127.0.0.1", "198.51.100.7") == "127.0.0.1"
    monkeypatch.setenv("GONGZHI_TRUSTED_PROXIES", "192.0.2.1 192.0.2.2")
    assert client_address("192.0.2.2", "198.51.100.7") == "198.51.100.7"
    monkeypatch.delenv("GONGZHI_TRUSTED_PROXIES")
    assert client_address("127.0.0.1", "198.51.100.7") == "198.51.100.7"  # default: this machine


@pytest.mark.parametrize(("value", "expected"), [
    ("/issues?grid=3", "/issues?grid=3"),
    ("/slideshow?mode=projector&lang=en", "/slideshow?mode=projector&lang=en"),
    ("https://evil.example/", "/"), ("//evil.example/x", "/"), ("/\\evil.example", "/"),
    ("issues", "/"), ("", "/"), (None, "/"), ("/\nSet-Cookie: x", "/"), ("javascript:alert(1)", "/"),
])
def test_after_sign_in_only_a_page_of_this_site(value, expected):
    assert safe_next(value) == expected


def test_the_policy_allows_only_this_origin(monkeypatch):
    monkeypatch.delenv("GONGZHI_TILE_URL", raising=False)
    monkeypatch.delenv("GONGZHI_BASEMAP", raising=False)
    policy = dict(part.split(" ", 1) for part in content_security_policy().split("; "))
    assert policy["default-src"] == "'self'" and policy["connect-src"] == "'self'"
    assert policy["img-src"] == "'self' data: blob:"
    assert policy["frame-ancestors"] == "'self'" and policy["object-src"] == "'none'"
    scripts = policy["script-src"].split()
    assert scripts[0] == "'self'" and all(source.startswith("'sha256-") for source in scripts[1:])
    assert "http" not in policy["style-src"] and "*" not in content_security_policy()
    monkeypatch.setenv("GONGZHI_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    assert "https://tiles.example.org" in content_security_policy().split("img-src ", 1)[1].split(";")[0]


def test_healthz_says_whether_the_database_answers(monkeypatch, db_url):
    monkeypatch.setenv("DATABASE_URL", db_url)
    response = asyncio.run(health(None))
    assert response.status_code == 200 and json.loads(response.body) == {"status": "ok", "database": "ok"}
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/nothing?connect_timeout=2")
    response = asyncio.run(health(None))
    assert response.status_code == 503 and json.loads(response.body)["database"] == "unreachable"
