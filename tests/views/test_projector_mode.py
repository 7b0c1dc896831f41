"""Projector mode through AppTest: `?mode=projector` opens it, the sidebar toggle writes it into
the URL, it stays on across page switches until the large exit button; tables are paged; the
slideshow's buttons move through its slides; chart summaries state the figures of the data."""

from collections import Counter

from sqlalchemy import select
from sqlmodel import Session

from components.projector import PROJECTOR_ROWS
from gongzhi.db import get_engine
from gongzhi.domain import OPEN_STATES, AreaLevel
from gongzhi.i18n import label, translate
from gongzhi.models import Area, Issue
from gongzhi.queries.issues import overdue_issues

PROJECTOR_URL = {"mode": "projector"}


def _mode(app) -> str | None:
    return app.query_params.get("mode")


def _texts(elements) -> list[str]:
    return [str(element.value) for element in elements]


def test_a_bookmark_opens_projector_mode_and_it_stays_on_across_pages_until_left(open_page, demo_url):
    app = open_page(demo_url, None, query_params=PROJECTOR_URL)
    assert not app.exception
    assert _mode(app) == "projector"
    assert app.sidebar.toggle(key="projector_mode").value is True
    assert app.button(key="projector_exit").label == translate("en", "projector.exit")
    app.switch_page("views/meetings.py").run()
    assert not app.exception
    assert app.title[0].value == translate("en", "nav.meetings")
    assert _mode(app) == "projector"
    # The menu is keyed on the page shown, known also to a run without the browser's address
    # (AppTest sends none, as Streamlit's merged reruns on a busy server do not).
    assert app.button(key="projector_pages_meetings_current").label == translate("en", "nav.meetings")
    app.button(key="projector_exit").click().run()
    assert _mode(app) is None
    assert app.sidebar.toggle(key="projector_mode").value is False
    assert not [b for b in app.button if b.key == "projector_exit"]


def test_the_sidebar_toggle_writes_the_mode_into_the_url(open_page, demo_url):
    app = open_page(demo_url, "views/issues.py")
    assert _mode(app) is None
    assert not [b for b in app.button if b.key == "projector_exit"]
    app.sidebar.toggle(key="projector_mode").set_value(True).run()
    assert _mode(app) == "projector"
    assert app.title[0].value == translate("en", "nav.issues")  # the same page, now projected
    app.sidebar.toggle(key="projector_mode").set_value(False).run()
    assert _mode(app) is None


def test_overview_tables_are_paged_in_projector_mode(open_page, demo_url):
    app = open_page(demo_url, "views/overview.py", query_params=PROJECTOR_URL)
    assert not app.exception
    assert len(app.dataframe) == 0  # no scrolling grids: every table is a plain, paged one
    with Session(get_engine(demo_url)) as session:
        overdue = overdue_issues(session=session, limit=10)
    expected = [translate("en", "overview.issue_ref", id=int(r.id), title=r.title) for r in overdue.itertuples()]
    assert len(expected) > PROJECTOR_ROWS  # the demo has more than a page of overdue issues

    def shown_issues() -> list[str]:
        column = translate("en", "overview.col_issue")
        table = next(t.value for t in app.table if column in t.value.columns)
        return list(table[column])

    # the first-response table shows only what matters from the back of the room
    first_response = next(t.value for t in app.table
                          if translate("en", "overview.col_first_response_on_time") in t.value.columns)
    assert list(first_response.columns) == [translate("en", "overview.col_category"),
                                            translate("en", "overview.col_first_response_on_time")]

    assert shown_issues() == expected[:PROJECTOR_ROWS]
    pages = -(-len(expected) // PROJECTOR_ROWS)
    assert translate("en", "projector.page_of", page=1, pages=pages, rows=len(expected)) in _texts(app.markdown)
    app.button(key="pager_overview_overdue_next").click().run()
    assert shown_issues() == expected[PROJECTOR_ROWS:2 * PROJECTOR_ROWS]
    assert app.button(key="pager_overview_overdue_next").disabled
    app.button(key="pager_overview_overdue_previous").click().run()
    assert shown_issues() == expected[:PROJECTOR_ROWS]


def test_the_overview_chart_summary_states_the_highest_and_lowest_state(open_page, demo_url):
    app = open_page(demo_url, "views/overview.py")
    with Session(get_engine(demo_url)) as session:
        states = Counter(session.execute(select(Issue.state).where(
            Issue.deleted_at.is_(None), Issue.state.in_([s.value for s in OPEN_STATES]))).scalars())
    counts = {s.value: states.get(s.value, 0) for s in OPEN_STATES}
    high, low = max(counts.values()), min(counts.values())
    high_states = [label("en", "state", s) for s, n in counts.items() if n == high]
    low_states = [label("en", "state", s) for s, n in counts.items() if n == low]
    caption = next(text for text in _texts(app.caption)
                   if text.startswith(translate("en", "overview.summary_open_by_state", total=sum(counts.values()),
                                                state="", count=0)[:12]))
    assert any(f"Highest: {name} ({high})" in caption for name in high_states), caption
    assert any(f"lowest: {name} ({low})" in caption for name in low_states), caption


def test_the_slideshow_buttons_move_through_headlines_map_and_each_grid(open_page, demo_url):
    app = open_page(demo_url, "views/slideshow.py", query_params=PROJECTOR_URL)
    assert not app.exception
    with Session(get_engine(demo_url)) as session:
        grids = session.execute(select(Area.name, Area.code).where(
            Area.level == AreaLevel.GRID, Area.deleted_at.is_(None)).order_by(Area.code)).all()
    count = 2 + len(grids)  # headlines, the map, one per grid

    def position() -> str:
        return next(text for text in _texts(app.markdown) if text.startswith("Slide "))

    assert position() == translate("en", "slideshow.position", index=1, count=count)
    assert app.metric[0].label == translate("en", "overview.kpi_open_issues")
    app.button(key="slideshow_next").click().run()
    assert position() == translate("en", "slideshow.position", index=2, count=count)
    assert app.header[0].value == translate("en", "slideshow.map_title", metric=translate("en", "map.metric_open_issues"))
    app.button(key="slideshow_next").click().run()
    name, code = grids[0]
    assert app.header[0].value == translate("en", "slideshow.grid_title", name=name, code=code)
    app.button(key="slideshow_previous").click().run()
    app.button(key="slideshow_previous").click().run()
    app.button(key="slideshow_previous").click().run()  # round to the last grid
    assert position() == translate("en", "slideshow.position", index=count, count=count)
    name, code = grids[-1]
    assert app.header[0].value == translate("en", "slideshow.grid_title", name=name, code=code)
