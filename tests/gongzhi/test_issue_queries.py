"""Issue figures against a small community built by hand, with every expected number worked out
by hand from the table below (today is 2026-06-15; the period is 2026-05-01 .. 2026-06-15).

 id grid state            category      reported          due    resolved          days  on-time in-grid
  1 G1  reported         noise         06-10             06-24
  2 G1  grid_review      parking       04-01             04-22  (overdue 54 days)
  3 G1  in_action        repairs       05-20             06-03  (overdue 12 days)
  4 G2  meeting          noise         05-02             06-20
  5 G1  closed           noise         05-01 08:00       05-08  05-04 08:00       3.0  yes     yes
  6 G1  closed           repairs       04-20             05-04  05-10            20.0  no      no
  7 G2  resident_review  sanitation    06-01             06-08  06-05             4.0  yes     yes
  8 G2  closed_unrated   parking       03-01             03-22  03-20            19.0  yes     yes
  9 G1  rejected         other         05-15             06-14
 10 G2  closed           elderly_care  05-25             06-20  06-14 23:59      20.65 yes     yes
 11 G1  in_action        noise         05-05             05-06  (soft-deleted: counted nowhere)
 12 G1  closed           noise         04-10             04-24  04-30 23:00      20.0  no      yes
 13 G2  in_action        noise         06-12             06-26
Ratings: #5 5★ on 05-10; #6 1★ on 05-08 and 3★ on 05-12; #10 4★ on 06-15 10:00;
#11 5★ on 06-01 (deleted issue); #12 4★ on 04-30 (before the period).
Grid G3 has no issues."""

from datetime import date, datetime

import pytest

from gongzhi.clock import frozen
from gongzhi.domain import AreaLevel
from gongzhi.models import Area, Issue, IssueCooperator, Organisation, Person, Rating, TimelineEntry
from gongzhi.queries.issues import (
    IssueHeadline,
    issue_detail,
    issue_headline,
    issue_timeline,
    issues_by_category,
    issues_by_grid,
    list_issues,
    monthly_issue_trend,
    open_by_state,
    overdue_issues,
    reporter_choices,
)
from gongzhi.queries.organisations import list_organisations

TODAY = datetime(2026, 6, 15, 12, 0)
START, END = date(2026, 5, 1), date(2026, 6, 15)

