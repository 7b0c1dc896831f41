"""The app in a real Chromium: what AppTest cannot see. The overview's figures as drawn, the map
drawn from local assets only (one polygon per grid), and an issue created through the form."""


import pytest
from sqlalchemy import func, select

from components.kpi import format_number, format_percent
from gongzhi.clock import today
from gongzhi.db import get_engine, read_session
from gongzhi.domain import AreaLevel
from gongzhi.i18n import translate
from gongzhi.models import Area
from gongzhi.queries.common import twelve_months_start
from gongzhi.queries.issues import issue_headline
from tests.browser.helpers import (
    TIMEOUT_MS,
    choose,
    frame_with,
    open_from_menu,
    rerun_by,
    save_screenshot,
    sign_in,
    wait_until_drawn,
)

pytestmark = pytest.mark.browser


def _metrics(page) -> dict[str, str]:
    """Every metric card on the page as {label: value}."""
    cards = page.locator("[data-testid='stMetric']")
    result = {}
    for index in range(cards.count()):
        card = cards.nth(index)
        label = card.locator("[data-testid='stMetricLabel']").inner_text().strip()
        result[label] = card.locator("[data-testid='stMetricValue']").inner_text().strip()
    return result


def _server_session(app_server):
    return read_session(get_engine(app_server.database_url))


def test_overview_shows_the_headline_figures(app_server, page):
    sign_in(page.page, app_server.url)
    page.page.wait_for_selector("[data-testid='stMetric']")
    shown = _metrics(page.page)
    end = today()
    start = twelve_months_start(end)  # the default period, 29 February included
    with _server_session(app_server) as session:
        expected = issue_headline(session=session, start=start, end=end)
    assert shown[translate("en", "overview.kpi_open_issues")] == format_number(expected.open_issues)
    assert shown[translate("en", "overview.kpi_overdue")] == format_number(expected.overdue)
    assert shown[translate("en", "overview.kpi_resolved_in_grid")] == format_percent(expected.share_resolved_in_grid)
    assert expected.open_issues > 0
    save_screenshot(page.page, "overview")
    assert page.external_requests() == []


def _map_frame(page):
    return frame_with(page, "path.gongzhi-grid")


def test_map_draws_one_polygon_per_grid_from_local_assets(app_server, page):
    sign_in(page.page, app_server.url, "representative")
    open_from_menu(page.page, translate("en", "nav.grid_map"))
    frame = _map_frame(page.page)
    wait_until_drawn(page.page)  # Leaflet adds every polygon of the layer at once, before it is loaded
    with _server_session(app_server) as session:
        grids = session.execute(select(func.count()).select_from(Area).where(
            Area.level == AreaLevel.GRID, Area.deleted_at.is_(None))).scalar_one()
    codes = frame.eval_on_selector_all("path.gongzhi-grid", "paths => paths.map(p => p.dataset.gridCode)")
    assert len(codes) == grids == len(set(codes)) == 12
    assert frame.evaluate("() => typeof window.L") == "object"
    save_screenshot(page.page, "grid_map")
    assert page.external_requests() == [], page.external_requests()


def test_an_issue_created_through_the_form_appears_in_the_list(app_server, page):
    title = "浏览器测试：5栋门禁损坏"
    sign_in(page.page, app_server.url, "committee")
    open_from_menu(page.page, translate("en", "nav.issues"))
    page.page.get_by_text(translate("en", "issues.new_issue")).first.click()
    form = page.page.locator("[data-testid='stForm']").first
    form.get_by_label(translate("en", "issues.field_title")).fill(title)
    choose(page.page, form, translate("en", "issues.field_category"), translate("en", "category.security"))
    with _server_session(app_server) as session:
        grid_name = session.execute(select(Area.name).where(Area.level == AreaLevel.GRID).order_by(Area.code)).first()[0]
    choose(page.page, form, translate("en", "issues.field_grid"), grid_name)
    with rerun_by(page.page):
        form.get_by_role("button", name=translate("en", "issues.report_submit")).click()
    page.page.get_by_text(translate("en", "issues.reported_ok")).wait_for(timeout=TIMEOUT_MS)
    # The grid is drawn on a canvas; its accessible table holds the cell texts.
    cell = page.page.locator("[data-testid='stDataFrame'] [role='gridcell']").filter(has_text=title)
    cell.first.wait_for(state="attached", timeout=TIMEOUT_MS)
    assert cell.first.get_attribute("data-testid") == "glide-cell-2-0"  # the newest issue comes first
    with _server_session(app_server) as session:
        from gongzhi.models import Issue

        stored = session.execute(select(Issue.category, Issue.state).where(Issue.title == title)).all()
    assert stored == [("security", "reported")]
    assert page.external_requests() == []
