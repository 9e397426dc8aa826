"""GitLab's cleanup rules as pure functions: latest kept, anchored RE2, keep_n, older_than."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from regview.server.gitlab.model import DEFAULT_POLICY
from regview.server.gitlab.policy import (
    CleanupRules,
    InvalidRule,
    anchored,
    next_run_after,
    parse_duration,
    tags_to_delete,
    validate_policy,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


TAGS = [
    ("latest", ago(100)),
    ("v1", ago(50)),
    ("v10", ago(40)),
    ("v1.1", ago(30)),
    ("main", ago(1)),
    ("feature-x", ago(20)),
    ("nodate", None),
]


def test_latest_is_never_deleted_and_the_result_is_newest_first() -> None:
    got = tags_to_delete(TAGS, CleanupRules(".*"), NOW)
    assert "latest" not in got
    assert got == ["nodate", "main", "feature-x", "v1.1", "v10", "v1"]


def test_regexes_are_anchored() -> None:
    assert tags_to_delete(TAGS, CleanupRules("v1"), NOW) == ["v1"]
    assert tags_to_delete(TAGS, CleanupRules("v1.*"), NOW) == ["v1.1", "v10", "v1"]
    assert tags_to_delete(TAGS, CleanupRules("ain"), NOW) == []
    assert tags_to_delete(TAGS, CleanupRules("lat.*"), NOW) == []  # latest, but kept


def test_keep_regex_wins_over_delete_regex() -> None:
    rules = CleanupRules(".*", name_regex_keep=r"v\d+(\.\d+)?")
    assert tags_to_delete(TAGS, rules, NOW) == ["nodate", "main", "feature-x"]
    assert tags_to_delete(TAGS, CleanupRules(".*", name_regex_keep="v1"), NOW) == [
        "nodate",
        "main",
        "feature-x",
        "v1.1",
        "v10",
    ]


def test_keep_n_keeps_the_newest_candidates_unknown_dates_counting_as_newest() -> None:
    assert tags_to_delete(TAGS, CleanupRules(".*", keep_n=2), NOW) == [
        "feature-x",
        "v1.1",
        "v10",
        "v1",
    ]
    assert tags_to_delete(TAGS, CleanupRules("v.*", keep_n=1), NOW) == ["v10", "v1"]
    assert tags_to_delete(TAGS, CleanupRules(".*", keep_n=100), NOW) == []
    assert tags_to_delete(TAGS, CleanupRules(".*", keep_n=0), NOW) == tags_to_delete(
        TAGS, CleanupRules(".*"), NOW
    )


def test_older_than_deletes_only_dated_tags_before_the_limit() -> None:
    assert tags_to_delete(TAGS, CleanupRules(".*", older_than="35d"), NOW) == ["v10", "v1"]
    # keep_n applies first, then the age limit
    assert tags_to_delete(TAGS, CleanupRules(".*", keep_n=5, older_than="1d"), NOW) == ["v1"]
    assert tags_to_delete(TAGS, CleanupRules(".*", older_than="1month"), NOW) == ["v10", "v1"]
    assert tags_to_delete(TAGS, CleanupRules(".*", older_than="1h"), NOW) == [
        "main",
        "feature-x",
        "v1.1",
        "v10",
        "v1",
    ]


def test_equal_dates_order_by_name_deterministically() -> None:
    same = [("b", ago(5)), ("a", ago(5)), ("c", ago(5))]
    assert tags_to_delete(same, CleanupRules(".*", keep_n=1), NOW) == ["b", "a"]


def test_re2_semantics_refuse_backreferences_and_lookahead() -> None:
    for bad in (r"(a)\1", "(?=x)", "[", "(?<!a)b"):
        with pytest.raises(InvalidRule, match="name_regex_delete is an invalid regexp"):
            CleanupRules(bad).check()
    with pytest.raises(InvalidRule, match="name_regex_keep"):
        CleanupRules(".*", name_regex_keep="(").check()
    assert anchored("a|b").search("a") is not None
    # GitLab does not group before anchoring: '\Aa|b\z' matches names starting with a or ending with b
    assert anchored("a|b").search("ab") is not None
    assert anchored("a|b").search("xa") is None
    assert anchored("(a|b)").search("ab") is None


def test_durations() -> None:
    assert parse_duration("1h") == timedelta(hours=1)
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("2 weeks") == timedelta(weeks=2)
    assert parse_duration("1month") == timedelta(days=30)
    for bad in ("", "d", "1 fortnight", "-1d", "1.5d"):
        with pytest.raises(InvalidRule):
            parse_duration(bad)


def test_policy_validation() -> None:
    policy = validate_policy(
        DEFAULT_POLICY,
        {
            "enabled": True,
            "cadence": "7d",
            "keep_n": 5,
            "older_than": "14d",
            "name_regex_keep": "v.*",
        },
    )
    assert policy["enabled"] is True and policy["keep_n"] == 5 and policy["cadence"] == "7d"
    assert validate_policy(DEFAULT_POLICY, {"name_regex_delete": "x.*"})["name_regex"] == "x.*"
    assert validate_policy(DEFAULT_POLICY, {"keep_n": None})["keep_n"] is None
    with pytest.raises(ValueError) as info:
        validate_policy(
            DEFAULT_POLICY,
            {
                "cadence": "2d",
                "keep_n": 7,
                "older_than": "1d",
                "name_regex": "(",
                "enabled": "maybe",
            },
        )
    assert info.value.args[0] == {
        "container_expiration_policy.cadence": ["is not included in the list"],
        "container_expiration_policy.keep_n": ["is not included in the list"],
        "container_expiration_policy.older_than": ["is not included in the list"],
        "container_expiration_policy.name_regex": ["not valid RE2 syntax"],
        "container_expiration_policy.enabled": ["is not a boolean"],
    }
    assert next_run_after({"cadence": "14d"}, NOW) == NOW + timedelta(days=14)
