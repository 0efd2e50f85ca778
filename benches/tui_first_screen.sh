#!/usr/bin/env bash
# The terminal UI on a large capture, in a real terminal (tmux): how long until the
# first screen shows connections, and the peak memory once the whole file is loaded.
# usage: bash benches/tui_first_screen.sh FILE [RUNS]   (needs tmux; release build)
set -euo pipefail
file=${1:?usage: tui_first_screen.sh FILE [RUNS]}
runs=${2:-5}
bin=${WSSCOPE:-target/release/wsscope}
[ -x "$bin" ] || cargo build --release
for i in $(seq "$runs"); do
    session=wsscope-bench-$$-$i
    start=$(date +%s.%N)
    tmux new-session -d -s "$session" -x 160 -y 48 "$bin $file"
    shown=""
    for _ in $(seq 2000); do
        if tmux capture-pane -p -t "$session" 2>/dev/null | grep -q "10\.[01]\.0\.[0-9]"; then
            shown=$(date +%s.%N)
            break
        fi
        sleep 0.005
    done
    pid=$(tmux list-panes -t "$session" -F '#{pane_pid}')
    # Wait until the status line no longer shows loading progress (or 120 s).
    for _ in $(seq 1200); do
        tmux capture-pane -p -t "$session" | grep -q "reading " || break
        sleep 0.1
    done
    loaded=$(date +%s.%N)
    peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    tmux send-keys -t "$session" q
    sleep 0.3
    tmux kill-session -t "$session" 2>/dev/null || true
    printf 'run %d: first screen %.3f s, fully loaded %.1f s, peak memory %.0f MB, memory when loaded %.0f MB\n' "$i" \
        "$(echo "$shown - $start" | bc)" "$(echo "$loaded - $start" | bc)" "$(echo "$peak / 1000" | bc)" "$(echo "$rss / 1000" | bc)"
done
