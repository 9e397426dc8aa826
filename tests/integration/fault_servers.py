"""Small misbehaving servers on 127.0.0.1 for the failure tests (CLI and GUI).

    with serve(app) as url                          any aiohttp app in its own thread + loop
    html_site()                                     a web UI / login page answering HTML everywhere
    FakeRegistry(repo, secret=...)                  a hand-made registry: good and malformed tags,
                                                    an HTML manifest, blob redirects to another host
    HeaderRecorder()                                a "storage" server on another port that
                                                    records every request's headers
    proxy_app(handle)                               every path → handle(session, request)
    DropProxy(upstream, after=N, delay=0)           forwards, then closes sockets after N requests
                                                    until `heal()`; records what reached upstream
    refusing_proxy(upstream, refused)               forwards, but answers 503 to the DELETEs of
                                                    the tags in the (mutable) set `refused`
    silent_server()                                 accepts connections, never answers (timeouts)
    make_tls(dir) -> TlsFiles                       a private CA and a server cert for 127.0.0.1
    run_distribution_no_delete(root)                Debian's docker-registry with delete disabled
    grep_tree(root, needle) -> list[Path]           files under `root` containing `needle`

Every server runs on its own thread so the test's own loop (pytest-asyncio or qasync) and
subprocesses (the CLI) can both talk to it; `serve` stops it and joins the thread.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import ipaddress
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import ClientSession, web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from distribution import Distribution, _config
from testkit import free_port, v2_status

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Sign in - Corp Portal</title></head>"
    b"<body><form action='/login'><input name='user'><input name='password' type='password'>"
    b"</form></body></html>"
)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- running an aiohttp app in a thread ------------------------------------------------------


@contextlib.contextmanager
def serve(
    make_app: Callable[[], web.Application], *, ssl_context: ssl.SSLContext | None = None
) -> Iterator[str]:
    """Serve `make_app()` on a free loopback port from a background thread; yields the URL."""
    port = free_port()
    started = threading.Event()
    stop: list[asyncio.Event] = []
    failure: list[BaseException] = []

    async def main() -> None:
        runner = web.AppRunner(make_app(), access_log=None, handler_cancellation=True)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", port, ssl_context=ssl_context).start()
            stop.append(asyncio.Event())
            started.set()
            await stop[0].wait()
        finally:
            await runner.cleanup()

    loop = asyncio.new_event_loop()

    def run() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # reported to the test below
            failure.append(exc)
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name=f"fault-server-{port}", daemon=True)
    thread.start()
    assert started.wait(10), "fault server did not start"
    if failure:
        raise failure[0]
    scheme = "https" if ssl_context is not None else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(10)


# -- an address that is a web site, not a registry ---------------------------------------------


def html_site() -> web.Application:
    """A web UI: every path (including /v2/) answers a login page with 200 text/html."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=LOGIN_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    return app


# -- a hand-made registry with good and malformed tags ------------------------------------------


@dataclass
class Answer:
    body: bytes
    content_type: str = OCI_MANIFEST
    digest: str | None = None  # Docker-Content-Digest header; None: the body's digest
    status: int = 200


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


def image(created: str = "2024-05-01T10:00:00Z", arch: str = "amd64") -> tuple[bytes, bytes]:
    """(manifest bytes, config bytes) of a tiny, well-formed OCI image."""
    config = json.dumps(
        {"architecture": arch, "os": "linux", "created": created, "rootfs": {"type": "layers"}},
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha256(b"layer-" + arch.encode()),
                    "size": 1234,
                }
            ],
        },
        sort_keys=True,
    ).encode()
    return manifest, config


