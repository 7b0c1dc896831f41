"""A grid leader's events page in a real Chromium: the forms come first (recording attendance is
one click from the top), the tab chosen stays chosen after choosing an event and after saving
attendance (it used to jump back to "New event"), and the new event's grid is the leader's own,
the only one offered. On the volunteers page, adding a volunteer is one click from the top."""

import pytest
from sqlalchemy import select

from gongzhi.accounts import actor_for
from gongzhi.db import get_engine, read_session
from gongzhi.i18n import translate
from gongzhi.models import Area, User
from tests.browser.helpers import TIMEOUT_MS, open_from_menu, save_screenshot, sign_in, wait_for_app

pytestmark = pytest.mark.browser


def leader_grid_name(app_server) -> str:
    with read_session(get_engine(app_server.database_url)) as session:
        user = session.execute(select(User).where(User.username == "leader")).scalar_one()
        actor = actor_for(session=session, user_id=user.id)  # as the app builds it for the account
        (grid_id,) = actor.grid_ids
        return session.get(Area, grid_id).name


def tab(page, lang: str, key: str):
    return page.get_by_role("tab", name=translate(lang, key), exact=True)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_leader_records_attendance_without_losing_the_tab(app_server, page, lang):
    page = page.page
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, app_server.url, "leader", lang=lang)
    open_from_menu(page, translate(lang, "nav.events"))
    manage = page.locator("[data-testid='stMain'] h2").filter(has_text=translate(lang, "events.manage")).first
    figures = page.locator("[data-testid='stMetric']").first
    assert manage.bounding_box()["y"] < figures.bounding_box()["y"]  # the forms come first

    new_event = page.locator(".st-key-event_new")
    grid = new_event.locator("[data-testid='stSelectbox']").filter(has_text=translate(lang, "common.grid")).first
    assert grid.locator("input").input_value() == leader_grid_name(app_server)
    grid.get_by_role("combobox").click()
    assert page.get_by_role("option").all_inner_texts() == [leader_grid_name(app_server)]
    page.keyboard.press("Escape")

    tab(page, lang, "events.record_attendance").click()
    event_box = page.locator("[data-testid='stTabPanel']:visible [data-testid='stSelectbox']").filter(
        has_text=translate(lang, "events.choose_event")).first
    event_box.get_by_role("combobox").click()
    second = page.get_by_role("option").nth(1)
    chosen = second.inner_text()
    second.click()
    wait_for_app(page)
    assert event_box.locator("input").input_value() == chosen
    assert tab(page, lang, "events.record_attendance").get_attribute("aria-selected") == "true"

    page.get_by_role("button", name=translate(lang, "events.save_attendance")).click()
    page.locator("[data-testid='stAlertContentSuccess']").first.wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page)
    assert tab(page, lang, "events.record_attendance").get_attribute("aria-selected") == "true"
    assert event_box.locator("input").input_value() == chosen
    save_screenshot(page, f"leader_attendance_{lang}")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_leader_adds_a_volunteer_from_the_top_of_the_page(app_server, page, lang):
    """Volunteers: "add a volunteer" is in the first screen, above the figures; one click opens the
    form with the leader's own grid chosen, the only one offered."""
    page = page.page
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, app_server.url, "leader", lang=lang)
    open_from_menu(page, translate(lang, "nav.volunteers"))
    add = page.locator("[data-testid='stExpander'] summary").filter(has_text=translate(lang, "volunteers.add_title")).first
    figures = page.locator("[data-testid='stMetric']").first
    figures.wait_for(timeout=TIMEOUT_MS)
    assert add.bounding_box()["y"] + add.bounding_box()["height"] <= 800  # in the first screen
    assert add.bounding_box()["y"] < figures.bounding_box()["y"]
    add.click()
    grid = page.locator(".st-key-volunteer_new_grid")
    grid.wait_for(timeout=TIMEOUT_MS)
    assert grid.locator("input").input_value() == leader_grid_name(app_server)
    save_screenshot(page, f"leader_volunteer_form_{lang}")
