"""Grid boundaries for display. Stored boundaries are GeoJSON geometries in WGS-84 longitude/
latitude (RFC 7946) and never change here: the map gets a simplified copy with rounded
coordinates, which keeps the page small without visibly moving any edge."""

import json
from collections.abc import Iterable

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

# Degrees. ~2 m on the ground: invisible at street zoom, drops the surveyors' redundant vertices.
DISPLAY_TOLERANCE = 0.00002
# Six decimals of a degree are ~0.1 m, finer than any boundary is drawn.
COORDINATE_DECIMALS = 6
# A map showing the whole area is ~1,000 px across: an edge moved by 1/2,000 of the area's extent
# moves by half a pixel at that view. So a district of 1,000 grids (~15 km) is simplified to ~7 m,
# while a community (~1 km) keeps DISPLAY_TOLERANCE.
DISPLAY_DETAIL = 2000
# Five decimals (~1 m) are enough once the tolerance is several metres, and shorter to send.
COARSE_TOLERANCE = 0.00005
# Neighbouring grids are simplified together (Visvalingam–Whyatt on the shared edges, so they
# stay edge-matched: no slivers or gaps). Its tolerance is the square root of the triangle areas
# removed; twice the distance tolerance moves edges by about as much as Douglas–Peucker at the
# distance tolerance (max. Hausdorff distance on bench/district_map.py's irregular grids).
COVERAGE_FACTOR = 2.0

Bounds = tuple[float, float, float, float]  # (min_lon, min_lat, max_lon, max_lat)


def parse_boundary(geojson_text: str | None) -> BaseGeometry | None:
    """A grid's stored boundary (a GeoJSON geometry, or a Feature holding one) as a valid shapely
    polygon or multipolygon; None when it is missing, unreadable or not an area."""
    if not geojson_text or not geojson_text.strip():
        return None
    try:
        data = json.loads(geojson_text)
        if isinstance(data, dict) and data.get("type") == "Feature":
            data = data.get("geometry")
        geometry = shape(data)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.ShapelyError):
        return None
    if geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    if not geometry.is_valid:
        # A self-touching ring drawn by hand is still the area its author meant.
        geometry = shapely.make_valid(geometry)
        polygons = [part for part in getattr(geometry, "geoms", [geometry])
                    if part.geom_type in ("Polygon", "MultiPolygon")]
        if not polygons:
            return None
        geometry = shapely.union_all(polygons)
    return geometry


def _rounded(coordinates, decimals: int = COORDINATE_DECIMALS):
    if isinstance(coordinates[0], (int, float)):
        return [round(value, decimals) for value in coordinates]
    return [_rounded(part, decimals) for part in coordinates]


def display_tolerance(bounds: Bounds | None) -> float:
    """The simplification tolerance (degrees) for showing everything within `bounds` at once:
    DISPLAY_TOLERANCE, or coarser for areas large enough that it would not show (DISPLAY_DETAIL)."""
    if bounds is None:
        return DISPLAY_TOLERANCE
    extent = max(bounds[2] - bounds[0], bounds[3] - bounds[1])
    return max(DISPLAY_TOLERANCE, extent / DISPLAY_DETAIL)


def display_decimals(tolerance: float) -> int:
    """Decimals of a degree kept for display at `tolerance`: COORDINATE_DECIMALS, one fewer from
    COARSE_TOLERANCE on."""
    return COORDINATE_DECIMALS - 1 if tolerance >= COARSE_TOLERANCE else COORDINATE_DECIMALS


def _snapped(simplified: BaseGeometry, decimals: int) -> dict | None:
    snapped = shapely.set_precision(simplified, 10 ** -decimals)
    if snapped.is_empty:
        return None
    data = mapping(snapped)
    return {"type": data["type"], "coordinates": _rounded(data["coordinates"], decimals)}


def simplify_for_display(geometry: BaseGeometry, tolerance: float = DISPLAY_TOLERANCE) -> dict | None:
    """A GeoJSON geometry dict: simplified (topology preserved, so it stays valid) and snapped to
    display_decimals(tolerance); None if nothing of it is left."""
    return _snapped(geometry.simplify(tolerance, preserve_topology=True), display_decimals(tolerance))


def simplify_all_for_display(geometries: list[BaseGeometry], tolerance: float = DISPLAY_TOLERANCE) -> list[dict | None]:
    """simplify_for_display for a set of grids drawn together. When they form a valid coverage
    (no overlaps, shared edges with the same vertices, as neighbouring grids should) they are
    simplified as one coverage so that shared edges stay shared; otherwise one by one."""
    if len(geometries) > 1 and shapely.coverage_is_valid(geometries):
        decimals = display_decimals(tolerance)
        simplified = shapely.coverage_simplify(geometries, tolerance * COVERAGE_FACTOR)
        return [_snapped(geometry, decimals) if geometry.is_valid else simplify_for_display(original, tolerance)
                for geometry, original in zip(simplified, geometries, strict=True)]
    return [simplify_for_display(geometry, tolerance) for geometry in geometries]


def display_geometry(geojson_text: str | None, tolerance: float = DISPLAY_TOLERANCE) -> dict | None:
    """The stored boundary text -> a small GeoJSON geometry dict for the map, or None."""
    geometry = parse_boundary(geojson_text)
    return None if geometry is None else simplify_for_display(geometry, tolerance)


def centroid(geojson_text: str | None) -> tuple[float, float] | None:
    """(lon, lat) of the boundary's centroid, or None."""
    geometry = parse_boundary(geojson_text)
    if geometry is None:
        return None
    point = geometry.centroid
    return point.x, point.y


def label_point(geometry: BaseGeometry) -> tuple[float, float]:
    """(lon, lat) where a name can sit: the centroid, unless the shape is concave enough for the
    centroid to fall outside it, then a point surely inside."""
    point = geometry.centroid
    if not geometry.contains(point):
        point = geometry.representative_point()
    return round(point.x, COORDINATE_DECIMALS), round(point.y, COORDINATE_DECIMALS)


def combined_bounds(geometries: Iterable[dict | BaseGeometry]) -> Bounds | None:
    """(min_lon, min_lat, max_lon, max_lat) around every geometry, to fit the map; None if none."""
    boxes = [(geometry if isinstance(geometry, BaseGeometry) else shape(geometry)).bounds for geometry in geometries]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
