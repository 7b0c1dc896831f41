"""Signing in and out, the demo accounts, and menus by role."""

import pytest
from sqlmodel import Session

from gongzhi import i18n
from gongzhi.accounts import DEMO_PASSWORD
from gongzhi.db import get_engine
from gongzhi.models import User

LOGIN = "views/login.py"


def _sign_in_form(app) -> str:
    """The HTML of the sign-in form on the page (gongzhi.web's, POSTed to /signin)."""
    forms = [node.proto.body for node in app._tree if node.type == "html" and 'action="/signin"' in node.proto.body]
    assert len(forms) == 1
    return forms[0]


@pytest.mark.parametrize("page", ["views/issues.py", "views/slideshow.py", None])
def test_signed_out_visitors_get_the_sign_in_form_at_every_page_address(open_page, demo_url, page):
    """A session that ended while the page was open: every page's address shows the sign-in form
    (never "Page not found"), which returns to that page with its query."""
    app = open_page(demo_url, None, role=None, query_params={"grid": "XX-TYJ-G01", "lang": "en"})
    if page is not None:
        with pytest.raises(ValueError, match="Known pages"):
            app.switch_page(page)  # the page itself is not there: its address shows the sign-in page
    assert app.title[0].value == i18n.translate("en", "nav.login")
    form = _sign_in_form(app)
    assert 'name="next" value="/?grid=XX-TYJ-G01&amp;lang=en"' in form
    assert 'name="password" type="password"' in form
    assert not app.exception


def test_demo_accounts_are_listed_only_on_the_demo(open_page, demo_url, db_url):
    demo = open_page(demo_url, None, role=None)
    listed = "\n".join(info.value for info in demo.info)
    assert DEMO_PASSWORD in listed
    for username in ("admin", "committee", "leader", "representative"):
        assert f"`{username}`" in listed
    empty = open_page(db_url, None, role=None)
    assert not [info for info in empty.info if DEMO_PASSWORD in info.value]


def test_signed_in_the_sidebar_offers_sign_out_as_a_post(open_page, demo_url):
    app = open_page(demo_url, None)
    forms = [node.proto.body for node in app.sidebar if node.type == "html"]
    assert any('method="post" action="/signout"' in body and i18n.translate("en", "auth.sign_out") in body
               for body in forms)


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
