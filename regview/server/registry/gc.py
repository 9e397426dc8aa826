"""Mark and sweep: what is reachable from a tag stays, the rest goes after a review delay.

Kept, per repository: every tagged manifest, the children of a kept index (so a tagged
multi-arch image keeps all its platforms and attestations) and the referrers of a kept manifest
(signatures, SBOMs — and their own referrers). Every blob a remaining manifest lists stays.
Whatever else is found gets a `unreferenced_since` stamp on the first pass and is deleted once
that stamp is older than `delay` (0: at once, as the offline `regview local gc` does). A push that
references it again clears the stamp. Online GC also leaves alone what is linked into a repository
a push touched in the last `push_grace` seconds. Uploads untouched for `upload_expiry` seconds are
purged.
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass, field

from regview.server.registry.registry import Registry
from regview.spec.digest import Digest


@dataclass
class GcReport:
    dry_run: bool = False
    manifests_deleted: int = 0
    manifest_bytes_freed: int = 0
    blobs_deleted: int = 0
    blob_bytes_freed: int = 0
    uploads_purged: int = 0
    upload_bytes_freed: int = 0
    deleted_blobs: list[str] = field(default_factory=list)
    deleted_manifests: list[str] = field(default_factory=list)  # "repo@digest"

    @property
    def bytes_freed(self) -> int:
        return self.manifest_bytes_freed + self.blob_bytes_freed + self.upload_bytes_freed

    def summary(self) -> str:
        verb = "would free" if self.dry_run else "freed"
        return (
            f"{verb} {self.bytes_freed} bytes: {self.manifests_deleted} manifest(s), "
            f"{self.blobs_deleted} blob(s) ({self.blob_bytes_freed} bytes), "
            f"{self.uploads_purged} abandoned upload(s) ({self.upload_bytes_freed} bytes)"
        )


def _kept_manifests(registry: Registry) -> tuple[set[int], dict[int, tuple[str, str, int]]]:
    """(ids of manifests reachable from a tag, id → (repository, digest, content size))."""
    conn = registry.meta.conn
    info: dict[int, tuple[str, str, int]] = {}
    by_digest: dict[tuple[int, str], int] = {}
    by_subject: dict[tuple[int, str], list[int]] = defaultdict(list)
    repo_of: dict[int, int] = {}
    for mid, repo_id, repo, digest, subject, size in conn.execute(
        "SELECT m.id, m.repo_id, r.name, m.digest, m.subject, length(m.content) "
        "FROM manifests m JOIN repositories r ON r.id = m.repo_id"
    ):
        info[mid] = (repo, digest, size)
        by_digest[(repo_id, digest)] = mid
        repo_of[mid] = repo_id
        if subject:
            by_subject[(repo_id, subject)].append(mid)
    children: dict[int, list[str]] = defaultdict(list)
    for mid, digest in conn.execute(
        "SELECT manifest_id, digest FROM manifest_refs WHERE kind='child'"
    ):
        children[mid].append(digest)
    stack = [int(r[0]) for r in conn.execute("SELECT DISTINCT manifest_id FROM tags")]
    kept: set[int] = set()
    while stack:
        mid = stack.pop()
        if mid in kept or mid not in info:
            continue
        kept.add(mid)
        repo_id = repo_of[mid]
        for child in children.get(mid, ()):
            child_id = by_digest.get((repo_id, child))
            if child_id is not None:
                stack.append(child_id)
        stack.extend(by_subject.get((repo_id, info[mid][1]), ()))
    return kept, info


def _linked_into(conn: sqlite3.Connection, repositories: set[str]) -> set[str]:
    """Digests of the blobs linked into any of `repositories`."""
    found: set[str] = set()
    for name in repositories:
        found.update(
            r[0]
            for r in conn.execute(
                "SELECT rb.digest FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id "
                "WHERE r.name = ?",
                (name,),
            )
        )
    return found


def collect(
    registry: Registry,
    *,
    delay: float = 0.0,
    upload_expiry: float = 86400.0,
    dry_run: bool = False,
    now: float | None = None,
    push_grace: float = 0.0,
) -> GcReport:
    """`push_grace` (online GC): nothing linked into a repository a push touched in the last
    `push_grace` seconds is deleted, however long it has been unreferenced (see
    `Registry.push_activity`); offline GC holds the directory alone and passes 0.

    Raises StoreClosed when the registry closes before or while it runs (each phase commits
    on its own, so stopping between phases leaves a consistent store)."""
    with registry.job():
        return _collect(
            registry,
            delay=delay,
            upload_expiry=upload_expiry,
            dry_run=dry_run,
            now=now,
            push_grace=push_grace,
        )


def _collect(
    registry: Registry,
    *,
    delay: float,
    upload_expiry: float,
    dry_run: bool,
    now: float | None,
    push_grace: float,
) -> GcReport:
    now = time.time() if now is None else now
    cutoff = now - delay
    report = GcReport(dry_run=dry_run)
    meta, store = registry.meta, registry.store

    def busy() -> set[str]:
        """Repositories a push is (or may still be) working in."""
        return registry.busy_repositories(now - push_grace) if push_grace > 0 else set()

    # 1. manifests. Marked inside the write transaction that deletes them: a push between mark
    # and sweep (an index naming an untagged child, a tag on an unkept manifest) would otherwise
    # lose what it just referenced.
    if dry_run:
        kept, info = _kept_manifests(registry)
        unkept = [mid for mid in info if mid not in kept]
        stamps = dict(meta.conn.execute("SELECT id, unreferenced_since FROM manifests").fetchall())
        doomed = [m for m in unkept if (stamps.get(m) or now) <= cutoff]
    else:
        doomed = []
        with meta.write() as conn:
            kept, info = _kept_manifests(registry)
            unkept = [mid for mid in info if mid not in kept]
            conn.executemany(
                "UPDATE manifests SET unreferenced_since = NULL WHERE id = ?",
                [(mid,) for mid in kept],
            )
            conn.executemany(
                "UPDATE manifests SET unreferenced_since = ? "
                "WHERE id = ? AND unreferenced_since IS NULL",
                [(now, mid) for mid in unkept],
            )
            spared = busy()
            for mid in unkept:
                if info[mid][0] in spared:
                    continue
                cur = conn.execute(
                    "DELETE FROM manifests WHERE id = ? AND unreferenced_since <= ? "
                    "AND NOT EXISTS (SELECT 1 FROM tags WHERE manifest_id = ?)",
                    (mid, cutoff, mid),
                )
                if cur.rowcount:
                    doomed.append(mid)
    for mid in doomed:
        repo, digest, size = info[mid]
        report.manifests_deleted += 1
        report.manifest_bytes_freed += size
        report.deleted_manifests.append(f"{repo}@{digest}")
    doomed_set = set(doomed)

    registry.check_open()
    # 2. blobs: referenced by any remaining manifest, else stamped, then deleted
    referenced: set[str] = set()
    for mid, digest in meta.conn.execute(
        "SELECT manifest_id, digest FROM manifest_refs WHERE kind = 'blob'"
    ):
        if mid not in doomed_set:
            referenced.add(digest)
    rows = meta.conn.execute("SELECT digest, size, unreferenced_since FROM blobs").fetchall()
    known = {r[0] for r in rows}
    unreferenced = [(d, since) for d, _size, since in rows if d not in referenced]
    candidates: list[str] = []
    if dry_run:
        candidates = [d for d, since in unreferenced if (since or now) <= cutoff]
    else:
        with meta.write() as conn:
            conn.executemany(
                "UPDATE blobs SET unreferenced_since = NULL WHERE digest = ?",
                [(d,) for d, _s, since in rows if since is not None and d in referenced],
            )
            conn.executemany(
                "UPDATE blobs SET unreferenced_since = ? WHERE digest = ? AND unreferenced_since IS NULL",
                [(now, d) for d, since in unreferenced if since is None],
            )
        with meta.write() as conn:
            spared = _linked_into(conn, busy())
            for d, _since in unreferenced:
                if d in spared:
                    continue
                cur = conn.execute(
                    "DELETE FROM blobs WHERE digest = ? AND unreferenced_since <= ? "
                    "AND NOT EXISTS (SELECT 1 FROM manifest_refs WHERE digest = ? AND kind = 'blob')",
                    (d, cutoff, d),
                )
                if cur.rowcount:
                    conn.execute("DELETE FROM repo_blobs WHERE digest = ?", (d,))
                    candidates.append(d)
    # files no row knows of (a crash between rename and commit), old enough
    orphans: list[str] = []
    for orphan, _size in list(store.all_blobs()):
        if str(orphan) in known:
            continue
        try:
            mtime = store.path(orphan).stat().st_mtime
        except OSError:
            continue
        if mtime <= cutoff:
            orphans.append(str(orphan))
    if dry_run:
        for d in candidates + orphans:
            report.blobs_deleted += 1
            report.blob_bytes_freed += store.size(Digest.parse(d)) or 0
            report.deleted_blobs.append(d)
    else:
        # Files go under the write lock and only while no row names them: a blob pushed again
        # since (row re-inserted, then referenced by a manifest) keeps its file.
        with meta.write() as conn:
            for d in candidates + orphans:
                if conn.execute("SELECT 1 FROM blobs WHERE digest = ?", (d,)).fetchone():
                    continue
                freed = store.delete(Digest.parse(d))
                report.blobs_deleted += 1
                report.blob_bytes_freed += freed
                report.deleted_blobs.append(d)

    # 3. abandoned uploads
    registry.check_open()
    upload_cutoff = now - upload_expiry
    stale = meta.conn.execute(
        "SELECT id FROM uploads WHERE updated <= ?", (upload_cutoff,)
    ).fetchall()
    live = {r[0] for r in meta.conn.execute("SELECT id FROM uploads")}
    orphans = []
    for f in store.upload_root.iterdir():
        if f.name not in live:
            try:
                if f.stat().st_mtime <= upload_cutoff:
                    orphans.append(f.name)
            except OSError:
                continue
    for upload_id in [r[0] for r in stale] + orphans:
        size = store.upload_size(upload_id) or 0
        if not dry_run:
            registry.cancel_upload(upload_id)
        report.uploads_purged += 1
        report.upload_bytes_freed += size
    return report
