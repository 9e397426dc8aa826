"""The registry's operations over the blob store and the metadata: what the HTTP app (and the
GitLab-instance modules, the demo seeder and GC) call. Synchronous and thread-safe: the app runs
writes in the thread pool and the tiny indexed reads inline.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from regview.server.errors import RegistryError
from regview.server.metadata import Metadata
from regview.server.storage import BlobStore
from regview.spec import mediatypes as mt
from regview.spec.digest import Digest, Hasher
from regview.spec.errors import ErrorCode, InvalidDigest, InvalidManifest
from regview.spec.manifest import (
    MAX_MANIFEST_BYTES,
    ImageIndex,
    ImageManifest,
    Manifest,
    parse_config,
    parse_manifest,
    parse_time,
)
from regview.spec.reference import is_valid_tag

MAX_CONFIG_PARSE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ManifestRecord:
    digest: str
    media_type: str
    content: bytes
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class RepositoryRecord:
    name: str
    created: datetime
    tag_count: int


@dataclass(frozen=True, slots=True)
class TagRecord:
    name: str
    digest: str  # manifest digest
    media_type: str
    config_digest: str | None  # None for an index
    size: int  # config + layers; for an index the sum over its children
    created: datetime  # image build time (annotation, else config), else push time
    pushed: datetime  # when the tag last moved


EventAction = Literal["push", "delete_tag", "delete_manifest", "delete_repository"]


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    action: EventAction
    repository: str
    digest: str | None = None
    tag: str | None = None


Listener = Callable[[RegistryEvent], None]


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _digest(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except InvalidDigest as exc:
        raise RegistryError(ErrorCode.DIGEST_INVALID, str(exc)) from exc


class Registry:
    """One data directory: `blobs/`, `uploads/`, `metadata.db`."""

    def __init__(self, data_dir: Path, *, gc_delay: float = 86400) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.store = BlobStore(data_dir)
        self.meta = Metadata(data_dir / "metadata.db")
        self.gc_delay = gc_delay
        self._listeners: list[Listener] = []
        # Running hashes of chunked uploads: (bytes hashed, hasher). Lost on restart, then the
        # upload file is re-hashed at the end.
        self.hashers: dict[str, Hasher] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.meta.close()

    # -- events ------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` after every push/deletion (from the thread that made it; keep it
        quick). Returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: RegistryEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)

    # -- reads -------------------------------------------------------------------------------
    def repo_id(self, name: str) -> int | None:
        row = self.meta.conn.execute("SELECT id FROM repositories WHERE name=?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def catalog(self, n: int, last: str) -> list[str]:
        rows = self.meta.conn.execute(
            "SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?", (last, n)
        ).fetchall()
        return [r[0] for r in rows]

    def tag_names(self, name: str, n: int | None, last: str) -> list[str] | None:
        repo = self.repo_id(name)
        if repo is None:
            return None
        rows = self.meta.conn.execute(
            "SELECT name FROM tags WHERE repo_id=? AND name > ? ORDER BY name LIMIT ?",
            (repo, last, -1 if n is None else n),
        ).fetchall()
        return [r[0] for r in rows]

    def get_manifest(self, name: str, reference: str) -> ManifestRecord | None:
        conn = self.meta.conn
        if ":" in reference:
            row = conn.execute(
                "SELECT m.digest, m.media_type, m.content, m.subject FROM manifests m "
                "JOIN repositories r ON r.id = m.repo_id WHERE r.name=? AND m.digest=?",
                (name, reference),
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT m.digest, m.media_type, m.content, m.subject FROM tags t "
                "JOIN repositories r ON r.id = t.repo_id JOIN manifests m ON m.id = t.manifest_id "
                "WHERE r.name=? AND t.name=?",
                (name, reference),
            ).fetchone()
        return None if row is None else ManifestRecord(row[0], row[1], bytes(row[2]), row[3])

    def blob_size(self, name: str, digest: str) -> int | None:
        """Size of a blob linked into repository `name`, None if unknown there."""
        row = self.meta.conn.execute(
            "SELECT b.size FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id "
            "JOIN blobs b ON b.digest = rb.digest WHERE r.name=? AND rb.digest=?",
            (name, digest),
        ).fetchone()
        if row is None:
            return None
        return int(row[0]) if self.store.exists(Digest.parse(digest)) else None

    def referrers(self, name: str, digest: str, artifact_type: str | None) -> list[dict[str, Any]]:
        rows = self.meta.conn.execute(
            "SELECT m.digest, m.media_type, length(m.content), m.artifact_type, m.annotations "
            "FROM manifests m JOIN repositories r ON r.id = m.repo_id "
            "WHERE r.name=? AND m.subject=? ORDER BY m.pushed, m.digest",
            (name, digest),
        ).fetchall()
        out: list[dict[str, Any]] = []
        for d, media_type, size, kind, raw_annotations in rows:
            if artifact_type is not None and kind != artifact_type:
                continue
            desc: dict[str, Any] = {"mediaType": media_type, "digest": d, "size": size}
            if kind:
                desc["artifactType"] = kind
            ann = json.loads(raw_annotations)
            if ann:
                desc["annotations"] = ann
            out.append(desc)
        return out

    # -- writes: repositories and blobs ------------------------------------------------------
    def _ensure_repo(self, conn: Any, name: str, now: float) -> int:
        conn.execute(
            "INSERT INTO repositories(name, created) VALUES(?, ?) ON CONFLICT(name) DO NOTHING",
            (name, now),
        )
        return int(conn.execute("SELECT id FROM repositories WHERE name=?", (name,)).fetchone()[0])

    def link_blob(self, name: str, digest: Digest, size: int, *, now: float | None = None) -> None:
        """Record a blob already in the store as present in repository `name`."""
        now = time.time() if now is None else now
        with self.meta.write() as conn:
            repo = self._ensure_repo(conn, name, now)
            conn.execute(
                "INSERT INTO blobs(digest, size, created) VALUES(?, ?, ?) "
                "ON CONFLICT(digest) DO UPDATE SET unreferenced_since = NULL",
                (str(digest), size, now),
            )
            conn.execute(
                "INSERT OR IGNORE INTO repo_blobs(repo_id, digest) VALUES(?, ?)",
                (repo, str(digest)),
            )

    def mount_blob(self, name: str, source: str, digest: Digest) -> bool:
        size = self.blob_size(source, str(digest))
        if size is None:
            return False
        self.link_blob(name, digest, size)
        return True

    def unlink_blob(self, name: str, digest: str) -> bool:
        repo = self.repo_id(name)
        if repo is None:
            return False
        with self.meta.write() as conn:
            cur = conn.execute(
                "DELETE FROM repo_blobs WHERE repo_id=? AND digest=?", (repo, digest)
            )
        return cur.rowcount > 0

    # -- uploads -----------------------------------------------------------------------------
    def start_upload(self, name: str) -> str:
        upload_id = self.store.new_upload()
        now = time.time()
        with self.meta.write() as conn:
            conn.execute(
                "INSERT INTO uploads(id, repo, started, updated) VALUES(?, ?, ?, ?)",
                (upload_id, name, now, now),
            )
        self.hashers[upload_id] = Hasher("sha256")
        return upload_id

    def upload_size(self, name: str, upload_id: str) -> int | None:
        row = self.meta.conn.execute("SELECT repo FROM uploads WHERE id=?", (upload_id,)).fetchone()
        if row is None or row[0] != name:
            return None
        return self.store.upload_size(upload_id)

    def touch_upload(self, upload_id: str) -> None:
        with self.meta.write() as conn:
            conn.execute("UPDATE uploads SET updated=? WHERE id=?", (time.time(), upload_id))

    def finish_upload(self, name: str, upload_id: str, expected: Digest) -> int:
        """Verify the upload against `expected` and move it into the store; returns its size.
        On a mismatch the upload is discarded and DIGEST_INVALID raised."""
        size = self.store.upload_size(upload_id) or 0
        hasher = self.hashers.pop(upload_id, None)
        if hasher is None or hasher.size != size or hasher.algorithm != expected.algorithm:
            hasher = self.store.hash_upload(upload_id, expected.algorithm)
        ok = hasher.verify(expected)
        if ok:
            self.store.commit_upload(upload_id, expected)
        else:
            self.store.discard_upload(upload_id)
        with self.meta.write() as conn:
            conn.execute("DELETE FROM uploads WHERE id=?", (upload_id,))
        if not ok:
            raise RegistryError(
                ErrorCode.DIGEST_INVALID,
                f"the uploaded content has digest {hasher.digest()}, not {expected}",
            )
        self.link_blob(name, expected, size)
        return size

    def cancel_upload(self, upload_id: str) -> None:
        self.hashers.pop(upload_id, None)
        self.store.discard_upload(upload_id)
        with self.meta.write() as conn:
            conn.execute("DELETE FROM uploads WHERE id=?", (upload_id,))

    # -- manifests ---------------------------------------------------------------------------
    def _image_created(self, manifest: ImageManifest) -> float | None:
        created = parse_time(manifest.annotations.get(mt.ANNOTATION_CREATED))
        config = manifest.config
        if (
            created is None
            and config.media_type in mt.IMAGE_CONFIGS
            and config.size <= MAX_CONFIG_PARSE
            and self.store.exists(config.digest)
        ):
            data = self.store.path(manifest.config.digest).read_bytes()
            try:
                created = parse_config(data).created
            except InvalidManifest:
                created = None
        return None if created is None else created.timestamp()

    def put_manifest(
        self,
        name: str,
        reference: str,
        content: bytes,
        content_type: str = "",
        *,
        now: float | None = None,
    ) -> ManifestRecord:
        """Validate and store a manifest exactly as sent; tag it when `reference` is a tag."""
        now = time.time() if now is None else now
        if len(content) > MAX_MANIFEST_BYTES:
            raise RegistryError(
                ErrorCode.SIZE_INVALID,
                f"manifest is {len(content)} bytes; at most {MAX_MANIFEST_BYTES} are accepted",
                status=413,
            )
        digest = Digest.of(content)
        tag: str | None = None
        if ":" in reference:
            wanted = _digest(reference)
            actual = Digest.of(content, wanted.algorithm)
            if actual != wanted:
                raise RegistryError(
                    ErrorCode.DIGEST_INVALID,
                    f"manifest content has digest {actual}, not {wanted} as in the URL",
                )
            digest = wanted
        elif is_valid_tag(reference):
            tag = reference
        else:
            raise RegistryError(ErrorCode.TAG_INVALID, f"tag {reference!r} is not valid")
        try:
            manifest: Manifest = parse_manifest(content, content_type)
        except InvalidManifest as exc:
            raise RegistryError(ErrorCode.MANIFEST_INVALID, str(exc)) from exc
        declared = _declared_media_type(content)
        header = content_type.split(";")[0].strip()
        if declared and header in mt.MANIFESTS and header != declared:
            raise RegistryError(
                ErrorCode.MANIFEST_INVALID,
                f"Content-Type {header} does not match the manifest's mediaType {declared}",
            )
        media_type = manifest.media_type or header or mt.OCI_MANIFEST
        conn = self.meta.conn
        repo = self.repo_id(name)
        refs: list[tuple[str, str]] = []
        config_digest: str | None = None
        total = 0
        created: float | None = None
        if isinstance(manifest, ImageManifest):
            for desc in manifest.blobs:
                if desc.urls:  # foreign layer, lives elsewhere
                    continue
                if repo is None or self.blob_size(name, str(desc.digest)) is None:
                    raise RegistryError(
                        ErrorCode.MANIFEST_BLOB_UNKNOWN,
                        f"blob {desc.digest} referenced by the manifest is not in {name}; "
                        "push the blob first",
                        detail={"digest": str(desc.digest)},
                    )
                refs.append(("blob", str(desc.digest)))
            config_digest = str(manifest.config.digest)
            total = manifest.size
            created = self._image_created(manifest)
        else:
            assert isinstance(manifest, ImageIndex)
            for desc in manifest.manifests:
                row = (
                    None
                    if repo is None
                    else conn.execute(
                        "SELECT total_size, image_created FROM manifests "
                        "WHERE repo_id=? AND digest=?",
                        (repo, str(desc.digest)),
                    ).fetchone()
                )
                if row is None:
                    raise RegistryError(
                        ErrorCode.MANIFEST_BLOB_UNKNOWN,
                        f"manifest {desc.digest} listed in the index is not in {name}; "
                        "push it first",
                        detail={"digest": str(desc.digest)},
                    )
                refs.append(("child", str(desc.digest)))
                if not desc.is_attestation:
                    total += int(row[0])
                if row[1] is not None:
                    created = max(created or 0.0, float(row[1]))
            annotated = parse_time(manifest.annotations.get(mt.ANNOTATION_CREATED))
            if annotated is not None:
                created = annotated.timestamp()
        subject = str(manifest.subject.digest) if manifest.subject else None
        artifact_type = manifest.kind_artifact_type
        with self.meta.write() as conn:
            repo = self._ensure_repo(conn, name, now)
            conn.execute(
                "INSERT INTO manifests(repo_id, digest, media_type, artifact_type, annotations, "
                "content, subject, config_digest, total_size, image_created, pushed) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(repo_id, digest) "
                "DO UPDATE SET unreferenced_since = NULL",
                (
                    repo,
                    str(digest),
                    media_type,
                    artifact_type,
                    json.dumps(manifest.annotations, sort_keys=True),
                    content,
                    subject,
                    config_digest,
                    total,
                    created,
                    now,
                ),
            )
            manifest_id = conn.execute(
                "SELECT id FROM manifests WHERE repo_id=? AND digest=?", (repo, str(digest))
            ).fetchone()[0]
            conn.executemany(
                "INSERT OR IGNORE INTO manifest_refs(manifest_id, kind, digest) VALUES(?,?,?)",
                [(manifest_id, kind, d) for kind, d in refs],
            )
            if tag is not None:
                conn.execute(
                    "INSERT INTO tags(repo_id, name, manifest_id, updated) VALUES(?,?,?,?) "
                    "ON CONFLICT(repo_id, name) DO UPDATE SET manifest_id=excluded.manifest_id, "
                    "updated=excluded.updated",
                    (repo, tag, manifest_id, now),
                )
        self._emit(RegistryEvent("push", name, str(digest), tag))
        return ManifestRecord(str(digest), media_type, content, subject)

    def delete_tag(self, name: str, tag: str) -> bool:
        """Remove one tag (the manifest stays, for GC to judge). False if there was none."""
        repo = self.repo_id(name)
        if repo is None:
            return False
        with self.meta.write() as conn:
            cur = conn.execute("DELETE FROM tags WHERE repo_id=? AND name=?", (repo, tag))
        if cur.rowcount == 0:
            return False
        self._emit(RegistryEvent("delete_tag", name, None, tag))
        return True

    def delete_manifest(self, name: str, digest: str) -> bool:
        """Remove a manifest and every tag pointing at it. False if it was not there."""
        repo = self.repo_id(name)
        if repo is None:
            return False
        with self.meta.write() as conn:
            cur = conn.execute("DELETE FROM manifests WHERE repo_id=? AND digest=?", (repo, digest))
        if cur.rowcount == 0:
            return False
        self._emit(RegistryEvent("delete_manifest", name, digest))
        return True

    # -- the interface for the GitLab-instance modules ---------------------------------------
    def list_repositories(self) -> list[RepositoryRecord]:
        rows = self.meta.conn.execute(
            "SELECT r.name, r.created, (SELECT count(*) FROM tags t WHERE t.repo_id = r.id) "
            "FROM repositories r ORDER BY r.name"
        ).fetchall()
        return [RepositoryRecord(n, _ts(c), int(k)) for n, c, k in rows]

    def list_tags(self, name: str) -> list[TagRecord]:
        rows = self.meta.conn.execute(
            "SELECT t.name, m.digest, m.media_type, m.config_digest, m.total_size, "
            "m.image_created, m.pushed, t.updated FROM tags t "
            "JOIN repositories r ON r.id = t.repo_id JOIN manifests m ON m.id = t.manifest_id "
            "WHERE r.name=? ORDER BY t.name",
            (name,),
        ).fetchall()
        return [
            TagRecord(
                tag,
                d,
                media,
                cfg,
                int(size),
                _ts(created if created is not None else pushed),
                _ts(updated),
            )
            for tag, d, media, cfg, size, created, pushed, updated in rows
        ]

    def repository_size(self, name: str) -> int:
        """De-duplicated bytes of the blobs the repository's manifests reference (GitLab's
        repository `size`)."""
        row = self.meta.conn.execute(
            "SELECT COALESCE(SUM(b.size), 0) FROM blobs b WHERE b.digest IN ("
            "SELECT mr.digest FROM manifest_refs mr JOIN manifests m ON m.id = mr.manifest_id "
            "JOIN repositories r ON r.id = m.repo_id WHERE r.name=? AND mr.kind='blob')",
            (name,),
        ).fetchone()
        return int(row[0])

    def delete_repository(self, name: str) -> int:
        """Remove a repository with all its tags and manifests; returns the tags removed.
        Blob bytes are freed by the next GC."""
        repo = self.repo_id(name)
        if repo is None:
            return 0
        with self.meta.write() as conn:
            count = conn.execute("SELECT count(*) FROM tags WHERE repo_id=?", (repo,)).fetchone()[0]
            conn.execute("DELETE FROM repositories WHERE id=?", (repo,))
        self._emit(RegistryEvent("delete_repository", name))
        return int(count)


def _declared_media_type(content: bytes) -> str:
    try:
        obj = json.loads(content)
    except ValueError:
        return ""
    value = obj.get("mediaType") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""
