"""Managing accounts in the core: only an admin lists, creates, edits and resets passwords; every
value is checked; an admin keeps their own admin role and access; an edit on an older copy is
refused naming who changed it and when; every write is in the audit trail, passwords never."""

import json
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.accounts import (
    MAX_FAILURES_PER_ACCOUNT,
    actor_for,
    authenticate,
    create_account,
    create_user,
    list_accounts,
    reset_password,
    update_account,
    user_for_identity,
)
from gongzhi.clock import frozen, now
from gongzhi.db import write_session
from gongzhi.errors import Conflict, NotFound, PermissionDenied, ValidationError
from gongzhi.i18n import translate
from gongzhi.models import Area, AuditEntry, User, UserGrid
from gongzhi.permissions import Actor, Role

PASSWORD = "correct horse battery"
NEW_PASSWORD = "another long passphrase"
AT = datetime(2026, 6, 1, 9, 15)
NON_ADMIN_ROLES = [Role.COMMITTEE, Role.LEADER, Role.REPRESENTATIVE, Role.PUBLIC]


@pytest.fixture
def grids(write) -> tuple[int, int]:
    with write() as session:
        first, second = Area(code="G01", name="第一网格", level="grid"), Area(code="G02", name="第二网格", level="grid")
        session.add_all([first, second])
        session.flush()
        return first.id, second.id


@pytest.fixture
def admin(write, session) -> Actor:
    """The admin acting, as the app makes it from the account (so it carries its user id)."""
    with write() as s:
        user_id = create_user(session=s, username="admin", password=PASSWORD, role="admin", display_name="赵管理员").id
    return actor_for(session=session, user_id=user_id)


@pytest.fixture
def secretary_id(write) -> int:
    with write() as s:
        return create_user(session=s, username="secretary", password=PASSWORD, role="committee",
                           display_name="王秘书").id


def _state(engine) -> tuple:
    """Everything an account write could change (audit entries included)."""
    with Session(engine) as session:
        users = session.execute(select(User.id, User.username, User.display_name, User.role, User.active,
                                       User.password_hash, User.version).order_by(User.id)).all()
        links = session.execute(select(UserGrid.user_id, UserGrid.grid_id).order_by(UserGrid.user_id,
                                                                                    UserGrid.grid_id)).all()
        audit = session.execute(select(AuditEntry.id)).scalars().all()
    return users, links, audit


def _entries(engine, table: str, record_id) -> list[AuditEntry]:
    with Session(engine) as session:
        return session.execute(select(AuditEntry).where(AuditEntry.table_name == table,
                                                        AuditEntry.record_id == str(record_id))
                               .order_by(AuditEntry.id)).scalars().all()


def _all_audit_text(engine) -> str:
    with Session(engine) as session:
        return "\n".join(f"{e.before} {e.after}" for e in session.execute(select(AuditEntry)).scalars())


def _edit(engine, actor, user_id, **changes):
    """update_account with the account's current values, but `changes`."""
    with Session(engine) as session:
        user = session.get(User, user_id)
        grids = tuple(session.execute(select(UserGrid.grid_id).where(UserGrid.user_id == user_id)).scalars())
        values = {"role": user.role, "display_name": user.display_name, "grid_ids": grids, "active": user.active,
                  "expected_version": user.version}
    values.update(changes)
    with write_session(engine, actor=actor) as session:
        return update_account(session=session, actor=actor, user_id=user_id, **values)


def _signs_in(engine, username, password) -> bool:
    with write_session(engine) as session:
        return authenticate(session=session, username=username, password=password, address="127.0.0.1") is not None


# --- list_accounts ------------------------------------------------------------------------------

