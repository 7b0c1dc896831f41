"""Two app servers (`streamlit run` on two ports) against one PostgreSQL database, a browser on
each: an issue moved on the first is shown on the second at its next rerun, and a save the second
makes against the version it saw before is refused, naming who changed the issue."""

import pytest
from sqlalchemy import select

from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.domain import AreaLevel, IssueState
from gongzhi.i18n import label, translate
from gongzhi.models import Area, Issue, TimelineEntry, User
from gongzhi.queries.audit import last_change
from tests.browser.conftest import AppServer
from tests.browser.helpers import TIMEOUT_MS, open_from_menu, rerun_by, save_screenshot, sign_in
from tests.conftest import COMMITTEE, postgres_server_url

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(postgres_server_url() is None,
                       reason="several app servers share a PostgreSQL database: set GONGZHI_TEST_DATABASE_URL "
                              "(.ci/run does)"),
]
TITLE = "两台服务器：3栋电梯异响"


@pytest.fixture
def two_servers(demo_url, tmp_path):
    with write_session(get_engine(demo_url), actor=COMMITTEE) as session:
        grid = session.execute(select(Area.id).where(Area.level == AreaLevel.GRID).order_by(Area.code)).scalar()
        create_issue(session=session, actor=COMMITTEE, data=IssueCreate(title=TITLE, category="repairs", grid_id=grid))
    servers = []
    try:
        for name in ("first", "second"):
            servers.append(AppServer(demo_url, tmp_path / f"streamlit-{name}.log"))
        yield servers
    finally:
        for server in servers:
            server.stop()


def _open_issue(page, server, username: str) -> None:
    """Signed in, on the issues page, with the newest issue (the one made above) open."""
    sign_in(page, server.url, username)
    open_from_menu(page, translate("en", "nav.issues"))
    page.locator("h3").filter(has_text=TITLE).wait_for(timeout=TIMEOUT_MS)


def _shown_state(page) -> str:
    card = page.locator("[data-testid='stMetric']").filter(has_text=translate("en", "issues.col_state")).first
    return card.locator("[data-testid='stMetricValue']").inner_text().strip()


def _move_to_first_offered_state(page) -> None:
    with rerun_by(page):
        page.get_by_role("button", name=translate("en", "issues.move_submit")).click()


def _state(url: str) -> tuple[str, int, int]:
    with read_session(get_engine(url)) as session:
        issue = session.execute(select(Issue).where(Issue.title == TITLE)).scalar_one()
        moves = session.execute(select(TimelineEntry.id).where(
            TimelineEntry.issue_id == issue.id, TimelineEntry.kind == "transition")).all()
        return issue.state, issue.version, len(moves)


def test_two_servers_share_one_database_consistently(two_servers, browser):
    first, second = two_servers
    assert first.database_url == second.database_url and first.port != second.port
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US") for _ in two_servers]
    try:
        on_first, on_second = (context.new_page() for context in contexts)
        _open_issue(on_first, first, "committee")
        _open_issue(on_second, second, "admin")
        reported = label("en", "state", IssueState.REPORTED)
        assert _shown_state(on_first) == _shown_state(on_second) == reported
        state, version, moves = _state(first.database_url)
        assert (state, moves) == (IssueState.REPORTED, 0)

        # The first server moves the issue on (reported → grid review, the only move offered).
        _move_to_first_offered_state(on_first)
        grid_review = label("en", "state", IssueState.GRID_REVIEW)
        on_first.get_by_text(translate("en", "issues.moved_ok", state=grid_review)).wait_for(timeout=TIMEOUT_MS)
        assert _state(first.database_url) == (IssueState.GRID_REVIEW, version + 1, 1)

        # The second still shows the version it loaded; a save made against it is refused, names
        # who changed the issue, and that same rerun shows the issue as it now is.
        _move_to_first_offered_state(on_second)
        with read_session(get_engine(first.database_url)) as session:
            issue_id = session.execute(select(Issue.id).where(Issue.title == TITLE)).scalar_one()
            who, when = last_change(session=session, table_name="issue", record_id=issue_id)
            assert who == session.execute(select(User.display_name).where(User.username == "committee")).scalar_one()
        refusal = translate("en", "errors.conflict", who=who, what="issue", id=issue_id, when=when.strftime("%Y-%m-%d %H:%M"))
        on_second.locator("[data-testid='stAlert']").filter(has_text=refusal).first.wait_for(timeout=TIMEOUT_MS)
        assert _shown_state(on_second) == grid_review
        assert _state(first.database_url) == (IssueState.GRID_REVIEW, version + 1, 1)  # nothing of it was saved
        save_screenshot(on_second, "two_servers_conflict")

        # A later move on the first server reaches the second at its next rerun (here: going to
        # another page and back, in the same browser session).
        _move_to_first_offered_state(on_first)
        meeting = label("en", "state", IssueState.MEETING)
        on_first.get_by_text(translate("en", "issues.moved_ok", state=meeting)).wait_for(timeout=TIMEOUT_MS)
        open_from_menu(on_second, translate("en", "nav.overview"))
        open_from_menu(on_second, translate("en", "nav.issues"))
        on_second.locator("h3").filter(has_text=TITLE).wait_for(timeout=TIMEOUT_MS)
        assert _shown_state(on_second) == meeting
        assert _state(first.database_url) == (IssueState.MEETING, version + 2, 2)
    finally:
        for context in contexts:
            context.close()
