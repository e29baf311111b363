#!/usr/bin/env bash
# Desktop resource benchmark: Textback (demo mode) against an empty Tauri v2 window built with
# the same tauri (bench/empty-window), measured in the same run, in one Xvfb + D-Bus session.
#
#   bash scripts/bench-desktop.sh
#
# Builds both release binaries (the UI first), then runs empty, Textback, empty, Textback
# (A B A B; BENCH_ROUNDS pairs), each for IDLE_SECS after its window is mapped, and prints a
# table of each run and the medians:
#
#   mapped    process start -> its top-level window (by title) is IsViewable (xwininfo, 50 ms poll)
#   inbox     process start -> Textback's UI has painted its first inbox page (the app logs this
#             once, measured from the OS's process start time; src-tauri/src/startup.rs)
#   settled   process start -> the start of the first 1 s span (5 samples, 250 ms apart) in which
#             the process tree kept the same processes, its PSS moved < 2 MiB and it used < 10 %
#             of one core: the page (Textback: the inbox) has loaded and painted and the web
#             process has stopped growing. Nothing is added to the app to observe this; a root
#             screenshot taken at the end of each run (artifacts/bench-desktop/) shows what the
#             window showed.
#   PSS       sum of `Pss:` in /proc/PID/smaps_rollup over the whole process tree (the app and
#             every descendant, found by walking PPids in /proc/*/stat), at the end of the run;
#             split into app, WebKitWebProcess, WebKitNetworkProcess and anything else. USS (the
#             tree's Private_Clean+Private_Dirty) is shown too. PSS splits shared pages among all
#             processes mapping them, so another WebKit app or Xvfb on the machine (a teammate's
#             e2e run) lowers it: each run waits for those to go away first (and again before
#             reading PSS; BENCH_QUIET_WAIT, default 300 s) and is marked "!" if they did not.
#             Not counted: the session's own daemons (dbus, AT-SPI, the dunst that Textback's
#             alerts D-Bus-activate).
#   idle CPU  utime+stime (+ reaped children's) of the whole tree over the last
#             CPU_SECS = min(20, IDLE_SECS/2) s of the run, as % of one core; split into the app
#             process and its WebKit children. Marked "*" if the tree had not settled 1 s before
#             that window began. Textback's demo scenario keeps running (missed calls, text-backs,
#             replies, alerts), so its "idle" includes that activity, as a front desk's would.
#
# Targets: Textback / empty PSS <= 1.15x; Textback idle CPU <= 1 %. Exit status is 0 either
# way (it is a measurement); a build or launch failure exits non-zero.
#
# Environment:
#   IDLE_SECS=90              seconds each app runs after its window is mapped (CI: e.g. 15);
#                             90 puts the CPU window after the demo's opening minute
#   BENCH_ROUNDS=2            A B pairs
#   BENCH_SKIP_BUILD=1        use the binaries already in target/release
#   BENCH_ENV="K=V ..."       extra environment for BOTH apps (WEBKIT_DISABLE_COMPOSITING_MODE=1)
#   BENCH_TEXTBACK_ENV="K=V"  extra environment for Textback only (to try a product change)
#   BENCH_QUIET_WAIT=300      longest wait for foreign WebKit/Xvfb processes to go away
#   BENCH_ARTIFACTS=DIR       screenshots, app logs, samples, results (default artifacts/bench-desktop)
# Prerequisites: bash scripts/install-deps.sh (xvfb, dbus, x11-utils, imagemagick, WebKitGTK).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
IDLE_SECS="${IDLE_SECS:-90}"
BENCH_ROUNDS="${BENCH_ROUNDS:-2}"
artifacts="${BENCH_ARTIFACTS:-$repo/artifacts/bench-desktop}"
empty_bin="$repo/target/release/textback-empty-window"
textback_bin="$repo/target/release/textback-desktop"

