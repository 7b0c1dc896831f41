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