ISSUES = [
    # id, grid, state, category, reported_at, due, resolved_at, days, on_time, in_grid
    (1, "G1", "reported", "noise", "2026-06-10 09:00", "2026-06-24", None, None, None, None),
    (2, "G1", "grid_review", "parking", "2026-04-01 09:00", "2026-04-22", None, None, None, None),
    (3, "G1", "in_action", "repairs", "2026-05-20 09:00", "2026-06-03", None, None, None, None),
    (4, "G2", "meeting", "noise", "2026-05-02 09:00", "2026-06-20", None, None, None, None),
    (5, "G1", "closed", "noise", "2026-05-01 08:00", "2026-05-08", "2026-05-04 08:00", 3.0, True, True),
    (6, "G1", "closed", "repairs", "2026-04-20 09:00", "2026-05-04", "2026-05-10 09:00", 20.0, False, False),
    (7, "G2", "resident_review", "sanitation", "2026-06-01 09:00", "2026-06-08", "2026-06-05 09:00", 4.0, True, True),
    (8, "G2", "closed_unrated", "parking", "2026-03-01 09:00", "2026-03-22", "2026-03-20 09:00", 19.0, True, True),
    (9, "G1", "rejected", "other", "2026-05-15 09:00", "2026-06-14", None, None, None, None),
    (10, "G2", "closed", "elderly_care", "2026-05-25 09:00", "2026-06-20", "2026-06-14 23:59", 20.65, True, True),
    (11, "G1", "in_action", "noise", "2026-05-05 09:00", "2026-05-06", None, None, None, None),
    (12, "G1", "closed", "noise", "2026-04-10 09:00", "2026-04-24", "2026-04-30 23:00", 20.0, False, True),
    (13, "G2", "in_action", "noise", "2026-06-12 09:00", "2026-06-26", None, None, None, None),
]
RATINGS = [(5, 5, "2026-05-10 10:00"), (6, 1, "2026-05-08 10:00"), (6, 3, "2026-05-12 10:00"),
           (10, 4, "2026-06-15 10:00"), (11, 5, "2026-06-01 10:00"), (12, 4, "2026-04-30 10:00")]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def grids(write) -> dict[str, int]:
    with write() as session:
        community = Area(code="C1", name="社区", level=AreaLevel.COMMUNITY)
        session.add(community)
        session.flush()
        grids = {code: Area(code=f"C1-{code}", name=f"网格{code}", level=AreaLevel.GRID, parent_id=community.id)
                 for code in ("G1", "G2", "G3")}
        session.add_all(grids.values())
        session.flush()
        building = Area(code="C1-G1-B1", name="1栋", level=AreaLevel.BUILDING, parent_id=grids["G1"].id)
        lead, helper = Organisation(id=1, name="物业公司", kind="property_manager"), Organisation(id=2, name="社工站", kind="social_work_agency")
        gone = Organisation(id=3, name="已撤销", kind="social_org", deleted_at=TODAY)
        reporter = Person(id=1, name="张阿姨", grid_id=grids["G1"].id)
        session.add_all([building, lead, helper, gone, reporter])
        session.flush()
        for (issue_id, grid, state, category, reported, due, resolved, days, on_time, in_grid) in ISSUES:
            session.add(Issue(
                id=issue_id, title=f"事项{issue_id}", category=category, grid_id=grids[grid].id, state=state,
                reported_at=_at(reported), due_date=date.fromisoformat(due),
                resolved_at=_at(resolved) if resolved else None, days_to_resolve=days, resolved_on_time=on_time,
                resolved_in_grid=in_grid, went_to_meeting=in_grid is False or state == "meeting",
                lead_org_id=1 if state in ("in_action", "resident_review", "closed") else None,
                reporter_id=1 if issue_id == 1 else None, building_id=building.id if issue_id == 3 else None,
                deleted_at=TODAY if issue_id == 11 else None,
                rating={5: 5, 6: 3, 10: 4, 12: 4}.get(issue_id), fix_status="fixed" if issue_id in (5, 10, 12) else None,
            ))
        session.flush()
        for issue_id, stars, at in RATINGS:
            session.add(Rating(issue_id=issue_id, rating=stars, fix_status="fixed" if stars > 2 else "not_fixed",
                               comment="", rated_by="张阿姨", created_at=_at(at)))
        session.add(IssueCooperator(issue_id=3, organisation_id=2))
        for entry_id, (kind, from_state, to_state, at) in enumerate([
            ("created", None, "reported", "2026-05-20 09:00"),
            ("transition", "reported", "grid_review", "2026-05-21 09:00"),
            ("transition", "grid_review", "in_action", "2026-05-22 09:00"),
            ("progress", "in_action", "in_action", "2026-05-22 09:00"),  # same time: id keeps the order
        ], start=1):
            session.add(TimelineEntry(id=entry_id, issue_id=3, kind=kind, from_state=from_state, to_state=to_state,
                                      actor="王秘书", actor_role="committee", note=f"第{entry_id}步", created_at=_at(at)))
        return {code: grid.id for code, grid in grids.items()}


@pytest.fixture
def at_today():
    with frozen(TODAY):
        yield


def test_headline_for_all_grids(session, grids, at_today):
    assert issue_headline(session=session, start=START, end=END) == IssueHeadline(
        open_issues=6,  # 1, 2, 3, 4, 7, 13
        overdue=2,  # 2 and 3; #7 is past due but already resolved, #11 deleted
        reported=8,  # 1, 3, 4, 5, 7, 9, 10, 13
        resolved=4,  # 5, 6, 7, 10 (10 at 23:59 on the last day)
        median_days_to_resolve=12.0,  # 3, 4 | 20, 20.65 -> (4 + 20) / 2
        share_resolved_in_grid=0.75,  # 5, 7, 10 of 4
        mean_rating=3.25,  # 5, 1, 3, 4
        share_satisfied=0.5,  # 5 and 4 of 4 ratings
        on_time_share=0.5,  # on time 5, 7, 10 / (4 resolved + 2 open overdue)
    )


def test_headline_for_one_grid(session, grids, at_today):
    assert issue_headline(session=session, start=START, end=END, grid_id=grids["G1"]) == IssueHeadline(
        open_issues=3, overdue=2, reported=4, resolved=2, median_days_to_resolve=11.5,
        share_resolved_in_grid=0.5, mean_rating=3.0, share_satisfied=pytest.approx(1 / 3), on_time_share=0.25,
    )


