"""The community's clock, the one source of "now" for the app, the CLI, the seeds and every server
a test starts. Times are stored as naive local time in the community's zone so that "today" and
"this month" mean what the committee means.

The clock can be set from outside, for tests and demonstrations: `GONGZHI_NOW=2026-02-28T23:59:00`
(community time, Asia/Shanghai; a value with an offset such as `2026-12-31T23:30:00+00:00` is
converted) stops the clock at that moment for the whole process. It is an environment variable of
the server, never something a visitor can set. Inside one process, tests may also use `frozen`."""

import os
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")
NOW_ENV = "GONGZHI_NOW"
_frozen: datetime | None = None


class ClockSettingError(ValueError):
    """GONGZHI_NOW holds something that is not a moment."""


@lru_cache(maxsize=8)
def parse_moment(value: str) -> datetime:
    """A GONGZHI_NOW value as naive community time, to the second."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ClockSettingError(f"{NOW_ENV}={value!r} is not a moment such as 2026-02-28T23:59:00 "
                                "(community time, Asia/Shanghai)") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZONE).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def set_from_outside() -> datetime | None:
    """The moment GONGZHI_NOW sets, or None when the clock runs."""
    value = os.environ.get(NOW_ENV, "").strip()
    return parse_moment(value) if value else None


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    fixed = set_from_outside()
    if fixed is not None:
        return fixed
    return datetime.now(ZONE).replace(tzinfo=None, microsecond=0)


def today() -> date:
    return now().date()


@contextmanager
def frozen(at: datetime):
    global _frozen
    previous, _frozen = _frozen, at
    try:
        yield
    finally:
        _frozen = previous
