from __future__ import annotations

import pytest

from regview.spec.digest import Digest
from regview.spec.errors import InvalidDigest, InvalidReference
from regview.spec.reference import (
    Reference,
    gitlab_project_candidates,
    validate_repository,
    validate_tag,
)

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repo", "tag", "digest"),
    [
        ("alpine", "docker.io", "library/alpine", None, None),
        ("alpine:3.19", "docker.io", "library/alpine", "3.19", None),
        ("index.docker.io/foo/bar:1", "docker.io", "foo/bar", "1", None),
        (
            "registry.gitlab.com/grp/proj/img:rc1",
            "registry.gitlab.com",
            "grp/proj/img",
            "rc1",
            None,
        ),
        ("localhost:5000/a/b", "localhost:5000", "a/b", None, None),
        ("127.0.0.1:5000/a@" + D, "127.0.0.1:5000", "a", None, D),
        ("ghcr.io/o/r:t@" + D, "ghcr.io", "o/r", "t", D),
        ("https://harbor.example.com/p/r:v1", "harbor.example.com", "p/r", "v1", None),
        ("[::1]:5000/x:y", "[::1]:5000", "x", "y", None),
    ],
)
def test_parse(text: str, registry: str, repo: str, tag: str | None, digest: str | None) -> None:
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repo, tag)
    assert (str(ref.digest) if ref.digest else None) == digest


def test_reference_string_round_trips() -> None:
    text = "registry.example.com:8443/a/b:v1@" + D
    assert str(Reference.parse(text)) == text
    assert Reference.parse("alpine").reference == "latest"
    assert Reference.parse("docker.io/library/alpine").api_host == "registry-1.docker.io"


@pytest.mark.parametrize(
    ("tag", "fragment"),
    [
        ("Foo Bar", "tag 'Foo Bar' has a space; tags may contain letters, digits, '_', '.', '-'"),
        ("-rc", "starts with '-'"),
        (".hidden", "starts with '.'"),
        ("a" * 129, "129 characters long"),
        ("v1/2", "has the character(s) '/'"),
        ("ümlaut", "'ü'"),
    ],
)
def test_tag_errors_name_the_problem(tag: str, fragment: str) -> None:
    with pytest.raises(InvalidReference) as err:
        validate_tag(tag)
    assert fragment in str(err.value)


def test_tags_that_are_valid() -> None:
    for tag in ("_private", "v1.2.3-rc_1", "A" * 128, "latest"):
        assert validate_tag(tag) == tag


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("group/_project", "starts with a leading underscore"),
        ("group/project-", "ends with a trailing hyphen"),
        ("Group/project", "uppercase"),
        ("group//project", "empty path component"),
        ("group/pro ject", "has a space"),
        ("a/b..c", "separators in a row"),
    ],
)
def test_repository_errors_name_the_problem(name: str, fragment: str) -> None:
    with pytest.raises(InvalidReference) as err:
        validate_repository(name)
    assert fragment in str(err.value)
    assert repr(name) in str(err.value)


def test_repository_length_limit() -> None:
    with pytest.raises(InvalidReference, match="256 characters"):
        validate_repository("a" * 256)
    assert validate_repository("a__b/c-d.e/f--g") == "a__b/c-d.e/f--g"


def test_gitlab_project_candidates() -> None:
    assert gitlab_project_candidates("g/p/my/image") == ["g/p/my/image", "g/p/my", "g/p"]
    assert gitlab_project_candidates("g/p") == ["g/p"]
    assert gitlab_project_candidates("g/sub/p/img") == ["g/sub/p/img", "g/sub/p", "g/sub"]


@pytest.mark.parametrize(
    "bad",
    [
        "sha256:abc",
        "sha256:" + "A" * 64,
        "md5:" + "a" * 32,
        "sha256" + "a" * 64,
        "",
        "sha512:" + "a" * 64,
    ],
)
def test_bad_digests(bad: str) -> None:
    with pytest.raises(InvalidDigest):
        Digest.parse(bad)


def test_digest_of_bytes() -> None:
    d = Digest.of(b"{}")
    assert str(d) == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    assert Digest.parse(str(d)) == d
    assert d.short == "44136fa355b3"


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("https://127.0.0.1:8443/acme/app:v1", "https://127.0.0.1:8443"),
        ("HTTP://127.0.0.1:5000/acme/app", "http://127.0.0.1:5000"),
        ("127.0.0.1:5000/acme/app", "127.0.0.1:5000"),
        ("https://docker.io/library/alpine", "docker.io"),  # Docker Hub has one address
    ],
)
def test_the_scheme_the_user_wrote_is_kept(text: str, address: str) -> None:
    # an explicit https:// to a loopback port was dropped, and loopback defaults to http
    ref = Reference.parse(text)
    assert ref.address == address
    assert ref.with_tag("v2").address == address
    assert "://" not in str(ref)  # what is shown stays host/path:tag
