"""What the tags model keeps per row: shared objects, not copies (issue 10: RSS ≤ 300 MB at
100,000 tags; the model's own structures were ~100 MB of it, half of them copies of what the
rows already hold or one-element containers)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tagdata import make_tags

from regview.core.model import ArtifactKind, PlatformInfo, TagInfo
from regview.ui.models import tags_model as tm
from regview.ui.models.filtering import FilterSpec

pytestmark = pytest.mark.ui


def _tag(name: str, digest: str, config: str = "", arch: str = "amd64") -> TagInfo:
    return TagInfo(
        "r",
        name,
        digest,
        "",
        ArtifactKind.IMAGE,
        size=10,
        config_digest=config,
        platforms=(PlatformInfo("linux", arch, "", "", 10),),
    )


def _models(tags: list[TagInfo]) -> list[tm.TagsModel]:
    """The same rows through both ways in: computed by the model, and prepared (the loader)."""
    plain, prepared = tm.TagsModel(), tm.TagsModel()
    plain.set_tags("r", tags)
    prepared.set_tags("r", [])
    prepared.append_rows(tm.prepare_tags(tags))
    return [plain, prepared]


def test_a_digest_one_tag_carries_keeps_its_row_number_not_a_list() -> None:
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    for model in _models([_tag("one", a), _tag("two", b), _tag("three", b)]):
        assert model._by_digest[a] == 0  # an int: a one-element list per tag was 6 MB / 100k
        assert model._by_digest[b] == [1, 2]
        numbers = model.index_.numbers()
        assert model._by_digest[a] is numbers[0]  # the shared int objects, no new ones
        assert all(model._ids[t.tag] is numbers[r] for r, t in enumerate(model.rows))


def test_groups_shrink_to_an_int_and_grow_to_a_list_through_deletion_and_refresh() -> None:
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    model = tm.TagsModel()
    model.set_tags("r", [_tag("one", a), _tag("two", a), _tag("three", b)])
    model.remove_rows(["one"])
    assert model._by_digest == {a: 0, b: 1}
    assert model.shared_with(0) == []
    model.append_rows([_tag("three", a)])  # refreshed: now on the first digest
    assert model._by_digest == {a: [0, 1]}
    assert model.shared_with(0) == ["three"]
    assert [model.index_.keys[tm.SHARED][r] for r in range(2)] == [2, 2]


def test_facts_hold_the_rows_own_strings() -> None:
    tags = [*make_tags(50, seed=9), _tag("Mixed-Case", "sha256:" + "C" * 64, "sha256:" + "d" * 64)]
    for model in _models(tags):
        index = model.index_
        for r, row in enumerate(model.rows):
            if row.tag == row.tag.lower():
                assert index.keys[tm.TAG][r] is row.tag  # a lowercase tag is not copied
            assert index.ids[0][r] == row.digest.lower()
            if row.digest == row.digest.lower():
                assert index.ids[0][r] is row.digest
                assert index.ids[1][r] is row.config_digest
        # one lowercase text and one set per platform list, however many rows carry it
        by_labels: dict[str, tuple[int, int]] = {}
        for r, row in enumerate(model.rows):
            key, plats = index.keys[tm.PLATFORMS][r], index.platforms[r]
            first = by_labels.setdefault(row.platform_labels, (id(key), id(plats)))
            assert first == (id(key), id(plats))
            assert key == row.platform_labels.lower()
        assert index.keys[tm.TAG][-1] == "mixed-case"


def test_digest_words_still_find_both_digests_in_any_case() -> None:
    upper = _tag("upper", "sha256:" + "ABCDEF" * 10 + "0123", "sha256:" + "7" * 64)
    other = _tag("other", "sha256:" + "1" * 64, "sha256:" + "fedcba" * 10 + "9876")
    for model in _models([upper, other]):
        for text, expected in (
            ("abcdefab", ["upper"]),
            ("sha256:abcdef", ["upper"]),
            ("fedcba98", ["other"]),  # the config digest
            ("777777", ["upper"]),
            ("oth", ["other"]),
        ):
            model.apply(FilterSpec(text=text))
            assert [model.row_at(r).tag for r in range(model.rowCount())] == expected, text


def test_the_model_shares_row_number_objects_with_its_views_and_maps() -> None:
    tags = make_tags(300, seed=11)
    for model in _models(tags):
        numbers = {id(n) for n in model.index_.numbers()}
        assert all(id(b) in numbers for b in model.visible)
        model.apply(FilterSpec(), sort_column=tm.SIZE)
        assert all(id(b) in numbers for b in model.visible)
        model.append_rows([replace(tags[0], size=1), *make_tags(3, seed=12)])
        numbers = {id(n) for n in model.index_.numbers()}
        assert all(id(v) in numbers for v in model._ids.values())
