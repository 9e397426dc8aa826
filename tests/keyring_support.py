"""Keyring helpers every test folder may import (`tests/` is on pytest's pythonpath): an in-memory
keyring backend for unit tests, and a real Secret Service — gnome-keyring on a private D-Bus — for
integration tests, with the daemons stopped by process id."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring.backend
import keyring.errors
import pytest


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


def stop_daemon(proc: subprocess.Popen[bytes]) -> None:
    """End a daemon this test started, by its process id (never by name: another test's or the
    user's own daemon must survive), and close the pipe it printed to."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()


def read_until(proc: subprocess.Popen[bytes], predicate: str, timeout: float) -> str:
    """What `proc` printed up to the first line containing `predicate`."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        if not line:
            break
        seen += line
        if predicate in line:
            return seen
    raise RuntimeError(f"did not see {predicate!r} in time; output so far: {seen!r}")


def wait_for_bus_name(name: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until `proc` owns `name`, without asking the bus to activate some other daemon."""
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    deadline = time.monotonic() + timeout
    with open_dbus_connection(bus="SESSION") as conn:
        while time.monotonic() < deadline:
            reply = conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=5)
            if reply.body[0]:
                return
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    raise RuntimeError(f"gnome-keyring-daemon did not claim {name} on the session bus")


@contextlib.contextmanager
def gnome_keyring(home: Path, monkeypatch: pytest.MonkeyPatch, password: bytes) -> Iterator[Any]:
    """A fresh gnome-keyring on its own D-Bus session, HOME and XDG dirs under `home` (the user's
    real keyring is never touched); yields keyring's SecretService backend.

    With a non-empty `password` the `login` collection is created and unlocked. With b"" there is
    none and every write waits for a prompter that cannot be shown ("Prompt dismissed"). Nothing
    talks to the daemon before it printed GNOME_KEYRING_CONTROL and owns its bus name: a request
    that arrived earlier could make it create a locked default collection (a setup that failed
    about one run in seven).
    """
    (home / ".cache").mkdir(parents=True)  # its control socket goes there, announced on stdout
    env = dict(
        os.environ,
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
    )
    env.pop("XDG_RUNTIME_DIR", None)  # with one, it would print nothing to wait for
    procs: list[subprocess.Popen[bytes]] = []
    try:
        bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        procs.append(bus)
        address = read_until(bus, "unix:", 10).strip().splitlines()[-1]
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        procs.append(daemon)
        assert daemon.stdin is not None
        daemon.stdin.write(password)
        daemon.stdin.close()
        for line in read_until(daemon, "GNOME_KEYRING_CONTROL=", 15).splitlines():
            if "=" in line:
                name, value = line.split("=", 1)
                monkeypatch.setenv(name, value)
        wait_for_bus_name("org.freedesktop.secrets", daemon, 15)
        from keyring.backends.SecretService import Keyring

        yield Keyring()
    finally:
        for proc in reversed(procs):
            stop_daemon(proc)