def test_headline_median_with_an_odd_count(session, grids, at_today):
    # up to 06-10: resolved 5 (3.0), 6 (20.0), 7 (4.0) -> 4.0
    assert issue_headline(session=session, start=START, end=date(2026, 6, 10)).median_days_to_resolve == 4.0
    # G2 over the whole period: 7 (4.0) and 10 (20.65) -> 12.325
    headline = issue_headline(session=session, start=START, end=END, grid_id=grids["G2"])
    assert headline.median_days_to_resolve == pytest.approx(12.325)
    # a single one: only #5 resolved up to 05-05
    assert issue_headline(session=session, start=START, end=date(2026, 5, 5)).median_days_to_resolve == 3.0


def test_headline_of_an_empty_grid_has_no_shares(session, grids, at_today):
    assert issue_headline(session=session, start=START, end=END, grid_id=grids["G3"]) == IssueHeadline(
        open_issues=0, overdue=0, reported=0, resolved=0, median_days_to_resolve=None, share_resolved_in_grid=None,
        mean_rating=None, share_satisfied=None, on_time_share=None)


def test_headline_on_an_empty_database(session, at_today):
    headline = issue_headline(session=session, start=START, end=END)
    assert (headline.open_issues, headline.reported, headline.median_days_to_resolve) == (0, 0, None)


def test_issues_by_grid_lists_every_grid(session, grids, at_today):
    frame = issues_by_grid(session=session, start=START, end=END)
    assert list(frame.columns) == ["grid_id", "open_issues", "overdue", "reported"]
    assert frame.to_dict("records") == [
        {"grid_id": grids["G1"], "open_issues": 3, "overdue": 2, "reported": 4},
        {"grid_id": grids["G2"], "open_issues": 3, "overdue": 0, "reported": 4},
        {"grid_id": grids["G3"], "open_issues": 0, "overdue": 0, "reported": 0},
    ]


def test_open_by_state_in_loop_order(session, grids, at_today):
    frame = open_by_state(session=session)
    assert frame.to_dict("records") == [
        {"state": "reported", "count": 1}, {"state": "grid_review", "count": 1}, {"state": "meeting", "count": 1},
        {"state": "in_action", "count": 2}, {"state": "resident_review", "count": 1}]
    assert open_by_state(session=session, grid_id=grids["G3"])["count"].tolist() == [0, 0, 0, 0, 0]


def test_issues_by_category(session, grids, at_today):
    frame = issues_by_category(session=session, start=START, end=END)
    assert [tuple(r) for r in frame.itertuples(index=False)] == [
        ("noise", 4, 3),  # 1, 4, 5, 13; still open 1, 4, 13
        ("elderly_care", 1, 0), ("other", 1, 0), ("repairs", 1, 1), ("sanitation", 1, 1),
        ("child_care", 0, 0), ("ev_charging", 0, 0), ("neighbour_dispute", 0, 0), ("parking", 0, 0),
        ("security", 0, 0),
    ]
    g2 = issues_by_category(session=session, start=START, end=END, grid_id=grids["G2"])
    assert g2.set_index("category").loc[["noise", "sanitation", "elderly_care"], "reported"].tolist() == [2, 1, 1]


def test_monthly_issue_trend_has_every_month(session, grids, at_today):
    frame = monthly_issue_trend(session=session, start=date(2026, 3, 1), end=END)
    assert frame.to_dict("records") == [
        {"month": "2026-03", "reported": 1, "resolved": 1},
        {"month": "2026-04", "reported": 3, "resolved": 1},
        {"month": "2026-05", "reported": 5, "resolved": 2},
        {"month": "2026-06", "reported": 3, "resolved": 2},
    ]
    g3 = monthly_issue_trend(session=session, start=START, end=END, grid_id=grids["G3"])
    assert g3.to_dict("records") == [{"month": "2026-05", "reported": 0, "resolved": 0},
                                     {"month": "2026-06", "reported": 0, "resolved": 0}]


def test_overdue_issues_most_overdue_first(session, grids, at_today):
    frame = overdue_issues(session=session)
    assert [tuple(r) for r in frame.itertuples(index=False)] == [
        (2, "事项2", "网格G1", "grid_review", date(2026, 4, 22), 54),
        (3, "事项3", "网格G1", "in_action", date(2026, 6, 3), 12),
    ]
    assert overdue_issues(session=session, limit=1)["id"].tolist() == [2]
    assert overdue_issues(session=session, grid_id=grids["G2"]).empty


