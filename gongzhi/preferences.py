"""What an account chose last, so that its pages open there next time: the grid of the page filter
(components.filters). `home_grid` (gongzhi.permissions) decides what a page opens on; this only
remembers and recalls."""

from sqlalchemy import select
from sqlmodel import Session

from gongzhi.clock import now
from gongzhi.models import Area, UserPreference


def last_grid(*, session: Session, user_id: int) -> int | None:
    """The grid the account chose last, if it still exists (None: none chosen, or all grids)."""
    return session.execute(
        select(UserPreference.grid_id).join(Area, Area.id == UserPreference.grid_id)
        .where(UserPreference.user_id == user_id, Area.deleted_at.is_(None))).scalar()


def remember_grid(*, session: Session, user_id: int, grid_id: int | None) -> None:
    """Note the grid the account just chose (None: all grids); nothing is written if it is already noted."""
    preference = session.get(UserPreference, user_id)
    if preference is None:
        session.add(UserPreference(user_id=user_id, grid_id=grid_id))
    elif preference.grid_id != grid_id:
        preference.grid_id = grid_id
        preference.updated_at = now()
