"""An issue's way round the five-step loop, in plain steps (gongzhi.timeline.loop_steps)."""

from datetime import datetime

from gongzhi.timeline import loop_steps

D = [datetime(2026, 3, day, 9, 0) for day in range(1, 10)]


def statuses(steps) -> list[tuple[str, str, datetime | None]]:
    return [(s.state, s.status, s.reached_at) for s in steps]


def test_resolved_in_the_grid_skips_the_meeting():
    steps = loop_steps([("reported", D[0]), ("grid_review", D[1]), ("in_action", D[3])], "in_action")
    assert statuses(steps) == [("reported", "done", D[0]), ("grid_review", "done", D[1]), ("meeting", "skipped", None),
                               ("in_action", "current", D[3]), ("resident_review", "ahead", None),
                               ("closed", "ahead", None)]


def test_the_first_arrival_counts_and_a_closed_issue_is_done():
    entries = [("reported", D[0]), ("grid_review", D[1]), ("meeting", D[2]), ("in_action", D[3]),
               ("resident_review", D[4]), ("in_action", D[5]), ("resident_review", D[6]), ("closed", D[7])]
    steps = loop_steps(entries, "closed")
    assert [s.status for s in steps] == ["done"] * 6
    assert steps[3].reached_at == D[3] and steps[4].reached_at == D[4]  # reopened: the first time is kept


def test_a_rejected_issue_ends_with_its_rejection():
    steps = loop_steps([("reported", D[0]), ("grid_review", D[1]), ("rejected", D[2])], "rejected")
    assert statuses(steps)[-1] == ("rejected", "done", D[2])
    assert [s.status for s in steps[2:5]] == ["not_reached"] * 3


def test_a_new_issue_has_everything_ahead():
    steps = loop_steps([("reported", D[0])], "reported")
    assert [s.status for s in steps] == ["current"] + ["ahead"] * 5


def test_a_reopened_issue_is_current_since_it_came_back_and_its_review_is_ahead_again():
    """Rated unfixed, back in action: the review it had is not shown as done, and "since" is the
    day it came back, not the first time it was in action."""
    entries = [("reported", D[0]), ("grid_review", D[1]), ("meeting", D[2]), ("in_action", D[3]),
               ("in_action", D[4]), ("resident_review", D[5]), ("resident_review", D[6]), ("in_action", D[7]),
               ("in_action", D[8])]  # notes in a step are not arrivals
    assert statuses(loop_steps(entries, "in_action")) == [
        ("reported", "done", D[0]), ("grid_review", "done", D[1]), ("meeting", "done", D[2]),
        ("in_action", "reopened", D[7]), ("resident_review", "ahead", None), ("closed", "ahead", None)]


def test_a_closed_unrated_issue_ends_with_that_ending():
    entries = [("reported", D[0]), ("grid_review", D[1]), ("in_action", D[3]), ("resident_review", D[4]),
               ("closed_unrated", D[6])]
    assert statuses(loop_steps(entries, "closed_unrated")) == [
        ("reported", "done", D[0]), ("grid_review", "done", D[1]), ("meeting", "skipped", None),
        ("in_action", "done", D[3]), ("resident_review", "done", D[4]), ("closed_unrated", "done", D[6])]