def test_an_admin_lists_every_account_with_its_grids(engine, write, admin, grids):
    with write() as session:
        leader = create_user(session=session, username="leader", password=PASSWORD, role="leader",
                             display_name="网格长", grid_ids=grids)
        leader.oidc_subject = "sub-123"
    with Session(engine) as session:
        accounts = list_accounts(session=session, viewer=admin)
    assert list(accounts["username"]) == ["admin", "leader"]
    row = accounts.set_index("username").loc["leader"]
    assert (row["display_name"], row["role"], row["grids"], row["grid_ids"]) == (
        "网格长", "leader", ("第一网格", "第二网格"), grids)
    assert (bool(row["active"]), bool(row["oidc_linked"]), int(row["version"])) == (True, True, 2)
    assert not accounts.set_index("username").loc["admin", "oidc_linked"]
    assert "password_hash" not in accounts.columns


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_only_an_admin_lists_accounts(session, admin, role):
    with pytest.raises(PermissionDenied):
        list_accounts(session=session, viewer=Actor(name="x", role=role))


# --- create_account -----------------------------------------------------------------------------

def test_an_admin_creates_a_leader_who_can_sign_in(engine, admin, grids):
    with write_session(engine, actor=admin) as session:
        user_id = create_account(session=session, actor=admin, username="liu", password=PASSWORD, role="leader",
                                 display_name="刘网格长", grid_ids=(grids[1],)).id
    with Session(engine) as session:
        actor = actor_for(session=session, user_id=user_id)
    assert (actor.name, actor.role, actor.grid_ids) == ("刘网格长", Role.LEADER, frozenset({grids[1]}))
    assert _signs_in(engine, "liu", PASSWORD)
    inserted = _entries(engine, "user", user_id)
    assert [(e.action, e.actor, e.actor_role) for e in inserted] == [("insert", "赵管理员", "admin")]
    assert json.loads(inserted[0].after)["password_hash"] == "***"
    assert [e.action for e in _entries(engine, "usergrid", f"{user_id}/{grids[1]}")] == ["insert"]
    assert PASSWORD not in _all_audit_text(engine) and "$argon2" not in _all_audit_text(engine)


def test_a_new_account_of_another_role_keeps_no_grids(engine, admin, grids):
    with write_session(engine, actor=admin) as session:
        user_id = create_account(session=session, actor=admin, username="sec", password=PASSWORD,
                                 role="committee", grid_ids=grids).id
    with Session(engine) as session:
        assert actor_for(session=session, user_id=user_id).grid_ids == frozenset()


def test_a_representative_keeps_their_grid_without_any_right_to_write(engine, admin, grids):
    """Their pages open on it (permissions.home_grid); may_write stays a grid leader's."""
    from gongzhi.permissions import home_grid, may_write

    with write_session(engine, actor=admin) as session:
        user_id = create_account(session=session, actor=admin, username="rep", password=PASSWORD,
                                 role="representative", grid_ids=grids[:1]).id
    with Session(engine) as session:
        actor = actor_for(session=session, user_id=user_id)
    assert actor.grid_ids == frozenset(grids[:1])
    assert home_grid(actor, grids) == grids[0]
    assert not any(may_write(actor, grid) for grid in grids)


@pytest.mark.parametrize(("values", "fields"), [
    ({"role": "leader", "grid_ids": ()}, ["auth.field_grids"]),
    ({"role": "leader", "grid_ids": (9999,)}, ["auth.field_grids"]),
    ({"role": "mayor"}, ["auth.field_role"]),
    ({"password": "short"}, ["auth.field_password"]),
    ({"username": "admin"}, ["auth.field_username"]),
    ({"display_name": "名" * 41}, ["accounts.field_display_name"]),
])
def test_a_new_account_is_checked_and_nothing_saved_when_wrong(engine, admin, grids, values, fields):
    before = _state(engine)
    arguments = {"username": "new", "password": PASSWORD, "role": "committee", "display_name": "新人", **values}
    with pytest.raises(ValidationError) as refused, write_session(engine, actor=admin) as session:
        create_account(session=session, actor=admin, **arguments)
    assert [error.field for error in refused.value.errors] == fields
    assert _state(engine) == before


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_only_an_admin_creates_accounts(engine, admin, role):
    actor = Actor(name="x", role=role)
    before = _state(engine)
    with pytest.raises(PermissionDenied), write_session(engine, actor=actor) as session:
        create_account(session=session, actor=actor, username="sneaky", password=PASSWORD, role="admin")
    assert _state(engine) == before


