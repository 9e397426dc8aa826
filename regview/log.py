"""Named loggers and the one place logging is configured.

    get_logger(name)                        "regview.<name>"
    configure(debug=False, log_dir=None)    every entry point, first: rotating file + stderr
    logfile() -> Path | None                where this process logs (the crash dialog says so)
    unconfigure()                           take it all back (tests)

Secrets never reach a log: `redact` is applied by a filter and by the formatter (tracebacks
included) on every handler, so a careless `log.debug("%s", headers)` cannot leak an
Authorization header or a token.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import re
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

# Each pattern keeps its group 1 (the label) and masks what follows it.
_LABELLED_SECRETS = [
    re.compile(r"(?i)(authorization\s*[:=]\s*['\"]?(?:basic|bearer)\s+)[^\s'\",}]+"),
    re.compile(
        r"(?i)((?:private-token|job-token|password|secret|token|identitytoken|auth)"
        r"['\"]?\s*[:=]\s*['\"]?)[^\s'\",}&]+"
    ),
]
_BARE_SECRETS = [
    re.compile(r"(?:glpat-|gldt-|glcbt-)[A-Za-z0-9_\-]{8,}"),  # GitLab token prefixes
    re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"),  # JWTs
]


def redact(text: str) -> str:
    for pattern in _LABELLED_SECRETS:
        text = pattern.sub(lambda m: f"{m.group(1)}***", text)
    for pattern in _BARE_SECRETS:
        text = pattern.sub("***", text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"regview.{name}")


LOG_FILE = "regview.log"
LOG_BYTES = 2_000_000  # per file; LOG_BACKUPS older files are kept beside it
LOG_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record: the filter sees only the message, while a traceback
    (exc_info, stack_info) can quote a header or a URL with a token in it."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """sys.stderr as it is when a record is written (a test, or a GUI without a terminal, may
    replace it after start-up)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _State:
    handlers: ClassVar[list[logging.Handler]] = []
    logfile: ClassVar[Path | None] = None
    previous_hook: ClassVar[Any] = None
    previous_levels: ClassVar[tuple[int, int] | None] = None  # root's and regview's


def logfile() -> Path | None:
    """The file this process logs to (None: not configured, or the folder was not writable)."""
    return _State.logfile


def configure(*, debug: bool = False, log_dir: Path | None = None) -> Path | None:
    """Set up regview's logging, first thing in every entry point (GUI, CLI, serve).

    A rotating file `log_dir/regview.log` (regview's INFO and everyone's warnings; with `debug`
    regview's DEBUG and the libraries' INFO) and stderr (WARNING, or everything with `debug`),
    each with the redacting filter and formatter; uncaught exceptions are logged with their
    traceback. Calling it again replaces what an earlier call installed. Returns the file.
    """
    # handlers on the root logger: a library's warning (or, with --debug, httpx's request lines)
    # lands in the same file, through the same redaction
    root = logging.getLogger()
    for old in _State.handlers:
        root.removeHandler(old)
        old.close()
    _State.handlers, _State.logfile = [], None
    if _State.previous_levels is None:
        _State.previous_levels = (root.level, logging.getLogger("regview").level)
    root.setLevel(logging.INFO if debug else logging.WARNING)
    logging.getLogger("regview").setLevel(logging.DEBUG if debug else logging.INFO)
    console = _Stderr()
    console.setLevel(logging.DEBUG if debug else logging.WARNING)
    handlers: list[logging.Handler] = [console]
    problem = ""
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            path = log_dir / LOG_FILE
            file = logging.handlers.RotatingFileHandler(
                path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
            )
            with contextlib.suppress(OSError):
                path.chmod(0o600)  # host names, repository paths: the user's business
            file.setLevel(logging.DEBUG)  # the loggers' levels decide
            handlers.append(file)
            _State.logfile = path
        except OSError as exc:
            problem = f"no log file in {log_dir}: {exc.strerror or exc}"
    for handler in handlers:
        handler.addFilter(RedactingFilter())
        handler.setFormatter(RedactingFormatter(_FORMAT))
        root.addHandler(handler)
    _State.handlers = handlers
    if problem:
        root.warning("%s", problem)
    _install_excepthook()
    return _State.logfile


def unconfigure() -> None:
    """Remove what `configure` installed (handlers closed, the previous excepthook back)."""
    root = logging.getLogger()
    for old in _State.handlers:
        root.removeHandler(old)
        old.close()
    _State.handlers, _State.logfile = [], None
    if _State.previous_hook is not None:
        sys.excepthook = _State.previous_hook
        _State.previous_hook = None
    if _State.previous_levels is not None:
        root.setLevel(_State.previous_levels[0])
        logging.getLogger("regview").setLevel(_State.previous_levels[1])
        _State.previous_levels = None


def _install_excepthook() -> None:
    """Uncaught exceptions go to the log with their traceback, then to the previous hook (the
    GUI replaces this one with its crash dialog, which logs the same way)."""
    if _State.previous_hook is None:
        _State.previous_hook = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            logging.getLogger("regview.crash").critical(
                "uncaught exception", exc_info=(kind, value, tb)
            )
        _State.previous_hook(kind, value, tb)

    sys.excepthook = hook
