"""Digest.parse remembers what it parsed: the same answers as parsing afresh, bounded."""

from __future__ import annotations

import pytest

from regview.spec import digest as digest_mod
from regview.spec.digest import Digest
from regview.spec.errors import InvalidDigest

GOOD = "sha256:" + "ab" * 32


def test_a_remembered_digest_is_the_same_value() -> None:
    first = Digest.parse(GOOD)
    again = Digest.parse(GOOD)
    assert again == first == Digest("sha256", "ab" * 32)


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("sha256:" + "AB" * 32, "lowercase hex"),
        ("sha256:" + "ab" * 31, "exactly 64"),
        ("md5:" + "ab" * 16, "uses algorithm"),
        ("sha256" + "ab" * 32, "not of the form"),
        (GOOD + "\n", "exactly 64"),
    ],
)
def test_invalid_digests_are_refused_every_time(bad: str, words: str) -> None:
    Digest.parse(GOOD)  # a valid neighbour remembered first
    for _ in range(2):  # refusals are never remembered as anything else
        with pytest.raises(InvalidDigest, match=words):
            Digest.parse(bad)


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest_mod, "_PARSED", {})
    monkeypatch.setattr(digest_mod, "_PARSED_MAX", 4)
    texts = [f"sha256:{i:064x}" for i in range(10)]
    for text in texts:
        assert str(Digest.parse(text)) == text
        assert len(digest_mod._PARSED) <= 4
