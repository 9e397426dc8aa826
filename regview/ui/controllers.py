"""Controllers: fetch through a registry session's client and feed the models (habit 8).

    BrowseController(sessions)
        await list_repositories(profile) -> (list[RepositoryInfo], listable: bool)
        await load_tags(profile, repository, view) -> list[TagInfo]
            shows the cached table at once (if this repository was read before), then
            revalidates: rows are replaced/added batch by batch with progress done/total;
            `cancel_load()` (the view's Cancel) stops it keeping what arrived
        await load_details(profile, tag) -> TagDetails
        await measure(profile, repositories, on_repo) -> None
            tag count and size per repository, for the storage overview
        await untagged(profile, repositories, on_figure) -> None
            what untagged artifacts hold per measured repository, where the registry lists them
        cached_tags(profile, repository) -> list[TagInfo] | None

Everything here runs on the Qt thread inside tasks owned by the window (`Tasks`). The profile's
one client lives on the I/O loop (`services.sessions`, `services.io_loop`): tag listings run
there whole (`regview.ui.loader`: HTTP, JSON parsing, TagInfo building and the disk cache stay off
the UI thread, which only appends finished rows in paced batches); everything else awaits the
session's client from here, each request hopping to the I/O loop, callbacks staying here.

What a tag load feeds is `TagsSink` (the `TagsView` is one); `client()` is the typed
`RegistryClient`. `await aclose()` is kept for the window's shutdown (the sessions own the
clients and close them).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from regview.core import errors as E
from regview.core.access import catalog_known_refused
from regview.core.model import RepositoryInfo, TagInfo
from regview.core.referrers import find_referrers
from regview.core.registry_knowledge import default_store
from regview.core.untagged import Untagged, untagged_usage
from regview.log import get_logger
from regview.services.async_utils import run_blocking
from regview.services.sessions import RegistrySession, SessionManager
from regview.spec.manifest import ImageConfig, ImageIndex, ImageManifest, Platform
from regview.ui.loader import BackgroundLoader, LoadCancel
from regview.ui.pages.details import LayerRow, TagDetails

if TYPE_CHECKING:
    from regview.core.client.client import RegistryClient

log = get_logger("ui.controllers")


class TagsRows(Protocol):
    """What a tag load reads back from the sink's model."""

    @property
    def repository(self) -> str: ...
    @property
    def rows(self) -> list[TagInfo]: ...


class TagsSink(Protocol):
    """What `BrowseController.load_tags` feeds (`regview.ui.pages.tags_view.TagsView` is one)."""

    registry_host: str

    @property
    def model(self) -> TagsRows: ...
    def set_tags(self, repository: str, tags: Iterable[TagInfo]) -> None: ...
    def append_tags(self, tags: list[TagInfo]) -> None: ...
    def show_progress(self, done: int, total: int) -> None: ...
    def finish_progress(self) -> None: ...
    def finish_loading(self) -> None: ...
    def selected_tags(self) -> list[TagInfo]: ...
    def select_tags(self, names: Iterable[str], current: str | None = None) -> None: ...


PREFERRED_PLATFORMS = ("linux/amd64", "linux/arm64", "linux/arm64/v8")


def repository_size(tags: Sequence[TagInfo]) -> int:
    """Bytes the repository's tags keep alive: the union of their blobs (else summed sizes)."""
    blobs: dict[str, int] = {}
    fallback = 0
    for t in tags:
        if t.blobs:
            for digest, size in t.blobs:
                blobs[digest] = size
        else:
            fallback += t.size or 0
    return sum(blobs.values()) + fallback


