"""Accounts: argon2 password hashes, login with rate limits per account and per address, and
the Actor a signed-in user acts as (re-read on every rerun, so a role change or a removed
account takes effect at once)."""

from datetime import timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session

from gongzhi.audit import get_for_update
from gongzhi.clock import now
from gongzhi.domain import AreaLevel
from gongzhi.errors import FieldError, GongzhiError, NotFound, PermissionDenied, ValidationError
from gongzhi.models import AppSetting, Area, LoginAttempt, LoginSession, User, UserGrid
from gongzhi.permissions import Actor, Role, require_admin
from gongzhi.revisions import reads
from gongzhi.sessions import EndReason, end_sessions
from gongzhi.validation import (
    DISPLAY_NAME,
    DISPLAY_NAME_MAX,  # noqa: F401 (the account form's max_chars)
    USERNAME,
    InvalidValue,
    check_text,
    clean_text,
)

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
LOCKOUT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


class LoginThrottled(GongzhiError):
    key = "auth.login_throttled"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(*, session: Session, username: str, password: str, role: str, display_name: str | None = None,
                grid_ids: tuple[int, ...] = (), person_id: int | None = None) -> User:
    errors: list[FieldError] = []
    username = check_text(errors, "auth.field_username", username, USERNAME, required=True)
    if username and session.execute(select(User.id).where(User.username == username)).first():
        errors.append(FieldError("auth.field_username", "errors.duplicate"))
    errors += _password_errors(password)
    display_name = check_text(errors, "accounts.field_display_name", display_name, DISPLAY_NAME)
    errors += _account_errors(session, role=role, grid_ids=grid_ids)
    if errors:
        raise ValidationError(errors)
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                role=role, person_id=person_id)
    session.add(user)
    session.flush()
    session.add_all(UserGrid(user_id=user.id, grid_id=grid_id) for grid_id in grid_ids)
    session.flush()
    return user


def _password_errors(password: str) -> list[FieldError]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [FieldError("auth.field_password", "auth.password_too_short", {"min": MIN_PASSWORD_LENGTH})]
    if not _encodable(password):
        return [FieldError("auth.field_password", "errors.invalid_character", {"char": "U+D800–U+DFFF"})]
    return []


