"""The district benchmark's own code, at a small size and untimed, so that it cannot rot: the
generated grids tile without overlaps, are stored as drawn, and the payload it measures is that
of the simplified map."""

import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import shape

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.district_map import build_district, gongzhi_map, payload_bytes, vertex_count  # noqa: E402


def test_small_district_is_valid_non_overlapping_and_measured(tmp_path):
    url = f"sqlite:///{tmp_path}/district.db"
    polygons = build_district(url, communities=2, grids_per_community=5)

    assert len(polygons) == 10
    assert all(p.is_valid and 60 <= len(p.exterior.coords) - 1 <= 116 for p in polygons)
    for i, a in enumerate(polygons):
        for b in polygons[i + 1:]:
            assert a.intersection(b).area < 1e-14  # neighbours share edges, nothing more
    # They tile the block: the union's area is the sum of the parts.
    assert abs(shapely.union_all(polygons).area - sum(p.area for p in polygons)) < 1e-12

    m, shapes = gongzhi_map(url)
    assert len(shapes) == 10
    stored = [p.exterior.coords for p in polygons]
    assert vertex_count(s.geometry for s in shapes) < sum(len(ring) for ring in stored)
    assert all(shape(s.geometry).is_valid for s in shapes)
    # The whole map (script, styles, tooltips, labels) is smaller than the stored boundaries alone.
    unsimplified = sum(len(json.dumps(p.__geo_interface__).encode()) for p in polygons)
    assert 0 < payload_bytes(m) < unsimplified
