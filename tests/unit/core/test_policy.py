"""Cleanup policies: GitLab's semantics (RE2, anchored, keep rules first) and regview's rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regview.core.deletion.plan import ManifestFacts
from regview.core.deletion.policy import (
    Policy,
    PolicyError,
    compile_anchored,
    matches,
    parse_age,
    parse_keep_list,
    preview,
)
from regview.core.model import ArtifactKind, TagInfo

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def tag(name: str, days_old: float | None, digest: str = "", blobs: int = 0) -> TagInfo:
    return TagInfo(
        repository="group/app",
        tag=name,
        digest=digest or f"sha256:{abs(hash(name)):064x}"[:71],
        media_type="application/vnd.oci.image.manifest.v1+json",
        kind=ArtifactKind.IMAGE,
        created=None if days_old is None else NOW - timedelta(days=days_old),
        blobs=((f"sha256:{blobs:064x}", 1000),) if blobs else (),
    )


def decisions(policy: Policy, tags: list[TagInfo]) -> dict[str, tuple[bool, str]]:
    p = preview(policy, tags, NOW)
    out = {d.tag: (True, d.reason) for d in p.delete}
    out.update({d.tag: (False, d.reason) for d in p.keep})
    assert len(out) == len(tags)  # every tag listed exactly once
    return out


def test_parse_age() -> None:
    assert parse_age("1h") == timedelta(hours=1)
    assert parse_age("7d") == timedelta(days=7)
    assert parse_age("90d") == timedelta(days=90)
    assert parse_age("1month") == timedelta(days=30)
    assert parse_age("3months") == timedelta(days=90)
    assert parse_age("2w") == timedelta(days=14)
    with pytest.raises(PolicyError, match="1month"):
        parse_age("seven days")
    with pytest.raises(PolicyError):
        parse_age("7 fortnights")


def test_regexes_are_anchored_as_gitlab_does() -> None:
    r = compile_anchored("v1", "delete pattern")
    assert r.search("v1") and not r.search("v10") and not r.search("xv1")
    alt = compile_anchored("a|b", "x")
    # GitLab anchors as \A<pattern>\z with no group: 'a|b' is '\Aa' or 'b\z'.
    assert alt.search("a") and alt.search("ab") and alt.search("xb") and not alt.search("xa")
    grouped = compile_anchored("(a|b)", "x")
    assert grouped.search("a") and not grouped.search("ab")
    assert not compile_anchored("dev-.*", "x").search("dev-1\n")


PATTERNS = [
    "v1",
    "a|b",
    "(a|b)",
    "dev-.*",
    r"v\d+\.\d+",
    ".",
    "..",
    "é.",
    r"\w+",
    "[^x]*",
    r"\Ab",
    "",
]
NAMES = [
    "v1",
    "v10",
    "a",
    "ab",
    "xb",
    "dev-1",
    "dev-1\n",
    "v1.2",
    "é1",
    "éé",
    "x",
    "",
    "ü-ö",
    "日本",
]


@given(st.sampled_from(PATTERNS), st.sampled_from(NAMES) | st.text(max_size=6))
def test_matches_asks_in_bytes_what_the_str_path_answers(pattern: str, name: str) -> None:
    """`matches` asks RE2 with the name's UTF-8 bytes (faster); the answer is the str path's,
    for the patterns GitLab's rules are written with and for any text, non-ASCII included."""
    for gitlab in (True, False):
        rx = compile_anchored(pattern, "x", gitlab=gitlab)
        assert matches(rx, name) == (rx.search(name) is not None)


def test_invalid_regex_names_the_pattern_and_the_lookaround_cause() -> None:
    with pytest.raises(PolicyError) as err:
        Policy(name_regex_delete="(?!main).*").validate()
    text = str(err.value)
    assert "'(?!main).*'" in text and "delete pattern" in text
    assert "lookahead" in text and "keep pattern instead" in text
    with pytest.raises(PolicyError, match="backreferences"):
        Policy(name_regex_delete=".*", name_regex_keep=r"(a)\1").validate()
    with pytest.raises(PolicyError, match="missing"):
        Policy(name_regex_delete="(unclosed").validate()
    with pytest.raises(PolicyError, match="required"):
        Policy(name_regex_delete="").validate()


def test_gitlab_order_latest_keep_regex_keep_n_older_than() -> None:
    tags = [
        tag("latest", 100),
        tag("main", 100),
        tag("release-1", 100),
        tag("dev-a", 1),
        tag("dev-b", 10),
        tag("dev-c", 20),
        tag("dev-d", 40),
        tag("dev-e", None),
    ]
    policy = Policy(
        name_regex_delete=".*", name_regex_keep="main|release-.*", keep_n=2, older_than="14d"
    )
    d = decisions(policy, tags)
    assert d["latest"] == (False, "'latest' is never deleted")
    assert d["main"][0] is False and "keep pattern" in d["main"][1]
    assert d["release-1"][0] is False
    # keep_n counts among the remaining candidates, unknown time = newest
    assert d["dev-e"][0] is False and "2 newest" in d["dev-e"][1]
    assert d["dev-a"][0] is False and "2 newest" in d["dev-a"][1]
    assert d["dev-b"][0] is False and "newer than 14d" in d["dev-b"][1]
    assert d["dev-c"][0] is True and "older than 14d" in d["dev-c"][1]
    assert d["dev-d"][0] is True


