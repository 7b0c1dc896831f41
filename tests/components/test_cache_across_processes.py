"""Cached figures stay correct across app processes: process A reads a figure through the cache
path every page uses (components.data: keyed on the database's data revision), this test
process B writes, and A's next read shows the new value; with no write in between, A answers
from its cache without querying again. On SQLite and on PostgreSQL (GONGZHI_TEST_DATABASE_URL)."""

import json
import os
import subprocess
import sys

from sqlalchemy import select

from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.domain import AreaLevel, IssueState
from gongzhi.models import Area, Issue
from tests.conftest import COMMITTEE, PROJECT_ROOT

# Process A: one line per read on stdout, {"reported": the figure, "queries": how often the
# query itself ran}. It reads the revision and calls the cached function exactly as
# components.data.query does on every rerun.
READER = """
import json, sys
from components import data
from gongzhi.clock import today
from gongzhi.db import current_revision, get_engine, read_session
from gongzhi.queries import issues

queries = 0

def open_by_state(*, session):
    global queries
    queries += 1
    return issues.open_by_state(session=session)

url = sys.argv[1]
for line in sys.stdin:
    with read_session(get_engine(url)) as session:
        revision = current_revision(session)
    frame = data._cached("__main__.open_by_state", url, revision, today(), ())
    reported = int(frame.set_index("state").loc["reported", "count"])
    print(json.dumps({"reported": reported, "queries": queries}), flush=True)
"""


def _reported(url: str) -> int:
    """The figure, counted independently of the query under test."""
    with read_session(get_engine(url)) as session:
        return len(session.execute(select(Issue.id).where(
            Issue.state == IssueState.REPORTED, Issue.deleted_at.is_(None))).all())


def test_a_write_in_one_process_is_seen_by_another_at_its_next_read(demo_url):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    reader = subprocess.Popen([sys.executable, "-c", READER, demo_url], cwd=PROJECT_ROOT, env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def read() -> dict:
        reader.stdin.write("read\n")
        reader.stdin.flush()
        line = reader.stdout.readline()
        assert line, "the reader process ended"
        return json.loads(line)

    try:
        before = _reported(demo_url)
        assert read() == {"reported": before, "queries": 1}
        assert read() == {"reported": before, "queries": 1}  # served from A's cache

        with write_session(get_engine(demo_url), actor=COMMITTEE) as session:
            grid = session.execute(select(Area.id).where(Area.level == AreaLevel.GRID).order_by(Area.code)).scalar()
            create_issue(session=session, actor=COMMITTEE, data=IssueCreate(
                title="楼道灯不亮", category="repairs", grid_id=grid))

        assert _reported(demo_url) == before + 1
        assert read() == {"reported": before + 1, "queries": 2}  # the write reached A at once
        assert read() == {"reported": before + 1, "queries": 2}
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
