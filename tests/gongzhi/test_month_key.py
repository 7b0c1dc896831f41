"""month_key: one 'YYYY-MM' expression per database, equal to the month labels the charts use."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from gongzhi.models import Issue
from gongzhi.queries.common import month_key, months_between


def test_month_key_compiles_for_each_database():
    expression = select(month_key(Issue.reported_at))
    assert "substr(issue.reported_at, 1, 7)" in str(expression.compile(dialect=sqlite.dialect()))
    assert "to_char(issue.reported_at, 'YYYY-MM')" in str(expression.compile(dialect=postgresql.dialect()))


def test_month_key_of_dates_and_times_as_stored_is_the_month_label(session):
    # Bound with their column types, so the values are stored-format text as in a real column.
    moment, day = datetime(2026, 1, 31, 23, 59, 59), date(2025, 12, 1)
    row = session.execute(select(month_key(literal(moment, DateTime())), month_key(literal(day, Date())))).one()
    assert list(row) == [months_between(moment.date(), moment.date())[0], months_between(day, day)[0]]
    assert list(row) == ["2026-01", "2025-12"]


def test_twelve_months_end_on_the_day_and_start_the_day_after_a_year_before():
    from gongzhi.queries.common import twelve_months_start

    assert twelve_months_start(date(2026, 12, 6)) == date(2025, 12, 7)
    assert twelve_months_start(date(2027, 1, 1)) == date(2026, 1, 2)
    assert twelve_months_start(date(2028, 2, 29)) == date(2027, 3, 1)  # a leap day: no 29 February a year before
    assert twelve_months_start(date(2028, 3, 1)) == date(2027, 3, 2)
