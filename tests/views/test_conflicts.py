"""No lost updates, as two people meet them: both open the same issue, both save a change; the
second save is refused with a message naming who changed the issue first and when, the first
change stays, and the second person's typed note is still in the form."""

from sqlalchemy import select
from sqlmodel import Session

from gongzhi.accounts import create_user
from gongzhi.db import get_engine, write_session
from gongzhi.i18n import translate
from gongzhi.models import Issue, Organisation, TimelineEntry
from gongzhi.queries.audit import last_change
from tests.conftest import TEST_DISPLAY_NAMES, TEST_PASSWORD

PAGE = "views/issues.py"
SECOND_NAME = "第二秘书"
NOTE = "已约物业周五上门 <b>维修</b>"


def in_action_issue(url: str) -> Issue:
    with Session(get_engine(url)) as session:
        return session.execute(select(Issue).where(Issue.state == "in_action", Issue.deleted_at.is_(None))
                               .order_by(Issue.id)).scalars().first()


def other_organisation(url: str, issue: Issue) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(Organisation.id).where(Organisation.id != issue.lead_org_id,
                                                             Organisation.deleted_at.is_(None))
                               .order_by(Organisation.id)).scalars().first()


def open_as_second_secretary(open_page, url: str):
    """A second committee account with its own display name, signed in on its own AppTest."""
    with write_session(get_engine(url)) as session:
        user_id = create_user(session=session, username="second-committee", password=TEST_PASSWORD,
                              role="committee", display_name=SECOND_NAME).id
    app = open_page(url, None, role=None)
    app.session_state["user_id"] = user_id
    app.run()
    app.switch_page(PAGE)
    return app.run()


def test_the_second_save_is_refused_naming_who_changed_it_first_and_when(open_page, demo_url):
    issue = in_action_issue(demo_url)
    first = open_page(demo_url, PAGE)  # the committee test account, 测试秘书
    second = open_as_second_secretary(open_page, demo_url)
    for app in (first, second):
        app.selectbox(key="issue_selected").select(issue.id).run()
        assert not app.exception, [e.value for e in app.exception]

    new_lead = other_organisation(demo_url, issue)
    first.selectbox(key="issue_assign_lead").select(new_lead)
    first.form_submit_button(key="issue_assign_submit").click().run()
    assert not first.error, [e.value for e in first.error]

    second.text_area(key="issue_progress_note").input(NOTE)
    second.form_submit_button(key="issue_progress_submit").click().run()

    with Session(get_engine(demo_url)) as session:
        who, at = last_change(session=session, table_name="issue", record_id=issue.id)
        kept = session.get(Issue, issue.id)
        notes = session.execute(select(TimelineEntry.note).where(TimelineEntry.issue_id == issue.id)).scalars().all()
    assert who == TEST_DISPLAY_NAMES["committee"]
    assert [e.value for e in second.error] == [translate("en", "errors.conflict", what="issue", id=str(issue.id),
                                                         who=who, when=at.strftime("%Y-%m-%d %H:%M"))]
    assert kept.lead_org_id == new_lead  # the first change stays
    assert NOTE not in notes  # nothing of the refused save was written
    # What the second person typed is still in the form, to save again once they have looked.
    assert second.text_area(key="issue_progress_note").value == NOTE
    assert not second.success

    # Having seen the new version, the second person's save goes through.
    second.form_submit_button(key="issue_progress_submit").click().run()
    assert not second.error, [e.value for e in second.error]
    with Session(get_engine(demo_url)) as session:
        notes = session.execute(select(TimelineEntry.note).where(TimelineEntry.issue_id == issue.id,
                                                                 TimelineEntry.actor == SECOND_NAME)).scalars().all()
    assert notes == [NOTE]
