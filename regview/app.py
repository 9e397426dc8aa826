"""The desktop app's wiring: arguments, QApplication, qasync loop, excepthook, object graph.

    main(args) -> int        called by `regview gui` with args.local: bool,
                             args.screenshot: str | None, args.url: str | None

`--local` starts the embedded registry with demo data and connects to it; with `--screenshot
FILE` the window opens the first repository that has tags (or the view a `regview://` URL
names), saves a PNG of the window and exits 0 — or, when start-up cannot get there (the
registry cannot be listed, the local registry does not start, no repository has tags), exits 1
at once with one line on stderr saying why.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TYPE_CHECKING, Any

from regview.log import get_logger

if TYPE_CHECKING:  # the app imports Qt and the services lazily, after the QApplication exists
    from regview.services.sessions import Accounts
    from regview.ui.local_mode import LocalMode
    from regview.ui.window.main_window import MainWindow

log = get_logger("app")

# bench/bench_ui.py measures start-up with this: called right after the window is first shown.
_on_shown: Any = None


async def _resume_local(window: MainWindow, accounts: Accounts, local: LocalMode) -> None:
    """Start the local test registry again when its profile was saved: it stops with the app,
    and its profile alone opened the next start on "Registry not reachable — nothing answers
    on 127.0.0.1 port …". It listens on its last port while that is free (links, the recycle
    bin and the last view keep working). A start that fails leaves that banner to say so."""
    from regview.ui.local_mode import LOCAL_PROFILE

    if LOCAL_PROFILE not in (await accounts.load()).profiles:
        return
    window.statusBar().showMessage("Starting the local test registry…")
    try:
        await local.start()
    except Exception as exc:  # the environment (port, data folder), said by the banner later
        log.warning("the local test registry did not start again: %s", exc)
    finally:
        window.statusBar().clearMessage()


def main(args: argparse.Namespace) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from regview.ui import pyside_fixes

    try:
        pyside_fixes.apply()
    except pyside_fixes.BrokenPySide as exc:
        print(f"regview: {exc}", file=sys.stderr)
        return 1
    if getattr(args, "screenshot", None) and not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("regview")
    app.setOrganizationName("regview")
    app.setDesktopFileName("io.github.regview")
    # _run() ends on lastWindowClosed and then cleans up (tasks, sessions, window state); Qt
    # quitting by itself would stop the loop under it ("Event loop stopped before Future
    # completed").
    app.setQuitOnLastWindowClosed(False)
    from regview.ui import gc_guard

    gc_guard.install()  # cyclic garbage is collected on this thread, never on the I/O thread
    try:
        from regview.ui.icon import app_icon  # the packaging engineer's icon, when present

        app.setWindowIcon(app_icon())
    except Exception:  # no icon is no reason not to start
        app.setWindowIcon(QIcon())

    import qasync

    from regview.ui.theme import apply_theme

    apply_theme(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        return int(loop.run_until_complete(_run(app, args)))
    finally:
        loop.close()


async def _run(app: Any, args: argparse.Namespace) -> int:
    from regview.services.async_utils import run_blocking
    from regview.services.sessions import Accounts, CoreBackend, SessionManager
    from regview.settings.profiles import SettingsStore
    from regview.ui.errors import install_excepthook
    from regview.ui.links import LinkError, parse_link
    from regview.ui.local_mode import LocalMode
    from regview.ui.window.main_window import MainWindow

    store = SettingsStore()
    try:
        settings = await run_blocking(store.load)
        ui_state: dict[str, Any] = dict(settings.ui.get("window", {}) or {})
    except Exception as exc:  # a broken settings file must not stop the app from opening
        log.warning("settings not readable: %s", exc)
        ui_state = {}
    screenshot = getattr(args, "screenshot", None)
    if screenshot:
        ui_state = {}  # documentation and bug reports show the defaults, not this machine's
    accounts = Accounts()
    sessions = SessionManager(accounts)
    local = LocalMode(accounts)
    window = MainWindow(accounts, sessions, local, CoreBackend(), ui_state=ui_state)
    install_excepthook(lambda: window)
    # Only macOS delivers regview:// links as FileOpen; elsewhere a second application-wide
    # Python filter would cost ~1 µs on every event for nothing.
    opener = install_link_opener(app, window) if sys.platform == "darwin" else None
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_loop_exception_handler)
    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    link = None
    if getattr(args, "url", None):
        try:
            link = parse_link(args.url)
        except LinkError as exc:
            print(f"regview: {exc}", file=sys.stderr)
            return 2
    if screenshot:
        from regview.ui.screenshot import window_size

        window.resize(*window_size(getattr(args, "screenshot_size", None)))
    window.show()
    if _on_shown is not None:
        _on_shown(window)
    _preload_transport()
    code = 0
    try:
        try:
            if getattr(args, "local", False):
                try:
                    profile = await window.welcome.start_local()  # said on the page
                except Exception as exc:
                    if not screenshot:
                        raise
                    from regview.ui.screenshot import ScreenshotFailed, one_line

                    raise ScreenshotFailed(
                        f"the local test registry did not start ({one_line(exc)})"
                    ) from exc
                await accounts.profiles()
                window.set_pending_link(None)
                await window.start()
                if link is not None:
                    window.open_link(link)
                else:
                    window.open_profile(profile.name)
            else:
                if link is not None:
                    window.set_pending_link(link)
                await _resume_local(window, accounts, local)
                await window.start()
            from regview.ui import gc_guard

            gc_guard.settle()  # modules, classes, the window: frozen for good from here on
            if screenshot:
                from regview.ui.screenshot import capture

                await capture(window, screenshot, link)
            else:
                await closed.wait()
        except Exception as exc:
            if not screenshot:
                raise
            code = _screenshot_failed(exc)
    finally:
        if opener is not None:
            app.removeEventFilter(opener)
        await window.aclose()  # cancel and await every task, then close the sessions
        try:
            if screenshot:
                raise LookupError("screenshot mode leaves the saved window state alone")
            state = window.ui_state()

            def save_state() -> None:
                store.update(lambda s: s.ui.__setitem__("window", state))

            await run_blocking(save_state)
        except LookupError:
            pass
        except Exception as exc:
            log.warning("window state not saved: %s", exc)
        await sessions.close_all()
        await local.stop()
    return code


def install_link_opener(app: Any, window: Any) -> Any:
    """An event filter on `app` that opens a `regview://` link arriving as `QEvent.FileOpen`
    (macOS hands a link clicked while regview runs to the running app that way) through the
    same path as a link on the command line; a bad link is a message in the window's banner.
    Returns the filter (keep a reference; `app.removeEventFilter(it)` to stop)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtGui import QFileOpenEvent

    from regview.ui.errors import Problem
    from regview.ui.links import LinkError, parse_link

    class LinkOpener(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() != QEvent.Type.FileOpen or not isinstance(event, QFileOpenEvent):
                return False
            url = event.url()
            self.open(url.toString() if url.isValid() and url.scheme() else event.file())
            return True

        def open(self, text: str) -> None:
            try:
                link = parse_link(text)
            except LinkError as exc:
                log.warning("link not opened: %s", exc)
                window.banner.show_problem(
                    Problem(
                        "This link cannot be opened",
                        str(exc),
                        "Copy it again with Copy link in regview, or open the view by hand.",
                    )
                )
                return
            window.open_link_when_ready(link)  # start() may not have read the registries yet
            window.raise_()
            window.activateWindow()

    opener = LinkOpener(app)
    app.installEventFilter(opener)
    return opener


def _preload_transport() -> None:
    """Import aiohttp (~60 ms) on a side thread now the window shows, so the first connection
    does not pay for it on the UI thread; an import running there waits for this one."""
    import importlib
    import threading

    def load() -> None:
        try:
            importlib.import_module("regview.core.client.transport_aiohttp")
        except Exception:  # the first real use reports whatever went wrong
            log.debug("preloading the transport failed", exc_info=True)

    threading.Thread(target=load, name="regview-preload", daemon=True).start()


def _screenshot_failed(exc: Exception) -> int:
    """One line on stderr saying why there is no screenshot; the exit code."""
    from regview.ui.errors import describe
    from regview.ui.screenshot import ScreenshotFailed, one_line

    if isinstance(exc, ScreenshotFailed | TimeoutError):
        reason = one_line(exc)
    elif (problem := describe(exc)) is not None:
        reason = f"{problem.title}: {problem.text()}"
    else:  # a bug: the traceback goes to the debug log, not into the user's terminal
        log.debug("screenshot start-up failed", exc_info=exc)
        reason = f"start-up failed ({type(exc).__name__}: {one_line(exc)})"
    print(f"regview: no screenshot: {reason}", file=sys.stderr)
    return 1


def _loop_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    if isinstance(exc, BaseException):
        sys.excepthook(type(exc), exc, exc.__traceback__)
    else:
        log.error("event loop: %s", context.get("message"))
