"""Grid boundaries in: GeoJSON files crafted here, one problem each, must be reported on the
right feature with the right message; repairs are offered and saved only with consent; a save is
all or nothing, audited, and a grid leader saves only their own grid."""

import json
import math

import pytest
from shapely.geometry import Polygon, shape
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.boundaries import (
    OVERLAP_MIN_M2,
    BoundaryRefused,
    Severity,
    read_geojson,
    save_boundaries,
    validate_features,
)
from gongzhi.domain import AreaLevel
from gongzhi.errors import GongzhiError, PermissionDenied
from gongzhi.i18n import plain_text, translate
from gongzhi.models import Area, AuditEntry
from gongzhi.permissions import Actor, Role
from gongzhi.queries.audit import changed_values

LON, LAT = 113.876, 22.578  # the demo community (Shenzhen)
SIDE = 0.003  # degrees, ~300 m: a grid's size
SECRETARY = Actor(name="王秘书", role=Role.COMMITTEE)


def square(lon: float, lat: float, side: float = SIDE, *, clockwise: bool = False) -> list[list[float]]:
    ring = [[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]
    return ring[::-1] if clockwise else ring


def polygon(*rings) -> dict:
    return {"type": "Polygon", "coordinates": [list(ring) for ring in rings]}


def feature(geometry, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False)


def swap(ring):
    return [[lat, lon] for lon, lat in ring]


# A bow tie: the edge from the 2nd to the 3rd corner crosses the one from the 4th back to the 1st.
def bow_tie(lon: float, lat: float) -> list[list[float]]:
    return [[lon, lat], [lon + SIDE, lat + SIDE], [lon + SIDE, lat], [lon, lat + SIDE], [lon, lat]]


@pytest.fixture
def grids(write, engine):
    """Three grids side by side: G1 and G2 without a boundary, G3 with one, east of the others."""
    with write() as session:
        community = Area(code="C1", name="桃源居社区", level=AreaLevel.COMMUNITY)
        session.add(community)
        session.flush()
        rows = [Area(code="C1-G1", name="第一网格", level=AreaLevel.GRID, parent_id=community.id),
                Area(code="C1-G2", name="第二网格（桂花苑）", level=AreaLevel.GRID, parent_id=community.id),
                Area(code="C1-G3", name="第三网格", level=AreaLevel.GRID, parent_id=community.id,
                     boundary=json.dumps(polygon(square(LON + 2 * SIDE, LAT))))]
        session.add_all(rows)
        session.flush()
        ids = {row.code: row.id for row in rows}
    return ids


def grid_rows(engine) -> list[tuple[int, str, str, str | None]]:
    with Session(engine) as session:
        return [tuple(r) for r in session.execute(select(Area.id, Area.code, Area.name, Area.boundary)
                                                  .where(Area.level == AreaLevel.GRID).order_by(Area.code))]


def check(engine, text: str, **kwargs):
    return validate_features(read_geojson(text), grids=grid_rows(engine), **kwargs)


def codes(report_feature) -> list[str]:
    return [problem.code for problem in report_feature.problems]


def stored(engine, grid_id: int) -> dict | None:
    with Session(engine) as session:
        text = session.get(Area, grid_id).boundary
    return None if text is None else json.loads(text)


def local_m2(geometry, latitude: float = LAT) -> float:
    """Area in m² on a local equirectangular projection, computed independently of the module."""
    return geometry.area * (111_320 * math.cos(math.radians(latitude))) * 110_574


# --- reading -----------------------------------------------------------------------------------

def test_reads_a_collection_a_feature_and_a_bare_geometry():
    ring = square(LON, LAT)
    assert [f["properties"] for f in read_geojson(collection(feature(polygon(ring), code="A"),
                                                             feature(polygon(ring), name="B")))] == \
        [{"code": "A"}, {"name": "B"}]
    assert read_geojson(json.dumps(feature(polygon(ring), code="A")))[0]["geometry"] == polygon(ring)
    bare = read_geojson(json.dumps({"type": "MultiPolygon", "coordinates": [[ring]]}).encode())
    assert bare == [{"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]}}]


def test_reads_gbk_files_from_chinese_desktop_gis():
    text = collection(feature(polygon(square(LON, LAT)), 名称="第一网格"))
    assert read_geojson(text.encode("gbk"))[0]["properties"] == {"名称": "第一网格"}


@pytest.mark.parametrize(("text", "key"), [
    ("{not json", "boundaries.error_not_json"),
    ('{"type": "Topology", "objects": {}}', "boundaries.error_not_geojson"),
    ("[1, 2]", "boundaries.error_not_geojson"),
])
def test_a_file_that_is_not_geojson_is_refused_with_its_reason(text, key):
    with pytest.raises(GongzhiError) as raised:
        read_geojson(text)
    assert raised.value.key == key


# --- one problem per file ------------------------------------------------------------------------

def test_a_clean_file_is_ready_and_matched_by_code(engine, grids):
    report = check(engine, collection(feature(polygon(square(LON, LAT)), code="C1-G1"),
                                      feature(polygon(square(LON + SIDE, LAT)), 网格编码="c1-g2 ")))
    assert [(f.grid_id, f.matched_by, f.problems) for f in report.features] == [
        (grids["C1-G1"], "code", []), (grids["C1-G2"], "code", [])]
    assert report.blocking == [] and report.needing_consent == [] and report.grids_without_boundary == []


def test_matching_by_chinese_name_and_unmatched_features(engine, grids):
    report = check(engine, collection(feature(polygon(square(LON, LAT)), 名称="第一网格"),
                                      feature(polygon(square(LON + SIDE, LAT)), 网格名称="第二网格（桂花苑）"),
                                      feature(polygon(square(LON, LAT + SIDE)), name="第九网格", code="C1-G9")))
    first, second, third = report.features
    assert (first.grid_id, first.matched_by) == (grids["C1-G1"], "name")
    assert (second.grid_id, second.matched_by) == (grids["C1-G2"], "name")
    assert third.grid_id is None and codes(third) == ["unmatched"]
    assert third.problems[0].message("en") == "matches no grid by code or name; it will not be saved"
    assert report.unmatched == [third]
    # An unmatched feature is not saved, and does not stop the others.
    assignments, _ = report.assignments()
    assert set(assignments) == {grids["C1-G1"], grids["C1-G2"]}


def test_a_code_wins_over_a_name_and_a_grid_left_without_boundary_is_named(engine, grids):
    report = check(engine, collection(feature(polygon(square(LON, LAT)), code="C1-G2", name="第一网格")))
    assert report.features[0].grid_id == grids["C1-G2"]
    # G1 has none and gets none; G3 keeps the one it has.
    assert report.grids_without_boundary == [(grids["C1-G1"], "C1-G1", "第一网格")]


def test_not_a_polygon_and_no_geometry(engine, grids):
    report = check(engine, collection(feature({"type": "Point", "coordinates": [LON, LAT]}, code="C1-G1"),
                                      feature(None, code="C1-G2")))
    point, empty = report.features
    assert codes(point) == ["not_polygon"] and point.errors
    assert point.problems[0].message("en") == "is a Point, not an area (Polygon or MultiPolygon)"
    assert codes(empty) == ["no_geometry"]
    assert report.blocking == [point, empty]


def test_coordinates_that_are_not_numbers(engine, grids):
    ring = square(LON, LAT)
    ring[2] = ["113.879", LAT + SIDE]  # a number as text, as some spreadsheets export it
    report = check(engine, collection(feature(polygon(ring), code="C1-G1")))
    problem = report.features[0].problems[0]
    assert (problem.code, problem.severity) == ("bad_coordinates", Severity.ERROR)
    with plain_text():  # as typed; for the UI the list is escaped (Markdown)
        assert problem.message("en") == 'part 1, ring 1, point 3 is not a pair of numbers: ["113.879", 22.581]'
    assert problem.message("en").endswith('numbers: \\["113.879", 22.581\\]')


def test_coordinates_out_of_range_that_no_swap_fixes(engine, grids):
    metres = [[12_676_000 + x, 2_580_000 + y] for x, y in ((0, 0), (300, 0), (300, 300), (0, 300), (0, 0))]
    report = check(engine, collection(feature(polygon(metres), code="C1-G1")))  # Web Mercator metres
    problem = report.features[0].problems[0]
    assert problem.code == "out_of_range" and problem.params == {"lon": "1.2676e+07", "lat": "2.58e+06"}
    assert report.features[0].fixed is None


def test_swapped_longitude_and_latitude_are_detected_and_the_swap_fixes_them(engine, grids):
    given = square(LON, LAT)
    report = check(engine, collection(feature(polygon(swap(given)), code="C1-G1")))
    fixed = report.features[0]
    assert codes(fixed) == ["swapped_out_of_range"] and fixed.repairs and not fixed.errors
    assert fixed.problems[0].params == {"lon": f"{LAT:g}", "lat": f"{LON:g}"}
    # The geometry offered is the square as meant: the same shape, at the community.
    assert shape(fixed.fixed).equals(Polygon(given))
    assert shape(fixed.fixed).distance(shape(polygon(square(LON + 2 * SIDE, LAT)))) < 0.01


def test_swapped_coordinates_that_stay_in_range_are_detected_by_the_community_region(engine, grids):
    # Somewhere with longitude < 90: swapped pairs are valid numbers, only in the wrong place.
    region = (30.3, 59.9)
    given = square(*region)
    report = check(engine, collection(feature(polygon(swap(given)), code="C1-G1")), region_center=region)
    problem = report.features[0].problems[0]
    assert (problem.code, problem.severity) == ("swapped", Severity.REPAIR)
    assert float(problem.params["given_km"].replace(",", "")) > 1000
    assert shape(report.features[0].fixed).equals(Polygon(given))


def test_a_feature_far_from_the_community_is_an_error(engine, grids):
    beijing = square(116.39, 39.90)
    report = check(engine, collection(feature(polygon(beijing), code="C1-G1")))
    problem = report.features[0].problems[0]
    assert problem.code == "far_from_region" and problem.severity == Severity.ERROR
    # The region is G3's stored boundary (the grid the file leaves alone): ~1,960 km to Beijing.
    assert 1900 < float(problem.params["distance_km"].replace(",", "")) < 2000


def test_an_unclosed_ring_is_offered_closed(engine, grids):
    open_ring = square(LON, LAT)[:-1]
    report = check(engine, collection(feature(polygon(open_ring), code="C1-G1")))
    fixed = report.features[0]
    assert codes(fixed) == ["unclosed_ring"] and fixed.problems[0].params == {"part": 1, "ring": 1}
    ring = fixed.fixed["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5
    assert shape(fixed.fixed).equals(Polygon(square(LON, LAT)))


def test_a_ring_of_two_points_cannot_be_saved(engine, grids):
    report = check(engine, collection(feature(polygon([[LON, LAT], [LON + SIDE, LAT], [LON, LAT]]), code="C1-G1")))
    assert codes(report.features[0]) == ["too_few_points"] and report.features[0].errors


def test_a_bow_tie_is_offered_repaired_with_make_valid(engine, grids):
    report = check(engine, collection(feature(polygon(bow_tie(LON, LAT)), code="C1-G1")))
    tie = report.features[0]
    assert codes(tie) == ["invalid"] and tie.repairs
    assert tie.problems[0].params["reason"].startswith("Self-intersection")
    # make_valid keeps both triangles: half the square, split at the crossing.
    repaired = shape(tie.fixed)
    assert repaired.geom_type == "MultiPolygon" and len(repaired.geoms) == 2 and repaired.is_valid
    assert repaired.area == pytest.approx(SIDE * SIDE / 2)


def test_two_features_for_one_grid(engine, grids):
    report = check(engine, collection(feature(polygon(square(LON, LAT)), code="C1-G1"),
                                      feature(polygon(square(LON + SIDE, LAT)), name="第一网格")))
    assert [codes(f) for f in report.features] == [["duplicate_grid"], ["duplicate_grid"]]
    assert report.features[0].problems[0].params == {"grid": "C1-G1", "others": "#2"}


def test_overlapping_features_are_reported_on_both_with_the_area(engine, grids):
    # G2's square starts a third of the way into G1's: a third of each overlaps.
    report = check(engine, collection(feature(polygon(square(LON, LAT)), code="C1-G1"),
                                      feature(polygon(square(LON + 2 * SIDE / 3, LAT)), code="C1-G2")))
    first, second = report.features
    assert codes(first) == codes(second) == ["overlap"]
    assert first.problems[0].severity == Severity.WARNING
    expected = local_m2(Polygon(square(LON, LAT)).intersection(Polygon(square(LON + 2 * SIDE / 3, LAT))))
    assert float(first.problems[0].params["area_m2"].replace(",", "")) == pytest.approx(expected, rel=0.01)
    assert first.problems[0].params["share"] == "33.3"
    assert first.problems[0].params["other"] == "#2 C1-G2"


def test_a_sliver_along_a_shared_edge_is_within_tolerance(engine, grids):
    # 0.1 m of overlap along a 330 m edge: ~33 m², under the 50 m² floor.
    sliver = 0.1 / (111_320 * math.cos(math.radians(LAT)))
    report = check(engine, collection(feature(polygon(square(LON, LAT)), code="C1-G1"),
                                      feature(polygon(square(LON + SIDE - sliver, LAT)), code="C1-G2")))
    overlap = local_m2(Polygon(square(LON, LAT)).intersection(Polygon(square(LON + SIDE - sliver, LAT))))
    assert 0 < overlap < OVERLAP_MIN_M2
    assert [codes(f) for f in report.features] == [[], []]


def test_overlap_with_a_grid_the_file_leaves_alone(engine, grids):
    report = check(engine, collection(feature(polygon(square(LON + 1.5 * SIDE, LAT)), code="C1-G2")))
    problem = report.features[0].problems[0]
    assert problem.code == "overlap" and problem.params["other"] == "C1-G3 第三网格"
    assert problem.params["share"] == "50.0"


def test_a_multipolygon_with_a_hole_is_kept_and_stored_counter_clockwise(engine, grids):
    outer = square(LON, LAT, clockwise=True)  # given clockwise: stored counter-clockwise (RFC 7946)
    hole = [[LON + 0.001, LAT + 0.001], [LON + 0.001, LAT + 0.002], [LON + 0.002, LAT + 0.002],
            [LON + 0.002, LAT + 0.001], [LON + 0.001, LAT + 0.001]]
    island = square(LON + 0.004, LAT, 0.001)
    geometry = {"type": "MultiPolygon", "coordinates": [[outer, hole], [island]]}
    report = check(engine, collection(feature(geometry, code="C1-G1")))
    assert report.features[0].problems == []
    assignments, consent = report.assignments()
    with Session(engine) as session:
        save_boundaries(session=session, actor=SECRETARY, assignments=assignments, repaired_consent=consent)
        session.commit()
    saved = shape(stored(engine, grids["C1-G1"]))
    assert saved.geom_type == "MultiPolygon" and len(saved.geoms) == 2
    first = saved.geoms[0]
    assert len(first.interiors) == 1 and first.exterior.is_ccw and not first.interiors[0].is_ccw
    assert saved.area == pytest.approx(SIDE ** 2 - 0.001 ** 2 + 0.001 ** 2)
    with Session(engine) as session:
        grid = session.get(Area, grids["C1-G1"])
        assert (grid.centroid_lon, grid.centroid_lat) == (round(saved.centroid.x, 6), round(saved.centroid.y, 6))


def test_every_problem_has_a_message_in_both_languages():
    problem_codes = ["no_geometry", "not_polygon", "empty", "bad_structure", "bad_coordinates", "out_of_range",
                     "swapped", "swapped_out_of_range", "far_from_region", "unclosed_ring", "too_few_points",
                     "invalid", "unrepairable", "ambiguous_name", "unmatched", "duplicate_grid", "overlap"]
    for code in problem_codes:
        for lang in ("zh-CN", "en"):
            assert translate(lang, f"boundaries.problem_{code}") != f"boundaries.problem_{code}"


# --- saving ----------------------------------------------------------------------------------------

def test_all_or_nothing_one_invalid_feature_without_consent_saves_nothing(engine, grids):
    report = check(engine, collection(feature(polygon(square(LON, LAT)), code="C1-G1"),
                                      feature(polygon(bow_tie(LON + SIDE, LAT)), code="C1-G2")))
    tie = report.features[1]
    assignments, consent = report.assignments()  # no consent given
    assert consent == set()
    with pytest.raises(BoundaryRefused) as refused, Session(engine) as session:
        save_boundaries(session=session, actor=SECRETARY, assignments=assignments, repaired_consent=consent)
        session.commit()
    message = refused.value.messages("en")[0]
    assert message.startswith("Boundary of C1-G2 第二网格（桂花苑） not saved: the shape is invalid (Self-intersection")
    assert stored(engine, grids["C1-G1"]) is None and stored(engine, grids["C1-G2"]) is None

    assignments, consent = report.assignments({tie.number})
    assert consent == {grids["C1-G2"]}
    with Session(engine) as session:
        assert save_boundaries(session=session, actor=SECRETARY, assignments=assignments,
                               repaired_consent=consent) == [grids["C1-G1"], grids["C1-G2"]]
        session.commit()
    assert shape(stored(engine, grids["C1-G1"])).equals(Polygon(square(LON, LAT)))
    assert shape(stored(engine, grids["C1-G2"])).equals(shape(tie.fixed))


def test_the_save_itself_refuses_an_invalid_geometry_without_consent_and_repairs_it_with(engine, grids):
    """The core is the gate, whatever the page sends."""
    tie = polygon(bow_tie(LON, LAT))
    with pytest.raises(BoundaryRefused), Session(engine) as session:
        save_boundaries(session=session, actor=SECRETARY, assignments={grids["C1-G1"]: tie}, repaired_consent=set())
    with Session(engine) as session:
        save_boundaries(session=session, actor=SECRETARY, assignments={grids["C1-G1"]: tie},
                        repaired_consent={grids["C1-G1"]})
        session.commit()
    saved = shape(stored(engine, grids["C1-G1"]))
    assert saved.is_valid and saved.area == pytest.approx(SIDE * SIDE / 2)


def test_a_save_is_audited(engine, grids):
    from gongzhi.db import write_session

    with write_session(engine, actor=SECRETARY) as session:
        save_boundaries(session=session, actor=SECRETARY, assignments={grids["C1-G1"]: polygon(square(LON, LAT))},
                        repaired_consent=set())
    with Session(engine) as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.table_name == "area",
                                                         AuditEntry.record_id == str(grids["C1-G1"]))
                                .order_by(AuditEntry.id.desc())).scalars().first()
    assert (entry.action, entry.actor, entry.actor_role) == ("update", "王秘书", "committee")
    changed = {field: (before, after) for field, before, after in changed_values(entry.before, entry.after)}
    assert changed["boundary"][0] is None and json.loads(changed["boundary"][1]) == polygon(square(LON, LAT))
    assert {"centroid_lon", "centroid_lat"} <= set(changed)


def test_a_grid_leader_saves_only_their_own_grid(engine, grids):
    leader = Actor(name="第一网格网格长", role=Role.LEADER, grid_ids=frozenset({grids["C1-G1"]}))
    own, other = polygon(square(LON, LAT)), polygon(square(LON + SIDE, LAT))
    with pytest.raises(PermissionDenied), Session(engine) as session:
        save_boundaries(session=session, actor=leader, assignments={grids["C1-G1"]: own, grids["C1-G2"]: other},
                        repaired_consent=set())
    assert stored(engine, grids["C1-G1"]) is None and stored(engine, grids["C1-G2"]) is None
    with Session(engine) as session:
        save_boundaries(session=session, actor=leader, assignments={grids["C1-G1"]: own}, repaired_consent=set())
        session.commit()
    assert stored(engine, grids["C1-G1"]) == own


@pytest.mark.parametrize("role", [Role.REPRESENTATIVE, Role.PUBLIC])
def test_read_only_roles_save_nothing(engine, grids, role):
    with pytest.raises(PermissionDenied), Session(engine) as session:
        save_boundaries(session=session, actor=Actor(name="x", role=role),
                        assignments={grids["C1-G1"]: polygon(square(LON, LAT))}, repaired_consent=set())
    assert stored(engine, grids["C1-G1"]) is None
