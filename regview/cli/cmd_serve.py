"""`regview serve` (run the embedded registry) and `regview local ...` (administer its data).

`local` is built here with `gc`; other modules add sub-commands to it: after building the `local`
parser, this module imports `regview.cli.cmd_local_admin` (if present) and calls its
`register_local(local_sub)` with the `local` sub-parsers (that module's own `register(sub)`, which
the dispatcher calls for every `cmd_*` module, may do nothing).
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from pathlib import Path
from types import FrameType

from regview.cli.help import with_examples
from regview.paths import default_paths

LOCAL_EXTENSIONS: tuple[str, ...] = ("regview.cli.cmd_local_admin",)


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data) if args.data else default_paths().local_registry_dir


def cmd_serve(args: argparse.Namespace) -> int:
    from regview.server.errors import StoreError
    from regview.server.runner import LocalRegistry

    if args.auth == "basic" and not args.htpasswd:
        print("regview serve: --auth basic needs --htpasswd FILE", file=sys.stderr)
        return 2
    registry = LocalRegistry(
        _data_dir(args),
        host=args.host,
        port=args.port,
        demo=args.demo,
        auth=args.auth,
        htpasswd=Path(args.htpasswd) if args.htpasswd else None,
        gc_delay=args.gc_delay,
        tls_cert=Path(args.tls_cert) if args.tls_cert else None,
        tls_key=Path(args.tls_key) if args.tls_key else None,
        token_ttl=args.token_ttl,
        public_url=args.public_url,
    )

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        url = registry.start()
    except StoreError as exc:
        print(f"regview serve: {exc}", file=sys.stderr)
        return 1
    print(f"regview registry listening on {url} (data in {registry.data_dir}); Ctrl-C stops it")
    if registry.demo_credentials is not None:
        user, token = registry.demo_credentials
        print(f"GitLab demo user: {user}  token: {token}  (API: {url}/api/v4)")
    sys.stdout.flush()
    try:
        registry.wait()
    except KeyboardInterrupt:
        pass
    finally:
        registry.stop()
        signal.signal(signal.SIGTERM, previous)
    print("regview registry stopped")
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    from regview.server.errors import StoreError
    from regview.server.registry import gc
    from regview.server.registry.datalock import DataDirLock
    from regview.server.registry.registry import Registry

    data = _data_dir(args)
    if not (data / "metadata.db").exists():
        print(f"regview local gc: {data} holds no local registry (no metadata.db)", file=sys.stderr)
        return 1
    # Deleting needs the directory to itself: a live server's pushes reference blobs only at
    # their end, and everything unreferenced goes at once here. A dry run deletes nothing.
    lock = DataDirLock(data, "regview local gc")
    try:
        if not args.dry_run:
            lock.acquire()
        registry = Registry(data)
    except StoreError as exc:
        lock.release()
        print(f"regview local gc: {exc}", file=sys.stderr)
        return 1
    try:
        report = gc.collect(
            registry, delay=0, upload_expiry=args.upload_expiry, dry_run=args.dry_run
        )
    finally:
        registry.close()
        lock.release()
    for name in report.deleted_manifests:
        print(f"{'would delete' if args.dry_run else 'deleted'} manifest {name}")
    for digest in report.deleted_blobs:
        print(f"{'would delete' if args.dry_run else 'deleted'} blob {digest}")
    print(report.summary())
    return 0


EXAMPLES = """\
  regview serve                                   (http://127.0.0.1:5000, no authentication)
  regview serve --port 0 --demo                   (any free port, demo images)
  regview serve --auth token --demo               (GitLab-like: tokens, projects, /api/v4)
  regview serve --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem --auth basic \
      --htpasswd users.htpasswd
  regview local gc --dry-run
  regview local token add --user alice --kind personal --scopes api,read_registry
"""


LOCAL_EXAMPLES = """\
  regview local gc --dry-run                      (stop `regview serve` first)
  regview local user add alice
  regview local project add acme/app --visibility internal --registry-access private
  regview local member add acme alice developer
  regview local token add --user alice --kind personal --scopes read_registry,write_registry
  regview local token add --kind deploy --project acme/app --scopes read_registry
  regview local token list
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the embedded OCI registry",
        **with_examples(EXAMPLES, exit_codes=False),
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default loopback)"
    )
    serve.add_argument("--port", type=int, default=5000, help="port (0: any free port)")
    serve.add_argument("--data", help="data directory (default: regview's local-registry folder)")
    serve.add_argument("--auth", choices=("none", "basic", "token"), default="none")
    serve.add_argument("--htpasswd", help="htpasswd file with bcrypt entries (for --auth basic)")
    serve.add_argument(
        "--token-ttl",
        type=int,
        default=300,
        help="lifetime in seconds of registry tokens with --auth token (default 300, as GitLab)",
    )
    serve.add_argument(
        "--demo", action="store_true", help="seed demo content into an empty registry"
    )
    serve.add_argument(
        "--gc-delay",
        type=float,
        default=86400,
        help="seconds before unreferenced content is collected online (default 86400; <0 "
        "off); content a push touched in the last hour is never collected online, so pushes in "
        "progress keep their blobs whatever this says",
    )
    serve.add_argument(
        "--public-url",
        help="the URL clients reach this registry at, used in the token realm and GitLab URLs "
        "(default: the address each connection arrived at; never the request's Host header)",
    )
    serve.add_argument("--tls-cert", help="PEM certificate (serve https)")
    serve.add_argument("--tls-key", help="PEM private key of --tls-cert")
    serve.set_defaults(func=cmd_serve)

    local = sub.add_parser(
        "local",
        help="administer the embedded registry's data",
        **with_examples(LOCAL_EXAMPLES, exit_codes=False),
    )
    local_sub = local.add_subparsers(dest="local_command", metavar="COMMAND", required=True)
    gc = local_sub.add_parser(
        "gc", help="offline garbage collection (refused while a server uses the data)"
    )
    gc.add_argument("--data", help="data directory (default: regview's local-registry folder)")
    gc.add_argument("--dry-run", action="store_true", help="only report what would be deleted")
    gc.add_argument(
        "--upload-expiry",
        type=float,
        default=86400,
        help="purge uploads untouched for this many seconds (default 86400)",
    )
    gc.set_defaults(func=cmd_gc)
    for name in LOCAL_EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        hook = getattr(module, "register_local", None)
        if hook is not None:
            hook(local_sub)
