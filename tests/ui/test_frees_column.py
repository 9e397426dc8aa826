"""The tags table's Frees column and the selection total: computed off the UI thread from the
loaded details, sortable, current after deletions and restores, and the delete plan's number."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from frees_trees import image, index, with_blobs
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from tagdata import make_tags

from regview.core.deletion.plan import (
    Capabilities,
    DeleteSupport,
    RepositoryFacts,
    Selection,
    make_plan,
)
from regview.core.frees import TagSpace
from regview.core.model import TagInfo
from regview.ui.models import frees_column
from regview.ui.models import tags_model as tm
from regview.ui.models.table_model import RAW_ROLE
from regview.ui.pages.tags_view import SYNC_SELECTION, TagsView
from regview.util.units import human_size

pytestmark = pytest.mark.ui

MiB = 1 << 20
BASE = ("sha256:base", 50 * MiB)
CFG_A, CFG_B, CFG_C = ("sha256:cfg-a", 1000), ("sha256:cfg-b", 2000), ("sha256:cfg-c", 3000)
TOP_A, TOP_B = ("sha256:top-a", 3 * MiB), ("sha256:top-b", 7 * MiB)
ARM = ("sha256:base-arm", 40 * MiB)


def repository() -> list[TagInfo]:
    amd = image("amd64", "sha256:amd", BASE, CFG_A, TOP_A)
    arm = image("arm64", "sha256:arm", ARM, CFG_B, TOP_B)
    return [
        amd,
        index("v2", "sha256:I", [amd, arm]),
        image("v1", "sha256:V1", BASE, CFG_C, ("sha256:top-c", 9 * MiB)),
        image("stable", "sha256:V1", BASE, CFG_C, ("sha256:top-c", 9 * MiB)),
    ]


@pytest.fixture
def view(qtbot: QtBot) -> TagsView:
    v = TagsView()
    qtbot.addWidget(v)
    v.resize(1100, 400)
    return v


def load(view: TagsView, qtbot: QtBot, tags: list[TagInfo]) -> None:
    """As the controller does: rows arrive, the load finishes, the figures follow."""
    with qtbot.waitSignal(view.frees.computed, timeout=10_000):
        view.set_tags("app", [])
        view.append_tags(tags)
        view.finish_loading()


def column(view: TagsView, col: int = tm.FREES) -> dict[str, str]:
    m = view.model
    return {m.row_at(r).tag: m.index(r, col).data() for r in range(m.rowCount())}


def test_column_shows_what_each_tag_alone_frees(
    view: TagsView, qtbot: QtBot, qtmodeltester: Any
) -> None:
    load(view, qtbot, repository())
    assert column(view) == {
        "amd64": "0 B",  # the index v2 keeps every blob of its amd64 child
        "v2": "47.0 MiB",  # the arm64 child's tree: 40 MiB + 7 MiB + 2,000 bytes
        "v1": "0 B",  # the same manifest is also tagged "stable"
        "stable": "0 B",
    }
    tip = view.model.index(0, tm.FREES).data(Qt.ItemDataRole.ToolTipRole)
    assert "no other tag" in view.model.headerData(
        tm.FREES, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole
    )
    assert "garbage collection" in tip
    v1_row = next(r for r in range(4) if view.model.row_at(r).tag == "v1")
    assert "stays tagged stable" in view.model.index(v1_row, tm.FREES).data(
        Qt.ItemDataRole.ToolTipRole
    )
    # Next to Size on screen, whatever its place in the model.
    hh = view.table.horizontalHeader()
    assert hh.visualIndex(tm.FREES) == hh.visualIndex(tm.SIZE) + 1
    qtmodeltester.check(view.model)


def test_sorting_by_frees_uses_the_raw_bytes(view: TagsView, qtbot: QtBot) -> None:
    load(view, qtbot, [*repository(), image("solo", "sha256:S", ("sha256:big", 100 * MiB))])
    view.sort_by(tm.FREES, descending=True)
    order = [view.model.row_at(r).tag for r in range(view.model.rowCount())]
    assert order[:2] == ["solo", "v2"]
    raw = [view.model.index(r, tm.FREES).data(RAW_ROLE) for r in range(5)]
    assert raw == sorted(raw, reverse=True)


def test_selection_total_counts_a_shared_manifest_once_like_the_plan(
    view: TagsView, qtbot: QtBot
) -> None:
    tags = repository()
    load(view, qtbot, tags)
    view.select_tags(["v1", "stable"])
    # Before: "2 selected (18.0 MiB)" — each tag's size, the shared manifest counted twice.
    freed = 3000 + 9 * MiB
    assert "2 selected — frees 9.0 MiB after GC" in view.summary()
    facts = RepositoryFacts("reg", "app", tuple(tags), Capabilities(DeleteSupport.ALLOWED, True))
    plan = make_plan(facts, Selection.of_tags(["v1", "stable"]))
    assert plan.blast is not None and plan.blast.reclaimable_bytes == freed
    assert view.model.selection_frees(["v1", "stable"]) == freed
    view.select_tags(["v1", "stable", "amd64", "v2"])
    assert f"frees {human_size(TagSpace.of(tags).stored)} after GC" in view.summary()


def test_deleting_and_restoring_recompute_the_column(view: TagsView, qtbot: QtBot) -> None:
    tags = repository()
    load(view, qtbot, tags)
    # A deletion: the window re-sets the remaining rows (window_deletion._apply_mutation).
    with qtbot.waitSignal(view.frees.computed, timeout=10_000):
        view.set_tags("app", [t for t in tags if t.tag not in {"v1", "v2"}])
    assert column(view) == {
        "amd64": "3.0 MiB",  # no index holds its blobs any more (stable still uses the base)
        "stable": "9.0 MiB",  # the last tag on its manifest
    }
    # A restore: rows come back through append + finish_loading.
    with qtbot.waitSignal(view.frees.computed, timeout=10_000):
        view.append_tags([t for t in tags if t.tag == "v2"])
        view.finish_loading()
    assert column(view)["amd64"] == "0 B"


def test_the_computation_runs_off_the_ui_thread(
    view: TagsView, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = frees_column.frees_keys

    def recording(rows: list[TagInfo], *args: Any) -> tuple[list[int], TagSpace]:
        threads.append(threading.current_thread().name)
        return real(rows, *args)

    monkeypatch.setattr(frees_column, "frees_keys", recording)
    load(view, qtbot, repository())
    assert threads and all(name.startswith("regview-frees") for name in threads)


def test_until_computed_the_cell_says_so_and_a_stale_result_is_dropped(
    view: TagsView, qtbot: QtBot
) -> None:
    tags = repository()
    view.set_tags("app", tags)
    assert set(column(view).values()) == {tm.COMPUTING}
    keys, space = frees_column.frees_keys(tags)
    old = view.model.generation
    view.append_tags([image("late", "sha256:L", ("sha256:l", 5))])
    assert not view.model.set_frees(old, keys, space)  # rows changed meanwhile
    assert view.model.selection_frees(["v1"]) is None
    assert "frees: computing…" in (view.select_tags(["v1"]) or view.summary())


def test_a_large_selection_total_comes_from_the_worker(view: TagsView, qtbot: QtBot) -> None:
    rows = with_blobs(make_tags(5_000))
    load(view, qtbot, rows)
    first = view.model.rowCount() - SYNC_SELECTION - 500
    names = [view.model.row_at(r).tag for r in range(first, view.model.rowCount())]
    expected = TagSpace.of(rows).freed_bytes(names)
    with qtbot.waitSignal(
        view.selectionSummaryChanged,
        check_params_cb=lambda text: "computing" not in text,
        timeout=10_000,
    ) as summary:
        view.select_tags(names)
        assert "frees: computing…" in view.summary()
    assert f"{len(names):,} selected — frees {human_size(expected)} after GC" in summary.args[0]


def test_nothing_is_computed_while_a_listing_loads(
    view: TagsView, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = frees_column.frees_keys

    def counting(rows: list[TagInfo], *args: Any) -> tuple[list[int], TagSpace]:
        calls.append(len(rows))
        return real(rows, *args)

    monkeypatch.setattr(frees_column, "frees_keys", counting)
    tags = repository()
    view.set_tags("app", [])
    view.show_progress(0, len(tags))
    for t in tags:  # batches arrive over more than the throttle interval
        view.append_tags([t])
        qtbot.wait(frees_column.THROTTLE_MS // 2)
    view.frees.wait()
    assert calls == []
    with qtbot.waitSignal(view.frees.computed, timeout=10_000):
        view.finish_loading()
    assert calls == [len(tags)]


def test_an_unreadable_tag_says_unknown_and_a_change_says_computing_never_old_figures(
    view: TagsView, qtbot: QtBot
) -> None:
    tags = repository()
    broken = TagInfo("app", "broken", "", "", tm.ArtifactKind.UNKNOWN, error="manifest unknown")
    load(view, qtbot, [*tags, broken])
    assert column(view)["broken"] == tm.UNKNOWN  # was a blank cell
    assert column(view)["amd64"] == "0 B"
    # A deletion: until the new figures are in, no cell shows a figure (amd64's "0 B" is
    # wrong once v2 is gone), and the words are greyed like a placeholder.
    with qtbot.waitSignal(view.frees.computed, timeout=10_000):
        view.set_tags("app", [t for t in tags if t.tag != "v2"] + [broken])
        shown = column(view)
        assert shown == {
            "amd64": tm.COMPUTING,
            "v1": tm.COMPUTING,
            "stable": tm.COMPUTING,
            "broken": tm.UNKNOWN,
        }
        row = next(r for r in range(view.model.rowCount()) if view.model.row_at(r).tag == "amd64")
        cell = view.model.index(row, tm.FREES)
        assert cell.data(Qt.ItemDataRole.ForegroundRole) is not None
        assert "Computing" in cell.data(Qt.ItemDataRole.ToolTipRole)
        assert view.frees.computing
    assert column(view)["amd64"] == "3.0 MiB" and not view.frees.computing
    assert view.model.index(row, tm.FREES).data(Qt.ItemDataRole.ForegroundRole) is None
    # the word fits its cell (it was cut to "computin…")
    words = view.table.fontMetrics().horizontalAdvance(tm.COMPUTING)
    assert view.table.columnWidth(tm.FREES) >= words + 8


def test_a_deletion_updates_the_figures_without_computing_them_again(
    view: TagsView, qtbot: QtBot
) -> None:
    """The worker's tracker removes the roots that lost their last tag; the other roots'
    figures are not worked out again (with 100,000 tags that is the difference between
    ~0.1 s and ~0.5 s of CPU, bench/results-frees.md)."""
    rows = with_blobs(make_tags(2_000))
    load(view, qtbot, rows)
    tracker = view.frees._trackers.get("app")
    added: list[str] = []
    real_add = type(tracker.ledger).add

    class Counting(type(tracker.ledger)):  # type: ignore[misc]
        __slots__ = ()

        def add(self, root: str, tree: Any) -> None:
            added.append(root)
            real_add(self, root, tree)

    tracker.ledger.__class__ = Counting
    gone = {t.tag for t in rows[:100]}
    left = [t for t in rows if t.tag not in gone]
    with qtbot.waitSignal(view.frees.computed, timeout=10_000):
        view.set_tags("app", left)
    assert added == []
    expected = TagSpace.of(left).frees_keys(left, tm.UNKNOWN_FREES)
    assert view.model.index_.keys[tm.FREES] == expected


def test_a_failed_computation_is_not_built_upon(
    view: TagsView, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the worker leaves "computing…" (and the log), and the next change starts from
    nothing rather than from a ledger the failure left half changed."""
    tags = repository()
    load(view, qtbot, tags)
    first = view.frees._trackers.get("app")
    real = frees_column.frees_keys

    failed: list[int] = []

    def failing(rows: list[TagInfo], *args: Any) -> tuple[list[int], TagSpace]:
        failed.append(len(rows))
        raise RuntimeError("a bug")

    monkeypatch.setattr(frees_column, "frees_keys", failing)
    view.set_tags("app", tags[:2])
    qtbot.waitUntil(lambda: bool(failed), timeout=10_000)
    view.frees.wait()
    qtbot.wait(50)
    assert set(column(view).values()) == {tm.COMPUTING}
    monkeypatch.setattr(frees_column, "frees_keys", real)
    with qtbot.waitSignal(view.frees.computed, timeout=10_000):
        view.set_tags("app", tags)
    assert view.frees._trackers.get("app") is not first
    assert column(view)["v2"] == "47.0 MiB"