# --- update_account -----------------------------------------------------------------------------

def test_an_admin_changes_role_name_grids_and_status(engine, admin, grids, secretary_id):
    _edit(engine, admin, secretary_id, role="leader", display_name="王网格长", grid_ids=(grids[0],))
    with Session(engine) as session:
        actor = actor_for(session=session, user_id=secretary_id)
    assert (actor.name, actor.role, actor.grid_ids) == ("王网格长", Role.LEADER, frozenset({grids[0]}))
    created, updated = _entries(engine, "user", secretary_id)  # one entry for the whole edit
    assert (updated.action, updated.actor) == ("update", "赵管理员")
    assert (json.loads(updated.before)["role"], json.loads(updated.after)["role"]) == ("committee", "leader")
    assert json.loads(updated.after)["password_hash"] == "***"

    _edit(engine, admin, secretary_id, grid_ids=(grids[1],))  # moves to the other grid
    assert [e.action for e in _entries(engine, "usergrid", f"{secretary_id}/{grids[0]}")] == ["insert", "delete"]
    _edit(engine, admin, secretary_id, active=False)
    with Session(engine) as session:
        assert actor_for(session=session, user_id=secretary_id) is None
    assert not _signs_in(engine, "secretary", PASSWORD)
    assert PASSWORD not in _all_audit_text(engine)


def test_a_change_of_grids_alone_bumps_the_version(engine, admin, grids, write):
    with write() as session:
        leader_id = create_user(session=session, username="leader", password=PASSWORD, role="leader",
                                grid_ids=(grids[0],)).id
    _edit(engine, admin, leader_id, grid_ids=grids)
    with Session(engine) as session:
        assert session.get(User, leader_id).version == 2
    # ...so another admin's edit of the copy before it is refused, naming who made the change.
    with pytest.raises(Conflict) as refused:
        _edit(engine, admin, leader_id, display_name="x", expected_version=1)
    assert refused.value.params["who"] == "赵管理员"


@pytest.mark.parametrize(("changes", "fields"), [
    ({"role": "leader", "grid_ids": ()}, ["auth.field_grids"]),
    ({"role": "leader", "grid_ids": (9999,)}, ["auth.field_grids"]),
    ({"role": "mayor"}, ["auth.field_role"]),
    ({"display_name": "  "}, ["accounts.field_display_name"]),
])
def test_an_edit_is_checked_and_nothing_saved_when_wrong(engine, admin, grids, secretary_id, changes, fields):
    before = _state(engine)
    with pytest.raises(ValidationError) as refused:
        _edit(engine, admin, secretary_id, **changes)
    assert [error.field for error in refused.value.errors] == fields
    assert _state(engine) == before


@pytest.mark.parametrize(("changes", "message"), [
    ({"role": "committee"}, "Role: you cannot take the admin role from your own account"),
    ({"active": False}, "Active (may sign in): you cannot deactivate your own account"),
])
def test_an_admin_cannot_demote_or_deactivate_their_own_account(engine, admin, changes, message):
    before = _state(engine)
    with pytest.raises(ValidationError) as refused:
        _edit(engine, admin, admin.user_id, **changes)
    assert refused.value.messages("en") == [message]
    assert _state(engine) == before


def test_an_admin_may_demote_another_admin(engine, admin, write):
    with write() as session:
        other_id = create_user(session=session, username="admin2", password=PASSWORD, role="admin").id
    _edit(engine, admin, other_id, role="representative")
    with Session(engine) as session:
        assert actor_for(session=session, user_id=other_id).role == Role.REPRESENTATIVE


def test_an_edit_of_an_older_copy_is_refused_naming_who_and_when(engine, admin, secretary_id, write):
    with write() as session:
        other_admin = actor_for(session=session, user_id=create_user(
            session=session, username="admin2", password=PASSWORD, role="admin", display_name="钱管理员").id)
    with frozen(AT):
        _edit(engine, other_admin, secretary_id, display_name="王主任")
    before = _state(engine)
    with pytest.raises(Conflict) as refused:
        _edit(engine, admin, secretary_id, role="representative", expected_version=1)
    assert refused.value.message("en") == translate("en", "errors.conflict", what="user", id=str(secretary_id),
                                                    who="钱管理员", when="2026-06-01 09:15")
    assert _state(engine) == before


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_only_an_admin_edits_accounts(engine, admin, secretary_id, role):
    before = _state(engine)
    with pytest.raises(PermissionDenied):
        _edit(engine, Actor(name="x", role=role, user_id=secretary_id), secretary_id, role="admin")
    assert _state(engine) == before


