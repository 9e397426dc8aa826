"""Parsing of manifests, indexes and image configs (OCI and Docker v2).

Parsers take the raw bytes: digests are always computed over the bytes as received, never over
re-serialised JSON. Schema1 is recognised only to report it clearly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from regview.spec import mediatypes as mt
from regview.spec.digest import Digest
from regview.spec.errors import InvalidDigest, InvalidManifest, UnsupportedSchema1
from regview.spec.jsondoc import JSONDocumentError, parse_json

MAX_MANIFEST_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"platform {text!r} is not of the form os/arch[/variant]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    platform: Platform | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: str = ""
    urls: tuple[str, ...] = ()

    @property
    def is_attestation(self) -> bool:
        """BuildKit attestations sit in an index as unknown/unknown children; not platforms."""
        if self.annotations.get(mt.ANNOTATION_DOCKER_REFERENCE_TYPE) == mt.ATTESTATION_MANIFEST:
            return True
        p = self.platform
        return p is not None and p.os == "unknown" and p.architecture == "unknown"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": str(self.digest),
            "size": self.size,
        }
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.platform:
            p: dict[str, str] = {"os": self.platform.os, "architecture": self.platform.architecture}
            if self.platform.variant:
                p["variant"] = self.platform.variant
            out["platform"] = p
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


@dataclass(frozen=True, slots=True)
class ImageManifest:
    """A single-image manifest (or an artifact manifest, which has the same shape)."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    subject: Descriptor | None = None
    artifact_type: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """config + layers, compressed bytes (GitLab's legacy total_size counts layers only)."""
        return self.config.size + sum(layer.size for layer in self.layers)

    @property
    def blobs(self) -> tuple[Descriptor, ...]:
        return (self.config, *self.layers)

    @property
    def is_artifact(self) -> bool:
        if self.artifact_type:
            return True
        return self.config.media_type not in mt.IMAGE_CONFIGS

    @property
    def kind_artifact_type(self) -> str:
        """What the referrers API reports: artifactType, else the config media type."""
        return self.artifact_type or self.config.media_type


@dataclass(frozen=True, slots=True)
class ImageIndex:
    media_type: str
    manifests: tuple[Descriptor, ...]
    subject: Descriptor | None = None
    artifact_type: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def platform_children(self) -> tuple[Descriptor, ...]:
        return tuple(d for d in self.manifests if not d.is_attestation)

    @property
    def kind_artifact_type(self) -> str:
        return self.artifact_type


Manifest = ImageManifest | ImageIndex


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    created: datetime | None
    created_by: str
    empty_layer: bool
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ImageConfig:
    created: datetime | None
    platform: Platform | None
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""
    user: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: tuple[str, ...] = ()
    history: tuple[HistoryEntry, ...] = ()


def parse_time(value: object) -> datetime | None:
    """RFC 3339 timestamp → aware datetime; None for anything unparseable.

    Go writes up to nine fractional digits, which `fromisoformat` rejects before 3.11's
    relaxed parser only in some shapes, so trim to microseconds first.
    """
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, _, tail = text.partition(".")
        digits = ""
        rest = tail
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest}" if digits else head + rest
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _load_json(data: bytes, what: str) -> dict[str, Any]:
    if len(data) > MAX_MANIFEST_BYTES:
        raise InvalidManifest(f"{what} is {len(data)} bytes; at most {MAX_MANIFEST_BYTES} allowed")
    snippet = data[:60].decode("utf-8", "replace").strip()
    if snippet.startswith("<"):
        raise InvalidManifest(
            f"{what} is not valid JSON (the server sent HTML — is this a registry URL?)"
        )
    try:
        # depth-capped: a document nested 1000 deep is refused here, in words, not by a
        # RecursionError in whichever walk meets it first
        obj = parse_json(data, what=what)
    except JSONDocumentError as exc:
        raise InvalidManifest(str(exc)) from exc
    if not isinstance(obj, dict):
        raise InvalidManifest(f"{what} is JSON but not an object")
    return obj


