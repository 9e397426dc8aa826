"""The window's right side: the heading, the error banner and the pages, one on show.

PageStack(welcome, [(page, its PageBinding), …])   the bound pages in PAGE_* order
    heading: QLabel ; banner: ErrorBanner ; pages: QStackedWidget ; counts: QLabel
    show_page(page, heading)         a page on screen, under its heading
    current() -> int                 PAGE_WELCOME, PAGE_REPOS, PAGE_TAGS or PAGE_OVERVIEW
    view_binding() -> Binding | None what the page on screen shows (None: welcome, nothing)
    holds(binding) -> bool           still what its page shows, through the same session?
    report(binding, problem)         the banner, only under the registry it is about
    set_counts(text)                 the status bar's counts (`counts`: the window places it)
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from regview.ui.errors import ErrorBanner, Problem
from regview.ui.window.binding import PAGE_OVERVIEW, PAGE_REPOS, PAGE_WELCOME, Binding, PageBinding


class PageStack(QWidget):
    def __init__(self, welcome: QWidget, bound: list[tuple[QWidget, PageBinding]]) -> None:
        super().__init__()
        self._bindings: dict[int, PageBinding] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.setSpacing(6)
        self.heading = QLabel()
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.heading.setFont(font)
        self.banner = ErrorBanner()
        self.pages = QStackedWidget()
        self.pages.addWidget(welcome)
        for page, binding in bound:
            index = self.pages.addWidget(page)
            assert index == binding.page, f"page {index} is bound as {binding.page}"
            self._bindings[binding.page] = binding
        layout.addWidget(self.heading)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.counts = QLabel()

    def show_page(self, page: int, heading: str) -> None:
        self.pages.setCurrentIndex(page)
        self.heading.setText(heading)
        self.heading.setVisible(page != PAGE_WELCOME)
        # The title names what is on show, as the taskbar and the window switcher list it:
        # several windows (or a screenshot) are told apart by it, not by "regview" alone.
        shown = " › ".join(heading.split("  ›  "))
        self.window().setWindowTitle(f"{shown} — regview" if page != PAGE_WELCOME else "regview")

    def current(self) -> int:
        return self.pages.currentIndex()

    def view_binding(self) -> Binding | None:
        binding = self._bindings.get(self.current())
        return binding.current if binding is not None else None

    def report(self, binding: Binding, problem: Problem) -> None:
        """Show `problem` in the banner only while the page on screen is `binding`'s: one
        registry's failure never appears under another's name, nor a failed listing of the
        catalog over a repository's tags (the storage overview is made of the listing: its
        failure shows there too)."""
        shown = self.view_binding()
        if not self.holds(binding) or shown is None or shown.profile != binding.profile:
            return
        if shown.page == binding.page or (binding.page, shown.page) == (PAGE_REPOS, PAGE_OVERVIEW):
            self.banner.show_problem(problem)

    def holds(self, binding: Binding) -> bool:
        """Is `binding` still what its page shows, through the same session?"""
        owner = self._bindings.get(binding.page)
        return owner is not None and owner.holds(binding)

    def set_counts(self, text: str) -> None:
        self.counts.setText(text)
