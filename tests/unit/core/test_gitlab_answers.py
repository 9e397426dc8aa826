"""The GitLab API client on answers of any shape: a result or a GitLabAPIError in words.

A login page answered with 200, a proxy's error page, JSON of the wrong type or nested 3000 deep
used to escape as JSONDecodeError, AttributeError or RecursionError (a traceback in `regview repos
--api …`). Hypothesis drives every reading endpoint through httpx.MockTransport.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regview.core import errors as E
from regview.core.gitlab.api import GitLabAPI
from regview.core.model import CredentialKind, Credentials

API = "https://gitlab.example/api/v4"
TOKEN = Credentials("alice", "glpat-secret", CredentialKind.PERSONAL)

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["id", "path", "name", "version", "container_expiration_policy", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
bodies = st.one_of(
    values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    st.just(b"<!DOCTYPE html><html><body>Sign in</body></html>"),
    st.sampled_from([100, 3000]).map(lambda d: b"[" * d + b"]" * d),
)

CALLS: dict[str, Callable[[GitLabAPI], Awaitable[Any]]] = {
    "version": lambda api: api.version(),
    "project": lambda api: api.project("group/app"),
    "projects": lambda api: api.projects(),
    "project repositories": lambda api: api.project_repositories("group/app"),
    "group repositories": lambda api: api.group_repositories("group"),
    "repository": lambda api: api.repository(7),
    "tags": lambda api: api.tags("group/app", 7),
    "tag details": lambda api: api.tag_details("group/app", 7, "v1"),
    "cleanup policy": lambda api: api.cleanup_policy("group/app"),
    "save cleanup policy": lambda api: api.set_cleanup_policy("group/app", enabled=True),
}


async def call(name: str, body: bytes, status: int) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    async with GitLabAPI(API, TOKEN, transport=httpx.MockTransport(answer)) as api:
        try:
            await CALLS[name](api)
        except E.GitLabAPIError as exc:
            assert exc.message.startswith("gitlab.example: "), exc.message
            assert "glpat-secret" not in exc.message


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(CALLS)), body=bodies, status=st.sampled_from([200, 400, 404]))
def test_any_answer_is_a_result_or_words(name: str, body: bytes, status: int) -> None:
    asyncio.run(call(name, body, status))


@pytest.mark.parametrize("name", ["project repositories", "repository", "version"])
def test_login_page_with_200_says_html(name: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<!DOCTYPE html><html>Sign in</html>")

    async def run() -> None:
        async with GitLabAPI(API, TOKEN, transport=httpx.MockTransport(answer)) as api:
            with pytest.raises(E.GitLabAPIError, match="HTML page"):
                await CALLS[name](api)

    asyncio.run(run())
