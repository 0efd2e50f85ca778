#!/usr/bin/env bash
# Records wsscope's bundled example captures, once, from real peers over
# loopback, and writes one expected-JSON per capture from the peers' own logs.
#
#   bash captures/record/record.sh            # record everything
#   bash captures/record/record.sh demo ipv6  # record only these captures
#   bash captures/record/record.sh --list     # list the capture names
#
# Needs (it installs nothing; it says what is missing): root or CAP_NET_RAW,
# tcpdump, dumpcap (Debian package tshark or wireshark-common), python3 with
# websockets (requirements.txt), node with ws installed here (npm install; the
# mqtt and stomp captures also need aedes, mqtt, @stomp/stompjs and
# stomp-broker-js from the same package.json).
# Traffic only goes to 127.0.0.1 and ::1, ports 18000-18035.
# The wss captures also need openssl (a throwaway certificate is made for them) and
# write their TLS key log beside the capture (NAME.keys).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CAP=$(cd "$HERE/.." && pwd)
EXP="$CAP/expected"
PY=${PYTHON:-python3}
NODE=${NODE:-node}

ALL=(demo echo-sizes echo-sizes-ns ping-pong close-codes deflate-takeover
     deflate-no-takeover fragmented subprotocol multi-conn ipv6 any-sll2 any-sll2-ng any-sll
     refused-403 refused-426 refused-400-version midstream wrong-accept
     keepalive-then-upgrade violations-masking violations-framing
     violations-fragments violations-utf8-close violations-deflate
     violations-handshake mqtt stomp snaplen-128 snaplen-128-node
     wss-tls13-aes256 wss-tls13-aes128 wss-tls13-chacha wss-tls12-gcm wss-tls12-chacha
     wss-deflate wss-dsb)

if [[ "${1:-}" == "--list" ]]; then printf '%s\n' "${ALL[@]}"; exit 0; fi

# ---------------------------------------------------------------- prerequisites
missing=()
[[ $(id -u) -eq 0 ]] || missing+=("root (capturing on lo needs CAP_NET_RAW; run with sudo)")
command -v tcpdump >/dev/null || missing+=("tcpdump (apt-get install tcpdump)")
command -v dumpcap >/dev/null || missing+=("dumpcap (apt-get install tshark, or wireshark-common)")
command -v "$PY" >/dev/null || missing+=("python3")
if command -v "$PY" >/dev/null && ! "$PY" -c 'import websockets.asyncio.client' 2>/dev/null; then
  missing+=("Python websockets >= 13 (pip install -r $HERE/requirements.txt)")
