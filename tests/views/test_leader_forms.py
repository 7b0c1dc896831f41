"""A grid leader's entry forms: the pages open on their own grid, every entry form offers only
the grids they may write in with their own already chosen; an event's end follows its start,
and an event longer than a day is saved only once confirmed."""

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from gongzhi.db import get_engine, read_session
from gongzhi.i18n import translate
from gongzhi.models import Event
from gongzhi.permissions import entry_grids, home_grid
from gongzhi.queries.areas import list_grids


def own_grid(app) -> int:
    """The leader's grid as the app's session holds the signed-in actor."""
    actor = app.session_state["page_context"].actor
    assert len(actor.grid_ids) == 1
    return next(iter(actor.grid_ids))


def test_the_pages_open_on_the_leaders_grid_and_forms_offer_only_it(open_page, demo_url):
    app = open_page(demo_url, "views/issues.py", role="leader")
    grid = own_grid(app)
    with read_session(get_engine(demo_url)) as session:
        names = dict(zip(list_grids(session=session)["id"].astype(int), list_grids(session=session)["name"],
                         strict=True))
    assert len(names) > 1
    assert app.selectbox(key="_grid_widget").value == grid  # "my grid" by default
    new_grid = app.selectbox(key="issue_new_grid")
    assert new_grid.value == grid and new_grid.options == [names[grid]]

    app.switch_page("views/events.py").run()
    event_grid = app.selectbox(key="event_new_grid")
    assert event_grid.value == grid and event_grid.options == [names[grid]]  # no other grid, no whole community

    app.switch_page("views/volunteers.py").run()
    volunteer_grid = app.selectbox(key="volunteer_new_grid")
    assert volunteer_grid.value == grid and volunteer_grid.options == [names[grid]]


def test_a_grid_chosen_in_the_sidebar_stays_chosen(open_page, demo_url):
    app = open_page(demo_url, "views/issues.py", role="leader")
    grid = own_grid(app)
    app.selectbox(key="_grid_widget").set_value(0).run()  # all grids
    app.switch_page("views/events.py").run()
    assert app.selectbox(key="_grid_widget").value == 0
    # The entry form still starts on the leader's own grid.
    assert app.selectbox(key="event_new_grid").value == grid


def test_the_rules_behind_them():
    from gongzhi.permissions import Actor, Role

    leader = Actor(name="网格长", role=Role.LEADER, grid_ids=frozenset({7, 3}))
    committee = Actor(name="秘书", role=Role.COMMITTEE)
    representative = Actor(name="代表", role=Role.REPRESENTATIVE, grid_ids=frozenset({5}))
    assert home_grid(leader, [1, 3, 5, 7]) == 3 and home_grid(committee, [1, 3]) is None
    assert home_grid(representative, [1, 5]) == 5 and home_grid(representative, [1, 2]) is None
    assert entry_grids(leader, [1, 3, 5, 7]) == [3, 7] and entry_grids(committee, [1, 3]) == [1, 3]
    # The grid chosen last time, for someone without a grid of their own, if it is still there.
    assert home_grid(committee, [1, 3], last=3) == 3 and home_grid(committee, [1, 3], last=9) is None
    assert home_grid(leader, [1, 3, 5, 7], last=5) == 3
    assert entry_grids(representative, [1, 5]) == []


