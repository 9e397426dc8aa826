"""Issue 18 at the core: what regview asks a registry, and what it does not.

- capabilities inferred from headers, kind and what was learnt (no request);
- learnt facts remembered per registry on disk, and forgotten on "re-check";
- referrers: the `sha256-<hex>` fallback known from the tag list (no request when absent), the API
  asked once per registry;
- rows the caller holds revalidated with one conditional GET each (304: nothing else);
- a known GitLab image's project used directly (no `/projects/<path>` lookup);
- an `insufficient_scope` answer reads "this credential may not read …", not "check the password".
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from registry_fakes import OCI_INDEX, FakeRegistry

from regview.core import errors as E
from regview.core.client.client import RegistryClient
from regview.core.deletion.plan import DeleteSupport, Selection
from regview.core.deletion.port import ClientPort, gather_facts, selection_digests
from regview.core.deletion.probe import deletion_refused, infer_capabilities
from regview.core.gitlab.api import GitLabAPI
from regview.core.gitlab.cleanup import locate
from regview.core.inventory import load_tags, summary_of, tag_info
from regview.core.model import (
    ArtifactKind,
    CredentialKind,
    Credentials,
    Endpoint,
    RegistryKind,
    TagInfo,
)
from regview.core.referrers import find_referrers
from regview.core.registry_knowledge import KnowledgeStore, RegistryKnowledge

REG = "https://registry.example"
NOTHING = RegistryKnowledge()


def client_for(fake: FakeRegistry) -> RegistryClient:
    return RegistryClient(Endpoint(REG), transport=fake.transport())


# -- capabilities ------------------------------------------------------------------------------


def test_capabilities_from_headers_kind_and_what_was_learnt() -> None:
    gitlab = {
        "Gitlab-Container-Registry-Version": "4.1.0",
        "Gitlab-Container-Registry-Features": "tag_delete,other",
    }
    caps = infer_capabilities(gitlab, "generic", NOTHING)
    assert caps.tag_delete and caps.manifest_delete is DeleteSupport.ALLOWED
    older = {"Gitlab-Container-Registry-Version": "3.0.0"}
    assert not infer_capabilities(older, RegistryKind.GITLAB, NOTHING).tag_delete
    assert infer_capabilities({"Regview-Registry-Version": "1"}, "generic", NOTHING).tag_delete
    plain = infer_capabilities(
        {"Docker-Distribution-API-Version": "registry/2.0"}, "generic", NOTHING
    )
    assert not plain.tag_delete and plain.manifest_delete is DeleteSupport.UNKNOWN
    # an answer beats a header: GitLab said tag_delete, a real tag delete said 405
    learnt = RegistryKnowledge(tag_delete=False, learnt_from="405")
    assert not infer_capabilities(gitlab, "generic", learnt).tag_delete
    off = RegistryKnowledge(deletion_disabled=True, learnt_from="a delete by digest: 405")
    caps = infer_capabilities({}, "generic", off)
    assert caps.manifest_delete is DeleteSupport.DISABLED
    assert "405" in caps.detail


def test_which_answers_mean_this_way_of_deleting_is_not_offered() -> None:
    def err(status: int, code: str = "") -> E.ResponseError:
        body = json.dumps({"errors": [{"code": code, "message": "m"}]}).encode() if code else b""
        exc = E.error_for_status(
            status, body, "application/json", registry="r", what="x", method="DELETE"
        )
        assert isinstance(exc, E.ResponseError)
        return exc

    assert deletion_refused(err(405, "UNSUPPORTED"))
    assert deletion_refused(err(400, "DIGEST_INVALID"))  # distribution 2.8 on a tag delete
    assert not deletion_refused(err(400, "MANIFEST_INVALID"))
    assert not deletion_refused(err(403, "DENIED"))
    assert not deletion_refused(err(404, "MANIFEST_UNKNOWN"))


def test_knowledge_is_remembered_per_registry_and_forgotten_on_recheck(tmp_path: Path) -> None:
    path = tmp_path / "registries.json"
    store = KnowledgeStore(path)
    store.learn("a.example", tag_delete=False, learnt_from="DELETE …/v1 answered 400")
    store.learn("b.example", referrers_api=True)
    store.flush()
    again = KnowledgeStore(path)  # another process (the CLI after the GUI)
    assert again.get("a.example") == RegistryKnowledge(
        tag_delete=False, learnt_from="DELETE …/v1 answered 400"
    )
    assert again.get("b.example").referrers_api is True
    again.forget("a.example")
    again.flush()
    assert KnowledgeStore(path).get("a.example") == NOTHING
    path.write_text("not json")  # a broken file is ignored, never fatal
    assert KnowledgeStore(path).get("b.example") == NOTHING


# -- referrers ---------------------------------------------------------------------------------


def _referrers_index(fake: FakeRegistry, subject: str, tag: str) -> str:
    sig = fake.add_image(None, layers=(b"signature",))
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [fake.descriptor(sig, None, artifactType="application/vnd.dev.cosign")],
    }
    return fake.add_manifest(tag, json.dumps(body).encode(), OCI_INDEX)


async def test_referrers_fallback_from_the_tag_list_and_the_api_asked_once(
    tmp_path: Path,
) -> None:
    fake = FakeRegistry()
    signed = fake.add_image("v1", layers=(b"a",))
    plain = fake.add_image("v2", layers=(b"b",))
    fallback = _referrers_index(fake, signed, signed.replace(":", "-"))
    knowledge = KnowledgeStore(tmp_path / "k.json")
    tags = dict(fake.tags)
    async with client_for(fake) as c:
        found = await find_referrers(c, fake.repo, [signed, plain], tags, knowledge)
        first = [(r.method, r.url.path) for r in fake.log]
        fake.log.clear()
        again = await find_referrers(c, fake.repo, [signed, plain], tags, knowledge)
        second = [(r.method, r.url.path) for r in fake.log]
    assert [r.artifact_type for r in found[signed]] == ["application/vnd.dev.cosign"]
    assert plain not in found and again == found
    # the API once (for the first digest: 404, no API), the fallback index once, nothing else
    assert sorted(first) == sorted(
        [
            ("GET", f"/v2/{fake.repo}/referrers/{min(signed, plain)}"),
            ("GET", f"/v2/{fake.repo}/manifests/{fallback}"),
        ]
    )
    assert knowledge.get(c.registry).referrers_api is False
    assert second == [("GET", f"/v2/{fake.repo}/manifests/{fallback}")]  # API not asked again


def test_referrers_are_looked_up_only_for_what_the_selection_touches() -> None:
    fake = FakeRegistry()
    a, b = fake.add_image("a", layers=(b"1",)), fake.add_image("b", layers=(b"2",))
    rows = [TagInfo(fake.repo, t, d, "", ArtifactKind.IMAGE) for t, d in (("a", a), ("b", b))]
    assert selection_digests(rows, Selection.of_tags(["a"])) == {a}
    assert selection_digests(rows, Selection.repository()) == {a, b}


# -- revalidating rows at hand -----------------------------------------------------------------


async def test_rows_at_hand_cost_one_conditional_get_each(tmp_path: Path) -> None:
    fake = FakeRegistry()
    for i in range(5):
        fake.add_image(f"t{i}", layers=(f"l{i}".encode(),))
    async with client_for(fake) as c:
        rows = await load_tags(c, fake.repo)
        fake.log.clear()
        port = ClientPort(c, knowledge=KnowledgeStore(tmp_path / "k.json"))
        facts = await gather_facts(port, fake.repo, known=rows)
    paths = [(r.method, r.url.path, "if-none-match" in r.headers) for r in fake.log]
    manifest_gets = [p for p in paths if "/manifests/" in p[1]]
    assert len(manifest_gets) == 5 and all(cond for _m, _p, cond in manifest_gets)
    assert not [p for p in paths if "/blobs/" in p[1]]  # no config read again
    assert not [p for p in paths if p[0] in ("DELETE", "OPTIONS", "PUT")]  # no probes
    assert len(paths) == 5 + 2  # + the tag list + the /v2/ check (headers, once per client)
    assert [t.digest for t in facts.tags] == [t.digest for t in rows]
    assert all(tag_info(fake.repo, t.tag, t.digest, summary_of(t), None) == t for t in rows)


# -- GitLab ids --------------------------------------------------------------------------------


async def test_a_listed_gitlab_image_is_located_without_a_request() -> None:
    calls: list[str] = []
    repos = [
        {"id": 7, "name": "app", "path": "group/project/app", "project_id": 42, "location": "x"},
        {"id": 8, "name": "", "path": "group/project", "project_id": 42, "location": "y"},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.raw_path.decode())
        return httpx.Response(200, json=repos)

    api = GitLabAPI(
        "https://gitlab.polite.example/api/v4",
        Credentials("u", "glpat-x", CredentialKind.PERSONAL),
        transport=httpx.MockTransport(handler),
    )
    async with api:
        await api.project_repositories(42)
        calls.clear()
        target = await locate(api, "group/project/app")
        root = await locate(api, "group/project")
    assert calls == []  # no /projects/group%2Fproject%2Fapp 404, no second listing
    assert (target.project_id, target.project_path, target.repository_id) == (
        42,
        "group/project",
        7,
    )
    assert (root.project_path, root.repository_id) == ("group/project", 8)


# -- error wording -----------------------------------------------------------------------------


def test_insufficient_scope_says_what_the_credential_may_not_do() -> None:
    challenge = (
        'Bearer realm="https://gitlab.example/jwt/auth",service="container_registry",'
        'scope="repository:group/app:pull",error="insufficient_scope"'
    )
    exc = E.error_for_status(
        401,
        b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
        "application/json",
        registry="registry.example",
        what="the tag list of group/app",
        www_authenticate=challenge,
    )
    assert isinstance(exc, E.AccessDenied) and not isinstance(exc, E.AuthenticationFailed)
    assert "may not read the tag list of group/app" in exc.message
    assert "repository:group/app:pull" in exc.message and "read_registry" in exc.message
    assert "password" not in exc.message
    # a plain 401 (wrong password) still says so
    wrong = E.error_for_status(
        401, b"", "", registry="r", what="the tag list of x", www_authenticate='Basic realm="r"'
    )
    assert isinstance(wrong, E.AuthenticationFailed) and "password" in wrong.message
    denied = E.error_for_status(
        403,
        b'{"errors":[{"code":"DENIED","message":"no"}]}',
        "application/json",
        registry="r",
        what="deleting group/app:v1",
        method="DELETE",
    )
    assert isinstance(denied, E.AccessDenied) and "may not delete" in denied.message


def test_what_the_token_service_grants_decides_without_a_delete() -> None:
    pull_only = infer_capabilities(
        {"Regview-Registry-Version": "1"}, "generic", NOTHING, granted={"pull"}
    )
    assert pull_only.manifest_delete is DeleteSupport.DENIED and "pull" in pull_only.detail
    assert not pull_only.can_push
    full = infer_capabilities({}, "generic", NOTHING, granted={"pull", "push", "delete"})
    assert full.manifest_delete is DeleteSupport.UNKNOWN and full.can_push