def test_an_unknown_account_is_not_found(engine, admin):
    with pytest.raises(NotFound), write_session(engine, actor=admin) as session:
        update_account(session=session, actor=admin, user_id=9999, role="committee", display_name="x", grid_ids=(),
                       active=True, expected_version=1)
    with pytest.raises(NotFound), write_session(engine, actor=admin) as session:
        reset_password(session=session, actor=admin, user_id=9999, new_password=NEW_PASSWORD)


# --- reset_password -----------------------------------------------------------------------------

def test_an_admin_sets_a_new_password_which_also_lifts_a_lockout(engine, admin, secretary_id):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert not _signs_in(engine, "secretary", "a wrong guess")
    with write_session(engine, actor=admin) as session:
        reset_password(session=session, actor=admin, user_id=secretary_id, new_password=NEW_PASSWORD)
    assert _signs_in(engine, "secretary", NEW_PASSWORD)
    assert not _signs_in(engine, "secretary", PASSWORD)
    changed = _entries(engine, "user", secretary_id)[-1]
    assert (changed.action, changed.actor) == ("update", "赵管理员")
    assert (json.loads(changed.before)["password_hash"], json.loads(changed.after)["password_hash"]) == ("***", "*** (changed)")
    assert NEW_PASSWORD not in _all_audit_text(engine) and "$argon2" not in _all_audit_text(engine)


def test_a_new_password_too_short_is_refused(engine, admin, secretary_id):
    before = _state(engine)
    with pytest.raises(ValidationError) as refused, write_session(engine, actor=admin) as session:
        reset_password(session=session, actor=admin, user_id=secretary_id, new_password="short")
    assert refused.value.messages("en") == ["Password: must be at least 10 characters"]
    assert _state(engine) == before


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_only_an_admin_resets_passwords(engine, admin, secretary_id, role):
    actor = Actor(name="x", role=role)
    before = _state(engine)
    with pytest.raises(PermissionDenied), write_session(engine, actor=actor) as session:
        reset_password(session=session, actor=actor, user_id=admin.user_id, new_password=NEW_PASSWORD)
    assert _state(engine) == before


# --- user_for_identity (OIDC) -------------------------------------------------------------------

@pytest.fixture
def identities(write) -> dict[str, int]:
    with write() as session:
        linked = create_user(session=session, username="linked", password=PASSWORD, role="committee")
        linked.oidc_subject = "sub-linked"
        by_email = create_user(session=session, username="wang@example.org", password=PASSWORD, role="committee")
        gone = create_user(session=session, username="gone@example.org", password=PASSWORD, role="committee")
        gone.oidc_subject, gone.active = "sub-gone", False
        removed = create_user(session=session, username="removed@example.org", password=PASSWORD, role="committee")
        removed.deleted_at = now()
        return {"linked": linked.id, "by_email": by_email.id}


@pytest.mark.parametrize(("subject", "email", "expected"), [
    ("sub-linked", None, "linked"),
    ("sub-linked", "wang@example.org", "linked"),  # the subject wins over the email
    ("sub-unknown", "wang@example.org", "by_email"),
    (None, "wang@example.org", "by_email"),
    ("sub-gone", None, None),  # an inactive account never matches, by subject...
    ("sub-gone", "gone@example.org", None),  # ...nor by email
    (None, "removed@example.org", None),  # a deleted one neither
    ("sub-unknown", "nobody@example.org", None),
    (None, None, None),
])
def test_an_oidc_identity_maps_to_a_live_account(session, identities, subject, email, expected):
    found = user_for_identity(session=session, subject=subject, email=email)
    assert found == (identities[expected] if expected else None)
