"""Every lifecycle rule has one home, which every caller uses: the due date from a category's
service level (domain.resolution_due / response_due), the fields each step sets
(lifecycle.created_fields / move_fields / progress_fields), the timeline writer (gongzhi.timeline),
and the 14-day sweep (gongzhi.sweeper, never a page). The scans below fail when a copy comes back."""

import re
from datetime import date, datetime, timedelta

import pytest

from gongzhi import lifecycle
from gongzhi.domain import ISSUE_CATEGORIES, IssueState, resolution_due, response_due
from tests.conftest import PROJECT_ROOT

S = IssueState
SOURCES = sorted(p for folder in ("gongzhi", "components", "views") for p in (PROJECT_ROOT / folder).rglob("*.py")
                 if "migrations" not in p.parts) + [PROJECT_ROOT / "app.py"]
LIFECYCLE_FIELDS = ("first_response_at|resolved_at|days_to_resolve|resolved_on_time|resolved_in_grid|went_to_meeting"
                    "|reopen_count|closed_at")


def _where(pattern: str, *, skip=()) -> set[str]:
    found = set()
    for path in SOURCES:
        name = path.relative_to(PROJECT_ROOT).as_posix()
        if not name.startswith(skip) and re.search(pattern, path.read_text(encoding="utf-8")):
            found.add(name)
    return found


def test_the_due_date_is_computed_in_the_domain_only():
    assert _where(r"ISSUE_CATEGORIES\s*(\[|\.get\b)") == {"gongzhi/domain.py"}
    assert _where(r"DEFAULT_DUE_DAYS") == set()


def test_the_fields_a_step_sets_are_written_by_the_lifecycle_only():
    # the queries only read them into their result objects
    writes = rf"\b({LIFECYCLE_FIELDS})\b\s*(=[^=]|\+=)|[\"']({LIFECYCLE_FIELDS})[\"']\s*:"
    assert _where(writes, skip=("gongzhi/queries/",)) == {"gongzhi/lifecycle.py"}


def test_one_timeline_writer():
    assert _where(r"(?<!class )TimelineEntry\(") == {"gongzhi/timeline.py"}


def test_no_page_runs_the_sweep():
    assert _where(r"close_expired_reviews|close_unrated\(") == {"gongzhi/lifecycle.py", "gongzhi/sweeper.py",
                                                                 "gongzhi/cli.py", "gongzhi/seed.py"}


@pytest.mark.parametrize("category", [*ISSUE_CATEGORIES, None, "no-such-category"])
def test_due_dates_follow_the_category_service_levels(category):
    response_days, resolution_days = ISSUE_CATEGORIES.get(category or "other", ISSUE_CATEGORIES["other"])
    reported = datetime(2026, 2, 27, 23, 30)
    assert resolution_due(category, reported) == date(2026, 2, 27) + timedelta(days=resolution_days)
    assert resolution_due(category, reported.date()) == resolution_due(category, reported)
    assert response_due(category, reported) == date(2026, 2, 27) + timedelta(days=response_days)


def _row(**changes) -> dict:
    return {**lifecycle.created_fields("noise", datetime(2026, 3, 1, 9)), "category": "noise", **changes}


def test_move_fields_of_a_row_and_of_a_model_agree():
    from gongzhi.models import Issue

    at = datetime(2026, 3, 20, 10)
    for source, target in [(S.REPORTED, S.GRID_REVIEW), (S.GRID_REVIEW, S.MEETING), (S.MEETING, S.IN_ACTION),
                           (S.IN_ACTION, S.RESIDENT_REVIEW), (S.RESIDENT_REVIEW, S.IN_ACTION),
                           (S.RESIDENT_REVIEW, S.CLOSED), (S.GRID_REVIEW, S.REJECTED)]:
        row = _row(state=source.value, lead_org_id=3)
        model = Issue(title="t", grid_id=1, lat=0, lon=0, **row)
        kwargs = {"reject_reason": "withdrawn"} if target == S.REJECTED else {}
        assert lifecycle.move_fields(row, target, at, **kwargs) == lifecycle.move_fields(model, target, at, **kwargs)


def test_move_fields_of_each_step():
    at = datetime(2026, 3, 20, 10)
    assert lifecycle.move_fields(_row(), S.GRID_REVIEW, at) == {"state": "grid_review", "first_response_at": at}
    assert lifecycle.move_fields(_row(state="grid_review", first_response_at=at), S.MEETING, at) == {
        "state": "meeting", "went_to_meeting": True}
    resolved = lifecycle.move_fields(_row(state="in_action"), S.RESIDENT_REVIEW, at)
    assert resolved == {"state": "resident_review", "resolved_at": at, "days_to_resolve": 19.04,
                        "resolved_on_time": False, "resolved_in_grid": True}  # noise: due 03-15
    reopened = lifecycle.move_fields(_row(state="resident_review", reopen_count=1), S.IN_ACTION, at)
    assert reopened["reopen_count"] == 2 and reopened["due_date"] == date(2026, 4, 3)
    assert lifecycle.progress_fields(_row(), at) == {"first_response_at": at}
    assert lifecycle.progress_fields(_row(first_response_at=at - timedelta(days=1)), at) == {}
