"""My account: one's own sign-ins (none in AppTest, which signs in without a cookie) and, for admin
and committee only, display links: made with the URL shown once, listed, revoked."""

import re

import pytest

from gongzhi import i18n


def t(key: str, **params) -> str:
    return i18n.translate("en", key, **params)


@pytest.mark.parametrize(("role", "links"), [("committee", True), ("admin", True), ("leader", False),
                                             ("representative", False)])
def test_display_links_are_offered_to_admin_and_committee_only(open_page, demo_url, role, links):
    app = open_page(demo_url, "views/my_account.py", role=role)
    assert not app.exception
    assert app.title[0].value == t("nav.my_account")
    headers = [header.value for header in app.header]
    assert t("sessions.own_title") in headers
    assert (t("sessions.display_title") in headers) == links


def test_a_display_link_is_made_shown_once_and_revoked(open_page, demo_url):
    app = open_page(demo_url, "views/my_account.py", role="committee")
    app.text_input(key="display_link_label").input("Room *A*")
    app.button(key="display_link_create").click().run()
    (code,) = app.code
    assert re.fullmatch(r".*/display/[A-Za-z0-9_-]{43,}", code.value)
    assert any("Room \\*A\\*" in success.value for success in app.success)  # user text shown as typed
    app.run()
    assert not app.code  # shown once
    (revoke,) = [button for button in app.button if button.key.startswith("display_revoke_")]
    revoke.click().run()
    app.run()
    assert t("sessions.display_none") in [caption.value for caption in app.caption]
