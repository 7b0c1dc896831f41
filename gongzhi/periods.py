"""Which days a figure "this month" is compared with. The month so far (the 1st to today, in the
community's time zone) is compared with the same days of the previous month — 1 to 6 December with
1 to 6 November — not with the whole previous month, which a month barely begun can never match;
when the previous month is shorter (31 March against February) it ends at that month's last day.
In the first days of a month there is too little to compare: such a change is shown, but not as
a rise or a fall (no red or green arrow)."""

import calendar
from datetime import date

# Before the 7th a month has had fewer than seven days — not even one of each weekday, and events
# and meetings happen on particular weekdays — so its change against last month says little.
MIN_DAYS_TO_COMPARE = 7


def month_to_date(on: date) -> tuple[date, date]:
    """The first day of `on`'s month and `on` itself (inclusive)."""
    return on.replace(day=1), on


def same_days_last_month(on: date) -> tuple[date, date]:
    """The days of the previous month matching the month so far: its 1st to its day `on.day`, or to
    its last day when it has fewer days."""
    year, month = (on.year - 1, 12) if on.month == 1 else (on.year, on.month - 1)
    last = calendar.monthrange(year, month)[1]
    return date(year, month, 1), date(year, month, min(on.day, last))


def month_comparable(on: date) -> bool:
    """Whether the month so far is long enough for its change against last month to be read as a
    rise or a fall."""
    return on.day >= MIN_DAYS_TO_COMPARE
