"""One's own password change and an admin's deletion of an account, in the core: the current
password is proved (a wrong one counts as a failed sign-in, and enough of them lock the form as
they lock the sign-in page), the new one follows the password rules; a change ends every session
of the account, the one it was made from included; a deleted account cannot sign in, its sessions
end, the last admin and one's own account are never deleted; everything is in the audit trail,
no password or hash."""

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.accounts import (
    MAX_FAILURES_PER_ACCOUNT,
    LoginThrottled,
    actor_for,
    authenticate,
    change_own_password,
    check_own_password,
    create_user,
    delete_account,
    list_accounts,
)
from gongzhi.clock import frozen
from gongzhi.db import write_session
from gongzhi.errors import GongzhiError, PermissionDenied, ValidationError
from gongzhi.models import AuditEntry, LoginAttempt, LoginSession, User
from gongzhi.permissions import Actor, Role
from gongzhi.sessions import EndReason, check_session, start_session

AT = datetime(2026, 6, 1, 9, 0)
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def accounts(write) -> dict[str, int]:
    with write() as session:
        return {name: create_user(session=session, username=name, password=PASSWORD, role=role,
                                  display_name=display).id
                for name, role, display in (("admin", Role.ADMIN, "赵管理员"), ("secretary", Role.COMMITTEE, "王秘书"),
                                            ("rep", Role.REPRESENTATIVE, "李代表"))}


def _actor(engine, user_id) -> Actor:
    with Session(engine) as session:
        return actor_for(session=session, user_id=user_id)


def _start(engine, user_id) -> tuple[str, int]:
    with frozen(AT), write_session(engine) as session:
        token = start_session(session=session, user_id=user_id, address="198.51.100.7", user_agent="Firefox/140")
        row = session.execute(select(LoginSession.id).order_by(LoginSession.id.desc())).scalar()
    return token, row


def _check(engine, token):
    with frozen(AT + timedelta(minutes=10)), write_session(engine) as session:
        return check_session(session=session, token=token)


def _signs_in(engine, username, password) -> bool:
    with frozen(AT + timedelta(minutes=10)), write_session(engine) as session:
        return authenticate(session=session, username=username, password=password, address="127.0.0.1") is not None


def _trail(engine) -> list:
    with Session(engine) as session:
        return session.execute(select(AuditEntry.table_name, AuditEntry.record_id, AuditEntry.action, AuditEntry.actor,
                                      AuditEntry.before, AuditEntry.after).order_by(AuditEntry.id)).all()


def _change(engine, actor, current, new):
    with frozen(AT + timedelta(minutes=5)), write_session(engine, actor=actor) as session:
        return change_own_password(session=session, actor=actor, current_password=current, new_password=new)


# --- one's own password --------------------------------------------------------------------------

def test_a_password_change_ends_every_session_of_the_account_this_one_included(engine, accounts):
    secretary = _actor(engine, accounts["secretary"])
    (this, this_id), (phone, _) = _start(engine, accounts["secretary"]), _start(engine, accounts["secretary"])
    other, _ = _start(engine, accounts["rep"])
    with frozen(AT + timedelta(minutes=5)), write_session(engine, actor=secretary) as session:
        assert check_own_password(session=session, actor=secretary, password=PASSWORD, session_id=this_id)
    _change(engine, secretary, PASSWORD, NEW_PASSWORD)
    for token in (this, phone):
        check = _check(engine, token)
        assert check.actor is None and check.ended == EndReason.PASSWORD
    assert _check(engine, other).actor is not None  # another account's session stays
    assert _signs_in(engine, "secretary", NEW_PASSWORD) and not _signs_in(engine, "secretary", PASSWORD)
    trail = _trail(engine)
    changed = [e for e in trail if e.table_name == "user" and e.record_id == str(accounts["secretary"])][-1]
    assert (changed.action, changed.actor) == ("update", "王秘书")
    assert json.loads(changed.after)["password_hash"] == "*** (changed)"
    ends = [json.loads(e.after)["end_reason"] for e in trail if e.table_name == "loginsession" and e.action == "update"]
    assert ends == [EndReason.PASSWORD.value] * 2
    text = " ".join(f"{e.before} {e.after}" for e in trail)
    assert NEW_PASSWORD not in text and PASSWORD not in text and "$argon2" not in text


