#!/usr/bin/env bash
# Builds the Linux one-folder bundle: packaging/dist/regview/ (run it as packaging/dist/regview/regview).
#   bash packaging/build-linux.sh
# Uses the venv in $REGVIEW_VENV (default: .venv of this checkout, created when missing), installs
# regview's dependencies and PyInstaller into it, then runs packaging/regview.spec.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"

venv="${REGVIEW_VENV:-$root/.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
# regview's dependencies (from pyproject.toml) and PyInstaller, installed only when one is missing.
# regview itself need not be installed: the bundle is built from a staged copy of the sources
# (packaging/regview_common.py).
missing=$("$py" - "$root/pyproject.toml" <<'PY'
import re, sys, tomllib
from importlib import metadata
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"] + ["pyinstaller>=6.10,<7"]
for dep in deps:
    name = re.match(r"[A-Za-z0-9._-]+", dep).group(0)
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        print(dep)
PY
)
if [ -n "$missing" ]; then
  echo "installing into $venv: $(echo $missing)"
  "$py" -m pip install -q -e "$root" 'pyinstaller>=6.10,<7'
fi

# PyInstaller's cache of processed binaries is per user (~/.cache/pyinstaller) and `--clean`
# empties it: two checkouts building at once (two CI jobs on one runner) broke each other's build
# ("bincache may be corrupted", SyntaxError reading its index). Each checkout keeps its own.
export PYINSTALLER_CONFIG_DIR="${PYINSTALLER_CONFIG_DIR:-$here/build/pyinstaller-cache}"
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
  --workpath "$here/build" --distpath "$here/dist" "$here/regview.spec"

bundle="$here/dist/regview"
# The desktop-integration script travels with the bundle, so a copied folder can install itself.
install -m 755 "$here/install-desktop.sh" "$bundle/install-desktop.sh"
"$bundle/regview" --version
echo "bundle: $bundle ($(du -sm "$bundle" | cut -f1) MB)"
