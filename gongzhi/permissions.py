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


# Yes/no questions, for pages and components that show or offer something; the core checks the
# same rules with the require_* functions below, which are written with them.

def may_write(actor: Actor, grid_id: int | None) -> bool:
    """Deny by default: only admin and committee write anywhere, a grid leader only in their grids."""
    if actor.role in (Role.ADMIN, Role.COMMITTEE):
        return True
    return actor.role == Role.LEADER and grid_id is not None and grid_id in actor.grid_ids


def home_grid(actor: Actor, grid_ids, *, last: int | None = None) -> int | None:
    """The grid a person's pages open on, of `grid_ids` (the grids there are): their own — the
    first of their account's grids (a grid leader's, a representative's) —, else the one they
    chose last time (`last`, gongzhi.preferences), else None (all grids)."""
    own = sorted(g for g in grid_ids if g in actor.grid_ids)
    if own:
        return own[0]
    return last if last is not None and last in grid_ids else None


def entry_grids(actor: Actor, grid_ids) -> list[int]:
    """The grids of `grid_ids` an entry form offers: those the actor may write in (may_write)."""
    return [g for g in grid_ids if may_write(actor, g)]


def may_see_phone(actor: Actor, grid_id: int | None) -> bool:
    """A phone number in full: admins and the committee see every one; a grid leader only those
    of people (and records) in their own grids, on screen as in exports; everyone else sees
    them masked. `grid_id`: the grid the person or record belongs to (None: no grid). The same
    people as those whose records the actor may write: a phone is for the work on them."""
    return may_write(actor, grid_id)


def require_write(actor: Actor, *, grid_id: int | None) -> None:
    """may_write, or PermissionDenied."""
    if not may_write(actor, grid_id):
        raise PermissionDenied(role=actor.role.value)


def may_write_somewhere(actor: Actor) -> bool:
    """Admin and committee, or a grid leader who leads at least one grid."""
    return actor.role in (Role.ADMIN, Role.COMMITTEE) or (actor.role == Role.LEADER and bool(actor.grid_ids))


def require_some_write(actor: Actor) -> None:
    """For a new record: refuse a role that may write nowhere before its input is even checked,
    so that validation messages (e.g. "phone already on the roster") tell it nothing. The grid
    check (require_write) follows once the input is known to be valid."""
    if not may_write_somewhere(actor):
        raise PermissionDenied(role=actor.role.value)


def may_rate(actor: Actor, grid_id: int | None) -> bool:
    """群众评事: residents' representatives rate results too, besides those who may write."""
    return actor.role == Role.REPRESENTATIVE or may_write(actor, grid_id)


def require_rating(actor: Actor, *, grid_id: int | None) -> None:
    """may_rate, or PermissionDenied."""
    if not may_rate(actor, grid_id):
        raise PermissionDenied(role=actor.role.value)


def may_print_posters(actor: Actor) -> bool:
    """The notice-board posters speak for the whole community and name its grid leaders: the
    committee and admins print them."""
    return actor.role in (Role.ADMIN, Role.COMMITTEE)


def require_admin(actor: Actor) -> None:
    """The audit trail holds every value ever saved, personal data included: admins only."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied(role=actor.role.value)
