"""The area tree: grids and their figures for filters, panels and the map."""

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from gongzhi.domain import AreaLevel
from gongzhi.models import Area, Person
from gongzhi.privacy import display_phone
from gongzhi.revisions import reads


@reads(Area, Person)
def list_grids(*, session: Session, may_see_personal_data: bool = False) -> pd.DataFrame:
    """One row per grid: id, code, name, community, population, households, leader, leader phone
    (masked unless the viewer may see it), centroid. Ordered by code."""
    community = aliased(Area)
    rows = session.execute(
        select(Area.id, Area.code, Area.name, community.name.label("community"), Area.population,
               Area.households, Person.name.label("leader"), Person.phone.label("leader_phone"),
               Area.centroid_lon, Area.centroid_lat)
        .outerjoin(community, community.id == Area.parent_id)
        .outerjoin(Person, Person.id == Area.leader_id)
        .where(Area.level == AreaLevel.GRID, Area.deleted_at.is_(None))
        .order_by(Area.code)
    ).mappings().all()
    columns = ["id", "code", "name", "community", "population", "households", "leader", "leader_phone",
               "centroid_lon", "centroid_lat"]
    return pd.DataFrame([{**row, "leader_phone": display_phone(row["leader_phone"], may_see=may_see_personal_data)}
                         for row in rows], columns=columns)


@reads(Area)
def grid_boundaries(*, session: Session) -> list[tuple[int, str, str, str | None]]:
    """(id, code, name, GeoJSON boundary) of every grid, for the map."""
    return [tuple(r) for r in session.execute(
        select(Area.id, Area.code, Area.name, Area.boundary)
        .where(Area.level == AreaLevel.GRID, Area.deleted_at.is_(None)).order_by(Area.code)
    ).all()]


@reads(Area)
def list_buildings(*, session: Session, grid_id: int | None = None) -> pd.DataFrame:
    query = select(Area.id, Area.code, Area.name, Area.parent_id.label("grid_id")).where(
        Area.level == AreaLevel.BUILDING, Area.deleted_at.is_(None))
    if grid_id is not None:
        query = query.where(Area.parent_id == grid_id)
    rows = session.execute(query.order_by(Area.code)).mappings().all()
    return pd.DataFrame(rows, columns=["id", "code", "name", "grid_id"])
