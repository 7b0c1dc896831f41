"""Pure parts of projector mode and the slideshow: paging a table, the slide deck, its steps and timer."""

import pandas as pd

from components.kpi import projector_columns
from components.projector import PROJECTOR_ROWS, page_slice
from components.slideshow import Slide, deck, due, step


def test_a_table_is_cut_into_pages_and_the_page_is_kept_in_range():
    frame = pd.DataFrame({"n": range(19)})
    rows, page, pages = page_slice(frame, 0, rows=8)
    assert (list(rows["n"]), page, pages) == (list(range(8)), 0, 3)
    rows, page, pages = page_slice(frame, 2, rows=8)
    assert list(rows["n"]) == [16, 17, 18]
    rows, page, _ = page_slice(frame, 7, rows=8)  # the table shrank since the page was chosen
    assert page == 2 and list(rows["n"]) == [16, 17, 18]
    rows, page, pages = page_slice(frame.iloc[0:0], 0)
    assert rows.empty and (page, pages) == (0, 1)
    assert PROJECTOR_ROWS <= 8  # fits 1024×768 at the projector's type size


def test_the_deck_has_the_headlines_the_map_and_one_slide_per_grid():
    metrics = pd.DataFrame({"grid_id": [4, 9, 2]})
    assert deck(metrics, True) == [Slide("headlines"), Slide("map"), Slide("grid", 4), Slide("grid", 9),
                                   Slide("grid", 2)]
    assert deck(metrics, False)[1] == Slide("grid", 4)


def test_slides_go_round_and_the_timer_moves_on_only_after_the_interval():
    assert step(0, 5, -1) == 4 and step(4, 5, 1) == 0 and step(2, 5, 1) == 3
    assert not due(100.0, 105.0, 20)
    assert due(100.0, 119.5, 20)  # a tick may come a little early
    assert due(100.0, 130.0, 20)
    assert not due(100.0, 1000.0, 0)  # off


def test_cards_in_projector_mode_sit_at_most_three_a_row():
    assert [projector_columns(n) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 3, 2, 3, 3]


def test_the_clicker_script_takes_plain_widget_keys_only():
    import pytest

    from components.projector import clicker_keys

    with pytest.raises(ValueError):
        clicker_keys(previous='x"; alert(1); "', following="slideshow_next")


def _projector_script():
    """The toggle drawn or not (session_state["draw"]), and the mode written out."""
    from types import SimpleNamespace

    import streamlit as st

    from components.projector import projector_mode, projector_toggle

    on = projector_mode()
    if st.session_state.get("draw", True):
        projector_toggle(SimpleNamespace(projector=on, t=lambda key: key))
    st.write(f"projector={on}")


def test_projector_mode_outlives_a_run_without_its_toggle_and_a_run_without_the_address():
    """Streamlit drops a widget's value after a run that does not keep the widget (a page change
    it merged with another request on a busy server), and such a run may not know the address
    either: the mode stays what the session chose (it fell back to the address: a projected
    meeting turned back into the desktop view)."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_projector_script)
    app.query_params["mode"] = "projector"
    app.run()
    assert app.markdown[0].value == "projector=True" and app.toggle(key="projector_mode").value is True
    app.session_state["draw"] = False
    app.run()  # the toggle not drawn: Streamlit forgets its value at the end of this run
    app.query_params.clear()
    app.run()
    assert app.markdown[0].value == "projector=True"
    app.session_state["draw"] = True
    app.run()
    assert app.toggle(key="projector_mode").value is True
    app.toggle(key="projector_mode").set_value(False).run()
    app.session_state["draw"] = False
    app.run()
    app.query_params["mode"] = "projector"  # an old address: the session's choice stands
    app.run()
    assert app.markdown[0].value == "projector=False"
