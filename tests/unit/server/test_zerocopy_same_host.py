"""`zerocopy.same_host`: which clients get copied blob bodies instead of sendfile's (a client on
this host pays for sendfile's page-sized packet fragments in its own kernel time)."""

from __future__ import annotations

from typing import Any

import pytest

from regview.server.v2.zerocopy import same_host


class Transport:
    def __init__(self, peer: Any, local: Any) -> None:
        self.extra = {"peername": peer, "sockname": local}

    def get_extra_info(self, name: str) -> Any:
        return self.extra.get(name)


@pytest.mark.parametrize(
    ("peer", "local"),
    [
        (("127.0.0.1", 50000), ("127.0.0.1", 5000)),
        (("127.0.0.2", 50000), ("127.0.0.1", 5000)),  # all of 127/8 is loopback
        (("::1", 50000, 0, 0), ("::1", 5000, 0, 0)),
        (("::ffff:127.0.0.1", 50000, 0, 0), ("::", 5000, 0, 0)),  # dual-stack socket
        (("192.0.2.7", 50000), ("192.0.2.7", 5000)),  # our own address: routed through lo
        (("::ffff:192.0.2.7", 50000, 0, 0), ("::ffff:192.0.2.7", 5000, 0, 0)),
        (("fe80::1%eth0", 50000, 0, 2), ("fe80::1%eth0", 5000, 0, 2)),
        ("/run/regview.sock", "/run/regview.sock"),  # a Unix socket: copying suits it too
        (None, None),  # a transport that cannot say
        (("not-an-address", 1), ("127.0.0.1", 5000)),
    ],
)
def test_clients_on_this_host(peer: Any, local: Any) -> None:
    assert same_host(Transport(peer, local))


@pytest.mark.parametrize(
    ("peer", "local"),
    [
        (("192.0.2.8", 50000), ("192.0.2.7", 5000)),
        (("172.17.0.2", 50000), ("172.17.0.1", 5000)),  # a container behind a bridge
        (("2001:db8::8", 50000, 0, 0), ("2001:db8::7", 5000, 0, 0)),
        (("::ffff:192.0.2.8", 50000, 0, 0), ("::", 5000, 0, 0)),
    ],
)
def test_clients_elsewhere(peer: Any, local: Any) -> None:
    assert not same_host(Transport(peer, local))
