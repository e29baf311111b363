#!/usr/bin/env bash
# Runs every test Textback has, on a fresh Debian/Ubuntu machine: installs what it needs
# first (idempotent, fast when already installed), then formatting, lints and tests.
#   scripts/test.sh            everything
#   TEXTBACK_SKIP_DESKTOP=1    only the GUI-free crates (no GTK/WebKit/Xvfb)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
# rust-toolchain.toml pins the compiler; rustup installs it on first use.
rustup show active-toolchain >/dev/null

if [ "${TEXTBACK_SKIP_DESKTOP:-0}" != 1 ] && [ -x scripts/install-deps.sh ]; then
  step "system packages and tools"
  scripts/install-deps.sh
fi

step "cargo fmt --check"
cargo fmt --all --check

step "no Tauri in the GUI-free crates"
if grep -lE '^\s*tauri([-_a-z]*)?\s*=' crates/*/Cargo.toml; then
  echo "a crate under crates/ depends on tauri: keep the GUI out of the core" >&2
  exit 1
fi

step "clippy (GUI-free crates)"
cargo clippy --all-targets -- -D warnings

step "tests (GUI-free crates)"
cargo test

step "a really full disk (a 2 MiB tmpfs)"
# The store's ENOSPC test needs a file system that really fills up; mounting one needs root.
tiny="$(mktemp -d)"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=2m tmpfs "$tiny" 2>/dev/null; then
  trap 'umount "$tiny" 2>/dev/null; rmdir "$tiny" 2>/dev/null' EXIT
  TEXTBACK_TEST_TINY_FS="$tiny" cargo test -q -p textback-store --test store -- --ignored really
  umount "$tiny" && rmdir "$tiny" && trap - EXIT
else
  rmdir "$tiny"
  echo "skipped: mounting a tmpfs needs root here (run as root to include it)"
fi

step "IPC types for the UI match the Rust types"
# cargo test regenerated ui/src/lib/backend/bindings from the Rust payload types (ts-rs).
if [ -n "$(git status --porcelain -- ui/src/lib/backend/bindings 2>/dev/null)" ]; then
  git status --porcelain -- ui/src/lib/backend/bindings
  echo "the generated TypeScript bindings differ from the committed ones: run cargo test -p textback-app and commit them" >&2
  exit 1
fi

if [ "${TEXTBACK_SKIP_DESKTOP:-0}" != 1 ] && [ -d ui ] && [ -f ui/package.json ]; then
  step "UI: type-check, lint, unit tests, build"
  (cd ui && { [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error; } && npm run --silent check && npm run --silent lint && npm run --silent test && npm run --silent build)
fi

if [ "${TEXTBACK_SKIP_DESKTOP:-0}" != 1 ] && [ -x scripts/e2e.sh ]; then
  step "desktop: clippy, end-to-end tests in a real window"
  cargo clippy -p textback-desktop -p textback-e2e --all-targets -- -D warnings
  scripts/e2e.sh
fi

if [ -f crates/engine/benches/textback_engine.rs ]; then
step "engine bench (short form)"
BENCH_CALLS="${BENCH_CALLS:-60}" BENCH_IDLE_SECS="${BENCH_IDLE_SECS:-5}" \
  cargo bench -p textback-engine --bench textback_engine 2>/dev/null || {
  echo "bench failed" >&2
  exit 1
}
fi

if [ -f crates/app/benches/inbox.rs ]; then
  step "inbox bench (short form)"
  BENCH_QUICK=1 cargo bench -p textback-app --bench inbox 2>/dev/null
fi

echo
echo "all tests passed"
