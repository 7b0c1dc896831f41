"""WGS-84 ↔ GCJ-02, for drawing on Chinese basemaps only. AMap/Gaode tiles are drawn in GCJ-02
(the "Mars" datum mandated for maps published in China), which is WGS-84 shifted by a few
hundred metres by a fixed, public formula; the stored boundaries stay WGS-84 (RFC 7946) and only
the copy handed to such a map is converted. Outside China the datum is WGS-84 and nothing moves.

The forward formula is the widely published reference one (Krasovsky 1940 ellipsoid, the
`transformlat`/`transformlng` polynomials); the inverse has no closed form and is found by
fixed-point iteration to well under a centimetre."""

import math
from collections.abc import Callable

# Krasovsky 1940 ellipsoid, on which the GCJ-02 offset is defined.
SEMI_MAJOR_AXIS = 6378245.0
ECCENTRICITY_SQUARED = 0.00669342162296594323
# Degrees of latitude per metre, near enough for the stopping rule of the inverse.
INVERSE_TOLERANCE_DEGREES = 0.01 / 111_320  # 0.01 m
INVERSE_MAX_STEPS = 30

Transform = Callable[[float, float], tuple[float, float]]


def out_of_china(lon: float, lat: float) -> bool:
    """The reference algorithm's bounding box: outside it GCJ-02 equals WGS-84."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset_lat(x: float, y: float) -> float:
    value = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    value += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    value += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return value


def _offset_lon(x: float, y: float) -> float:
    value = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    value += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    value += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return value


def _delta(lon: float, lat: float) -> tuple[float, float]:
    """(Δlon, Δlat) in degrees that GCJ-02 adds to the WGS-84 point (lon, lat)."""
    d_lat = _offset_lat(lon - 105.0, lat - 35.0)
    d_lon = _offset_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - ECCENTRICITY_SQUARED * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((SEMI_MAJOR_AXIS * (1 - ECCENTRICITY_SQUARED)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (SEMI_MAJOR_AXIS / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """A WGS-84 (lon, lat) as GCJ-02; unchanged outside China."""
    if out_of_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _delta(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """A GCJ-02 (lon, lat) back to WGS-84: the point whose forward transform lands on it, found by
    iterating on the forward transform (the offset changes slowly, so each step shrinks the error
    by orders of magnitude) until the error is below 0.01 m."""
    if out_of_china(lon, lat):
        return lon, lat
    guess_lon, guess_lat = lon, lat
    for _ in range(INVERSE_MAX_STEPS):
        forward_lon, forward_lat = wgs84_to_gcj02(guess_lon, guess_lat)
        error_lon, error_lat = forward_lon - lon, forward_lat - lat
        if abs(error_lon) < INVERSE_TOLERANCE_DEGREES and abs(error_lat) < INVERSE_TOLERANCE_DEGREES:
            break
        guess_lon, guess_lat = guess_lon - error_lon, guess_lat - error_lat
    return guess_lon, guess_lat


def _transform_positions(coordinates, transform: Transform):
    if coordinates and isinstance(coordinates[0], (int, float)):
        lon, lat = transform(coordinates[0], coordinates[1])
        return [lon, lat, *coordinates[2:]]
    return [_transform_positions(part, transform) for part in coordinates]


def transform_geometry(geometry: dict, transform: Transform) -> dict:
    """A copy of a GeoJSON geometry (Point, LineString, Polygon with holes, Multi*, or a
    GeometryCollection) with every position passed through `transform`; the input is not changed."""
    if geometry.get("type") == "GeometryCollection":
        return {**geometry, "geometries": [transform_geometry(part, transform) for part in geometry["geometries"]]}
    return {**geometry, "coordinates": _transform_positions(geometry["coordinates"], transform)}


def geometry_to_gcj02(geometry: dict) -> dict:
    return transform_geometry(geometry, wgs84_to_gcj02)


def geometry_to_wgs84(geometry: dict) -> dict:
    return transform_geometry(geometry, gcj02_to_wgs84)
