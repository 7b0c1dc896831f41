"""The staff side of the public features in AppTest: the posters tab of the boundaries page for the
committee and admins only (with its two downloads, and the warning while GONGZHI_PUBLIC_URL is not
set); Open311 API keys on the accounts page for admins: issued with the key shown once, stored as
its hash, listed, revoked."""

import hashlib
import re

import pytest

from gongzhi import i18n
from gongzhi.escape import WORD_JOINER
from tests.conftest import Sql


def t(key: str, **params) -> str:
    return i18n.translate("en", key, **params)


@pytest.mark.parametrize(("role", "posters"), [("committee", True), ("admin", True), ("leader", False)])
def test_the_posters_tab_is_for_the_committee_and_admins(open_page, demo_url, monkeypatch, role, posters):
    monkeypatch.delenv("GONGZHI_PUBLIC_URL", raising=False)
    app = open_page(demo_url, "views/boundaries.py", role=role)
    assert not app.exception
    assert (t("public.poster_section_title") in [tab.label for tab in app.tabs]) == posters
    labels = [button.label for button in app.get("download_button")]
    assert (t("public.poster_download") in labels and t("public.poster_download_all") in labels) == posters
    assert (t("public.poster_local_url") in [warning.value for warning in app.warning]) == posters


def test_no_warning_once_the_public_address_is_set(open_page, demo_url, monkeypatch):
    monkeypatch.setenv("GONGZHI_PUBLIC_URL", "https://gongzhi.example.org")
    app = open_page(demo_url, "views/boundaries.py", role="committee")
    assert not app.exception and not app.warning
    # The address as typed (the invisible word joiner only keeps Markdown from making it a link).
    assert any("https://gongzhi.example.org" in caption.value.replace(WORD_JOINER, "") for caption in app.caption)


def test_an_admin_issues_an_api_key_shown_once_and_revokes_it(open_page, demo_url):
    app = open_page(demo_url, "views/accounts.py", role="admin")
    assert not app.exception and t("open311.keys_title") in [header.value for header in app.header]
    app.text_input(key="open311_key_label").input("随手拍 *app*")
    app.button(key="open311_key_issue").click().run()
    (code,) = app.code
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", code.value)
    assert any("随手拍 \\*app\\*" in success.value for success in app.success)  # user text shown as typed
    sql = Sql(demo_url)
    assert sql.scalar("SELECT token_hash FROM apikey") == hashlib.sha256(code.value.encode()).hexdigest()
    app.run()
    assert not app.code  # shown once
    (revoke,) = [button for button in app.button if button.key.startswith("open311_key_revoke_")]
    revoke.click().run()
    app.run()
    assert sql.scalar("SELECT revoked_at FROM apikey") is not None
    assert not [button for button in app.button if button.key.startswith("open311_key_revoke_")]
