"""Adding, editing and removing facilities: every validation rule (a location inside or right by
its grid, swapped numbers recognised), permissions (a grid leader in their own grids only),
optimistic locking, soft removal, and an audit entry for each write."""

import json
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.clock import frozen
from gongzhi.crud.facilities import NAME_MAX, FacilityInput, create_facility, remove_facility, update_facility
from gongzhi.errors import Conflict, NotFound, PermissionDenied, ValidationError
from gongzhi.models import Area, AuditEntry, Facility
from gongzhi.permissions import Actor, Role
from gongzhi.queries.facilities import facilities, facility_version

NOW = datetime(2026, 5, 10, 9, 0)
COMMITTEE = Actor(name="测试秘书", role=Role.COMMITTEE)
ID_NUMBER = "11010519491231002X"


def _square(lon: float, lat: float, size: float = 0.004) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size],
                                                           [lon, lat + size], [lon, lat]]]})


@pytest.fixture
def grids(write):
    """Two neighbouring grids in Shenzhen (~400 m squares), one grid without a boundary, one deleted."""
    with write() as session:
        a = Area(code="GA", name="网格A", level="grid", boundary=_square(113.900, 22.500))
        b = Area(code="GB", name="网格B", level="grid", boundary=_square(113.904, 22.500))
        bare = Area(code="GC", name="网格C", level="grid")
        gone = Area(code="GD", name="网格D", level="grid", boundary=_square(113.908, 22.500), deleted_at=NOW)
        community = Area(code="C1", name="社区", level="community")
        session.add_all([a, b, bare, gone, community])
        session.flush()
        return {"a": a.id, "b": b.id, "bare": bare.id, "gone": gone.id, "community": community.id}


def valid(grid_id: int, **changes) -> FacilityInput:
    return FacilityInput(**{"name": "桃源居社康中心", "kind": "clinic", "grid_id": grid_id, "lon": 113.902,
                            "lat": 22.502, **changes})


def make(write, data: FacilityInput, actor: Actor = COMMITTEE) -> int:
    with frozen(NOW), write() as session:
        return create_facility(session=session, actor=actor, data=data).id


def refused(write, action) -> list[tuple[str, str, dict]]:
    with pytest.raises(ValidationError) as caught, write() as session:
        action(session)
    return [(error.field, error.key, error.params) for error in caught.value.errors]


def test_a_facility_is_added_with_every_field_and_shown_on_the_map_query(write, session, grids):
    facility_id = make(write, valid(grids["a"], name="  桃源居社康中心  "))
    stored = session.get(Facility, facility_id)
    assert (stored.name, stored.kind, stored.grid_id, stored.lon, stored.lat) == (
        "桃源居社康中心", "clinic", grids["a"], 113.902, 22.502)
    listed = facilities(session=session)
    assert listed.to_dict("records") == [{"id": facility_id, "name": "桃源居社康中心", "kind": "clinic",
                                          "grid_id": grids["a"], "lon": 113.902, "lat": 22.502}]


def test_every_field_is_checked(write, grids):
    errors = refused(write, lambda s: create_facility(session=s, actor=COMMITTEE, data=FacilityInput()))
    assert {(field, key) for field, key, _ in errors} == {
        ("facilities.field_name", "errors.required"), ("facilities.field_kind", "errors.invalid_choice"),
        ("facilities.field_grid", "errors.invalid_choice"), ("facilities.field_lon", "errors.required"),
        ("facilities.field_lat", "errors.required")}
    for changes, expected in [
        ({"name": "长" * (NAME_MAX + 1)}, ("facilities.field_name", "errors.too_long", {"max": NAME_MAX})),
        ({"name": f"联系人{ID_NUMBER}"}, ("facilities.field_name", "errors.national_id", {})),
        ({"kind": "casino"}, ("facilities.field_kind", "errors.invalid_choice", {})),
        ({"grid_id": grids["gone"]}, ("facilities.field_grid", "errors.invalid_choice", {})),
        ({"grid_id": grids["community"]}, ("facilities.field_grid", "errors.invalid_choice", {})),
        ({"lon": 200.0}, ("facilities.field_lon", "facilities.error_out_of_range", {"min": -180, "max": 180})),
        ({"lat": -91.0}, ("facilities.field_lat", "facilities.error_out_of_range", {"min": -90, "max": 90})),
        ({"lon": float("nan")}, ("facilities.field_lon", "errors.required", {})),
    ]:
        data = FacilityInput(**{**valid(grids["a"]).model_dump(), **changes})
        assert refused(write, lambda s, data=data: create_facility(session=s, actor=COMMITTEE, data=data)) == [
            expected], changes


def test_a_location_far_from_the_grid_or_with_swapped_numbers_is_refused(write, grids):
    far = valid(grids["a"], lon=113.95, lat=22.55)  # ~7 km away
    assert refused(write, lambda s: create_facility(session=s, actor=COMMITTEE, data=far)) == [
        ("facilities.field_location", "facilities.error_outside_grid", {"grid": "网格A"})]
    swapped = valid(grids["a"], lon=22.502, lat=113.902)  # out of range for a latitude, too
    assert ("facilities.field_location", "facilities.error_swapped", {"grid": "网格A"}) not in refused(
        write, lambda s: create_facility(session=s, actor=COMMITTEE, data=swapped))
    # In the neighbouring grid: the wrong grid was chosen.
    other = valid(grids["a"], lon=113.9075, lat=22.502)
    assert refused(write, lambda s: create_facility(session=s, actor=COMMITTEE, data=other)) == [
        ("facilities.field_location", "facilities.error_outside_grid", {"grid": "网格A"})]
    # Across the street (~100 m outside the boundary) is fine; so is any place in a grid without a boundary.
    assert make(write, valid(grids["a"], lon=113.905, lat=22.502))
    assert make(write, valid(grids["bare"], lon=114.1, lat=22.6))