fi
command -v "$NODE" >/dev/null || missing+=("node (Node.js >= 18)")
[[ -f "$HERE/node_modules/ws/package.json" ]] || missing+=("Node ws in $HERE/node_modules (cd $HERE && npm install)")
if ((${#missing[@]})); then
  echo "record.sh: missing prerequisites:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi

WANT=("$@")
[[ ${#WANT[@]} -gt 0 ]] || WANT=("${ALL[@]}")
for w in "${WANT[@]}"; do
  [[ " ${ALL[*]} " == *" $w "* ]] || { echo "record.sh: unknown capture '$w' (see --list)" >&2; exit 1; }
done
# the subprotocol captures need more Node packages (all in package.json)
for w in "${WANT[@]}"; do
  case $w in
    mqtt) mods=(aedes mqtt) ;;
    stomp) mods=(@stomp/stompjs stomp-broker-js) ;;
    *) mods=() ;;
  esac
  for m in ${mods[@]+"${mods[@]}"}; do
    [[ -f "$HERE/node_modules/$m/package.json" ]] || missing+=("Node $m in $HERE/node_modules for '$w' (cd $HERE && npm install)")
  done
done
if ((${#missing[@]})); then
  echo "record.sh: missing prerequisites:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi

WORK=$(mktemp -d /tmp/wsscope-record.XXXXXX)
CAP_PID=""
SRV_PID=""
stop_leftovers() { # stop this script's own capture/server if a scenario failed half-way
  [[ -n "$CAP_PID" ]] && kill -INT "$CAP_PID" 2>/dev/null || true
  [[ -n "$SRV_PID" ]] && kill "$SRV_PID" 2>/dev/null || true
  CAP_PID="" SRV_PID=""
}
trap 'stop_leftovers; rm -rf "$WORK"' EXIT
mkdir -p "$EXP"
cd "$HERE"

echo "versions: $("$PY" -c 'import websockets; print("websockets", websockets.__version__)'), ws $("$NODE" -p 'require("./node_modules/ws/package.json").version'), node $("$NODE" --version), $(tcpdump --version 2>&1 | head -1), $(dumpcap --version 2>&1 | head -1)"
echo "          $("$NODE" -p 'const v = (m) => { try { return m + " " + require("./node_modules/" + m + "/package.json").version } catch (e) { return m + " (not installed)" } }; ["aedes", "mqtt", "@stomp/stompjs", "stomp-broker-js", "stomp-broker-js/node_modules/ws"].map(v).join(", ")')"

# ---------------------------------------------------------------- helpers
# wait_for FILE_OR_PATTERN...: bounded polling
wait_file() { # wait_file PATH SECONDS
  local i
  for ((i = 0; i < $2 * 20; i++)); do [[ -e "$1" ]] && return 0; sleep 0.05; done
  echo "record.sh: $1 did not appear" >&2; return 1
}
wait_text() { # wait_text FILE TEXT SECONDS
  local i
  for ((i = 0; i < $3 * 20; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "record.sh: '$2' never showed up in $1:" >&2; cat "$1" >&2; return 1
}
wait_pid() { # wait_pid PID SECONDS: wait for a child that ends by itself
  local i
  for ((i = 0; i < $2 * 20; i++)); do kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }; sleep 0.05; done
  echo "record.sh: pid $1 still running after $2 s; stopping it" >&2
  kill "$1" 2>/dev/null || true; wait "$1" || true; return 1
}

# start_capture TOOL IFACE OUTFILE PORT [extra tool args...]
start_capture() {
  # the capture goes to $WORK first; finish() moves it into captures/ once all is well
  local tool=$1 iface=$2 out="$WORK/$(basename "$3")" port=$4
  shift 4
  rm -f "$out"
  : >"$WORK/capture.err"
  if [[ $tool == tcpdump ]]; then
    # -U + --immediate-mode: every packet is written as soon as it is seen;
    # -Z root: keep root so the file is written as the invoking user.
    tcpdump -i "$iface" -s 0 -B 32768 -U --immediate-mode -Z root -nn -w "$out" "$@" "tcp port $port" \
      2>"$WORK/capture.err" &
    CAP_PID=$!
    wait_text "$WORK/capture.err" "listening on" 10
  else
    dumpcap -i "$iface" -s 0 -B 32 -f "tcp port $port" -w "$out" "$@" 2>"$WORK/capture.err" &
    CAP_PID=$!
    wait_text "$WORK/capture.err" "Capturing on" 10
  fi
  sleep 0.3
}

stop_capture() {
  # let the last packets (FIN/ACK) reach the capture, then stop it cleanly
  sleep 1.5
  kill -INT "$CAP_PID"
  wait_pid "$CAP_PID" 15 || true
  CAP_PID=""
  sed 's/^/    /' "$WORK/capture.err" | grep -v '^    $' || true
  # a capture that lost packets is not kept
  if grep -Eq '^[1-9][0-9]* packets dropped by kernel' "$WORK/capture.err" ||
     grep -Eq "received/dropped on interface .*: [0-9]+/[1-9]" "$WORK/capture.err"; then
    echo "record.sh: the capture dropped packets" >&2
    return 1
  fi
}

# start_server NAME CMD...: run a peer that writes READY when it listens
start_server() {
  local name=$1
  shift
  rm -f "$WORK/ready"
  WSSCOPE_LOG="$WORK/$name.server.jsonl" timeout 90 "$@" >"$WORK/server.out" 2>&1 &
  SRV_PID=$!
  wait_file "$WORK/ready" 15 || { cat "$WORK/server.out" >&2; return 1; }
}

wait_server() {
  if ! wait_pid "$SRV_PID" 60; then cat "$WORK/server.out" >&2; SRV_PID=""; return 1; fi
  SRV_PID=""
  sed 's/^/    server: /' "$WORK/server.out"
}

# run_client NAME CMD...
run_client() {
  local name=$1
  shift
  if ! WSSCOPE_LOG="$WORK/$name.client.jsonl" timeout 90 "$@" >"$WORK/client.out" 2>&1; then
    echo "record.sh: client failed:" >&2; cat "$WORK/client.out" >&2; return 1
  fi
  sed 's/^/    client: /' "$WORK/client.out" | head -20
}

# finish NAME FILE "description" [mqtt|stomp]
finish() {
  local name=$1 file=$2 desc=$3 proto=${4:-}
  "$PY" "$HERE/combine.py" "$WORK/$name.json" "$file" "$desc" \
    "$WORK/$name.server.jsonl" "$WORK/$name.client.jsonl" "$WORK/$name.raw.jsonl"
  if [[ -n $proto ]]; then # subprotocol_packets (and mqtt_topics) from the same logs
    "$PY" "$HERE/subproto.py" "$proto" "$WORK/$name.json" "$WORK/$name.server.jsonl" "$WORK/$name.client.jsonl"
  fi
  local n
  n=$(tcpdump -r "$WORK/$file" -nn 2>/dev/null | wc -l)
  [[ $n -gt 0 ]] || { echo "record.sh: $file is empty" >&2; return 1; }
  mv -f "$WORK/$file" "$CAP/$file"
  mv -f "$WORK/$name.json" "$EXP/$name.json"
  rm -f "$WORK/$name".*.jsonl
  echo "  $file: $(stat -c %s "$CAP/$file") bytes, $n packets"
}

# ws-client-to-node-server scenario in one go:
# node_pair NAME FILE PORT NODE_SCENARIO NCONN PY_SCENARIO HOST DESC [tool iface extra...]
py_to_node() {
  local name=$1 file=$2 port=$3 nscen=$4 nconn=$5 pscen=$6 host=$7 desc=$8 tool=${9:-tcpdump} iface=${10:-lo}
  shift 10 || shift $#
  local urlhost=$host
  [[ $host == *:* ]] && urlhost="[$host]"
  start_server "$name" "$NODE" node_server.js "$nscen" "$host" "$port" "$nconn" "$WORK/ready"
  start_capture "$tool" "$iface" "$CAP/$file" "$port" "$@"
  run_client "$name" "$PY" py_client.py "$pscen" "ws://$urlhost:$port/"
  wait_server
  stop_capture
  finish "$name" "$file" "$desc"
}

# ---------------------------------------------------------------- scenarios
rec_demo() {
  py_to_node demo demo.pcapng 18000 demo 1 demo 127.0.0.1 \
    "Python websockets client chats with a Node ws server: subprotocol chat.v1, permessage-deflate both ways, JSON text messages, one binary message, a client ping, a server text message in three frames, client close 1000 bye." \
    dumpcap lo
}
rec_echo-sizes() {
  py_to_node echo-sizes echo-sizes.pcap 18001 echo 1 echo-sizes 127.0.0.1 \
    "Python websockets client sends text and binary messages of 0, 1, 125, 126, 65535, 65536 and 100000 bytes to a Node ws echo server (no compression); the server echoes each."
}
rec_echo-sizes-ns() {
  local name=echo-sizes-ns file=echo-sizes-ns.pcap port=18002
  start_server $name "$PY" py_server.py echo 127.0.0.1 $port 1 "$WORK/ready"
  start_capture tcpdump lo "$CAP/$file" $port --time-stamp-precision=nano
  run_client $name "$NODE" node_client.js echo-sizes-ns "ws://127.0.0.1:$port/"
  wait_server
  stop_capture
  finish $name $file "Node ws client sends text and binary messages of 0, 125, 126 and 65536 bytes to a Python websockets echo server (no compression); nanosecond pcap."
}
rec_ping-pong() {
  py_to_node ping-pong ping-pong.pcap 18003 ping-pong 1 ping-pong 127.0.0.1 \
    "Explicit pings with payloads both ways (hb-1..3 from the Python websockets client, hb-s1..s3 from the Node ws server) with idle gaps; the server closes with 1001 going away."
}
rec_close-codes() {
  py_to_node close-codes close-codes.pcap 18004 close-codes 5 close-codes 127.0.0.1 \
    "Five connections between a Python websockets client and a Node ws server, each closed differently: client 1000, server 1001, server 1008, client 4000 with a UTF-8 reason, client 3000 with an empty reason."
}
rec_deflate-takeover() {
  py_to_node deflate-takeover deflate-takeover.pcap 18005 deflate-takeover 1 deflate-takeover 127.0.0.1 \
    "permessage-deflate with context takeover (websockets' default offer, Node ws threshold 0): twelve similar JSON messages and one repetitive binary message echoed back."
}
rec_deflate-no-takeover() {
  py_to_node deflate-no-takeover deflate-no-takeover.pcap 18006 deflate-no-takeover 1 deflate-no-takeover 127.0.0.1 \
    "permessage-deflate with client_no_context_takeover, server_no_context_takeover and server_max_window_bits=10 offered by the Python websockets client and accepted by the Node ws server; same messages as deflate-takeover."
}
rec_fragmented() {
  py_to_node fragmented fragmented.pcap 18007 fragmented 1 fragmented 127.0.0.1 \
    "Fragmented text and binary messages both ways, pings between fragments, UTF-8 characters cut across frames, an empty first fragment (Python websockets client, Node ws server, no compression)."
}
rec_subprotocol() {
  py_to_node subprotocol subprotocol.pcap 18008 subprotocol 1 subprotocol 127.0.0.1 \
    "The Python websockets client offers subprotocols v2.chat, v1.chat; the Node ws server picks v1.chat."
}
rec_multi-conn() {
  py_to_node multi-conn multi-conn.pcap 18009 echo 5 multi-conn 127.0.0.1 \
    "Five concurrent connections from a Python websockets client to a Node ws echo server with interleaved text and binary messages; the client offers permessage-deflate, the server declines."
}
rec_ipv6() {
  py_to_node ipv6 ipv6.pcap 18010 echo 1 small-echo ::1 \
    "A small echo over IPv6 loopback ([::1]) between a Python websockets client and a Node ws server."
}
rec_any-sll2() {
  py_to_node any-sll2 any-sll2.pcap 18011 echo 1 small-echo 127.0.0.1 \
    "A small echo recorded with tcpdump -i any (Linux cooked capture v2, LINKTYPE_LINUX_SLL2)." \
    tcpdump any
}
rec_any-sll2-ng() {
  py_to_node any-sll2-ng any-sll2-ng.pcapng 18012 echo 1 small-echo 127.0.0.1 \
    "A small echo recorded with dumpcap -i any -y LINUX_SLL2 into pcapng (Linux cooked capture v2, LINKTYPE_LINUX_SLL2)." \
    dumpcap any -y LINUX_SLL2
}
rec_any-sll() {
  py_to_node any-sll any-sll.pcap 18019 echo 1 small-echo 127.0.0.1 \
    "A small echo recorded with tcpdump -i any -y LINUX_SLL (Linux cooked capture v1, LINKTYPE_LINUX_SLL)." \
    tcpdump any -y LINUX_SLL
}
rec_snaplen-128() {
  py_to_node snaplen-128 snaplen-128.pcap 18028 demo 1 demo 127.0.0.1 \
    "The demo session (Python websockets client, Node ws server, permessage-deflate, subprotocol chat.v1) recorded with tcpdump -s 128: every packet keeps its first 128 bytes, so the Upgrade request, the 101 and most payloads are cut after 62 bytes of TCP payload." \
    tcpdump lo -s 128
}
rec_snaplen-128-node() {
  local name=snaplen-128-node file=snaplen-128-node.pcap port=18029
  start_server $name "$PY" py_server.py echo 127.0.0.1 $port 1 "$WORK/ready"
  start_capture tcpdump lo "$CAP/$file" $port -s 128
  run_client $name "$NODE" node_client.js echo-sizes-ns "ws://127.0.0.1:$port/"
  wait_server
  stop_capture
  finish $name $file "A Node ws client sends text and binary messages of 0, 125, 126 and 65536 bytes to a Python websockets echo server (no compression), recorded with tcpdump -s 128: Node's Upgrade request shows no Upgrade header in its first 62 bytes; the 101 and every frame header are in the capture."
}
# ---------------------------------------------------------------- wss:// (TLS)
# A throwaway self-signed certificate for 127.0.0.1, trusted by the clients; every
# client writes its TLS secrets to a key log (NSS format), kept beside the capture.
tls_setup() {
  [[ -f "$WORK/cert.pem" ]] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
}
# tls13_suite NAME: an OPENSSL_CONF that lets the client offer only this TLS 1.3 suite
tls13_suite() {
  printf 'openssl_conf = c\n[c]\nssl_conf = s\n[s]\nsystem_default = d\n[d]\nCiphersuites = %s\n' "$1" >"$WORK/openssl-$1.cnf"
  echo "$WORK/openssl-$1.cnf"
}
# wss_py NAME PORT PY_SCENARIO DESC [ENV=VALUE...]: Python websockets client and server
wss_py() {
  local name=$1 port=$2 pscen=$3 desc=$4
  shift 4
  tls_setup
  rm -f "$WORK/$name.keys"
  WSSCOPE_TLS_CERT="$WORK/cert.pem" WSSCOPE_TLS_KEY="$WORK/key.pem" \
    start_server "$name" "$PY" py_server.py echo 127.0.0.1 "$port" 1 "$WORK/ready"
  start_capture tcpdump lo "$CAP/$name.pcap" "$port"
  (
    export WSSCOPE_TLS_CA="$WORK/cert.pem" WSSCOPE_KEYLOG="$WORK/$name.keys"
    for kv in "$@"; do export "${kv?}"; done
    run_client "$name" "$PY" py_client.py "$pscen" "wss://127.0.0.1:$port/"
  )
  wait_server
  stop_capture
  cp "$WORK/$name.keys" "$CAP/$name.keys"
  finish "$name" "$name.pcap" "$desc"
}
rec_wss-tls13-aes256() {
  wss_py wss-tls13-aes256 18030 echo-sizes \
    "wss:// between a Python websockets client and server (ssl module, TLS 1.3, TLS_AES_256_GCM_SHA384, the default): text and binary of 0 to 100000 bytes echoed, so messages span several TLS records. Key log: the client's (ssl keylog_filename)."
}
rec_wss-tls13-aes128() {
  wss_py wss-tls13-aes128 18031 small-echo \
    "wss:// small echo, TLS 1.3 with TLS_AES_128_GCM_SHA256 (the only suite the client offers). Key log: the client's." \
    OPENSSL_CONF="$(tls13_suite TLS_AES_128_GCM_SHA256)"
}
rec_wss-tls13-chacha() {
  wss_py wss-tls13-chacha 18032 small-echo \
    "wss:// small echo, TLS 1.3 with TLS_CHACHA20_POLY1305_SHA256 (the only suite the client offers). Key log: the client's." \
    OPENSSL_CONF="$(tls13_suite TLS_CHACHA20_POLY1305_SHA256)"
}
rec_wss-tls12-gcm() {
  wss_py wss-tls12-gcm 18033 small-echo \
    "wss:// small echo, TLS 1.2 (the client's maximum) with ECDHE-RSA-AES128-GCM-SHA256. Key log: the client's (CLIENT_RANDOM lines)." \
    WSSCOPE_TLS_MAX=1.2 WSSCOPE_TLS12_CIPHERS=ECDHE-RSA-AES128-GCM-SHA256
}
rec_wss-tls12-chacha() {
  wss_py wss-tls12-chacha 18034 small-echo \
    "wss:// small echo, TLS 1.2 with ECDHE-RSA-CHACHA20-POLY1305. Key log: the client's." \
    WSSCOPE_TLS_MAX=1.2 WSSCOPE_TLS12_CIPHERS=ECDHE-RSA-CHACHA20-POLY1305
}
rec_wss-deflate() {
  local name=wss-deflate port=18035
  tls_setup
  rm -f "$WORK/$name.keys"
  WSSCOPE_TLS_CERT="$WORK/cert.pem" WSSCOPE_TLS_KEY="$WORK/key.pem" WSSCOPE_KEYLOG="$WORK/$name.server.keys" \
    start_server "$name" "$NODE" node_server.js demo 127.0.0.1 "$port" 1 "$WORK/ready"
  start_capture tcpdump lo "$CAP/$name.pcap" "$port"
  WSSCOPE_TLS_CA="$WORK/cert.pem" WSSCOPE_KEYLOG="$WORK/$name.keys" \
    run_client "$name" "$PY" py_client.py demo "wss://127.0.0.1:$port/"
  wait_server
  stop_capture
  cp "$WORK/$name.keys" "$CAP/$name.keys"
  finish "$name" "$name.pcap" "The demo session over wss://: a Python websockets client (ssl, TLS 1.3) and a Node ws server on an https server: subprotocol chat.v1, permessage-deflate both ways, a message in three frames. Key log: the client's."
}

rec_wss-dsb() {
  # wss-tls13-aes128 with its key log inside, as a pcapng Decryption Secrets Block; the
  # peers' record is that capture's (the same session).
  [[ -f "$CAP/wss-tls13-aes128.keys" ]] || rec_wss-tls13-aes128
  editcap --inject-secrets tls,"$CAP/wss-tls13-aes128.keys" "$CAP/wss-tls13-aes128.pcap" "$CAP/wss-dsb.pcapng"
  "$PY" - "$EXP/wss-tls13-aes128.json" "$EXP/wss-dsb.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
e["capture"] = "wss-dsb.pcapng"
e["description"] = "wss-tls13-aes128.pcap with its key log inside, as a pcapng Decryption Secrets Block (editcap --inject-secrets tls,wss-tls13-aes128.keys): decrypted with no option at all."
open(sys.argv[2], "w").write(json.dumps(e, indent=2, ensure_ascii=False) + "\n")
PY
  echo "  wss-dsb.pcapng: $(stat -c %s "$CAP/wss-dsb.pcapng") bytes"
}
rec_refused-403() {
  py_to_node refused-403 refused-403.pcap 18013 refused-403 1 refused 127.0.0.1 \
    "A Node ws server rejects the upgrade from verifyClient with 403 Forbidden; the Python websockets client gives up."
}
rec_refused-426() {
  local name=refused-426 file=refused-426.pcap port=18014
  start_server $name "$PY" py_server.py version-426 127.0.0.1 $port 1 "$WORK/ready"
  start_capture tcpdump lo "$CAP/$file" $port
  run_client $name "$PY" raw_peers.py version-client 127.0.0.1 $port
  wait_server
  stop_capture
  finish $name $file "A raw socket client asks for Sec-WebSocket-Version 8; a Python websockets server (with a process_request hook) answers 426 Upgrade Required with Sec-WebSocket-Version: 13."
}
rec_refused-400-version() {
  local name=refused-400-version file=refused-400-version.pcap port=18015
  start_server $name "$PY" py_server.py version-default 127.0.0.1 $port 1 "$WORK/ready"
  start_capture tcpdump lo "$CAP/$file" $port
  run_client $name "$PY" raw_peers.py version-client 127.0.0.1 $port
  wait_server
  stop_capture
  finish $name $file "A raw socket client asks for Sec-WebSocket-Version 8; a Python websockets server without hooks answers 400 Bad Request."
}
rec_midstream() {
  local name=midstream file=midstream.pcap port=18016
  start_server $name "$NODE" node_server.js echo 127.0.0.1 $port 1 "$WORK/ready"
  rm -f "$WORK/go" "$WORK/client-ready"
  WSSCOPE_LOG="$WORK/$name.client.jsonl" timeout 90 "$PY" py_client.py midstream "ws://127.0.0.1:$port/" \
    "$WORK/go" "$WORK/client-ready" >"$WORK/client.out" 2>&1 &
  local cpid=$!
  wait_file "$WORK/client-ready" 15
  # the WebSocket handshake is over: only now start capturing
  start_capture tcpdump lo "$CAP/$file" $port
  touch "$WORK/go"
  wait_pid $cpid 60 || { cat "$WORK/client.out" >&2; return 1; }
  sed 's/^/    client: /' "$WORK/client.out"
  wait_server
  stop_capture
  finish $name $file "Capture started after the handshake of a Python websockets client to Node ws echo server session: text, binary, a ping and the close, no HTTP."
}
rec_wrong-accept() {
  local name=wrong-accept file=wrong-accept.pcap port=18017
  start_server $name "$PY" raw_peers.py wrong-accept-server 127.0.0.1 $port "$WORK/ready"
  start_capture tcpdump lo "$CAP/$file" $port
  run_client $name "$PY" py_client.py wrong-accept "ws://127.0.0.1:$port/"
  wait_server
  stop_capture
  finish $name $file "A raw socket server answers 101 with a wrong Sec-WebSocket-Accept; the Python websockets client refuses it and closes the TCP connection without sending a frame."
}
rec_keepalive-then-upgrade() {
  local name=keepalive-then-upgrade file=keepalive-then-upgrade.pcap port=18018
  start_server $name "$PY" raw_peers.py keepalive-server 127.0.0.1 $port "$WORK/ready"
  start_capture tcpdump lo "$CAP/$file" $port
  run_client $name "$PY" raw_peers.py keepalive-client 127.0.0.1 $port
  wait_server
  stop_capture
  finish $name $file "One TCP connection carries GET /health, POST /x (Content-Length body), GET /y (chunked answer) and then a WebSocket upgrade with one echoed text message; a second connection is plain HTTP only and is not a WebSocket connection."
}
violations() { # violations GROUP PORT DESC
  local name=violations-$1 file=violations-$1.pcap port=$2 desc=$3
  start_capture tcpdump lo "$CAP/$file" $port
  if ! WSSCOPE_LOG="$WORK/$name.raw.jsonl" timeout 90 "$PY" raw_violations.py "$1" 127.0.0.1 "$port" >"$WORK/client.out" 2>&1; then
    cat "$WORK/client.out" >&2; return 1
  fi
  stop_capture
  finish $name $file "$desc"
}
rec_violations-masking() {
  violations masking 18020 "Hand-made frames: an unmasked client text frame and a masked server text frame."
}
rec_violations-framing() {
  violations framing 18021 "Hand-made frames: reserved opcode 3, RSV2 without extension, 126-byte ping, fragmented ping, non-minimal 16-bit length, and last a 64-bit length with its most significant bit set."
}
rec_violations-fragments() {
  violations fragments 18022 "Hand-made frames: a continuation with no message open, and a text frame inside an open fragmented text message."
}
rec_violations-utf8-close() {
  violations utf8-close 18023 "Hand-made frames on six connections: invalid UTF-8 text, invalid UTF-8 close reason, one-byte close payload, close codes 1005 and 999 on the wire, data after Close."
}
rec_violations-deflate() {
  violations deflate 18024 "Hand-made permessage-deflate errors on three connections: payload that is not deflate, context takeover despite client_no_context_takeover, RSV1 without the extension."
}
rec_violations-handshake() {
  violations handshake 18025 "Six connections whose upgrade request (or response) breaks one rule each while the raw server still answers 101: 10-byte key, version 12, no Host, subprotocol not offered, extension not offered, client frame before the response."
}
# Subprotocols over WebSocket between third-party libraries (Node): the
# libraries write the bytes; proto_log.js logs every message their ws sockets write.
rec_mqtt() {
  local name=mqtt file=mqtt.pcap port=18026
  start_server $name "$NODE" mqtt_broker.mjs 127.0.0.1 $port 1 "$WORK/ready"
  start_capture tcpdump lo "$CAP/$file" $port
  run_client $name "$NODE" mqtt_client.js "ws://127.0.0.1:$port/"
  wait_server
  stop_capture
  finish $name $file "MQTT 3.1.1 over WebSocket (subprotocol mqtt): an MQTT.js client and an aedes broker: CONNECT/CONNACK, SUBSCRIBE sensors/+/temp QoS 1, PUBLISH QoS 0 and 1 with PUBACKs both ways, PINGREQ/PINGRESP after an idle keepalive second, UNSUBSCRIBE, DISCONNECT; both libraries write each packet in pieces (fixed header, length, fields) and each piece goes out as its own binary WebSocket message." mqtt
}
rec_stomp() {
  local name=stomp file=stomp.pcap port=18027
  start_server $name "$NODE" stomp_broker.js 127.0.0.1 $port 1 "$WORK/ready"
  start_capture tcpdump lo "$CAP/$file" $port
  run_client $name "$NODE" stomp_client.js "ws://127.0.0.1:$port/stomp"
  wait_server
  stop_capture
  finish $name $file "STOMP over WebSocket between a @stomp/stompjs client (offers v12.stomp, v11.stomp, v10.stomp) and a stomp-broker-js broker (answers v12.stomp, speaks STOMP 1.1): CONNECT/CONNECTED, SUBSCRIBE /topic/chat, two SENDs (text/plain, application/json) each answered by a MESSAGE, client heart-beats, UNSUBSCRIBE, DISCONNECT/RECEIPT, empty Close both ways." stomp
}

failed=()
for w in "${WANT[@]}"; do
  for try in 1 2 3; do
    if ((try > 1)); then echo "== $w (try $try)"; else echo "== $w"; fi
    # a subshell outside any condition, so that `set -e` stays in force inside it
    rm -f "$WORK/$w".*.jsonl "$WORK"/*.pcap "$WORK"/*.pcapng
    set +e
    (set -e; trap stop_leftovers EXIT; "rec_$w")
    rc=$?
    set -e
    [[ $rc -eq 0 ]] && break
  done
  [[ $rc -eq 0 ]] || failed+=("$w")
done

total=$(cat "$CAP"/*.pcap "$CAP"/*.pcapng 2>/dev/null | wc -c)
echo "done: $(ls "$CAP"/*.pcap "$CAP"/*.pcapng | wc -l) captures, $total bytes in total"
if ((${#failed[@]})); then
  echo "record.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "check them with: python3 $HERE/verify.py   (needs tshark)"
