"""`--screenshot FILE`: wait until the window shows real content, save it as PNG, and quit.

await capture(window, path, link=None) -> Path
    opens the first repository with tags (or waits for the view `link` names), waits for its
    tags and the current tag's details, lets the window paint, then grabs it. Raises
    `ScreenshotFailed` as soon as start-up cannot get there (the registry cannot be listed, it
    has no repository with tags, a load failed) with the reason in one line, and TimeoutError
    only when a load neither finishes nor fails in time.
wait_for(predicate, limit, what, failed=None), settle(widget), save(widget, path)
window_size(text) -> (width, height)   "1024x700"; None or "" gives the default 1400×860
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from regview.log import get_logger

log = get_logger("ui.screenshot")


DEFAULT_SIZE = (1400, 860)


def window_size(text: str | None) -> tuple[int, int]:
    if not text:
        return DEFAULT_SIZE
    width, sep, height = text.lower().partition("x")
    try:
        size = (int(width), int(height)) if sep else None
    except ValueError:
        size = None
    if size is None or min(size) < 200 or max(size) > 10000:
        raise SystemExit(
            f"regview: --screenshot-size {text!r} is not a size like 1024x700 (200 to 10000 "
            "pixels each way)"
        )
    return size


class ScreenshotFailed(Exception):
    """Start-up ended without the content a screenshot needs; the message says why."""


async def wait_for(
    predicate: Callable[[], bool],
    limit: float,
    what: str,
    failed: Callable[[], str] | None = None,
) -> None:
    """Poll until `predicate()`; `failed()` returning a reason ends the wait at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        reason = failed() if failed is not None else ""
        if reason:
            raise ScreenshotFailed(reason)
        if loop.time() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {limit:.0f} s")
        await asyncio.sleep(0.05)


async def settle(widget: QWidget, seconds: float = 0.3) -> None:
    """Let pending layouts and paints run (offscreen platforms paint lazily). The loop runs Qt's
    events between the sleeps: calling processEvents() from inside this coroutine re-entered
    the event loop, which under load could stop asyncio's timers from firing for good."""
    await asyncio.sleep(seconds)
    widget.update()
    await asyncio.sleep(0.05)


async def grab(widget: QWidget, path: str | Path) -> Path:
    """`save` from a Qt timer rather than from inside a coroutine step: a grab renders the
    window synchronously, and done inside the step it sometimes froze the loop under load."""
    done: asyncio.Future[Path] = asyncio.get_running_loop().create_future()

    def now() -> None:
        if done.cancelled():
            return
        try:
            done.set_result(save(widget, path))
        except Exception as exc:  # reported to the awaiting coroutine
            done.set_exception(exc)

    QTimer.singleShot(0, now)
    return await done


def save(widget: QWidget, path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    pixmap = widget.grab()
    if not pixmap.save(str(target), "PNG"):
        raise OSError(f"could not write the screenshot to {target}")
    log.info("screenshot saved to %s (%dx%d)", target, pixmap.width(), pixmap.height())
    return target


class _Watch:
    """What went wrong in the window so far: failed tasks, the error banner."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.task_errors: list[str] = []
        window.tasks.failed.connect(self._task_failed)

    def _task_failed(self, name: str, exc: BaseException) -> None:
        self.task_errors.append(f"loading {name} failed: {one_line(exc)}")

    def close(self) -> None:
        self.window.tasks.failed.disconnect(self._task_failed)

    def problem(self) -> str:
        """The banner's text, or a task's failure, or ""."""
        banner = self.window.banner
        if banner.isVisibleTo(self.window):
            return plain(banner.label.text())
        return self.task_errors[-1] if self.task_errors else ""

    def unless(self, stalled: Callable[[], bool], otherwise: str) -> Callable[[], str]:
        """A `failed` check: once `stalled()`, the window's problem or `otherwise`."""
        return lambda: (self.problem() or otherwise) if stalled() else ""


def plain(rich: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", rich)).split())


def one_line(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "message", "") or exc).split())
    return text or type(exc).__name__


async def capture(window: Any, path: str | Path, link: Any = None) -> Path:
    from regview.ui.window.main_window import PAGE_OVERVIEW

    watch = _Watch(window)
    try:
        if not window.profile and not window.registries.by_name:
            raise ScreenshotFailed(
                "no registry is configured: add one in the app, or use --local for the "
                "embedded test registry"
            )
        if link is not None and link.view == "overview":
            done: list[str] = []
            window.loaded.connect(done.append)
            await wait_for(
                lambda: "overview" in done,
                120,
                "the storage overview",
                watch.unless(
                    lambda: not window.tasks.running("measure"),
                    "the storage overview did not load",
                ),
            )
            if window.pages.currentIndex() != PAGE_OVERVIEW:
                raise ScreenshotFailed("the link's storage overview did not open")
        else:
            if link is None or not link.repository:
                repo = await _first_repository_with_tags(window, watch)
                window.open_repository(window.profile, repo)
            tags = window.tags_view.model
            await wait_for(
                lambda: tags.rowCount() > 0 and not window.tasks.running("tags"),
                120,
                "the tags of the first repository",
                watch.unless(
                    lambda: not window.tasks.running("tags") and tags.rowCount() == 0,
                    f"{window.repository or 'the repository'} shows no tags",
                ),
            )
            await wait_for(
                lambda: window.details.current is not None and not window.tasks.running("details"),
                30,
                "the details of the current tag",
            )
        await settle(window)
        return await grab(window, path)
    finally:
        watch.close()


async def _first_repository_with_tags(window: Any, watch: _Watch) -> str:
    await wait_for(lambda: not window.tasks.running("repos"), 60, "the repository list")
    model = window.repos_model
    repos = [model.row_at(i) for i in range(model.rowCount())]  # as the table shows them
    if not repos:
        raise ScreenshotFailed(
            watch.problem() or f"{window.profile} lists no repositories (nothing to show)"
        )
    client = await window.controller.client(window.profile)
    for repo in repos:
        if await client.list_tags(repo.path):
            return str(repo.path)
    raise ScreenshotFailed(
        f"{window.profile}: no repository has a tag, nothing to show "
        f"({len(repos)} looked at: {', '.join(r.path for r in repos[:3])}"
        f"{', …' if len(repos) > 3 else ''})"
    )
