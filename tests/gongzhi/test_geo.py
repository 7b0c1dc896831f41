"""Display geometry: stored boundaries parsed safely, simplified without losing validity or
visibly moving, with short coordinates; centroids, label points and the bounds to fit."""

import json
import math
import random

import shapely
from shapely.geometry import Polygon, shape

from gongzhi.geo import (
    COORDINATE_DECIMALS,
    DISPLAY_TOLERANCE,
    centroid,
    combined_bounds,
    display_geometry,
    label_point,
    parse_boundary,
    simplify_all_for_display,
)


def _dense_ring_polygon(lon: float = 121.47, lat: float = 31.23, radius: float = 0.003, points: int = 2000) -> str:
    """A surveyed-looking boundary: a circle of 2,000 vertices with sub-metre jitter."""
    jitter = random.Random(7)
    ring = []
    for i in range(points):
        angle = 2 * math.pi * i / points
        wobble = radius + jitter.uniform(-2e-6, 2e-6)
        ring.append([lon + wobble * math.cos(angle), lat + wobble * math.sin(angle)])
    ring.append(ring[0])
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _all_coordinates(coordinates):
    if isinstance(coordinates[0], (int, float)):
        yield coordinates
    else:
        for part in coordinates:
            yield from _all_coordinates(part)


def test_simplification_reduces_vertices_stays_valid_and_keeps_the_shape():
    stored = _dense_ring_polygon()
    original = shape(json.loads(stored))
    displayed = display_geometry(stored)
    simplified = shape(displayed)

    assert shapely.get_num_coordinates(simplified) < shapely.get_num_coordinates(original) / 4
    assert simplified.is_valid and not simplified.is_empty
    # No edge moves by more than a few metres (tolerance plus rounding), and the area is the same.
    assert original.hausdorff_distance(simplified) < DISPLAY_TOLERANCE * 2
    assert abs(simplified.area - original.area) / original.area < 0.01


def test_coordinates_are_rounded_to_six_decimals_and_stored_text_is_untouched():
    stored = _dense_ring_polygon()
    before = str(stored)
    displayed = display_geometry(stored)
    for lon, lat in _all_coordinates(displayed["coordinates"]):
        assert round(lon, COORDINATE_DECIMALS) == lon and round(lat, COORDINATE_DECIMALS) == lat
        assert len(repr(lon).split(".")[1]) <= COORDINATE_DECIMALS
    assert stored == before


def test_collinear_vertices_are_dropped():
    square_with_extra_points = {"type": "Polygon", "coordinates": [[
        [121.0, 31.0], [121.001, 31.0], [121.002, 31.0], [121.002, 31.001], [121.002, 31.002],
        [121.001, 31.002], [121.0, 31.002], [121.0, 31.001], [121.0, 31.0]]]}
    displayed = display_geometry(json.dumps(square_with_extra_points))
    assert len(displayed["coordinates"][0]) == 5
    assert shape(displayed).equals(Polygon([(121.0, 31.0), (121.002, 31.0), (121.002, 31.002), (121.0, 31.002)]))


def test_multipolygon_and_feature_wrapped_boundaries_are_accepted():
    multi = {"type": "MultiPolygon", "coordinates": [
        [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]], [[[2, 2], [3, 2], [3, 3], [2, 3], [2, 2]]]]}
    assert display_geometry(json.dumps(multi))["type"] == "MultiPolygon"
    feature = {"type": "Feature", "properties": {"name": "x"},
               "geometry": {"type": "Polygon", "coordinates": multi["coordinates"][0]}}
    assert display_geometry(json.dumps(feature))["type"] == "Polygon"


def test_unusable_boundaries_give_none():
    for text in (None, "", "   ", "not json", "[1, 2]", "null", '{"type": "Foo"}',
                 '{"type": "Point", "coordinates": [121, 31]}', '{"type": "Polygon", "coordinates": [[[1, 2]]]}'):
        assert parse_boundary(text) is None, text
        assert display_geometry(text) is None, text
        assert centroid(text) is None, text


def test_self_crossing_ring_is_repaired_into_a_valid_area():
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    geometry = parse_boundary(json.dumps(bowtie))
    assert geometry.is_valid and geometry.area > 0
    assert shape(display_geometry(json.dumps(bowtie))).is_valid


def test_centroid_and_label_point_fall_inside():
    square = {"type": "Polygon", "coordinates": [[[121.0, 31.0], [121.002, 31.0], [121.002, 31.002],
                                                  [121.0, 31.002], [121.0, 31.0]]]}
    lon, lat = centroid(json.dumps(square))
    assert math.isclose(lon, 121.001) and math.isclose(lat, 31.001)
    # A U shape: its centroid lies in the notch, outside the grid, so the label moves inside.
    u_shape = Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])
    assert not u_shape.contains(u_shape.centroid)
    assert u_shape.contains(shapely.Point(label_point(u_shape)))
    assert label_point(shape(square)) == (121.001, 31.001)


def test_combined_bounds_cover_every_grid():
    a = {"type": "Polygon", "coordinates": [[[121.0, 31.0], [121.01, 31.0], [121.01, 31.01], [121.0, 31.0]]]}
    b = {"type": "Polygon", "coordinates": [[[121.02, 30.99], [121.03, 30.99], [121.03, 31.0], [121.02, 30.99]]]}
    assert combined_bounds([a, b]) == (121.0, 30.99, 121.03, 31.01)
    assert combined_bounds([]) is None


def _neighbours(wiggles: int = 200) -> list[Polygon]:
    """Two grids sharing a wiggly edge (jitter of ~1 m, as digitised by hand) of many vertices."""
    jitter = random.Random(3)
    edge = [(121.0 + jitter.uniform(-1e-5, 1e-5), 31.0 + 0.003 * i / wiggles) for i in range(wiggles + 1)]
    west = Polygon([(120.997, 31.0), *edge, (120.997, 31.003)])
    east = Polygon([*edge, (121.003, 31.003), (121.003, 31.0)])
    return [west, east]


def test_neighbouring_grids_are_simplified_together_and_stay_edge_matched():
    grids = _neighbours()
    tolerance = 0.00005
    displayed = [shape(geometry) for geometry in simplify_all_for_display(grids, tolerance)]
    assert all(g.is_valid for g in displayed)
    assert sum(shapely.get_num_coordinates(g) for g in displayed) < sum(shapely.get_num_coordinates(g) for g in grids) / 4
    # The shared edge is the same line in both: no gap, no overlap between the grids.
    assert shapely.coverage_is_valid(displayed)
    assert displayed[0].intersection(displayed[1]).area == 0
    assert abs(shapely.union_all(displayed).area - sum(g.area for g in displayed)) < 1e-15
    assert abs(shapely.union_all(displayed).area - shapely.union_all(grids).area) / shapely.union_all(grids).area < 0.01
    for original, simplified in zip(grids, displayed, strict=True):
        assert original.hausdorff_distance(simplified) < tolerance * 2


def test_overlapping_grids_are_simplified_one_by_one():
    a = Polygon([(0, 0), (2, 0), (2, 2), (0, 2)])
    b = Polygon([(1, 1), (3, 1), (3, 3), (1, 3)])  # not a coverage: overlaps a
    assert [shape(g).equals(p) for g, p in zip(simplify_all_for_display([a, b], 0.01), [a, b], strict=True)] == [True, True]
