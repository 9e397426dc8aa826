"""Tags/repositories models: qtmodeltester, sort on raw values, filters, incremental loading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, Qt
from pytestqt.modeltest import ModelTester
from tagdata import NOW, make_tags

from regview.core.model import ArtifactKind, RepositoryInfo, TagInfo
from regview.ui.models import tags_model as tm
from regview.ui.models.filtering import FilterError, FilterSpec
from regview.ui.models.repos_model import RepositoriesModel
from regview.ui.models.table_model import RAW_ROLE, ROW_ROLE

pytestmark = pytest.mark.ui


def _tag(name: str, size: int | None, days: float | None = None, digest: str = "") -> TagInfo:
    return TagInfo(
        repository="r",
        tag=name,
        digest=digest or f"sha256:{abs(hash(name)):064x}"[:71],
        media_type="",
        kind=ArtifactKind.IMAGE,
        size=size,
        created=None if days is None else NOW - timedelta(days=days),
    )


def _column(model: tm.TagsModel, col: int) -> list[str]:
    return [model.data(model.index(r, col)) for r in range(model.rowCount())]


def test_tags_model_passes_modeltester(qtmodeltester: ModelTester) -> None:
    model = tm.TagsModel()
    model.set_tags("group/app", make_tags(300))
    qtmodeltester.check(model)
    model.apply(FilterSpec(text="v0.1"))
    model.sort(tm.SIZE, Qt.SortOrder.DescendingOrder)
    model.append_rows(make_tags(20, seed=9))
    qtmodeltester.check(model)


def test_repositories_model_passes_modeltester(qtmodeltester: ModelTester) -> None:
    model = RepositoriesModel()
    model.set_repositories(
        [RepositoryInfo(f"group/p{i}", tag_count=i, size=i * 1000) for i in range(50)]
    )
    model.sort(1, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    assert model.data(model.index(0, 0)) == "group/p49"


def test_sizes_sort_as_python_ints_beyond_32_bits() -> None:
    model = tm.TagsModel()
    big = [_tag("a", 2**40), _tag("b", 3), _tag("c", 2**33 + 1), _tag("d", None)]
    model.set_tags("r", big)
    model.sort(tm.SIZE)
    assert _column(model, tm.TAG) == ["d", "b", "c", "a"]
    model.sort(tm.SIZE, Qt.SortOrder.DescendingOrder)
    assert _column(model, tm.TAG) == ["a", "c", "b", "d"]
    assert model.data(model.index(0, tm.SIZE), RAW_ROLE) == 2**40
    assert model.data(model.index(0, tm.SIZE)) == "1.0 TiB"


def test_created_sorts_by_time_and_shows_relative_with_exact_tooltip() -> None:
    model = tm.TagsModel()
    model.set_tags("r", [_tag("old", 1, 400), _tag("new", 1, 1), _tag("mid", 1, 30)])
    model.sort(tm.CREATED)
    assert _column(model, tm.TAG) == ["old", "mid", "new"]
    text = model.data(model.index(0, tm.CREATED))
    assert text.endswith("ago")
    tip = model.data(model.index(0, tm.CREATED), Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(str((NOW - timedelta(days=400)).astimezone().year))


def test_filter_words_regex_age_and_platform() -> None:
    tags = make_tags(2000)
    model = tm.TagsModel()
    model.set_tags("g/a", tags)
    model.apply(FilterSpec(text="v1.2"))
    expected = [t.tag for t in tags if "v1.2" in t.tag.lower() or "v1.2" in t.digest]
    assert sorted(_column(model, tm.TAG)) == sorted(expected)
    model.apply(FilterSpec(text=r"^v1\.2\.3-", regex=True))
    assert all(name.startswith("v1.2.3-") for name in _column(model, tm.TAG))
    assert model.rowCount() == sum(t.tag.startswith("v1.2.3-") for t in tags)
    with pytest.raises(FilterError):
        model.apply(FilterSpec(text="(a", regex=True))
    with pytest.raises(FilterError):
        model.apply(FilterSpec(text=r"(a)\1", regex=True))  # backreference: refused (RE2)
    cutoff = datetime.now(UTC) - timedelta(days=365)
    model.apply(FilterSpec(older_than_days=365))
    assert model.rowCount() == sum(1 for t in tags if t.created and t.created < cutoff)
    model.apply(FilterSpec(platform="linux/arm/v7"))
    assert model.rowCount() == sum(
        1 for t in tags if any(p.label == "linux/arm/v7" for p in t.platforms)
    )
    model.apply(FilterSpec())
    assert model.rowCount() == 2000


def test_typing_narrows_incrementally_and_backspace_widens() -> None:
    model = tm.TagsModel()
    model.set_tags("g/a", make_tags(3000))
    counts = []
    for text in ["v", "v1", "v1.", "v1.4", "v1.", "v1", ""]:
        model.apply(FilterSpec(text=text))
        counts.append(model.rowCount())
    assert counts[0] >= counts[1] >= counts[2] >= counts[3]
    assert counts[3] <= counts[4] == counts[2] and counts[-1] == 3000


def test_shared_digest_marks_all_tags_of_a_digest() -> None:
    model = tm.TagsModel()
    model.set_tags("r", [_tag("a", 1, digest="sha256:" + "1" * 64), _tag("b", 1)])
    model.append_rows([_tag("c", 1, digest="sha256:" + "1" * 64)])
    assert _column(model, tm.SHARED) == ["×2", "", "×2"]
    tip = model.data(model.index(0, tm.SHARED), Qt.ItemDataRole.ToolTipRole)
    assert "c" in tip and "1 other" in tip


def test_a_refreshed_tag_with_a_new_digest_moves_between_shared_groups() -> None:
    one, two = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    model = tm.TagsModel()
    model.set_tags(
        "r", [_tag("a", 1, digest=one), _tag("b", 1, digest=one), _tag("c", 1, digest=two)]
    )
    assert _column(model, tm.SHARED) == ["×2", "×2", ""]
    changed: list[int] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles: changed.extend(range(top.row(), bottom.row() + 1))
    )
    model.append_rows([_tag("b", 1, digest=two)])  # "b" was re-pushed: now the image of "c"
    assert _column(model, tm.SHARED) == ["", "×2", "×2"]
    assert {0, 1, 2} <= set(changed)  # every affected row repaints
    assert model.shared_with(2) == ["b"] and model.shared_with(0) == []
    model.append_rows([_tag("a", 1, digest=one)])  # the same facts again: nothing to repaint
    changed.clear()
    model.append_rows([_tag("c", 1, digest=two)])
    assert changed == []


def test_append_rows_respects_filter_and_exact_bounds(qtbot: object) -> None:
    model = tm.TagsModel()
    model.set_tags("r", [_tag("keep-1", 1)])
    model.apply(FilterSpec(text="keep"))
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.append_rows([_tag("keep-2", 1), _tag("drop", 1), _tag("keep-3", 1)])
    assert inserted == [(1, 2)]
    assert _column(model, tm.TAG) == ["keep-1", "keep-2", "keep-3"]
    # A refreshed tag replaces the old row instead of adding a duplicate.
    model.append_rows([_tag("keep-2", 99)])
    assert model.rowCount() == 3 and model.data(model.index(1, tm.SIZE), RAW_ROLE) == 99


def test_persistent_indexes_follow_their_rows_through_sort_and_filter() -> None:
    model = tm.TagsModel()
    model.set_tags("r", [_tag(n, s) for n, s in [("a", 3), ("b", 1), ("c", 2)]])
    pa = QPersistentModelIndex(model.index(0, 0))
    pc = QPersistentModelIndex(model.index(2, 1))
    model.sort(tm.SIZE)
    assert (pa.row(), pc.row(), pc.column()) == (2, 1, 1)
    model.apply(FilterSpec(text="^c$", regex=True))
    assert not pa.isValid() and pc.row() == 0
    assert model.data(QModelIndex(pc), ROW_ROLE).tag == "c"


def test_removing_scattered_rows_is_one_layout_change_that_keeps_the_selection(
    qtmodeltester: ModelTester,
) -> None:
    """A deletion of rows scattered over the display (every third of 120, sorted by size: 40
    runs) is told to views as one layout change, not 40 removals — each removal costs a view a
    pass over its rows — and selection and current row still follow their rows."""
    model = tm.TagsModel()
    model.set_tags("r", [_tag(f"t{i:03}", i) for i in range(120)])
    model.apply(FilterSpec(), tm.SIZE, descending=True)
    qtmodeltester.check(model)
    selection = QItemSelectionModel(model)
    keep = ["t001", "t050", "t118"]
    for name in keep:
        row = model.visible.index(model.backing_row(name) or 0)
        rows = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        selection.select(model.index(row, 0), rows)
    current = model.index(model.visible.index(model.backing_row("t050") or 0), 0)
    selection.setCurrentIndex(current, QItemSelectionModel.SelectionFlag.NoUpdate)
    removed: list[tuple[int, int]] = []
    layouts: list[bool] = []
    model.rowsRemoved.connect(lambda _p, first, last: removed.append((first, last)))
    model.layoutChanged.connect(lambda *_: layouts.append(True))
    gone = [f"t{i:03}" for i in range(0, 120, 3)]
    kept = model.remove_rows(gone)
    assert removed == [] and layouts == [True] and kept is not None and len(kept) == 80
    assert model.rowCount() == 80 and not set(gone) & set(_column(model, tm.TAG))
    assert _column(model, tm.TAG) == [f"t{i:03}" for i in range(119, -1, -1) if i % 3]
    chosen = sorted(model.row_at(i.row()).tag for i in selection.selectedRows())
    assert chosen == keep and model.row_at(selection.currentIndex().row()).tag == "t050"
    qtmodeltester.check(model)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["", "a", "b", "c", "d", "e"]), min_size=1, max_size=30),
    st.data(),
)
def test_after_a_removal_the_digest_groups_are_those_of_the_tags_left(
    digests: list[str], data: st.DataObject
) -> None:
    """The rows per digest (shared-digest marks, "same manifest as") after a removal are what a
    table of only the tags left would have — singles, groups shrinking to one, groups gone."""
    rows = [
        _tag(f"t{i:02}", i, digest=f"sha256:{d * 64}" if d else "") for i, d in enumerate(digests)
    ]
    model = tm.TagsModel()
    model.set_tags("r", rows)
    gone = data.draw(st.sets(st.sampled_from([t.tag for t in rows])))
    model.remove_rows(gone)
    fresh = tm.TagsModel()
    fresh.set_tags("r", [t for t in rows if t.tag not in gone])

    def groups(m: tm.TagsModel) -> dict[str, list[str]]:
        return {
            d: sorted(m.rows[r].tag for r in tm.digest_members(m._by_digest, d))
            for d in m._by_digest
        }

    assert groups(model) == groups(fresh)
    assert _column(model, tm.SHARED) == _column(fresh, tm.SHARED)


def test_remove_rows_reports_each_run_and_keeps_keys_sort_and_shared_groups(
    qtmodeltester: ModelTester,
) -> None:
    one = "sha256:" + "1" * 64
    model = tm.TagsModel()
    model.set_tags(
        "r",
        [_tag(f"t{i:02}", i, digest=one if i in (3, 7) else "") for i in range(12)],
    )
    model.apply(FilterSpec(text="t"), tm.SIZE, descending=True)  # t11 … t00
    qtmodeltester.check(model)
    assert _column(model, tm.SHARED)[11 - 7] == "×2"
    removed: list[tuple[int, int]] = []
    resets: list[bool] = []
    model.rowsRemoved.connect(lambda _p, first, last: removed.append((first, last)))
    model.modelReset.connect(lambda: resets.append(True))
    persistent = QPersistentModelIndex(model.index(11 - 5, 0))  # t05 stays
    kept = model.remove_rows(["t10", "t09", "t03", "t00", "unknown"])
    assert resets == [] and removed == [(11, 11), (8, 8), (1, 2)]  # from the end, in runs
    assert _column(model, tm.TAG) == ["t11", "t08", "t07", "t06", "t05", "t04", "t02", "t01"]
    assert len(kept) == 8 and persistent.row() == 4
    assert _column(model, tm.SHARED)[2] == ""  # t07's twin t03 went: no longer shared
    assert model.shared_with(model.backing_row("t07") or 0) == []
    # sort and filter work on what is left (the index closed up with the rows)
    model.sort(tm.TAG, Qt.SortOrder.AscendingOrder)
    assert _column(model, tm.TAG) == ["t01", "t02", "t04", "t05", "t06", "t07", "t08", "t11"]
    model.apply(FilterSpec(text="t0"))
    assert _column(model, tm.TAG) == ["t01", "t02", "t04", "t05", "t06", "t07", "t08"]
    assert model.remove_rows(["nothing"]) is None and removed == [(11, 11), (8, 8), (1, 2)]
    qtmodeltester.check(model)
    generation = model.generation
    assert model.remove_rows([t.tag for t in model.tags()]) == {}  # every row went
    assert model.rowCount() == 0 and model.rows == [] and model.generation > generation
    model.append_rows([_tag("t07", 7, digest=one)])
    assert _column(model, tm.TAG) == ["t07"] and _column(model, tm.SHARED) == [""]
    qtmodeltester.check(model)


@pytest.mark.parametrize("picked", [0, 1, 8, 9, 40, 3000])
def test_visible_rows_of_finds_each_shown_backing_row_in_display_order(picked: int) -> None:
    # a sort or a filter keystroke re-selects through this: few rows are scanned for, many
    # go through one pass; both must give the display rows, ascending, of the shown ones only
    model = tm.TagsModel()
    model.set_tags("g/app", make_tags(6000))
    model.apply(spec=FilterSpec(text="1-build"), sort_column=tm.CREATED, descending=True)
    step = max(1, 6000 // max(picked, 1))
    backing = set(range(0, 6000, step)[:picked]) | ({5999} if picked else set())
    expected = [i for i, b in enumerate(model.visible) if b in backing]
    assert model.visible_rows_of(backing) == expected
    assert len(model.visible) < 6000 or not picked  # the filter hides some: not all are found
