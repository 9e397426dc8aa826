"""put_manifest checks its references and inserts in one write transaction: a deletion that
comes in between the check and the insert (a blob unlink, a manifest or repository delete, the
garbage collector) cannot commit there.

The interleaving is forced, not hoped for: a SQLite trace callback on the pushing connection runs
the deletion on another thread (its own connection, busy timeout 0, so it either commits at once
or is refused with "database is locked") at the first statement after the reference checks.
Afterwards either the push failed with MANIFEST_BLOB_UNKNOWN, or every manifest's references are
still there.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from server_helpers import OCI_INDEX, OCI_MANIFEST, image_manifest

from regview.server.errors import RegistryError
from regview.server.registry import gc
from regview.server.registry.registry import Registry
from regview.spec.digest import Digest
from regview.spec.errors import ErrorCode

REPO = "acme/app"
# The SQL of the two reference checks (blob linked into the repository; child manifest present).
BLOB_CHECK = "FROM repo_blobs rb"
CHILD_CHECK = "SELECT total_size, image_created FROM manifests"


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[Registry]:
    registry = Registry(tmp_path / "data")
    yield registry
    registry.close()


def _blob(reg: Registry, data: bytes) -> tuple[str, int]:
    digest = reg.store.put_bytes(data)
    reg.link_blob(REPO, digest, len(data))
    return str(digest), len(data)


def _image(reg: Registry, seed: str) -> bytes:
    config = json.dumps({"os": "linux", "architecture": "amd64", "seed": seed}).encode()
    return image_manifest(_blob(reg, config), [_blob(reg, f"layer {seed}".encode() * 40)])


def _pushed_child_and_index(reg: Registry, seed: str) -> tuple[str, bytes]:
    """Push an image manifest by digest; return its digest and an index naming it (not pushed)."""
    child_content = _image(reg, seed)
    child = reg.put_manifest(REPO, str(Digest.of(child_content)), child_content, OCI_MANIFEST)
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": child.digest, "size": len(child_content)}
            ],
        }
    ).encode()
    return child.digest, index


class _Outcome:
    def __init__(self) -> None:
        self.fired = False
        self.error: BaseException | None = None
        self.done = False


def _other_thread(reg: Registry, action: Callable[[], object], outcome: _Outcome) -> None:
    def run() -> None:
        reg.meta.conn.execute("PRAGMA busy_timeout = 0")  # refuse at once instead of waiting
        try:
            action()
            outcome.done = True
        except BaseException as exc:  # recorded, inspected by the test
            outcome.error = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()


def _between_check_and_insert(
    reg: Registry, check_sql: str, action: Callable[[], object]
) -> _Outcome:
    """Arm the pushing (this thread's) connection: run `action` elsewhere at the first statement
    after the reference checks."""
    outcome = _Outcome()
    checked = False

    def trace(sql: str) -> None:
        nonlocal checked
        if outcome.fired:
            return
        if check_sql in sql:
            checked = True
        elif checked:
            outcome.fired = True
            _other_thread(reg, action, outcome)

    reg.meta.conn.set_trace_callback(trace)
    return outcome


def _put(reg: Registry, ref: str, content: bytes, media_type: str) -> RegistryError | None:
    try:
        reg.put_manifest(REPO, ref, content, media_type)
    except RegistryError as exc:
        return exc
    finally:
        reg.meta.conn.set_trace_callback(None)
    return None


def _dangling(reg: Registry) -> list[str]:
    """Every reference of a stored manifest that is not there (blob: linked into the
    manifest's repository, with a row and a file; child: a manifest in the same repository)."""
    conn = reg.meta.conn
    rows = conn.execute(
        "SELECT r.name, m.digest, mr.kind, mr.digest FROM manifest_refs mr "
        "JOIN manifests m ON m.id = mr.manifest_id JOIN repositories r ON r.id = m.repo_id"
    ).fetchall()
    missing = []
    for repo, parent, kind, digest in rows:
        if kind == "blob":
            ok = reg.blob_size(repo, digest) is not None
        else:
            ok = reg.get_manifest(repo, digest) is not None
        if not ok:
            missing.append(f"{repo}@{parent} -> {kind} {digest}")
    return missing


def _assert_consistent(reg: Registry, outcome: _Outcome, error: RegistryError | None) -> None:
    assert outcome.fired, "the hook did not run: the reference checks' SQL changed?"
    if outcome.error is not None:
        # refused while the push held the write transaction
        assert isinstance(outcome.error, sqlite3.OperationalError), outcome.error
        assert "locked" in str(outcome.error)
    if error is not None:
        assert error.code is ErrorCode.MANIFEST_BLOB_UNKNOWN, error
    assert _dangling(reg) == []


def test_gc_between_check_and_insert_cannot_free_the_blobs(reg: Registry) -> None:
    content = _image(reg, "gc")
    outcome = _between_check_and_insert(reg, BLOB_CHECK, lambda: gc.collect(reg, delay=0))
    error = _put(reg, "v1", content, OCI_MANIFEST)
    _assert_consistent(reg, outcome, error)
    if error is None:
        # serialised after the push, GC sees the tagged manifest and keeps its blobs
        assert gc.collect(reg, delay=0).deleted_blobs == []
        for desc in json.loads(content)["layers"]:
            assert reg.store.exists(Digest.parse(desc["digest"]))


def test_blob_unlink_between_check_and_insert(reg: Registry) -> None:
    content = _image(reg, "unlink")
    layer = json.loads(content)["layers"][0]["digest"]
    outcome = _between_check_and_insert(reg, BLOB_CHECK, lambda: reg.unlink_blob(REPO, layer))
    error = _put(reg, "v1", content, OCI_MANIFEST)
    _assert_consistent(reg, outcome, error)


def test_repository_delete_between_check_and_insert(reg: Registry) -> None:
    content = _image(reg, "repo")
    outcome = _between_check_and_insert(reg, BLOB_CHECK, lambda: reg.delete_repository(REPO))
    error = _put(reg, "v1", content, OCI_MANIFEST)
    _assert_consistent(reg, outcome, error)


def test_child_delete_between_check_and_insert(reg: Registry) -> None:
    child, index = _pushed_child_and_index(reg, "child")
    outcome = _between_check_and_insert(reg, CHILD_CHECK, lambda: reg.delete_manifest(REPO, child))
    error = _put(reg, "multi", index, OCI_INDEX)
    _assert_consistent(reg, outcome, error)


def test_gc_between_check_and_insert_of_an_index_keeps_the_child(reg: Registry) -> None:
    _child, index = _pushed_child_and_index(reg, "gc-child")
    outcome = _between_check_and_insert(reg, CHILD_CHECK, lambda: gc.collect(reg, delay=0))
    error = _put(reg, "multi", index, OCI_INDEX)
    _assert_consistent(reg, outcome, error)


def test_a_missing_blob_still_fails_the_push(reg: Registry) -> None:
    config = _blob(reg, b'{"os": "linux"}')
    absent = str(Digest.of(b"never pushed"))
    content = image_manifest(config, [(absent, 12)])
    with pytest.raises(RegistryError) as info:
        reg.put_manifest(REPO, "v1", content, OCI_MANIFEST)
    assert info.value.code is ErrorCode.MANIFEST_BLOB_UNKNOWN
    assert reg.get_manifest(REPO, "v1") is None


def test_gc_leaves_the_fan_out_directory_for_uploads_in_flight(reg: Registry) -> None:
    # An upload renames into blobs/<algo>/<2 hex>/ after creating it, outside the write lock;
    # GC removing the emptied directory in between made that rename fail (a 500 on the push).
    digest, _ = _blob(reg, b"alone in its fan-out directory")
    path = reg.store.path(Digest.parse(digest))
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert gc.collect(reg, delay=0).deleted_blobs == [digest]
    assert not path.exists() and path.parent.is_dir()