def test_trackers_are_kept_by_rows_as_well_as_by_count() -> None:
    """The worker keeps the trackers of recently shown repositories so that reopening one
    applies only what changed: up to `kept` of them, and no more than `rows` rows together
    (a tracker's memory grows with its rows), least recently used going first — but never
    the one in use, however large."""

    def rows(repo: str, n: int) -> list[TagInfo]:
        return [
            image(f"t{i}", f"sha256:{repo}{i}", (f"sha256:{repo}-own{i}", 1), repository=repo)
            for i in range(n)
        ]

    trackers = frees_column.Trackers(kept=4, rows=1000)
    for repo, n in (("big", 600), ("a", 150), ("b", 150), ("c", 100)):
        trackers.keys(repo, rows(repo, n))
    assert trackers.keys_of() == ["big", "a", "b", "c"]  # 1,000 rows: all kept
    first = trackers.get("big")  # reopened: its tracker, applying nothing new
    trackers.keys("big", first._rows)
    assert trackers.get("big") is first and trackers.keys_of()[-1] == "big"
    trackers.keys("d", rows("d", 300))  # 1,300 rows: the least recently used go
    assert trackers.keys_of() == ["c", "big", "d"]
    trackers.keys("e", rows("e", 5))
    trackers.keys("f", rows("f", 5))
    assert trackers.keys_of() == ["big", "d", "e", "f"]  # four at most
    trackers.keys("huge", rows("huge", 2000))  # over the bound alone: kept, alone
    assert trackers.keys_of() == ["huge"]
