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
# regview's own dependencies (the bundle is built from a staged copy of the sources, see
# packaging/regview_common.py, so regview itself need not be installed) and PyInstaller.
if ! "$py" -c "import PyInstaller, PySide6, httpx, starlette, uvicorn" 2>/dev/null \
  || [ "$("$py" -c 'import PyInstaller; print(PyInstaller.__version__.split(".")[0])')" != 6 ]; then
  "$py" -m pip install -q -e "$root" 'pyinstaller>=6.10,<7'
fi

"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
  --workpath "$here/build" --distpath "$here/dist" "$here/regview.spec"

bundle="$here/dist/regview"
# The desktop-integration script travels with the bundle, so a copied folder can install itself.
install -m 755 "$here/install-desktop.sh" "$bundle/install-desktop.sh"
"$bundle/regview" --version
echo "bundle: $bundle ($(du -sm "$bundle" | cut -f1) MB)"
