#!/usr/bin/env bash
# Installs everything the tests need on a Debian/Ubuntu machine, then runs lint, types and the
# whole test suite. The README's test command and CI's .ci/run both call this.
#   REGVIEW_SKIP_APT=1   skip the apt step (packages already there)
#   extra arguments      go to pytest (e.g. -k tags -x)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

apt_packages=(
  python3-venv docker-registry skopeo podman xvfb xauth dbus dbus-x11 gnome-keyring
  libegl1 libgl1 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 fonts-dejavu-core
  desktop-file-utils appstream
)
if [ "${REGVIEW_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    echo "installing apt packages: ${missing[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

venv="${REGVIEW_VENV:-$root/.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e ".[test]"
export PATH="$venv/bin:$PATH"

lint_dirs=(regview tests)
[ -n "$(ls bench/*.py 2>/dev/null)" ] && lint_dirs+=(bench)
echo "== ruff"; ruff check "${lint_dirs[@]}"; ruff format --check "${lint_dirs[@]}"
echo "== mypy"; mypy

# Tools the integration tests need must be present: a missing one fails instead of skipping.
export REGVIEW_REQUIRE_TOOLS=1
export QT_QPA_PLATFORM=offscreen
echo "== pytest"
set +e
dbus-run-session -- python -m pytest "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi
exit $rc
