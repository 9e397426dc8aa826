"""The process around a short command (cli/process.py): `regview tags` runs on uvloop's event
loop, leaves the process without the interpreter's teardown only once its exit handlers ran
and its output is flushed, and callers of `cli.main.run` other than regview's own process
(tests, other code) keep their collector as it was."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from regview.cli import common as C
from regview.cli import main as cli_main


def test_a_fast_loop_command_runs_on_uvloop_and_the_others_on_asyncio() -> None:
    uvloop = pytest.importorskip("uvloop")
    seen: list[type[asyncio.AbstractEventLoop]] = []

    async def body() -> int:
        seen.append(type(asyncio.get_running_loop()))
        return 0

    assert C.run(body, fast_loop=True) == 0
    assert C.run(body) == 0
    assert seen[0] is uvloop.Loop
    assert not issubclass(seen[1], uvloop.Loop)


def test_the_tags_command_asks_for_the_fast_loop_and_a_short_process() -> None:
    args = cli_main.build_parser("tags").parse_args(["tags", "example.com/a"])
    assert args.short_lived is True


def test_run_called_in_process_leaves_the_collector_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGVIEW_BASEDIR", str(tmp_path))
    # the calls are counted, not the frozen objects: a frozen object freed meanwhile (one an
    # earlier test's gc_guard froze) lowers the count without anyone touching the collector
    calls: list[str] = []
    for name in ("freeze", "unfreeze", "disable", "enable", "set_threshold"):
        real = getattr(gc, name)
        monkeypatch.setattr(gc, name, lambda *a, _n=name, _r=real: (calls.append(_n), _r(*a))[1])
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    # a command that fails at once (bad reference): no network, the process stays
    assert cli_main.run(["tags", "Bad Name!", "--json"]) == C.EXIT_USAGE
    assert calls == []
    assert (gc.get_threshold(), gc.isenabled()) == (threshold, enabled)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_leave_runs_the_exit_handlers_flushes_and_exits_with_the_code() -> None:
    r = _python(
        """
        import atexit, sys
        from regview.cli.process import leave
        atexit.register(lambda: print("handler ran", file=sys.stderr))
        sys.stdout.write("all of the output")  # buffered, no newline
        leave(3)
        print("not reached")
        """
    )
    assert (r.returncode, r.stdout, r.stderr) == (3, "all of the output", "handler ran\n")


def test_leave_falls_back_to_the_ordinary_exit_while_another_thread_runs() -> None:
    r = _python(
        """
        import threading, time
        from regview.cli.process import leave
        done = threading.Event()
        def work():
            time.sleep(0.3)
            print("thread finished")
            done.set()
        threading.Thread(target=work).start()
        code = leave(4)
        print("returned", code)
        raise SystemExit(code)
        """
    )
    assert r.returncode == 4
    assert r.stdout.splitlines() == ["returned 4", "thread finished"]
