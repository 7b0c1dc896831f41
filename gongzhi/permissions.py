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

    @property
    def may_see_names(self) -> bool:
        """The public sees aggregates and the map only: no person's name at all (not even a grid
        leader's). Every signed-in role sees names; phone numbers and reporters follow
        may_see_personal_data."""
        return self.role != Role.PUBLIC


SYSTEM_ACTOR = Actor(name="system", role=Role.ADMIN)


def require_write(actor: Actor, *, grid_id: int | None) -> None:
    """Deny by default: only admin and committee write anywhere, a grid leader only in their grids."""
    if actor.role in (Role.ADMIN, Role.COMMITTEE):
        return
    if actor.role == Role.LEADER and grid_id is not None and grid_id in actor.grid_ids:
        return
    raise PermissionDenied(role=actor.role.value)


def require_some_write(actor: Actor) -> None:
    """For a new record: refuse a role that may write nowhere before its input is even checked,
    so that validation messages (e.g. "phone already on the roster") tell it nothing. The grid
    check (require_write) follows once the input is known to be valid."""
    if actor.role in (Role.ADMIN, Role.COMMITTEE) or (actor.role == Role.LEADER and actor.grid_ids):
        return
    raise PermissionDenied(role=actor.role.value)


def require_rating(actor: Actor, *, grid_id: int | None) -> None:
    """群众评事: residents' representatives rate results too, besides those who may write."""
    if actor.role == Role.REPRESENTATIVE:
        return
    require_write(actor, grid_id=grid_id)


def require_admin(actor: Actor) -> None:
    """The audit trail holds every value ever saved, personal data included: admins only."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied(role=actor.role.value)
