"""A failed connection in the words a person needs: what did not answer, and where.

    failure_in_words(exc, url) -> str     "Nothing answers on 127.0.0.1 port 1 …", "The name
                                          registry.invalid was not found …", "TLS: the
                                          certificate is for X, not Y …"; else the error's text
    is_refusal(exc) -> bool               HTTP 401: the credential itself was refused
    expired_since(profile) -> str         "This token expired on DATE (…)" once it has
    expired_words(profile, exc) -> str    a 401 on a token past its known expiry, with the date

The client core wraps transport failures in `ConnectionFailed`/`CertificateNotTrusted` and keeps
the operating system's error in the exception chain; this reads that chain, so the dialogs never
show "ConnectError … ssl:default" to a person. Plain code, no Qt.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

from regview.core.errors import AuthenticationFailed, GitLabAPIError, RegistryError
from regview.services.connect import days_left
from regview.settings.profiles import Profile

_REFUSED = re.compile(r"(?i)connection refused|connect call failed|errno 111")
_NAME = re.compile(
    r"(?i)name or service not known|nodename nor servname|getaddrinfo failed|"
    r"temporary failure in name resolution|no address associated"
)
_MISMATCH = re.compile(
    r"(?i)hostname mismatch, certificate is not valid for '([^']+)'|"
    r"doesn't match (?:either of )?'?([^'.\s][^']*)'?"
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        todo.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))


def _where(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname or url, port


def failure_in_words(exc: RegistryError, url: str) -> str:
    """`exc` (from probing or testing `url`) as one or two sentences saying what to check."""
    host, port = _where(url)
    texts = []
    for e in _chain(exc):
        texts.append(str(e))
        if isinstance(e, ConnectionRefusedError) or (
            isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
        ):
            return _refused(host, port)
        if isinstance(e, socket.gaierror):
            return _unknown_name(host)
        if isinstance(e, ssl.SSLCertVerificationError):
            found = _MISMATCH.search(str(getattr(e, "verify_message", "") or e))
            if found:
                return _mismatch(host, found.group(1) or found.group(2))
        if isinstance(e, (TimeoutError, socket.timeout)):
            return (
                f"{host} port {port} did not answer in time (timeout): a firewall may drop the "
                "connection, or the registry is overloaded. Check the address and try again."
            )
    joined = " ".join(texts)
    if _REFUSED.search(joined):
        return _refused(host, port)
    if _NAME.search(joined):
        return _unknown_name(host)
    found = _MISMATCH.search(joined)
    if found:
        return _mismatch(host, found.group(1) or found.group(2))
    return exc.message


def _refused(host: str, port: int) -> str:
    return (
        f"Nothing answers on {host} port {port}: no registry is running there, or the port is "
        "wrong."
    )


def _unknown_name(host: str) -> str:
    return f"The name {host} was not found (DNS): check its spelling, or your network and VPN."


def _mismatch(host: str, other: str) -> str:
    return (
        f"TLS: the certificate is for {other}, not {host}. Use the address the certificate "
        "names, or ask the registry's administrator."
    )


def is_refusal(exc: BaseException) -> bool:
    """The registry or GitLab refused the credential itself (HTTP 401): a new one is needed."""
    if isinstance(exc, AuthenticationFailed):
        return True
    return isinstance(exc, GitLabAPIError) and getattr(exc, "status", None) == 401


def expired_since(profile: Profile, now: datetime | None = None) -> str:
    """'This token expired on 2026-11-30 (expired 6 days ago)' when its known expiry has passed."""
    moment = profile.expires_at
    if moment is None:
        return ""
    now = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > now:
        return ""
    return f"This token expired on {moment:%Y-%m-%d} ({days_left(moment, now)})"


def expired_words(profile: Profile, exc: BaseException, now: datetime | None = None) -> str:
    """For a 401 on a credential whose known expiry has passed: say that, with the date."""
    since = expired_since(profile, now) if is_refusal(exc) else ""
    if not since:
        return ""
    return (
        f"{since}, so the registry refuses it (HTTP 401). Create a new one and store it with "
        "Replace…."
    )
