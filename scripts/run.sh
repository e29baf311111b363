#!/usr/bin/env bash
# Runs the Textback desktop app on Debian/Ubuntu, installing what it needs first. With no phone
# provider configured it opens in demo mode on the built-in simulator.
#   scripts/run.sh            the desktop app (release build, UI embedded)
#   scripts/run.sh --headless the engine in the terminal instead: `textback demo`
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--headless" ]]; then
    exec cargo run --release --quiet -p textback-cli -- demo
fi

scripts/install-deps.sh
npm --prefix ui run --silent build
cargo build --release --quiet -p textback-desktop --features custom-protocol
exec target/release/textback-desktop
