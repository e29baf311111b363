#!/usr/bin/env bash
# Builds the release app and its installers with the Tauri CLI (docs/desktop.md, docs/releasing.md).
#
#   bash scripts/bundle.sh                  # the targets tauri.conf.json lists for this OS
#   bash scripts/bundle.sh --bundles deb    # extra args go to `tauri build`
#
# Signing the updater artifacts needs TAURI_SIGNING_PRIVATE_KEY (the key or a path to it) and
# TAURI_SIGNING_PRIVATE_KEY_PASSWORD; without them pass `--no-sign`.
# Output: target/release/bundle/<format>/.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

# NOTE: the CLI reads the config from the app crate's folder (src-tauri/tauri.conf.json, a
# symlink to the root file) and runs beforeBuildCommand in the frontend folder.
export TAURI_APP_PATH="$repo/src-tauri"
export TAURI_FRONTEND_PATH="$repo/ui"
exec npx --yes @tauri-apps/cli@2 build "$@"
