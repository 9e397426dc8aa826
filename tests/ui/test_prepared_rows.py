"""Rows prepared on the loader's worker thread: same model state as rows the model prepares
itself, through new rows, refreshed rows and duplicates; the feed prepares off the UI thread and
hands the UI aligned slices."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace

import pytest
from connect_support import run
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from tagdata import make_tags

from regview.core.model import ArtifactKind, TagInfo
from regview.ui.loader import RowFeed
from regview.ui.models import tags_model as tm
from regview.ui.models.filtering import FilterSpec
from regview.ui.models.table_model import IndexedTableModel, PreparedRows

pytestmark = pytest.mark.ui


def _state(model: tm.TagsModel) -> tuple[object, ...]:
    i = model.index_
    return (
        model.rows,
        model.visible,
        i.keys,
        i.hay,
        i.ids,
        i.names,
        i.times,
        i.platforms,
        dict(model._by_digest),
    )


def test_tag_facts_equal_what_the_model_hooks_compute() -> None:
    model = tm.TagsModel()
    rows = [*make_tags(60, seed=3), TagInfo("r", "Odd-Case", "", "", ArtifactKind.UNKNOWN)]
    for row in rows:
        assert tm.tag_facts(row) == IndexedTableModel.row_facts(model, row)


def test_prepared_and_plain_batches_give_the_same_model() -> None:
    tags = make_tags(500, seed=4)
    # a second pass: some tags re-pushed (new digest, size), one batch repeating a tag twice
    again = [replace(t, size=(t.size or 0) + 1, digest=tags[0].digest) for t in tags[::7]]
    again.append(again[0])
    batches = [tags[i : i + 64] for i in range(0, len(tags), 64)] + [again, tags[:5]]
    plain, prepared = tm.TagsModel(), tm.TagsModel()
    for model in (plain, prepared):
        model.set_tags("group/app", [])
        model.apply(FilterSpec(text="v0.1"), sort_column=tm.SIZE, descending=True)
    for batch in batches:
        plain.append_rows(batch)
        prepared.append_rows(tm.prepare_tags(batch))
        assert _state(prepared) == _state(plain)
    for model in (plain, prepared):
        model.resort()
    assert _state(prepared) == _state(plain)
    assert prepared.visible and len(prepared.visible) < len(prepared.rows)


def test_prepared_appends_pass_modeltester(qtmodeltester: ModelTester) -> None:
    model = tm.TagsModel()
    tags = make_tags(400, seed=5)
    model.set_tags("group/app", tags[:100])
    model.sort(tm.CREATED, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    model.append_rows(tm.prepare_tags(tags[100:300]))
    model.append_rows(tm.prepare_tags([replace(t, size=1) for t in tags[250:350]]))
    model.resort()
    qtmodeltester.check(model)
    assert model.rowCount() == 350


def test_prepared_rows_refuse_misaligned_facts() -> None:
    rows = make_tags(3)
    with pytest.raises(ValueError, match="same length"):
        PreparedRows(rows, [r.tag for r in rows], [])
    prepared = tm.prepare_tags(rows)
    part = prepared.slice(1)
    assert list(part) == rows[1:]
    assert part.idents == [r.tag for r in rows[1:]]
    assert part.facts == [tm.tag_facts(r) for r in rows[1:]]


def test_feed_prepares_on_the_worker_and_delivers_aligned_chunks(
    qloop: asyncio.AbstractEventLoop,
) -> None:
    main = threading.current_thread()
    prepared_on: set[bool] = set()
    got: list[PreparedRows[TagInfo]] = []

    def prepare(rows: list[TagInfo]) -> list[TagInfo]:
        prepared_on.add(threading.current_thread() is main)
        return tm.prepare_tags(rows)

    def on_rows(rows: list[TagInfo]) -> None:
        assert threading.current_thread() is main
        assert isinstance(rows, PreparedRows)
        got.append(rows)
        time.sleep(len(rows) * 50e-6)  # 50 µs of UI work per row

    tags = make_tags(3000, seed=6)
    feed = RowFeed(qloop, on_rows, interval=0.02, budget=0.005, prepare=prepare)

    def produce() -> None:
        for i in range(0, len(tags), 150):
            feed.put(tags[i : i + 150])

    async def scenario() -> None:
        producer = threading.Thread(target=produce)
        producer.start()
        end = time.monotonic() + 20
        while time.monotonic() < end:  # polling another thread's progress
            if not producer.is_alive() and feed.delivered >= len(tags):
                break
            await asyncio.sleep(0.01)
        producer.join()

    run(qloop, scenario())
    assert prepared_on == {False}
    assert [t for chunk in got for t in chunk] == tags
    for chunk in got:
        assert chunk.idents == [t.tag for t in chunk]
        assert chunk.facts == [tm.tag_facts(t) for t in chunk]
    # after the first (which calibrates), a chunk costs about the 5 ms budget: ≤ 2 × 100 rows
    assert max(len(c) for c in got[1:]) <= 200


def test_the_loader_shortens_the_gil_switch_interval(qapp: object) -> None:
    import sys

    from regview.ui.loader import SWITCH_INTERVAL, BackgroundLoader

    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        BackgroundLoader()
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
    finally:
        sys.setswitchinterval(before)


def test_finish_hands_over_the_rest_in_slices_with_ui_turns_between(
    qloop: asyncio.AbstractEventLoop,
) -> None:
    events: list[str] = []
    sizes: list[int] = []

    def on_rows(rows: list[TagInfo]) -> None:
        events.append("rows")
        sizes.append(len(rows))
        time.sleep(len(rows) * 50e-6)  # 50 µs of UI work per row

    feed = RowFeed(qloop, on_rows, interval=60, budget=0.005, prepare=tm.prepare_tags)
    tags = make_tags(2000, seed=7)
    feed.put(tags[:1000])  # the worker got far ahead: nothing was delivered yet
    feed.put(tags[1000:])

    async def scenario() -> None:
        def tick() -> None:
            events.append("tick")
            if feed.delivered < len(tags):
                qloop.call_later(0, tick)

        qloop.call_soon(tick)
        await feed.finish()

    run(qloop, scenario())
    assert sum(sizes) == len(tags)
    assert max(sizes[1:]) <= 200  # ~5 ms slices after the first, calibrating one
    ticks_between = events[events.index("rows") : len(events) - events[::-1].index("rows")]
    assert ticks_between.count("tick") >= len(sizes) - 1  # the UI loop ran between slices
    feed.put(make_tags(5, seed=8))
    run(qloop, asyncio.sleep(0.05))
    assert sum(sizes) == len(tags)  # finished: later rows belong to nobody
