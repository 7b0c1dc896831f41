"""The boundaries page in AppTest: a file uploaded through the file_uploader (AppTest 1.67 can set
its value) is checked and listed problem by problem, a save commits it, and a save that the core
refuses (a repair without consent) leaves the database exactly as it was. The maps are component
iframes AppTest cannot draw; the drawing is tested in tests/browser/test_boundaries_browser.py."""

import json

import pytest
from shapely.geometry import shape
from sqlalchemy import select

from gongzhi.db import get_engine, read_session
from gongzhi.domain import AreaLevel
from gongzhi.i18n import translate
from gongzhi.models import Area

PAGE = "views/boundaries.py"
UPLOAD = "boundary_upload"


def _grids(url: str) -> list[Area]:
    with read_session(get_engine(url)) as session:
        return list(session.execute(select(Area).where(Area.level == AreaLevel.GRID).order_by(Area.code)).scalars())


def _boundaries(url: str) -> dict[str, str | None]:
    return {grid.code: grid.boundary for grid in _grids(url)}


def _bow_tie_inside(boundary: str) -> dict:
    """A self-crossing ring within a grid's bounding box."""
    min_lon, min_lat, max_lon, max_lat = shape(json.loads(boundary)).bounds
    return {"type": "Polygon", "coordinates": [[[min_lon, min_lat], [max_lon, max_lat], [max_lon, min_lat],
                                                [min_lon, max_lat], [min_lon, min_lat]]]}


def _file(*features) -> tuple[str, bytes, str]:
    data = json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False).encode()
    return "grids.geojson", data, "application/geo+json"


def _upload(app, file) -> None:
    app.file_uploader(key=UPLOAD).set_value(file)
    app.run()
    assert not app.exception, [e.value for e in app.exception]


def _report(app):
    tables = [t.value for t in app.dataframe if "message" in t.value.columns]
    assert len(tables) == 1
    return tables[0]


@pytest.fixture
def demo_file(demo_url):
    """The first grid with its own boundary moved 1 m east (by Chinese name), and a bow tie for the
    second grid (by code)."""
    first, second = _grids(demo_url)[:2]
    moved = shape(json.loads(first.boundary))
    from shapely import affinity

    moved = affinity.translate(moved, xoff=0.00001)
    return first, second, _file(
        {"type": "Feature", "properties": {"名称": first.name}, "geometry": moved.__geo_interface__},
        {"type": "Feature", "properties": {"网格编码": second.code}, "geometry": _bow_tie_inside(second.boundary)})


def test_upload_lists_every_problem_and_a_save_without_consent_changes_nothing(open_page, demo_url, demo_file):
    first, second, file = demo_file
    before = _boundaries(demo_url)
    app = open_page(demo_url, PAGE)
    assert app.title[0].value == "Grid boundaries"
    _upload(app, file)
    report = _report(app)
    rows = report[report["feature"] == f"#2 {second.code}"]
    assert list(rows["grid"]) == [f"{second.code} {second.name}"] * len(rows)
    assert "the shape is invalid (Self-intersection" in rows["message"].iloc[0]
    assert list(report[report["feature"] == f"#1 {first.name}"]["matched_by"])[0] == "by name"
    assert [c.label for c in app.checkbox] == [translate(
        "en", "boundaries.consent_feature", feature=f"#2 {second.code}", grid=f"{second.code} {second.name}",
        repairs=translate("en", "boundaries.repair_make_valid"))]

    app.button(key="boundary_save_import").click().run()
    errors = [e.value for e in app.error]
    assert any(f"Boundary of {second.code} {second.name} not saved" in e for e in errors), errors
    assert _boundaries(demo_url) == before  # all or nothing: not even the first grid


def test_upload_with_consent_saves_every_boundary(open_page, demo_url, demo_file):
    first, second, file = demo_file
    before = _boundaries(demo_url)
    app = open_page(demo_url, PAGE)
    _upload(app, file)
    app.checkbox[0].check().run()
    app.button(key="boundary_save_import").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    assert app.success[0].value == translate("en", "boundaries.saved", count=2)
    after = _boundaries(demo_url)
    assert shape(json.loads(after[first.code])).centroid.x == pytest.approx(
        shape(json.loads(before[first.code])).centroid.x + 0.00001)
    repaired = shape(json.loads(after[second.code]))
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon"
    assert {code: text for code, text in after.items() if code not in (first.code, second.code)} == \
        {code: text for code, text in before.items() if code not in (first.code, second.code)}


def test_a_file_with_an_error_cannot_be_saved(open_page, demo_url):
    grid = _grids(demo_url)[0]
    app = open_page(demo_url, PAGE, lang="zh-CN")
    _upload(app, _file({"type": "Feature", "properties": {"code": grid.code},
                        "geometry": {"type": "Point", "coordinates": [113.87, 22.57]}}))
    assert app.button(key="boundary_save_import").disabled
    assert translate("zh-CN", "boundaries.blocked", features="#1") in [e.value for e in app.error]


def test_a_file_that_is_not_json_says_so(open_page, demo_url):
    app = open_page(demo_url, PAGE)
    _upload(app, ("grids.geojson", b"{oops", "application/json"))
    assert app.error[0].value.startswith("The file is not valid JSON")


def test_a_grid_leader_saves_only_their_own_grid(open_page, demo_url):
    """The test leader leads the first grid: a file for two grids saves only that one."""
    first, second = _grids(demo_url)[:2]
    before = _boundaries(demo_url)
    moved = {"type": "Polygon", "coordinates": [[[x + 0.00001, y] for x, y in ring]
                                                for ring in json.loads(first.boundary)["coordinates"]]}
    app = open_page(demo_url, PAGE, role="leader")
    _upload(app, _file({"type": "Feature", "properties": {"code": first.code}, "geometry": moved},
                       {"type": "Feature", "properties": {"code": second.code},
                        "geometry": json.loads(second.boundary)}))
    assert translate("en", "boundaries.not_yours", features="#2") in [i.value for i in app.info]
    app.button(key="boundary_save_import").click().run()
    after = _boundaries(demo_url)
    assert json.loads(after[first.code]) != json.loads(before[first.code])
    assert {c: t for c, t in after.items() if c != first.code} == {c: t for c, t in before.items() if c != first.code}
