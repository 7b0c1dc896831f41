"""Public facilities (school, library, canteen, child care, elderly-care station, clinic): add,
edit and remove. Admin and committee anywhere, a grid leader in their own grids. A facility's
location is a WGS-84 longitude/latitude inside (or right by) its grid's boundary, which catches
the usual slips: the numbers swapped, or the wrong grid chosen. Removal is a soft delete."""

import math

from shapely.geometry import Point
from sqlmodel import Session, SQLModel

from gongzhi.audit import get_for_update
from gongzhi.clock import now
from gongzhi.domain import AreaLevel, FacilityKind
from gongzhi.errors import FieldError, ValidationError
from gongzhi.geo import parse_boundary
from gongzhi.models import Area, Facility
from gongzhi.permissions import Actor, require_some_write, require_write
from gongzhi.validation import FACILITY_NAME, LATITUDE, LONGITUDE, check_text
from gongzhi.validation import FACILITY_NAME_MAX as NAME_MAX  # noqa: F401 (the form's max_chars)

# Degrees (~200 m): a facility may stand just across the street from the grid it serves.
NEAR_GRID = 0.002


class FacilityInput(SQLModel):
    # Lenient types: a missing value becomes a clear field error from _validate, not a type error.
    name: str = ""
    kind: str = ""
    grid_id: int | None = None
    lon: float | None = None
    lat: float | None = None


def _field(name: str) -> str:
    return f"facilities.field_{name}"


def _live_grid(session: Session, grid_id: int | None) -> Area | None:
    grid = session.get(Area, grid_id) if grid_id is not None else None
    if grid is None or grid.deleted_at is not None or grid.level != AreaLevel.GRID:
        return None
    return grid


def _position(values: dict, errors: list[FieldError]) -> dict[str, float]:
    position = {}
    for name, bounds in (("lon", LONGITUDE), ("lat", LATITUDE)):
        value = values.get(name)
        if value is None or not math.isfinite(value):
            errors.append(FieldError(_field(name), "errors.required"))
        elif not bounds.low <= value <= bounds.high:
            errors.append(FieldError(_field(name), "facilities.error_out_of_range",
                                     {"min": bounds.low, "max": bounds.high}))
        else:
            position[name] = float(value)
    return position


def _location_errors(grid: Area | None, position: dict[str, float]) -> list[FieldError]:
    """A position far from its grid: the numbers swapped, or the wrong grid chosen."""
    boundary = parse_boundary(grid.boundary) if grid is not None else None
    if boundary is None or len(position) != 2:
        return []
    if boundary.distance(Point(position["lon"], position["lat"])) <= NEAR_GRID:
        return []
    swapped = boundary.distance(Point(position["lat"], position["lon"])) <= NEAR_GRID
    return [FieldError(_field("location"), "facilities.error_swapped" if swapped else "facilities.error_outside_grid",
                       {"grid": grid.name})]


def _validate(session: Session, values: dict) -> dict:
    """Check a facility's complete set of values; returns them cleaned (name stripped)."""
    errors: list[FieldError] = []
    values = dict(values)
    values["name"] = check_text(errors, _field("name"), values.get("name"), FACILITY_NAME, required=True)
    if values.get("kind") not in {kind.value for kind in FacilityKind}:
        errors.append(FieldError(_field("kind"), "errors.invalid_choice"))
    grid = _live_grid(session, values.get("grid_id"))
    if grid is None:
        errors.append(FieldError(_field("grid"), "errors.invalid_choice"))
    errors += _location_errors(grid, _position(values, errors))
    if errors:
        raise ValidationError(errors)
    return values


def create_facility(*, session: Session, actor: Actor, data: FacilityInput) -> Facility:
    require_some_write(actor)
    values = _validate(session, data.model_dump())
    require_write(actor, grid_id=values["grid_id"])
    facility = Facility(**values)
    session.add(facility)
    session.flush()
    return facility


def update_facility(*, session: Session, actor: Actor, facility_id: int, data: FacilityInput,
                    expected_version: int | None = None) -> Facility:
    """Every field is replaced; a grid leader may neither edit another grid's facility nor move
    one of theirs to another grid."""
    facility = get_for_update(session, Facility, facility_id, expected_version, what="facility")
    require_write(actor, grid_id=facility.grid_id)
    values = _validate(session, data.model_dump())
    require_write(actor, grid_id=values["grid_id"])
    for name, value in values.items():
        setattr(facility, name, value)
    session.add(facility)
    session.flush()
    return facility


def remove_facility(*, session: Session, actor: Actor, facility_id: int,
                    expected_version: int | None = None) -> Facility:
    """Soft delete: the map no longer shows it; the row and its audit trail stay."""
    facility = get_for_update(session, Facility, facility_id, expected_version, what="facility")
    require_write(actor, grid_id=facility.grid_id)
    facility.deleted_at = now()
    session.add(facility)
    session.flush()
    return facility
