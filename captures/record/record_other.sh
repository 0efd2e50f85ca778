#!/usr/bin/env bash
# Records the bundled captures of other TCP protocols, none of them WebSocket, once,
# from real peers over loopback: wsscope must not take any of them for WebSocket,
# whole or seen from their middle (tests/not_websocket.rs).
#
#   bash captures/record/record_other.sh
#
# Needs (it installs nothing): root or CAP_NET_RAW, tcpdump, openssl, python3 with
# dnspython and dnslib (pip install dnspython dnslib).
# Traffic only goes to 127.0.0.1, ports 18030-18032.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CAP=$(cd "$HERE/.." && pwd)
PY=${PYTHON:-python3}

missing=()
[[ $(id -u) -eq 0 ]] || missing+=("root (capturing on lo needs CAP_NET_RAW)")
command -v tcpdump >/dev/null || missing+=("tcpdump")
command -v openssl >/dev/null || missing+=("openssl")
"$PY" -c 'import dns.query, dnslib' 2>/dev/null || missing+=("Python dnspython and dnslib")
if ((${#missing[@]})); then
  echo "record_other.sh: missing: ${missing[*]}" >&2
  exit 1
fi

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cd "$HERE"

capture() { # capture FILE PORT: starts tcpdump into $WORK/FILE
  tcpdump -i lo -s 0 -B 32768 -U --immediate-mode -Z root -nn -w "$WORK/$1" "tcp port $2" 2>"$WORK/tcpdump.err" &
  CAP_PID=$!
  for _ in $(seq 100); do grep -q "listening on" "$WORK/tcpdump.err" && break; sleep 0.05; done
  sleep 0.3
}
finish() { # finish FILE: stops tcpdump and moves the capture into captures/
  sleep 1.5
  kill -INT "$CAP_PID"; wait "$CAP_PID" || true
  if grep -Eq '^[1-9][0-9]* packets dropped by kernel' "$WORK/tcpdump.err"; then
    echo "record_other.sh: $1 dropped packets" >&2; exit 1
  fi
  mv "$WORK/$1" "$CAP/$1"
  echo "  $1: $(stat -c %s "$CAP/$1") bytes, $(tcpdump -r "$CAP/$1" -nn 2>/dev/null | wc -l) packets"
}
wait_file() { for _ in $(seq 200); do [[ -e $1 ]] && return 0; sleep 0.05; done; echo "no $1" >&2; exit 1; }

echo "versions: $(openssl version), $("$PY" -c 'import dns.version, dnslib; print("dnspython", dns.version.version, "dnslib", dnslib.version)'), $("$PY" --version), $(tcpdump --version 2>&1 | head -1)"

# TLS: openssl s_server -rev (answers each line reversed) and s_client, one TLS 1.3 and
# one TLS 1.2 connection, a few dozen lines each way.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 2 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
capture not-ws-tls.pcap 18030
openssl s_server -accept 127.0.0.1:18030 -cert "$WORK/cert.pem" -key "$WORK/key.pem" \
  -rev -naccept 2 -quiet >"$WORK/s_server.out" 2>&1 &
SRV=$!
sleep 0.5
for version in -tls1_3 -tls1_2; do
  for i in $(seq 30); do echo "line $i of a conversation over TLS, $(printf '%*s' $((i * 7)) '' | tr ' ' x)"; sleep 0.02; done |
    timeout 20 openssl s_client -connect 127.0.0.1:18030 $version -quiet -no_ign_eof >/dev/null 2>&1 || true
done
wait "$SRV" || true
finish not-ws-tls.pcap

# DNS over TCP: dnspython asks, dnslib answers (other_peers.py).
capture not-ws-dns.pcap 18031
timeout 30 "$PY" other_peers.py dns-server 18031 "$WORK/ready.dns" >/dev/null 2>&1 &
SRV=$!
wait_file "$WORK/ready.dns"
timeout 30 "$PY" other_peers.py dns-client 18031 >/dev/null
wait "$SRV" || true
finish not-ws-dns.pcap

# A binary RPC: pickles behind a 4-byte length over multiprocessing.connection.
capture not-ws-rpc.pcap 18032
timeout 30 "$PY" other_peers.py rpc-server 18032 "$WORK/ready.rpc" >/dev/null 2>&1 &
SRV=$!
wait_file "$WORK/ready.rpc"
timeout 30 "$PY" other_peers.py rpc-client 18032 >/dev/null
wait "$SRV" || true
finish not-ws-rpc.pcap
