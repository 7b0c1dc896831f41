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
