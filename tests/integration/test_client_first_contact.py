"""A registry that never answered this client: a refused connection is reported at once, in
words, after one attempt — not after ~4 s of retries with backoff. Once the registry has
answered, a refused connection is a blip (a restart) and is retried as before. Over real
loopback sockets: a port where nothing listens, and a registry stopped half-way."""

from __future__ import annotations

import pytest
from fault_servers import FakeRegistry, serve
from testkit import free_port

from regview.core import errors as E
from regview.core.client.client import RegistryClient
from regview.core.model import Endpoint

pytestmark = pytest.mark.integration


class Sleeps:
    """The backoff delays the client asked for, instead of sleeping them."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


async def test_nothing_listening_on_first_contact_is_reported_at_once() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # bound and closed: nothing listens there
    sleeps = Sleeps()
    async with RegistryClient(Endpoint(url), sleep=sleeps) as client:
        with pytest.raises(E.ConnectionFailed) as info:
            await client.list_tags("team/app")
        assert client.requests == 1 and sleeps.calls == []  # one attempt, no backoff
        assert not client.reached
    assert "nothing answers on 127.0.0.1 port" in info.value.message
    assert "is the registry running?" in info.value.message


async def test_a_registry_that_answered_then_refuses_is_retried() -> None:
    fake = FakeRegistry()
    fake.add_image("v1")
    sleeps = Sleeps()
    with serve(fake.app) as url:
        client = RegistryClient(Endpoint(url), sleep=sleeps)
        assert await client.list_tags(fake.repo) == ["v1"]
        assert client.reached
    try:  # the server is gone now: a restart in progress, as far as the client can tell
        before = client.requests
        with pytest.raises(E.ConnectionFailed, match="nothing answers"):
            await client.list_tags(fake.repo)
        assert client.requests - before == 4 and len(sleeps.calls) == 3  # retried with backoff
    finally:
        await client.aclose()
