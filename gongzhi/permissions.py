"""Who is acting. Every write in the core takes an Actor; the checks here run before it."""

from dataclasses import dataclass, field
from enum import StrEnum

from gongzhi.errors import PermissionDenied


class Role(StrEnum):
    ADMIN = "admin"
    COMMITTEE = "committee"
    LEADER = "leader"  # grid leader: edits only their own grids
    REPRESENTATIVE = "representative"  # read-only, personal data masked
    PUBLIC = "public"


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None

    @property
    def may_see_personal_data(self) -> bool:
        return self.role in (Role.ADMIN, Role.COMMITTEE, Role.LEADER)


SYSTEM_ACTOR = Actor(name="system", role=Role.ADMIN)


def require_write(actor: Actor, *, grid_id: int | None) -> None:
    """Deny by default: only admin and committee write anywhere, a grid leader only in their grids."""
    if actor.role in (Role.ADMIN, Role.COMMITTEE):
        return
    if actor.role == Role.LEADER and grid_id is not None and grid_id in actor.grid_ids:
        return
    raise PermissionDenied(role=actor.role.value)


def require_rating(actor: Actor, *, grid_id: int | None) -> None:
    """群众评事: residents' representatives rate results too, besides those who may write."""
    if actor.role == Role.REPRESENTATIVE:
        return
    require_write(actor, grid_id=grid_id)
