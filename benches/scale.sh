#!/usr/bin/env bash
# Whole-pipeline figures on a large generated capture (issue 6's targets):
#   bash benches/scale.sh [SIZE_MB] [RUNS]
# makes target/bench-SIZE.pcap with examples/gen_capture (deterministic) if missing, then
# prints the median of RUNS runs of: the bare record walk (the floor), `wsscope summary`,
# `frames` and `export` (with the default decode threads, then with --threads 1 or 2),
# and `tshark -r FILE -Y websocket` when tshark is installed. WSSCOPE=PATH measures that
# wsscope binary instead of the one built here (to compare two revisions).
set -euo pipefail
size=${1:-1000}
runs=${2:-5}
cd "$(dirname "$0")/.."
cargo build --release --quiet --example gen_capture --example walk
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release # the binaries just built, wherever cargo put them
ws=${WSSCOPE:-$bin/wsscope}
file=target/bench-$size.pcap
mkdir -p target
[ -f "$file" ] || "$bin/examples/gen_capture" "$file" "$size"
cat "$file" > /dev/null # page-cache it

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { # prints "seconds peak_kB" of a command, output discarded
    /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1
}
row() { # name, then the command
    local name=$1; shift
    local t=() m=()
    for _ in $(seq "$runs"); do
        read -r secs kb < <(timed "$@")
        t+=("$secs"); m+=("$kb")
    done
    local st sm
    st=$(printf '%s\n' "${t[@]}" | median)
    sm=$(printf '%s\n' "${m[@]}" | median)
    printf '%-34s median %6.3f s  %8.1f MB/s  peak %7.1f MB   (runs: %s)\n' "$name" "$st" \
        "$(echo "$(stat -L -c %s "$file") / 1000000 / $st" | bc -l)" "$(echo "$sm / 1000" | bc -l)" "${t[*]}"
}
echo "file: $file, $(stat -L -c %s "$file") bytes, $(nproc) cores"
row "bare record walk (examples/walk)" "$bin/examples/walk" "$file"
row "wsscope summary" "$ws" summary "$file"
row "wsscope frames" "$ws" frames "$file"
row "wsscope export" "$ws" export "$file"
# The defaults share flows among decode threads (one per core, one fewer for summary):
# the same commands on one decode thread, and the summary on two, for comparison.
row "wsscope summary --threads 1" "$ws" summary --threads 1 "$file"
row "wsscope summary --threads 2" "$ws" summary --threads 2 "$file"
# The "one core" target: reader and decoder pinned to the same core.
if command -v taskset > /dev/null; then
    row "summary on one core (taskset -c 0)" taskset -c 0 "$ws" summary "$file"
fi
row "wsscope frames --threads 1" "$ws" frames --threads 1 "$file"
row "wsscope export --threads 1" "$ws" export --threads 1 "$file"
if command -v tshark > /dev/null; then
    row "tshark -r FILE -Y websocket" tshark -r "$file" -Y websocket
fi
