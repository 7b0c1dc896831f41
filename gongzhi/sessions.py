"""Sign-in sessions and display links: the rules, without any web framework.

A sign-in is a random token of 256 bits (`secrets.token_urlsafe(32)`) that the browser keeps in an
HttpOnly cookie (set by gongzhi.web, which no script can read); the database keeps only its
SHA-256 hash, so a copy of the database signs no one in. Each session row holds the account,
when it began and was last used, the address and the browser it came from, and, once it stops
counting, when and why (`EndReason`). A session counts while it is not ended, was used within the
idle lifetime and began within the absolute lifetime (settings, gongzhi.config), and its account
is still active: every rerun asks `check_session`, so an end takes effect at the next action.

Whatever changes what an account may do ends all its sessions in the same transaction: a new
password, a role or grid change, disabling or deleting it (gongzhi.accounts calls `end_sessions`). Ending a
session is an ORM write, so the audit trail records who ended which session and why; a session's
`last_seen_at` is refreshed with a plain UPDATE at most once a minute and is not audited.

A display link is a token of the same strength for a screen in the meeting room: it opens the
slideshow or the live meeting (`DisplayView`, chosen when the link is made) read-only in
projector mode as the public role, for a limited time
(default 24 hours), until an admin or committee member revokes it. Creating, using and revoking
one is audited; only its hash is stored."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import pandas as pd
from sqlalchemy import select, update
from sqlmodel import Session

from gongzhi.clock import now
from gongzhi.config import display_link_hours, session_idle_hours, session_max_days
from gongzhi.errors import FieldError, NotFound, PermissionDenied, ValidationError
from gongzhi.models import DisplayLink, LoginSession
from gongzhi.permissions import Actor, Role, require_admin

TOKEN_BYTES = 32  # 256 bits of randomness, well above the 128 asked for
SESSION_COOKIE = "gongzhi_session"
DISPLAY_COOKIE = "gongzhi_display"
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is refreshed at most this often
USER_AGENT_MAX = 200
LABEL_MAX = 80


class EndReason(StrEnum):
    SIGNED_OUT = "signed_out"  # the owner signed out of this session
    OWNER = "ended_by_owner"  # the owner signed out everywhere else
    ADMIN = "ended_by_admin"
    PASSWORD = "password_changed"
    ROLE = "role_changed"
    DISABLED = "account_disabled"
    DELETED = "account_deleted"
    IDLE = "idle"
    EXPIRED = "expired"


class DisplayView(StrEnum):
    """What a display link shows."""

    SLIDESHOW = "slideshow"
    LIVE_MEETING = "live_meeting"  # the meeting being held, read-only, following its decisions


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the database keeps of a token. A token is random, so a plain SHA-256 suffices (no
    salt or slow hash: there is nothing to guess), and a lookup by hash is one index probe."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def idle_lifetime() -> timedelta:
    return timedelta(hours=session_idle_hours())


def absolute_lifetime() -> timedelta:
    return timedelta(days=session_max_days())


def start_session(*, session: Session, user_id: int, address: str, user_agent: str) -> str:
    """A new session for an account that has just proved who it is; returns the token (the only
    time it exists in clear: it goes into the cookie)."""
    token = new_token()
    moment = now()
    session.add(LoginSession(token_hash=token_hash(token), user_id=user_id, created_at=moment, last_seen_at=moment,
                             address=address[:64], user_agent=(user_agent or "")[:USER_AGENT_MAX]))
    session.flush()
    return token


@dataclass(frozen=True)
class SessionCheck:
    """What a token is worth now: the actor it signs in, else why not (None: no session at all)."""

    actor: Actor | None = None
    session_id: int | None = None
    ended: EndReason | None = None
    touch: bool = False  # last_seen_at is older than TOUCH_EVERY


def check_session(*, session: Session, token: str | None) -> SessionCheck:
    """Read-only: the actor a token signs in as, or why its session no longer counts. The caller
    ends an idle or expired session (`end_session`) and refreshes last_seen_at (`touch`)."""
    if not token:
        return SessionCheck()
    row = session.execute(select(LoginSession).where(LoginSession.token_hash == token_hash(token))).scalar_one_or_none()
    if row is None:
        return SessionCheck()
    if row.ended_at is not None:
        return SessionCheck(session_id=row.id, ended=EndReason(row.end_reason or EndReason.SIGNED_OUT))
    moment = now()
    if moment - row.created_at > absolute_lifetime():
        return SessionCheck(session_id=row.id, ended=EndReason.EXPIRED)
    if moment - row.last_seen_at > idle_lifetime():
        return SessionCheck(session_id=row.id, ended=EndReason.IDLE)
    from gongzhi.accounts import actor_for  # accounts ends sessions (end_sessions): imported when used

    actor = actor_for(session=session, user_id=row.user_id)
    if actor is None:
        return SessionCheck(session_id=row.id, ended=EndReason.DISABLED)
    return SessionCheck(actor=actor, session_id=row.id, touch=moment - row.last_seen_at >= TOUCH_EVERY)


def touch(*, session: Session, session_id: int) -> None:
    """Note that a session was used now (a plain UPDATE, outside the audit trail)."""
    session.execute(update(LoginSession).where(LoginSession.id == session_id, LoginSession.ended_at.is_(None))
                    .values(last_seen_at=now()))


def end_session(*, session: Session, session_id: int, reason: EndReason) -> None:
    row = session.get(LoginSession, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at, row.end_reason = now(), reason.value
        session.flush()


def end_sessions(*, session: Session, user_id: int, reason: EndReason, keep: int | None = None) -> int:
    """End every live session of an account (but `keep`); returns how many."""
    rows = session.execute(select(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None), LoginSession.id != (keep or -1))).scalars().all()
    moment = now()
    for row in rows:
        row.ended_at, row.end_reason = moment, reason.value
    session.flush()
    return len(rows)


SESSION_COLUMNS = ["id", "created_at", "last_seen_at", "address", "user_agent"]


def _live(user_id: int):
    return (LoginSession.user_id == user_id, LoginSession.ended_at.is_(None),
            LoginSession.last_seen_at >= now() - idle_lifetime(),
            LoginSession.created_at >= now() - absolute_lifetime())


def list_sessions(*, session: Session, actor: Actor, user_id: int | None = None) -> pd.DataFrame:
    """The sessions of an account that still count, newest use first: one's own, or (admins) anyone's."""
    user_id = actor.user_id if user_id is None else user_id
    if user_id != actor.user_id:
        require_admin(actor)
    if user_id is None:
        return pd.DataFrame(columns=SESSION_COLUMNS)
    rows = session.execute(select(*(getattr(LoginSession, column) for column in SESSION_COLUMNS))
                           .where(*_live(user_id)).order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc()))
    return pd.DataFrame(rows.all(), columns=SESSION_COLUMNS)


def end_other_sessions(*, session: Session, actor: Actor, current_session_id: int | None) -> int:
    """"Sign out everywhere else": every session of the actor's account but this one."""
    if actor.user_id is None:
        raise PermissionDenied(role=actor.role.value)
    return end_sessions(session=session, user_id=actor.user_id, reason=EndReason.OWNER, keep=current_session_id)


