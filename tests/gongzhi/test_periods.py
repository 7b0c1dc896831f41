"""The month so far is compared with the same days of last month, at fixed moments: the 1st, the
6th, the 31st of a month whose predecessor is shorter (February, in a leap year and not), and
January against December; too few days are not read as a rise or a fall."""

from datetime import date, datetime

import pytest

from gongzhi import periods
from gongzhi.clock import frozen, today


@pytest.mark.parametrize(("on", "expected"), [
    (date(2026, 12, 6), (date(2026, 11, 1), date(2026, 11, 6))),
    (date(2026, 12, 1), (date(2026, 11, 1), date(2026, 11, 1))),
    (date(2026, 3, 31), (date(2026, 2, 1), date(2026, 2, 28))),
    (date(2028, 3, 31), (date(2028, 2, 1), date(2028, 2, 29))),  # leap year
    (date(2028, 3, 29), (date(2028, 2, 1), date(2028, 2, 29))),
    (date(2026, 3, 28), (date(2026, 2, 1), date(2026, 2, 28))),
    (date(2026, 1, 15), (date(2025, 12, 1), date(2025, 12, 15))),
    (date(2026, 5, 31), (date(2026, 4, 1), date(2026, 4, 30))),
])
def test_same_days_last_month(on, expected):
    assert periods.same_days_last_month(on) == expected
    assert periods.month_to_date(on) == (date(on.year, on.month, 1), on)


@pytest.mark.parametrize(("day", "comparable"), [(1, False), (6, False), (7, True), (31, True)])
def test_a_month_barely_begun_is_not_compared_as_a_rise_or_fall(day, comparable):
    with frozen(datetime(2026, 3, day, 9)):
        assert periods.month_comparable(today()) is comparable