def _str_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _str_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def parse_descriptor(obj: object, where: str) -> Descriptor:
    if not isinstance(obj, dict):
        raise InvalidManifest(f"{where} is not a descriptor object")
    media_type = obj.get("mediaType")
    raw_digest = obj.get("digest")
    size = obj.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise InvalidManifest(f"{where} has no mediaType")
    if not isinstance(raw_digest, str):
        raise InvalidManifest(f"{where} has no digest")
    try:
        digest = Digest.parse(raw_digest)
    except InvalidDigest as exc:
        raise InvalidManifest(f"{where}: {exc}") from exc
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidManifest(f"{where} has no valid size")
    platform = None
    raw_platform = obj.get("platform")
    if isinstance(raw_platform, dict):
        platform = Platform(
            str(raw_platform.get("os", "")),
            str(raw_platform.get("architecture", "")),
            str(raw_platform.get("variant", "") or ""),
            str(raw_platform.get("os.version", "") or ""),
        )
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        platform=platform,
        annotations=_str_map(obj.get("annotations")),
        artifact_type=str(obj.get("artifactType", "") or ""),
        urls=_str_tuple(obj.get("urls")),
    )


def detect_media_type(obj: dict[str, Any], content_type: str = "") -> str:
    """The manifest's media type: its own field, else the header, else by shape."""
    declared = obj.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    ct = content_type.split(";")[0].strip()
    if ct in mt.MANIFESTS or ct in mt.SCHEMA1:
        return ct
    if obj.get("schemaVersion") == 1:
        return mt.DOCKER_SCHEMA1
    if "manifests" in obj:
        return mt.OCI_INDEX
    if "config" in obj:
        return mt.OCI_MANIFEST
    return ct


def parse_manifest(data: bytes, content_type: str = "") -> Manifest:
    """Parse manifest or index bytes; raises InvalidManifest / UnsupportedSchema1."""
    obj = _load_json(data, "manifest")
    media_type = detect_media_type(obj, content_type)
    if media_type in mt.SCHEMA1 or obj.get("schemaVersion") == 1:
        raise UnsupportedSchema1(
            "this is a Docker schema1 manifest, deprecated since Docker 17.12 and refused by "
            "GitLab; push the image again with a current Docker, podman or skopeo"
        )
    if obj.get("schemaVersion") != 2:
        raise InvalidManifest(
            f"manifest has schemaVersion {obj.get('schemaVersion')!r}; expected 2"
        )
    subject = parse_descriptor(obj["subject"], "subject") if "subject" in obj else None
    artifact_type = str(obj.get("artifactType", "") or "")
    annotations = _str_map(obj.get("annotations"))
    if media_type in mt.INDEXES or ("manifests" in obj and "config" not in obj):
        children = obj.get("manifests")
        if not isinstance(children, list):
            raise InvalidManifest("index has no 'manifests' list")
        return ImageIndex(
            media_type=media_type,
            manifests=tuple(parse_descriptor(c, f"manifests[{i}]") for i, c in enumerate(children)),
            subject=subject,
            artifact_type=artifact_type,
            annotations=annotations,
        )
    if "config" not in obj:
        raise InvalidManifest(f"manifest of type {media_type or 'unknown'} has no config")
    layers = obj.get("layers", [])
    if not isinstance(layers, list):
        raise InvalidManifest("manifest 'layers' is not a list")
    return ImageManifest(
        media_type=media_type,
        config=parse_descriptor(obj["config"], "config"),
        layers=tuple(parse_descriptor(layer, f"layers[{i}]") for i, layer in enumerate(layers)),
        subject=subject,
        artifact_type=artifact_type,
        annotations=annotations,
    )


def parse_config(data: bytes) -> ImageConfig:
    """Parse an image config blob; missing fields stay empty rather than failing."""
    obj = _load_json(data, "image config")
    inner = obj.get("config")
    cfg: dict[str, Any] = inner if isinstance(inner, dict) else {}
    platform = None
    if isinstance(obj.get("os"), str) and isinstance(obj.get("architecture"), str):
        platform = Platform(obj["os"], obj["architecture"], str(obj.get("variant", "") or ""))
    history = []
    raw_history = obj.get("history")
    if isinstance(raw_history, list):
        for h in raw_history:
            if isinstance(h, dict):
                history.append(
                    HistoryEntry(
                        created=parse_time(h.get("created")),
                        created_by=str(h.get("created_by", "")),
                        empty_layer=bool(h.get("empty_layer", False)),
                        comment=str(h.get("comment", "")),
                    )
                )
    ports = cfg.get("ExposedPorts")
    return ImageConfig(
        created=parse_time(obj.get("created")),
        platform=platform,
        env=_str_tuple(cfg.get("Env")),
        entrypoint=_str_tuple(cfg.get("Entrypoint")),
        cmd=_str_tuple(cfg.get("Cmd")),
        working_dir=str(cfg.get("WorkingDir", "") or ""),
        user=str(cfg.get("User", "") or ""),
        labels=_str_map(cfg.get("Labels")),
        exposed_ports=tuple(sorted(ports)) if isinstance(ports, dict) else (),
        history=tuple(history),
    )
