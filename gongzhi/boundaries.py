"""Grid boundaries brought in from a GeoJSON file or drawn on the map: read, check, and save.

Checking never changes anything: every feature gets a list of problems, each with an i18n key
and parameters. A problem is
- an ERROR: the feature cannot be saved as it is (not a polygon, coordinates that are not
  numbers or not on the Earth, too far from the community, a ring of fewer than three points,
  two features for one grid);
- a REPAIR: it can be saved once the user agrees to the repair offered (longitude/latitude
  swapped back, a ring closed, an invalid shape rebuilt with shapely.make_valid);
- a WARNING: saved as it is, but worth a look (overlaps; a feature matching no grid, which is
  not saved).
Saving is all or nothing: one boundary that cannot be saved refuses the whole import.

Stored boundaries are GeoJSON geometries in WGS-84 longitude/latitude (RFC 7946), two
coordinates per point, every exterior ring counter-clockwise and holes clockwise."""

import json
import math
import statistics
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity
from sqlmodel import Session

from gongzhi.domain import AreaLevel
from gongzhi.errors import FieldError, GongzhiError, NotFound, ValidationError
from gongzhi.geo import parse_boundary
from gongzhi.i18n import translate
from gongzhi.models import Area
from gongzhi.permissions import Actor, require_some_write, require_write

# A grid is a few hundred metres across and a community a few kilometres: a feature whose centre
# lies farther than this from the community's centre is in the wrong place (or in the wrong order).
REGION_RADIUS_KM = 50.0
# Overlap tolerance. Two boundaries digitised along the same street never match exactly, and
# the sliver between them is thin: 0.15 m along a 300 m edge is 45 m². An overlap is reported
# only when it is larger than BOTH limits, so such slivers pass, while a real overlap (a building
# in two grids) is caught: the 50 m² floor keeps a long shared edge of a small grid quiet, the
# 1 % share keeps the same for large grids, whose edges are longer.
OVERLAP_MIN_M2 = 50.0
OVERLAP_MIN_SHARE = 0.01
EARTH_RADIUS_KM = 6371.0088
METRES_PER_DEGREE_LAT = 110_574.0
METRES_PER_DEGREE_LON_AT_EQUATOR = 111_320.0

CODE_PROPERTIES = ("code", "编码", "网格编码")
NAME_PROPERTIES = ("name", "名称", "网格名称")
POLYGON_TYPES = ("Polygon", "MultiPolygon")

LonLat = tuple[float, float]


class Severity(StrEnum):
    ERROR = "error"
    REPAIR = "repair"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    code: str  # the message is boundaries.problem_<code>
    severity: Severity
    params: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"boundaries.problem_{self.code}"

    def message(self, lang: str) -> str:
        return translate(lang, self.key, **self.params)


@dataclass
class FeatureReport:
    number: int  # 1-based position in the file, as people count
    label: str  # the feature's code or name from the file, for people to recognise it
    properties: dict
    grid_id: int | None = None
    grid_code: str | None = None
    grid_name: str | None = None
    matched_by: str | None = None  # "code" or "name"
    problems: list[Problem] = field(default_factory=list)
    given: dict | None = None  # the geometry as given (2-D), None if it could not be read
    fixed: dict | None = None  # after every repair offered, oriented; None if an error remains
    shape: BaseGeometry | None = None  # what the preview draws: fixed if there is one, else as given

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.ERROR]

    @property
    def repairs(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.REPAIR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.WARNING]


@dataclass
class BoundaryReport:
    features: list[FeatureReport]
    grids_without_boundary: list[tuple[int, str, str]]  # (id, code, name) still without one afterwards
    region_center: LonLat | None

    @property
    def matched(self) -> list[FeatureReport]:
        return [f for f in self.features if f.grid_id is not None]

    @property
    def unmatched(self) -> list[FeatureReport]:
        return [f for f in self.features if f.grid_id is None]

    @property
    def blocking(self) -> list[FeatureReport]:
        """Matched features with an error: while there is one, nothing can be saved."""
        return [f for f in self.matched if f.errors]

    @property
    def needing_consent(self) -> list[FeatureReport]:
        return [f for f in self.matched if f.repairs and not f.errors]

    def assignments(self, consented: Iterable[int] = (), grid_ids: Iterable[int] | None = None
                    ) -> tuple[dict[int, dict | None], set[int]]:
        """What to hand to save_boundaries: {grid id: geometry} for every matched feature (the
        repaired geometry where the user agreed to the repair, by feature number; else as given)
        and the grids whose repair was agreed to. `grid_ids` limits it to those grids (a grid
        leader's own)."""
        consented = set(consented)
        allowed = None if grid_ids is None else set(grid_ids)
        geometries: dict[int, dict | None] = {}
        consent: set[int] = set()
        for feature in self.matched:
            if allowed is not None and feature.grid_id not in allowed:
                continue
            if feature.repairs and feature.number in consented and feature.fixed is not None:
                geometries[feature.grid_id] = feature.fixed
                consent.add(feature.grid_id)
            else:
                geometries[feature.grid_id] = feature.given
        return geometries, consent


