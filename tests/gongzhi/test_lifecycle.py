"""The five-step loop: every allowed move works and leaves its line on the timeline, every other
move is refused naming the current state and the allowed ones, and the rules around moves
(lead organisation, reasons, ratings, the 14-day sweep, stale versions) hold."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi import lifecycle
from gongzhi.clock import frozen, now
from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.domain import AreaLevel, IssueState
from gongzhi.errors import Conflict, GongzhiError, IllegalTransition, PermissionDenied, ValidationError
from gongzhi.i18n import label
from gongzhi.models import Area, Issue, Organisation, Rating, TimelineEntry
from gongzhi.permissions import Actor, Role
from gongzhi.validation import NOTE_MAX

S = IssueState
SECRETARY = Actor(name="王秘书", role=Role.COMMITTEE)
START = datetime(2026, 3, 2, 9, 0)

MANUAL_PAIRS = [(source, target) for source, targets in lifecycle.MANUAL_MOVES.items() for target in targets]
REFUSED_PAIRS = [(source, target) for source in S for target in S if target not in lifecycle.ALLOWED[source]]
# Allowed in the loop, but never by hand: a rating closes or reopens, the sweep closes unrated.
NOT_BY_HAND = [(source, target) for source in S for target in lifecycle.ALLOWED[source]
               if target not in lifecycle.MANUAL_MOVES[source]]
# How each state is reached from `reported`, with the extra fields each step needs.
PATHS = {
    S.REPORTED: [],
    S.GRID_REVIEW: [S.GRID_REVIEW],
    S.MEETING: [S.GRID_REVIEW, S.MEETING],
    S.IN_ACTION: [S.GRID_REVIEW, S.IN_ACTION],
    S.RESIDENT_REVIEW: [S.GRID_REVIEW, S.IN_ACTION, S.RESIDENT_REVIEW],
    S.CLOSED: [S.GRID_REVIEW, S.IN_ACTION, S.RESIDENT_REVIEW, "rating"],
    S.CLOSED_UNRATED: [S.GRID_REVIEW, S.IN_ACTION, S.RESIDENT_REVIEW, "sweep"],
    S.REJECTED: [S.GRID_REVIEW, S.REJECTED],
}


@pytest.fixture
def place(write):
    """A grid and two organisations; returns their ids."""
    with write() as session:
        community = Area(code="C1", name="桃源居社区", level=AreaLevel.COMMUNITY)
        session.add(community)
        session.flush()
        grid = Area(code="C1-G1", name="第一网格", level=AreaLevel.GRID, parent_id=community.id,
                    centroid_lat=22.55, centroid_lon=113.9)
        lead, other = Organisation(name="物业公司", kind="property_manager"), Organisation(name="社工站", kind="social_work_agency")
        session.add_all([grid, lead, other])
        session.flush()
        return {"grid": grid.id, "lead": lead.id, "other": other.id}


def extras(target: S, place: dict) -> dict:
    if target == S.IN_ACTION:
        return {"lead_org_id": place["lead"]}
    if target == S.REJECTED:
        return {"reject_reason": "withdrawn"}
    return {}


def new_issue(write, place, state: S = S.REPORTED, *, title: str = "楼道电动车充电") -> int:
    with write() as session:
        issue = create_issue(session=session, actor=SECRETARY,
                             data=IssueCreate(title=title, category="ev_charging", grid_id=place["grid"]))
        for step in PATHS[state]:
            if step == "rating":
                lifecycle.rate(session=session, issue_id=issue.id, rating=5, fix_status="fixed", actor=SECRETARY)
            elif step == "sweep":
                with frozen(now() + timedelta(days=15)):
                    assert lifecycle.close_unrated(session=session, issue_id=issue.id, actor=SECRETARY)
            else:
                lifecycle.move(session=session, issue_id=issue.id, to_state=step, actor=SECRETARY, **extras(step, place))
        return issue.id


def snapshot(engine, issue_id: int) -> tuple:
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        entries = session.execute(select(func.count()).where(TimelineEntry.issue_id == issue_id)).scalar_one()
        return issue.state, issue.version, issue.lead_org_id, issue.reject_reason, entries


def last_entry(engine, issue_id: int) -> TimelineEntry:
    with Session(engine) as session:
        return session.execute(select(TimelineEntry).where(TimelineEntry.issue_id == issue_id)
                               .order_by(TimelineEntry.id.desc()).limit(1)).scalar_one()


@pytest.mark.parametrize(("source", "target"), MANUAL_PAIRS, ids=[f"{s}->{t}" for s, t in MANUAL_PAIRS])
def test_every_allowed_move_works_and_writes_its_timeline_entry(write, engine, place, source, target):
    issue_id = new_issue(write, place, source)
    before = snapshot(engine, issue_id)
    mover = Actor(name="李网格长", role=Role.LEADER, grid_ids=frozenset({place["grid"]}))
    with write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=target, actor=mover, note="按流程推进",
                       **extras(target, place))
    state, version, *_, entries = snapshot(engine, issue_id)
    assert state == target
    assert version == before[1] + 1
    assert entries == before[-1] + 1
    entry = last_entry(engine, issue_id)
    assert (entry.kind, entry.from_state, entry.to_state) == ("transition", source, target)
    assert (entry.actor, entry.actor_role, entry.note) == ("李网格长", "leader", "按流程推进")


@pytest.mark.parametrize(("source", "target"), REFUSED_PAIRS, ids=[f"{s}->{t}" for s, t in REFUSED_PAIRS])
def test_every_other_move_is_refused_naming_current_and_allowed_states(write, engine, place, source, target):
    issue_id = new_issue(write, place, source)
    before = snapshot(engine, issue_id)
    with pytest.raises(IllegalTransition) as refused, write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=target, actor=SECRETARY, **extras(target, place))
    message = str(refused.value)  # English; states named by their labels, as users know them
    assert f'"{label("en", "state", source)}"' in message and f'"{label("en", "state", target)}"' in message
    for allowed in lifecycle.MANUAL_MOVES[source]:
        assert label("en", "state", allowed) in message.split("Allowed next steps:")[1]
    if not lifecycle.MANUAL_MOVES[source]:
        assert message.endswith("Allowed next steps: None.")
    chinese = refused.value.message("zh-CN")
    assert f"“{label('zh-CN', 'state', source)}”" in chinese and f"“{label('zh-CN', 'state', target)}”" in chinese
    assert snapshot(engine, issue_id) == before


def test_the_move_form_offers_only_manual_moves():
    for state in S:
        assert set(lifecycle.allowed_moves(state)) <= set(lifecycle.ALLOWED[state])
    # closing and reopening happen through a rating, never by hand
    assert lifecycle.allowed_moves(S.RESIDENT_REVIEW) == ()


@pytest.mark.parametrize("days_waited", [0, 30])
@pytest.mark.parametrize(("source", "target"), NOT_BY_HAND, ids=[f"{s}->{t}" for s, t in NOT_BY_HAND])
def test_closing_or_reopening_by_hand_is_refused(write, engine, place, source, target, days_waited):
    """Only a rating closes or reopens an issue in resident review, and only the sweep closes it
    unrated once the window is over: `move` refuses them, on day 0 and after the window alike."""
    with frozen(START):
        issue_id = new_issue(write, place, source)
    before = snapshot(engine, issue_id)
    with frozen(START + timedelta(days=days_waited)), pytest.raises(IllegalTransition) as refused, write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=target, actor=SECRETARY, **extras(target, place))
    assert "through a rating" in str(refused.value) and "within 14 days" in str(refused.value)
    assert "评价" in refused.value.message("zh-CN")
    assert snapshot(engine, issue_id) == before
    with Session(engine) as session:
        assert session.get(Issue, issue_id).rating is None


def test_close_unrated_waits_for_the_rating_window(write, engine, place):
    with frozen(START):
        issue_id = new_issue(write, place, S.RESIDENT_REVIEW)
    before = snapshot(engine, issue_id)
    with frozen(START + timedelta(days=1)), write() as session:
        assert lifecycle.close_unrated(session=session, issue_id=issue_id, actor=SECRETARY) is False
    assert snapshot(engine, issue_id) == before
    with frozen(START + timedelta(days=15)), write() as session:
        assert lifecycle.close_unrated(session=session, issue_id=issue_id, actor=SECRETARY) is True
    assert snapshot(engine, issue_id)[0] == S.CLOSED_UNRATED


@pytest.mark.parametrize("state", ["teleported", "", "CLOSED"])
def test_an_unknown_state_is_refused_with_a_message(write, engine, place, state):
    issue_id = new_issue(write, place, S.REPORTED)
    before = snapshot(engine, issue_id)
    with pytest.raises(GongzhiError) as refused, write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=state, actor=SECRETARY)
    assert str(refused.value) == f'"{state}" is not a step of the issue loop.'
    assert refused.value.message("zh-CN") == f"“{state}”不是事项流程中的状态。"
    with pytest.raises(GongzhiError):
        lifecycle.allowed_moves(state)
    assert snapshot(engine, issue_id) == before


@pytest.mark.parametrize("rating", [True, False, 4.0, "5", None])
def test_a_rating_is_a_whole_number_never_a_bool(write, engine, place, rating):
    issue_id = new_issue(write, place, S.RESIDENT_REVIEW)
    before = snapshot(engine, issue_id)
    with pytest.raises(ValidationError) as refused, write() as session:
        lifecycle.rate(session=session, issue_id=issue_id, rating=rating, fix_status="fixed", actor=SECRETARY)
    assert [(e.field, e.key) for e in refused.value.errors] == [("issues.field_rating", "errors.between")]
    assert snapshot(engine, issue_id) == before
    with Session(engine) as session:
        assert session.execute(select(func.count()).where(Rating.issue_id == issue_id)).scalar_one() == 0


def test_a_missing_organisation_is_reported_as_not_existing(write, engine, place):
    issue_id = new_issue(write, place, S.GRID_REVIEW)
    before = snapshot(engine, issue_id)
    with pytest.raises(ValidationError) as refused, write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=S.IN_ACTION, actor=SECRETARY, lead_org_id=99999)
    assert refused.value.message("en") == "Lead organisation: does not name an existing organisation"
    assert "必填" not in refused.value.message("zh-CN")
    assert snapshot(engine, issue_id) == before


def test_in_action_needs_a_lead_organisation(write, engine, place):
    issue_id = new_issue(write, place, S.GRID_REVIEW)
    before = snapshot(engine, issue_id)
    with pytest.raises(ValidationError) as refused, write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=S.IN_ACTION, actor=SECRETARY)
    assert [e.field for e in refused.value.errors] == ["issues.field_lead_org"]
    assert "Lead organisation: is required" in refused.value.message("en")
    assert snapshot(engine, issue_id) == before


def test_in_action_sets_lead_and_due_date(write, engine, place):
    with frozen(START):
        issue_id = new_issue(write, place, S.GRID_REVIEW)
        with pytest.raises(ValidationError) as refused, write() as session:
            lifecycle.move(session=session, issue_id=issue_id, to_state=S.IN_ACTION, actor=SECRETARY,
                           lead_org_id=place["other"], due_date=START.date() - timedelta(days=1))
        assert [(e.field, e.key) for e in refused.value.errors] == [("issues.field_due_date", "errors.date_in_past")]
        with write() as session:
            lifecycle.move(session=session, issue_id=issue_id, to_state=S.IN_ACTION, actor=SECRETARY,
                           lead_org_id=place["other"], due_date=START.date() + timedelta(days=40))
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert (issue.lead_org_id, issue.due_date) == (place["other"], START.date() + timedelta(days=40))


@pytest.mark.parametrize("actor", [
    Actor(name="居民代表", role=Role.REPRESENTATIVE),
    Actor(name="别的网格长", role=Role.LEADER, grid_ids=frozenset({999})),
])
def test_only_people_who_may_edit_the_grid_move_issues(write, engine, place, actor):
    issue_id = new_issue(write, place, S.REPORTED)
    before = snapshot(engine, issue_id)
    with pytest.raises(PermissionDenied), write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=S.GRID_REVIEW, actor=actor)
    assert snapshot(engine, issue_id) == before


def test_rejection_needs_a_reason(write, engine, place):
    issue_id = new_issue(write, place, S.GRID_REVIEW)
    before = snapshot(engine, issue_id)
    with pytest.raises(ValidationError) as refused, write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=S.REJECTED, actor=SECRETARY)
    assert [e.field for e in refused.value.errors] == ["issues.field_reject_reason"]
    assert snapshot(engine, issue_id) == before


@pytest.mark.parametrize("duplicate_of", [None, 9999, "itself"])
def test_duplicate_needs_an_existing_other_issue(write, engine, place, duplicate_of):
    issue_id = new_issue(write, place, S.GRID_REVIEW)
    before = snapshot(engine, issue_id)
    with pytest.raises(ValidationError) as refused, write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=S.REJECTED, actor=SECRETARY,
                       reject_reason="duplicate", duplicate_of_id=issue_id if duplicate_of == "itself" else duplicate_of)
    assert [e.field for e in refused.value.errors] == ["issues.field_duplicate_of"]
    assert snapshot(engine, issue_id) == before


def test_duplicate_of_an_existing_issue_is_recorded(write, engine, place):
    original = new_issue(write, place, title="原事项")
    issue_id = new_issue(write, place, S.GRID_REVIEW)
    with write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=S.REJECTED, actor=SECRETARY,
                       reject_reason="duplicate", duplicate_of_id=original)
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert (issue.state, issue.reject_reason, issue.duplicate_of_id) == ("rejected", "duplicate", original)
        assert issue.closed_at is not None


@pytest.mark.parametrize(("rating", "fix_status", "reopens"), [
    (1, "fixed", True), (2, "partly_fixed", True), (5, "not_fixed", True),
    (3, "partly_fixed", False), (4, "fixed", False), (5, "fixed", False), (3, "fixed", False),
])
def test_a_rating_closes_or_reopens(write, engine, place, rating, fix_status, reopens):
    issue_id = new_issue(write, place, S.RESIDENT_REVIEW)
    with write() as session:
        lifecycle.rate(session=session, issue_id=issue_id, rating=rating, fix_status=fix_status,
                       actor=SECRETARY, comment="居民反馈")
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert issue.state == (S.IN_ACTION if reopens else S.CLOSED)
        assert issue.reopen_count == (1 if reopens else 0)
        assert (issue.rating, issue.fix_status) == (rating, fix_status)
        if reopens:  # a reopened issue is no longer resolved
            assert issue.resolved_at is None and issue.days_to_resolve is None
        else:
            assert issue.closed_at is not None
        saved = session.execute(select(Rating).where(Rating.issue_id == issue_id)).scalars().all()
        assert [(r.rating, r.fix_status, r.rated_by) for r in saved] == [(rating, fix_status, "王秘书")]
        kinds = session.execute(select(TimelineEntry.kind, TimelineEntry.to_state).where(TimelineEntry.issue_id == issue_id)
                                .order_by(TimelineEntry.id)).all()
        assert kinds[-2:] == [("rating", "resident_review"), ("transition", S.IN_ACTION if reopens else S.CLOSED)]


def test_rating_only_in_resident_review(write, engine, place):
    issue_id = new_issue(write, place, S.IN_ACTION)
    before = snapshot(engine, issue_id)
    with pytest.raises(IllegalTransition), write() as session:
        lifecycle.rate(session=session, issue_id=issue_id, rating=5, fix_status="fixed", actor=SECRETARY)
    assert snapshot(engine, issue_id) == before


def test_rating_needs_a_fix_status(write, engine, place):
    issue_id = new_issue(write, place, S.RESIDENT_REVIEW)
    with pytest.raises(ValidationError) as refused, write() as session:
        lifecycle.rate(session=session, issue_id=issue_id, rating=4, fix_status="", actor=SECRETARY)
    assert [e.field for e in refused.value.errors] == ["issues.field_fix_status"]


@pytest.mark.parametrize(("rating", "comment", "field"), [
    (0, "", "issues.field_rating"), (6, "", "issues.field_rating"), (4, "字" * 501, "issues.field_comment")])
def test_rating_values_are_checked(write, engine, place, rating, comment, field):
    issue_id = new_issue(write, place, S.RESIDENT_REVIEW)
    before = snapshot(engine, issue_id)
    with pytest.raises(ValidationError) as refused, write() as session:
        lifecycle.rate(session=session, issue_id=issue_id, rating=rating, fix_status="fixed", actor=SECRETARY,
                       comment=comment)
    assert [e.field for e in refused.value.errors] == [field]
    assert snapshot(engine, issue_id) == before


def test_representatives_rate_but_do_not_move(write, engine, place):
    representative = Actor(name="居民代表", role=Role.REPRESENTATIVE)
    issue_id = new_issue(write, place, S.RESIDENT_REVIEW)
    with write() as session:
        lifecycle.rate(session=session, issue_id=issue_id, rating=4, fix_status="fixed", actor=representative)
    assert snapshot(engine, issue_id)[0] == S.CLOSED
    assert (last_entry(engine, issue_id).actor, last_entry(engine, issue_id).actor_role) == ("居民代表", "representative")


def test_a_grid_fixed_issue_reopens_without_a_lead_organisation(write, engine, place):
    issue_id = new_issue(write, place, S.GRID_REVIEW)
    with write() as session:  # fixed inside the grid: straight to resident review, no lead organisation
        lifecycle.move(session=session, issue_id=issue_id, to_state=S.RESIDENT_REVIEW, actor=SECRETARY)
        lifecycle.rate(session=session, issue_id=issue_id, rating=1, fix_status="not_fixed", actor=SECRETARY)
    state, _, lead, *_ = snapshot(engine, issue_id)
    assert (state, lead) == (S.IN_ACTION, None)


def test_a_reopened_issue_can_be_resolved_again_and_counts_each_reopening(write, engine, place):
    issue_id = new_issue(write, place, S.RESIDENT_REVIEW)
    for _ in range(2):
        with write() as session:
            lifecycle.rate(session=session, issue_id=issue_id, rating=1, fix_status="not_fixed", actor=SECRETARY)
        with write() as session:
            lifecycle.move(session=session, issue_id=issue_id, to_state=S.RESIDENT_REVIEW, actor=SECRETARY)
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert (issue.state, issue.reopen_count) == (S.RESIDENT_REVIEW, 2)
        assert issue.resolved_at is not None


def test_close_expired_reviews_closes_after_fourteen_days_only(write, engine, place):
    with frozen(START):
        issue_id = new_issue(write, place, S.RESIDENT_REVIEW)
    for at, expected_closed in [
        (START + timedelta(days=13, hours=23), 0),
        (START + timedelta(days=14), 0),  # exactly 14 days: still within the window
        (START + timedelta(days=14, minutes=1), 1),
    ]:
        with frozen(at), write() as session:
            assert lifecycle.close_expired_reviews(session=session, actor=SECRETARY) == expected_closed
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert issue.state == S.CLOSED_UNRATED
        assert issue.closed_at == START + timedelta(days=14, minutes=1)
        assert issue.rating is None
    entry = last_entry(engine, issue_id)
    assert (entry.from_state, entry.to_state, entry.actor) == ("resident_review", "closed_unrated", "王秘书")


def test_close_expired_reviews_leaves_rated_and_other_issues_alone(write, engine, place):
    with frozen(START):
        rated = new_issue(write, place, S.RESIDENT_REVIEW)
        acting = new_issue(write, place, S.IN_ACTION)
        with write() as session:
            lifecycle.rate(session=session, issue_id=rated, rating=5, fix_status="fixed", actor=SECRETARY)
    with frozen(START + timedelta(days=30)), write() as session:
        assert lifecycle.close_expired_reviews(session=session, actor=SECRETARY) == 0
    assert snapshot(engine, rated)[0] == S.CLOSED
    assert snapshot(engine, acting)[0] == S.IN_ACTION


def test_a_stale_expected_version_is_a_conflict(write, engine, place):
    issue_id = new_issue(write, place, S.REPORTED)
    seen = snapshot(engine, issue_id)[1]
    with write() as session:  # someone else moves it first
        lifecycle.move(session=session, issue_id=issue_id, to_state=S.GRID_REVIEW, actor=SECRETARY,
                       expected_version=seen)
    before = snapshot(engine, issue_id)
    with pytest.raises(Conflict), write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=S.MEETING, actor=SECRETARY, expected_version=seen)
    with pytest.raises(Conflict), write() as session:
        lifecycle.rate(session=session, issue_id=issue_id, rating=5, fix_status="fixed", actor=SECRETARY,
                       expected_version=seen)
    assert snapshot(engine, issue_id) == before


@pytest.mark.parametrize(("note", "reason"), [("x" * (NOTE_MAX + 1), "errors.too_long"),
                                              ("居民身份证 44030619800101123X", "errors.national_id"),
                                              ("已转交\x00", "errors.invalid_character")])
def test_a_move_note_is_checked_like_any_other_text(write, engine, place, note, reason):
    issue_id = new_issue(write, place, S.REPORTED)
    before = snapshot(engine, issue_id)
    with pytest.raises(ValidationError) as refused, write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=S.GRID_REVIEW, actor=SECRETARY, note=note)
    assert [(e.field, e.key) for e in refused.value.errors] == [("issues.field_note", reason)]
    assert snapshot(engine, issue_id) == before


def test_a_deleted_organisation_cannot_lead(write, engine, place):
    issue_id = new_issue(write, place, S.GRID_REVIEW)
    with write() as session:
        session.get(Organisation, place["other"]).deleted_at = START
    with pytest.raises(ValidationError) as refused, write() as session:
        lifecycle.move(session=session, issue_id=issue_id, to_state=S.IN_ACTION, actor=SECRETARY,
                       lead_org_id=place["other"])
    assert [e.field for e in refused.value.errors] == ["issues.field_lead_org"]


def test_a_reopened_issue_gets_a_fresh_deadline_from_the_day_it_reopens(write, engine, place):
    with frozen(START):
        issue_id = new_issue(write, place, S.RESIDENT_REVIEW)
    reopened_at = START + timedelta(days=40)
    with frozen(reopened_at), write() as session:
        lifecycle.rate(session=session, issue_id=issue_id, rating=1, fix_status="not_fixed", actor=SECRETARY)
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert (issue.state, issue.due_date) == (S.IN_ACTION, reopened_at.date() + timedelta(days=7))  # ev_charging: 7 days