@dataclass
class FakeRegistry:
    """A registry answering exactly what the test put in `tags` and `blobs`.

    With `secret`, every /v2/ request needs Basic `user:secret`. With `blob_redirect` (the URL
    of another server), blob GETs answer 307 to `<blob_redirect>/blobs/<digest>`, as registries
    with object storage do.
    """

    repo: str = "team/app"
    user: str = "alice"
    secret: str = ""
    tags: dict[str, Answer] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    blob_redirect: str = ""
    seen: list[Seen] = field(default_factory=list)

    def add_image(self, tag: str, created: str = "2024-05-01T10:00:00Z") -> str:
        manifest, config = image(created)
        self.tags[tag] = Answer(manifest)
        self.blobs[sha256(config)] = config
        return sha256(manifest)

    def add_malformed(self) -> dict[str, str]:
        """The malformed tags; returns {tag: what is wrong with it}."""
        good, _ = image()
        not_json = b'{"schemaVersion": 2, "mediaType": "' + OCI_MANIFEST.encode() + b'", '
        shape = json.dumps(
            {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": "oops", "layers": 5}
        ).encode()
        self.tags["broken-json"] = Answer(not_json)
        self.tags["wrong-shape"] = Answer(shape)
        self.tags["digest-lies"] = Answer(good, digest=sha256(b"something else"))
        self.tags["login-page"] = Answer(LOGIN_PAGE, content_type="text/html")
        return {
            "broken-json": "not JSON",
            "wrong-shape": "JSON of the wrong shape",
            "digest-lies": "digest header does not match the bytes",
            "login-page": "an HTML page",
        }

    def _authorised(self, request: web.Request) -> bool:
        if not self.secret:
            return True
        want = "Basic " + base64.b64encode(f"{self.user}:{self.secret}".encode()).decode()
        return request.headers.get("Authorization", "") == want

    def app(self) -> web.Application:
        reg = self

        async def handle(request: web.Request) -> web.StreamResponse:
            reg.seen.append(Seen(request.method, request.path, dict(request.headers)))
            if not reg._authorised(request):
                return web.json_response(
                    {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                    status=401,
                    headers={"WWW-Authenticate": 'Basic realm="fake"'},
                )
            path = request.path
            if path == "/v2/":
                return web.json_response({})
            if path == "/v2/_catalog":
                return web.json_response({"repositories": [reg.repo]})
            prefix = f"/v2/{reg.repo}/"
            if not path.startswith(prefix):
                return _unknown("NAME_UNKNOWN")
            rest = path[len(prefix) :]
            if rest == "tags/list":
                return web.json_response({"name": reg.repo, "tags": sorted(reg.tags)})
            if rest.startswith("manifests/"):
                ref = rest[len("manifests/") :]
                answer = reg.tags.get(ref) or next(
                    (a for a in reg.tags.values() if sha256(a.body) == ref), None
                )
                if answer is None:
                    return _unknown("MANIFEST_UNKNOWN")
                if request.method == "DELETE":
                    return _unknown("UNSUPPORTED", 405)
                headers = {"Docker-Content-Digest": answer.digest or sha256(answer.body)}
                body = b"" if request.method == "HEAD" else answer.body
                return web.Response(
                    status=answer.status,
                    body=body,
                    headers={**headers, "Content-Type": answer.content_type},
                )
            if rest.startswith("blobs/"):
                digest = rest[len("blobs/") :]
                if digest not in reg.blobs:
                    return _unknown("BLOB_UNKNOWN")
                if reg.blob_redirect:
                    raise web.HTTPTemporaryRedirect(f"{reg.blob_redirect}/blobs/{digest}")
                return web.Response(body=reg.blobs[digest], content_type="application/json")
            return _unknown("UNSUPPORTED", 405)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app


def _unknown(code: str, status: int = 404) -> web.Response:
    return web.json_response({"errors": [{"code": code, "message": code.lower()}]}, status=status)


@dataclass
class HeaderRecorder:
    """Another host: serves `blobs` at /blobs/<digest> and records every request's headers."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def app(self) -> web.Application:
        rec = self

        async def handle(request: web.Request) -> web.Response:
            rec.seen.append(Seen(request.method, request.path, dict(request.headers)))
            digest = request.path.rsplit("/", 1)[-1]
            if digest in rec.blobs:
                return web.Response(body=rec.blobs[digest], content_type="application/json")
            return web.Response(status=404)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app


# -- a proxy that drops connections mid-batch -----------------------------------------------


_HOP_REQUEST = ("host", "content-length", "transfer-encoding")
_HOP_RESPONSE = ("content-length", "transfer-encoding", "content-encoding")


async def forward(
    session: ClientSession, upstream: str, request: web.Request, *, keep_host: bool = False
) -> web.Response:
    """Send `request` on to `upstream` unchanged and return its answer (read whole). With
    `keep_host` the client's Host header goes along (a token realm builds URLs from it)."""
    body = await request.read()
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_REQUEST}
    if keep_host:
        headers["Host"] = request.host
    async with session.request(
        request.method,
        upstream + request.path_qs,
        data=body,
        headers=headers,
        allow_redirects=False,
    ) as resp:
        data = await resp.read()
        out = {k: v for k, v in resp.headers.items() if k.lower() not in _HOP_RESPONSE}
    return web.Response(status=resp.status, body=data, headers=out)


def proxy_app(
    handle: Callable[[ClientSession, web.Request], Awaitable[web.StreamResponse]],
) -> web.Application:
    """An app answering every request with `handle(session, request)`, `session` being one
    upstream ClientSession for the app's lifetime (no decompression: bytes pass unchanged)."""
    sessions: list[ClientSession] = []

    async def startup(app: web.Application) -> None:
        sessions.append(ClientSession(auto_decompress=False))

    async def cleanup(app: web.Application) -> None:
        await sessions[0].close()

    async def route(request: web.Request) -> web.StreamResponse:
        return await handle(sessions[0], request)

    app = web.Application()
    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    app.router.add_route("*", "/{tail:.*}", route)
    return app


@dataclass
class DropProxy:
    """Forwards to `upstream`; after `after` requests, aborts every connection (no answer)
    until `heal()`. `mutations` lists the DELETE/PUT requests that reached the registry."""

    upstream: str
    after: int = 1_000_000
    delay: float = 0.0  # seconds added to every forwarded request (a slow link)
    count: int = 0
    dropped: int = 0
    healed: bool = False
    mutations: list[tuple[str, str]] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)  # every request: method, path
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def heal(self) -> None:
        self.healed = True

    def app(self) -> web.Application:
        proxy = self

        async def handle(session: ClientSession, request: web.Request) -> web.StreamResponse:
            with proxy._lock:
                proxy.seen.append((request.method, request.path))
                proxy.count += 1
                drop = proxy.count > proxy.after and not proxy.healed
                if drop:
                    proxy.dropped += 1
            if drop:
                assert request.transport is not None
                request.transport.abort()
                return web.Response()
            if proxy.delay:
                await asyncio.sleep(proxy.delay)
            answer = await forward(session, proxy.upstream, request)
            if request.method in ("DELETE", "PUT") and answer.status < 300:
                proxy.mutations.append((request.method, request.path))
            return answer

        return proxy_app(handle)


