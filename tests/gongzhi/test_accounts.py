import pytest
from sqlalchemy import select

from gongzhi.accounts import (
    MAX_FAILURES_PER_ACCOUNT,
    LoginThrottled,
    actor_for,
    authenticate,
    create_user,
)
from gongzhi.errors import ValidationError
from gongzhi.models import Area, User
from gongzhi.permissions import Role

PASSWORD = "correct horse battery"


@pytest.fixture
def grid_id(write):
    with write() as session:
        grid = Area(code="G01", name="第一网格", level="grid")
        session.add(grid)
        session.flush()
        return grid.id


def _login(write, username, password, address="127.0.0.1"):
    with write() as session:
        user = authenticate(session=session, username=username, password=password, address=address)
        return None if user is None else user.id


def test_passwords_are_stored_as_argon2_hashes(write, session):
    with write() as s:
        create_user(session=s, username="admin", password=PASSWORD, role="admin")
    stored = session.execute(select(User.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_login_with_the_right_password_and_refusal_otherwise(write):
    with write() as s:
        create_user(session=s, username="admin", password=PASSWORD, role="admin")
    assert _login(write, "admin", PASSWORD) is not None
    assert _login(write, "admin", "wrong password") is None
    assert _login(write, "nobody", PASSWORD) is None


def test_an_account_is_locked_after_repeated_failures_even_for_the_right_password(write):
    with write() as s:
        create_user(session=s, username="admin", password=PASSWORD, role="admin")
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert _login(write, "admin", "guess", address="10.0.0.9") is None
    with pytest.raises(LoginThrottled):
        _login(write, "admin", PASSWORD, address="10.0.0.10")


def test_an_address_is_throttled_across_accounts(write):
    for index in range(20):
        assert _login(write, f"user{index}", "guess", address="192.0.2.7") is None
    with pytest.raises(LoginThrottled):
        _login(write, "anyone", "guess", address="192.0.2.7")
    assert _login(write, "anyone", "guess", address="192.0.2.8") is None


def test_validation_of_new_accounts(write, grid_id):
    with pytest.raises(ValidationError) as error, write() as s:
        create_user(session=s, username="", password="short", role="mayor")
    assert {e.field for e in error.value.errors} == {"auth.field_username", "auth.field_password", "auth.field_role"}
    with pytest.raises(ValidationError) as error, write() as s:
        create_user(session=s, username="leader", password=PASSWORD, role="leader")
    assert [e.field for e in error.value.errors] == ["auth.field_grids"]


def test_actor_reflects_the_account_as_stored_now(write, session, grid_id):
    with write() as s:
        user_id = create_user(session=s, username="leader", password=PASSWORD, role="leader", grid_ids=(grid_id,)).id
    actor = actor_for(session=session, user_id=user_id)
    assert (actor.role, actor.grid_ids) == (Role.LEADER, frozenset({grid_id}))
    with write() as s:
        s.get(User, user_id).active = False
    session.rollback()  # a new rerun reads in a new transaction
    assert actor_for(session=session, user_id=user_id) is None
