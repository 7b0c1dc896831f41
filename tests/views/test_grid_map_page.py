"""The grid map page in AppTest. The map itself is a component iframe that AppTest cannot draw
(tests/components/test_grid_map.py checks the map's HTML), but everything around it renders:
the figures table must equal grid_metrics, the panel must show the selected grid, a click
must select the grid across the app, and empty databases get a clear message."""

import pandas as pd
import pytest

from components.filters import GRID_KEY, period_bounds
from components.grid_map import CLICK_KEY
from components.kpi import format_number
from gongzhi import i18n
from gongzhi.clock import today
from gongzhi.db import get_engine, read_session, write_session
from gongzhi.models import Area, Person
from gongzhi.privacy import display_phone
from gongzhi.queries.areas import list_grids
from gongzhi.queries.grid_metrics import COLUMNS, METRICS, grid_metrics

PAGE = "views/grid_map.py"
LANGS = list(i18n.LANGUAGES)


def _expected_metrics(url: str, period: str = "period_12m") -> pd.DataFrame:
    bounds = period_bounds(period, on=today())
    with read_session(get_engine(url)) as session:
        return grid_metrics(session=session, start=bounds.start, end=bounds.end)


def _grids(url: str) -> pd.DataFrame:
    with read_session(get_engine(url)) as session:
        return list_grids(session=session, may_see_personal_data=True)


def _figures_table(app) -> pd.DataFrame:
    tables = [table.value for table in app.dataframe if "volunteers_per_1000" in table.value.columns]
    assert len(tables) == 1
    return tables[0]


