"""The import benchmark's own code at a small size and untimed, so that it cannot rot: its roster
imports completely (every phone form it writes is accepted) in both formats, and the baseline
inserts the same number of rows."""

import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.imports import gongzhi_import, new_database, plain_insert, roster_file, roster_rows  # noqa: E402
from gongzhi.db import get_engine  # noqa: E402
from gongzhi.models import Person, Volunteer  # noqa: E402


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_small_roster_imports_fully_and_the_baseline_matches(tmp_path, fmt):
    rows = roster_rows(30)
    ours, plain = new_database(tmp_path, "ours.db"), new_database(tmp_path, "plain.db")
    _seconds, inserted = gongzhi_import(ours, roster_file(rows, fmt), fmt)
    plain_insert(plain, rows)
    assert inserted == 30
    for url in (ours, plain):
        with Session(get_engine(url)) as session:
            assert session.execute(select(func.count()).select_from(Person)).scalar_one() == 30
            assert session.execute(select(func.count()).select_from(Volunteer)).scalar_one() == 30
    with Session(get_engine(ours)) as session:
        phones = set(session.execute(select(Person.phone)).scalars())
    assert phones == {f"+86139{i:08d}" for i in range(30)}  # full-width, spaced and +86 forms all normalised
