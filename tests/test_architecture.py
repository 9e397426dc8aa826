"""The import direction of STYLE.md: spec ← core ← services ← ui/cli; spec ← server;
settings ← services/ui/cli; util (stdlib only) under all of them."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "regview"

# package → prefixes it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": (
        "PySide6",
        "qasync",
        "humanize",
        "keyring",
        "regview.server",
        "regview.ui",
        "regview.cli",
        "regview.settings",
        "regview.services",
    ),
    "settings": (
        "PySide6",
        "qasync",
        "regview.server",
        "regview.services",
        "regview.ui",
        "regview.cli",
    ),
    "server": (
        "PySide6",
        "qasync",
        "regview.core",
        "regview.settings",
        "regview.services",
        "regview.ui",
        "regview.cli",
        "httpx",
    ),
    "services": (
        "PySide6",
        "qasync",
        "humanize",
        "regview.server",
        "regview.ui",
        "regview.cli",
    ),
    "cli": ("PySide6", "regview.ui"),
}
GUI_ONLY = ("PySide6", "qasync", "humanize")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _files(sub: str) -> list[Path]:
    return sorted((PKG / sub).rglob("*.py"))


@pytest.mark.parametrize("package", ["spec", "util"])
def test_base_packages_use_only_the_standard_library(package: str) -> None:
    """spec (OCI vocabulary) and util (atomic writes, loopback, sizes) sit under every layer."""
    stdlib = set(sys.stdlib_module_names)
    bad = [
        f"{f.relative_to(ROOT)} imports {name}"
        for f in _files(package)
        for name in _imports(f)
        if name.split(".")[0] not in stdlib and not name.startswith(f"regview.{package}")
    ]
    assert _files(package) and bad == []


def test_layers_import_only_downwards() -> None:
    bad = [
        f"{f.relative_to(ROOT)} imports {name}"
        for sub, forbidden in FORBIDDEN.items()
        for f in _files(sub)
        for name in _imports(f)
        if name.startswith(forbidden)
    ]
    assert bad == []


def test_only_ui_imports_gui_libraries() -> None:
    bad = [
        f"{f.relative_to(ROOT)} imports {name}"
        for f in PKG.rglob("*.py")
        # regview/app.py is the wiring that builds the QApplication; ui/ is the rest of the GUI
        if f.relative_to(PKG).parts[0] not in ("ui", "app.py")
        for name in _imports(f)
        if name.startswith(GUI_ONLY)
    ]
    assert bad == []


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in PKG.rglob("__init__.py")}
    assert found - listed == set(), "add these packages to [tool.setuptools] packages"
