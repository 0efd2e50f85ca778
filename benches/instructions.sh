#!/usr/bin/env bash
# Instructions (valgrind --tool=callgrind, repeatable whatever else the machine does) of
# `wsscope summary --threads 1` and `export --threads 1` on a generated 50 MB capture, for
# each wsscope binary given:
#   bash benches/instructions.sh BIN [BIN ...]
set -euo pipefail
cd "$(dirname "$0")/.."
file=target/same-output/inputs/big-50.pcap
if [ ! -f "$file" ]; then
    cargo build --release --quiet --example gen_capture
    mkdir -p "$(dirname "$file")"
    "${CARGO_TARGET_DIR:-target}/release/examples/gen_capture" "$file" 50 >/dev/null
fi
for bin in "$@"; do
    for cmd in summary export; do
        n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$cmd" --threads 1 "$file" 2>&1 >/dev/null |
            awk '/Collected/ {print $4}')
        printf '%-60s %-8s %15s instructions\n' "$bin" "$cmd" "$n"
    done
done