def _assert_table_equals(table: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(table.columns) == COLUMNS
    assert list(table["grid_id"]) == list(expected["grid_id"])
    for column in ("code", "name", "population", "households", "open_issues", "overdue"):
        assert list(table[column]) == list(expected[column]), column
    for column in ("participation_rate", "volunteers_per_1000"):
        pd.testing.assert_series_equal(table[column].astype(float).reset_index(drop=True),
                                       expected[column].astype(float).reset_index(drop=True), check_names=False)


def _texts(app, kind: str) -> list[str]:
    return [str(element.value) for element in getattr(app, kind)]


def _metric(app, label: str) -> str:
    values = [metric.value for metric in app.metric if metric.label == label]
    assert len(values) == 1, (label, [m.label for m in app.metric])
    return values[0]


@pytest.mark.parametrize("lang", LANGS)
def test_figures_table_equals_grid_metrics_on_the_demo(open_page, demo_url, lang):
    app = open_page(demo_url, PAGE, lang=lang)
    assert not app.exception and not app.error
    assert app.title[0].value == i18n.translate(lang, "nav.grid_map")
    expected = _expected_metrics(demo_url)
    assert len(expected) > 1
    _assert_table_equals(_figures_table(app), expected)
    # The metric choice, in the page's language, and a sentence naming the highest grid.
    metric_choice = app.radio(key="grid_map_metric")
    assert metric_choice.options == [i18n.translate(lang, f"map.metric_{m}") for m in METRICS]
    highest = expected.loc[expected["open_issues"].idxmax(), "name"]
    summary = i18n.translate(lang, "map.summary", metric=i18n.translate(lang, "map.metric_open_issues"),
                             high_name=highest, high_value=format_number(expected["open_issues"].max()),
                             low_name=expected.loc[expected["open_issues"].idxmin(), "name"],
                             low_value=format_number(expected["open_issues"].min()))
    assert summary in _texts(app, "caption")
    assert i18n.translate(lang, "map.select_prompt") in _texts(app, "info")


@pytest.mark.parametrize("lang", LANGS)
def test_panel_shows_the_selected_grid(open_page, demo_url, lang):
    grids = _grids(demo_url)
    grid = grids.iloc[1]
    app = open_page(demo_url, PAGE, lang=lang)
    app.session_state[GRID_KEY] = int(grid["id"])
    app.run()
    assert not app.exception
    assert i18n.translate(lang, "map.panel_title", name=grid["name"], code=grid["code"]) in _texts(app, "subheader")
    assert _metric(app, i18n.translate(lang, "map.field_leader")) == grid["leader"]
    assert _metric(app, i18n.translate(lang, "map.field_population")) == format_number(grid["population"])
    assert _metric(app, i18n.translate(lang, "map.field_households")) == format_number(grid["households"])
    # The panel's open and overdue counts agree with the table (and so with the other pages).
    row = _expected_metrics(demo_url).set_index("grid_id").loc[int(grid["id"])]
    assert _metric(app, i18n.translate(lang, "map.field_open_issues")) == format_number(row["open_issues"])
    assert _metric(app, i18n.translate(lang, "map.field_overdue")) == format_number(row["overdue"])
    # The default actor (committee) may see the leader's phone number.
    phone = display_phone(grid["leader_phone"], may_see=True)
    assert any(phone in caption for caption in _texts(app, "caption"))


def test_a_click_on_the_map_selects_the_grid_across_the_app(open_page, demo_url):
    grids = _grids(demo_url)
    grid = grids.iloc[2]
    app = open_page(demo_url, PAGE, lang="en")
    # What the map component's change callback leaves for the page after a click on a grid.
    app.session_state[CLICK_KEY] = int(grid["id"])
    app.run()
    assert not app.exception
    assert app.session_state[GRID_KEY] == int(grid["id"])
    assert app.sidebar.selectbox(key="_grid_widget").value == int(grid["id"])
    assert f"{grid['name']} ({grid['code']})" in _texts(app, "subheader")
    # The selection holds on the next page too.
    app.switch_page("views/issues.py")
    app.run()
    assert app.sidebar.selectbox(key="_grid_widget").value == int(grid["id"])
    # And at the next sign-in (a new session of the same account).
    later = open_page(demo_url, "views/issues.py", lang="en")
    assert later.sidebar.selectbox(key="_grid_widget").value == int(grid["id"])


def test_metric_and_period_choices(open_page, demo_url):
    app = open_page(demo_url, PAGE, lang="en")
    app.radio(key="grid_map_metric").set_value("participation_rate").run()
    assert not app.exception
    assert i18n.translate("en", "map.metric_help_participation_rate") in _texts(app, "caption")
    assert any(text.startswith("The map is coloured by Participation rate") for text in _texts(app, "caption"))
    app.sidebar.selectbox(key="_period_widget").set_value("period_30d").run()
    assert not app.exception
    _assert_table_equals(_figures_table(app), _expected_metrics(demo_url, "period_30d"))


@pytest.mark.parametrize("lang", LANGS)
def test_empty_database(open_page, db_url, lang):
    app = open_page(db_url, PAGE, lang=lang)
    assert not app.exception
    assert app.title[0].value == i18n.translate(lang, "nav.grid_map")
    assert _texts(app, "info") == [i18n.translate(lang, "common.empty_database")]
    assert not app.dataframe


@pytest.mark.parametrize("lang", LANGS)
def test_grids_without_boundaries_get_the_table_and_a_message(open_page, db_url, lang):
    with write_session(get_engine(db_url)) as session:
        community = Area(code="C1", name="社区", level="community")
        leader = Person(name="王芳", phone="+8613800138000")
        session.add_all([community, leader])
        session.flush()
        session.add_all([Area(code="G01", name="第一网格", level="grid", parent_id=community.id, population=800,
                              households=300, leader_id=leader.id),
                         Area(code="G02", name="第二网格", level="grid", parent_id=community.id, population=600,
                              households=250, leader_id=leader.id)])
    app = open_page(db_url, PAGE, lang=lang)
    assert not app.exception
    infos = _texts(app, "info")
    assert i18n.translate(lang, "map.no_boundaries") in infos
    assert i18n.translate(lang, "map.select_prompt_sidebar") in infos
    _assert_table_equals(_figures_table(app), _expected_metrics(db_url))
    assert list(_figures_table(app)["population"]) == [800, 600]


def test_community_without_grids(open_page, db_url):
    with write_session(get_engine(db_url)) as session:
        session.add(Area(code="C1", name="社区", level="community"))
    app = open_page(db_url, PAGE, lang="en")
    assert not app.exception
    assert _texts(app, "info") == [i18n.translate("en", "map.no_grids")]
