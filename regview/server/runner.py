"""Run the registry with uvicorn in a background thread with its own event loop.

    with LocalRegistry(tmp_path) as reg:      # port 0: any free port
        url = reg.url                         # "http://127.0.0.1:40123"

The GUI starts one in-process (never on the Qt loop), the tests do too, and `regview serve`
runs one in the foreground.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.routing import BaseRoute

from regview.log import get_logger
from regview.server.auth import Authorizer, HtpasswdAuthorizer
from regview.server.config import DEFAULT_PUSH_GRACE, ServerConfig
from regview.server.errors import StoreError
from regview.server.registry.datalock import DataDirLock
from regview.server.registry.registry import Registry
from regview.server.v2.app import create_app
from regview.server.v2.bodies import DEFAULT_BODY_TIMEOUT

log = get_logger("server.runner")

AUTH_MODES = ("none", "basic", "token")
TOKEN_MODULE = "regview.server.gitlab.app"


def http_implementation() -> str:
    """uvicorn's HTTP parser: httptools (C, several times cheaper per request than h11)."""
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """The server thread's event loop: uvloop where installed (not on Windows), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def token_setup(
    registry: Registry, config: ServerConfig, **options: object
) -> tuple[Authorizer, Sequence[BaseRoute]]:
    """`--auth token`: the GitLab-instance modules provide the authorizer and their routes."""
    try:
        module = importlib.import_module(TOKEN_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != TOKEN_MODULE:
            raise
        raise StoreError(
            "token authentication needs the GitLab-instance part of regview "
            f"({TOKEN_MODULE}), which this build does not have; use --auth none or basic"
        ) from exc
    authorizer, routes = module.token_setup(registry, config, **options)
    return authorizer, list(routes)


class LocalRegistry:
    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        demo: bool = False,
        auth: str = "none",
        htpasswd: Path | None = None,
        gc_delay: float = 86400,
        tls_cert: Path | None = None,
        tls_key: Path | None = None,
        token_ttl: int = 300,
        public_url: str | None = None,
        push_grace: float = DEFAULT_PUSH_GRACE,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}, not {auth!r}")
        if auth == "basic" and htpasswd is None:
            raise StoreError("Basic authentication needs an htpasswd file (--htpasswd FILE)")
        if (tls_cert is None) != (tls_key is None):
            raise StoreError("TLS needs both a certificate and its key (--tls-cert and --tls-key)")
        self.data_dir = data_dir
        self.host, self.port = host, port
        self.demo, self.auth, self.htpasswd = demo, auth, htpasswd
        self.gc_delay = gc_delay
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.token_ttl = token_ttl
        #: what clients are told to use (token realm, GitLab URLs); None: the address each
        #: connection arrived at
        self.public_url = public_url
        self.push_grace = push_grace
        self.body_timeout = body_timeout
        self._lock = DataDirLock(data_dir, "regview serve")
        #: `--auth token --demo`: (user name, token) of the GitLab demo user
        self.demo_credentials: tuple[str, str] | None = None
        self.registry: Registry | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.url = ""
        #: the server thread's event loop class, e.g. "uvloop.Loop" (known once started)
        self.loop_name = ""

    def start(self) -> str:
        """Bind, start serving in a background thread and return the URL."""
        if self._thread is not None:
            return self.url
        config = ServerConfig(
            self.data_dir,
            gc_delay=self.gc_delay,
            push_grace=self.push_grace,
            body_timeout=self.body_timeout,
        )
        self._lock.acquire()
        try:
            registry = Registry(self.data_dir, gc_delay=self.gc_delay)
        except BaseException:
            self._lock.release()
            raise
        self.registry = registry
        if self.demo:
            from regview.server import demo

            demo.seed(registry)
        authorizer: Authorizer | None = None
        routes: Sequence[BaseRoute] = ()
        if self.auth == "basic":
            assert self.htpasswd is not None
            authorizer = HtpasswdAuthorizer(self.htpasswd)
        elif self.auth == "token":
            authorizer, routes = token_setup(
                registry,
                config,
                token_ttl=self.token_ttl,
                demo=self.demo,
                public_url=self.public_url,
            )
            self.demo_credentials = getattr(authorizer, "demo_credentials", None)
        app = create_app(config, registry=registry, authorizer=authorizer, extra_routes=routes)
        install = getattr(authorizer, "install", None)
        if callable(install):  # the GitLab instance runs cleanup policies with the app
            install(app)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            registry.close()
            self._lock.release()
            raise StoreError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror}; "
                "choose another --port (0 picks a free one)"
            ) from exc
        self.port = int(sock.getsockname()[1])
        scheme = "https" if self.tls_cert else "http"
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{scheme}://{shown}:{self.port}"
        uv_config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            http=http_implementation(),
            ssl_certfile=str(self.tls_cert) if self.tls_cert else None,
            ssl_keyfile=str(self.tls_key) if self.tls_key else None,
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(uv_config)
        self._server = server
        new_loop = loop_factory()

        async def serve() -> None:
            loop = type(asyncio.get_running_loop())
            self.loop_name = f"{loop.__module__}.{loop.__qualname__}"
            await server.serve(sockets=[sock])

        def run() -> None:
            # The loop is made here, in the server's own thread (uvicorn's `loop=` option only
            # applies to `uvicorn.run`, which we do not use).
            try:
                with asyncio.Runner(loop_factory=new_loop) as runner:
                    runner.run(serve())
            except BaseException as exc:  # reported to start() / stop()
                self._error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(
            target=run, name=f"regview-registry-{self.port}", daemon=True
        )
        self._thread.start()
        while not server.started:
            if not self._thread.is_alive():
                registry.close()
                self._lock.release()
                raise StoreError(f"the local registry stopped while starting: {self._error}")
            self._thread.join(0.01)
        log.info("local registry listening on %s (data in %s)", self.url, self.data_dir)
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._thread = None
        self._server = None
        if self.registry is not None:
            self.registry.close()
            self.registry = None
        self._lock.release()

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C in the foreground raises KeyboardInterrupt)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def __enter__(self) -> LocalRegistry:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
