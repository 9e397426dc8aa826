"""gc_guard: the start-up heap frozen once for good (the first settle), later settles freeze
nothing; threshold collections of generations 0–1 at any time; generation 2 — where the rows of
a load end up — only when no load runs and the user has left keyboard and mouse alone."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from regview.ui import gc_guard

pytestmark = pytest.mark.ui


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


@pytest.fixture
def collector(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[gc_guard._Collector]:
    gc_guard.install()
    c = gc_guard._collector
    assert c is not None
    monkeypatch.setattr(gc_guard, "IDLE_S", 0.3)
    monkeypatch.setattr(c, "started", True)  # the start-up heap is frozen already
    c.major()  # a known start: generation 2 collected, nothing due
    yield c
    c.major()


def old_cycle() -> weakref.ref[Node]:
    """A cycle that became garbage after reaching generation 2 (rows of a load, a closed
    dialog): only a generation-2 collection frees it."""
    node = Node()
    ref = weakref.ref(node)
    gc.collect(0)
    gc.collect(1)  # survivors of generation 1 move to generation 2
    gc_guard.settle()  # a load finished
    del node
    return ref


def test_automatic_collection_is_off_and_only_the_first_settle_freezes(
    collector: gc_guard._Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not gc.isenabled()
    monkeypatch.setattr(collector, "started", False)  # as at start-up
    before = gc.get_freeze_count()
    keep = [Node() for _ in range(100)]
    gc_guard.settle()  # start-up done
    frozen = gc.get_freeze_count()
    assert frozen >= before + 100
    later = [Node() for _ in range(100)]
    gc_guard.settle()  # a load finished: nothing more is frozen
    assert gc.get_freeze_count() == frozen
    assert keep and later


def test_the_start_up_heap_is_never_traversed_again(collector: gc_guard._Collector) -> None:
    node = Node()
    ref = weakref.ref(node)
    gc.freeze()  # what the first settle does with the start-up heap
    del node
    collector.major()  # the idle collection
    gc.collect(2)  # and a crossed generation-2 threshold
    assert ref() is not None, "a frozen start-up object was traversed"


def test_generation_2_waits_for_idle_then_frees_old_cycles(
    collector: gc_guard._Collector, qtbot: QtBot
) -> None:
    field = QLineEdit()
    qtbot.addWidget(field)
    field.show()
    ref = old_cycle()
    assert collector.major_due
    # typing keeps it waiting: a key every 100 ms for 1 s, with the 0.3-s idle rule
    for _ in range(10):
        qtbot.keyClick(field, Qt.Key.Key_A)
        qtbot.wait(100)
        assert ref() is not None, "generation 2 was collected while the user was typing"
    # a load keeps it waiting too
    with gc_guard.busy():
        qtbot.wait(800)
        assert ref() is not None, "generation 2 was collected during a load"
    # idle, nothing loading: it runs within a check interval or two
    qtbot.waitUntil(lambda: ref() is None, timeout=3000)
    assert not collector.major_due


def test_an_unfinished_load_leaves_nothing_due(collector: gc_guard._Collector) -> None:
    with gc_guard.busy():
        assert collector.busy == 1
    assert collector.busy == 0
    assert not collector.major_due


def test_no_generation_2_collection_while_a_load_runs(collector: gc_guard._Collector) -> None:
    collected: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    gc.callbacks.append(note)
    try:
        for _ in range(collector.threshold[2] + 1):
            gc.collect(1)  # each one counts towards generation 2's threshold
        collected.clear()
        assert gc.get_count()[2] > collector.threshold[2]
        with gc_guard.busy():
            collector.check()
        assert 2 not in collected, "a full collection ran in the middle of a load"
        collector.last_activity -= gc_guard.IDLE_S + 1  # long quiet: nothing due but this
        collector.major_due = False
        collector.check()
        assert collected[-1] == 2
    finally:
        gc.callbacks.remove(note)


def test_during_a_load_a_young_collection_takes_generation_1_with_it(
    collector: gc_guard._Collector,
) -> None:
    """What survives a young collection during a load is nearly all rows on their way to
    generation 2: collected together with generation 1, each is traversed once and no pause
    holds ten collections' worth of them. Outside a load, generation 0 alone as before."""
    collected: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    def young_over_threshold() -> list[Node]:
        gc.collect(1)  # generations 0 and 1 empty, generation 1's count back to 0
        made = [Node() for _ in range(collector.threshold[0] + 50)]
        assert gc.get_count()[0] > collector.threshold[0]
        assert gc.get_count()[1] <= collector.threshold[1]
        return made

    gc.callbacks.append(note)
    try:
        rows = young_over_threshold()
        collected.clear()
        with gc_guard.busy():
            collector.check()
        assert collected == [1]
        survivor = rows[0]
        assert any(o is survivor for o in gc.get_objects(generation=2)), (
            "a survivor of the collection during the load was left in a young generation"
        )

        rows = young_over_threshold()
        collected.clear()
        collector.last_activity = gc_guard.time.monotonic()  # the user is active: no major
        collector.check()
        assert collected == [0]
    finally:
        gc.callbacks.remove(note)
