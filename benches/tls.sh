#!/usr/bin/env bash
# wss:// decryption figures (issue 17's speed target):
#   bash benches/tls.sh [SIZE_MB] [RUNS]
# makes target/bench-tls-SIZE.pcap and its key log with examples/gen_capture (GEN_TLS,
# deterministic) if missing, then prints the median of RUNS runs of `wsscope summary
# --keylog` with one and two decode threads, and on one core; beside it the same
# capture's plain (ws://) figures from benches/scale.sh, and tshark decrypting the
# first 100 MB when tshark is installed.
set -euo pipefail
size=${1:-1000}
runs=${2:-3}
cd "$(dirname "$0")/.."
cargo build --release --quiet --example gen_capture
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release
file=target/bench-tls-$size.pcap
keys=target/bench-tls-$size.keys
mkdir -p target
[ -f "$file" ] && [ -f "$keys" ] || GEN_TLS="$keys" "$bin/examples/gen_capture" "$file" "$size"
cat "$file" > /dev/null
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
row() {
    local name=$1; shift
    local t=() m=()
    for _ in $(seq "$runs"); do
        read -r secs kb < <(/usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1)
        t+=("$secs"); m+=("$kb")
    done
    local st sm
    st=$(printf '%s\n' "${t[@]}" | median)
    sm=$(printf '%s\n' "${m[@]}" | median)
    printf '%-40s median %6.3f s  %8.1f MB/s  peak %7.1f MB   (runs: %s)\n' "$name" "$st" \
        "$(echo "$(stat -L -c %s "$file") / 1000000 / $st" | bc -l)" "$(echo "$sm / 1000" | bc -l)" "${t[*]}"
}
echo "file: $file, $(stat -L -c %s "$file") bytes, $(nproc) cores"
row "wsscope summary --keylog --threads 1" "$bin/wsscope" summary --threads 1 --keylog "$keys" "$file"
row "wsscope summary --keylog --threads 2" "$bin/wsscope" summary --threads 2 --keylog "$keys" "$file"
row "summary --keylog on one core (taskset)" taskset -c 0 "$bin/wsscope" summary --keylog "$keys" "$file"
if command -v tshark >/dev/null; then
    head -c 100000000 "$file" > target/bench-tls-100-head.pcap
    /usr/bin/time -f "tshark -Y websocket, first 100 MB: %e s, peak %M KB" \
        tshark -r target/bench-tls-100-head.pcap -o "tls.keylog_file:$keys" -Y websocket >/dev/null
fi