# -- TLS with a private CA --------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # the private CA's certificate (what the user would trust)
    cert: Path  # the server's certificate, signed by the CA, for 127.0.0.1
    key: Path


def make_tls(folder: Path) -> TlsFiles:
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "regview test private CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


# -- docker-registry with deletion disabled -----------------------------------------------------


@contextlib.contextmanager
def run_distribution_no_delete(root: Path) -> Iterator[Distribution]:
    """Debian's docker-registry as shipped: no `storage.delete.enabled` (deletes answer 405)."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    text = _config(root, port, "anonymous", None)
    assert "  delete:\n    enabled: true\n" in text
    config = root / "config.yml"
    config.write_text(text.replace("  delete:\n    enabled: true\n", ""))
    log = (root / "registry.log").open("wb")
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while v2_status(url) != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"docker-registry did not start: {(root / 'registry.log').read_text()}"
                )
            time.sleep(0.05)
        yield Distribution(url, f"127.0.0.1:{port}", "anonymous", root / "storage", config)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def push_image(url: str, repo: str, tags: list[str], created: str = "2024-05-01T10:00:00Z") -> str:
    """Push one tiny image (config + one layer) under `tags` over plain HTTP; its digest."""
    import httpx

    manifest, config = image(created)
    layer = b"layer-amd64"
    doc = json.loads(manifest)
    doc["layers"][0].update(digest=sha256(layer), size=len(layer))
    manifest = json.dumps(doc, sort_keys=True).encode()
    with httpx.Client(base_url=url, timeout=30) as http:
        for blob in (config, layer):
            r = http.post(f"/v2/{repo}/blobs/uploads/")
            r.raise_for_status()
            loc = r.headers["Location"]
            sep = "&" if "?" in loc else "?"
            http.put(
                f"{loc}{sep}digest={sha256(blob)}",
                content=blob,
                headers={"Content-Type": "application/octet-stream"},
            ).raise_for_status()
        for tag in tags:
            http.put(
                f"/v2/{repo}/manifests/{tag}",
                content=manifest,
                headers={"Content-Type": OCI_MANIFEST},
            ).raise_for_status()
    return sha256(manifest)


def list_tags(url: str, repo: str) -> list[str]:
    import httpx

    r = httpx.get(f"{url}/v2/{repo}/tags/list", timeout=30)
    r.raise_for_status()
    return sorted(r.json().get("tags") or [])


def grep_tree(root: Path, needle: str) -> list[Path]:
    """Every file under `root` whose bytes contain `needle`."""
    if not root.exists():
        return []
    data = needle.encode()
    return [p for p in root.rglob("*") if p.is_file() and data in p.read_bytes()]


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections and reads, never answers (a hung registry); yields its URL."""
    import socket

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, name="silent-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for c in held:
            c.close()
        listener.close()


def refusing_proxy(upstream: str, refused: set[str]) -> web.Application:
    """Forwards everything except DELETEs of the `refused` tags, answered 503 without reaching
    the registry while they are in the set (clear it to heal)."""

    async def handle(session: ClientSession, request: web.Request) -> web.StreamResponse:
        if request.method == "DELETE" and request.path.rsplit("/", 1)[-1] in refused:
            return web.Response(status=503, text='{"errors":[{"code":"UNAVAILABLE"}]}')
        return await forward(session, upstream, request)

    return proxy_app(handle)
