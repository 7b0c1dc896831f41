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


def _change_password(app, current: str, new: str, repeated: str | None = None):
    app.text_input(key="own_password_current").input(current)
    app.text_input(key="own_password_new").input(new)
    app.text_input(key="own_password_repeat").input(new if repeated is None else repeated)
    return app.button(key="own_password_submit").click().run()


def _signs_in(url: str, password: str) -> bool:
    from gongzhi.accounts import authenticate
    from gongzhi.db import get_engine, write_session

    with write_session(get_engine(url)) as session:
        return authenticate(session=session, username="committee", password=password, address="127.0.0.1") is not None


def test_one_changes_ones_own_password_on_my_account(open_page, demo_url):
    from tests.views.test_accounts_page import signed_in_as

    app = signed_in_as(open_page, demo_url, "committee")
    app.switch_page("views/my_account.py").run()
    assert t("accounts.own_password_title") in [header.value for header in app.header]
    app = _change_password(app, "gongzhi-demo", "a-new-long-password", "a-new-long-passwordX")
    assert [e.value for e in app.error] == [t("accounts.passwords_differ")]
    app = _change_password(app, "not my password", "a-new-long-password")
    assert [e.value for e in app.error] == [f"{t('accounts.field_current_password')}: "
                                            f"{t('accounts.current_password_wrong')}"]
    app = _change_password(app, "gongzhi-demo", "short")
    assert [e.value for e in app.error] == ["- Password: must be at least 10 characters"]
    assert _signs_in(demo_url, "gongzhi-demo")
    app = _change_password(app, "gongzhi-demo", "a-new-long-password")
    assert not app.exception, [e.value for e in app.exception]
    assert t("accounts.own_password_changed") in [s.value for s in app.success]
    assert _signs_in(demo_url, "a-new-long-password") and not _signs_in(demo_url, "gongzhi-demo")
