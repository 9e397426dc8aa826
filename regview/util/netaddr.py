"""Is this host this machine? (plain http is allowed only there; see registry-protocols.md)"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses. `host` may carry a port (`127.0.0.1:5000`,
    `[::1]:5000`) or brackets (`[::1]`); a bare IPv6 address (`::1`) is taken whole."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name[1:]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