class BoundaryRefused(ValidationError):
    """Boundaries that cannot be saved; each message names its grid."""

    def messages(self, lang: str) -> list[str]:
        return [translate(lang, "boundaries.refused_grid", grid=error.params.get("grid", ""),
                          reason=translate(lang, error.key, **error.params)) for error in self.errors]


# --- reading ---------------------------------------------------------------------------------

def read_geojson(data: str | bytes) -> list[dict]:
    """The features of a GeoJSON text: a FeatureCollection, one Feature, or a bare geometry (which
    becomes a feature without properties). Each is {"type": "Feature", "properties": {...},
    "geometry": ... as in the file}; nothing is checked yet beyond the file's outer form.
    Raises GongzhiError (boundaries.error_*) when the file is not JSON or not GeoJSON."""
    if isinstance(data, bytes):
        text = _decode(data)
    else:
        text = data
    try:
        document = json.loads(text)
    except ValueError as error:
        raise GongzhiError("boundaries.error_not_json", detail=str(error)[:120]) from None
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise GongzhiError("boundaries.error_not_geojson", kind=kind)
        return [_as_feature(item) for item in features]
    if kind == "Feature":
        return [_as_feature(document)]
    if (isinstance(kind, str) and "coordinates" in document) or kind == "GeometryCollection":
        return [{"type": "Feature", "properties": {}, "geometry": document}]
    raise GongzhiError("boundaries.error_not_geojson", kind=str(kind)[:40])


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), as RFC 7946 says; files exported by Chinese
    desktop GIS are often GBK, which GB18030 reads."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise GongzhiError("boundaries.error_encoding") from None


def _as_feature(item) -> dict:
    if isinstance(item, dict) and item.get("type") == "Feature":
        properties = item.get("properties")
        return {"type": "Feature", "properties": properties if isinstance(properties, dict) else {},
                "geometry": item.get("geometry")}
    # A member that is not a Feature: kept, so that its problem is reported at its position.
    return {"type": "Feature", "properties": {}, "geometry": item}


# --- checking one geometry ---------------------------------------------------------------------

