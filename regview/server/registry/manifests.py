"""The embedded registry's manifest writes: validate and store a pushed manifest (tagging it),
delete a tag, a manifest or a whole repository, and broadcast each change.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from regview.server.errors import RegistryError
from regview.server.registry.index import RegistryIndex
from regview.server.registry.records import ManifestRecord, RegistryEvent
from regview.spec import mediatypes as mt
from regview.spec.digest import Digest
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
#: SQLite integers are signed 64-bit; a manifest whose sizes add up past this is not storable
#: (and no real image is 8 EiB).
MAX_TOTAL_SIZE = 2**63 - 1


def _timestamp(moment: datetime | None) -> float | None:
    """POSIX seconds of an image's creation time, None when there is none or it cannot be shown
    again as a UTC date (year 1 at +14:00 is year 0 in UTC; 9999-12-31 at -14:00 is year 10000):
    an odd date in a config must not break every listing that shows it."""
    if moment is None:
        return None
    try:
        seconds = moment.timestamp()
        datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError):
        return None
    return seconds


def _check_total(total: int) -> int:
    if total > MAX_TOTAL_SIZE:
        raise RegistryError(
            ErrorCode.MANIFEST_INVALID,
            f"the sizes the manifest lists add up to {total} bytes, more than any registry "
            f"stores ({MAX_TOTAL_SIZE})",
        )
    return total


def _digest(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except InvalidDigest as exc:
        raise RegistryError(ErrorCode.DIGEST_INVALID, str(exc)) from exc


class ManifestWrites:
    """Storing and deleting manifests, tags and repositories, over the index's store and metadata."""

    def __init__(self, index: RegistryIndex) -> None:
        self._ix = index

    def _image_created(self, manifest: ImageManifest) -> float | None:
        created = parse_time(manifest.annotations.get(mt.ANNOTATION_CREATED))
        config = manifest.config
        if (
            created is None
            and config.media_type in mt.IMAGE_CONFIGS
            and config.size <= MAX_CONFIG_PARSE
            and self._ix.store.exists(config.digest)
        ):
            try:
                created = parse_config(self._ix.store.path(config.digest).read_bytes()).created
            except (InvalidManifest, OSError):
                created = None
        return _timestamp(created)

    def _check_references(
        self, name: str, manifest: Manifest
    ) -> tuple[list[tuple[str, str]], str | None, int, float | None]:
        """(references, config digest, total size, image creation time) of a manifest whose
        blobs or child manifests are all in repository `name`; MANIFEST_BLOB_UNKNOWN if one is
        not. Call inside the write transaction that stores the manifest."""
        conn = self._ix.meta.conn
        repo = self._ix.repo_id(name)
        refs: list[tuple[str, str]] = []
        created: float | None = None
        total = 0
        if isinstance(manifest, ImageManifest):
            for desc in manifest.blobs:
                if desc.urls:  # foreign layer, lives elsewhere
                    continue
                if repo is None or self._ix.blob_size(name, str(desc.digest)) is None:
                    raise RegistryError(
                        ErrorCode.MANIFEST_BLOB_UNKNOWN,
                        f"blob {desc.digest} referenced by the manifest is not in {name}; "
                        "push the blob first",
                        detail={"digest": str(desc.digest)},
                    )
                refs.append(("blob", str(desc.digest)))
            total = _check_total(manifest.size)
            return refs, str(manifest.config.digest), total, self._image_created(manifest)
        assert isinstance(manifest, ImageIndex)
        for desc in manifest.manifests:
            row = (
                None
                if repo is None
                else conn.execute(
                    "SELECT total_size, image_created FROM manifests WHERE repo_id=? AND digest=?",
                    (repo, str(desc.digest)),
                ).fetchone()
            )
            if row is None:
                raise RegistryError(
                    ErrorCode.MANIFEST_BLOB_UNKNOWN,
                    f"manifest {desc.digest} listed in the index is not in {name}; push it first",
                    detail={"digest": str(desc.digest)},
                )
            refs.append(("child", str(desc.digest)))
            if not desc.is_attestation:
                total += int(row[0])
            if row[1] is not None:
                created = max(created or 0.0, float(row[1]))
        annotated = _timestamp(parse_time(manifest.annotations.get(mt.ANNOTATION_CREATED)))
        if annotated is not None:
            created = annotated
        return refs, None, _check_total(total), created

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
        subject = str(manifest.subject.digest) if manifest.subject else None
        artifact_type = manifest.kind_artifact_type
        # The reference checks and the insert are one write transaction: a blob unlink, a
        # manifest or repository delete or GC commits either before it (and the check fails)
        # or after it (and sees the new references), never in between.
        self._ix.note_push(name)
        with self._ix.meta.write() as conn:
            refs, config_digest, total, created = self._check_references(name, manifest)
            repo = self._ix.ensure_repo(conn, name, now)
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
        self._ix.emit(RegistryEvent("push", name, str(digest), tag))
        return ManifestRecord(str(digest), media_type, content, subject)

    def delete_tag(self, name: str, tag: str) -> bool:
        """Remove one tag (the manifest stays, for GC to judge). False if there was none."""
        return self._delete_one(
            "DELETE FROM tags WHERE repo_id=(SELECT id FROM repositories WHERE name=?) AND name=?",
            name,
            tag,
            RegistryEvent("delete_tag", name, None, tag),
        )

    def delete_manifest(self, name: str, digest: str) -> bool:
        """Remove a manifest and every tag pointing at it. False if it was not there."""
        return self._delete_one(
            "DELETE FROM manifests WHERE repo_id=(SELECT id FROM repositories WHERE name=?) "
            "AND digest=?",
            name,
            digest,
            RegistryEvent("delete_manifest", name, digest),
        )

    def _delete_one(self, sql: str, name: str, key: str, event: RegistryEvent) -> bool:
        """Run `sql` (a DELETE taking repository name and key) and announce `event` if it
        removed a row; whether it did."""
        with self._ix.meta.write() as conn:
            deleted = conn.execute(sql, (name, key)).rowcount > 0
        if deleted:
            self._ix.emit(event)
        return deleted

    def delete_repository(self, name: str) -> int:
        """Remove a repository with all its tags and manifests; returns the tags removed.
        Blob bytes are freed by the next GC."""
        with self._ix.meta.write() as conn:
            repo = self._ix.repo_id(name)
            if repo is None:
                return 0
            count = conn.execute("SELECT count(*) FROM tags WHERE repo_id=?", (repo,)).fetchone()[0]
            conn.execute("DELETE FROM repositories WHERE id=?", (repo,))
        self._ix.emit(RegistryEvent("delete_repository", name))
        return int(count)


def _declared_media_type(content: bytes) -> str:
    try:
        obj = json.loads(content)
    except ValueError:
        return ""
    value = obj.get("mediaType") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""
