"""The facilities tab of the boundaries page in AppTest: a committee member adds, edits and
removes a facility (what is stored is what was typed; the map's facility query follows), a bad
location is explained and nothing saved, and a grid leader is offered only their own grids."""

import json

from shapely.geometry import shape
from sqlalchemy import select

from gongzhi.db import get_engine, read_session
from gongzhi.domain import AreaLevel
from gongzhi.i18n import translate
from gongzhi.models import Area, AuditEntry, Facility
from gongzhi.queries.facilities import facilities

PAGE = "views/boundaries.py"
NEW = "facility_new"


def _stored(url: str) -> list[Facility]:
    with read_session(get_engine(url)) as session:
        rows = session.execute(select(Facility).order_by(Facility.id)).scalars().all()
        for row in rows:
            session.expunge(row)
        return rows


def _grid(url: str, code_suffix: str) -> Area:
    with read_session(get_engine(url)) as session:
        grid = session.execute(select(Area).where(Area.level == AreaLevel.GRID, Area.code.endswith(code_suffix))
                               ).scalar_one()
        session.expunge(grid)
        return grid


def _no_errors(app) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def test_committee_adds_edits_and_removes_a_facility(demo_url, open_page):
    before = _stored(demo_url)
    grid = _grid(demo_url, "G03")
    inside = shape(json.loads(grid.boundary)).representative_point()
    app = open_page(demo_url, PAGE)
    _no_errors(app)
    assert translate("en", "facilities.tab") in [tab.label for tab in app.tabs]

    app.selectbox(key=f"{NEW}_grid").set_value(grid.id).run()
    app.selectbox(key=f"{NEW}_kind").set_value("child_care")
    app.text_input(key=f"{NEW}_name").input("  阳光<b>托育园</b>  ")
    app.number_input(key=f"{NEW}_lon").set_value(round(inside.x, 6))
    app.number_input(key=f"{NEW}_lat").set_value(round(inside.y, 6))
    app.button(key=f"{NEW}_submit").click().run()
    _no_errors(app)
    added = [f for f in _stored(demo_url) if f.id not in {b.id for b in before}]
    assert [(f.name, f.kind, f.grid_id, f.lon, f.lat) for f in added] == [
        ("阳光<b>托育园</b>", "child_care", grid.id, round(inside.x, 6), round(inside.y, 6))]
    assert app.success[0].value == translate("en", "facilities.created", name="阳光<b>托育园</b>")
    with read_session(get_engine(demo_url)) as session:
        assert added[0].id in set(facilities(session=session)["id"])  # the map's layer shows it
        audit = session.execute(select(AuditEntry).where(AuditEntry.table_name == "facility",
                                                         AuditEntry.record_id == str(added[0].id))).scalars().all()
        assert [(e.action, e.actor_role) for e in audit] == [("insert", "committee")]

    facility_id = added[0].id
    edit = f"facility_{facility_id}"
    app.selectbox(key="facility_choice").set_value(facility_id).run()
    assert app.text_input(key=f"{edit}_name").value == "阳光<b>托育园</b>"
    app.text_input(key=f"{edit}_name").input("阳光托育园")
    app.selectbox(key=f"{edit}_kind").set_value("school")
    app.button(key=f"{edit}_submit").click().run()
    _no_errors(app)
    stored = next(f for f in _stored(demo_url) if f.id == facility_id)
    assert (stored.name, stored.kind, stored.version) == ("阳光托育园", "school", added[0].version + 1)

    app.selectbox(key="facility_choice").set_value(facility_id).run()
    assert app.button(key=f"{edit}_remove").disabled  # not before it is confirmed
    app.checkbox(key=f"{edit}_confirm").check().run()
    app.button(key=f"{edit}_remove").click().run()
    _no_errors(app)
    assert next(f for f in _stored(demo_url) if f.id == facility_id).deleted_at is not None
    with read_session(get_engine(demo_url)) as session:
        assert facility_id not in set(facilities(session=session)["id"])
    assert [(f.id, f.deleted_at) for f in _stored(demo_url) if f.id != facility_id] == [
        (f.id, f.deleted_at) for f in before]


def test_a_location_outside_the_grid_is_explained_and_nothing_saved(demo_url, open_page):
    before = [(f.id, f.version) for f in _stored(demo_url)]
    grid = _grid(demo_url, "G03")
    app = open_page(demo_url, PAGE, lang="zh-CN")
    app.selectbox(key=f"{NEW}_grid").set_value(grid.id).run()
    app.text_input(key=f"{NEW}_name").input("社区图书室")
    app.number_input(key=f"{NEW}_lon").set_value(100.0)
    app.number_input(key=f"{NEW}_lat").set_value(30.0)
    app.button(key=f"{NEW}_submit").click().run()
    assert not app.exception
    message = translate("zh-CN", "errors.field_message", field=translate("zh-CN", "facilities.field_location"),
                        reason=translate("zh-CN", "facilities.error_outside_grid", grid=grid.name))
    assert any(message in error.value for error in app.error)
    assert [(f.id, f.version) for f in _stored(demo_url)] == before
    assert app.text_input(key=f"{NEW}_name").value == "社区图书室"  # the input is kept


def test_a_grid_leader_is_offered_only_their_own_grids(demo_url, open_page):
    app = open_page(demo_url, PAGE, role="leader")
    _no_errors(app)
    with read_session(get_engine(demo_url)) as session:  # the test leader leads the first grid by code
        first = session.execute(select(Area).where(Area.level == AreaLevel.GRID, Area.deleted_at.is_(None))
                                .order_by(Area.code)).scalars().first()
        own_facilities = [f for f in facilities(session=session).itertuples() if f.grid_id == first.id]
    assert app.selectbox(key=f"{NEW}_grid").options == [f"{first.name} ({first.code})"]
    # Only the facilities of their grid can be chosen for editing.
    assert len(app.selectbox(key="facility_choice").options) == 1 + len(own_facilities)