def test_delete_regex_must_match_and_unknown_time_is_kept_with_older_than() -> None:
    tags = [tag("feature-x", 30), tag("v1.0", 30), tag("feature-y", None)]
    d = decisions(Policy(name_regex_delete="feature-.*", older_than="7d"), tags)
    assert d["v1.0"] == (False, "does not match the delete pattern 'feature-.*'")
    assert d["feature-x"][0] is True
    assert d["feature-y"][0] is False and "unknown" in d["feature-y"][1]


def test_protected_and_keep_list() -> None:
    shared = "sha256:" + "ab" * 32
    tags = [tag("prod", 50), tag("stable-1", 50), tag("deployed", 50), tag("old", 50, shared)]
    keep_text = """
    # what runs in production
    registry.example.com/group/app:deployed
    image: group/app@{shared}
    other/app:prod
    """.replace("{shared}", shared)
    keep_list = parse_keep_list(keep_text, "group/app")
    assert "other/app:prod" in keep_list.ignored
    policy = Policy(
        name_regex_delete=".*",
        protected=("prod",),
        protected_regex="stable-.*",
        keep_list=keep_list,
    )
    d = decisions(policy, tags)
    assert d["prod"] == (False, "protected tag")
    assert d["stable-1"] == (False, "protected tag")
    assert d["deployed"][0] is False and "in use" in d["deployed"][1]
    assert d["old"][0] is False and "digest is in use" in d["old"][1]


def test_counts_bytes_selection_and_json() -> None:
    tags = [tag("a", 30, blobs=1), tag("b", 30, blobs=2), tag("c", 30, blobs=1)]
    p = preview(Policy(name_regex_delete="a|b"), tags, NOW)
    assert p.counts == {"delete": 2, "keep": 1, "untagged": 0}
    assert p.reclaimable_bytes == 1000  # blob 1 is still used by c
    assert p.selection().tags == {"a", "b"}
    assert p.selection().reasons["a"].startswith("matches 'a|b'")
    assert p.to_json()["keep"] == [
        {"tag": "c", "reason": "does not match the delete pattern 'a|b'"}
    ]
    assert any("top-level '|'" in w for w in p.warnings)


def test_untagged_rule_spares_children_and_referrers_of_kept_tags() -> None:
    child, orphan, sig, idx = ("sha256:" + c * 64 for c in "1234")
    tags = [
        TagInfo(
            "group/app",
            "multi",
            idx,
            "application/vnd.oci.image.index.v1+json",
            ArtifactKind.INDEX,
            child_digests=(child,),
            created=NOW,
        ),
    ]
    manifests = {
        child: ManifestFacts(child),
        orphan: ManifestFacts(orphan),
        sig: ManifestFacts(sig, subject=child),
        idx: ManifestFacts(idx, children=(child,)),
    }
    p = preview(
        Policy(name_regex_delete="nothing", delete_untagged=True), tags, NOW, manifests=manifests
    )
    assert [d for d, _ in p.untagged] == [orphan]
    assert p.selection().untagged == {orphan}


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(
        st.from_regex(r"[a-z]{1,3}(-[0-9])?", fullmatch=True), min_size=1, max_size=15, unique=True
    ),
    ages=st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=15, max_size=15),
    keep_n=st.one_of(st.none(), st.integers(0, 5)),
    older=st.sampled_from(["", "7d", "30d"]),
    delete_pat=st.sampled_from([".*", "[a-m].*", ".*-[0-9]"]),
    keep_pat=st.sampled_from(["", "a.*", ".*-1"]),
)
def test_invariants(
    names: list[str],
    ages: list[float | None],
    keep_n: int | None,
    older: str,
    delete_pat: str,
    keep_pat: str,
) -> None:
    tags = [tag(n, ages[i]) for i, n in enumerate(names)] + [tag("latest", 1000)]
    policy = Policy(delete_pat, keep_pat, keep_n, older)
    p = preview(policy, tags, NOW)
    deleted = {d.tag for d in p.delete}
    assert deleted | {d.tag for d in p.keep} == {t.tag for t in tags}
    assert not deleted & {d.tag for d in p.keep}
    assert "latest" not in deleted
    for t in tags:
        if t.tag not in deleted:
            continue
        assert compile_anchored(delete_pat, "d").search(t.tag)
        assert not (keep_pat and compile_anchored(keep_pat, "k").search(t.tag))
        if older:
            assert t.created is not None and t.created < NOW - parse_age(older)
    if keep_n is not None:
        matching = [
            t
            for t in tags
            if t.tag != "latest"
            and compile_anchored(delete_pat, "d").search(t.tag)
            and not (keep_pat and compile_anchored(keep_pat, "k").search(t.tag))
        ]
        assert len(deleted) <= max(0, len(matching) - keep_n)
