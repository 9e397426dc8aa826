"""The client against regview's own registry app in-process (httpx.ASGITransport): tier two."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from regview.core import errors as E
from regview.core import inventory
from regview.core.client.client import RegistryClient
from regview.core.deletion.plan import DeleteSupport
from regview.core.deletion.probe import infer_capabilities
from regview.core.model import ArtifactKind, Endpoint
from regview.core.registry_knowledge import RegistryKnowledge
from regview.server.config import ServerConfig
from regview.server.v2.app import create_app

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@pytest.fixture
def client(tmp_path: Path) -> RegistryClient:
    app = create_app(ServerConfig(tmp_path / "data", gc_delay=-1), online_gc=False)
    return RegistryClient(
        Endpoint("http://127.0.0.1:5999"),
        transport=httpx.ASGITransport(app=app),
        cache_dir=tmp_path / "cache",
    )


async def push_image(c: RegistryClient, repo: str, tag: str, arch: str, n: int) -> tuple[str, int]:
    config = json.dumps(
        {"created": f"2024-0{n}-01T00:00:00Z", "os": "linux", "architecture": arch}
    ).encode()
    layer = f"layer-{arch}-{n}".encode() * 50
    cd = await c.upload_blob(repo, config)
    ld = await c.upload_blob(repo, layer)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": cd,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": ld,
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    return await c.put_manifest(repo, tag, manifest, OCI_MANIFEST), len(config) + len(layer)


async def test_push_list_describe_and_delete_a_tag(client: RegistryClient) -> None:
    async with client as c:
        await c.ping()
        amd, amd_size = await push_image(c, "acme/app", "amd", "amd64", 1)
        arm, _ = await push_image(c, "acme/app", "arm", "arm64", 2)
        index = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": d,
                        "size": (await c.head_manifest("acme/app", d)).size,
                        "platform": {"os": "linux", "architecture": a},
                    }
                    for d, a in ((amd, "amd64"), (arm, "arm64"))
                ],
            }
        ).encode()
        multi = await c.put_manifest("acme/app", "multi", index, OCI_INDEX)
        repos = [r async for page in c.iter_repositories() for r in page]
        assert repos == ["acme/app"]
        tags = {t.tag: t for t in await inventory.load_tags(c, "acme/app")}
        assert tags["amd"].size == amd_size
        assert tags["multi"].digest == multi and tags["multi"].kind == ArtifactKind.INDEX
        assert [p.label for p in tags["multi"].platforms] == ["linux/amd64", "linux/arm64"]
        # regview's registry says who it is on /v2/: single-tag deletes, without a probe
        caps = infer_capabilities(await c.ping(), c.endpoint.kind, RegistryKnowledge())
        assert caps.tag_delete and caps.manifest_delete is DeleteSupport.ALLOWED
        await c.delete_manifest("acme/app", "amd")
        assert sorted(await c.list_tags("acme/app")) == ["arm", "multi"]
        # the manifest stays reachable by digest: only the tag went
        assert (await c.get_manifest("acme/app", amd)).digest == amd


async def test_referrers_through_the_oci_api(client: RegistryClient) -> None:
    async with client as c:
        subject, _ = await push_image(c, "acme/app", "v1", "amd64", 1)
        empty = await c.upload_blob("acme/app", b"{}")
        sig = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.empty.v1+json",
                    "digest": empty,
                    "size": 2,
                },
                "layers": [],
                "subject": {
                    "mediaType": OCI_MANIFEST,
                    "digest": subject,
                    "size": (await c.head_manifest("acme/app", subject)).size,
                },
            }
        ).encode()
        sig_digest = await c.put_manifest("acme/app", sig_digest_tag := "sig", sig, OCI_MANIFEST)
        assert sig_digest_tag == "sig"
        [ref] = await c.referrers("acme/app", subject)
    assert ref.digest == sig_digest
    assert ref.artifact_type == "application/vnd.dev.cosign.artifact.sig.v1+json"


async def test_unknown_repository_is_a_typed_error(client: RegistryClient) -> None:
    async with client as c:
        with pytest.raises(E.NotFound):
            await c.list_tags("nobody/here")
