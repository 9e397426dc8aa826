"""Property tests of plan → execute against real registries over loopback sockets: the embedded
registry (OCI tag delete, referrers API) and Debian's docker-registry 2.8 (no tag delete: the
throw-away-manifest path; no referrers API: `sha256-<hex>` fallback tags).

Each example pushes a generated state into a fresh repository — images (tiny random blobs,
OCI or Docker), multi-arch indexes over them, artifacts (`artifactType`, empty config), several
tags on one manifest, referrers whose `subject` is a tagged manifest — then draws a selection
and plan options, runs `gather_facts` → `make_plan` → `Executor.run`, and checks over plain HTTP:
exactly the selected tags (minus refusals, each with a reason) are gone, every other tag resolves
to the digest it had, nothing a kept tag needs (index children, referrers) was deleted, and no
tag was created (no throw-away tag left behind).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from distribution import run_distribution
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from testkit import require_tool

from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import Executor
from regview.core.deletion.plan import DeleteSupport, Method, PlanOptions, Selection, make_plan
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.journal.journal import Journal
from regview.core.model import Endpoint
from regview.spec import mediatypes as mt

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ARTIFACT_TYPES = ("application/vnd.example.sbom+json", "application/vnd.example.signature")
PLATFORMS = (("linux", "amd64"), ("linux", "arm64"), ("linux", "s390x"), ("windows", "amd64"))
_counter = itertools.count()


# -- the generated state ----------------------------------------------------------------------


@dataclass
class Blob:
    data: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def descriptor(self) -> dict[str, object]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data)}


@dataclass
class Manifest:
    data: bytes
    media_type: str
    blobs: list[Blob] = field(default_factory=list)
    children: list[str] = field(default_factory=list)  # digests of index children
    subject: str = ""
    artifact_type: str = ""

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def descriptor(self) -> dict[str, object]:
        d: dict[str, object] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.data),
        }
        if self.artifact_type:
            d["artifactType"] = self.artifact_type
        return d


def _dump(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


EMPTY = Blob(b"{}", mt.OCI_EMPTY)


@dataclass
class State:
    """Manifests in push order (children before indexes, subjects before referrers) and tags."""

    manifests: list[Manifest]
    tags: dict[str, str]  # tag → digest
    fallback: bool = False  # push `sha256-<hex>` referrer index tags (no referrers API)

    def by_digest(self) -> dict[str, Manifest]:
        return {m.digest: m for m in self.manifests}


def _image(draw: st.DrawFn, layers: list[bytes], n: int) -> Manifest:
    docker = draw(st.booleans())
    salt = draw(st.binary(min_size=1, max_size=8)).hex()
    os_, arch = draw(st.sampled_from(PLATFORMS))
    config = Blob(
        _dump({"architecture": arch, "os": os_, "config": {"Labels": {"n": f"{n}-{salt}"}}}),
        DOCKER_CONFIG if docker else OCI_CONFIG,
    )
    chosen = draw(st.lists(st.sampled_from(layers), min_size=1, max_size=2, unique=True))
    blobs = [Blob(b, DOCKER_LAYER if docker else OCI_LAYER) for b in chosen]
    media_type = mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST
    body = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": config.descriptor(),
        "layers": [b.descriptor() for b in blobs],
    }
    return Manifest(_dump(body), media_type, [config, *blobs])


def _index(draw: st.DrawFn, images: list[Manifest], n: int) -> Manifest:
    kids = draw(st.lists(st.sampled_from(images), min_size=1, max_size=3, unique_by=id))
    entries = []
    for i, kid in enumerate(kids):
        os_, arch = PLATFORMS[i % len(PLATFORMS)]
        entries.append({**kid.descriptor(), "platform": {"os": os_, "architecture": arch}})
    body = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": entries,
        "annotations": {"n": str(n)},
    }
    return Manifest(_dump(body), mt.OCI_INDEX, children=[k.digest for k in kids])


def _artifact(draw: st.DrawFn, n: int, subject: Manifest | None) -> Manifest:
    artifact_type = draw(st.sampled_from(ARTIFACT_TYPES))
    payload = Blob(
        draw(st.binary(min_size=1, max_size=24)) + f"#{n}".encode(), "application/octet-stream"
    )
    body: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": EMPTY.descriptor(),
        "layers": [payload.descriptor()],
    }
    if subject is not None:
        body["subject"] = subject.descriptor()
    return Manifest(
        _dump(body),
        mt.OCI_MANIFEST,
        [EMPTY, payload],
        subject=subject.digest if subject is not None else "",
        artifact_type=artifact_type,
    )


def _fallback_index(subject: str, referrers: list[Manifest]) -> Manifest:
    body = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [r.descriptor() for r in referrers],
    }
    return Manifest(_dump(body), mt.OCI_INDEX, children=[r.digest for r in referrers])


@st.composite
def states(draw: st.DrawFn, fallback: bool) -> State:
    layers = [
        draw(st.binary(min_size=1, max_size=16)) + bytes([i])
        for i in range(draw(st.integers(1, 3)))
    ]
    images = [_image(draw, layers, i) for i in range(draw(st.integers(1, 4)))]
    indexes = [_index(draw, images, i) for i in range(draw(st.integers(0, 2)))]
    artifacts = [_artifact(draw, i, None) for i in range(draw(st.integers(0, 2)))]
    manifests = images + indexes + artifacts
    # Tags: several may share one manifest; images that are only index children stay untagged.
    targets = draw(st.lists(st.sampled_from(manifests), min_size=1, max_size=7))
    tags = {f"t{i}": m.digest for i, m in enumerate(targets)}
    tagged = list({m.digest: m for m in targets}.values())
    # Referrers point at a tagged manifest, a child of a tagged index, or an earlier referrer
    # (a signature of an SBOM).
    subjects = tagged + [c for m in tagged for c in images if c.digest in m.children]
    referrers: list[Manifest] = []
    for i in range(draw(st.integers(0, 3))):
        referrers.append(_artifact(draw, 100 + i, draw(st.sampled_from(subjects + referrers))))
    manifests = manifests + referrers
    if fallback:
        by_subject: dict[str, list[Manifest]] = {}
        for r in referrers:
            by_subject.setdefault(r.subject, []).append(r)
        for subject, refs in by_subject.items():
            index = _fallback_index(subject, refs)
            manifests.append(index)
            tags[subject.replace(":", "-", 1)] = index.digest
    return State(list({m.digest: m for m in manifests}.values()), tags, fallback)


# -- pushing and reading over HTTP -------------------------------------------------------------


async def push(client: RegistryClient, repo: str, state: State) -> None:
    uploaded: set[str] = set()
    for m in state.manifests:
        for b in m.blobs:
            if b.digest not in uploaded:
                await client.upload_blob(repo, b.data)
                uploaded.add(b.digest)
        await client.put_manifest(repo, m.digest, m.data, m.media_type)
    for tag, digest in state.tags.items():
        m = state.by_digest()[digest]
        await client.put_manifest(repo, tag, m.data, m.media_type)


async def tag_list(http: httpx.AsyncClient, repo: str) -> set[str]:
    r = await http.get(f"/v2/{repo}/tags/list")
    if r.status_code == 404:
        return set()
    r.raise_for_status()
    return set(r.json().get("tags") or [])


async def resolve(http: httpx.AsyncClient, repo: str, reference: str) -> str | None:
    r = await http.head(
        f"/v2/{repo}/manifests/{reference}", headers={"Accept": mt.ACCEPT_MANIFESTS}
    )
    if r.status_code == 404:
        return None
    assert r.status_code == 200, (reference, r.status_code)
    return r.headers["Docker-Content-Digest"]


async def snapshot(http: httpx.AsyncClient, repo: str) -> dict[str, str | None]:
    return {t: await resolve(http, repo, t) for t in sorted(await tag_list(http, repo))}


def must_survive(state: State, kept: set[str]) -> set[str]:
    """Everything a kept tag needs: its manifest, index children, referrers (recursively)."""
    by_digest = state.by_digest()
    seen: set[str] = set()
    stack = [state.tags[t] for t in kept]
    while stack:
        d = stack.pop()
        if d in seen:
            continue
        seen.add(d)
        stack.extend(by_digest[d].children)
        stack.extend(m.digest for m in state.manifests if m.subject == d)
    return seen


# -- the property ------------------------------------------------------------------------------


async def check(url: str, state: State, data: st.DataObject, options: PlanOptions) -> None:
    repo = f"prop/r{next(_counter)}-{uuid.uuid4().hex[:8]}"
    async with (
        RegistryClient(Endpoint(url)) as client,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        await push(client, repo, state)
        before = await snapshot(http, repo)
        assert before == state.tags  # the registry holds exactly what was generated

        selected = data.draw(st.sets(st.sampled_from(sorted(before))), label="selected")
        port = ClientPort(client)
        facts = await gather_facts(port, repo, referrers_for=Selection.repository())
        # no probe: regview's registry says who it is on /v2/, distribution does not
        embedded = "Regview-Registry-Version" in await client.ping()
        assert facts.capabilities.manifest_delete is (
            DeleteSupport.ALLOWED if embedded else DeleteSupport.UNKNOWN
        )
        plan = make_plan(facts, Selection.of_tags(selected), options)
        assert not plan.refusal, plan.refusal
        expected_method = Method.THROWAWAY if state.fallback else Method.TAG_DELETE
        assert {a.method for a in plan.tag_actions} <= {expected_method}
        refused = {r.tag for r in plan.refused}
        assert all(r.reason for r in plan.refused), plan.refused
        assert refused <= selected

        report = await Executor(port, Journal()).run(plan)
        assert report.failed == [] and report.not_started == [], report.results
        assert {r.name for r in report.deleted if r.kind == "tag"} == selected - refused

        event(f"tags deleted: {min(len(gone := selected - refused), 3)}+")
        event(f"manifests deleted by digest: {bool(plan.manifest_actions)}")
        event(f"refused: {bool(refused)}")
        event(f"referrers: {any(m.subject for m in state.manifests)}")
        event(f"index tagged: {any(m.children and not m.subject for m in state.manifests)}")

        after = await snapshot(http, repo)
        assert set(after) == set(before) - gone, "tags created or left behind"
        for t, d in after.items():
            assert d == before[t], f"kept tag {t} moved from {before[t]} to {d}"

        kept = set(before) - gone
        for d in sorted(must_survive(state, kept)):
            assert await resolve(http, repo, d) == d, f"{d} is needed by a kept tag but is gone"
        if not options.delete_referrers:
            # Referrers go with their subject only when asked; a selected fallback tag's
            # index may take its (then orphaned) children along, as any index does.
            listed = {
                c
                for t in gone
                if t.startswith("sha256-")
                for c in state.by_digest()[before[t] or ""].children
            }
            for m in state.manifests:
                if m.subject and m.digest not in listed:
                    assert await resolve(http, repo, m.digest) == m.digest, (
                        f"referrer {m.digest} deleted without delete_referrers"
                    )
        for r in report.deleted:
            if r.kind == "manifest":
                assert await resolve(http, repo, r.digest) is None, f"{r.digest} still there"


#: per registry; raise it for a longer hunt: REGVIEW_PROPERTY_EXAMPLES=300 pytest ...
EXAMPLES = int(os.environ.get("REGVIEW_PROPERTY_EXAMPLES", "25"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def embedded_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from regview.server.runner import LocalRegistry

    with LocalRegistry(tmp_path_factory.mktemp("embedded"), demo=False) as reg:
        yield reg.url


@pytest.fixture(scope="module")
def distribution_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_tool("docker-registry")
    with run_distribution(tmp_path_factory.mktemp("dist")) as reg:
        yield reg.url


@SETTINGS
@given(
    state=states(fallback=False),
    data=st.data(),
    delete_manifests=st.booleans(),
    delete_referrers=st.booleans(),
)
def test_embedded_registry(
    embedded_url: str,
    state: State,
    data: st.DataObject,
    delete_manifests: bool,
    delete_referrers: bool,
) -> None:
    options = PlanOptions(delete_manifests=delete_manifests, delete_referrers=delete_referrers)
    asyncio.run(check(embedded_url, state, data, options))


@pytest.mark.needs_tool("docker-registry")
@SETTINGS
@given(
    state=states(fallback=True),
    data=st.data(),
    delete_manifests=st.booleans(),
    delete_referrers=st.booleans(),
)
def test_docker_registry(
    distribution_url: str,
    state: State,
    data: st.DataObject,
    delete_manifests: bool,
    delete_referrers: bool,
) -> None:
    options = PlanOptions(delete_manifests=delete_manifests, delete_referrers=delete_referrers)
    asyncio.run(check(distribution_url, state, data, options))
