"""Every command's --help ends with examples; prune's carries the CI branch-image cleanup."""

from __future__ import annotations

import argparse

from regview.cli.main import build_parser


def _walk(parser: argparse.ArgumentParser, name: str) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(name, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                found.extend(_walk(sub, f"{name} {sub_name}".strip()))
    return found


def test_every_command_has_examples() -> None:
    commands = _walk(build_parser(), "")[1:]
    assert {"rm", "prune", "trash", "tags", "repos", "login"} <= {n for n, _ in commands}
    top_level = [(n, p) for n, p in commands if " " not in n]
    missing = [n for n, p in top_level if "\nexamples:\n" not in "\n" + p.format_help()]
    assert missing == []
    for name in ("trash list", "trash restore"):
        assert "examples:" in dict(commands)[name].format_help()


def test_prune_help_has_the_ci_cleanup_and_keeps_its_layout() -> None:
    parser = dict(_walk(build_parser(), ""))["prune"]
    text = parser.format_help()
    assert (
        'regview prune "$CI_REGISTRY_IMAGE" --delete-regex "$CI_COMMIT_REF_SLUG-.*" --yes' in text
    )
    # the CI job snippet keeps its YAML indentation (not re-wrapped)
    assert "\n  delete_image:\n    image: " in text
    assert "\n    only:\n      - branches\n" in text
    assert "5 refused" in text


def test_descriptions_still_wrap() -> None:
    parser = dict(_walk(build_parser(), ""))["prune"]
    lines = parser.format_help().split("\nexamples:")[0].splitlines()
    assert max(len(line) for line in lines) <= 100
