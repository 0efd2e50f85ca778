#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), JOBS at a time (default 1),
# seeding the corpora from the bundled captures. Needs a nightly toolchain and
# `cargo install cargo-fuzz`. Crashes land in fuzz/artifacts/<target>/.
#   bash fuzz/run.sh [SECONDS] [JOBS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
jobs=${2:-1}
shift $(( $# > 2 ? 2 : $# ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(capture_reader pipeline frame_stream deflate_messages http_handshake reassembler)

for t in "${targets[@]}"; do mkdir -p "corpus/$t"; done
mkdir -p corpus/capture_reader corpus/pipeline corpus/http_handshake corpus/frame_stream
cp ../captures/*.pcap ../captures/*.pcapng corpus/capture_reader/
cp ../captures/*.pcap ../captures/*.pcapng corpus/pipeline/
printf 'GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n\xffHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n\r\n' > corpus/http_handshake/rfc-example
printf '\x02\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58\x01\x03Hel\x80\x02lo\x89\x00' > corpus/frame_stream/rfc-examples

run_one() {
  local t=$1
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
    > "run-$t.log" 2>&1 && echo "$t: ok" || echo "$t: FAILED (see fuzz/run-$t.log)"
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "run-$t.log" | sed "s/^/  $t /" || true
}

cargo +nightly fuzz build -O
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
