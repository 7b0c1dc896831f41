"""Reporting an issue, progress notes and assignments: valid input is saved with its timeline
line in the same transaction; invalid input is refused field by field and nothing is written."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi import lifecycle
from gongzhi.clock import frozen, today
from gongzhi.crud.issues import IssueCreate, add_progress_note, assign, create_issue
from gongzhi.domain import ISSUE_CATEGORIES, AreaLevel
from gongzhi.errors import Conflict, IllegalTransition, PermissionDenied, ValidationError
from gongzhi.models import Area, Issue, IssueCooperator, Organisation, Person, TimelineEntry
from gongzhi.permissions import Actor, Role

SECRETARY = Actor(name="王秘书", role=Role.COMMITTEE)
AT = datetime(2026, 5, 10, 14, 30)


@pytest.fixture
def place(write):
    with write() as session:
        community = Area(code="C1", name="桃源居社区", level=AreaLevel.COMMUNITY)
        session.add(community)
        session.flush()
        grid = Area(code="C1-G1", name="第一网格", level=AreaLevel.GRID, parent_id=community.id,
                    centroid_lat=22.55, centroid_lon=113.91)
        other_grid = Area(code="C1-G2", name="第二网格", level=AreaLevel.GRID, parent_id=community.id)
        session.add_all([grid, other_grid])
        session.flush()
        building = Area(code="C1-G1-B1", name="1栋", level=AreaLevel.BUILDING, parent_id=grid.id)
        other_building = Area(code="C1-G2-B1", name="9栋", level=AreaLevel.BUILDING, parent_id=other_grid.id)
        gone = Organisation(name="已撤销的组织", kind="social_org", deleted_at=AT)
        orgs = [Organisation(name=n, kind="social_org") for n in ("物业公司", "社工站", "志愿者协会")]
        resident = Person(name="张阿姨", grid_id=grid.id)
        session.add_all([building, other_building, gone, *orgs, resident])
        session.flush()
        return {"community": community.id, "grid": grid.id, "other_grid": other_grid.id, "building": building.id,
                "other_building": other_building.id, "orgs": [o.id for o in orgs], "gone_org": gone.id,
                "resident": resident.id}


def counts(engine) -> tuple[int, int]:
    with Session(engine) as session:
        return (session.execute(select(func.count()).select_from(Issue)).scalar_one(),
                session.execute(select(func.count()).select_from(TimelineEntry)).scalar_one())


def report(write, place, **fields) -> int:
    values = {"title": "楼道堆放杂物", "category": "sanitation", "grid_id": place["grid"], **fields}
    with write() as session:
        return create_issue(session=session, actor=SECRETARY, data=IssueCreate(**values)).id


def test_create_issue_saves_the_issue_and_its_created_entry(write, engine, place):
    with frozen(AT):
        issue_id = report(write, place, title="  楼道堆放杂物  ", description="3单元一楼", building_id=place["building"],
                          reporter_id=place["resident"])
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert (issue.title, issue.description, issue.state) == ("楼道堆放杂物", "3单元一楼", "reported")
        assert (issue.grid_id, issue.building_id, issue.reporter_id) == (place["grid"], place["building"], place["resident"])
        assert issue.reported_at == AT
        assert issue.due_date == date(2026, 5, 17)  # sanitation: resolved within 7 days
        assert (issue.lat, issue.lon) == (22.55, 113.91)  # the grid's centre
        entries = session.execute(select(TimelineEntry).where(TimelineEntry.issue_id == issue_id)).scalars().all()
        assert [(e.kind, e.from_state, e.to_state, e.actor, e.actor_role, e.created_at) for e in entries] == [
            ("created", None, "reported", "王秘书", "committee", AT)]


@pytest.mark.parametrize("category", list(ISSUE_CATEGORIES))
def test_due_date_follows_the_category_sla(write, engine, place, category):
    with frozen(AT):
        issue_id = report(write, place, category=category)
    with Session(engine) as session:
        assert session.get(Issue, issue_id).due_date == AT.date() + timedelta(days=ISSUE_CATEGORIES[category][1])


def test_anonymous_report_with_its_own_location(write, engine, place):
    issue_id = report(write, place, lat=22.6, lon=113.95)
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert issue.reporter_id is None
        assert (issue.lat, issue.lon) == (22.6, 113.95)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"title": ""}, [("issues.field_title", "errors.required")]),
    ({"title": "   "}, [("issues.field_title", "errors.required")]),
    ({"title": "长" * 121}, [("issues.field_title", "errors.too_long")]),
    ({"description": "字" * 2001}, [("issues.field_description", "errors.too_long")]),
    ({"title": "身份证 110101199003074518 的居民"}, [("issues.field_title", "errors.national_id")]),
    ({"description": "联系人证件11010119900307451X"}, [("issues.field_description", "errors.national_id")]),
    ({"category": ""}, [("issues.field_category", "errors.required")]),
    ({"category": "weather"}, [("issues.field_category", "errors.invalid_choice")]),
    ({"grid_id": None}, [("issues.field_grid", "errors.required")]),
    ({"grid_id": 9999}, [("issues.field_grid", "errors.invalid_choice")]),
    ({"grid_id": "community"}, [("issues.field_grid", "errors.invalid_choice")]),
    ({"building_id": "other_building"}, [("issues.field_building", "issues.reason_building_not_in_grid")]),
    ({"building_id": 9999}, [("issues.field_building", "issues.reason_building_not_in_grid")]),
    ({"reporter_id": 9999}, [("issues.field_reporter", "errors.invalid_choice")]),
    ({"lat": 95.0, "lon": 200.0}, [("issues.field_lat", "errors.between"), ("issues.field_lon", "errors.between")]),
    ({"title": "", "category": "weather", "grid_id": None},
     [("issues.field_title", "errors.required"), ("issues.field_category", "errors.invalid_choice"),
      ("issues.field_grid", "errors.required")]),
])
def test_create_issue_refuses_invalid_input_field_by_field(write, engine, place, fields, expected):
    fields = {k: place[v] if isinstance(v, str) and v in place else v for k, v in fields.items()}
    before = counts(engine)
    with pytest.raises(ValidationError) as refused:
        report(write, place, **fields)
    assert [(e.field, e.key) for e in refused.value.errors] == expected
    assert counts(engine) == before


def test_the_refusal_names_the_field_in_both_languages(write, place):
    with pytest.raises(ValidationError) as refused:
        report(write, place, title="")
    assert refused.value.message("en") == "Title: is required"
    assert refused.value.message("zh-CN") == "事项标题：必填"


def test_a_grid_leader_reports_only_in_their_own_grid(write, engine, place):
    leader = Actor(name="李网格长", role=Role.LEADER, grid_ids=frozenset({place["other_grid"]}))
    before = counts(engine)
    with pytest.raises(PermissionDenied), write() as session:
        create_issue(session=session, actor=leader, data=IssueCreate(title="路灯坏了", category="repairs",
                                                                     grid_id=place["grid"]))
    assert counts(engine) == before
    with write() as session:
        create_issue(session=session, actor=leader, data=IssueCreate(title="路灯坏了", category="repairs",
                                                                     grid_id=place["other_grid"]))
    assert counts(engine) == (before[0] + 1, before[1] + 1)


def in_action(write, place) -> int:
    issue_id = report(write, place)
    with write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state="grid_review", actor=SECRETARY)
        lifecycle.move(session=session, issue_id=issue_id, to_state="in_action", actor=SECRETARY,
                       lead_org_id=place["orgs"][0])
    return issue_id


def timeline(engine, issue_id) -> list[tuple]:
    with Session(engine) as session:
        return [tuple(r) for r in session.execute(
            select(TimelineEntry.kind, TimelineEntry.from_state, TimelineEntry.to_state, TimelineEntry.actor,
                   TimelineEntry.note).where(TimelineEntry.issue_id == issue_id).order_by(TimelineEntry.id)).all()]


def test_progress_note_while_in_action(write, engine, place):
    issue_id = in_action(write, place)
    with write() as session:
        add_progress_note(session=session, actor=SECRETARY, issue_id=issue_id, note="  物业已清理一半  ")
    assert timeline(engine, issue_id)[-1] == ("progress", "in_action", "in_action", "王秘书", "物业已清理一半")


@pytest.mark.parametrize(("note", "reason"), [
    ("", "errors.required"), ("字" * 1001, "errors.too_long"), ("张三 110101199003074518", "errors.national_id")])
def test_progress_note_refuses_invalid_notes(write, engine, place, note, reason):
    issue_id = in_action(write, place)
    before = timeline(engine, issue_id)
    with pytest.raises(ValidationError) as refused, write() as session:
        add_progress_note(session=session, actor=SECRETARY, issue_id=issue_id, note=note)
    assert [(e.field, e.key) for e in refused.value.errors] == [("issues.field_note", reason)]
    assert timeline(engine, issue_id) == before


def test_progress_note_only_while_in_action(write, engine, place):
    issue_id = report(write, place)
    with pytest.raises(IllegalTransition) as refused, write() as session:
        add_progress_note(session=session, actor=SECRETARY, issue_id=issue_id, note="进展")
    assert "only possible while the issue is in action" in str(refused.value)
    assert [t[0] for t in timeline(engine, issue_id)] == ["created"]


def test_assign_changes_lead_due_date_and_cooperators(write, engine, place):
    issue_id = in_action(write, place)
    lead, second, third = place["orgs"]
    due = today() + timedelta(days=20)
    with write() as session:
        version = session.get(Issue, issue_id).version
        assign(session=session, actor=SECRETARY, issue_id=issue_id, lead_org_id=second, due_date=due,
               cooperator_ids=(lead, third), expected_version=version)
    with write() as session:  # a second assignment replaces the co-operators
        assign(session=session, actor=SECRETARY, issue_id=issue_id, lead_org_id=second, due_date=due,
               cooperator_ids=(third,), note="街道协调")
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert (issue.lead_org_id, issue.due_date, issue.version) == (second, due, version + 2)
        assert session.execute(select(IssueCooperator.organisation_id).where(IssueCooperator.issue_id == issue_id)
                               ).scalars().all() == [third]
    kind, from_state, to_state, actor, note = timeline(engine, issue_id)[-1]
    assert (kind, from_state, to_state, actor) == ("assignment", "in_action", "in_action", "王秘书")
    assert note == f"社工站 · {due.isoformat()} · + 志愿者协会 · 街道协调"


def test_assign_keeps_a_past_due_date_but_refuses_a_new_past_one(write, engine, place):
    with frozen(AT):
        issue_id = in_action(write, place)
    with Session(engine) as session:
        current_due = session.get(Issue, issue_id).due_date
    with frozen(AT + timedelta(days=30)):
        with pytest.raises(ValidationError) as refused, write() as session:
            assign(session=session, actor=SECRETARY, issue_id=issue_id, lead_org_id=place["orgs"][1],
                   due_date=current_due + timedelta(days=1))
        assert [(e.field, e.key) for e in refused.value.errors] == [("issues.field_due_date", "errors.date_in_past")]
        with write() as session:
            assign(session=session, actor=SECRETARY, issue_id=issue_id, lead_org_id=place["orgs"][1],
                   due_date=current_due)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"lead_org_id": None}, [("issues.field_lead_org", "errors.required")]),
    ({"lead_org_id": "gone_org"}, [("issues.field_lead_org", "errors.invalid_choice")]),
    ({"due_date": None}, [("issues.field_due_date", "errors.required")]),
    ({"cooperator_ids": (9999,)}, [("issues.field_cooperators", "errors.invalid_choice")]),
    ({"cooperator_ids": ("lead",)}, [("issues.field_cooperators", "issues.reason_lead_is_cooperator")]),
])
def test_assign_refuses_invalid_input(write, engine, place, fields, expected):
    issue_id = in_action(write, place)
    values = {"lead_org_id": place["orgs"][0], "due_date": today() + timedelta(days=5), "cooperator_ids": ()}
    values.update(fields)
    if values["lead_org_id"] == "gone_org":
        values["lead_org_id"] = place["gone_org"]
    values["cooperator_ids"] = tuple(place["orgs"][0] if c == "lead" else c for c in values["cooperator_ids"])
    before = timeline(engine, issue_id)
    with pytest.raises(ValidationError) as refused, write() as session:
        assign(session=session, actor=SECRETARY, issue_id=issue_id, **values)
    assert [(e.field, e.key) for e in refused.value.errors] == expected
    assert timeline(engine, issue_id) == before


def test_assign_only_while_in_action_and_with_the_current_version(write, engine, place):
    reported = report(write, place)
    with pytest.raises(IllegalTransition), write() as session:
        assign(session=session, actor=SECRETARY, issue_id=reported, lead_org_id=place["orgs"][0],
               due_date=today() + timedelta(days=5))
    issue_id = in_action(write, place)
    with Session(engine) as session:
        seen = session.get(Issue, issue_id).version
    with write() as session:
        add_progress_note(session=session, actor=SECRETARY, issue_id=issue_id, note="先记一笔", expected_version=seen)
        assign(session=session, actor=SECRETARY, issue_id=issue_id, lead_org_id=place["orgs"][1],
               due_date=today() + timedelta(days=5), expected_version=seen)
    before = timeline(engine, issue_id)
    with pytest.raises(Conflict), write() as session:  # `seen` is now stale: the assignment moved the version
        assign(session=session, actor=SECRETARY, issue_id=issue_id, lead_org_id=place["orgs"][2],
               due_date=today() + timedelta(days=5), expected_version=seen)
    with pytest.raises(Conflict), write() as session:
        add_progress_note(session=session, actor=SECRETARY, issue_id=issue_id, note="过时", expected_version=seen)
    assert timeline(engine, issue_id) == before
