"""Tag details for a repository: digest, media type, size, created time, platforms, blobs.

    await load_tags(client, repository, *, on_batch=None, cancel=None, tags=None,
                    created_hints=None, digests=None) -> list[TagInfo]

- Requests run concurrently over the client's reused connections, as many at once as the
  client's adaptive limiter allows (`client.limiter`). Tags that share a digest are summarised
  once; manifests and configs are cached by digest (`ContentCache`), and each digest's summary is kept in the tag listing cache.
- A second listing sends one request per tag: a conditional GET (If-None-Match: the digest
  seen before). A 304 reuses the stored summary; nothing else is fetched. `known` (rows the
  caller already holds, e.g. the window's table) counts as seen before, like a stored listing.
  `digests` (tag → digest a management API listed: Harbor, Quay) reads those by digest.
  Where a GET counts against a pull allowance (`client.counts_pulls`: Docker Hub) that request is a HEAD, and a
  GET follows only for a digest neither the listing nor the content cache knows.
- Size: config + layers for an image; per platform for an index, and the de-duplicated union
  of the platform children's blobs as the tag's size. Attestation children are not platforms
  (their blobs still count in `blobs`, the bytes the tag keeps alive).
- Created: `created_hints` (registry metadata such as GitLab's `created_at`), else the
  `org.opencontainers.image.created` annotation, else the config's `created`.
- Where the registry's management API lists tags (`vendors.vendor_tags`: Docker Hub), that
  listing is used instead: 100 tags per request and no manifest GET (no pull spent); its
  `blobs` are the platform images (Docker Hub does not list layers).
- `on_batch` receives finished TagInfo in batches (for a progressively filled table);
  setting `cancel` stops the workers and returns what is done so far.
- A tag that fails alone (deleted meanwhile, unreadable manifest) gets `TagInfo.error`; a
  failure that would hit every tag (auth, network) raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from regview.core import errors as E
from regview.core.client.cache import Listing
from regview.core.client.client import RegistryClient
from regview.core.client.manifests import ManifestResponse
from regview.core.model import ArtifactKind, PlatformInfo, RegistryKind, TagInfo
from regview.spec import mediatypes as mt
from regview.spec.manifest import ImageConfig, ImageIndex, ImageManifest, parse_time

BATCH = 200
Summary = dict[str, Any]
#: kinds without a management API module (`core.vendors.MODULES`; a unit test keeps the two
#: apart): their listings never import the vendors package — ~3 ms of every `regview tags`
#: start-up against a plain registry, for an answer known in advance (no vendor, use `/v2`)
NO_VENDOR_API = frozenset({RegistryKind.GENERIC, RegistryKind.GITLAB, RegistryKind.REGVIEW})


class _Run:
    def __init__(
        self,
        client: RegistryClient,
        repository: str,
        listing: Listing,
        digests: Mapping[str, str] | None = None,
    ) -> None:
        self.client = client
        self.repository = repository
        self.digests = digests or {}
        self.summaries = listing.summaries
        self.previous = listing.tags
        self.counts_pulls = listing.counts_pulls  # seen on an earlier listing
        self.inflight: dict[str, asyncio.Future[Summary]] = {}
        self.configs: dict[str, asyncio.Future[ImageConfig | None]] = {}

    async def tag(self, tag: str) -> tuple[str, Summary]:
        listed = self.digests.get(tag)
        if listed:
            # the management API named the digest: read it by digest, not by tag, which
            # Harbor records as a pull of the tag (its "last pulled" would be our listing)
            cached = self.summaries.get(listed)
            if cached is not None:
                return listed, cached
            read = await self.client.get_manifest(self.repository, listed)
            return read.digest, await self.summary(read)
        if self.counts_pulls or self.client.counts_pulls:
            # a GET (conditional or not) costs a pull there, a HEAD does not: ask for the
            # digest first and GET only a manifest neither this run nor the cache knows
            head = await self.client.head_manifest(self.repository, tag)
            if head.digest:
                known = self.summaries.get(head.digest)
                if known is not None:
                    return head.digest, known
                by_digest = await self.client.get_manifest(self.repository, head.digest)
                return by_digest.digest, await self.summary(by_digest)
        prev = self.previous.get(tag)
        if prev and prev in self.summaries:
            resp = await self.client.get_manifest_if_changed(self.repository, tag, prev)
            if resp is None:
                return prev, self.summaries[prev]
        else:
            resp = await self.client.get_manifest(self.repository, tag)
        return resp.digest, await self.summary(resp)

    async def summary(self, resp: ManifestResponse) -> Summary:
        known = self.summaries.get(resp.digest)
        if known is not None:
            return known
        fut = self.inflight.get(resp.digest)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self.inflight[resp.digest] = fut
            try:
                result = await self._summarise(resp)
            except BaseException as exc:
                fut.set_exception(exc)
                fut.exception()  # retrieved here: sharers re-raise it themselves
                del self.inflight[resp.digest]
                raise
            self.summaries[resp.digest] = result
            fut.set_result(result)
            return result
        return await fut

    async def config(self, m: ImageManifest) -> ImageConfig | None:
        if m.config.media_type not in mt.IMAGE_CONFIGS:
            return None  # an artifact: its "config" is not an image config
        key = str(m.config.digest)
        fut = self.configs.get(key)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self.configs[key] = fut
            try:
                cfg: ImageConfig | None = await self.client.get_config(self.repository, m.config)
            except E.ProtocolError:
                cfg = None
            except BaseException as exc:
                fut.set_exception(exc)
                fut.exception()
                del self.configs[key]
                raise
            fut.set_result(cfg)
            return cfg
        return await fut

    async def _summarise(self, resp: ManifestResponse) -> Summary:
        m = resp.manifest
        s: Summary = {
            "media_type": resp.media_type,
            "created": None,
            "platforms": [],
            "children": [],
            "blobs": [],
            "config_digest": "",
            "size": None,
            "artifact_type": "",
            "subject": "",
            "error": resp.problem,
        }
        if m is None:
            s["kind"] = ArtifactKind.UNKNOWN.value
            return s
        s["subject"] = str(m.subject.digest) if m.subject else ""
        s["artifact_type"] = (
            m.kind_artifact_type if not isinstance(m, ImageIndex) or m.artifact_type else ""
        )
        annotated = parse_time(m.annotations.get(mt.ANNOTATION_CREATED))
        if isinstance(m, ImageManifest):
            cfg = await self.config(m)
            s["kind"] = (ArtifactKind.ARTIFACT if m.is_artifact else ArtifactKind.IMAGE).value
            s["config_digest"] = str(m.config.digest)
            s["size"] = m.size
            s["blobs"] = [[str(d.digest), d.size] for d in m.blobs]
            created = annotated or (cfg.created if cfg else None)
            if cfg is not None and cfg.platform is not None:
                p = cfg.platform
                s["platforms"] = [[p.os, p.architecture, p.variant, resp.digest, m.size]]
            s["artifact_type"] = m.artifact_type if m.is_artifact else ""
        else:
            s["kind"] = ArtifactKind.INDEX.value
            s["children"] = [str(d.digest) for d in m.manifests]
            children = await asyncio.gather(
                *(self.child(str(d.digest)) for d in m.manifests), return_exceptions=True
            )
            blobs: dict[str, int] = {}
            platform_blobs: dict[str, int] = {}
            created = annotated
            problems = []
            for d, child in zip(m.manifests, children, strict=True):
                if isinstance(child, E.AuthenticationFailed | E.ConnectionFailed):
                    raise child
                if isinstance(child, BaseException) or child is None:
                    problems.append(f"child {d.digest.short} unreadable: {child}")
                    continue
                cm, cfg = child
                for b in cm.blobs:
                    blobs[str(b.digest)] = b.size
                    if not d.is_attestation:
                        platform_blobs[str(b.digest)] = b.size
                if d.is_attestation:
                    continue
                plat = d.platform or (cfg.platform if cfg else None)
                if plat is not None:
                    s["platforms"].append(
                        [plat.os, plat.architecture, plat.variant, str(d.digest), cm.size]
                    )
                if created is None and cfg is not None:
                    created = cfg.created
            s["blobs"] = [[k, v] for k, v in blobs.items()]
            s["size"] = sum(platform_blobs.values()) if not problems else None
            if problems:
                s["error"] = "; ".join(problems)
        s["created"] = created.isoformat() if created else None
        s["_created"] = created  # the memo `_created` would parse back from the text
        return s

    async def child(self, digest: str) -> tuple[ImageManifest, ImageConfig | None] | None:
        resp = await self.client.get_manifest(self.repository, digest)
        if not isinstance(resp.manifest, ImageManifest):
            return None  # nested indexes are not followed
        return resp.manifest, await self.config(resp.manifest)


def _created(s: Summary) -> datetime | None:
    # parsed once per summary (digest), not once per tag
    cached = s.get("_created")
    if cached is None and s.get("created"):
        cached = s["_created"] = parse_time(s["created"])
    return cached if isinstance(cached, datetime) else None


def summary_of(t: TagInfo) -> Summary:
    """The summary a row was built from (the inverse of `tag_info`), to revalidate it."""
    return {
        "media_type": t.media_type,
        "kind": t.kind.value,
        "size": t.size,
        "created": t.created.isoformat() if t.created else None,
        "config_digest": t.config_digest,
        "platforms": [[p.os, p.architecture, p.variant, p.digest, p.size] for p in t.platforms],
        "children": list(t.child_digests),
        "blobs": [[d, n] for d, n in t.blobs],
        "artifact_type": t.artifact_type,
        "subject": t.subject,
        "error": t.error,
    }


def _blobs(s: Summary) -> tuple[tuple[str, int], ...]:
    # Each blob once (a manifest may name a layer twice; what it frees counts holders per
    # blob), built once per summary and shared by every tag on that digest.
    cached = s.get("_blobs")
    if cached is None:
        cached = s["_blobs"] = tuple({b[0]: b[1] for b in s.get("blobs", [])}.items())
    return cached  # type: ignore[no-any-return]


def tag_info(
    repository: str, tag: str, digest: str, s: Summary, created: datetime | None
) -> TagInfo:
    when = created or _created(s)
    return TagInfo(
        repository=repository,
        tag=tag,
        digest=digest,
        media_type=s.get("media_type", ""),
        kind=ArtifactKind(s.get("kind", "unknown")),
        size=s.get("size"),
        created=when,
        config_digest=s.get("config_digest", ""),
        platforms=tuple(PlatformInfo(*p) for p in s.get("platforms", [])),
        child_digests=tuple(s.get("children", [])),
        blobs=_blobs(s),
        artifact_type=s.get("artifact_type", ""),
        subject=s.get("subject", ""),
        error=s.get("error", ""),
    )


async def manifest_trees(
    client: RegistryClient, repository: str, digests: Sequence[str]
) -> dict[str, tuple[tuple[str, int], ...]]:
    """Each manifest's blobs read by digest, as `TagInfo.blobs` has them (an index with its
    children's); one that cannot be read whole is left out. The listing cache is not touched."""
    run = _Run(client, repository, Listing())

    async def one(digest: str) -> tuple[str, Summary | None]:
        try:
            return digest, (await run.tag(digest))[1]
        except (E.NotFound, E.ProtocolError, E.Unsupported):
            return digest, None

    read = await asyncio.gather(*(one(d) for d in digests))
    return {d: _blobs(s) for d, s in read if s is not None and s.get("blobs") and not s["error"]}