def test_the_grid_chosen_last_time_opens_at_the_next_sign_in(open_page, demo_url):
    """Committee: a grid chosen in the sidebar, or by a click on the map, is where the next
    session opens; "all grids" chosen is remembered too. A grid leader still opens on their own."""
    first = open_page(demo_url, "views/issues.py", role="committee")
    assert first.selectbox(key="_grid_widget").value == 0  # nothing chosen yet: all grids
    with read_session(get_engine(demo_url)) as session:
        chosen = int(list_grids(session=session)["id"].iloc[4])
    first.selectbox(key="_grid_widget").set_value(chosen).run()
    assert not first.exception
    again = open_page(demo_url, "views/volunteers.py", role="committee")  # a new session: signed in again
    assert again.selectbox(key="_grid_widget").value == chosen
    again.selectbox(key="_grid_widget").set_value(0).run()
    assert open_page(demo_url, "views/issues.py", role="committee").selectbox(key="_grid_widget").value == 0

    leader = open_page(demo_url, "views/issues.py", role="leader")
    own = own_grid(leader)
    leader.selectbox(key="_grid_widget").set_value(chosen if chosen != own else 0).run()
    assert open_page(demo_url, "views/issues.py", role="leader").selectbox(key="_grid_widget").value == own


def test_an_events_end_follows_its_start(open_page, demo_url):
    app = open_page(demo_url, "views/events.py", role="leader")
    start = datetime.combine(app.date_input(key="event_new_start_date").value, app.time_input(key="event_new_start_time").value)
    end = datetime.combine(app.date_input(key="event_new_end_date").value, app.time_input(key="event_new_end_time").value)
    length = end - start
    assert timedelta(0) < length <= timedelta(days=1)

    moved = start + timedelta(days=3)
    app.date_input(key="event_new_start_date").set_value(moved.date()).run()
    assert app.date_input(key="event_new_end_date").value == (moved + length).date()
    app.time_input(key="event_new_start_time").set_value(time(15, 0)).run()
    new_start = datetime.combine(moved.date(), time(15, 0))
    assert datetime.combine(app.date_input(key="event_new_end_date").value,
                            app.time_input(key="event_new_end_time").value) == new_start + length
    # An end the person changes is theirs: the start moving later keeps the length they made.
    app.time_input(key="event_new_end_time").set_value(time(18, 0)).run()
    app.date_input(key="event_new_start_date").set_value(moved.date() + timedelta(days=1)).run()
    assert app.date_input(key="event_new_end_date").value == moved.date() + timedelta(days=1)
    assert app.time_input(key="event_new_end_time").value == time(18, 0)


def count_events(url: str) -> int:
    with read_session(get_engine(url)) as session:
        return session.execute(select(func.count()).select_from(Event)).scalar_one()


def test_an_event_longer_than_a_day_needs_a_confirmation(open_page, demo_url):
    app = open_page(demo_url, "views/events.py", role="leader", lang="zh-CN")
    before = count_events(demo_url)
    app.text_input(key="event_new_title").input("邻里节")
    start_day = app.date_input(key="event_new_start_date").value
    app.date_input(key="event_new_end_date").set_value(start_day + timedelta(days=8)).run()
    assert any("超过一天" in w.value for w in app.warning)
    app.button(key="event_new_submit").click().run()
    assert any("请确认结束时间" in e.value for e in app.error)
    assert count_events(demo_url) == before  # nothing saved
    assert app.date_input(key="event_new_end_date").value == start_day + timedelta(days=8)  # input kept

    app.checkbox(key="event_new_long_ok").check().run()
    app.button(key="event_new_submit").click().run()
    assert count_events(demo_url) == before + 1
    assert app.text_input(key="event_new_title").value == ""  # the form is cleared after a save
    assert not app.warning or not any("超过一天" in w.value for w in app.warning)


def test_adding_a_volunteer_is_one_click_from_the_top(open_page, demo_url):
    """The volunteers page starts with the folded "add a volunteer" form, above the figures and the
    roster (it sat at the bottom of a 3,500 px page), on the leader's own grid, the only one offered."""
    app = open_page(demo_url, "views/volunteers.py", role="leader", lang="en")
    order = [(node.type, getattr(node, "label", None)) for node in app.main]
    add_at = order.index(("expander", translate("en", "volunteers.add_title")))
    assert add_at < min(i for i, (kind, _) in enumerate(order) if kind == "metric")
    assert app.selectbox(key="volunteer_new_grid").value == own_grid(app)
