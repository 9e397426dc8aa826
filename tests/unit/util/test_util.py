"""The shared helpers every layer uses: one of each (issue 10), so their behaviour is pinned here."""

from __future__ import annotations

from pathlib import Path

import pytest

from regview.util.atomic import write_atomic
from regview.util.netaddr import is_loopback
from regview.util.units import human_size


def test_is_loopback_with_ports_brackets_and_bare_ipv6() -> None:
    for host in (
        "127.0.0.2:80",
        "localhost",
        "[::1]:5",
        "[::1]",
        "::1",
        "api.localhost",
        "127.0.0.1",
    ):
        assert is_loopback(host), host
    for host in ("10.0.0.1:5000", "example.com", "[2001:db8::1]:443", "localhost.example.com", ""):
        assert not is_loopback(host), host


def test_human_size_words_and_unknown() -> None:
    sizes = (0, 1, 1023, 1536, 5 << 30, 3 << 40, 2 << 50)
    assert [human_size(n) for n in sizes] == [
        "0 B",
        "1 B",
        "1023 B",
        "1.5 KiB",
        "5.0 GiB",
        "3.0 TiB",
        "2.0 PiB",
    ]
    assert human_size(None) == "" and human_size(None, unknown="-") == "-"


def test_write_atomic_replaces_whole_with_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.json"
    write_atomic(target, "one", mode=0o600)
    assert target.read_text() == "one" and target.stat().st_mode & 0o777 == 0o600
    write_atomic(target, b"two", mode=0o644, durable=False)
    assert target.read_bytes() == b"two" and target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]


def test_write_atomic_failure_keeps_the_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "file"
    write_atomic(target, "old")

    def full(self: Path, other: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", full)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["file"]


def test_write_atomic_without_parents_refuses_a_vanished_folder(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        write_atomic(tmp_path / "gone" / "file", "x", parents=False)
    assert not (tmp_path / "gone").exists()
