"""The accounts page: an admin sees the accounts, creates one that can sign in, and changes a role
or deactivates an account, which the account's own session follows at its next run; an admin
cannot demote themself; no other role has the page."""

import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi import i18n
from gongzhi.accounts import actor_for, authenticate
from gongzhi.db import get_engine, write_session
from gongzhi.domain import AreaLevel
from gongzhi.models import Area, User
from gongzhi.permissions import Role

PAGE = "views/accounts.py"
PASSWORD = "a-long-new-password"


def user_id(url: str, username: str) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(User.id).where(User.username == username)).scalar_one()


def signed_in_as(open_page, url: str, username: str):
    """A running session of that account, as after it signed in (see tests/conftest.py open_page)."""
    app = open_page(url, None, role=None)
    app.session_state["user_id"] = user_id(url, username)
    return app.run()


def role_caption(app) -> str:
    return " ".join(caption.value for caption in app.sidebar.caption)


def edit(app, account_id: int, **fields):
    """Choose the account, change the edit form's `fields` (role, active) and save."""
    app.selectbox(key="account_selected").select(account_id).run()
    prefix = f"account_edit_{account_id}_"
    if "role" in fields:
        app.selectbox(key=prefix + "role").select(fields["role"])
    if fields.get("active") is False:
        app.checkbox(key=prefix + "active").uncheck()
    return app.button(key="account_edit_submit").click().run()


def test_the_table_lists_the_demo_accounts(open_page, demo_url):
    app = open_page(demo_url, PAGE, role="admin")
    assert not app.exception, [e.value for e in app.exception]
    table = app.dataframe[0].value.set_index("Username")
    assert {"admin", "committee", "leader", "representative"} <= set(table.index)
    assert table.loc["committee", "Role"] == "Committee"
    with Session(get_engine(demo_url)) as session:
        first_grid = session.execute(select(Area.name).where(Area.level == AreaLevel.GRID).order_by(Area.code)).scalar()
    assert table.loc["leader", "Grids"] == first_grid


def test_a_new_leader_account_can_sign_in(open_page, demo_url):
    with Session(get_engine(demo_url)) as session:
        grid_id, grid_name = session.execute(select(Area.id, Area.name).where(Area.level == AreaLevel.GRID)
                                             .order_by(Area.code.desc())).first()
    app = open_page(demo_url, PAGE, role="admin")
    app.text_input(key="account_new_username").input("liu")
    app.text_input(key="account_new_display_name").input("刘网格长")
    app.selectbox(key="account_new_role").select("leader")
    app.multiselect(key="account_new_grids").select(grid_id)
    app.text_input(key="account_new_password").input(PASSWORD)
    app.text_input(key="account_new_password_repeat").input(PASSWORD)
    app.button(key="account_new_submit").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert "Account liu created." in [s.value for s in app.success]
    assert app.dataframe[0].value.set_index("Username").loc["liu", "Grids"] == grid_name
    with write_session(get_engine(demo_url)) as session:
        user = authenticate(session=session, username="liu", password=PASSWORD, address="127.0.0.1")
        actor = actor_for(session=session, user_id=user.id)
    assert (actor.name, actor.role, actor.grid_ids) == ("刘网格长", Role.LEADER, frozenset({grid_id}))


def test_passwords_that_differ_save_nothing(open_page, demo_url):
    app = open_page(demo_url, PAGE, role="admin")
    app.text_input(key="account_new_username").input("typo")
    app.text_input(key="account_new_password").input(PASSWORD)
    app.text_input(key="account_new_password_repeat").input(PASSWORD + "x")
    app.button(key="account_new_submit").click().run()
    assert [e.value for e in app.error] == [i18n.translate("en", "accounts.passwords_differ")]
    with Session(get_engine(demo_url)) as session:
        assert session.execute(select(User.id).where(User.username == "typo")).first() is None


def test_a_demoted_account_has_the_new_role_at_its_next_run(open_page, demo_url):
    committee = signed_in_as(open_page, demo_url, "committee")
    assert "Committee" in role_caption(committee)
    admin = edit(open_page(demo_url, PAGE, role="admin"), user_id(demo_url, "committee"), role="representative")
    assert not admin.exception, [e.value for e in admin.exception]
    assert "Account committee saved." in [s.value for s in admin.success]
    committee.run()
    assert "Resident representative" in role_caption(committee)
    assert "Committee" not in role_caption(committee)


def test_a_deactivated_account_is_signed_out_at_its_next_run(open_page, demo_url):
    committee = signed_in_as(open_page, demo_url, "committee")
    assert committee.title[0].value == i18n.translate("en", "nav.overview")
    edit(open_page(demo_url, PAGE, role="admin"), user_id(demo_url, "committee"), active=False)
    committee.run()
    assert committee.title[0].value == i18n.translate("en", "nav.login")
    assert "user_id" not in committee.session_state


def test_an_admin_cannot_demote_themself_on_the_page(open_page, demo_url):
    app = open_page(demo_url, PAGE, role="admin")
    app = edit(app, user_id(demo_url, "test-admin"), role="committee")
    assert [e.value for e in app.error] == ["- Role: you cannot take the admin role from your own account"]
    with Session(get_engine(demo_url)) as session:
        assert session.get(User, user_id(demo_url, "test-admin")).role == "admin"


@pytest.mark.parametrize("role", ["committee", "leader", "representative", "public"])
def test_the_page_is_not_in_the_menu_of_other_roles(open_page, demo_url, role):
    app = open_page(demo_url, None, role=role)
    with pytest.raises(ValueError, match="Known pages"):
        app.switch_page(PAGE)


def test_an_admin_deletes_an_account_which_is_signed_out_at_its_next_run(open_page, demo_url):
    committee = signed_in_as(open_page, demo_url, "committee")
    account = user_id(demo_url, "committee")
    admin = open_page(demo_url, PAGE, role="admin")
    admin.selectbox(key="account_selected").select(account).run()
    admin.button(key="account_delete_submit").click().run()  # not confirmed: nothing happens
    assert "committee" in admin.dataframe[0].value["Username"].tolist()
    admin.checkbox(key=f"account_delete_{account}_confirm").check()
    admin.button(key="account_delete_submit").click().run()
    assert not admin.exception, [e.value for e in admin.exception]
    assert "Account committee deleted." in [s.value for s in admin.success]
    assert "committee" not in admin.dataframe[0].value["Username"].tolist()
    committee.run()
    assert committee.title[0].value == i18n.translate("en", "nav.login")
    with write_session(get_engine(demo_url)) as session:
        assert authenticate(session=session, username="committee", password="gongzhi-demo", address="127.0.0.1") is None


def test_an_admin_cannot_delete_their_own_account_on_the_page(open_page, demo_url):
    app = open_page(demo_url, PAGE, role="admin")
    me = user_id(demo_url, "test-admin")
    app.selectbox(key="account_selected").select(me).run()
    app.checkbox(key=f"account_delete_{me}_confirm").check()
    app.button(key="account_delete_submit").click().run()
    assert [e.value for e in app.error] == [i18n.translate("en", "accounts.own_delete")]
    with Session(get_engine(demo_url)) as session:
        assert session.get(User, me).deleted_at is None
