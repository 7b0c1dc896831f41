"""The five-step loop as a state machine (Hypothesis): any sequence of moves, ratings, progress
notes, meeting decisions and sweeps, at various moments of the clock, by any role (admin,
committee, the leader of the issue's grid or of another grid, a representative, the public),
keeps the invariants:
- only allowed moves happen: the timeline's transitions chain from `reported` to the issue's
  state along lifecycle.ALLOWED, and closing or reopening an issue in resident review follows a
  rating (or, for closed_unrated, the end of the rating window);
- a closed issue has a rating; closed_unrated only after RATING_WINDOW_DAYS in resident review;
- reopen_count equals the reopenings on the timeline;
- every refusal is a GongzhiError with a message in both languages, never a raw exception, and
  changes nothing.
Runs on the test database of the session (SQLite or PostgreSQL)."""

import itertools
from datetime import date, datetime, timedelta

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi import lifecycle
from gongzhi.clock import frozen
from gongzhi.crud.issues import IssueCreate, add_progress_note, create_issue
from gongzhi.crud.meetings import (
    DecisionInput,
    MeetingCreate,
    add_agenda_item,
    decide,
    plan_meeting,
    record_meeting_attendance,
)
from gongzhi.db import write_session
from gongzhi.domain import ISSUE_CATEGORIES, RATING_WINDOW_DAYS, AreaLevel, Decision, IssueState
from gongzhi.errors import GongzhiError
from gongzhi.models import Area, Issue, Organisation, Rating, TimelineEntry
from gongzhi.permissions import Actor, Role

S = IssueState
START = datetime(2026, 3, 2, 9, 0)
COMMITTEE = Actor(name="王秘书", role=Role.COMMITTEE)
COMMUNITIES = itertools.count(1)
ROLES = ("admin", "committee", "own_leader", "other_leader", "representative", "public")
# Drawn with the roles that may act more often, so that sequences get far along the loop.
SOME_ROLE = st.sampled_from(["committee", "own_leader", "admin"] * 2 + list(ROLES))
RATER = st.sampled_from(["representative", "own_leader", "committee"] * 2 + list(ROLES))
TARGETS = [*IssueState, "teleported"]