def test_swapped_numbers_are_named_as_such(write):
    """A grid near the diagonal lon = lat, where swapped numbers are still valid coordinates."""
    with write() as session:
        grid = Area(code="GX", name="网格X", level="grid", boundary=_square(30.000, 31.000, 0.004))
        session.add(grid)
        session.flush()
        grid_id = grid.id
    swapped = valid(grid_id, lon=31.002, lat=30.002)
    assert refused(write, lambda s: create_facility(session=s, actor=COMMITTEE, data=swapped)) == [
        ("facilities.field_location", "facilities.error_swapped", {"grid": "网格X"})]


def test_edit_replaces_every_field_and_checks_the_version(write, session, grids):
    facility_id = make(write, valid(grids["a"]))
    version = facility_version(session=session, facility_id=facility_id)
    with write() as s:
        update_facility(session=s, actor=COMMITTEE, facility_id=facility_id, expected_version=version,
                        data=valid(grids["b"], name="图书室", kind="library", lon=113.906, lat=22.503))
    session.rollback()  # a new read transaction sees the saves
    stored = session.get(Facility, facility_id)
    assert (stored.name, stored.kind, stored.grid_id, stored.lon, stored.lat) == (
        "图书室", "library", grids["b"], 113.906, 22.503)
    with pytest.raises(Conflict), write() as s:  # a copy from before that save
        update_facility(session=s, actor=COMMITTEE, facility_id=facility_id, expected_version=version,
                        data=valid(grids["b"], name="旧名字", lon=113.906, lat=22.503))
    assert session.get(Facility, facility_id).name == "图书室"


def test_removal_is_soft_hides_it_from_the_map_and_cannot_be_repeated(write, session, grids):
    facility_id = make(write, valid(grids["a"]))
    with write() as s:
        remove_facility(session=s, actor=COMMITTEE, facility_id=facility_id)
    session.rollback()  # a new read transaction sees the saves
    assert session.get(Facility, facility_id).deleted_at is not None  # the row stays
    assert facilities(session=session).empty
    assert facility_version(session=session, facility_id=facility_id) is None
    with pytest.raises(NotFound), write() as s:
        remove_facility(session=s, actor=COMMITTEE, facility_id=facility_id)
    with pytest.raises(NotFound), write() as s:
        update_facility(session=s, actor=COMMITTEE, facility_id=facility_id, data=valid(grids["a"]))


def test_a_grid_leader_manages_only_their_own_grids(write, session, grids):
    leader = Actor(name="网格长", role=Role.LEADER, grid_ids=frozenset({grids["a"]}))
    own = make(write, valid(grids["a"]), actor=leader)
    others = make(write, valid(grids["b"], lon=113.906))
    with pytest.raises(PermissionDenied), write() as s:
        create_facility(session=s, actor=leader, data=valid(grids["b"], lon=113.906))
    with pytest.raises(PermissionDenied), write() as s:  # moving their own one out of their grid
        update_facility(session=s, actor=leader, facility_id=own, data=valid(grids["b"], lon=113.906))
    with pytest.raises(PermissionDenied), write() as s:
        update_facility(session=s, actor=leader, facility_id=others, data=valid(grids["b"], name="改", lon=113.906))
    with pytest.raises(PermissionDenied), write() as s:
        remove_facility(session=s, actor=leader, facility_id=others)
    with write() as s:
        remove_facility(session=s, actor=leader, facility_id=own)
    for role in (Role.REPRESENTATIVE, Role.PUBLIC):
        with pytest.raises(PermissionDenied), write() as s:
            create_facility(session=s, actor=Actor(name="x", role=role), data=FacilityInput())
    session.rollback()  # a new read transaction sees the saves
    assert [f.name for f in session.execute(select(Facility).where(Facility.deleted_at.is_(None))).scalars()] == [
        "桃源居社康中心"]


def test_every_write_is_audited_with_who_and_what(engine, grids):
    from gongzhi.db import write_session

    with frozen(NOW), write_session(engine, actor=COMMITTEE) as s:
        facility_id = create_facility(session=s, actor=COMMITTEE, data=valid(grids["a"])).id
    with frozen(NOW), write_session(engine, actor=COMMITTEE) as s:
        update_facility(session=s, actor=COMMITTEE, facility_id=facility_id, data=valid(grids["a"], name="新名"))
    with frozen(NOW), write_session(engine, actor=COMMITTEE) as s:
        remove_facility(session=s, actor=COMMITTEE, facility_id=facility_id)
    with Session(engine) as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.table_name == "facility",
                                                     AuditEntry.record_id == str(facility_id))
                            .order_by(AuditEntry.id)).scalars().all()
    assert [(e.action, e.actor, e.actor_role, e.at) for e in entries] == [
        ("insert", "测试秘书", "committee", NOW), ("update", "测试秘书", "committee", NOW),
        ("soft_delete", "测试秘书", "committee", NOW)]
    assert json.loads(entries[1].before)["name"] == "桃源居社康中心" and json.loads(entries[1].after)["name"] == "新名"
