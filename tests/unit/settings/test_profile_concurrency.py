"""The per-registry ceiling on requests in flight: kept in settings.json, carried by the
endpoint, obeyed by the client's adaptive limiter (and by an explicit concurrency too)."""

from __future__ import annotations

from regview.core.client.client import RegistryClient
from regview.core.client.limiter import DEFAULT_CEILING
from regview.core.model import Endpoint
from regview.settings.profiles import Profile


def test_the_ceiling_survives_settings_json_and_reaches_the_limiter() -> None:
    saved = Profile(name="hub", url="https://registry-1.docker.io", max_concurrency=6)
    loaded = Profile.from_json(saved.to_json())
    assert loaded.max_concurrency == 6
    assert loaded.endpoint.max_concurrency == 6
    assert Profile.for_endpoint(loaded.endpoint).max_concurrency == 6
    client = RegistryClient(loaded.endpoint)
    assert client.limiter.ceiling == 6 and client.limiter.limit == 6
    fixed = RegistryClient(loaded.endpoint, concurrency=16)
    assert fixed.limiter.ceiling == 6  # the user's cap wins over a caller's fixed number


def test_without_a_ceiling_the_limit_adapts_from_16_and_junk_is_ignored() -> None:
    client = RegistryClient(Endpoint("http://127.0.0.1:5000"))
    assert (client.limiter.limit, client.limiter.ceiling) == (16, DEFAULT_CEILING)
    fixed = RegistryClient(Endpoint("http://127.0.0.1:5000"), concurrency=2)
    assert (fixed.limiter.limit, fixed.limiter.ceiling) == (2, 2)
    for junk in ("many", -3, True, 2.5, None):
        data = {"name": "r", "url": "https://r.example", "max_concurrency": junk}
        assert Profile.from_json(data).max_concurrency == 0
