"""Frees benchmark: what each of 100,000 tags frees, computed off the UI thread; sorting the
column; the selection total.

    .venv/bin/python bench/bench_frees.py [--rows 100000] [--baseline-rows 20000] [--batch 1000]
                                          [--runs 5] [--base 9aed998] [--out bench/results-frees.md]

Measured in one process run (offscreen Qt unless DISPLAY is set), on 100,000 synthetic rows with
CI-like manifest trees (tests/frees_trees.with_blobs: ~7 blobs per image, 20 % multi-platform
indexes, 2 % of the tags on a digest another tag has; ~0.9 million blob references):

  1. the worker-thread jobs, CPU (thread time) median / max of --runs:
     - from nothing: `frees_keys(rows)` with a new tracker (every digest interned, every root
       added); baselines: the code before this round (`git show BASE:regview/core/frees.py`,
       loaded as a module) and the obvious Python loop (a set of holders per blob);
     - as the window does it: the rows fed in batches of --batch as a listing delivers them
       (total of the feeds), then the last job after the load (sync + snapshot + keys);
     - a deletion of 1,000 tags, then their restore, on that tracker (sync + snapshot + keys);
  2. through a real TagsView: a listing arriving in batches (show_progress, append_tags, the
     event loop running between batches), `finish_loading()` → figures installed, with a 5 ms
     heartbeat QTimer on the UI thread (largest gap = the longest the UI waited meanwhile), and
     a deletion of 1,000 tags and their restore as the window does them (`remove_tags`;
     `append_tags` + `finish_loading`), each until the figures are installed;
     the UI-thread cost of installing the column;
  3. sorting the Frees column, ascending / descending (header → model → repaint), the first
     sort separately (it builds the column's order); baseline: QSortFilterProxyModel over a
     plain Python model, capped at --baseline-rows;
  4. the status bar's selection total for 1,000 / 10,000 / 100,000 selected rows.

--only-questions: questions asked once of all the rows as loaded — a policy preview from
nothing and with the snapshot the policy editor keeps; the editor's check that the tags it read
are the table's (`frees.same_tags`); what a delete plan of 1,000 tags frees, by
`frees.freed_by` and by a ledger over every tree (the code before).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ui"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import (  # noqa: E402
    QItemSelection,
    QItemSelectionModel,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import QApplication, QTableView  # noqa: E402

from regview.ui import pyside_fixes  # noqa: E402

pyside_fixes.apply()

from bench_ui import PlainModel, machine, timed  # noqa: E402


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def naive_frees(rows: list[Any]) -> list[int | None]:
    """The first thing one writes: holders per blob as sets, then a loop per tag."""
    holders: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    tags_on: dict[str, int] = {}
    for t in rows:
        if not t.digest:
            continue
        tags_on[t.digest] = tags_on.get(t.digest, 0) + 1
        for blob, size in t.blobs:
            holders.setdefault(blob, set()).add(t.digest)
            sizes[blob] = size
    out: list[int | None] = []
    for t in rows:
        if not t.digest or not t.blobs:
            out.append(None)
        elif tags_on[t.digest] > 1:
            out.append(0)
        else:
            out.append(sum(sizes[b] for b, _ in t.blobs if len(holders[b]) == 1))
    return out


def on_thread(fn: Any, *args: Any) -> tuple[float, float, Any]:
    """(wall ms, thread CPU ms, result) of fn(*args) on a worker thread."""

    def job() -> tuple[float, float, Any]:
        w, c = time.perf_counter(), time.thread_time()
        result = fn(*args)
        return (time.perf_counter() - w) * 1000, (time.thread_time() - c) * 1000, result

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(job).result()


def before_module(commit: str) -> Any:
    """regview.core.frees as it was at `commit` (the baseline), loaded beside today's."""
    import importlib.util
    import tempfile

    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:regview/core/frees.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="frees-before-")) / "frees_before.py"
    path.write_text(source)
    name = f"frees_before_{commit}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def bench_compute(rows: list[Any], runs: int, batch: int, base: str) -> dict[str, Any]:
    from regview.core.frees import SpaceTracker
    from regview.ui.models.frees_column import frees_keys
    from regview.ui.models.tags_model import UNKNOWN_FREES

    before = before_module(base)

    def before_keys(rows: list[Any]) -> list[int]:
        return before.TagSpace.of(rows).frees_keys(rows, UNKNOWN_FREES)  # type: ignore[no-any-return]

    def fed(rows: list[Any]) -> tuple[float, float, float, float, list[int]]:
        """CPU ms: the feeds of a listing in batches, the job after it, a deletion of 1,000
        tags, their restore; and the keys after the restore."""
        tracker = SpaceTracker()
        feeds = 0.0
        for end in range(batch, len(rows) + batch, batch):
            feeds += on_thread(tracker.feed, rows[:end])[1]
        last = on_thread(frees_keys, rows, tracker)[1]
        cut = len(rows) // 3
        left = rows[:cut] + rows[cut + 1000 :]
        deletion = on_thread(frees_keys, left, tracker)[1]
        _wall, restore, (keys, _space) = on_thread(frees_keys, rows, tracker)
        return feeds, last, deletion, restore, keys

    ours = [on_thread(frees_keys, rows) for _ in range(runs)]
    old = [on_thread(before_keys, rows) for _ in range(runs)]
    naive = [on_thread(naive_frees, rows) for _ in range(runs)]
    flows = [fed(rows) for _ in range(max(1, runs // 2))]
    keys = ours[-1][2][0]
    expected = [-1 if f is None else f for f in naive[-1][2]]
    assert keys == expected == old[-1][2] == flows[-1][4], "the computations disagree"
    refs = sum(len(t.blobs) for t in {t.digest: t for t in rows}.values())
    return {
        "refs": refs,
        "ours_cpu": [o[1] for o in ours],
        "before_cpu": [o[1] for o in old],
        "naive_cpu": [b[1] for b in naive],
        "feeds_cpu": [f[0] for f in flows],
        "last_cpu": [f[1] for f in flows],
        "delete_cpu": [f[2] for f in flows],
        "restore_cpu": [f[3] for f in flows],
    }


def as_loaded(rows: list[Any]) -> list[Any]:
    """The rows as the app holds them after a listing: 71-character digests, each manifest's
    blob digests separate string objects (as `json.loads` of the listing cache, or `str()` of
    each parsed manifest, gives them), put through a dict as `inventory._blobs` does (so each
    string's hash is computed and cached in it), one blobs tuple per manifest for its tags."""
    import hashlib
    import json
    from dataclasses import replace

    real: dict[str, str] = {}

    def long(d: str) -> str:
        if d not in real:
            real[d] = "sha256:" + hashlib.sha256(d.encode()).hexdigest()
        return real[d]

    per: dict[str, tuple[tuple[str, int], ...]] = {}
    out = []
    for t in rows:
        blobs = per.get(t.digest)
        if blobs is None:
            parsed = json.loads(json.dumps([[long(d), n] for d, n in t.blobs]))
            blobs = per[t.digest] = tuple({d: n for d, n in parsed}.items())
        out.append(replace(t, blobs=blobs))
    return out


def interned(rows: list[Any]) -> list[Any]:
    """The same rows with every blob digest `sys.intern`ed: one string object per digest."""
    from dataclasses import replace

    per: dict[int, tuple[tuple[str, int], ...]] = {}
    out = []
    for t in rows:
        blobs = per.get(id(t.blobs))
        if blobs is None:
            blobs = per[id(t.blobs)] = tuple((sys.intern(d), n) for d, n in t.blobs)
        out.append(replace(t, blobs=blobs))
    return out


def _per_manifest(rows: list[Any]) -> tuple[dict[str, Any], dict[str, int]]:
    """Tags de-duplicated by manifest digest first: digest → blobs, digest → tags on it."""
    from collections import Counter

    trees: dict[str, Any] = {}
    for t in rows:
        if t.digest and t.blobs:
            trees.setdefault(t.digest, t.blobs)
    return trees, Counter(t.digest for t in rows if t.digest)


def column_c_level(rows: list[Any]) -> list[int]:
    """The column from nothing in C-level building blocks, no Python loop per blob: holders
    counted by `Counter` over `chain.from_iterable` of the per-manifest blob lists, each
    reference weighted by its size when its blob has one holder, summed per manifest as the
    difference of a running total at its boundaries. (No referrers, no incremental state.)"""
    from collections import Counter
    from itertools import accumulate, chain
    from operator import itemgetter, mul, sub

    trees, on = _per_manifest(rows)
    lists = list(trees.values())
    holders = Counter(map(itemgetter(0), chain.from_iterable(lists)))
    weights = map(
        mul,
        map(itemgetter(1), chain.from_iterable(lists)),
        map((1).__eq__, map(holders.__getitem__, map(itemgetter(0), chain.from_iterable(lists)))),
    )
    running = list(accumulate(weights, initial=0))
    ends = list(accumulate(map(len, lists)))
    at = running.__getitem__
    alone = dict(zip(trees, map(sub, map(at, ends), map(at, [0, *ends[:-1]])), strict=True))
    return [
        -1 if t.digest not in alone else alone[t.digest] if on[t.digest] == 1 else 0 for t in rows
    ]


def column_generator(rows: list[Any]) -> list[int]:
    """The same with a generator over each manifest's blobs, summing those held once."""
    from collections import Counter
    from itertools import chain
    from operator import itemgetter

    trees, on = _per_manifest(rows)
    holders = Counter(map(itemgetter(0), chain.from_iterable(trees.values())))
    alone = {d: sum(n for b, n in tree if holders[b] == 1) for d, tree in trees.items()}
    return [
        -1 if t.digest not in alone else alone[t.digest] if on[t.digest] == 1 else 0 for t in rows
    ]


def with_signatures(rows: list[Any], every: int) -> list[Any]:
    """Every `every`-th row replaced by a cosign-style signature tag of the row before it (a
    subject, one small layer of its own): a repository whose images are signed."""
    from dataclasses import replace

    out = list(rows)
    for i in range(every, len(out), every):
        subject = out[i - 1].digest
        digest = f"sha256:sig-{i}"
        out[i] = replace(
            out[i],
            tag=f"{subject.replace(':', '-')}.sig",
            digest=digest,
            blobs=((f"sha256:siglayer-{i}", 900 + i % 100), (f"sha256:sigcfg-{i}", 233)),
            subject=subject,
            child_digests=(),
            platforms=(),
        )
    return out


def bench_scratch(
    rows: list[Any], runs: int, batch: int, sig_rows: int, sig_base: str
) -> dict[str, Any]:
    """From nothing on the rows as loaded: interned or not, and C-level variants; a listing of
    a signed repository fed in batches, ours against `sig_base`'s tracker."""
    from regview.ui.models.frees_column import frees_keys

    loaded = as_loaded(rows)
    same = interned(loaded)
    out: dict[str, Any] = {
        "objects": len({id(d) for t in loaded for d, _ in t.blobs}),
        "objects_interned": len({id(d) for t in same for d, _ in t.blobs}),
    }
    jobs = {
        "ours_bench": lambda: frees_keys(rows)[0],
        "ours_loaded": lambda: frees_keys(loaded)[0],
        "ours_interned": lambda: frees_keys(same)[0],
        "c_level": lambda: column_c_level(loaded),
        "c_level_interned": lambda: column_c_level(same),
        "generator": lambda: column_generator(loaded),
    }
    results: dict[str, Any] = {}
    for _ in range(runs):  # alternately, so that the machine's load falls on all alike
        for name, job in jobs.items():
            _wall, cpu, keys = on_thread(job)
            out.setdefault(name, []).append(cpu)
            results[name] = keys
    first = results["ours_bench"]
    assert all(keys == first for keys in results.values()), "the variants disagree"
    before = before_module(sig_base)
    signed = with_signatures(rows[:sig_rows], 50)

    def listing(tracker_class: Any) -> list[int]:
        from regview.ui.models.tags_model import UNKNOWN_FREES

        tracker = tracker_class()
        for end in range(batch, len(signed) + batch, batch):
            tracker.feed(signed[:end])
        return tracker.sync(signed).frees_keys(signed, UNKNOWN_FREES)  # type: ignore[no-any-return]

    from regview.core.frees import SpaceTracker

    for _ in range(max(1, runs // 2)):
        ours = on_thread(listing, SpaceTracker)
        old = on_thread(listing, before.SpaceTracker)
        assert ours[2] == old[2], "the signed listing's figures disagree"
        out.setdefault("signed_ours", []).append(ours[1])
        out.setdefault("signed_before", []).append(old[1])
    out["signed_rows"] = len(signed)
    # A signed repository of all the rows: from nothing, then 1,000 tags deleted (sync +
    # snapshot + keys each), ours and the tracker before, alternately.
    every = with_signatures(rows, 50)
    cut = len(every) // 3
    left = every[:cut] + every[cut + 1000 :]

    def deletion(tracker_class: Any) -> tuple[float, float, list[int]]:
        tracker = tracker_class()
        first = on_thread(frees_keys_with, tracker, every)
        after = on_thread(frees_keys_with, tracker, left)
        return first[1], after[1], after[2]

    for _ in range(max(1, runs // 2)):
        for name, cls in (("ours", SpaceTracker), ("before", before.SpaceTracker)):
            scratch, cut_cpu, keys = deletion(cls)
            out.setdefault(f"signed_scratch_{name}", []).append(scratch)
            out.setdefault(f"signed_delete_{name}", []).append(cut_cpu)
            out[f"signed_keys_{name}"] = keys
    assert out["signed_keys_ours"] == out["signed_keys_before"], "signed deletion disagrees"
    out["signed_all"] = len(every)
    return out


def bench_questions(rows: list[Any], runs: int) -> list[str]:
    """Questions asked once of all the rows (CPU, alternately): a policy preview (keep the 10
    newest of everything) from nothing, and with the snapshot the editor keeps; what a delete
    plan of 1,000 tags frees, by `freed_by` and by a ledger over every tree as before."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from regview.core.deletion.policy import Policy, preview
    from regview.core.frees import BlobLedger, TagSpace, freed_by, same_tags

    now = datetime.now(UTC)
    again = [replace(t) for t in rows]  # the listing read again, as the editor does
    shuffled = again[::-1]  # (read in another order: the slower multiset comparison)
    policy = Policy(name_regex_delete=".*", keep_n=10)
    space = TagSpace.of(rows)
    trees = {t.digest: t.blobs for t in rows if t.blobs}
    going = set(list(trees)[len(trees) // 3 :][:1000])
    jobs = {
        "preview, from nothing": lambda: preview(policy, rows, now).reclaimable_bytes,
        "preview, the snapshot kept": lambda: (
            preview(policy, rows, now, space=space).reclaimable_bytes
        ),
        "policy editor: same_tags(table's rows, the listing read again)": lambda: same_tags(
            rows, again
        ),
        "the same, read in another order": lambda: same_tags(rows, shuffled),
        "plan of 1,000 tags: freed_by": lambda: freed_by(trees, going),
        "plan of 1,000 tags: a ledger over every tree (before)": lambda: BlobLedger(trees).freed(
            going
        ),
    }
    cpu: dict[str, list[float]] = {}
    answers: dict[str, Any] = {}
    for _ in range(runs):
        for name, job in jobs.items():
            _wall, ms, answers[name] = on_thread(job)
            cpu.setdefault(name, []).append(ms)
    names = list(jobs)
    assert answers[names[0]] == answers[names[1]]
    assert answers[names[2]] is True and answers[names[3]] is True
    assert answers[names[4]] == answers[names[5]]
    lines = [
        f"| asked once of {len(rows):,} tags (CPU, thread time) | median | max |",
        "|---|---|---|",
    ]
    for name, xs in cpu.items():
        lines.append(f"| {name} | {statistics.median(xs):.0f} ms | {max(xs):.0f} ms |")
    return lines


def frees_keys_with(tracker: Any, rows: list[Any]) -> list[int]:
    from regview.ui.models.tags_model import UNKNOWN_FREES

    return tracker.sync(rows).frees_keys(rows, UNKNOWN_FREES)  # type: ignore[no-any-return]


class Heartbeat:
    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.beat)
        self.last = 0.0
        self.gaps: list[float] = []

    def beat(self) -> None:
        now = time.perf_counter()
        if self.last:
            self.gaps.append((now - self.last) * 1000)
        self.last = now

    def start(self) -> None:
        self.last = 0.0
        self.gaps = []
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return max(self.gaps, default=0.0)


def cpu_timed(fn: Any, app: QApplication, view: QTableView) -> tuple[float, float]:
    """(wall ms, UI-thread CPU ms) of `timed`."""
    c = time.thread_time()
    wall = timed(fn, app, view)
    return wall, (time.thread_time() - c) * 1000


def idle_gap(app: QApplication, seconds: float) -> float:
    """The heartbeat's largest gap with nothing computing: what the machine's load alone does."""
    beat = Heartbeat()
    beat.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    return beat.stop()


def wait_computed(
    app: QApplication, view: Any, change: Any, took: list[float] | None = None
) -> float:
    """ms from `change()` returning until the view installed new figures (`took` gets how
    long `change()` itself ran on the UI thread)."""
    done = threading.Event()
    view.frees.computed.connect(done.set)
    t0 = time.perf_counter()
    change()
    if took is not None:
        took.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    while not done.is_set():
        app.processEvents()
        time.sleep(0.001)
    view.frees.computed.disconnect(done.set)
    return (time.perf_counter() - t0) * 1000


def gap_while(app: QApplication, fn: Any, *args: Any) -> float:
    """The UI thread's largest heartbeat gap while `fn(*args)` runs on a worker thread."""
    beat = Heartbeat()
    with ThreadPoolExecutor(1) as pool:
        beat.start()
        job = pool.submit(fn, *args)
        while not job.done():
            app.processEvents()
            time.sleep(0.001)
        return beat.stop()


def bench_gaps(app: QApplication, rows: list[Any], runs: int, base: str) -> dict[str, Any]:
    """The UI's largest gap while the job from nothing runs: ours and the code before,
    alternately (the worker's GIL holding is what the UI thread waits for)."""
    from regview.ui.models.frees_column import frees_keys
    from regview.ui.models.tags_model import UNKNOWN_FREES

    before = before_module(base)
    out: dict[str, Any] = {"ours": [], "before": []}
    for _ in range(runs):
        out["ours"].append(gap_while(app, frees_keys, rows))
        out["before"].append(
            gap_while(app, lambda: before.TagSpace.of(rows).frees_keys(rows, UNKNOWN_FREES))
        )
    return out


def bench_view(app: QApplication, rows: list[Any], runs: int, batch: int) -> dict[str, Any]:
    from regview.ui import gc_guard
    from regview.ui.models import tags_model as tm
    from regview.ui.pages.tags_view import TagsView

    view = TagsView()
    view.resize(1300, 900)
    view.show()
    app.processEvents()
    out: dict[str, Any] = {"install": [], "deletion": []}
    beat = Heartbeat()
    real_set = view.model.set_frees

    def timed_set(*args: Any) -> bool:
        t0 = time.perf_counter()
        ok = real_set(*args)
        out["install"].append((time.perf_counter() - t0) * 1000)
        return ok

    view.model.set_frees = timed_set  # type: ignore[method-assign]
    trackers = view.frees._trackers
    real_feed = trackers.feed
    for run in range(2 * runs):
        # A listing as the controller delivers it (each run a repository the worker has not
        # seen): batches with the event loop running in between, ~20 ms apart. Every other
        # run is the baseline: the batches are not fed, everything is computed after the
        # load (as the code before this round did).
        feeding = run % 2 == 0
        trackers.feed = real_feed if feeding else (lambda key, rows: None)  # type: ignore[method-assign]
        tag = "" if feeding else "_nofeed"
        repository = f"group/app-{run}"
        view.set_tags(repository, [])
        beat.start()
        with gc_guard.busy():  # as the controller's loads: no full collection meanwhile
            for end in range(batch, len(rows) + batch, batch):
                view.show_progress(min(end, len(rows)), len(rows))
                view.append_tags(rows[end - batch : end])
                pause = time.perf_counter() + 0.02
                while time.perf_counter() < pause:
                    app.processEvents()
                    time.sleep(0.001)
            view.frees.wait(60)  # the feeds so far (a real listing's last batch takes a while)
            out.setdefault("until_shown" + tag, []).append(
                wait_computed(app, view, view.finish_loading, out.setdefault("finish", []))
            )
        out.setdefault("max_gap" + tag, []).append(beat.stop())
        gc_guard.settle()
        out.setdefault("idle_gap", []).append(idle_gap(app, 1.0))
        if not feeding:
            continue
        cut = len(rows) // 3
        gone = rows[cut : cut + 1000]
        idle_gap(app, 0.5)  # a deletion comes later than the throttle interval after a load
        # As the window does after a deletion (TagsPage.remove_tags): the deleted rows leave
        # the table range by range on the UI thread, then the figures come from the worker;
        # a restore (TagsPage.add_tags) appends them again.
        out["deletion"].append(
            wait_computed(
                app,
                view,
                lambda gone=gone: view.remove_tags(t.tag for t in gone),
                out.setdefault("set_tags", []),
            )
        )
        out.setdefault("restore", []).append(
            wait_computed(
                app,
                view,
                lambda gone=gone: (view.append_tags(gone), view.finish_loading()),
                out.setdefault("append_tags", []),
            )
        )
    # 3. sorting the column
    hh = view.table.horizontalHeader()
    asc, desc = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder
    out["first_sort"] = cpu_timed(lambda: hh.setSortIndicator(tm.FREES, desc), app, view.table)
    sorts = []
    for _ in range(runs):
        sorts.append(cpu_timed(lambda: hh.setSortIndicator(tm.FREES, asc), app, view.table))
        sorts.append(cpu_timed(lambda: hh.setSortIndicator(tm.FREES, desc), app, view.table))
    out["sorts"] = [w for w, _ in sorts]
    out["sorts_cpu"] = [c for _, c in sorts]
    ordered = [
        view.model.index(r, tm.FREES).data(int(Qt.ItemDataRole.UserRole) + 2) for r in range(200)
    ]
    assert ordered == sorted(ordered, reverse=True)
    # 4. the selection total
    out["selection"] = {}
    model, last = view.model, view.model.columnCount() - 1
    for n in sorted({n for n in (1_000, 10_000, len(rows)) if n <= len(rows)}):
        # the first n rows shown (sorted by Frees): a drag or Shift+click selection
        view.table.selectionModel().select(
            QItemSelection(model.index(0, 0), model.index(n - 1, last)),
            QItemSelectionModel.SelectionFlag.ClearAndSelect,
        )
        t0, c0 = time.perf_counter(), time.thread_time()
        text = view.summary()
        wall, cpu = (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000
        out["selection"][n] = (wall, cpu, text)
    view.close()
    return out


def bench_baseline_sort(app: QApplication, rows: list[Any]) -> list[float]:
    """bench_ui's baseline model; its column 2 holds an int per row, as Frees does."""
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(PlainModel(rows))
    view = QTableView()
    view.setModel(proxy)
    view.resize(1300, 900)
    view.show()
    app.processEvents()
    ms = [
        timed(lambda o=o: proxy.sort(2, o), app, view)
        for o in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder)
    ]
    view.close()
    return ms


def scratch_report(out: dict[str, Any], sig_base: str) -> list[str]:
    def row(label: str, key: str) -> str:
        xs = out[key]
        return f"| {label} | {statistics.median(xs):.0f} ms | {max(xs):.0f} ms |"

    return [
        f"blob digest objects as loaded: {out['objects']:,}; interned: {out['objects_interned']:,}",
        "",
        "| from nothing, whole column (CPU, thread time) | median | max |",
        "|---|---|---|",
        row(
            "frees_keys, new tracker, the bench's rows (short digests, base layers shared)",
            "ours_bench",
        ),
        row(
            "frees_keys, new tracker, rows as loaded (71-char digests, objects per manifest)",
            "ours_loaded",
        ),
        row("frees_keys, new tracker, the same digests sys.intern'ed", "ours_interned"),
        row(
            "C-level blocks (Counter over chain of per-manifest lists, running totals), as loaded",
            "c_level",
        ),
        row("C-level blocks, interned", "c_level_interned"),
        row("Counter + a generator over each manifest's blobs held once, as loaded", "generator"),
        "",
        f"| a signed repository ({out['signed_rows']:,} rows, 1 in 50 a signature): listing fed in "
        "batches, then the snapshot (CPU) | median | max |",
        "|---|---|---|",
        row("ours (referrers applied at the snapshot, to the roots they touch)", "signed_ours"),
        row(f"the tracker before ({sig_base}: a rebuild per batch)", "signed_before"),
        "",
        f"| a signed repository ({out['signed_all']:,} rows, 1 in 50 a signature), "
        "CPU | median | max |",
        "|---|---|---|",
        row("from nothing: ours", "signed_scratch_ours"),
        row(f"from nothing: the tracker before ({sig_base})", "signed_scratch_before"),
        row("1,000 tags deleted, the job: ours", "signed_delete_ours"),
        row(
            f"1,000 tags deleted, the job: the tracker before ({sig_base}: a rebuild)",
            "signed_delete_before",
        ),
    ]


def publish(out: str, before: str, what: str, lines: list[str]) -> None:
    """A partial run's report: printed, and appended to `out` when given."""
    report = "\n".join(
        [
            f"machine: {machine()}",
            f"load before: {before}",
            f"load after:  {load_average()}",
            what,
            "",
            *lines,
        ]
    )
    print(report)
    if out:
        with open(out, "a") as fh:
            fh.write("\n```\n" + report + "\n```\n")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--baseline-rows", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1000, help="rows per listing batch")
    ap.add_argument("--base", default="9aed998", help="commit whose frees.py is the baseline")
    ap.add_argument("--out", default="")
    ap.add_argument("--sig-rows", type=int, default=20_000, help="rows of the signed listing")
    ap.add_argument("--sig-base", default="db894e9", help="the tracker before the signed fix")
    ap.add_argument("--only-scratch", action="store_true", help="only the from-nothing variants")
    ap.add_argument(
        "--only-questions", action="store_true", help="only the policy preview and plan rows"
    )
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    from frees_trees import with_blobs
    from tagdata import make_tags

    from regview.ui import gc_guard

    gc_guard.install()  # as the app: cyclic collection on the UI thread only
    rows = with_blobs(make_tags(args.rows))
    gc_guard.settle()
    before = load_average()
    if args.only_questions:
        questions = bench_questions(as_loaded(rows), args.runs)
        what = "rows as loaded (71-character blob digests, objects per manifest)"
        publish(args.out, before, what, questions)
        return 0
    scratch = bench_scratch(rows, args.runs, args.batch, args.sig_rows, args.sig_base)
    scratch_lines = scratch_report(scratch, args.sig_base)
    if args.only_scratch:
        publish(args.out, before, f"rows: {len(rows):,}", scratch_lines)
        return 0
    compute = bench_compute(rows, args.runs, args.batch, args.base)
    gaps = bench_gaps(app, rows, args.runs, args.base)
    view = bench_view(app, rows, args.runs, args.batch)
    base_sort = bench_baseline_sort(app, rows[: args.baseline_rows])
    after = load_average()

    def med(xs: list[float]) -> str:
        return f"{statistics.median(xs):.0f}"

    lines = [
        f"machine: {machine()}",
        f"load before: {before}",
        f"load after:  {after}",
        f"rows: {len(rows):,}, blob references (distinct digests): {compute['refs']:,}",
        "",
        "| worker job (CPU, thread time) | median | max |",
        "|---|---|---|",
        f"| from nothing: frees_keys, new tracker (ours) | {med(compute['ours_cpu'])} ms "
        f"| {max(compute['ours_cpu']):.0f} ms |",
        f"| from nothing: the code before ({args.base}) | {med(compute['before_cpu'])} ms "
        f"| {max(compute['before_cpu']):.0f} ms |",
        f"| from nothing: naive Python loop | {med(compute['naive_cpu'])} ms "
        f"| {max(compute['naive_cpu']):.0f} ms |",
        f"| listing fed in batches of {args.batch:,}: all the feeds | {med(compute['feeds_cpu'])} ms "
        f"| {max(compute['feeds_cpu']):.0f} ms |",
        f"| listing fed in batches: the job after the last batch | {med(compute['last_cpu'])} ms "
        f"| {max(compute['last_cpu']):.0f} ms |",
        f"| 1,000 tags deleted: the job | {med(compute['delete_cpu'])} ms "
        f"| {max(compute['delete_cpu']):.0f} ms |",
        f"| 1,000 tags restored: the job | {med(compute['restore_cpu'])} ms "
        f"| {max(compute['restore_cpu']):.0f} ms |",
        "",
        "| in the window (wall) | median | max | CPU median |",
        "|---|---|---|---|",
        f"| TagsView: finish_loading itself (UI thread: re-sort, not frees) "
        f"| {med(view['finish'])} ms | {max(view['finish']):.0f} ms | |",
        f"| TagsView: … then → column shown (batches fed during the listing) "
        f"| {med(view['until_shown'])} ms | {max(view['until_shown']):.0f} ms | |",
        f"| baseline: … then → column shown (not fed: all after the load, as before) "
        f"| {med(view['until_shown_nofeed'])} ms | {max(view['until_shown_nofeed']):.0f} ms | |",
        f"| TagsView: 1,000 tags deleted: remove_tags (UI thread: the rows leave, not frees) "
        f"| {med(view['set_tags'])} ms | {max(view['set_tags']):.0f} ms | |",
        f"| TagsView: … then → column shown | {med(view['deletion'])} ms "
        f"| {max(view['deletion']):.0f} ms | |",
        f"| TagsView: the 1,000 restored: append_tags + finish_loading (UI thread) "
        f"| {med(view['append_tags'])} ms | {max(view['append_tags']):.0f} ms | |",
        f"| TagsView: … then → column shown | {med(view['restore'])} ms "
        f"| {max(view['restore']):.0f} ms | |",
        f"| UI thread: largest heartbeat gap over the listing (fed) | {med(view['max_gap'])} ms "
        f"| {max(view['max_gap']):.0f} ms | |",
        f"| baseline: the same, not fed | {med(view['max_gap_nofeed'])} ms "
        f"| {max(view['max_gap_nofeed']):.0f} ms | |",
        f"| same, nothing loading (the machine's load alone) | {med(view['idle_gap'])} ms "
        f"| {max(view['idle_gap']):.0f} ms | |",
        f"| UI thread: largest gap while the job from nothing runs (ours) "
        f"| {med(gaps['ours'])} ms | {max(gaps['ours']):.0f} ms | |",
        f"| baseline: the same, the code before | {med(gaps['before'])} ms "
        f"| {max(gaps['before']):.0f} ms | |",
        f"| UI thread: installing the column | {statistics.median(view['install']):.1f} ms "
        f"| {max(view['install']):.1f} ms | |",
        f"| sort Frees, first (builds the order) | {view['first_sort'][0]:.0f} ms | "
        f"| {view['first_sort'][1]:.0f} ms |",
        f"| sort Frees, asc/desc | {med(view['sorts'])} ms | {max(view['sorts']):.0f} ms "
        f"| {med(view['sorts_cpu'])} ms |",
        f"| baseline sort: QSortFilterProxyModel, {args.baseline_rows:,} rows "
        f"| {med(base_sort)} ms | {max(base_sort):.0f} ms | |",
    ]
    for n, (ms, cpu, _text) in view["selection"].items():
        lines.append(f"| selection total, {n:,} rows selected | {ms:.1f} ms | | {cpu:.1f} ms |")
    lines += ["", *scratch_lines]
    report = "\n".join(lines)
    print(report)
    if args.out:
        with open(args.out, "a") as fh:
            fh.write("\n```\n" + report + "\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
