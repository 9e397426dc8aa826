"""What regview has learnt about each registry from its own answers, remembered between runs.

    store = KnowledgeStore(path)          # a JSON file in the cache folder; None: memory only
    facts = store.get(registry)           # RegistryKnowledge (all None: nothing learnt yet)
    store.learn(registry, tag_delete=False, learnt_from="DELETE …/manifests/v1 answered 405")
    store.forget(registry)                # "re-check": drop what was learnt, ask again
    store.flush()                         # wait for the file (written off the caller's thread)

Nothing here sends a request. Knowledge comes from answers to requests regview made anyway: the
`/v2/` check's headers, the first real deletion the user confirmed, the first referrers lookup.
Only facts about the *registry* are kept on disk (tag delete supported, deletion disabled,
referrers API present); what a credential may do changes with the credential and stays in
memory for the run. Best effort: an unreadable or unwritable file is ignored, never fatal.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from regview.log import get_logger
from regview.util.atomic import write_atomic

log = get_logger("core.knowledge")
VERSION = 1


@dataclass(frozen=True, slots=True)
class RegistryKnowledge:
    """None everywhere: not known, decide from documented per-kind behaviour."""

    tag_delete: bool | None = None  # DELETE /manifests/<tag> removes just the tag
    deletion_disabled: bool | None = None  # True: 405 UNSUPPORTED on a delete by digest
    referrers_api: bool | None = None  # GET /v2/<name>/referrers/<digest> exists
    learnt_from: str = ""  # the answer it was learnt from, for people

    @property
    def empty(self) -> bool:
        return self == RegistryKnowledge()


class KnowledgeStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        # one writer thread: writes in the order they were made, never on the caller's thread
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="regview-knowledge")
        self._pending: Future[None] | None = None
        self._facts: dict[str, RegistryKnowledge] | None = None

    def _load(self) -> dict[str, RegistryKnowledge]:
        if self._facts is not None:
            return self._facts
        facts: dict[str, RegistryKnowledge] = {}
        if self.path is not None:
            try:
                obj = json.loads(self.path.read_bytes())
            except (OSError, ValueError):
                obj = None
            if isinstance(obj, dict) and obj.get("version") == VERSION:
                names = {f.name for f in fields(RegistryKnowledge)}
                for registry, raw in (obj.get("registries") or {}).items():
                    if isinstance(raw, dict):
                        try:
                            facts[str(registry)] = RegistryKnowledge(
                                **{k: v for k, v in raw.items() if k in names}
                            )
                        except TypeError:
                            continue
        self._facts = facts
        return facts

    def get(self, registry: str) -> RegistryKnowledge:
        with self._lock:
            return self._load().get(registry, RegistryKnowledge())

    def learn(self, registry: str, **facts: Any) -> RegistryKnowledge:
        with self._lock:
            known = self._load()
            new = replace(known.get(registry, RegistryKnowledge()), **facts)
            if known.get(registry) == new:
                return new
            known[registry] = new
            self._save(known)
        log.info("learnt about %s: %s", registry, facts)
        return new

    def forget(self, registry: str) -> None:
        with self._lock:
            known = self._load()
            if known.pop(registry, None) is not None:
                self._save(known)

    def _save(self, known: dict[str, RegistryKnowledge]) -> None:
        """Written by the writer thread: `learn` is called on the UI's event loop, which must
        not wait for a disk; the process still waits for the write before it exits."""
        if self.path is None:
            return
        obj = {
            "version": VERSION,
            "registries": {r: asdict(k) for r, k in known.items() if not k.empty},
        }
        self._pending = self._writer.submit(self._write, obj)

    def flush(self) -> None:
        """Wait for the last write (tests; the process waits by itself before it exits)."""
        if self._pending is not None:
            self._pending.result()

    def _write(self, obj: dict[str, object]) -> None:
        assert self.path is not None
        try:
            write_atomic(self.path, json.dumps(obj, indent=1), durable=False)
        except OSError as exc:
            log.warning("cannot remember what was learnt about registries: %s", exc)


_stores: dict[Path | None, KnowledgeStore] = {}


def default_store() -> KnowledgeStore:
    """The store in regview's cache folder (memory only when there is none); one per folder, so
    the GUI's flows and sessions share what they learn."""
    path: Path | None
    try:
        from regview.paths import default_paths

        path = default_paths().cache / "registries.json"
    except Exception as exc:  # no cache folder is no reason not to delete
        log.info("registry knowledge kept in memory only: %s", exc)
        path = None
    store = _stores.get(path)
    if store is None:
        store = _stores[path] = KnowledgeStore(path)
    return store
