"""Accounts: argon2 password hashes, login with rate limits per account and per address, and
the Actor a signed-in user acts as (re-read on every rerun, so a role change or a removed
account takes effect at once)."""

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlmodel import Session

from gongzhi.clock import now
from gongzhi.domain import AreaLevel
from gongzhi.errors import FieldError, GongzhiError, ValidationError
from gongzhi.models import Area, LoginAttempt, User, UserGrid
from gongzhi.permissions import Actor, Role

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
    errors = []
    username = username.strip()
    if not username or len(username) > 40:
        errors.append(FieldError("auth.field_username", "errors.required" if not username else "errors.too_long",
                                 {} if not username else {"max": 40}))
    elif session.execute(select(User.id).where(User.username == username)).first():
        errors.append(FieldError("auth.field_username", "errors.duplicate"))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("auth.field_password", "auth.password_too_short", {"min": MIN_PASSWORD_LENGTH}))
    if role not in {r.value for r in Role}:
        errors.append(FieldError("auth.field_role", "errors.invalid_choice"))
    if role == Role.LEADER and not grid_ids:
        errors.append(FieldError("auth.field_grids", "errors.required"))
    known = set(session.execute(select(Area.id).where(Area.id.in_(grid_ids), Area.level == AreaLevel.GRID)).scalars())
    if set(grid_ids) - known:
        errors.append(FieldError("auth.field_grids", "errors.invalid_choice"))
    if errors:
        raise ValidationError(errors)
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                role=role, person_id=person_id)
    session.add(user)
    session.flush()
    session.add_all(UserGrid(user_id=user.id, grid_id=grid_id) for grid_id in grid_ids)
    session.flush()
    return user


def _recent_failures(session: Session, column, value: str) -> int:
    return session.execute(select(func.count()).select_from(LoginAttempt).where(
        column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= now() - LOCKOUT_WINDOW)).scalar_one()


def authenticate(*, session: Session, username: str, password: str, address: str) -> User | None:
    """Check a password and record the attempt. Returns None for a wrong username or password
    (without saying which; the caller commits so the failure counts); too many recent failures
    for the account or the address raise LoginThrottled, even for a right password."""
    username = username.strip()
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