class BrowseController:
    def __init__(self, sessions: SessionManager) -> None:
        self.sessions = sessions
        self._tags: dict[tuple[str, str], list[TagInfo]] = {}
        self._cancel = LoadCancel()
        self._generation = 0
        self.loader = BackgroundLoader()
        self.link_note = ""  # after a tag load: throttling / pull allowance, for the status bar
        #: per session (connection): why its catalog is not asked again
        self._catalog_refused: weakref.WeakKeyDictionary[RegistrySession, str] = (
            weakref.WeakKeyDictionary()
        )

    async def aclose(self) -> None:
        """Nothing of its own to close: the clients are the sessions' (closed with them)."""

    async def client(self, profile: str) -> RegistryClient:
        """The profile's one client (its requests run on the I/O loop)."""
        session = await self.sessions.open(profile)
        return session.client

    def cached_tags(self, profile: str, repository: str) -> list[TagInfo] | None:
        return self._tags.get((profile, repository))

    def forget_profile(self, profile: str) -> None:
        """Everything read from `profile` goes (it was removed, or its address or credential
        changed): nothing it listed may be shown under a new session."""
        for key in [k for k in self._tags if k[0] == profile]:
            del self._tags[key]

    def forget_tags(
        self, profile: str, repository: str, names: Sequence[str]
    ) -> list[TagInfo] | None:
        """Deleted tags leave the cache; returns what remains (None: never read)."""
        cached = self._tags.get((profile, repository))
        if cached is None:
            return None
        gone = set(names)
        self._tags[(profile, repository)] = kept = [t for t in cached if t.tag not in gone]
        return kept

    def add_tags(
        self, profile: str, repository: str, tags: Sequence[TagInfo]
    ) -> list[TagInfo] | None:
        """Restored tags join the cache (replacing same-named rows); None: never read."""
        cached = self._tags.get((profile, repository))
        if cached is None:
            return None
        new = {t.tag for t in tags}
        self._tags[(profile, repository)] = merged = [t for t in cached if t.tag not in new] + list(
            tags
        )
        return merged

    def all_cached_tags(self, profile: str) -> list[TagInfo]:
        return [t for (p, _r), tags in self._tags.items() if p == profile for t in tags]

    async def list_repositories(self, profile: str) -> tuple[list[RepositoryInfo], bool]:
        session = await self.sessions.open(profile)
        manual = list(session.profile.repositories)
        paths: list[str] = []
        listable = True
        # The catalog at most once per connection, never where it is refused anyway (issue 18)
        why = self._catalog_refused.get(session) or catalog_known_refused(
            session.profile.kind, session.credentials
        )
        try:
            if why:
                registry = session.client.registry
                raise E.CatalogRefused(f"{registry}: {why}", registry=registry)
            async for page in session.client.iter_repositories():
                paths.extend(page)
        except E.CatalogRefused as exc:
            self._catalog_refused[session] = why or exc.message.split(": ", 1)[-1]
            if not manual:
                raise
            listable = False
        known = set(paths)
        paths.extend(p for p in manual if p not in known)
        repos = []
        for path in paths:
            tags = self._tags.get((profile, path))
            if tags is not None:
                repos.append(_measured(path, tags))
            else:
                repos.append(RepositoryInfo(path))
        return repos, listable

    def cancel_load(self) -> None:
        self._cancel.set()

    async def load_tags(self, profile: str, repository: str, view: TagsSink) -> list[TagInfo]:
        session = await self.sessions.open(profile)
        key = (profile, repository)
        cached = self._tags.get(key)
        view.registry_host = session.client.registry
        if view.model.repository != repository or not view.model.rows:
            view.set_tags(repository, cached or [])
        self._generation += 1
        generation = self._generation
        self._cancel = cancel = LoadCancel()
        done = total = 0
        view.show_progress(0, 0)

        def on_total(n: int) -> None:
            nonlocal total
            if generation == self._generation:
                total = n
                view.show_progress(done, total)

        def on_rows(rows: list[TagInfo]) -> None:
            nonlocal done
            if generation != self._generation:
                return  # a newer load owns the view
            done += len(rows)
            view.append_tags(rows)
            view.show_progress(done, total)

        try:
            names, tags = await self.loader.load(
                session.io,
                session.io_client,
                repository,
                on_rows,
                on_total=on_total,
                cancel=cancel,
            )
        finally:
            if generation == self._generation:
                view.finish_progress()
        if not cancel.is_set():
            self._tags[key] = tags

        def owns_view() -> bool:  # not when a newer load, or another repository, has it
            return generation == self._generation and view.model.repository == repository

        if not owns_view():
            return tags  # this one's rows are not shown
        current = set(names)
        if cached is not None and any(t.tag not in current for t in view.model.rows):
            # Tags deleted since the cached listing: drop them, keep the selection by name.
            keep = [t.tag for t in view.selected_tags()]
            view.set_tags(repository, [t for t in view.model.rows if t.tag in current])
            view.select_tags(keep)
        if not cancel.is_set():
            # A revalidation brings rows equal to the ones shown, and the table keeps its own
            # objects for those (`models.table_model`: a row is replaced only when it differs).
            # Cached, the load's own equal copies doubled the rows in memory: after reopening
            # 10,000 tags, 30,000 more objects for every full collection to traverse.
            shown = {t.tag: t for t in view.model.rows}
            tags = [shown.get(t.tag, t) for t in tags]
            self._tags[key] = tags
        # All rows are in: give the event loop a turn (a key press, a repaint) between this
        # bookkeeping and what finishing sets off — the re-sort, the details pane, the Frees
        # column, a repaint: together 45–52 ms of the UI thread at the end of a 10,000-tag load.
        await asyncio.sleep(0)
        if not owns_view():
            return tags  # taken meanwhile: the newer load finishes it
        view.finish_loading()
        # plain attribute reads of the I/O loop's limiter (as the status bar has always read it)
        client = session.io_client
        self.link_note = client.limiter.status_words(client.registry)
        return tags

    async def load_details(self, profile: str, tag: TagInfo) -> TagDetails:
        client = await self.client(profile)
        repo = tag.repository
        ref = tag.digest or tag.tag
        top = await client.get_manifest(repo, ref)
        notes: list[str] = []
        manifest = top.manifest
        platform_shown = ""
        if isinstance(manifest, ImageIndex):
            children = [d for d in manifest.manifests if d.platform is not None]
            chosen = None
            for want in PREFERRED_PLATFORMS:
                chosen = next((d for d in children if _label(d.platform) == want), None)
                if chosen:
                    break
            chosen = chosen or (children[0] if children else None)
            if chosen is not None:
                platform_shown = _label(chosen.platform)
                child = await client.get_manifest(repo, str(chosen.digest))
                manifest = child.manifest
        if top.problem:
            notes.append(top.problem)
        layers: tuple[LayerRow, ...] = ()
        config: ImageConfig | None = None
        if isinstance(manifest, ImageManifest):
            layers = tuple(LayerRow(str(d.digest), d.media_type, d.size) for d in manifest.layers)
            try:
                config = await client.get_config(repo, manifest.config)
            except (E.NotFound, E.ProtocolError) as exc:
                notes.append(f"Config not readable: {exc}")
        # the sha256-<hex> fallback is known from the listing; the API asked once per registry
        listed = {t.tag: t.digest for t in self._tags.get((profile, repo), ()) if t.digest}
        try:
            if listed:
                found = await find_referrers(client, repo, [top.digest], listed, default_store())
                referrers = found.get(top.digest, ())
            else:  # no listing to look the fallback tag up in: ask
                referrers = tuple(await client.referrers(repo, top.digest))
        except (E.NotFound, E.Unsupported, E.ProtocolError):
            referrers = ()
        return TagDetails(
            tag=tag.tag,
            manifest_json=top.data,
            layers=layers,
            config=config,
            referrers=referrers,
            platform_shown=platform_shown,
            notes=tuple(notes),
        )

    async def measure(
        self,
        profile: str,
        repositories: Sequence[str],
        on_repo: Callable[[RepositoryInfo, list[TagInfo]], None],
        wait: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`wait()` is awaited before each repository that has to be read (a background
        measurement gives way to what the user opened)."""
        session = await self.sessions.open(profile)
        for path in repositories:
            tags = self._tags.get((profile, path))
            if tags is None and wait is not None:
                await wait()
                tags = self._tags.get((profile, path))  # read meanwhile by the tags table
            if tags is None:
                try:
                    _names, tags = await self.loader.load(
                        session.io,
                        session.io_client,
                        path,
                        lambda _rows: None,
                    )
                except (E.NotFound, E.AccessDenied) as exc:
                    log.info("cannot measure %s: %s", path, exc)
                    continue
                self._tags[(profile, path)] = tags
            # sizes are a union of blobs over every tag: not on the UI thread for 10k tags
            on_repo(await run_blocking(_measured, path, tags), tags)

    async def untagged(
        self, profile: str, repositories: Sequence[str], on_figure: Callable[[str, Untagged], None]
    ) -> None:
        """What untagged artifacts hold in each repository measured, where the registry lists
        them (Harbor); nothing when it does not (asked once, of the first repository)."""
        session = await self.sessions.open(profile)
        for path in repositories:
            tags = self._tags.get((profile, path))
            if tags is None:
                continue  # not measured: nothing to tell its own blobs from the tags'
            figure = await untagged_usage(session.client, path, tags)
            if figure is None:
                return
            on_figure(path, figure)


def _measured(path: str, tags: Sequence[TagInfo]) -> RepositoryInfo:
    created = [t.created for t in tags if t.created is not None]
    return RepositoryInfo(
        path,
        tag_count=len(tags),
        size=repository_size(tags),
        created=min(created) if created else None,
    )


def _label(platform: Platform | None) -> str:
    if platform is None:
        return ""
    text = f"{platform.os}/{platform.architecture}"
    return f"{text}/{platform.variant}" if platform.variant else text
