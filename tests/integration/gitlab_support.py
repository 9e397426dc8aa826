"""Helpers for integration tests of the embedded GitLab instance (`regview serve --auth token`)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from regview.server.gitlab.model import GitLabStore
from regview.server.runner import LocalRegistry


def host_of(url: str) -> str:
    return url.split("://", 1)[1]


@contextlib.contextmanager
def gitlab_registry(
    data: Path, *, token_ttl: int = 300
) -> Iterator[tuple[LocalRegistry, GitLabStore]]:
    """A token-auth embedded registry on a free loopback port, plus an admin handle on its
    GitLab database (a second connection to the same SQLite file, as `regview local` uses)."""
    store = GitLabStore(data)
    try:
        with LocalRegistry(data, auth="token", token_ttl=token_ttl) as reg:
            yield reg, store
    finally:
        store.close()


def skopeo_ok(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def creds_args(side: str, creds: tuple[str, str] | None) -> list[str]:
    base = [f"--{side}-tls-verify=false"]
    if creds is None:
        return [*base, f"--{side}-no-creds"]
    return [*base, f"--{side}-creds={creds[0]}:{creds[1]}"]


def try_pull(
    host: str, image: str, dest: Path, creds: tuple[str, str] | None
) -> subprocess.CompletedProcess[str]:
    return skopeo_ok(
        "copy",
        "--retry-times=0",
        *creds_args("src", creds),
        f"docker://{host}/{image}",
        f"dir:{dest}",
    )


def try_push(
    layout_ref: str, host: str, image: str, creds: tuple[str, str] | None
) -> subprocess.CompletedProcess[str]:
    return skopeo_ok(
        "copy",
        "--retry-times=0",
        *creds_args("dest", creds),
        layout_ref,
        f"docker://{host}/{image}",
    )


def try_delete(
    host: str, image: str, creds: tuple[str, str] | None
) -> subprocess.CompletedProcess[str]:
    args = ["delete", "--retry-times=0", "--tls-verify=false"]
    args += [f"--creds={creds[0]}:{creds[1]}"] if creds else ["--no-creds"]
    return skopeo_ok(*args, f"docker://{host}/{image}")


def refused(result: subprocess.CompletedProcess[str]) -> bool:
    """skopeo failed because the registry said no (not because of something else)."""
    text = result.stderr.lower()
    return result.returncode != 0 and any(
        word in text for word in ("unauthorized", "denied", "authentication required", "401", "403")
    )
