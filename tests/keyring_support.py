"""Keyring helpers every test folder may import (`tests/` is on pytest's pythonpath): an in-memory
keyring backend for unit tests, and stopping the D-Bus and gnome-keyring daemons that the
Secret Service integration tests start."""

from __future__ import annotations

import subprocess

import keyring.backend
import keyring.errors


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
