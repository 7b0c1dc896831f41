"""The text summary every chart carries: the highest and the lowest value, read off the data."""

import pandas as pd

from components.charts import describe, few_series, format_value


def test_a_bar_summary_names_the_highest_and_the_lowest_bar():
    frame = pd.DataFrame({"grid": ["东区", "西区", "南区", "北区"], "open": [7, 12, 3, 9]})
    text = describe(frame, x="grid", y="open", lang="en")
    top = frame.sort_values("open").iloc[-1]
    bottom = frame.sort_values("open").iloc[0]
    assert text == f"Highest: {top['grid']} ({top['open']}); lowest: {bottom['grid']} ({bottom['open']})."
    assert text == "Highest: 西区 (12); lowest: 南区 (3)."
    assert describe(frame, x="grid", y="open", lang="zh-CN") == "最高：西区（12）；最低：南区（3）。"


def test_values_keep_a_decimal_only_when_they_have_one_and_carry_the_unit():
    assert format_value(1607.5) == "1,607.5"
    assert format_value(1018.0) == "1,018"
    frame = pd.DataFrame({"grid": ["A", "B"], "rate": [24.5, 3.5]})
    assert describe(frame, x="grid", y="rate", unit="%", lang="en") == "Highest: A (24.5%); lowest: B (3.5%)."


def test_a_line_summary_states_each_series_and_a_single_value_is_stated_as_such():
    frame = pd.DataFrame({"month": ["2026-01", "2026-02", "2026-03"] * 2,
                          "issues": [4, 9, 6, 2, 2, 5],
                          "series": ["Reported"] * 3 + ["Resolved"] * 3})
    text = describe(frame, x="month", y="issues", series="series", lang="en")
    assert text == ("Reported — Highest: 2026-02 (9); lowest: 2026-01 (4). "
                    "Resolved — Highest: 2026-03 (5); lowest: 2026-01 (2).")
    assert describe(frame.head(1), x="month", y="issues", lang="en") == "2026-01: 4."
    assert describe(frame.iloc[0:0], x="month", y="issues", lang="en") == ""


def test_projector_mode_keeps_the_series_with_the_largest_totals():
    frame = pd.DataFrame({"series": list("aabbccdd"), "value": [1, 1, 5, 5, 2, 2, 9, 0]})
    kept = few_series(frame, y="value", series="series", limit=3)
    totals = frame.groupby("series")["value"].sum().sort_values(ascending=False)
    assert set(kept["series"]) == set(totals.index[:3]) == {"b", "d", "c"}
    assert few_series(frame, y="value", series="series", limit=4) is frame


def test_the_specs_drawn_unvalidated_are_valid_vega_lite(monkeypatch):
    """show_chart skips Altair's schema check on every rerun; every kind of chart it draws
    (bars, horizontal and coloured bars, lines, layers) must still be a valid Vega-Lite spec."""
    import altair as alt
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    from components import charts

    drawn = []
    monkeypatch.setattr(charts.st, "vega_lite_chart", lambda *, spec, **options: drawn.append(spec))
    monkeypatch.setattr(charts.st, "caption", lambda text: None)
    frame = pd.DataFrame({"month": ["2026-01", "2026-02"] * 2, "n": [1, 2, 3, 4], "series": list("aabb")})
    charts.bar_chart(frame, x="month", y="n", x_title="Month", y_title="N", summary="s")
    charts.bar_chart(frame, x="month", y="n", x_title="Month", y_title="N", summary="s", color="series",
                     horizontal=True, sort=["2026-02", "2026-01"])
    charts.line_chart(frame, x="month", y="n", series="series", x_title="Month", y_title="N", summary="s")
    bars = alt.Chart(frame).mark_bar().encode(x="n:Q", y="month:N")
    charts.show_chart(alt.layer(bars, bars.mark_text()), height=200, summary="s")
    assert len(drawn) == 4
    schema = load_schema()
    for spec in drawn:
        validate_jsonschema(spec, schema)  # raises on an invalid spec
        assert "usermeta" not in spec and spec["height"] >= 200
        assert list(spec["datasets"].values())[0][0] == {"month": "2026-01", "n": 1, "series": "a"}


def test_a_chart_of_many_grids_keeps_the_lowest_and_says_so():
    from components.charts import lowest_grids

    frame = pd.DataFrame({"grid_name": [f"G{n:04d}" for n in range(1000)], "percent": [(n * 37) % 1000 / 10
                                                                                      for n in range(1000)]})
    shown, note = lowest_grids(frame, y="percent", limit=15)
    assert sorted(shown["percent"]) == sorted(frame["percent"])[:15]
    assert note == "图中只列出参与率最低的 15 个网格（共 1,000 个），便于在投影上看清；上面的说明涵盖全部网格。"
    few = frame.head(12)
    kept, note = lowest_grids(few, y="percent", limit=15)
    assert kept is few and note == ""
