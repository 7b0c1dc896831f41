"""The issue's timeline (the one record of the five-step loop): every line an issue gets —
created, a move, a rating, a progress note, an assignment, a meeting's deferral — is written
here, by the app, the seeds and the importer alike."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from gongzhi.clock import now
from gongzhi.domain import ISSUE_STATE_ORDER, OPEN_STATES, IssueState
from gongzhi.models import TimelineEntry
from gongzhi.permissions import Actor


def timeline_row(*, issue_id: int, kind: str, actor: Actor, at: datetime, from_state: str | None = None,
                 to_state: str | None = None, note: str = "", meeting_id: int | None = None) -> dict:
    """One timeline line as the row's fields (for bulk inserts)."""
    return {"issue_id": issue_id, "kind": kind, "from_state": from_state, "to_state": to_state,
            "actor": actor.name, "actor_role": actor.role.value, "note": note, "meeting_id": meeting_id,
            "created_at": at}


def record(session: Session, *, issue_id: int, kind: str, actor: Actor, from_state: str | None = None,
           to_state: str | None = None, note: str = "", meeting_id: int | None = None,
           at: datetime | None = None) -> TimelineEntry:
    """Add one line to an issue's timeline in the caller's transaction, dated now unless `at`."""
    entry = TimelineEntry(**timeline_row(issue_id=issue_id, kind=kind, actor=actor, at=at or now(),
                                         from_state=from_state, to_state=to_state, note=note,
                                         meeting_id=meeting_id))
    session.add(entry)
    return entry


# --- reading it: the five-step loop in plain steps ---------------------------------------------

# 居民提事 → 网格议事 → 会议定事 → 联动办事 → 群众评事, then closed.
OPEN_STEPS = tuple(state.value for state in ISSUE_STATE_ORDER if state in OPEN_STATES)  # the five steps
LOOP_STEPS = (*OPEN_STEPS, IssueState.CLOSED.value)
ENDINGS = (IssueState.REJECTED.value, IssueState.CLOSED_UNRATED.value)  # a way out other than closed


@dataclass(frozen=True)
class LoopStep:
    state: str
    # "done", "current", "skipped" (gone past it: resolved in the grid without a meeting), "ahead",
    # "not_reached" (rejected before it), "reopened" (the current step, back at it after a later
    # one: residents rated the work unfixed)
    status: str
    reached_at: datetime | None  # when the issue first entered this step; the current step: when it last did


def _arrivals(entries) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """When the issue first and last entered each state; a note or a rating within a step repeats
    its state and is no arrival."""
    first: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    previous = None
    for to_state, at in entries:
        if to_state and to_state != previous:
            first.setdefault(to_state, at)
            last[to_state] = at
            previous = to_state
    return first, last


def _passed_step(index: int, state: str, current_state: str, reached: dict[str, datetime],
                 last_reached: int) -> LoopStep:
    """A step of an issue that has left the loop's open steps (or not yet reached this one)."""
    if state == current_state or state in reached:
        return LoopStep(state, "done", reached.get(state))
    if current_state == IssueState.REJECTED.value:
        return LoopStep(state, "not_reached", None)
    return LoopStep(state, "skipped" if index < last_reached else "ahead", None)


def loop_steps(entries, current_state: str) -> list[LoopStep]:
    """The issue's way through the loop, for people: each step with the day it was first reached,
    the current step, the steps it went past without (no meeting needed: 矛盾不上交), and those
    still ahead. `entries`: the timeline's (to_state, created_at), oldest first. A rejected or
    unrated-closed issue ends with that step instead of "closed". A reopened issue (back in action
    after residents rated the work unfixed) is current since it came back, and the steps after it
    are ahead again."""
    reached, last = _arrivals(entries)
    steps = list(LOOP_STEPS)
    if current_state in ENDINGS:
        steps[-1] = current_state
    open_at = steps.index(current_state) if current_state in OPEN_STEPS else None
    last_reached = max((i for i, state in enumerate(steps) if state in reached or state == current_state), default=-1)
    if open_at is None:
        return [_passed_step(i, state, current_state, reached, last_reached) for i, state in enumerate(steps)]
    reopened = any(state in reached for state in steps[open_at + 1:])
    return [*(_passed_step(i, state, current_state, reached, last_reached) for i, state in enumerate(steps[:open_at])),
            LoopStep(current_state, "reopened" if reopened else "current", last.get(current_state)),
            *(LoopStep(state, "ahead", None) for state in steps[open_at + 1:])]