# ---------------------------------------------------------------------------------------------
# Inside xvfb-run + dbus-run-session: run the apps and write one result line per run.
# ---------------------------------------------------------------------------------------------
if [[ "${1:-}" == "--inside-session" ]]; then
    results="$2"
    cpu_secs=$((IDLE_SECS / 2 < 20 ? IDLE_SECS / 2 : 20))
    work="$(mktemp -d)"
    tck="$(getconf CLK_TCK)"
    # This session's X server (it maps Mesa/LLVM too, the same for every run).
    own_xvfb="$(pgrep -f "^Xvfb $DISPLAY( |\$)" | head -n1 || true)"
    app_pid=""
    cleanup() {
        [[ -n "$app_pid" ]] && kill -KILL -- "-$app_pid" 2>/dev/null || true
        rm -rf "$work"
    }
    trap cleanup EXIT

    now_ms() { echo $(($(date +%s%N) / 1000000)); }

    # "pid ppid ticks" for every process (ticks = utime+stime+cutime+cstime).
    proc_table() {
        # NOTE: `|| true`: with pipefail, a process that exits mid-read would fail the pipeline.
        { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '{
            pid = $1; line = $0; sub(/^.*\) /, "", line); n = split(line, f, " ");
            print pid, f[2], f[12] + f[13] + f[14] + f[15] }'
    }
    # The root and all its descendants, one pid per line (root first).
    tree_pids() {
        proc_table | awk -v root="$1" '
            { parent[$1] = $2; seen[$1] = 1 }
            END {
                if (!(root in seen)) exit
                print root; keep[root] = 1; changed = 1
                while (changed) {
                    changed = 0
                    for (p in parent) if (!(p in keep) && (parent[p] in keep)) {
                        keep[p] = 1; print p; changed = 1 }
                }
            }'
    }
    # CPU ticks of the given pids.
    tree_ticks() {
        local pids="$1"
        proc_table | awk -v pids="$pids" '
            BEGIN { n = split(pids, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
            ($1 in want) { t += $3 } END { print t + 0 }'
    }
    # Sum of smaps_rollup fields (kB) of a pid; 0 once the process is gone.
    rollup_kb() {
        local text
        text="$(cat "/proc/$1/smaps_rollup" 2>/dev/null)" || true
        awk -v re="$2" '$1 ~ re { t += $2 } END { print t + 0 }' <<<"$text"
    }
    pss_kb() { rollup_kb "$1" '^Pss:$'; }
    uss_kb() { rollup_kb "$1" '^Private_(Clean|Dirty):$'; }
    # Processes outside this tree and this session's Xvfb that map the system's WebKitGTK or
    # LLVM (Mesa's llvmpipe): a teammate's e2e run, its Xvfb. They share those pages and so
    # lower every PSS measured here.
    foreign_mappers() {
        local mine=" $1 $own_xvfb " n=0 f p
        for f in $(grep -lE 'x86_64-linux-gnu/(libwebkit2gtk|libLLVM)' /proc/[0-9]*/maps 2>/dev/null || true); do
            p="${f#/proc/}"
            p="${p%/maps}"
            [[ "$mine" == *" $p "* ]] || n=$((n + 1))
        done
        echo "$n"
    }
    # Waits (at most BENCH_QUIET_WAIT s) until no foreign process maps those libraries.
    wait_quiet() {
        local until=$(($(now_ms) + ${BENCH_QUIET_WAIT:-300} * 1000))
        while (($(foreign_mappers "$1") > 0 && $(now_ms) < until)); do sleep 1; done
    }
    proc_name() {
        local exe
        exe="$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | head -n1)" || true
        exe="${exe##*/}"
        [[ -n "$exe" ]] || exe="$(cat "/proc/$1/comm" 2>/dev/null || echo '?')"
        echo "$exe"
    }

    # Top-level window with exactly this title that is viewable?
    window_mapped() {
        local title="$1" id
        for id in $(xwininfo -root -tree 2>/dev/null | awk -v t="\"$title\":" 'index($0, t) { print $1 }'); do
            xwininfo -id "$id" 2>/dev/null | grep -q 'Map State: IsViewable' && return 0
        done
        return 1
    }

    run_one() {
        local kind="$1" round="$2" title bin rundir start mapped_at settled_ms="" deadline
        rundir="$work/$kind-$round"
        mkdir -p "$rundir/config" "$rundir/data" "$rundir/cache" "$rundir/textback-data"
        local extra_env=""
        if [[ "$kind" == empty ]]; then
            title="Textback empty window"
            bin="$empty_bin"
        else
            title="Textback"
            bin="$textback_bin"
            extra_env="${BENCH_TEXTBACK_ENV:-}"
        fi
        : >"$artifacts/$kind-$round.samples"
        wait_quiet ""
        start="$(now_ms)"
        # Own process group (setsid) so the whole tree can be ended at once; own XDG dirs so
        # neither app reuses the other's (or a user's) WebKit caches; Textback in demo mode.
        # shellcheck disable=SC2086
        env XDG_CONFIG_HOME="$rundir/config" XDG_DATA_HOME="$rundir/data" \
            XDG_CACHE_HOME="$rundir/cache" \
            TEXTBACK_CONFIG="$rundir/no-such-textback.toml" \
            TEXTBACK_DATA_DIR="$rundir/textback-data" \
            ${BENCH_ENV:-} $extra_env \
            setsid "$bin" >"$artifacts/$kind-$round.log" 2>&1 &
        app_pid=$!

        deadline=$((start + 30000))
        until window_mapped "$title"; do
            if ! kill -0 "$app_pid" 2>/dev/null; then
                echo "bench-desktop: $kind exited before its window appeared; see $artifacts/$kind-$round.log" >&2
                exit 1
            fi
            if (($(now_ms) > deadline)); then
                echo "bench-desktop: $kind: no window titled \"$title\" after 30 s" >&2
                exit 1
            fi
            sleep 0.05
        done
        mapped_at="$(now_ms)"

        local end=$((mapped_at + IDLE_SECS * 1000))
        local cpu_start=$((end - cpu_secs * 1000))
        # Settle detection (reads /proc only: costs the tree no CPU), at most until the end. The
        # CPU window's first snapshot is taken on time even while this is still polling.
        local -a s_t=() s_pids=() s_pss=() s_ticks=()
        local pids pss p ticks i n t0="" c0="" t1 c1 a0="" a1
        while (($(now_ms) + 250 < end)); do
            if [[ -z "$c0" ]] && (($(now_ms) >= cpu_start)); then
                t0="$(now_ms)"
                c0="$(tree_ticks "$(tree_pids "$app_pid" | tr '\n' ' ')")"
                a0="$(tree_ticks "$app_pid")"
            fi
            pids="$(tree_pids "$app_pid" | sort -n | tr '\n' ' ')"
            pss=0
            for p in $pids; do pss=$((pss + $(pss_kb "$p"))); done
            ticks="$(tree_ticks "$pids")"
            s_t+=("$(now_ms)") s_pids+=("$pids") s_pss+=("$pss") s_ticks+=("$ticks")
            echo "$((s_t[-1] - start)) ms: pss ${pss} kB, ticks ${ticks}, pids ${pids}" >>"$artifacts/$kind-$round.samples"
            n=${#s_t[@]}
            if ((n >= 5)); then
                i=$((n - 5))
                local lo=${s_pss[$i]} hi=${s_pss[$i]} same=1 k
                for ((k = i; k < n; k++)); do
                    if ((s_pss[k] < lo)); then lo=${s_pss[$k]}; fi
                    if ((s_pss[k] > hi)); then hi=${s_pss[$k]}; fi
                    [[ "${s_pids[$k]}" == "${s_pids[$i]}" ]] || same=0
                done
                local dticks=$((s_ticks[n - 1] - s_ticks[i]))
                local dms=$((s_t[n - 1] - s_t[i]))
                # < 2 MiB PSS drift and < 10 % of one core over the span:
                # (dticks/tck s) / (dms/1000 s) < 1/10.
                if ((same && hi - lo < 2048 && dticks * 1000 * 10 < dms * tck)); then
                    settled_ms=$((s_t[i] - start))
                    break
                fi
            fi
            sleep 0.25
        done

        # late=1: the tree had not settled before the CPU window began (or never did), so the
        # idle CPU figure includes start-up work.
        local late=0
        if [[ -z "$settled_ms" ]] || ((start + settled_ms + 1000 > cpu_start)); then late=1; fi
        # Idle: CPU over the last cpu_secs, PSS at the end.
        while (($(now_ms) < cpu_start)); do sleep 0.2; done
        if [[ -z "$c0" ]]; then
            t0="$(now_ms)"
            c0="$(tree_ticks "$(tree_pids "$app_pid" | tr '\n' ' ')")"
            a0="$(tree_ticks "$app_pid")"
        fi
        while (($(now_ms) < end)); do sleep 0.2; done
        pids="$(tree_pids "$app_pid" | tr '\n' ' ')"
        t1="$(now_ms)"
        c1="$(tree_ticks "$pids")"
        a1="$(tree_ticks "$app_pid")"
        # % of one core, in hundredths of a percent.
        # (ticks/tck s) / (ms/1000 s) * 100 %, as integer hundredths of a percent.
        local cpu_centi=$(((c1 - c0) * 100 * 100 * 1000 / (tck * (t1 - t0))))
        local app_cpu_centi=$(((a1 - a0) * 100 * 100 * 1000 / (tck * (t1 - t0))))

        # PSS: the same idle state, measured once no foreign process shares the libraries.
        wait_quiet "$pids"
        pids="$(tree_pids "$app_pid" | tr '\n' ' ')"
        local total=0 app=0 web=0 net=0 other=0 nprocs=0 name kb others="" uss=0 foreign
        foreign="$(foreign_mappers "$pids")"
        for p in $pids; do
            kb="$(pss_kb "$p")"
            uss=$((uss + $(uss_kb "$p")))
            name="$(proc_name "$p")"
            nprocs=$((nprocs + 1))
            total=$((total + kb))
            if [[ "$p" == "$app_pid" ]]; then
                app=$((app + kb))
            elif [[ "$name" == WebKitWebProcess ]]; then
                web=$((web + kb))
            elif [[ "$name" == WebKitNetworkProcess ]]; then
                net=$((net + kb))
            else
                other=$((other + kb))
                others+="$name:$((kb / 1024))MiB,"
            fi
        done

        import -window root "$artifacts/$kind-$round.png" 2>/dev/null || true

        kill -TERM -- "-$app_pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 -- "-$app_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$app_pid" 2>/dev/null || true
        wait "$app_pid" 2>/dev/null || true
        # Children outside the group (if any) must be gone before the next run.
        for p in $pids; do
            for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$p" 2>/dev/null || true
        done
        app_pid=""

        # Textback logs once when its UI has painted the first inbox page (src-tauri/src/startup.rs).
        local shown_ms
        shown_ms="$(grep -oE 'inbox on screen [0-9]+ ms' "$artifacts/$kind-$round.log" | grep -oE '[0-9]+' | head -n1 || true)"

        # kind round mapped_ms settled_ms total_kb app_kb web_kb net_kb other_kb nprocs cpu_centi
        # uss_kb foreign late cpu_ms others app_cpu_centi shown_ms
        echo "$kind $round $((mapped_at - start)) ${settled_ms:--1} $total $app $web $net $other $nprocs $cpu_centi $uss $foreign $late $((t1 - t0)) ${others:--} $app_cpu_centi ${shown_ms:--1}" >>"$results"
    }

    for ((r = 1; r <= BENCH_ROUNDS; r++)); do
        run_one empty "$r"
        run_one textback "$r"
    done
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Outside: build, enter the session, print the table.
# ---------------------------------------------------------------------------------------------
for tool in xvfb-run dbus-run-session xwininfo import; do
    command -v "$tool" >/dev/null || {
        echo "bench-desktop: $tool is missing; run bash scripts/install-deps.sh" >&2
        exit 1
    }
done
[[ "$IDLE_SECS" =~ ^[0-9]+$ ]] && ((IDLE_SECS >= 6)) || {
    echo "bench-desktop: IDLE_SECS must be a whole number >= 6 (got '$IDLE_SECS')" >&2
    exit 1
}
mkdir -p "$artifacts"
cd "$repo"

if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
    build_log="$artifacts/build.log"
    echo "bench-desktop: building the UI and both release binaries (log: $build_log)" >&2
    # One cargo invocation: the two apps share one tauri build (identical features), and
    # textback-desktop is built exactly as `cargo build --release -p textback-desktop
    # --features custom-protocol` builds it.
    if ! { npm --prefix ui run build &&
        cargo build --release -p textback-desktop -p textback-empty-window \
            --features textback-desktop/custom-protocol,textback-empty-window/custom-protocol; } \
        >"$build_log" 2>&1; then
        tail -n 40 "$build_log" >&2
        echo "bench-desktop: build failed; full log: $build_log" >&2
        exit 1
    fi
fi
for bin in "$empty_bin" "$textback_bin"; do
    [[ -x "$bin" ]] || { echo "bench-desktop: $bin is missing" >&2; exit 1; }
done

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
export IDLE_SECS BENCH_ROUNDS empty_bin textback_bin
export BENCH_ENV="${BENCH_ENV:-}" BENCH_TEXTBACK_ENV="${BENCH_TEXTBACK_ENV:-}"
session_log="$artifacts/session.log"
# The session's own chatter (dbus-daemon, AT-SPI) goes to session.log; shown on failure.
if ! xvfb-run -a -s "-screen 0 1280x800x24" \
    dbus-run-session -- bash "$0" --inside-session "$results" >"$session_log" 2>&1; then
    grep -v -e '^dbus-daemon' -e 'SpiRegistry' "$session_log" | tail -n 20 >&2
    echo "bench-desktop: the benchmark session failed; full log: $session_log" >&2
    exit 1
fi
cp "$results" "$artifacts/results.txt"

cpu_secs=$((IDLE_SECS / 2 < 20 ? IDLE_SECS / 2 : 20))
awk -v idle="$IDLE_SECS" -v cpu="$cpu_secs" -v rounds="$BENCH_ROUNDS" -v extra="${BENCH_ENV:-}" \
    -v tbextra="${BENCH_TEXTBACK_ENV:-}" '
    function mib(kb) { return sprintf("%.1f", kb / 1024) }
    function median(kind, col,    n, i, j, t, v) {
        n = cnt[kind]
        for (i = 1; i <= n; i++) v[i] = val[kind, i, col]
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    function row(label, m, sh, s, tot, app, web, net, oth, np, uss, cpu) {
        printf "%-17s %6s %6s %7s %9s %7s %7s %7s %6s %5s %7s %8s\n", label, m, sh, s, tot, app, web, net, oth, np, uss, cpu
    }
    function ms(x) { return x < 0 ? "n/a" : sprintf("%d", x) }
    {
        k = $1; cnt[k]++; i = cnt[k]
        for (c = 3; c <= 12; c++) val[k, i, c] = $c
        val[k, i, 17] = $17
        val[k, i, 18] = $18
        mark = ""
        if ($13 > 0) { mark = mark "!"; shared = shared sprintf("  ! %s #%s: %d process(es) outside the tree mapped WebKitGTK at the end; its PSS is understated\n", k, $2, $13) }
        if ($14 > 0) { mark = mark "*"; late = late sprintf("  * %s #%s: not settled 1 s before the CPU window began; idle CPU includes start-up (or settling never happened)\n", k, $2) }
        row(k " #" $2 mark, ms($3), ms($18), ms($4), mib($5), mib($6), mib($7), mib($8), mib($9), $10, mib($12), sprintf("%.2f", $11 / 100))
        if ($16 != "-") others = others sprintf("  %s #%s other processes: %s\n", k, $2, $16)
    }
    BEGIN {
        printf "Desktop benchmark: %d x (empty window, Textback demo), each %d s after its window maps; idle CPU over the last %d s\n", rounds, idle, cpu
        if (extra != "") printf "Extra environment for both apps: %s\n", extra
        if (tbextra != "") printf "Extra environment for Textback only: %s\n", tbextra
        printf "MiB of the whole process tree (PSS; USS = private); times in ms from process start; CPU in %% of one core\n\n"
        row("run", "mapped", "inbox", "settled", "PSS total", "app", "WebProc", "NetProc", "other", "procs", "USS", "idle CPU")
    }
    END {
        for (kk = 1; kk <= 2; kk++) {
            k = (kk == 1) ? "empty" : "textback"
            row(k " median", ms(median(k, 3)), ms(median(k, 18)), ms(median(k, 4)), mib(median(k, 5)), mib(median(k, 6)),
                mib(median(k, 7)), mib(median(k, 8)), mib(median(k, 9)), median(k, 10), mib(median(k, 12)),
                sprintf("%.2f", median(k, 11) / 100))
        }
        printf "%s%s%s", shared, late, others
        ratio = median("textback", 5) / median("empty", 5)
        uratio = median("textback", 12) / median("empty", 12)
        cpu_t = median("textback", 11) / 100
        cpu_a = median("textback", 17) / 100
        printf "\nTextback / empty PSS: %.2fx (target <= 1.15x) %s   [USS: %.2fx]\n", ratio, (ratio <= 1.15 ? "ok" : "MISSED"), uratio
        shown = median("textback", 18)
        printf "Textback start to inbox on screen: %s ms (target <= 1000 ms) %s\n", ms(shown), (shown >= 0 && shown <= 1000 ? "ok" : "MISSED")
        printf "Textback idle CPU:    %.2f %% of one core (target <= 1 %%) %s\n", cpu_t, (cpu_t <= 1 ? "ok" : "MISSED")
        printf "                      (app process %.2f %%, its WebKit children %.2f %%)\n", cpu_a, cpu_t - cpu_a
        printf "Textback extra PSS:   %+.1f MiB (app %+.1f, WebKitWebProcess %+.1f, WebKitNetworkProcess %+.1f)\n",
            (median("textback", 5) - median("empty", 5)) / 1024, (median("textback", 6) - median("empty", 6)) / 1024,
            (median("textback", 7) - median("empty", 7)) / 1024, (median("textback", 8) - median("empty", 8)) / 1024
    }' "$results"
echo "Screenshots and app logs: ${artifacts#"$repo"/}/"
