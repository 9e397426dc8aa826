"""gc_guard: long-lived objects frozen after a load, threshold collections skip them, and the
major collection — the only one that frees cycles among frozen objects — waits until no load
runs and the user has left keyboard and mouse alone."""

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
    c.major()  # a known start: everything collected and frozen, nothing due
    yield c
    c.major()


def frozen_cycle() -> weakref.ref[Node]:
    node = Node()
    ref = weakref.ref(node)
    gc_guard.settle()
    del node
    return ref


def test_automatic_collection_is_off_and_settle_freezes(collector: gc_guard._Collector) -> None:
    assert not gc.isenabled()
    before = gc.get_freeze_count()
    keep = [Node() for _ in range(100)]
    gc_guard.settle()
    assert gc.get_freeze_count() >= before + 100
    assert keep


def test_threshold_collections_leave_frozen_cycles_alone(collector: gc_guard._Collector) -> None:
    ref = frozen_cycle()
    gc.collect(2)  # what a crossed generation-2 threshold runs
    assert ref() is not None, "a frozen object was traversed by a threshold collection"


def test_major_collection_waits_for_idle_then_frees_frozen_cycles(
    collector: gc_guard._Collector, qtbot: QtBot
) -> None:
    field = QLineEdit()
    qtbot.addWidget(field)
    field.show()
    ref = frozen_cycle()
    assert collector.major_due
    # typing keeps it waiting: a key every 100 ms for 1 s, with the 0.3-s idle rule
    for _ in range(10):
        qtbot.keyClick(field, Qt.Key.Key_A)
        qtbot.wait(100)
        assert ref() is not None, "the major collection ran while the user was typing"
    # a load keeps it waiting too
    with gc_guard.busy():
        qtbot.wait(800)
        assert ref() is not None, "the major collection ran during a load"
    # idle, nothing loading: it runs within a check interval or two
    qtbot.waitUntil(lambda: ref() is None, timeout=3000)
    assert not collector.major_due
    assert gc.get_freeze_count() > 0  # the survivors are frozen again


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
