"""Image references `host[:port]/path[:tag][@digest]`, repository names and tags.

Validation errors name the bad part and what would be valid, including GitLab's
troubleshooting cases (a path component with a leading underscore or a trailing hyphen makes
`docker push` fail with a connection error there, which is hard to trace back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from regview.spec.digest import Digest
from regview.spec.errors import InvalidReference

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
_HOST = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$"
)
MAX_NAME_LENGTH = 255
MAX_TAG_LENGTH = 128


def _describe_component_problem(component: str) -> str:
    if component == "":
        return "has an empty path component (two slashes in a row, or a leading/trailing slash)"
    if component != component.lower():
        return f"component {component!r} has uppercase letters; repository names are lowercase"
    if component.startswith(("_", ".", "-")):
        kind = {"_": "a leading underscore", ".": "a leading dot", "-": "a leading hyphen"}
        return f"component {component!r} starts with {kind[component[0]]}"
    if component.endswith(("_", ".", "-")):
        kind = {"_": "a trailing underscore", ".": "a trailing dot", "-": "a trailing hyphen"}
        return f"component {component!r} ends with {kind[component[-1]]}"
    if " " in component:
        return f"component {component!r} has a space"
    bad = sorted({c for c in component if not (c.isascii() and (c.isalnum() or c in "._-"))})
    if bad:
        return f"component {component!r} has the character(s) {' '.join(map(repr, bad))}"
    return f"component {component!r} has separators in a row (only '.', '_', '__' or '-' runs)"


def validate_repository(name: str) -> str:
    """Return `name` if it is a valid repository path, else raise InvalidReference."""
    if not name:
        raise InvalidReference("repository name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidReference(
            f"repository name is {len(name)} characters long; at most {MAX_NAME_LENGTH} allowed"
        )
    for component in name.split("/"):
        if not _COMPONENT.match(component):
            raise InvalidReference(
                f"repository {name!r} {_describe_component_problem(component)}; each path "
                "component must be lowercase letters and digits, separated by '.', '_', '__' "
                "or '-', and must start and end with a letter or digit"
            )
    return name


def validate_tag(tag: str) -> str:
    """Return `tag` if valid, else raise InvalidReference naming the problem."""
    if not tag:
        raise InvalidReference("tag is empty")
    if _TAG.match(tag):
        return tag
    allowed = "tags may contain letters, digits, '_', '.', '-'"
    if len(tag) > MAX_TAG_LENGTH:
        problem = f"is {len(tag)} characters long (at most {MAX_TAG_LENGTH})"
    elif " " in tag:
        problem = "has a space"
    elif tag[0] in ".-":
        problem = f"starts with {tag[0]!r}"
        allowed += ", and must start with a letter, digit or '_'"
    else:
        bad = sorted({c for c in tag if not (c.isascii() and (c.isalnum() or c in "._-"))})
        problem = f"has the character(s) {' '.join(map(repr, bad))}"
    raise InvalidReference(f"tag {tag!r} {problem}; {allowed}")


def is_valid_tag(tag: str) -> bool:
    return bool(_TAG.match(tag))


def is_valid_repository(name: str) -> bool:
    try:
        validate_repository(name)
    except InvalidReference:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed image reference. `registry` is the host as the user wrote it (with port);
    `scheme` is "http" or "https" when the user wrote one, else ""."""

    registry: str
    repository: str
    tag: str | None = None
    digest: Digest | None = None
    scheme: str = ""

    @property
    def address(self) -> str:
        """The registry as the user addressed it: with the scheme they wrote (an explicit
        `https://` to a loopback port must not become the plain http loopback defaults to)."""
        return f"{self.scheme}://{self.registry}" if self.scheme else self.registry

    @property
    def api_host(self) -> str:
        """The host to talk to: Docker Hub's name differs from its API host."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def reference(self) -> str:
        """What goes after `/manifests/`: the digest if pinned, else the tag (default latest)."""
        if self.digest is not None:
            return str(self.digest)
        return self.tag or "latest"

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.registry, self.repository, validate_tag(tag), None, self.scheme)

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @classmethod
    def parse(cls, text: str, *, default_registry: str = DOCKER_HUB) -> Reference:
        """Parse `[host[:port]/]path[:tag][@digest]` the way docker does.

        The first component is a host when it has a '.', a ':' or is 'localhost'; otherwise
        the reference is on `default_registry` (Docker Hub, where one-part names get 'library/').
        """
        original = text
        text = text.strip()
        scheme = ""
        for written in ("https", "http"):
            if text.lower().startswith(f"{written}://"):
                scheme, text = written, text[len(written) + 3 :]
                break
        if not text:
            raise InvalidReference("image reference is empty")
        digest: Digest | None = None
        if "@" in text:
            text, _, raw_digest = text.partition("@")
            digest = Digest.parse(raw_digest)
        registry = default_registry
        first, sep, rest = text.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
            if not _HOST.match(first):
                raise InvalidReference(f"registry host {first!r} in {original!r} is not valid")
            registry, text = first, rest
        tag: str | None = None
        last_slash = text.rfind("/")
        colon = text.rfind(":")
        if colon > last_slash:
            text, tag = text[:colon], validate_tag(text[colon + 1 :])
        if registry.lower() in _HUB_ALIASES:
            registry = DOCKER_HUB
            if "/" not in text:
                text = f"library/{text}"
        validate_repository(text)
        return cls(registry, text, tag, digest, scheme if registry != DOCKER_HUB else "")


def gitlab_project_candidates(repository: str) -> list[str]:
    """Project paths an image path may belong to, longest first.

    GitLab images sit at `<namespace>/<project>` plus up to two more levels, so the project is
    the path with 0, 1 or 2 trailing components dropped (and at least two components left).
    """
    parts = repository.split("/")
    out = []
    for drop in range(3):
        keep = len(parts) - drop
        if keep >= 2:
            out.append("/".join(parts[:keep]))
    return out