def _encodable(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (a lone surrogate cannot be hashed or stored)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _account_errors(session: Session, *, role: str, grid_ids: tuple[int, ...]) -> list[FieldError]:
    """What is wrong with an account's role and grids, for a new account and an edit alike."""
    errors = []
    if role not in {r.value for r in Role}:
        errors.append(FieldError("auth.field_role", "errors.invalid_choice"))
    if role == Role.LEADER and not grid_ids:
        errors.append(FieldError("auth.field_grids", "errors.required"))
    known = set(session.execute(select(Area.id).where(Area.id.in_(grid_ids), Area.level == AreaLevel.GRID)).scalars())
    if set(grid_ids) - known:
        errors.append(FieldError("auth.field_grids", "errors.invalid_choice"))
    return errors


def _recent_failures(session: Session, column, value: str) -> int:
    return session.execute(select(func.count()).select_from(LoginAttempt).where(
        column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= now() - LOCKOUT_WINDOW)).scalar_one()


def authenticate(*, session: Session, username: str, password: str, address: str) -> User | None:
    """Check a password and record the attempt. Returns None for a wrong username or password
    (without saying which; the caller commits so the failure counts); too many recent failures
    for the account or the address raise LoginThrottled, even for a right password."""
    try:
        username = clean_text(username, USERNAME)
    except InvalidValue:
        username = ""  # no account has such a name; the attempt still counts against the address
    if not _encodable(password):
        password = ""  # nothing anyone set (create_user refuses it), so simply wrong
    if (_recent_failures(session, LoginAttempt.username, username) >= MAX_FAILURES_PER_ACCOUNT
            or _recent_failures(session, LoginAttempt.address, address) >= MAX_FAILURES_PER_ADDRESS):
        raise LoginThrottled(minutes=int(LOCKOUT_WINDOW.total_seconds() // 60))
    user = session.execute(select(User).where(User.username == username, User.active.is_(True),
                                              User.deleted_at.is_(None))).scalar_one_or_none()
    ok = False
    if user is not None:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        hash_password(password)  # same work either way, so timing does not reveal which usernames exist
    session.add(LoginAttempt(username=username, address=address, succeeded=ok, at=now()))
    session.flush()
    if not ok:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.succeeded.is_(False)))
    return user


def actor_for(*, session: Session, user_id: int) -> Actor | None:
    """The Actor for a signed-in user as the database says now; None if the account is gone."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.deleted_at is not None:
        return None
    grids = frozenset(session.execute(select(UserGrid.grid_id).where(UserGrid.user_id == user_id)).scalars())
    return Actor(name=user.display_name, role=Role(user.role), grid_ids=grids, user_id=user.id)


def user_for_identity(*, session: Session, subject: str | None, email: str | None) -> int | None:
    """The account an OIDC identity maps to: by its subject, else by an account named as its email."""
    live = (User.active.is_(True), User.deleted_at.is_(None))
    if subject:
        found = session.execute(select(User.id).where(User.oidc_subject == subject, *live)).scalar()
        if found is not None:
            return found
    if email:
        return session.execute(select(User.id).where(User.username == email, *live)).scalar()
    return None


# --- Managing accounts (admins only) ------------------------------------------------------------
# Grids mean something only for a grid leader (permissions.require_write); other roles keep none.
ACCOUNT_COLUMNS = ["id", "username", "display_name", "role", "grids", "grid_ids", "active", "oidc_linked",
                   "created_at", "version"]


def _leader_grids(role: str, grid_ids) -> tuple[int, ...]:
    """The grids an account keeps: a grid leader's (where they may write) and a representative's
    (their grid, which their pages open on: permissions.home_grid; no right comes with it)."""
    return tuple(sorted(set(grid_ids))) if role in (Role.LEADER, Role.REPRESENTATIVE) else ()


@reads(Area, User, UserGrid)
def list_accounts(*, session: Session, viewer: Actor) -> pd.DataFrame:
    """Every account (but soft-deleted ones), by username: role, the names (and ids) of the grids
    it leads, whether it is active and linked to an OIDC identity, and its version for an edit."""
    require_admin(viewer)
    users = session.execute(select(User).where(User.deleted_at.is_(None)).order_by(User.username)).scalars().all()
    grids: dict[int, list[tuple[int, str]]] = {}
    for user_id, grid_id, name in session.execute(
            select(UserGrid.user_id, Area.id, Area.name).join(Area, Area.id == UserGrid.grid_id).order_by(Area.code)):
        grids.setdefault(user_id, []).append((grid_id, name))
    return pd.DataFrame([{
        "id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role,
        "grids": tuple(name for _, name in grids.get(user.id, [])),
        "grid_ids": tuple(grid_id for grid_id, _ in grids.get(user.id, [])),
        "active": bool(user.active), "oidc_linked": user.oidc_subject is not None,
        "created_at": user.created_at, "version": user.version,
    } for user in users], columns=ACCOUNT_COLUMNS)


def create_account(*, session: Session, actor: Actor, username: str, password: str, role: str,
                   display_name: str | None = None, grid_ids: tuple[int, ...] = ()) -> User:
    """create_user for an admin in the app (the CLI, run by whoever holds the server, calls
    create_user directly)."""
    require_admin(actor)
    return create_user(session=session, username=username, password=password, role=role, display_name=display_name,
                       grid_ids=_leader_grids(role, grid_ids))


def _account_for_update(session: Session, user_id: int, expected_version: int | None) -> User:
    return get_for_update(session, User, user_id, expected_version, what="user")


def update_account(*, session: Session, actor: Actor, user_id: int, role: str, display_name: str,
                   grid_ids: tuple[int, ...], active: bool, expected_version: int | None) -> User:
    """Change an account's role, display name, grids and whether it may sign in, on the copy the
    admin saw (`expected_version`). A new role or grids, or disabling, ends all the account's
    sessions (it signs in again under the new terms); it takes effect at the next rerun.
    An admin cannot demote or deactivate their own account, so there is always an admin left."""
    require_admin(actor)
    user = _account_for_update(session, user_id, expected_version)
    grid_ids = _leader_grids(role, grid_ids)
    errors: list[FieldError] = []
    display_name = check_text(errors, "accounts.field_display_name", display_name, DISPLAY_NAME, required=True)
    errors += _account_errors(session, role=role, grid_ids=grid_ids)
    if user.id == actor.user_id:
        if role != Role.ADMIN:
            errors.append(FieldError("auth.field_role", "accounts.own_role"))
        if not active:
            errors.append(FieldError("accounts.field_active", "accounts.own_active"))
    if errors:
        raise ValidationError(errors)
    # Read before any change, so no autoflush splits this edit into two entries of the trail.
    current = {link.grid_id: link for link in session.execute(
        select(UserGrid).where(UserGrid.user_id == user.id)).scalars()}
    ended = (EndReason.DISABLED if user.active and not active
             else EndReason.ROLE if user.role != role or set(current) != set(grid_ids) else None)
    user.role, user.display_name, user.active = role, display_name, active
    if set(current) != set(grid_ids):
        # A change of grids alone must still bump the account's version (and name its author in
        # the trail), so that another admin's edit opened before it is refused.
        flag_modified(user, "display_name")
        for grid_id in set(current) - set(grid_ids):
            session.delete(current[grid_id])  # through the ORM, so the trail records it
        session.add_all(UserGrid(user_id=user.id, grid_id=grid_id) for grid_id in set(grid_ids) - set(current))
    session.flush()
    if ended is not None:
        end_sessions(session=session, user_id=user.id, reason=ended)
    return user


def reset_password(*, session: Session, actor: Actor, user_id: int, new_password: str) -> User:
    """Set a new password for an account whose owner forgot theirs; the failed sign-ins counted
    against it are forgotten, so the owner can sign in at once, and every session of the account
    ends (whoever knew the old password is signed out at their next action)."""
    require_admin(actor)
    user = _account_for_update(session, user_id, expected_version=None)
    errors = _password_errors(new_password)
    if errors:
        raise ValidationError(errors)
    user.password_hash = hash_password(new_password)
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == user.username,
                                               LoginAttempt.succeeded.is_(False)))
    session.flush()
    end_sessions(session=session, user_id=user.id, reason=EndReason.PASSWORD)
    return user


# --- One's own password, deleting an account -------------------------------------------------------

def _own_account(session: Session, actor: Actor) -> User:
    """The account the actor signed in with (a display screen or a public visitor has none)."""
    user = None if actor.user_id is None else session.get(User, actor.user_id)
    if user is None or not user.active or user.deleted_at is not None:
        raise PermissionDenied(role=actor.role.value)
    return user


def _password_is(user: User, password: str) -> bool:
    if not _encodable(password):
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_own_password(*, session: Session, actor: Actor, password: str, session_id: int | None) -> bool:
    """Whether `password` is the actor's current password, asked before a change of it. A wrong
    one counts as a failed sign-in of the account (from the address its session signed in from),
    in this transaction, which the caller commits: the form cannot be used to guess the password
    faster than the sign-in page, and too many failures raise LoginThrottled, as there."""
    user = _own_account(session, actor)
    if _recent_failures(session, LoginAttempt.username, user.username) >= MAX_FAILURES_PER_ACCOUNT:
        raise LoginThrottled(minutes=int(LOCKOUT_WINDOW.total_seconds() // 60))
    if _password_is(user, password):
        return True
    address = session.execute(select(LoginSession.address).where(LoginSession.id == (session_id or -1))).scalar()
    session.add(LoginAttempt(username=user.username, address=address or "unknown", succeeded=False, at=now()))
    session.flush()
    return False


def change_own_password(*, session: Session, actor: Actor, current_password: str, new_password: str) -> User:
    """A signed-in user sets a new password, proving the current one; the new one follows the
    same rules as every password (`_password_errors`) and must differ from the current one.

    Every session of the account ends, the one the change was made from included (EndReason
    PASSWORD), so the owner signs in again with the new password. Not re-issued: the change runs
    in a Streamlit rerun, which cannot set the HttpOnly cookie a new session would need (only
    gongzhi.web's routes can); signing in again also proves the new password was typed as meant,
    and a thief holding this very session's cookie is shut out as well."""
    user = _own_account(session, actor)
    if not _password_is(user, current_password):
        raise ValidationError([FieldError("accounts.field_current_password", "accounts.current_password_wrong")])
    errors = _password_errors(new_password)
    if not errors and new_password == current_password:
        errors = [FieldError("accounts.field_new_password", "accounts.password_unchanged")]
    if errors:
        raise ValidationError(errors)
    user.password_hash = hash_password(new_password)
    session.flush()
    end_sessions(session=session, user_id=user.id, reason=EndReason.PASSWORD)
    return user


def _live_admins(session: Session) -> list[int]:
    return list(session.execute(select(User.id).where(User.role == Role.ADMIN, User.active.is_(True),
                                                      User.deleted_at.is_(None))).scalars())


def delete_account(*, session: Session, actor: Actor, user_id: int, expected_version: int | None) -> User:
    """An admin deletes an account: soft, as every delete (the row stays with `deleted_at`, so the
    audit trail keeps naming it; it can no longer sign in, is left out of the accounts list and
    its username stays taken). All its sessions end at their next rerun. An admin cannot delete
    their own account, and the last active admin is never deleted, so someone can still manage
    accounts."""
    require_admin(actor)
    user = _account_for_update(session, user_id, expected_version)
    if user.deleted_at is not None:
        raise NotFound(what="user", id=user_id)
    if user.id == actor.user_id:
        raise GongzhiError("accounts.own_delete")
    if user.role == Role.ADMIN and set(_live_admins(session)) <= {user.id}:
        raise GongzhiError("accounts.last_admin")
    user.deleted_at = now()
    session.flush()
    end_sessions(session=session, user_id=user.id, reason=EndReason.DELETED)
    return user


DEMO_PASSWORD = "gongzhi-demo"
DEMO_SETTING = "demo_accounts"
# (username, role, display name key) of the accounts the demo database comes with.
DEMO_ACCOUNTS = [
    ("admin", Role.ADMIN, "管理员"),
    ("committee", Role.COMMITTEE, "居委会秘书"),
    ("leader", Role.LEADER, "第一网格网格长"),
    ("representative", Role.REPRESENTATIVE, "居民代表"),
]


def create_demo_accounts(*, session: Session, leader_grid_id: int) -> None:
    """One account per role, all with DEMO_PASSWORD; the grid leader leads `leader_grid_id`.
    Marks the database as the demo, so the login page may list them."""
    for username, role, display_name in DEMO_ACCOUNTS:
        create_user(session=session, username=username, password=DEMO_PASSWORD, role=role, display_name=display_name,
                    grid_ids=(leader_grid_id,) if role == Role.LEADER else ())
    session.merge(AppSetting(key=DEMO_SETTING, value="1"))
    session.flush()


def listed_demo_accounts(*, session: Session) -> list[tuple[str, str]]:
    """(username, role) of the demo accounts, while this database is the demo; else nothing."""
    setting = session.get(AppSetting, DEMO_SETTING)
    if setting is None or setting.value != "1":
        return []
    names = [username for username, _, _ in DEMO_ACCOUNTS]
    rows = session.execute(select(User.username, User.role).where(
        User.username.in_(names), User.active.is_(True), User.deleted_at.is_(None))).all()
    order = {name: index for index, name in enumerate(names)}
    return sorted(((u, r) for u, r in rows), key=lambda row: order[row[0]])