def end_account_sessions(*, session: Session, actor: Actor, user_id: int) -> int:
    """An admin ends every session of an account (e.g. a lost phone)."""
    require_admin(actor)
    return end_sessions(session=session, user_id=user_id, reason=EndReason.ADMIN)


# --- Display links -----------------------------------------------------------------------------

def _require_display_manager(actor: Actor) -> None:
    if actor.role not in (Role.ADMIN, Role.COMMITTEE) or actor.user_id is None:
        raise PermissionDenied(role=actor.role.value)


def create_display_link(*, session: Session, actor: Actor, label: str, hours: float | None = None,
                        view: str = DisplayView.SLIDESHOW) -> tuple[DisplayLink, str]:
    """A new display link (admin or committee) for `view`; returns it and its token, shown once."""
    _require_display_manager(actor)
    if view not in {v.value for v in DisplayView}:
        raise ValidationError([FieldError("sessions.field_view", "errors.invalid_choice")])
    label = " ".join((label or "").split())
    if len(label) > LABEL_MAX:
        raise ValidationError([FieldError("sessions.field_label", "errors.too_long", {"max": LABEL_MAX})])
    hours = display_link_hours() if hours is None else hours
    if not 0 < hours <= 24 * 31:
        raise ValidationError([FieldError("sessions.field_hours", "errors.invalid_choice")])
    token = new_token()
    moment = now()
    link = DisplayLink(token_hash=token_hash(token), label=label, view=str(view), created_by=actor.user_id,
                       created_at=moment, expires_at=moment + timedelta(hours=hours))
    session.add(link)
    session.flush()
    return link, token


def display_link_for(*, session: Session, token: str | None) -> DisplayLink | None:
    """The display link a token opens, if it still works (not revoked, not expired)."""
    link = credential_for(session, DisplayLink, token)
    if link is None or link.revoked_at is not None or link.expires_at <= now():
        return None
    return link


def use_display_link(*, session: Session, token: str) -> DisplayLink | None:
    """A screen opened the link: recorded (audited) as its last use. None if it does not work."""
    link = display_link_for(session=session, token=token)
    if link is not None:
        link.last_used_at = now()
        session.flush()
    return link


def display_actor(link: DisplayLink) -> Actor:
    """Who a screen acts as: the public role (aggregates only, no names, no phone numbers)."""
    return Actor(name=f"display:{link.id}", role=Role.PUBLIC)


DISPLAY_COLUMNS = ["id", "label", "view", "created_at", "expires_at", "last_used_at"]


def list_display_links(*, session: Session, actor: Actor) -> pd.DataFrame:
    """Display links that still work, newest first."""
    _require_display_manager(actor)
    rows = session.execute(select(*(getattr(DisplayLink, column) for column in DISPLAY_COLUMNS)).where(
        DisplayLink.revoked_at.is_(None), DisplayLink.expires_at > now()).order_by(DisplayLink.id.desc()))
    return pd.DataFrame(rows.all(), columns=DISPLAY_COLUMNS)


def revoke_credential(session: Session, model, record_id: int, *, what: str):
    """Revoke a credential kept as a token's hash (a display link, an Open311 API key): it stops
    working at once; one already revoked, or none, is NotFound."""
    record = session.get(model, record_id)
    if record is None or record.revoked_at is not None:
        raise NotFound(what=what, id=record_id)
    record.revoked_at = now()
    session.flush()
    return record


def credential_for(session: Session, model, token: str | None):
    """The record of `model` holding this token's hash, if any (revoked or not); None for no token."""
    if not token:
        return None
    return session.execute(select(model).where(model.token_hash == token_hash(token))).scalar_one_or_none()


def revoke_display_link(*, session: Session, actor: Actor, link_id: int) -> DisplayLink:
    _require_display_manager(actor)
    return revoke_credential(session, DisplayLink, link_id, what="display link")
