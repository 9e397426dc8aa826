"""Images pushed into a vendor imitation the way any client pushes: the `/v2/` challenge, a
token from the realm it names (Basic login), blobs, then manifests.

    pushed = seed(url, ("user", "secret"), "team/app", LAYOUT)   tag → digest

LAYOUT names images by a letter: tags sharing a letter share a digest (siblings); "multi" is
an index of two platform images whose children are untagged.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator

import httpx
from oci_pusher import OCI_MANIFEST, Image, make_image, push, sha

INDEX = "application/vnd.oci.image.index.v1+json"

#: tag → image letter ("I" is the index)
LAYOUT = {
    "v1.0": "A",
    "stable": "A",
    "old": "B",
    "old-copy": "B",
    "dev-1": "C",
    "dev-2": "D",
    "multi": "I",
}


@contextlib.contextmanager
def token_client(
    url: str, creds: tuple[str, str], repo: str, actions: str = "pull,push"
) -> Iterator[httpx.Client]:
    """An httpx client holding a push/pull/delete token for `repo` from the realm /v2/ names."""
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as http:
        challenge = http.get("/v2/").headers.get("WWW-Authenticate", "")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        answer = http.get(
            fields["realm"],
            params={"service": fields.get("service", ""), "scope": f"repository:{repo}:{actions}"},
            auth=creds,
        )
        answer.raise_for_status()
        http.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        yield http


def _image(repo: str, letter: str, arch: str = "amd64") -> Image:
    layers = [f"{letter}-{arch}-layer-{i}".encode() * (200 + 50 * i) for i in range(2)]
    layers.append(b"shared base layer" * 300)  # one layer every image has
    return make_image(repo, f"{letter}-{arch}", layers)


def seed(url: str, creds: tuple[str, str], repo: str, layout: dict[str, str]) -> dict[str, str]:
    pushed: dict[str, str] = {}
    with token_client(url, creds, repo) as http:
        made: dict[str, tuple[bytes, str]] = {}
        for tag, letter in layout.items():
            if letter not in made:
                if letter == "I":
                    children = [_image(repo, "I", arch) for arch in ("amd64", "arm64")]
                    for child in children:
                        push(http, Image(repo, child.digest, child.manifest, child.blobs))
                    index = json.dumps(
                        {
                            "schemaVersion": 2,
                            "mediaType": INDEX,
                            "manifests": [
                                {
                                    "mediaType": OCI_MANIFEST,
                                    "digest": c.digest,
                                    "size": len(c.manifest),
                                    "platform": {"os": "linux", "architecture": arch},
                                }
                                for c, arch in zip(children, ("amd64", "arm64"), strict=True)
                            ],
                        }
                    ).encode()
                    made[letter] = (index, INDEX)
                else:
                    image = _image(repo, letter)
                    push(http, Image(repo, image.digest, image.manifest, image.blobs))
                    made[letter] = (image.manifest, OCI_MANIFEST)
            body, media_type = made[letter]
            r = http.put(
                f"/v2/{repo}/manifests/{tag}", content=body, headers={"Content-Type": media_type}
            )
            assert r.status_code == 201, r.text
            pushed[tag] = sha(body)
    return pushed


def tags_now(url: str, creds: tuple[str, str], repo: str) -> dict[str, str]:
    """What `/v2` says now: tag → digest."""
    with token_client(url, creds, repo) as http:
        names = http.get(f"/v2/{repo}/tags/list").json().get("tags") or []
        out = {}
        for name in names:
            r = http.head(
                f"/v2/{repo}/manifests/{name}", headers={"Accept": f"{OCI_MANIFEST}, {INDEX}"}
            )
            out[name] = r.headers["Docker-Content-Digest"]
        return out
