"""The `regview` command line as users run it: a subprocess against real registries over
loopback (Debian's docker-registry with basic and token auth, and the embedded registry),
images pushed by skopeo."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cli_support import Cli
from distribution import Distribution
from server_support import host_of, local_registry
from support_images import build_image, build_index, push_layout

from regview.server.runner import LocalRegistry

pytestmark = [
    pytest.mark.integration,
    pytest.mark.needs_tool("skopeo"),
    pytest.mark.needs_tool("docker-registry"),
]
__all__ = ["local_registry"]

TAG_KEYS = {
    "tag",
    "digest",
    "media_type",
    "config_digest",
    "size",
    "created",
    "pulled",
    "platforms",
    "shares_digest_with",
    "frees",
}
PLATFORM_KEYS = {"os", "architecture", "variant", "digest", "size"}


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


@pytest.mark.parametrize("distribution", ["basic", "token"], indirect=True)
def test_tags_json_and_repos(tmp_path: Path, cli: Cli, distribution: Distribution) -> None:
    creds = distribution.creds
    assert creds is not None
    host = distribution.host
    single = build_image(tmp_path / "one", layer_sizes=[3000, 5000], labels={"x": "y"}, seed=1)
    index = build_index(tmp_path / "idx", platforms=("linux/amd64", "linux/arm64"), seed=2)
    d_one = push_layout(single, f"{host}/acme/app:v1", creds=creds)
    push_layout(single, f"{host}/acme/app:v1-alias", creds=creds)
    d_docker = push_layout(single, f"{host}/acme/app:docker", creds=creds, fmt="v2s2")
    d_multi = push_layout(index, f"{host}/acme/app:multi", creds=creds)
    push_layout(single, f"{host}/other/thing:latest", creds=creds)
    env = {"REGVIEW_USERNAME": creds[0], "REGVIEW_PASSWORD": creds[1]}

    r = cli("tags", f"{host}/acme/app", "--json", env=env)
    assert r.code == 0, r.err
    rows = {row["tag"]: row for row in r.json()}
    assert set(rows) == {"v1", "v1-alias", "docker", "multi"}
    assert all(set(row) == TAG_KEYS for row in rows.values())
    v1 = rows["v1"]
    assert v1["digest"] == d_one == single.digest
    assert v1["pulled"] is None, "a plain registry does not say when a tag was pulled"
    assert v1["media_type"] == "application/vnd.oci.image.manifest.v1+json"
    assert v1["shares_digest_with"] == ["v1-alias"]
    assert v1["size"] == single.blob_bytes()  # config + layers
    assert v1["created"] and v1["created"].endswith("Z")
    assert v1["config_digest"] == single.blob_digests[0]
    assert [set(p) for p in v1["platforms"]] == [PLATFORM_KEYS]
    assert rows["docker"]["digest"] == d_docker
    assert rows["docker"]["media_type"] == "application/vnd.docker.distribution.manifest.v2+json"
    multi = rows["multi"]
    assert multi["digest"] == d_multi
    assert multi["config_digest"] is None
    assert sorted(p["architecture"] for p in multi["platforms"]) == ["amd64", "arm64"]
    assert {p["digest"] for p in multi["platforms"]} == set(index.manifest_digests)
    assert multi["shares_digest_with"] == []

    r = cli("tags", f"{host}/acme/app", "--json", "--filter", "^v1", "--sort", "name", env=env)
    assert [row["tag"] for row in r.json()] == ["v1", "v1-alias"]
    # --filter limits the requests too: shares_digest_with covers the listed tags only
    r = cli("tags", f"{host}/acme/app", "--json", "--filter", "alias", env=env)
    assert r.json()[0]["shares_digest_with"] == []

    r = cli("tags", f"{host}/acme/app", env=env)
    assert r.code == 0 and "multi" in r.out and "linux/arm64" in r.out and "TAG" in r.out

    r = cli("repos", host, "--json", env=env)
    assert r.code == 0, r.err
    assert [x["path"] for x in r.json()] == ["acme/app", "other/thing"]
    r = cli("repos", f"{host}/acme", env=env)
    assert r.out.split() == ["acme/app"]

    # without credentials the registry refuses (the token realm grants anonymous pulls, but
    # not the catalog): exit 3, words, no traceback
    if distribution.flavour == "basic":
        r = cli("tags", f"{host}/acme/app", "--json")
    else:
        r = cli("repos", host, "--json")
    assert r.code == 3, (r.code, r.err)
    assert r.err.startswith("regview: ") and host in r.err
    _no_traceback(r.err)
    assert r.out == ""


@pytest.mark.parametrize("distribution", ["basic"], indirect=True)
def test_login_verifies_then_keyring_is_used(
    tmp_path: Path, cli: Cli, distribution: Distribution
) -> None:
    creds = distribution.creds
    assert creds is not None
    host = distribution.host
    push_layout(build_image(tmp_path / "img"), f"{host}/team/app:1", creds=creds)

    r = cli("login", host, "-u", creds[0], "--password-stdin", stdin="wrong-password\n")
    assert r.code == 3, r.err
    _no_traceback(r.err)
    assert not cli.settings_file.exists() and cli.keyring() == {}

    r = cli("login", host, "-u", creds[0], "--password-stdin", stdin=creds[1] + "\n")
    assert r.code == 0, r.err
    settings = json.loads(cli.settings_file.read_text())
    [profile] = settings["profiles"]
    assert profile["name"] == host and profile["username"] == creds[0]
    assert profile["url"] == f"http://{host}" and profile["verified_at"]
    assert creds[1] not in cli.settings_file.read_text()
    # the profile's own keyring entry, never one shared with other profiles of this login
    assert profile["secret_id"]
    assert cli.keyring() == {f"regview|{creds[0]}@{host}#{profile['secret_id']}": creds[1]}

    r = cli("repos", host, "--json")  # no flags, no env: the saved login
    assert r.code == 0, r.err
    assert [x["path"] for x in r.json()] == ["team/app"]

    r = cli("logout", host)
    assert r.code == 0, r.err
    assert cli.keyring() == {}
    assert json.loads(cli.settings_file.read_text())["profiles"][0]["username"] == ""
    r = cli("repos", host)
    assert r.code == 3

    # the Docker config file is the last resort
    auth = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    (docker_dir / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    r = cli("repos", host, env={"DOCKER_CONFIG": str(docker_dir)})
    assert r.code == 0, r.err
    assert r.out.split() == ["team/app"]
    r = cli("logout", host, "--forget")
    assert r.code == 0 and json.loads(cli.settings_file.read_text())["profiles"] == []


def test_inspect_index_image_and_errors(
    tmp_path: Path, cli: Cli, local_registry: LocalRegistry
) -> None:
    host = host_of(local_registry.url)
    index = build_index(tmp_path / "idx", seed=3)
    image = build_image(tmp_path / "img", layer_sizes=[1000, 2000], labels={"a": "b"}, seed=4)
    push_layout(index, f"{host}/acme/multi:1")
    push_layout(image, f"{host}/acme/single:1")

    r = cli("inspect", f"{host}/acme/multi:1", "--json")
    assert r.code == 0, r.err
    info = r.json()
    assert info["kind"] == "index" and info["digest"] == index.digest
    assert len(info["platforms"]) == 3
    assert {p["digest"] for p in info["platforms"]} == set(index.manifest_digests)
    assert info["size"] == sum(p["size"] for p in info["platforms"])
    assert info["referrers"] == []

    child = index.manifest_digests[0]
    r = cli("inspect", f"{host}/acme/multi@{child}", "--json")
    assert r.code == 0, r.err
    info = r.json()
    assert info["kind"] == "image" and info["digest"] == child and info["tag"] is None
    assert len(info["layers"]) == 1 and info["config"]["architecture"] == "amd64"

    r = cli("inspect", f"{host}/acme/single:1")
    assert r.code == 0, r.err
    assert image.digest in r.out and "layers:" in r.out and "label       a=b" in r.out

    r = cli("inspect", f"{host}/acme/single:nope")
    assert r.code == 4 and "not found" in r.err
    _no_traceback(r.err)
    r = cli("tags", f"{host}/acme/absent", "--json")
    assert r.code == 4 and r.out == ""
    r = cli("tags", f"{host}/Acme/Bad Name")
    assert r.code == 2 and "uppercase" in r.err
    _no_traceback(r.err)
    # plain http to a host that is not loopback: refused before any connection
    r = cli("login", "http://192.0.2.10:5000", "-u", "x", "--password-stdin", stdin="y")
    assert r.code == 1 and "plain http" in r.err
    assert not cli.settings_file.exists()