async def load_tags(
    client: RegistryClient,
    repository: str,
    *,
    on_batch: Callable[[list[TagInfo]], None] | None = None,
    cancel: asyncio.Event | None = None,
    tags: list[str] | None = None,
    created_hints: dict[str, datetime] | None = None,
    known: Sequence[TagInfo] = (),
    through_vendor: bool = True,
    digests: Mapping[str, str] | None = None,
) -> list[TagInfo]:
    # Docker Hub: its API, no pull spent. A vendor completing its own API listing from the
    # manifests (Harbor, Quay: `vendors.enrich`) passes through_vendor=False: no loop back.
    listed = None
    if through_vendor and client.endpoint.kind not in NO_VENDOR_API:
        from regview.core.vendors import vendor_tags

        listed = await vendor_tags(client, repository)
    if listed is not None:
        rows = listed if tags is None else [t for t in listed if t.tag in set(tags)]
        if on_batch is not None and rows:
            on_batch(rows)
        return rows
    names = tags if tags is not None else await client.list_tags(repository)
    listing = (
        await asyncio.to_thread(client.listings.load, client.registry, repository)
        if client.listings is not None
        else Listing()
    )
    for row in known:
        if row.digest and not row.error and row.repository == repository:
            listing.tags[row.tag] = row.digest
            listing.summaries.setdefault(row.digest, summary_of(row))
    run = _Run(client, repository, listing, digests)
    hints = created_hints or {}
    results: list[TagInfo | None] = [None] * len(names)
    seen: dict[str, str] = {}
    pending: list[TagInfo] = []
    next_index = 0

    async def worker() -> None:
        nonlocal next_index, pending
        while next_index < len(names) and not (cancel is not None and cancel.is_set()):
            i = next_index
            next_index += 1
            tag = names[i]
            try:
                digest, s = await run.tag(tag)
                info = tag_info(repository, tag, digest, s, hints.get(tag))
                seen[tag] = digest
            except (E.NotFound, E.ProtocolError, E.Unsupported) as exc:
                info = TagInfo(repository, tag, "", "", ArtifactKind.UNKNOWN, error=exc.message)
            results[i] = info
            if on_batch is not None:
                pending.append(info)
                if len(pending) >= BATCH:
                    batch, pending = pending, []
                    on_batch(batch)
            top_up()  # noqa: F821 (ruff reads the `del` below as coming first)

    # The limiter decides how many requests are in flight (it adapts to the link; see
    # core/client/limiter.py); workers follow its limit as it grows, rather than 64 tasks queueing
    # at it from the start (each wake-up is work for the loop, the UI's loop in the window).
    workers: list[asyncio.Task[None]] = []

    # First contact with a registry that may ask for a token: one request alone learns the
    # realm and fetches the token, then the rest fan out with it (started together, each of
    # the first 16 was answered 401 and waited for a token of its own asking). Not when this
    # client just read the tag list unchallenged: the manifests need the same scope, and a
    # read alone would cost two round trips (the manifest, then its config) before the rest.
    first_contact = client.auth.challenge is None and not client.listed_openly(repository)

    def top_up() -> None:
        nonlocal first_contact
        if first_contact:
            if not workers:  # the first read, alone
                workers.append(asyncio.create_task(worker()))  # noqa: F821 (as below)
                return
            first_contact = False  # it is back (top_up runs after each read): fan out
        # a few more than the limit: some are always between requests (parsing, the cache),
        # and the limiter only probes upwards while it is kept full
        limit = client.limiter.limit
        want = min(limit + max(2, limit // 4), len(names))
        while len(workers) < want and next_index < len(names):
            workers.append(asyncio.create_task(worker()))  # noqa: F821 (as above)

    top_up()
    if not workers:
        workers.append(asyncio.create_task(worker()))
    try:
        awaited = 0
        while awaited < len(workers):  # workers started meanwhile are awaited in the next turn
            turn = workers[awaited:]
            await asyncio.gather(*turn)
            awaited += len(turn)
    except BaseException:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    finally:
        # `worker` and `top_up` name each other (a reference cycle through their closures):
        # left alone, the whole run — every summary, config and row — outlives this call until
        # a full collection finds it (26,000 objects for 2,000 tags, traversed again at the
        # CLI's exit). Cutting the names frees it by reference counting once the caller is done.
        del worker, top_up
    if on_batch is not None and pending:
        on_batch(pending)
    if client.listings is not None and not (cancel is not None and cancel.is_set()):
        listing.tags = seen
        listing.counts_pulls = run.counts_pulls or client.counts_pulls
        await asyncio.to_thread(client.listings.save, client.registry, repository, listing)
    if client.content is not None:
        await client.content.flush()
    return [r for r in results if r is not None]
