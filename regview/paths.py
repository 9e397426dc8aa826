"""Every configuration, data and cache path regview uses, in one place.

`--basedir DIR` (or REGVIEW_BASEDIR) puts all of them under one folder: tests, portable use and
the local demo registry rely on that to leave the user's real profile alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "regview"


@dataclass(frozen=True, slots=True)
class Paths:
    config: Path  # settings.json (profiles, window state): never secrets
    data: Path  # journal, recycle bin, local registry data
    cache: Path  # manifests/configs by digest (immutable), tag listings
    log: Path

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    @property
    def journal_dir(self) -> Path:
        return self.data / "journal"

    @property
    def trash_dir(self) -> Path:
        return self.data / "trash"

    @property
    def local_registry_dir(self) -> Path:
        return self.data / "local-registry"

    @property
    def blob_cache_dir(self) -> Path:
        return self.cache / "by-digest"

    def ensure(self) -> Paths:
        for p in (self.config, self.data, self.cache, self.log):
            p.mkdir(parents=True, exist_ok=True)
        return self


def default_paths(basedir: str | os.PathLike[str] | None = None) -> Paths:
    base = basedir or os.environ.get("REGVIEW_BASEDIR")
    if base:
        root = Path(base)
        return Paths(root / "config", root / "data", root / "cache", root / "log")
    return Paths(
        Path(platformdirs.user_config_dir(APP, appauthor=False)),
        Path(platformdirs.user_data_dir(APP, appauthor=False)),
        Path(platformdirs.user_cache_dir(APP, appauthor=False)),
        Path(platformdirs.user_log_dir(APP, appauthor=False)),
    )
