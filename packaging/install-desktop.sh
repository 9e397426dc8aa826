#!/usr/bin/env bash
# Adds the regview bundle to the desktop for the current user (no root): application menu entry,
# icon, AppStream metainfo, and regview:// links opening in regview.
#   bash packaging/install-desktop.sh              the bundle next to this script, else packaging/dist/regview
#   bash packaging/install-desktop.sh BUNDLE_DIR   a bundle folder elsewhere (it contains ./regview)
#   bash packaging/install-desktop.sh --remove     undo
# Files go under ${XDG_DATA_HOME:-~/.local/share}: applications/io.github.regview.desktop,
# icons/hicolor/<n>x<n>/apps/regview.png, icons/hicolor/scalable/apps/regview.svg and
# metainfo/io.github.regview.metainfo.xml. `regview install-desktop-entry` does the same for a
# pip/pipx install.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
share="${XDG_DATA_HOME:-$HOME/.local/share}"
case "$share" in /*) ;; *) share="$HOME/.local/share" ;; esac  # a relative XDG_DATA_HOME is invalid
sizes=(16 24 32 48 64 128 256 512)
desktop="$share/applications/io.github.regview.desktop"
metainfo="$share/metainfo/io.github.regview.metainfo.xml"

refresh() {
  if command -v update-desktop-database >/dev/null; then
    update-desktop-database "$share/applications" || echo "note: update-desktop-database failed" >&2
  fi
  if command -v gtk-update-icon-cache >/dev/null && [ -d "$share/icons/hicolor" ]; then
    gtk-update-icon-cache --force --ignore-theme-index "$share/icons/hicolor" >/dev/null 2>&1 || true
  fi
}

if [ "${1:-}" = "--remove" ]; then
  rm -f "$desktop" "$metainfo" "$share/icons/hicolor/scalable/apps/regview.svg"
  for n in "${sizes[@]}"; do rm -f "$share/icons/hicolor/${n}x${n}/apps/regview.png"; done
  refresh
  echo "regview desktop entry removed"
  exit 0
fi

if [ -n "${1:-}" ]; then
  bundle="$1"
elif [ -x "$here/regview" ] && [ -d "$here/_internal" ]; then
  bundle="$here"
else
  bundle="$here/dist/regview"
fi
bundle="$(cd "$bundle" 2>/dev/null && pwd)" || { echo "no such folder: ${1:-$here/dist/regview}" >&2; exit 1; }
exe="$bundle/regview"
res="$bundle/_internal/regview/resources"
if [ ! -x "$exe" ] || [ ! -f "$res/regview.desktop" ]; then
  echo "$bundle is not a regview bundle (no regview executable or resources): build one with" >&2
  echo "  bash packaging/build-linux.sh" >&2
  exit 1
fi

# Exec key quoting (Desktop Entry Specification): double quotes around the path; inside them
# a backslash (doubled again by string unescaping), ", \` and $ take a backslash; % doubles.
q="$exe"
q="${q//\\/\\\\\\\\}"; q="${q//\"/\\\"}"; q="${q//\`/\\\`}"; q="${q//\$/\\\$}"; q="${q//%/%%}"

mkdir -p "$share/applications" "$share/metainfo"
tmp="$desktop.tmp.$$"
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    Exec=*) printf 'Exec="%s" %%u\n' "$q" ;;
    *) printf '%s\n' "$line" ;;
  esac
done <"$res/regview.desktop" >"$tmp"
mv -f "$tmp" "$desktop"
install -m 644 "$res/io.github.regview.metainfo.xml" "$metainfo"
for n in "${sizes[@]}"; do
  install -D -m 644 "$res/icons/regview-$n.png" "$share/icons/hicolor/${n}x${n}/apps/regview.png"
done
install -D -m 644 "$res/icons/regview.svg" "$share/icons/hicolor/scalable/apps/regview.svg"

refresh
if command -v xdg-mime >/dev/null; then
  xdg-mime default io.github.regview.desktop x-scheme-handler/regview || echo "note: xdg-mime failed" >&2
else
  echo "note: xdg-mime is not installed; regview:// links work after the next login on most desktops" >&2
fi
echo "installed $desktop (runs: $exe)"
