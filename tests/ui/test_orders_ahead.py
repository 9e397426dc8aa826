"""Column orders built while the table is idle, so that a column's first sort is quick."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from tagdata import make_tags

from regview.ui.models import tags_model as tm
from regview.ui.models.filtering import ORDERS_AHEAD_MIN_ROWS
from regview.ui.models.table_model import ORDERS_AHEAD_MS

COLUMNS = range(len(tm.HEADERS))


def _built(model: tm.TagsModel) -> list[int]:
    return [col for col in COLUMNS if model.index_.has_order(col)]


def test_an_idle_table_builds_every_column_order_as_a_sort_would(qtbot: QtBot) -> None:
    model = tm.TagsModel()
    model.set_tags("g/app", make_tags(ORDERS_AHEAD_MIN_ROWS + 1000))
    assert _built(model) == []  # not on the spot: the rows just arrived
    qtbot.waitUntil(lambda: _built(model) == list(COLUMNS), timeout=5000)
    index = model.index_
    for col in COLUMNS:
        keys = index.keys[col]
        # stable, as the sort on click: ties (every "Last pulled", most "Shared") keep row order
        assert index.order(col) == sorted(range(len(keys)), key=keys.__getitem__), col
    # and a sort now uses them: the display order is the built one
    model.sort(tm.SIZE)
    assert model.visible == index.order(tm.SIZE)


def test_no_orders_while_rows_keep_arriving_then_after_the_load(qtbot: QtBot) -> None:
    model = tm.TagsModel()
    tags = make_tags(ORDERS_AHEAD_MIN_ROWS * 2)
    half = len(tags) // 2
    model.set_tags("g/app", [])
    model.append_rows(tags[:half])
    qtbot.wait(ORDERS_AHEAD_MS * 3)
    assert _built(model) == []  # a listing still loading: its orders would be thrown away
    model.append_rows(tags[half:])
    model.resort()  # the load's end
    qtbot.waitUntil(lambda: _built(model) == list(COLUMNS), timeout=5000)
    keys = model.index_.keys[tm.TAG]
    assert model.index_.order(tm.TAG) == sorted(range(len(tags)), key=keys.__getitem__)


def test_a_deletion_drops_the_orders_and_an_idle_spell_builds_them_again(qtbot: QtBot) -> None:
    model = tm.TagsModel()
    tags = make_tags(ORDERS_AHEAD_MIN_ROWS + 1500)  # still above the threshold after 700 go
    model.set_tags("g/app", tags)
    qtbot.waitUntil(lambda: _built(model) == list(COLUMNS), timeout=5000)
    model.remove_rows([t.tag for t in tags[:700]])
    assert _built(model) == []
    qtbot.waitUntil(lambda: _built(model) == list(COLUMNS), timeout=5000)
    created = model.index_.keys[tm.CREATED]
    assert len(created) == len(tags) - 700
    assert model.index_.order(tm.CREATED) == sorted(range(len(created)), key=created.__getitem__)


def test_a_small_table_sorts_on_click_only(qtbot: QtBot) -> None:
    model = tm.TagsModel()
    model.set_tags("g/app", make_tags(ORDERS_AHEAD_MIN_ROWS - 1))
    qtbot.wait(ORDERS_AHEAD_MS * 3)
    assert _built(model) == []


def test_a_deletion_just_as_a_run_ends_still_gets_its_orders(qtbot: QtBot) -> None:
    # seen in a loaded test run: the rows changed after the last column was built but before
    # the run's last step noticed it was over; ending the run also cancelled the new start
    model = tm.TagsModel()
    tags = make_tags(ORDERS_AHEAD_MIN_ROWS + 1500)
    model.set_tags("g/app", tags)
    model._orders_timer.stop()  # the run below, step by step, instead of the timers'
    model._start_order_steps()
    model._step_timer.stop()
    for _ in COLUMNS:
        model._order_step()
    assert _built(model) == list(COLUMNS)  # every column built; the run not yet over
    model.remove_rows([t.tag for t in tags[:700]])
    model._order_step()  # the run ends
    qtbot.waitUntil(lambda: _built(model) == list(COLUMNS), timeout=5000)
