"""Named loggers and the one place logging is configured.

Secrets never reach a log: `redact` is applied by a filter on every handler, so a careless
`log.debug("%s", headers)` cannot leak an Authorization header or a token.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

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


def configure(level: int = logging.INFO, logfile: Path | None = None) -> None:
    root = logging.getLogger("regview")
    root.setLevel(level)
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if logfile is not None:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(logfile, encoding="utf-8"))
    for h in handlers:
        h.addFilter(RedactingFilter())
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(h)