class _Unreadable(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


@dataclass
class _Checked:
    problems: list[Problem]
    given: dict | None = None
    fixed: dict | None = None
    shape: BaseGeometry | None = None


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _read_parts(geometry: dict) -> list[list[list[LonLat]]]:
    """Polygons -> rings -> (lon, lat) points, as given (a third coordinate, altitude, dropped)."""
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise _Unreadable(Problem("empty", Severity.ERROR))
    parts = []
    for part_number, rings in enumerate(polygons, start=1):
        if not isinstance(rings, list) or not rings:
            raise _Unreadable(Problem("bad_structure", Severity.ERROR, {"part": part_number, "type": kind}))
        part = []
        for ring_number, ring in enumerate(rings, start=1):
            if not isinstance(ring, list):
                raise _Unreadable(Problem("bad_structure", Severity.ERROR, {"part": part_number, "type": kind}))
            points = []
            for point_number, position in enumerate(ring, start=1):
                if not (isinstance(position, list) and len(position) in (2, 3)
                        and all(_is_number(value) for value in position)):
                    raise _Unreadable(Problem("bad_coordinates", Severity.ERROR, {
                        "part": part_number, "ring": ring_number, "point": point_number,
                        "value": json.dumps(position, ensure_ascii=False)[:60]}))
                points.append((float(position[0]), float(position[1])))
            part.append(points)
        parts.append(part)
    return parts


def _in_range(parts) -> bool:
    return all(-180 <= lon <= 180 and -90 <= lat <= 90 for part in parts for ring in part for lon, lat in ring)


def _swapped(parts):
    return [[[(lat, lon) for lon, lat in ring] for ring in part] for part in parts]


def _closed(parts):
    return [[ring if ring[0] == ring[-1] else [*ring, ring[0]] for ring in part] for part in parts]


def _box_centre(parts) -> LonLat:
    lons = [lon for part in parts for ring in part for lon, _ in ring]
    lats = [lat for part in parts for ring in part for _, lat in ring]
    return (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2


def distance_km(a: LonLat, b: LonLat) -> float:
    """Great-circle distance between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _shape(parts) -> BaseGeometry:
    polygons = [Polygon(part[0], part[1:]) for part in parts]
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


def to_storage(geometry: BaseGeometry) -> dict:
    """A valid polygonal shapely geometry as the GeoJSON dict stored: exteriors counter-clockwise
    (RFC 7946), plain lists."""
    oriented = shapely.orient_polygons(geometry, exterior_cw=False)
    return json.loads(json.dumps(mapping(oriented)))


def check_geometry(geometry, region_center: LonLat | None = None) -> _Checked:
    """Every problem of one geometry by itself (its place relative to the community included
    when `region_center` is known), with the repaired geometry when only repairs are needed."""
    if geometry is None:
        return _Checked([Problem("no_geometry", Severity.ERROR)])
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in POLYGON_TYPES:
        return _Checked([Problem("not_polygon", Severity.ERROR, {"type": str(kind or "-")[:40]})])
    try:
        parts = _read_parts(geometry)
    except _Unreadable as unreadable:
        return _Checked([unreadable.problem])
    given = {"type": kind, "coordinates": [[[list(p) for p in ring] for ring in part] for part in parts]}
    if kind == "Polygon":
        given["coordinates"] = given["coordinates"][0]

    # Where it lies: on the Earth, near the community, or there once each pair is swapped.
    problems: list[Problem] = []
    repaired_parts = parts
    swap = _swap_problem(parts, region_center)
    if swap is not None:
        problems.append(swap)
        if swap.severity == Severity.REPAIR:
            repaired_parts = _swapped(parts)
    problems += _ring_problems(parts)
    if any(p.severity == Severity.ERROR for p in problems):
        outline = _shape(_closed(parts)) if not any(p.code == "too_few_points" for p in problems) else None
        return _Checked(problems, given=given, shape=outline)
    return _checked_outline(_shape(_closed(repaired_parts)), problems, given)


def _ring_problems(parts) -> list[Problem]:
    problems = []
    for part_number, part in enumerate(parts, start=1):
        for ring_number, ring in enumerate(part, start=1):
            if ring[0] != ring[-1]:
                problems.append(Problem("unclosed_ring", Severity.REPAIR, {"part": part_number, "ring": ring_number}))
            if len(set(ring)) < 3:
                problems.append(Problem("too_few_points", Severity.ERROR, {"part": part_number, "ring": ring_number}))
    return problems


def _checked_outline(outline: BaseGeometry, problems: list[Problem], given: dict) -> _Checked:
    """A shape whose points are all right: valid, or repairable into a valid one."""
    if outline.is_valid:
        return _Checked(problems, given=given, fixed=to_storage(outline), shape=outline)
    reason = explain_validity(outline)
    # The same repair the map applies to a stored shape (geo.parse_boundary): make_valid,
    # keeping only its polygons.
    made_valid = parse_boundary(json.dumps(mapping(outline)))
    if made_valid is None or made_valid.is_empty:
        problems.append(Problem("unrepairable", Severity.ERROR, {"reason": reason}))
        return _Checked(problems, given=given, shape=outline)
    problems.append(Problem("invalid", Severity.REPAIR, {"reason": reason}))
    return _Checked(problems, given=given, fixed=to_storage(made_valid), shape=made_valid)


def _swap_problem(parts, region_center: LonLat | None) -> Problem | None:
    """Longitude and latitude in the wrong order, or a place that cannot be right."""
    given_ok = _in_range(parts)
    swapped_ok = _in_range(_swapped(parts))
    if region_center is None:
        if given_ok:
            return None
        if swapped_ok:
            return Problem("swapped_out_of_range", Severity.REPAIR, _first_point(parts))
        return Problem("out_of_range", Severity.ERROR, _first_point(parts))
    given_km = distance_km(_box_centre(parts), region_center) if given_ok else None
    if given_km is not None and given_km <= REGION_RADIUS_KM:
        return None
    swapped_km = distance_km(_box_centre(_swapped(parts)), region_center) if swapped_ok else None
    if swapped_km is not None and swapped_km <= REGION_RADIUS_KM:
        if given_km is None:
            return Problem("swapped_out_of_range", Severity.REPAIR, _first_point(parts))
        return Problem("swapped", Severity.REPAIR, {"given_km": f"{given_km:,.0f}", "swapped_km": f"{swapped_km:.1f}",
                                                    "limit_km": f"{REGION_RADIUS_KM:.0f}"})
    if given_km is None:
        return Problem("out_of_range", Severity.ERROR, _first_point(parts))
    return Problem("far_from_region", Severity.ERROR, {"distance_km": f"{given_km:,.0f}",
                                                       "limit_km": f"{REGION_RADIUS_KM:.0f}"})


def _first_point(parts) -> dict:
    """The first point off the Earth's range, for the message."""
    for part in parts:
        for ring in part:
            for lon, lat in ring:
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    return {"lon": f"{lon:g}", "lat": f"{lat:g}"}
    lon, lat = parts[0][0][0]
    return {"lon": f"{lon:g}", "lat": f"{lat:g}"}


# --- checking a whole import ---------------------------------------------------------------------

def _normalised(value) -> str:
    """Codes and names compare without case, surrounding space, or full-width/half-width differences."""
    return unicodedata.normalize("NFKC", str(value)).strip().casefold()


def _property(properties: dict, names: tuple[str, ...]) -> str | None:
    for name in names:
        value = properties.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _metres(geometry: BaseGeometry, latitude: float) -> BaseGeometry:
    """Local equirectangular metres: plenty for the area of a few square kilometres."""
    scale = (METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(latitude)), METRES_PER_DEGREE_LAT)
    return shapely.transform(geometry, lambda xy: xy * scale)


def _region_from(shapes: Iterable[BaseGeometry]) -> LonLat | None:
    """The median of the shapes' centres: one misplaced shape does not move it."""
    centres = [(s.centroid.x, s.centroid.y) for s in shapes]
    if not centres:
        return None
    return statistics.median(c[0] for c in centres), statistics.median(c[1] for c in centres)


Grid = tuple[int, str, str]  # (id, code, name)


class _GridIndex:
    """The community's grids by code and by name, for matching features to them."""

    def __init__(self, grids: list[tuple[int, str, str, str | None]]):
        self.by_code = {_normalised(code): (grid_id, code, name) for grid_id, code, name, _ in grids}
        self.by_name: dict[str, list[Grid]] = {}
        for grid_id, code, name, _ in grids:
            self.by_name.setdefault(_normalised(name), []).append((grid_id, code, name))

    def report(self, number: int, feature: dict) -> FeatureReport:
        """The feature's report, matched to a grid by code, else by a name only one grid has."""
        properties = feature.get("properties") or {}
        code, name = _property(properties, CODE_PROPERTIES), _property(properties, NAME_PROPERTIES)
        report = FeatureReport(number=number, label=" ".join(v for v in (code, name) if v) or f"#{number}",
                               properties=properties)
        named = self.by_name.get(_normalised(name), []) if name is not None else []
        if code is not None and _normalised(code) in self.by_code:
            report.grid_id, report.grid_code, report.grid_name = self.by_code[_normalised(code)]
            report.matched_by = "code"
        elif len(named) == 1:
            report.grid_id, report.grid_code, report.grid_name = named[0]
            report.matched_by = "name"
        elif len(named) > 1:
            report.problems.append(Problem("ambiguous_name", Severity.WARNING, {"name": name, "count": len(named)}))
        else:
            report.problems.append(Problem("unmatched", Severity.WARNING))
        return report


def _kept_boundaries(grids, assigned: set[int]) -> dict[int, BaseGeometry]:
    """The current boundaries of the grids this import leaves alone."""
    kept = {grid_id: parse_boundary(boundary) for grid_id, _, _, boundary in grids if grid_id not in assigned}
    return {grid_id: outline for grid_id, outline in kept.items() if outline is not None}


def _region(features: list[dict], kept: dict[int, BaseGeometry]) -> LonLat | None:
    """The centre of the kept boundaries, else of the imported shapes that lie on the Earth."""
    region_center = _region_from(kept.values())
    if region_center is None:
        first_pass = [check_geometry(f.get("geometry")) for f in features]
        region_center = _region_from(c.shape for c in first_pass if c.shape is not None and not any(
            p.code in ("out_of_range", "swapped_out_of_range") for p in c.problems))
    return region_center


def validate_features(features: list[dict], *, grids: list[tuple[int, str, str, str | None]],
                      region_center: LonLat | None = None) -> BoundaryReport:
    """Check imported features against the community's grids, each given as (id, code, name,
    current boundary GeoJSON or None). Features match a grid by code (properties code / 编码 /
    网格编码), else by name (name / 名称 / 网格名称). The community's region is `region_center`,
    else the centre of the current boundaries of the grids this import leaves alone, else the
    centre of the imported features themselves (a first import), so a community anywhere can
    bring in its first boundaries; without any of these only the Earth's range is checked."""
    index = _GridIndex(grids)
    reports = [index.report(number, feature) for number, feature in enumerate(features, start=1)]
    assigned = {r.grid_id for r in reports if r.grid_id is not None}
    kept = _kept_boundaries(grids, assigned)
    if region_center is None:
        region_center = _region(features, kept)

    for report, feature in zip(reports, features, strict=True):
        checked = check_geometry(feature.get("geometry"), region_center)
        report.problems = checked.problems + report.problems
        report.given, report.fixed, report.shape = checked.given, checked.fixed, checked.shape

    _report_duplicates(reports)
    _report_overlaps(reports, kept, {grid_id: (code, name) for grid_id, code, name, _ in grids}, region_center)
    with_boundary = assigned | set(kept)
    missing = [(grid_id, code, name) for grid_id, code, name, _ in grids if grid_id not in with_boundary]
    return BoundaryReport(features=reports, grids_without_boundary=missing, region_center=region_center)


def _report_duplicates(reports: list[FeatureReport]) -> None:
    numbers: dict[int, list[int]] = {}
    for report in reports:
        if report.grid_id is not None:
            numbers.setdefault(report.grid_id, []).append(report.number)
    for report in reports:
        others = [n for n in numbers.get(report.grid_id, []) if n != report.number]
        if others:
            report.problems.append(Problem("duplicate_grid", Severity.ERROR, {
                "grid": report.grid_code, "others": ", ".join(f"#{n}" for n in others)}))


def _report_overlaps(reports: list[FeatureReport], kept: dict[int, BaseGeometry],
                     grid_names: dict[int, tuple[str, str]], region_center: LonLat | None) -> None:
    """Each matched feature against the other matched features and against the current
    boundaries of the grids this import leaves alone."""
    latitude = region_center[1] if region_center else 0.0
    candidates = [r for r in reports if r.grid_id is not None and r.shape is not None and r.shape.is_valid]
    others: list[tuple[str, BaseGeometry, FeatureReport | None]] = [
        (f"#{r.number} {r.label}", r.shape, r) for r in candidates]
    others += [(" ".join(grid_names[grid_id]), outline, None) for grid_id, outline in kept.items() if outline.is_valid]
    if not others:
        return
    tree = shapely.STRtree([outline for _, outline, _ in others])
    for report in candidates:
        area = _metres(report.shape, latitude).area
        for index in tree.query(report.shape, predicate="intersects"):
            label, other_shape, other = others[int(index)]
            if other is report:
                continue
            overlap = _metres(report.shape.intersection(other_shape), latitude).area
            smaller = min(area, _metres(other_shape, latitude).area)
            if overlap > OVERLAP_MIN_M2 and smaller > 0 and overlap > OVERLAP_MIN_SHARE * smaller:
                report.problems.append(Problem("overlap", Severity.WARNING, {
                    "other": label, "area_m2": f"{overlap:,.0f}", "share": f"{100 * overlap / smaller:.1f}"}))


# --- saving ---------------------------------------------------------------------------------------

def save_boundaries(*, session: Session, actor: Actor, assignments: dict[int, dict | None],
                    repaired_consent: set[int]) -> list[int]:
    """Store each grid's new boundary (and its centroid): all of them or none. A boundary that
    needs a repair is saved repaired only for grids in `repaired_consent`; any other problem
    refuses the whole save. Admin and committee save any grid, a grid leader only their own.
    Returns the grid ids saved. Run inside write_session, which audits every change."""
    require_some_write(actor)
    grids = []
    for grid_id in sorted(assignments):
        grid = session.get(Area, grid_id)
        if grid is None or grid.level != AreaLevel.GRID or grid.deleted_at is not None:
            raise NotFound(what="grid", id=grid_id)
        require_write(actor, grid_id=grid_id)
        grids.append(grid)

    refused: list[FieldError] = []
    prepared: dict[int, dict] = {}
    for grid in grids:
        checked = check_geometry(assignments[grid.id])
        label = f"{grid.code} {grid.name}"
        blocking = [p for p in checked.problems if p.severity == Severity.ERROR
                    or (p.severity == Severity.REPAIR and grid.id not in repaired_consent)]
        if blocking or checked.fixed is None:
            refused += [FieldError("boundaries.field_boundary", p.key, {**p.params, "grid": label}) for p in blocking]
            continue
        prepared[grid.id] = checked.fixed
    if refused:
        raise BoundaryRefused(refused)

    for grid in grids:
        geometry = prepared[grid.id]
        text = json.dumps(geometry, separators=(",", ":"))
        if text == grid.boundary:
            continue
        centre = shape(geometry).centroid
        grid.boundary = text
        grid.centroid_lon, grid.centroid_lat = round(centre.x, 6), round(centre.y, 6)
        session.add(grid)
    session.flush()
    return [grid.id for grid in grids]
