"""The one clock: GONGZHI_NOW sets it for the whole process (and for every process started with
that environment), `frozen` inside a test wins over it, and no other code reads the system clock."""

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from gongzhi import clock

ROOT = Path(__file__).resolve().parents[2]


def test_gongzhi_now_sets_the_clock_in_community_time(monkeypatch):
    monkeypatch.setenv(clock.NOW_ENV, "2028-02-29T23:59:30")
    assert clock.now() == datetime(2028, 2, 29, 23, 59, 30)
    assert clock.today().isoformat() == "2028-02-29"


def test_a_moment_with_an_offset_is_read_in_community_time(monkeypatch):
    # 23:30 UTC on New Year's Eve is already 07:30 on New Year's Day in Shanghai.
    monkeypatch.setenv(clock.NOW_ENV, "2026-12-31T23:30:00+00:00")
    assert clock.now() == datetime(2027, 1, 1, 7, 30)


def test_frozen_wins_over_the_setting_and_the_setting_over_the_real_clock(monkeypatch):
    monkeypatch.setenv(clock.NOW_ENV, "2026-11-30T23:59:00")
    with clock.frozen(datetime(2026, 3, 1, 0, 0)):
        assert clock.now() == datetime(2026, 3, 1, 0, 0)
    assert clock.now() == datetime(2026, 11, 30, 23, 59)
    monkeypatch.delenv(clock.NOW_ENV)
    real = datetime.now(clock.ZONE).replace(tzinfo=None)
    assert abs((clock.now() - real).total_seconds()) < 5


def test_a_setting_that_is_no_moment_is_refused_with_its_name(monkeypatch):
    monkeypatch.setenv(clock.NOW_ENV, "next tuesday")
    with pytest.raises(clock.ClockSettingError, match="GONGZHI_NOW"):
        clock.now()


def test_a_process_started_with_the_setting_obeys_it():
    """What the browser tests rely on: a server (or the CLI) started with GONGZHI_NOW in its
    environment runs at that moment."""
    env = {"GONGZHI_NOW": "2026-12-01T00:00:00", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", "from gongzhi import clock; print(clock.now().isoformat())"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert out == "2026-12-01T00:00:00"


# Reading the system's clock anywhere but gongzhi/clock.py would escape GONGZHI_NOW (and would
# read the server's zone, often UTC, instead of the community's).
SYSTEM_CLOCK = re.compile(
    r"datetime\.now\(|datetime\.utcnow\(|datetime\.today\(|date\.today\(|Timestamp\.(now|today)\("
    r"|time\.time\(\)|func\.now\(|CURRENT_(DATE|TIMESTAMP)|value=\"today\"|value='today'")


def test_no_code_but_the_clock_reads_the_system_clock():
    sources = [p for folder in ("gongzhi", "components", "views") for p in (ROOT / folder).rglob("*.py")]
    sources.append(ROOT / "app.py")
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in sources if p.name != "clock.py" or p.parent.name != "gongzhi"
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if SYSTEM_CLOCK.search(line)]
    assert not offenders
