#!/usr/bin/env bash
# Installs regview for the current user from this checkout and launches it.
#   bash packaging/install.sh            install (or update) and launch
#   bash packaging/install.sh --no-launch
# Qt needs a few X11/xcb libraries that minimal Debian/Ubuntu systems lack; they are installed
# with apt (through sudo when not root). The app goes into its own virtual environment under
# ~/.local/share/regview/venv and a `regview` link into ~/.local/bin.
set -euo pipefail
cd "$(dirname "$0")/.."

launch=1
[ "${1:-}" = "--no-launch" ] && launch=0

apt_packages=(python3-venv libegl1 libgl1 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0
  libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 fonts-dejavu-core)
if command -v dpkg-query >/dev/null; then
  missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

venv="${REGVIEW_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/regview/venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q .
mkdir -p "$HOME/.local/bin"
ln -sf "$venv/bin/regview" "$HOME/.local/bin/regview"
"$venv/bin/regview" --install-desktop-entry >/dev/null 2>&1 || true
echo "regview installed: $HOME/.local/bin/regview"

if [ $launch = 1 ]; then
  if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    echo "no display found: run 'regview' from a desktop session" >&2
    exit 0
  fi
  # Nothing configured yet: open on the embedded local registry with demo data, so there is
  # something to look at straight away (the welcome view offers the same from the menu entry).
  if "$venv/bin/python" -c 'import sys; from regview.settings.profiles import SettingsStore; sys.exit(0 if SettingsStore().load().profiles else 1)' 2>/dev/null; then
    exec "$venv/bin/regview"
  fi
  exec "$venv/bin/regview" gui --local
fi
