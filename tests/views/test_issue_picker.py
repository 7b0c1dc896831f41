"""The issue picker tells the browser which issue it holds whenever that is not the browser's own
choice: after a filter dropped the chosen issue, and for a deep link. (The browser keeps showing
its last value otherwise: the select box keeps its key while its options change. The Chromium
test tests/browser/test_issue_picker_browser.py checks what a person sees.)"""

from sqlalchemy import select

from components.filters import period_bounds
from components.issue_forms import PICKER_KEY
from gongzhi.clock import today
from gongzhi.db import get_engine, read_session
from gongzhi.domain import AreaLevel
from gongzhi.models import Area, Issue
from gongzhi.queries.areas import list_grids
from gongzhi.queries.issues import list_issues

PAGE = "views/issues.py"


def listed(url: str, grid_id: int | None) -> list[int]:
    """What the page lists with its default filters, as the core query returns it."""
    period = period_bounds("period_12m", on=today())
    with read_session(get_engine(url)) as session:
        frame = list_issues(session=session, grid_id=grid_id, start=period.start, end=period.end,
                            include_open=True, may_see_personal_data=True)
    return [int(i) for i in frame["id"]]


def issue_grid(url: str, issue_id: int) -> int:
    with read_session(get_engine(url)) as session:
        return session.get(Issue, issue_id).grid_id


def oldest_issue_and_another_grid(url: str) -> tuple[int, tuple[int, str]]:
    """The first issue's id, and (id, code) of the first grid that is not its grid."""
    with read_session(get_engine(url)) as session:
        oldest = session.execute(select(Issue).order_by(Issue.id)).scalars().first()
        elsewhere = session.execute(select(Area).where(Area.level == AreaLevel.GRID, Area.id != oldest.grid_id)
                                    .order_by(Area.code)).scalars().first()
        return oldest.id, (elsewhere.id, elsewhere.code)


def test_a_filter_that_drops_the_chosen_issue_sets_the_first_listed_in_the_browser(open_page, demo_url):
    app = open_page(demo_url, PAGE)
    first = listed(demo_url, None)[0]
    assert app.selectbox(key=PICKER_KEY).value == first
    grid_widget = app.selectbox(key="_grid_widget")
    with read_session(get_engine(demo_url)) as session:
        other = next(g for g in list_grids(session=session)["id"] if int(g) != issue_grid(demo_url, first))
    grid_widget.set_value(int(other)).run()

    expected = listed(demo_url, int(other))[0]
    picker = app.selectbox(key=PICKER_KEY)
    assert picker.value == expected
    assert detail_heading(app).startswith(f"#{expected} ")
    # What reaches the browser: the value itself, not just "keep what you have".
    assert picker.proto.set_value
    assert picker.proto.raw_value.startswith(f"#{expected} · ")


def test_a_deep_link_opens_that_issue_even_when_the_list_does_not_hold_it(open_page, demo_url):
    oldest, grid = oldest_issue_and_another_grid(demo_url)
    assert oldest not in listed(demo_url, grid[0])  # the link names an issue of another grid
    app = open_page(demo_url, PAGE, query_params={"grid": grid[1], "issue": str(oldest)})
    picker = app.selectbox(key=PICKER_KEY)
    assert picker.value == oldest and picker.proto.raw_value.startswith(f"#{oldest} · ")
    assert detail_heading(app).startswith(f"#{oldest} ")
    # Choosing another issue afterwards is not undone by the link still in the address bar.
    other = listed(demo_url, grid[0])[3]
    picker.set_value(other).run()
    assert app.selectbox(key=PICKER_KEY).value == other
    assert app.query_params["issue"] == [str(other)] or app.query_params["issue"] == str(other)


def test_a_deep_link_opens_its_issue_when_the_filters_list_nothing(open_page, demo_url):
    """A grid with no issue listed: the page says so, and a link to an issue still opens it."""
    from datetime import datetime

    from sqlalchemy import update

    from gongzhi.db import write_session
    from gongzhi.i18n import translate

    linked, empty = oldest_issue_and_another_grid(demo_url)
    with write_session(get_engine(demo_url)) as session:  # the grid's issues gone from every list
        session.execute(update(Issue).where(Issue.grid_id == empty[0]).values(deleted_at=datetime(2026, 1, 1)))
    assert listed(demo_url, empty[0]) == []

    app = open_page(demo_url, PAGE, query_params={"grid": empty[1], "issue": str(linked)})
    assert not app.exception
    assert translate("en", "common.no_data") in [info.value for info in app.info]
    assert app.selectbox(key=PICKER_KEY).value == linked and detail_heading(app).startswith(f"#{linked} ")

    plain = open_page(demo_url, PAGE, query_params={"grid": empty[1]})
    assert not plain.exception and translate("en", "common.no_data") in [info.value for info in plain.info]
    assert PICKER_KEY not in [box.key for box in plain.selectbox]


def detail_heading(app) -> str:
    return next(h.value for h in app.subheader if h.value.startswith("#"))


def test_an_issues_page_shows_its_loop_in_plain_steps_with_dates(open_page, demo_url):
    """As a representative: the issue's steps with the day each was reached, read from its
    timeline rows directly. An issue residents rated unfixed is in action again since the day it
    came back, its review ahead again (which in-action issue comes first depends on the day)."""
    from gongzhi.models import TimelineEntry

    with read_session(get_engine(demo_url)) as session:
        issue = session.execute(select(Issue).where(Issue.state == "in_action").order_by(Issue.id)).scalars().first()
        rows = session.execute(select(TimelineEntry.to_state, TimelineEntry.created_at)
                               .where(TimelineEntry.issue_id == issue.id)
                               .order_by(TimelineEntry.created_at, TimelineEntry.id)).all()
        issue_id, grid_code = issue.id, session.get(Area, issue.grid_id).code
    first, last, previous = {}, {}, None
    for state, at in rows:  # arrivals: a note in a step repeats its state
        if state and state != previous:
            first.setdefault(state, at)
            last[state] = at
            previous = state
    app = open_page(demo_url, PAGE, role="representative", lang="zh-CN",
                    query_params={"grid": grid_code, "issue": str(issue_id)})
    progress = next(m.value for m in app.markdown if m.value.startswith("1. ") and "联动办事" in m.value)
    lines = progress.splitlines()
    assert len(lines) == 6
    assert lines[0].startswith("1.") and "居民提事" in lines[0] and first["reported"].strftime("%Y-%m-%d") in lines[0]
    if "resident_review" in first:
        assert f"**联动办事** · 当前环节，居民评价未解决，自 {last['in_action']:%Y-%m-%d} 起重新办理" in lines[3]
    else:
        assert "**联动办事** · 当前环节，自 " + first["in_action"].strftime("%Y-%m-%d") in lines[3]
    assert "群众评事 · 尚未到达" in lines[4] and "办结 · 尚未到达" in lines[5]
    meeting = lines[2]
    assert (first["meeting"].strftime("%Y-%m-%d") in meeting) if "meeting" in first else "未经此环节" in meeting
