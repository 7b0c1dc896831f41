"""Small pieces every query module shares: period bounds and portable month buckets."""

from datetime import date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import Date, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


def datetime_range(start: date, end: date) -> tuple[datetime, datetime]:
    """Inclusive dates -> [start 00:00, day after end 00:00) for comparisons on datetime columns."""
    return datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)


class month_key(FunctionElement):  # noqa: N801 - used like the SQL function it stands for
    """'YYYY-MM' of a date or datetime column as one cheap expression: grouping by it is a single
    key per row (EXTRACT of year and month is two, and on SQLite four function calls)."""

    type = String()
    name = "month_key"
    inherit_cache = True


@compiles(month_key)
def _month_key_standard(element, compiler, **kw) -> str:  # PostgreSQL
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


@compiles(month_key, "sqlite")
def _month_key_sqlite(element, compiler, **kw) -> str:
    # SQLAlchemy stores dates as 'YYYY-MM-DD' and datetimes as 'YYYY-MM-DD HH:MM:SS…' text.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


class days_after(FunctionElement):  # noqa: N801 - used like the SQL function it stands for
    """The calendar day `days` (an integer expression) after the day of a date or datetime
    column, as a date both backends compare with a date parameter or another days_after/day_of."""

    type = Date()
    name = "days_after"
    inherit_cache = True


@compiles(days_after)
def _days_after_standard(element, compiler, **kw) -> str:  # PostgreSQL: date + integer
    column, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST({column} AS DATE) + ({days}))"


@compiles(days_after, "sqlite")
def _days_after_sqlite(element, compiler, **kw) -> str:
    column, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date({column}, '+' || ({days}) || ' days')"


def day_of(column) -> days_after:
    """The calendar day of a datetime column."""
    return days_after(column, 0)


def month_label(year: int | float, month: int | float) -> str:
    return f"{int(year):04d}-{int(month):02d}"


def twelve_months_start(on: date) -> date:
    """First day of the 12 months ending on `on` (inclusive): the day after the same date a year
    before (after 28 February when `on` is 29 February)."""
    try:
        year_before = on.replace(year=on.year - 1)
    except ValueError:  # 29 February
        year_before = on.replace(year=on.year - 1, day=28)
    return year_before + timedelta(days=1)


def months_between(start: date, end: date) -> list[str]:
    """Every month label from start's month to end's month, so charts show empty months as 0."""
    labels, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        labels.append(month_label(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


def fill_months(frame: pd.DataFrame, start: date, end: date, value_columns: list[str]) -> pd.DataFrame:
    """Reindex a frame with a 'month' column to every month of the period, missing months as 0."""
    full = pd.DataFrame({"month": months_between(start, end)})
    merged = full.merge(frame, on="month", how="left") if not frame.empty else full.assign(**{c: 0 for c in value_columns})
    merged[value_columns] = merged[value_columns].fillna(0)
    return merged


def share(numerator: int | float | None, denominator: int | float | None) -> float | None:
    if not denominator:
        return None
    return (numerator or 0) / denominator
