"""Open311 API keys: another system (a mobile app that speaks GeoReport v2) POSTs service requests
with an `api_key` that an admin issues and revokes. A key is a random token of 256 bits, shown once
when it is made; the database keeps only its SHA-256 hash (the column is `token_hash`, which the
audit trail records as changed, never with its value). Issuing, using and revoking are audited."""

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.clock import now
from gongzhi.errors import FieldError, PermissionDenied, ValidationError
from gongzhi.models import ApiKey
from gongzhi.permissions import Actor, require_admin
from gongzhi.sessions import credential_for, new_token, revoke_credential, token_hash

LABEL_MAX = 80
KEY_COLUMNS = ["id", "label", "created_at", "last_used_at", "revoked_at"]


def issue_api_key(*, session: Session, actor: Actor, label: str) -> tuple[ApiKey, str]:
    """A new key (admin only) named after who uses it; returns it and the key itself, shown once."""
    require_admin(actor)
    label = " ".join((label or "").split())
    if not label:
        raise ValidationError([FieldError("open311.field_key_label", "errors.required")])
    if len(label) > LABEL_MAX:
        raise ValidationError([FieldError("open311.field_key_label", "errors.too_long", {"max": LABEL_MAX})])
    key = new_token()
    if actor.user_id is None:  # the CLI's system actor has no account to name as the issuer
        raise PermissionDenied(role=actor.role.value)
    record = ApiKey(token_hash=token_hash(key), label=label, created_by=actor.user_id, created_at=now())
    session.add(record)
    session.flush()
    return record, key


def api_key_for(*, session: Session, key: str | None) -> ApiKey | None:
    """The live key a client presented, or None (no key, unknown, or revoked)."""
    record = credential_for(session, ApiKey, key)
    if record is None or record.revoked_at is not None:
        return None
    return record


def use_api_key(*, session: Session, key: str | None) -> ApiKey | None:
    """A client used its key: recorded (audited) as its last use. None when the key does not work."""
    record = api_key_for(session=session, key=key)
    if record is not None:
        record.last_used_at = now()
        session.flush()
    return record


def list_api_keys(*, session: Session, actor: Actor) -> pd.DataFrame:
    """Every key, newest first, revoked ones included (with when)."""
    require_admin(actor)
    rows = session.execute(select(*(getattr(ApiKey, column) for column in KEY_COLUMNS)).order_by(ApiKey.id.desc()))
    return pd.DataFrame(rows.all(), columns=KEY_COLUMNS)


def revoke_api_key(*, session: Session, actor: Actor, key_id: int) -> ApiKey:
    require_admin(actor)
    return revoke_credential(session, ApiKey, key_id, what="API key")
