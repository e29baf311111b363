#!/usr/bin/env bash
# Installs what building and testing the desktop app needs on Debian/Ubuntu (docs/desktop.md):
# system packages, tauri-driver, and the UI's npm packages. Idempotent and quiet: each step runs
# only when something is missing, so a second run takes about a second.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"

# Build: WebKitGTK (brings GTK, soup, JavaScriptCore, libdbus) and the tray's AppIndicator.
# Tests: Xvfb + WebKitWebDriver, a session bus, dunst (notifications), gnome-keyring +
# secret-tool (Secret Service), ImageMagick + x11-utils (screenshots, window inspection).
packages=(
    build-essential pkg-config libwebkit2gtk-4.1-dev libayatana-appindicator3-dev
    xvfb xauth webkit2gtk-driver dbus-x11 dunst gnome-keyring libsecret-tools
    imagemagick x11-utils
)

sudo_if_needed() {
    if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if ((${#missing[@]})); then
    echo "install-deps: apt packages: ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v tauri-driver >/dev/null; then
    echo "install-deps: tauri-driver (cargo install, ~30 s)"
    cargo install tauri-driver --locked --quiet
fi

command -v node >/dev/null && command -v npm >/dev/null || {
    echo "install-deps: node and npm (node 20+) are needed for the UI; install them first" >&2
    exit 1
}

# NOTE: `npm install`, not `npm ci`: the lock file lacks other platforms' optional packages and
# `npm ci` refuses it; `npm install` with the lock file leaves it unchanged (TOOLCHAIN.md).
if [[ -f "$repo/ui/package.json" ]]; then
    stamp="$repo/ui/node_modules/.package-lock.json"
    if [[ ! -f "$stamp" || "$repo/ui/package.json" -nt "$stamp" ||
        ( -f "$repo/ui/package-lock.json" && "$repo/ui/package-lock.json" -nt "$stamp" ) ]]; then
        echo "install-deps: npm install in ui/"
        npm install --prefix "$repo/ui" --no-audit --no-fund --loglevel=error >/dev/null
    fi
fi
