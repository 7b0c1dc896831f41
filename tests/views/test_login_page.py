"""Signing in and out, the demo accounts, and menus by role."""

import pytest
from sqlmodel import Session

from gongzhi import i18n
from gongzhi.accounts import DEMO_PASSWORD
from gongzhi.db import get_engine
from gongzhi.models import User

LOGIN = "views/login.py"


def _sign_in(app, username, password):
    app.text_input(key="login_username").input(username)
    app.text_input(key="login_password").input(password)
    app.button(key="login_submit").click().run()
    return app


def test_signed_out_visitors_get_only_the_login_page(open_page, demo_url):
    app = open_page(demo_url, None, role=None)
    with pytest.raises(ValueError, match=r"Known pages: \['[^']*views/login.py'\]"):
        app.switch_page("views/issues.py")


def test_demo_accounts_are_listed_only_on_the_demo(open_page, demo_url, db_url):
    demo = open_page(demo_url, None, role=None)
    listed = "\n".join(info.value for info in demo.info)
    assert DEMO_PASSWORD in listed
    for username in ("admin", "committee", "leader", "representative"):
        assert f"`{username}`" in listed
    empty = open_page(db_url, None, role=None)
    assert not [info for info in empty.info if DEMO_PASSWORD in info.value]


@pytest.mark.parametrize(("username", "role_label"), [("admin", "Administrator"), ("leader", "Grid leader"),
                                                       ("representative", "Resident representative")])
def test_a_demo_account_signs_in(open_page, demo_url, username, role_label):
    app = _sign_in(open_page(demo_url, None, role=None), username, DEMO_PASSWORD)
    assert not app.exception
    assert app.title[0].value == i18n.translate("en", "nav.overview")
    assert any(role_label in caption.value for caption in app.sidebar.caption)


def test_a_wrong_password_is_refused_without_saying_which_part(open_page, demo_url):
    app = _sign_in(open_page(demo_url, None, role=None), "admin", "not the password")
    assert [e.value for e in app.error] == [i18n.translate("en", "auth.login_refused")]
    assert app.title[0].value == i18n.translate("en", "nav.login")
    app = _sign_in(app, "nobody", DEMO_PASSWORD)
    assert [e.value for e in app.error] == [i18n.translate("en", "auth.login_refused")]


def test_sign_out_returns_to_the_login_page(open_page, demo_url):
    app = open_page(demo_url, None)
    app.sidebar.button(key="sign_out").click().run()
    assert app.title[0].value == i18n.translate("en", "nav.login")
    assert "user_id" not in app.session_state


def test_a_removed_account_is_signed_out_at_the_next_rerun(open_page, demo_url):
    app = open_page(demo_url, None, role="leader")
    assert app.title[0].value == i18n.translate("en", "nav.overview")
    with Session(get_engine(demo_url)) as session:
        session.get(User, app.session_state["user_id"]).active = False
        session.commit()
    app.run()
    assert app.title[0].value == i18n.translate("en", "nav.login")


def test_public_visitors_see_only_aggregate_pages(open_page, demo_url):
    app = open_page(demo_url, None, role="public")
    assert app.title[0].value == i18n.translate("en", "nav.overview")
    for hidden in ("views/issues.py", "views/volunteers.py", "views/events.py", "views/meetings.py"):
        with pytest.raises(ValueError, match="Known pages"):  # not in the public menu
            app.switch_page(hidden)
    app.switch_page("views/grid_map.py")
    app.run()
    assert app.title[0].value == i18n.translate("en", "nav.grid_map")


def test_session_state_cannot_raise_a_role(open_page, demo_url):
    app = open_page(demo_url, None, role="representative")
    app.session_state["role"] = "admin"
    app.session_state["actor"] = "admin"
    app.run()
    assert any("Resident representative" in caption.value for caption in app.sidebar.caption)
