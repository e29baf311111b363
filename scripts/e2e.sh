#!/usr/bin/env bash
# Builds the UI and the app, then runs the end-to-end tests (tests/e2e) in a throwaway desktop
# session: Xvfb display, private D-Bus session bus, unlocked gnome-keyring in a temp dir, dunst.
#
#   bash scripts/e2e.sh                  # everything
#   bash scripts/e2e.sh keychain         # extra args go to the test binary (a name filter here)
#
# Environment:
#   TEXTBACK_E2E_UI=placeholder   embed tests/e2e/placeholder-ui instead of building ui/ (also
#                                 the default while ui/ has no index.html yet)
#   TEXTBACK_E2E_ARTIFACTS=DIR    where screenshots and the test log go (default artifacts/e2e)
# Quiet on success: one summary line. On failure the test log is printed.
# Prerequisites: bash scripts/install-deps.sh
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"

if [[ "${1:-}" == "--inside-session" ]]; then
    shift
    # --- Inside xvfb-run + dbus-run-session -----------------------------------------------
    keyring_home="$(mktemp -d)"
    dunst_pid=""
    cleanup() {
        [[ -n "$dunst_pid" ]] && kill "$dunst_pid" 2>/dev/null || true
        rm -rf "$keyring_home"
    }
    trap cleanup EXIT

    # A fresh login keyring, unlocked with a throwaway password, that dies with this bus.
    export XDG_DATA_HOME="$keyring_home"
    eval "export $(printf 'textback-e2e' | gnome-keyring-daemon --unlock --components=secrets)"

    # The notification daemon the alert tests observe through dunstctl.
    dunst >/dev/null 2>&1 &
    dunst_pid=$!
    # NOTE: poll with NameHasOwner, not dunstctl: a dunstctl call before dunst owns the name
    # D-Bus-activates a second dunst.
    notifications_up() {
        dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null |
            grep -q true
    }
    for _ in $(seq 50); do
        notifications_up && break
        sleep 0.1
    done
    notifications_up || { echo "e2e: dunst did not start" >&2; exit 1; }

    export TEXTBACK_E2E_SESSION=1
    timeout 600 cargo test --quiet -p textback-e2e --features custom-protocol --test e2e -- "$@"
    exit
fi

# --- Outside: build, then enter the session ---------------------------------------------------
artifacts="${TEXTBACK_E2E_ARTIFACTS:-$repo/artifacts/e2e}"
mkdir -p "$artifacts"
export TEXTBACK_E2E_ARTIFACTS="$artifacts"
log="$artifacts/e2e.log"
cd "$repo"

run_quiet() { # run_quiet WHAT CMD...: prints CMD's output only if it fails
    local what="$1"
    shift
    if ! "$@" >"$log" 2>&1; then
        echo "e2e: $what failed:" >&2
        cat "$log" >&2
        exit 1
    fi
}

for tool in tauri-driver WebKitWebDriver xvfb-run dbus-run-session gnome-keyring-daemon dunst \
    dunstctl secret-tool import; do
    command -v "$tool" >/dev/null || {
        echo "e2e: $tool is missing; run: bash scripts/install-deps.sh" >&2
        exit 1
    }
done

if [[ "${TEXTBACK_E2E_UI:-}" != "placeholder" && -f ui/index.html ]]; then
    run_quiet "the UI build (npm --prefix ui run build)" npm --prefix ui run build
    unset TAURI_CONFIG
else
    # NOTE: paths in the config are relative to src-tauri/ (docs/desktop.md).
    export TAURI_CONFIG='{"build":{"frontendDist":"../tests/e2e/placeholder-ui"}}'
    echo "e2e: embedding the placeholder page (ui/ not buildable yet or TEXTBACK_E2E_UI=placeholder)"
fi

# The same feature set for the app and the test crate, so tauri is compiled once.
run_quiet "the app build" cargo build --quiet -p textback-desktop --features custom-protocol
run_quiet "the e2e test build" cargo test --quiet -p textback-e2e --features custom-protocol --test e2e --no-run
export TEXTBACK_APP_BIN="$repo/target/debug/textback-desktop"

if xvfb-run -a -s "-screen 0 1280x800x24" \
    dbus-run-session -- bash "$repo/scripts/e2e.sh" --inside-session "$@" >"$log" 2>&1; then
    summary="$(grep -E '^test result:' "$log" | tail -1)"
    echo "e2e: ${summary:-passed} (screenshots and log in $artifacts)"
else
    echo "e2e: tests failed:" >&2
    cat "$log" >&2
    exit 1
fi