def test_list_issues_filters(session, grids, at_today):
    def ids(**filters):
        return list_issues(session=session, **filters)["id"].tolist()

    assert ids() == [13, 1, 7, 10, 3, 9, 4, 5, 6, 12, 2, 8]  # newest first, #11 deleted
    assert ids(states=("in_action",)) == [13, 3]
    assert ids(states=("closed", "closed_unrated")) == [10, 5, 6, 12, 8]
    assert ids(category="noise") == [13, 1, 4, 5, 12]
    assert ids(grid_id=grids["G2"]) == [13, 7, 10, 4, 8]
    assert ids(overdue_only=True) == [3, 2]
    assert ids(start=START, end=END) == [13, 1, 7, 10, 3, 9, 4, 5]
    assert ids(start=START, end=END, include_open=True) == [13, 1, 7, 10, 3, 9, 4, 5, 2]
    assert ids(start=date(2026, 6, 1), end=date(2026, 6, 10)) == [1, 7]
    assert ids(limit=3) == [13, 1, 7]


def test_list_issues_columns_and_personal_data(session, grids, at_today):
    hidden = list_issues(session=session)
    shown = list_issues(session=session, may_see_personal_data=True)
    assert list(hidden.columns) == ["id", "title", "category", "state", "grid_id", "grid_name", "reported_at",
                                    "due_date", "overdue", "lead_org", "rating", "reporter"]
    assert set(hidden["reporter"]) == {""}
    assert shown.set_index("id")["reporter"].to_dict()[1] == "张阿姨"
    assert set(shown.set_index("id").drop(index=1)["reporter"]) == {""}
    row = shown.set_index("id").loc[3]
    assert (row.grid_name, row.lead_org, bool(row.overdue), row.due_date) == ("网格G1", "物业公司", True, date(2026, 6, 3))
    assert shown.set_index("id")["overdue"].sum() == 2


def test_issue_detail(session, grids, at_today):
    detail = issue_detail(session=session, issue_id=3, may_see_personal_data=True)
    assert (detail.id, detail.version, detail.state, detail.grid_name, detail.building_name) == (
        3, 1, "in_action", "网格G1", "1栋")
    assert (detail.lead_org_id, detail.lead_org_name, detail.cooperators) == (1, "物业公司", ((2, "社工站"),))
    assert detail.overdue is True and detail.reporter is None and not detail.reporter_hidden
    rated = issue_detail(session=session, issue_id=6, may_see_personal_data=True)
    assert [(r.rating, r.rated_by) for r in rated.ratings] == [(1, "张阿姨"), (3, "张阿姨")]
    assert (rated.rating, rated.days_to_resolve, rated.resolved_in_grid) == (3, 20.0, False)
    assert issue_detail(session=session, issue_id=7, may_see_personal_data=True).overdue is False


def test_issue_detail_hides_the_reporter_from_who_may_not_see_it(session, grids, at_today):
    assert issue_detail(session=session, issue_id=1, may_see_personal_data=True).reporter == "张阿姨"
    hidden = issue_detail(session=session, issue_id=1, may_see_personal_data=False)
    assert (hidden.reporter, hidden.reporter_hidden) == (None, True)
    assert {r.rated_by for r in issue_detail(session=session, issue_id=6, may_see_personal_data=False).ratings} == {""}


def test_issue_detail_of_a_missing_or_deleted_issue(session, grids, at_today):
    assert issue_detail(session=session, issue_id=11, may_see_personal_data=True) is None
    assert issue_detail(session=session, issue_id=999, may_see_personal_data=True) is None


def test_issue_timeline_oldest_first(session, grids):
    frame = issue_timeline(session=session, issue_id=3)
    assert frame["note"].tolist() == ["第1步", "第2步", "第3步", "第4步"]
    assert frame[["from_state", "to_state"]].iloc[2].tolist() == ["grid_review", "in_action"]
    assert issue_timeline(session=session, issue_id=1).empty


def test_list_organisations_and_reporter_choices(session, grids):
    assert list_organisations(session=session)[["id", "name"]].values.tolist() == [[1, "物业公司"], [2, "社工站"]]  # by code point, not pinyin
    assert list_organisations(session=session, kinds=("property_manager",))["id"].tolist() == [1]
    assert reporter_choices(session=session, may_see_personal_data=True)["name"].tolist() == ["张阿姨"]
    assert reporter_choices(session=session, may_see_personal_data=False).empty
