"""The community's clock. Times are stored as naive local time in the community's zone so that
"today" and "this month" mean what the committee means; tests freeze `now` with `frozen`."""

from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")
_frozen: datetime | None = None


def now() -> datetime:
    if _frozen is not None:
        return _frozen
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
