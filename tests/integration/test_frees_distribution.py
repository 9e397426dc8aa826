"""What each tag frees, what a selection frees and what each repository stores, against Debian's
docker-registry with images pushed by skopeo — compared with a computation of our own from the
manifests as skopeo reads them (`skopeo inspect --raw`), not through regview's client."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_support import Cli
from distribution import Distribution
from support_images import build_image, build_index, push_layout, skopeo_base

pytestmark = [
    pytest.mark.integration,
    pytest.mark.needs_tool("skopeo"),
    pytest.mark.needs_tool("docker-registry"),
]

INDEXES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}


def skopeo(*args: str) -> str:
    exe = shutil.which("skopeo")
    assert exe is not None
    done = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


class Independent:
    """Every tag's blobs from the manifests skopeo fetches; frees by definition."""

    def __init__(self, host: str, repository: str, creds: tuple[str, str]) -> None:
        self.base = f"docker://{host}/{repository}"
        self.opts = ["--tls-verify=false", f"--creds={creds[0]}:{creds[1]}"]
        listed = json.loads(skopeo("list-tags", *self.opts, self.base))
        self.trees = {tag: self.tree(f"{self.base}:{tag}") for tag in listed["Tags"]}

    def tree(self, ref: str) -> dict[str, int]:
        manifest = json.loads(skopeo("inspect", "--raw", *self.opts, ref))
        if manifest.get("mediaType") in INDEXES or "manifests" in manifest:
            blobs: dict[str, int] = {}
            for child in manifest["manifests"]:
                blobs |= self.tree(f"{self.base}@{child['digest']}")
            return blobs
        return {d["digest"]: d["size"] for d in [manifest["config"], *manifest["layers"]]}

    def stored(self, without: set[str] = frozenset()) -> int:  # type: ignore[assignment]
        union: dict[str, int] = {}
        for tag, tree in self.trees.items():
            if tag not in without:
                union |= tree
        return sum(union.values())

    def frees(self, tags: set[str]) -> int:
        return self.stored() - self.stored(without=tags)


@pytest.mark.parametrize("distribution", ["basic"], indirect=True)
def test_frees_and_du_match_an_independent_computation(
    tmp_path: Path, distribution: Distribution
) -> None:
    creds = distribution.creds
    assert creds is not None
    host = distribution.host
    # Same seed and leading layer sizes: "app" is "base" plus a layer (two layers shared).
    base = build_image(tmp_path / "base", layer_sizes=[40_000, 60_000], seed=7)
    app = build_image(tmp_path / "app", layer_sizes=[40_000, 60_000, 90_000], seed=7)
    multi = build_index(tmp_path / "multi", platforms=("linux/amd64", "linux/arm64"), seed=9)
    other = build_image(tmp_path / "other", layer_sizes=[25_000], seed=3)
    push_layout(base, f"{host}/acme/app:base", creds=creds)
    push_layout(base, f"{host}/acme/app:base-alias", creds=creds)  # the same digest
    push_layout(app, f"{host}/acme/app:app", creds=creds)
    push_layout(multi, f"{host}/acme/app:multi", creds=creds)
    push_layout(other, f"{host}/acme/tools:1", creds=creds)
    # A single-platform tag on one of the index's children.
    amd64 = multi.manifest_digests[0]
    skopeo(
        "copy",
        *skopeo_base(creds, side="src"),
        *skopeo_base(creds, side="dest"),
        f"docker://{host}/acme/app@{amd64}",
        f"docker://{host}/acme/app:multi-amd64",
    )

    expected = Independent(host, "acme/app", creds)
    assert set(expected.trees) == {"base", "base-alias", "app", "multi", "multi-amd64"}
    # The scenario has what it should: shared layers, a shared digest, a shared index child.
    assert len(expected.trees["base"].keys() & expected.trees["app"].keys()) == 2  # layers
    assert expected.trees["multi-amd64"].keys() < expected.trees["multi"].keys()

    cli = Cli(tmp_path / "cli")
    env = {"REGVIEW_USERNAME": creds[0], "REGVIEW_PASSWORD": creds[1]}
    r = cli("tags", f"{host}/acme/app", "--json", env=env)
    assert r.code == 0, r.err
    got = {row["tag"]: row["frees"] for row in r.json()}
    assert got == {tag: expected.frees({tag}) for tag in expected.trees}
    assert got["base"] == got["base-alias"] == got["multi-amd64"] == 0
    assert got["app"] > 0 and got["multi"] > 0

    # A selection: de-duplicated, and the delete plan gives the same number.
    picked = ["base", "base-alias", "multi-amd64", "app"]
    r = cli("rm", *(f"{host}/acme/app:{t}" for t in picked), "--dry-run", "--json", env=env)
    assert r.code == 0, r.err
    [plan] = r.json()["plans"]
    reclaimable = plan["blast_radius"]["reclaimable_bytes"]
    assert reclaimable == expected.frees(set(picked)) > 0

    # --filter reads only some tags: no figure rather than a wrong one.
    r = cli("tags", f"{host}/acme/app", "--json", "--filter", "^app$", env=env)
    assert [row["frees"] for row in r.json()] == [None]

    r = cli("du", host, "--json", env=env)
    assert r.code == 0, r.err
    tools = Independent(host, "acme/tools", creds)
    assert r.json() == [
        {
            "repository": "acme/app",
            "tags": 5,
            "stored": expected.stored(),
            "untagged": None,
            "untagged_exact": None,
            "complete": True,
            "gitlab_size": None,
        },
        {
            "repository": "acme/tools",
            "tags": 1,
            "stored": tools.stored(),
            "untagged": None,
            "untagged_exact": None,
            "complete": True,
            "gitlab_size": None,
        },
    ]
    assert "[1/2] reading acme/app" in r.err and "[2/2] reading acme/tools" in r.err
    r = cli("du", f"{host}/acme", env=env)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAGS", "STORED"]  # nothing knows untagged bytes
    assert lines[1].startswith("acme/app") and lines[2].startswith("acme/tools")
    assert "untagged manifests: unknown — the registry's API lists tags only" in r.err
    assert "Traceback" not in r.err