@pytest.mark.parametrize(("current", "new", "message"), [
    ("a wrong guess", NEW_PASSWORD, "Current password: is not your current password"),
    (PASSWORD, "short", "Password: must be at least 10 characters"),
    (PASSWORD, PASSWORD, "New password: must differ from the current password"),
])
def test_a_wrong_current_password_or_a_new_one_against_the_rules_changes_nothing(engine, accounts, current, new,
                                                                                  message):
    secretary = _actor(engine, accounts["secretary"])
    token, _ = _start(engine, accounts["secretary"])
    with pytest.raises(ValidationError) as refused:
        _change(engine, secretary, current, new)
    assert refused.value.messages("en") == [message]
    assert _check(engine, token).actor is not None
    assert _signs_in(engine, "secretary", PASSWORD)


def test_wrong_current_passwords_count_as_failed_sign_ins_and_lock_the_form(engine, accounts):
    secretary = _actor(engine, accounts["secretary"])
    _, session_id = _start(engine, accounts["secretary"])
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        with frozen(AT + timedelta(minutes=1)), write_session(engine, actor=secretary) as session:
            assert not check_own_password(session=session, actor=secretary, password="guess", session_id=session_id)
    with Session(engine) as session:
        failures = session.execute(select(LoginAttempt.username, LoginAttempt.address, LoginAttempt.succeeded)).all()
    assert failures == [("secretary", "198.51.100.7", False)] * MAX_FAILURES_PER_ACCOUNT
    with pytest.raises(LoginThrottled), frozen(AT + timedelta(minutes=2)), \
            write_session(engine, actor=secretary) as session:
        check_own_password(session=session, actor=secretary, password=PASSWORD, session_id=session_id)
    with pytest.raises(LoginThrottled):  # the sign-in page counts the same failures
        _signs_in(engine, "secretary", PASSWORD)


@pytest.mark.parametrize("actor", [Actor(name="display:1", role=Role.PUBLIC), Actor(name="visitor", role=Role.PUBLIC)])
def test_a_screen_or_a_visitor_has_no_password_to_change(engine, accounts, actor):
    with pytest.raises(PermissionDenied):
        _change(engine, actor, PASSWORD, NEW_PASSWORD)


# --- deleting an account ---------------------------------------------------------------------------

def _delete(engine, actor, user_id):
    with frozen(AT + timedelta(minutes=5)), write_session(engine, actor=actor) as session:
        return delete_account(session=session, actor=actor, user_id=user_id,
                              expected_version=session.get(User, user_id).version)


def test_an_admin_deletes_an_account_which_cannot_sign_in_and_whose_sessions_end(engine, accounts):
    admin = _actor(engine, accounts["admin"])
    token, _ = _start(engine, accounts["secretary"])
    _delete(engine, admin, accounts["secretary"])
    check = _check(engine, token)
    assert check.actor is None and check.ended == EndReason.DELETED
    assert not _signs_in(engine, "secretary", PASSWORD)
    with Session(engine) as session:
        assert session.get(User, accounts["secretary"]).deleted_at == AT + timedelta(minutes=5)  # soft: the row stays
        assert "secretary" not in list_accounts(session=session, viewer=admin)["username"].tolist()
        assert actor_for(session=session, user_id=accounts["secretary"]) is None
    entries = [(e.table_name, e.action, e.actor) for e in _trail(engine) if e.table_name in ("user", "loginsession")
               and e.action != "insert"]
    assert entries == [("user", "soft_delete", "赵管理员"), ("loginsession", "update", "赵管理员")]


def test_the_last_admin_and_ones_own_account_are_never_deleted(engine, accounts, write):
    admin = _actor(engine, accounts["admin"])
    with pytest.raises(GongzhiError) as own:
        _delete(engine, admin, accounts["admin"])
    assert own.value.key == "accounts.own_delete"
    with write() as session:
        second = create_user(session=session, username="admin2", password=PASSWORD, role=Role.ADMIN).id
    other_admin = _actor(engine, second)
    _delete(engine, other_admin, accounts["admin"])  # two admins: one may go
    with pytest.raises(GongzhiError) as last:
        _delete(engine, Actor(name="x", role=Role.ADMIN, user_id=None), second)
    assert last.value.key == "accounts.last_admin"
    assert _signs_in(engine, "admin2", PASSWORD) and not _signs_in(engine, "admin", PASSWORD)


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.LEADER, Role.REPRESENTATIVE, Role.PUBLIC])
def test_only_an_admin_deletes_accounts(engine, accounts, role):
    with pytest.raises(PermissionDenied):
        _delete(engine, Actor(name="x", role=role), accounts["rep"])
    assert _signs_in(engine, "rep", PASSWORD)
