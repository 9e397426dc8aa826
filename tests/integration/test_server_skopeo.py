"""skopeo against the embedded registry over loopback: copy (single, --all, Docker v2 and OCI),
list-tags, inspect, delete, Basic auth, restart, GC; podman push/pull."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest
from server_support import PASSWORD, USER, basic_registry, host_of, local_registry
from support_images import (
    build_image,
    build_index,
    pull_to_dir,
    pull_to_layout,
    push_layout,
    skopeo,
)

from regview.server.registry import gc
from regview.server.registry.registry import Registry
from regview.server.runner import LocalRegistry

pytestmark = [pytest.mark.integration, pytest.mark.needs_tool("skopeo")]
__all__ = ["basic_registry", "local_registry"]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"


def manifest_type(url: str, repo: str, ref: str) -> str:
    r = httpx.get(f"{url}/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
    r.raise_for_status()
    return r.headers["Content-Type"]


@pytest.mark.parametrize(
    ("fmt", "media"), [(None, OCI_MANIFEST), ("oci", OCI_MANIFEST), ("v2s2", DOCKER_MANIFEST)]
)
def test_copy_single_image_both_ways(
    tmp_path: Path, local_registry: LocalRegistry, fmt: str | None, media: str
) -> None:
    host = host_of(local_registry.url)
    layout = build_image(tmp_path / "img", layer_sizes=[3000, 70_000])
    pushed = push_layout(layout, f"{host}/acme/app:v1", fmt=fmt)
    assert manifest_type(local_registry.url, "acme/app", "v1") == media
    if fmt != "v2s2":
        assert pushed == layout.digest
    assert pull_to_dir(f"{host}/acme/app:v1", tmp_path / "back") == pushed
    for blob in layout.blob_digests[1:]:  # layers come back byte for byte
        assert (tmp_path / "back" / blob.split(":")[1]).exists()
    if fmt != "v2s2":
        assert pull_to_layout(f"{host}/acme/app:v1", tmp_path / "oci") == pushed


def test_copy_multi_arch_index(tmp_path: Path, local_registry: LocalRegistry) -> None:
    host = host_of(local_registry.url)
    index = build_index(tmp_path / "multi")
    assert push_layout(index, f"{host}/acme/multi:latest") == index.digest
    for child in index.manifest_digests:
        r = httpx.head(
            f"{local_registry.url}/v2/acme/multi/manifests/{child}", headers={"Accept": ACCEPT}
        )
        assert r.status_code == 200
    pulled = pull_to_layout(f"{host}/acme/multi:latest", tmp_path / "back", all_images=True)
    assert pulled == index.digest
    raw = json.loads(
        skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{host}/acme/multi:latest")
    )
    assert len(raw["manifests"]) == 3


def test_list_tags_inspect_delete(tmp_path: Path, local_registry: LocalRegistry) -> None:
    host = host_of(local_registry.url)
    layout = build_image(tmp_path / "img")
    digest = push_layout(layout, f"{host}/acme/tools:one")
    push_layout(layout, f"{host}/acme/tools:two")
    tags = json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{host}/acme/tools"))
    assert sorted(tags["Tags"]) == ["one", "two"]
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{host}/acme/tools:one"))
    assert info["Digest"] == digest and info["Architecture"] == "amd64"
    skopeo("delete", "--tls-verify=false", f"docker://{host}/acme/tools:one")
    # skopeo deletes by digest: both tags go
    tags = json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{host}/acme/tools"))
    assert tags["Tags"] == []


def test_basic_auth_push_and_pull(tmp_path: Path, basic_registry: LocalRegistry) -> None:
    host = host_of(basic_registry.url)
    layout = build_image(tmp_path / "img")
    with pytest.raises(RuntimeError, match=r"(?i)unauthorized|authentication"):
        push_layout(layout, f"{host}/private/app:v1")
    digest = push_layout(layout, f"{host}/private/app:v1", creds=(USER, PASSWORD))
    assert (
        pull_to_layout(f"{host}/private/app:v1", tmp_path / "back", creds=(USER, PASSWORD))
        == digest
    )
    with pytest.raises(RuntimeError):
        pull_to_layout(f"{host}/private/app:v1", tmp_path / "back2", creds=(USER, "wrong"))


def test_tags_survive_restart_and_gc_frees_unreferenced_bytes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    keep = build_image(tmp_path / "keep", layer_sizes=[5000], seed=1)
    drop = build_image(tmp_path / "drop", layer_sizes=[9000, 4000], seed=2)
    with LocalRegistry(data) as reg:
        host = host_of(reg.url)
        push_layout(keep, f"{host}/acme/app:keep")
        dropped = push_layout(drop, f"{host}/acme/app:drop")
    with LocalRegistry(data) as reg:
        r = httpx.get(f"{reg.url}/v2/acme/app/tags/list")
        assert sorted(r.json()["tags"]) == ["drop", "keep"]
        host = host_of(reg.url)
        skopeo("delete", "--tls-verify=false", f"docker://{host}/acme/app@{dropped}")
    registry = Registry(data)
    try:
        report = gc.collect(registry)
    finally:
        registry.close()
    assert set(report.deleted_blobs) == set(drop.blob_digests)
    assert report.blob_bytes_freed == drop.blob_bytes()
    with LocalRegistry(data) as reg:
        assert pull_to_layout(f"{host_of(reg.url)}/acme/app:keep", tmp_path / "back") == keep.digest


def test_podman_push_and_pull(tmp_path: Path, local_registry: LocalRegistry) -> None:
    podman = shutil.which("podman")
    if podman is None:
        pytest.skip("podman is not installed")
    host = host_of(local_registry.url)
    layout = build_image(tmp_path / "img", layer_sizes=[2048])
    short = Path(tempfile.mkdtemp(prefix="rvp", dir="/tmp"))  # podman: runroot under 50 chars
    base = [
        podman,
        "--root",
        str(tmp_path / "root"),
        "--runroot",
        str(short / "run"),
        "--storage-driver",
        "vfs",
        "--cgroup-manager",
        "cgroupfs",
        "--events-backend",
        "none",
    ]
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    (tmp_path / "xdg").mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args], capture_output=True, text=True, timeout=120, env=env, check=False
        )

    pulled = run("pull", "--tls-verify=false", f"oci:{layout.path}:latest")
    if pulled.returncode != 0:
        pytest.skip(f"podman cannot run in this environment: {pulled.stderr.strip()[:200]}")
    ref = f"{host}/acme/podman:v1"
    assert run("tag", pulled.stdout.strip().splitlines()[-1], ref).returncode == 0
    pushed = run("push", "--tls-verify=false", ref)
    assert pushed.returncode == 0, pushed.stderr
    assert run("rmi", ref).returncode == 0
    again = run("pull", "--tls-verify=false", ref)
    run("rmi", "-a", "-f")
    shutil.rmtree(short, ignore_errors=True)
    assert again.returncode == 0, again.stderr
