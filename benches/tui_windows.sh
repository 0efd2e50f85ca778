#!/usr/bin/env bash
# The terminal UI on one long connection, in a real terminal (tmux): once the file is read,
# how long G takes to show the window at the connection's end and g the one at its start,
# and the memory once read and at its peak.
#   bash benches/tui_windows.sh FILE [RUNS]   (FILE: gen_capture FILE 300 7 long; needs tmux)
# WSSCOPE=PATH measures that binary instead of target/release/wsscope.
set -euo pipefail
file=${1:?usage: tui_windows.sh FILE [RUNS]}
runs=${2:-3}
bin=${WSSCOPE:-target/release/wsscope}
[ -x "$bin" ] || cargo build --release
last=$("$bin" summary "$file" | awk '/^websocket:/ {print $4}')
pane=$(mktemp)
trap 'rm -f "$pane"' EXIT
for i in $(seq "$runs"); do
    session=wsscope-windows-$$-$i
    tmux new-session -d -s "$session" -x 160 -y 48 "$bin $file"
    pid=$(tmux list-panes -t "$session" -F '#{pane_pid}')
    for _ in $(seq 600); do
        tmux capture-pane -p -t "$session" | tail -1 | grep -q "packets ·" && break
        sleep 0.1
    done
    sleep 1
    loaded=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    start=$(date +%s.%N)
    tmux send-keys -t "$session" G
    # The window ends with the last frame and the selection is on the list's last row.
    for _ in $(seq 3000); do
        tmux capture-pane -p -t "$session" > "$pane"
        grep -q "–$last in memory" "$pane" && tail -1 "$pane" | grep -qE "frame ([0-9]+)/\1 " && break
        sleep 0.02
    done
    end_g=$(date +%s.%N)
    tmux send-keys -t "$session" g
    for _ in $(seq 3000); do
        tmux capture-pane -p -t "$session" > "$pane"
        grep -q "($last, 1–" "$pane" && tail -1 "$pane" | grep -q "frame 1/" && break
        sleep 0.02
    done
    end=$(date +%s.%N)
    peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    tmux send-keys -t "$session" q
    sleep 0.3
    tmux kill-session -t "$session" 2>/dev/null || true
    printf 'run %d: G %.2f s, g %.2f s, memory once read %d MB, peak %d MB\n' "$i" \
        "$(echo "$end_g - $start" | bc)" "$(echo "$end - $end_g" | bc)" $((loaded / 1000)) $((peak / 1000))
done