class LifecycleMachine(RuleBasedStateMachine):
    """One community per example (two grids, an organisation), its issues in a bundle; every
    step runs in its own write transaction at the machine's clock."""

    engine = None  # set by the test
    issues = Bundle("issues")

    def __init__(self):
        super().__init__()
        self.at = START
        self.issue_ids: list[int] = []

    @initialize()
    def community(self):
        with frozen(self.at), write_session(self.engine) as session:
            number = next(COMMUNITIES)
            grids = [Area(code=f"C{number}-G{n}", name=f"第{n}网格", level=AreaLevel.GRID,
                          centroid_lat=22.5, centroid_lon=113.9) for n in (1, 2)]
            organisation = Organisation(name=f"物业公司{number}", kind="property_manager")
            session.add_all([*grids, organisation])
            session.flush()
            self.grid, self.other_grid, self.organisation = grids[0].id, grids[1].id, organisation.id

    def actor(self, role: str) -> Actor:
        return {
            "admin": Actor(name="管理员", role=Role.ADMIN),
            "committee": COMMITTEE,
            "own_leader": Actor(name="本网格长", role=Role.LEADER, grid_ids=frozenset({self.grid})),
            "other_leader": Actor(name="别的网格长", role=Role.LEADER, grid_ids=frozenset({self.other_grid})),
            "representative": Actor(name="居民代表", role=Role.REPRESENTATIVE),
            "public": Actor(name="访客", role=Role.PUBLIC),
        }[role]

    def attempt(self, step) -> bool:
        """Run `step(session)` in one write transaction at the machine's clock. A refusal must be a
        GongzhiError with a message, and leave every issue as it was."""
        before = self.snapshot()
        try:
            with frozen(self.at), write_session(self.engine) as session:
                step(session)
        except GongzhiError as refusal:
            for lang in ("en", "zh-CN"):
                message = refusal.message(lang)
                assert message and not message.startswith(("errors.", "meetings.", "issues.")), message
            assert self.snapshot() == before, "a refused step changed an issue"
            return False
        return True

    def snapshot(self) -> list[tuple]:
        with Session(self.engine) as session:
            return [(i.state, i.version, i.reopen_count, i.rating) for i in
                    session.execute(select(Issue).where(Issue.id.in_(self.issue_ids)).order_by(Issue.id)).scalars()]

    # -- steps ------------------------------------------------------------------------------

    @precondition(lambda self: len(self.issue_ids) < 3)
    @rule(target=issues, category=st.sampled_from(sorted(ISSUE_CATEGORIES)))
    def report(self, category):
        created = []
        self.attempt(lambda session: created.append(create_issue(
            session=session, actor=COMMITTEE, data=IssueCreate(title="楼道堆物", category=category,
                                                                grid_id=self.grid)).id))
        self.issue_ids += created
        return created[0]

    @rule(days=st.sampled_from([0.04, 1, 2, 7, 13, 14, 15, 30]))
    def time_passes(self, days):
        self.at += timedelta(days=days)

    @rule(issue_id=issues, role=SOME_ROLE, data=st.data())
    def move(self, issue_id, role, data):
        """Mostly a move to one of the loop's next states, usually with the fields it needs, by a
        role that may often make it; sometimes to anything at all."""
        state = self.state(issue_id)
        # The loop's next states (ALLOWED: by hand or not) more often than any state at all.
        to_state = data.draw(st.sampled_from(list(lifecycle.ALLOWED[state]) * 3 + TARGETS), label="to_state")
        lead = data.draw(st.sampled_from(["ours"] * 3 + [None, "missing"]), label="lead")
        due = data.draw(st.sampled_from([None, 10, 10, -1]), label="due")
        reason = data.draw(st.sampled_from(["withdrawn"] * 3 + [None, "duplicate", "nonsense"]), label="reason")
        lead_org_id = {"ours": self.organisation, None: None, "missing": 999_999}[lead]
        due_date = None if due is None else self.at.date() + timedelta(days=due)
        duplicate_of = next((i for i in self.issue_ids if i != issue_id), None)
        moved = self.attempt(lambda session: lifecycle.move(
            session=session, issue_id=issue_id, to_state=to_state, actor=self.actor(role), note="推进",
            lead_org_id=lead_org_id, due_date=due_date, reject_reason=reason, duplicate_of_id=duplicate_of))
        if moved:
            assert to_state in lifecycle.MANUAL_MOVES[state]
            assert self.state(issue_id) == to_state

    @rule(issue_id=issues, role=st.sampled_from(["committee", "own_leader", "admin"]), data=st.data())
    def forward(self, issue_id, role, data):
        """A step along the loop as a careful user takes it (so that sequences get far): a move
        the form offers with the fields it needs, or in resident review a rating."""
        state = self.state(issue_id)
        if state == S.RESIDENT_REVIEW:
            rating = data.draw(st.integers(1, 5), label="rating")
            fix_status = data.draw(st.sampled_from(["fixed", "partly_fixed", "not_fixed"]), label="fix_status")
            self.attempt(lambda session: lifecycle.rate(session=session, issue_id=issue_id, rating=rating,
                                                        fix_status=fix_status, actor=self.actor(role)))
            return
        if state == S.MEETING and data.draw(st.booleans(), label="to the meeting"):
            decision = data.draw(st.sampled_from([Decision.APPROVE, Decision.DEFER, Decision.REJECT, Decision.MERGE]))
            self.meeting_decides(issue_id, decision, "committee", 20)
            return
        if not lifecycle.MANUAL_MOVES[state]:
            return
        to_state = data.draw(st.sampled_from(lifecycle.MANUAL_MOVES[state]), label="to_state")
        moved = self.attempt(lambda session: lifecycle.move(
            session=session, issue_id=issue_id, to_state=to_state, actor=self.actor(role), note="按流程推进",
            lead_org_id=self.organisation, due_date=self.at.date() + timedelta(days=10), reject_reason="withdrawn"))
        assert moved, f"the move {state} -> {to_state} with every field it needs was refused"

    @rule(issue_id=issues, rating=st.sampled_from([1, 2, 3, 4, 5] * 2 + [0, 6, True, "5", 4.0]),
          fix_status=st.sampled_from(["fixed", "partly_fixed", "not_fixed"] * 2 + ["", "nonsense"]), role=RATER)
    def rate(self, issue_id, rating, fix_status, role):
        before = self.state(issue_id)
        rated = self.attempt(lambda session: lifecycle.rate(
            session=session, issue_id=issue_id, rating=rating, fix_status=fix_status, actor=self.actor(role),
            comment="居民反馈"))
        if rated:
            assert before == S.RESIDENT_REVIEW and type(rating) is int and 1 <= rating <= 5
            assert self.state(issue_id) in (S.CLOSED, S.IN_ACTION)

    @rule(issue_id=issues, role=SOME_ROLE)
    def progress(self, issue_id, role):
        self.attempt(lambda session: add_progress_note(session=session, actor=self.actor(role), issue_id=issue_id,
                                                       note="已联系物业"))

    @rule(role=SOME_ROLE, days=st.sampled_from([0, 15]))
    def sweep(self, role, days):
        """The sweep, run now or after the rating window has passed."""
        self.at += timedelta(days=days)
        self.attempt(lambda session: lifecycle.close_expired_reviews(session=session, actor=self.actor(role)))

    @rule(issue_id=issues, decision=st.sampled_from([*Decision, "postpone"]), role=SOME_ROLE,
          due=st.sampled_from([-1, 20]))
    def meeting_decides(self, issue_id, decision, role, due):
        """The committee plans a meeting with quorum and puts the issue on its agenda (if it may
        go there); then `role` records the decision."""
        item_ids = []

        def prepare(session):
            meeting = plan_meeting(session=session, actor=COMMITTEE, data=MeetingCreate(
                title="议事会", kind="deliberation", held_at=self.at, quorum=3))
            record_meeting_attendance(session=session, actor=COMMITTEE, meeting_id=meeting.id,
                                      attendees="甲\n乙\n丙\n丁", quorum_met=True)
            item_ids.append(add_agenda_item(session=session, actor=COMMITTEE, meeting_id=meeting.id,
                                            issue_id=issue_id).id)

        if not self.attempt(prepare):
            return
        merge_into = next((i for i in self.issue_ids if i != issue_id), None)
        before = self.state(issue_id)
        decided = self.attempt(lambda session: decide(
            session=session, actor=self.actor(role), agenda_item_id=item_ids[0], data=DecisionInput(
                decision=decision, note="会议讨论", lead_org_id=self.organisation,
                due_date=self.at.date() + timedelta(days=due), reject_reason="withdrawn", merge_into_id=merge_into,
                votes_for=3, votes_against=1)))
        if decided and decision in (Decision.REJECT, Decision.MERGE):
            assert self.state(issue_id) == S.REJECTED
        elif decided:
            assert self.state(issue_id) == (S.IN_ACTION if decision == Decision.APPROVE else before)

    def state(self, issue_id: int) -> IssueState:
        with Session(self.engine) as session:
            return IssueState(session.get(Issue, issue_id).state)

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def the_loop_holds(self):
        with Session(self.engine) as session:
            for issue in session.execute(select(Issue).where(Issue.id.in_(self.issue_ids))).scalars():
                entries = session.execute(select(TimelineEntry).where(TimelineEntry.issue_id == issue.id)
                                          .order_by(TimelineEntry.id)).scalars().all()
                ratings = session.execute(select(func.count()).where(Rating.issue_id == issue.id)).scalar_one()
                check_issue(issue, entries, ratings)


