"""The audit page: an admin sees who changed what (before → after), the filters by person,
record and time narrow the entries as the database says, a deleted record is restored from the
page; the page is not in any other role's menu."""

from datetime import date, datetime

import pytest
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.clock import frozen, today
from gongzhi.crud.records import soft_delete
from gongzhi.db import get_engine, write_session
from gongzhi.models import Area, AuditEntry, Issue
from gongzhi.permissions import Actor, Role

PAGE = "views/audit.py"
CLERK = Actor(name="审计测试员", role=Role.COMMITTEE)
PAYLOAD = "<img src=x onerror=alert(1)>"
LONG_AGO = datetime(2024, 1, 15, 9, 30)


def entries_table(app):
    """The entries as shown (the page's only table), or None when the page shows none."""
    return app.dataframe[0].value if len(app.dataframe) else None


def choose_period(app, start: date, end: date) -> None:
    app.selectbox(key="_period_widget").select("period_custom").run()
    app.sidebar.date_input[0].set_value(start).run()
    app.sidebar.date_input[1].set_value(end).run()


def first_issue(url: str) -> Issue:
    with Session(get_engine(url)) as session:
        return session.execute(select(Issue).where(Issue.deleted_at.is_(None)).order_by(Issue.id)).scalars().first()


@pytest.fixture
def changed(demo_url):
    """One issue retitled by CLERK, long ago (so a time filter can single it out)."""
    issue = first_issue(demo_url)
    with frozen(LONG_AGO), write_session(get_engine(demo_url), actor=CLERK) as session:
        session.get(Issue, issue.id).title = PAYLOAD
    return demo_url, issue


def test_admin_sees_who_changed_what_before_and_after(open_page, changed):
    url, issue = changed
    app = open_page(url, PAGE, role="admin")
    assert not app.exception, [e.value for e in app.exception]
    choose_period(app, LONG_AGO.date(), today())
    app.selectbox(key="audit_actor").select(CLERK.name).run()
    table = entries_table(app)
    assert list(table["Who"]) == [CLERK.name]
    row = table.iloc[0]
    assert (row["Role"], row["Record type"], row["Id"], row["Action"]) == ("Committee", "issue", str(issue.id), "changed")
    assert row["Changes (before → after)"] == f"title: {issue.title} → {PAYLOAD}"
    # Recorded values are shown as text only: the payload reaches no Markdown or HTML element.
    assert not [m.value for m in app.markdown if "<img" in m.value]


def test_filters_by_record_and_time_match_the_database(open_page, changed):
    url, issue = changed
    app = open_page(url, PAGE, role="admin")
    choose_period(app, LONG_AGO.date(), today())
    app.selectbox(key="audit_table").select("issue").run()
    app.text_input(key="audit_record").input(str(issue.id)).run()
    with Session(get_engine(url)) as session:
        expected = session.execute(select(AuditEntry.id).where(
            AuditEntry.table_name == "issue", AuditEntry.record_id == str(issue.id))).scalars().all()
    table = entries_table(app)
    assert len(table) == len(expected) >= 2  # created by the seed, retitled by CLERK
    assert set(table["Id"]) == {str(issue.id)} and set(table["Record type"]) == {"issue"}

    # A custom period of the one day long ago leaves only CLERK's change.
    choose_period(app, LONG_AGO.date(), LONG_AGO.date())
    table = entries_table(app)
    assert list(zip(table["Who"], table["Id"], strict=True)) == [(CLERK.name, str(issue.id))]
    choose_period(app, date(2024, 1, 16), date(2024, 1, 20))
    assert entries_table(app) is None
    assert "No entries match these filters." in [i.value for i in app.info]


def test_an_admin_restores_a_deleted_record_from_the_page(open_page, demo_url):
    issue = first_issue(demo_url)
    with write_session(get_engine(demo_url), actor=CLERK) as session:
        soft_delete(session=session, actor=CLERK, kind="issue", record_id=issue.id)
    app = open_page(demo_url, PAGE, role="admin")
    assert issue.title in [t.value for t in app.text]
    assert CLERK.name in [t.value for t in app.text]  # who deleted it
    app.button(key=f"audit_restore_issue_{issue.id}").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert f"Restored: issue #{issue.id}" in [s.value for s in app.success]
    with Session(get_engine(demo_url)) as session:
        assert session.get(Issue, issue.id).deleted_at is None
        restored = session.execute(select(AuditEntry).where(
            AuditEntry.table_name == "issue", AuditEntry.record_id == str(issue.id))
            .order_by(AuditEntry.id.desc())).scalars().first()
    assert (restored.action, restored.actor_role) == ("restore", "admin")
    assert f"audit_restore_issue_{issue.id}" not in [b.key for b in app.button]  # no longer listed


@pytest.mark.parametrize("role", ["committee", "leader", "representative", "public"])
def test_the_page_is_not_in_the_menu_of_other_roles(open_page, demo_url, role):
    app = open_page(demo_url, None, role=role)
    with pytest.raises(ValueError, match="Known pages"):
        app.switch_page(PAGE)


def test_delete_from_the_issue_detail_needs_the_confirmation_and_hides_the_issue(open_page, demo_url):
    issue = first_issue(demo_url)
    app = open_page(demo_url, "views/issues.py")
    app.selectbox(key="issue_selected").select(issue.id).run()
    assert app.button(key=f"delete_issue_{issue.id}").disabled  # not before "I am sure"
    app.checkbox(key=f"delete_issue_{issue.id}_sure").check().run()
    app.button(key=f"delete_issue_{issue.id}").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert f"Deleted issue #{issue.id}. An admin can restore it on the audit page." in [s.value for s in app.success]
    with Session(get_engine(demo_url)) as session:
        assert session.get(Issue, issue.id).deleted_at is not None
    assert issue.id not in app.selectbox(key="issue_selected").options


@pytest.mark.parametrize("role", ["representative", "leader"])
def test_no_delete_action_for_who_may_not_delete(open_page, demo_url, role):
    """The representative reads only; the grid leader's grid is the first, this issue is in another."""
    with Session(get_engine(demo_url)) as session:
        first_grid = session.execute(select(Area.id).where(Area.level == "grid").order_by(Area.code)).scalar()
        issue_id = session.execute(select(Issue.id).where(Issue.grid_id != first_grid, Issue.deleted_at.is_(None))
                                   .order_by(Issue.id)).scalar()
    # By its link: the grid leader's list holds their own grid's issues only.
    app = open_page(demo_url, "views/issues.py", role=role, query_params={"issue": str(issue_id)})
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="issue_selected").value == issue_id
    assert f"delete_issue_{issue_id}" not in [b.key for b in app.button]
