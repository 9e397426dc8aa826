"""Build OCI image layouts on disk and push them to a registry with skopeo.

Shared by every test that needs real images in a real registry (the embedded one or Debian's
`docker-registry`). Import it as `from support_images import ...` after adding `tests/` to
`sys.path` (the integration conftest does), or with `importlib` from a test file's directory.

    layout = build_image(tmp / "img", layer_sizes=[4096, 10_000], created=datetime(...))
    digest = push_layout(layout, f"{host}/acme/app:v1")                 # OCI manifest
    digest = push_layout(layout, f"{host}/acme/app:v1", fmt="v2s2")     # Docker v2
    index = build_index(tmp / "multi", platforms=["linux/amd64", "linux/arm64"])
    digest = push_layout(index, f"{host}/acme/app:multi", all_images=True)

Layers are real tar archives (one file of seeded random bytes), gzip-compressed, so podman can
unpack them and converting to Docker v2 needs no recompression; the config carries the right
`rootfs.diff_ids`, `created` time and platform.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import shutil
import subprocess
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass
class Layout:
    """An OCI image layout directory holding one image or one index, referenced as `ref`."""

    path: Path
    digest: str  # digest of the top manifest or index
    media_type: str
    blob_digests: list[str] = field(default_factory=list)  # every blob written (configs, layers)
    manifest_digests: list[str] = field(default_factory=list)  # child manifests (for an index)
    ref: str = "latest"

    @property
    def oci_ref(self) -> str:
        return f"oci:{self.path}:{self.ref}"

    def blob_bytes(self) -> int:
        return sum(self.blob_path(d).stat().st_size for d in self.blob_digests)

    def blob_path(self, digest: str) -> Path:
        algo, hexpart = digest.split(":", 1)
        return self.path / "blobs" / algo / hexpart


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _write_blob(root: Path, data: bytes) -> tuple[str, int]:
    digest = _sha(data)
    target = root / "blobs" / "sha256" / digest.split(":", 1)[1]
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(data)
    return digest, len(data)


def _init_layout(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))


def _layer(rng: random.Random, size: int, name: str) -> tuple[bytes, str]:
    """A gzip tar holding one file of `size` random bytes; returns (compressed, diff_id)."""
    payload = rng.randbytes(size)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(payload))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, compresslevel=1, mtime=0), _sha(tar_bytes)


def _image(
    root: Path,
    rng: random.Random,
    layer_sizes: Sequence[int],
    created: datetime,
    platform: str,
    labels: dict[str, str] | None,
) -> tuple[bytes, list[str]]:
    os_, arch, *rest = platform.split("/")
    layers: list[dict[str, object]] = []
    diff_ids: list[str] = []
    blobs: list[str] = []
    for i, size in enumerate(layer_sizes):
        data, diff_id = _layer(rng, size, f"data-{i}-{rng.randrange(1 << 30)}.bin")
        digest, length = _write_blob(root, data)
        layers.append({"mediaType": OCI_LAYER_GZIP, "digest": digest, "size": length})
        diff_ids.append(diff_id)
        blobs.append(digest)
    config: dict[str, object] = {
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "architecture": arch,
        "os": os_,
        "config": {"Labels": labels or {}, "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": created.isoformat(), "created_by": "support_images"}],
    }
    if rest:
        config["variant"] = rest[0]
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_digest, config_size = _write_blob(root, config_bytes)
    blobs.insert(0, config_digest)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": layers,
        "annotations": {"org.opencontainers.image.created": config["created"]},
    }
    return json.dumps(manifest).encode(), blobs


def _write_index_json(root: Path, digest: str, size: int, media_type: str, ref: str) -> None:
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": media_type,
                "digest": digest,
                "size": size,
                "annotations": {"org.opencontainers.image.ref.name": ref},
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))


def build_image(
    path: Path,
    *,
    layer_sizes: Sequence[int] = (2048,),
    created: datetime | None = None,
    platform: str = "linux/amd64",
    labels: dict[str, str] | None = None,
    seed: int = 0,
    ref: str = "latest",
) -> Layout:
    """One single-platform image in an OCI layout at `path`."""
    rng = random.Random(seed)
    _init_layout(path)
    manifest, blobs = _image(path, rng, layer_sizes, created or datetime.now(UTC), platform, labels)
    digest, size = _write_blob(path, manifest)
    _write_index_json(path, digest, size, OCI_MANIFEST, ref)
    return Layout(path, digest, OCI_MANIFEST, blobs, [], ref)


def build_index(
    path: Path,
    *,
    platforms: Sequence[str] = ("linux/amd64", "linux/arm64", "linux/arm/v7"),
    layer_sizes: Sequence[int] = (2048,),
    created: datetime | None = None,
    seed: int = 0,
    ref: str = "latest",
) -> Layout:
    """A multi-arch OCI index with one image per platform, in an OCI layout at `path`."""
    rng = random.Random(seed)
    _init_layout(path)
    when = created or datetime.now(UTC)
    children: list[dict[str, object]] = []
    blobs: list[str] = []
    child_digests: list[str] = []
    for platform in platforms:
        manifest, image_blobs = _image(path, rng, layer_sizes, when, platform, None)
        digest, size = _write_blob(path, manifest)
        os_, arch, *rest = platform.split("/")
        plat: dict[str, str] = {"os": os_, "architecture": arch}
        if rest:
            plat["variant"] = rest[0]
        children.append(
            {"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "platform": plat}
        )
        blobs.extend(image_blobs)
        child_digests.append(digest)
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children})
    digest, size = _write_blob(path, index.encode())
    _write_index_json(path, digest, size, OCI_INDEX, ref)
    return Layout(path, digest, OCI_INDEX, blobs, child_digests, ref)


def skopeo_base(creds: tuple[str, str] | None, *, side: str) -> list[str]:
    """TLS/creds options for one side (`src` or `dest`) of a skopeo copy."""
    args = [f"--{side}-tls-verify=false"]
    if creds is not None:
        args.append(f"--{side}-creds={creds[0]}:{creds[1]}")
    else:
        args.append(f"--{side}-no-creds")
    return args


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        raise RuntimeError("skopeo is not installed")
    result = subprocess.run(
        [skopeo, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"skopeo {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result


def push_layout(
    layout: Layout,
    dest: str,
    *,
    creds: tuple[str, str] | None = None,
    fmt: str | None = None,
    all_images: bool | None = None,
    timeout: float = 300,
) -> str:
    """`skopeo copy` the layout to `docker://<dest>` (`host:port/repo:tag`); returns the digest
    the registry stored (it differs from `layout.digest` when `fmt="v2s2"` converts)."""
    digest_file = layout.path / f".pushed-{abs(hash(dest))}.digest"
    args = ["copy", "--retry-times=0", *skopeo_base(creds, side="dest")]
    if fmt:
        args.append(f"--format={fmt}")
    if all_images if all_images is not None else layout.media_type == OCI_INDEX:
        args.append("--all")
    args += ["--digestfile", str(digest_file), layout.oci_ref, f"docker://{dest}"]
    _run(args, timeout)
    return digest_file.read_text().strip()


def pull_to_layout(
    source: str,
    path: Path,
    *,
    creds: tuple[str, str] | None = None,
    all_images: bool = False,
    fmt: str | None = None,
    timeout: float = 300,
) -> str:
    """`skopeo copy docker://<source> oci:<path>:latest`; returns the digest copied."""
    digest_file = path.parent / f".{path.name}.digest"
    args = ["copy", "--retry-times=0", *skopeo_base(creds, side="src")]
    if all_images:
        args.append("--all")
    if fmt:
        args.append(f"--format={fmt}")
    args += ["--digestfile", str(digest_file), f"docker://{source}", f"oci:{path}:latest"]
    _run(args, timeout)
    return digest_file.read_text().strip()


def skopeo(*args: str, timeout: float = 120) -> str:
    """Run any skopeo command; returns stdout, raises RuntimeError with stderr on failure."""
    return _run(list(args), timeout).stdout


def pull_to_dir(
    source: str, path: Path, *, creds: tuple[str, str] | None = None, timeout: float = 300
) -> str:
    """`skopeo copy docker://<source> dir:<path>` (keeps the manifest as stored, Docker v2
    included); returns the sha256 digest of the manifest bytes received."""
    args = ["copy", "--retry-times=0", *skopeo_base(creds, side="src")]
    args += [f"docker://{source}", f"dir:{path}"]
    _run(args, timeout)
    return _sha((path / "manifest.json").read_bytes())
