"""Public facilities (schools, libraries, clinics, …) for the map's facilities layer."""

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.models import Area, Facility
from gongzhi.revisions import reads

COLUMNS = ["id", "name", "kind", "grid_id", "lon", "lat"]


@reads(Area, Facility)
def facilities(*, session: Session) -> pd.DataFrame:
    """Every facility not deleted, in a grid not deleted, ordered by grid and kind."""
    rows = session.execute(
        select(Facility.id, Facility.name, Facility.kind, Facility.grid_id, Facility.lon, Facility.lat)
        .join(Area, Area.id == Facility.grid_id)
        .where(Facility.deleted_at.is_(None), Area.deleted_at.is_(None))
        .order_by(Facility.grid_id, Facility.kind, Facility.id)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=COLUMNS)


@reads(Facility)
def facility_version(*, session: Session, facility_id: int) -> int | None:
    """The stored version of a facility not deleted (what an edit form starts from), else None."""
    return session.execute(select(Facility.version).where(
        Facility.id == facility_id, Facility.deleted_at.is_(None))).scalar_one_or_none()
