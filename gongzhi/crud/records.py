"""Deleting and restoring records. Deletes are soft: the row stays, with `deleted_at` set, and
every list and figure leaves it out; an admin may restore it from the audit page. The audit
trail records both as "soft_delete" / "restore" (gongzhi.audit)."""

from sqlmodel import Session

from gongzhi.audit import check_version
from gongzhi.clock import now
from gongzhi.errors import GongzhiError, NotFound, PermissionDenied
from gongzhi.permissions import Actor, Role, require_write
from gongzhi.queries.audit import DELETABLE_KINDS

# A grid leader may delete these in their own grids; everything else only admin and committee.
GRID_KINDS = {"issue", "volunteer", "event"}


def _model(kind: str):
    if kind not in DELETABLE_KINDS:
        raise ValueError(f"not a deletable kind: {kind!r}")
    return DELETABLE_KINDS[kind]


def may_delete(actor: Actor, *, kind: str, grid_id: int | None) -> bool:
    """Whether `actor` may delete a record of `kind` in `grid_id` (for showing the action)."""
    try:
        require_write(actor, grid_id=grid_id if kind in GRID_KINDS else None)
    except PermissionDenied:
        return False
    return True


def soft_delete(*, session: Session, actor: Actor, kind: str, record_id: int, expected_version: int | None = None):
    """Mark a record deleted. Refused for a record already deleted or missing, for a copy older
    than the stored one, and for anyone but admin and committee (a grid leader: issues,
    volunteers and events of their own grids)."""
    model = _model(kind)
    record = session.get(model, record_id)
    if record is None or record.deleted_at is not None:
        raise NotFound(what=kind, id=record_id)
    require_write(actor, grid_id=record.grid_id if kind in GRID_KINDS else None)
    check_version(session, record, expected_version, what=kind)
    record.deleted_at = now()
    session.add(record)
    session.flush()
    return record


def restore(*, session: Session, actor: Actor, kind: str, record_id: int):
    """Undo a soft delete; admins only."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied(role=actor.role.value)
    model = _model(kind)
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(what=kind, id=record_id)
    if record.deleted_at is None:
        raise GongzhiError("audit.not_deleted", what=kind, id=record_id)
    record.deleted_at = None
    session.add(record)
    session.flush()
    return record