def check_issue(issue: Issue, entries: list[TimelineEntry], ratings: int) -> None:
    assert entries[0].kind == "created" and entries[0].to_state == S.REPORTED
    state, previous, reopenings = S.REPORTED, None, 0
    for entry in entries[1:]:
        if entry.kind == "transition":
            assert entry.from_state == state, "a transition from a state the issue was not in"
            assert IssueState(entry.to_state) in lifecycle.ALLOWED[state], f"{state} -> {entry.to_state}"
            if state == S.RESIDENT_REVIEW and entry.to_state in (S.CLOSED, S.IN_ACTION):
                assert previous is not None and previous.kind == "rating", "closed or reopened without a rating"
            if state == S.RESIDENT_REVIEW and entry.to_state == S.CLOSED_UNRATED:
                assert entry.created_at - issue.resolved_at > timedelta(days=RATING_WINDOW_DAYS)
            reopenings += state == S.RESIDENT_REVIEW and entry.to_state == S.IN_ACTION
            state = IssueState(entry.to_state)
        else:
            assert entry.from_state == entry.to_state == state, f"a {entry.kind} line changed the state"
        previous = entry
    assert issue.state == state
    assert issue.reopen_count == reopenings
    assert ratings == sum(e.kind == "rating" for e in entries)
    if issue.state == S.CLOSED:
        assert issue.rating is not None and type(issue.rating) is int and 1 <= issue.rating <= 5
    if issue.state == S.CLOSED_UNRATED:
        assert issue.closed_at - issue.resolved_at > timedelta(days=RATING_WINDOW_DAYS)
    if issue.first_response_at is not None:
        assert issue.first_response_at == min(e.created_at for e in entries[1:]
                                              if e.kind in ("transition", "progress"))
    else:
        assert state == S.REPORTED
    assert isinstance(issue.due_date, date)


def test_any_sequence_of_steps_keeps_the_loop_s_invariants(engine):
    LifecycleMachine.engine = engine
    run_state_machine_as_test(LifecycleMachine, settings=settings(
        max_examples=30, stateful_step_count=35, deadline=None, database=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
