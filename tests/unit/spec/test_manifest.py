from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from regview.spec import mediatypes as mt
from regview.spec.errors import InvalidManifest, UnsupportedSchema1
from regview.spec.manifest import (
    ImageIndex,
    ImageManifest,
    parse_config,
    parse_manifest,
    parse_time,
)

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


def _manifest(media_type: str = mt.OCI_MANIFEST) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": mt.OCI_CONFIG, "digest": D1, "size": 100},
            "layers": [
                {"mediaType": mt.OCI_LAYER_GZIP, "digest": D2, "size": 1000},
                {"mediaType": mt.OCI_LAYER_GZIP, "digest": D3, "size": 24},
            ],
            "annotations": {mt.ANNOTATION_CREATED: "2024-05-01T10:00:00Z"},
        }
    ).encode()


def test_image_manifest_size_is_config_plus_layers() -> None:
    m = parse_manifest(_manifest())
    assert isinstance(m, ImageManifest)
    assert m.size == 1124
    assert not m.is_artifact
    assert [str(b.digest) for b in m.blobs] == [D1, D2, D3]


def test_index_excludes_attestations_from_platforms() -> None:
    data = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": D1,
                    "size": 10,
                    "platform": {"os": "linux", "architecture": "amd64"},
                },
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": D2,
                    "size": 10,
                    "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                },
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": D3,
                    "size": 10,
                    "platform": {"os": "unknown", "architecture": "unknown"},
                    "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
                },
            ],
        }
    ).encode()
    idx = parse_manifest(data)
    assert isinstance(idx, ImageIndex)
    assert [str(d.platform) for d in idx.platform_children] == ["linux/amd64", "linux/arm64/v8"]


def test_media_type_from_header_when_body_has_none() -> None:
    obj = json.loads(_manifest())
    del obj["mediaType"]
    m = parse_manifest(json.dumps(obj).encode(), mt.DOCKER_MANIFEST + "; charset=utf-8")
    assert m.media_type == mt.DOCKER_MANIFEST


def test_schema1_is_reported_clearly() -> None:
    with pytest.raises(UnsupportedSchema1, match="schema1"):
        parse_manifest(json.dumps({"schemaVersion": 1, "fsLayers": []}).encode())


def test_html_is_explained() -> None:
    with pytest.raises(InvalidManifest, match="HTML"):
        parse_manifest(b"<!DOCTYPE html><html>login</html>")


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"schemaVersion": 2}',
        b'{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:zz", "size": 1}}',
        b'{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "'
        + D1.encode()
        + b'", "size": -1}}',
        b'{"schemaVersion": 3, "config": {}}',
        b'{"schemaVersion": 2, "manifests": "no"}',
    ],
)
def test_malformed_manifests_raise_invalid_manifest(body: bytes) -> None:
    with pytest.raises(InvalidManifest):
        parse_manifest(body)


def test_config_parsing() -> None:
    cfg = parse_config(
        json.dumps(
            {
                "created": "2023-01-02T03:04:05.123456789Z",
                "os": "linux",
                "architecture": "arm",
                "variant": "v7",
                "config": {
                    "Env": ["A=1"],
                    "Entrypoint": ["/bin/sh"],
                    "Labels": {"x": "y"},
                    "ExposedPorts": {"80/tcp": {}},
                },
                "history": [
                    {"created": "2023-01-01T00:00:00Z", "created_by": "RUN x", "empty_layer": True}
                ],
            }
        ).encode()
    )
    assert cfg.created == datetime(2023, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert str(cfg.platform) == "linux/arm/v7"
    assert cfg.env == ("A=1",) and cfg.entrypoint == ("/bin/sh",) and cfg.labels == {"x": "y"}
    assert cfg.exposed_ports == ("80/tcp",)
    assert cfg.history[0].created_by == "RUN x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00.5+00:00", datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
        ("garbage", None),
        ("", None),
    ],
)
def test_parse_time(text: str, expected: datetime | None) -> None:
    assert parse_time(text) == expected
