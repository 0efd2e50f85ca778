"""Cross-check the recorded captures against captures/expected/*.json.

Usage: python3 verify.py [NAME...]      (needs tshark)

This is a check, not part of generating the expected JSON: the JSON is
written from the peers' own logs (combine.py).  Here an independent little
decoder reads each capture's TCP streams (tshark "follow,tcp,raw") and
re-derives handshake, messages, pings, closes and violation codes, following
the conventions described in captures/README.md, then compares.

For the subprotocol captures (mqtt, stomp: "subprotocol_packets" in the JSON)
the payloads of the messages decoded here are cut into MQTT packets / STOMP
frames (subproto.py's parsers) and compared with the JSON; for MQTT the same
byte streams also go through Wireshark's own MQTT dissector (tshark 4.0 does
not dissect MQTT inside WebSocket, so each direction's bytes are written as one
TCP segment on port 1883 of a scratch pcap) and its packet types and topics
must match too.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import struct
import subprocess
import sys
import zlib

CAP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPN = {1: "text", 2: "binary"}


def tshark(*args) -> str:
    return subprocess.run(["tshark", *args], check=True, capture_output=True, text=True).stdout


def streams(path: str) -> dict[tuple[str, str], tuple[bytes, bytes, str]]:
    """(addrA, addrB) -> (bytes sent by node0, bytes sent by node1, node0 addr), per TCP stream."""
    idx = tshark("-r", path, "-T", "fields", "-e", "tcp.stream").split()
    out = {}
    for n in sorted({int(i) for i in idx}):
        text = tshark("-r", path, "-q", "-z", f"follow,tcp,raw,{n}")
        node = {}
        data = [b"", b""]
        for line in text.splitlines():
            if line.startswith("Node 0: ") or line.startswith("Node 1: "):
                node[int(line[5])] = line[8:].strip()
            elif line and not line.startswith(("=", "Follow", "Filter")):
                side = 1 if line.startswith("\t") else 0
                data[side] += bytes.fromhex(line.strip())
        out[n] = (node[0], node[1], data[0], data[1])
    return out


def norm(a: str) -> str:
    host, port = a.rsplit(":", 1)
    host = host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_http(buf: bytes, pos: int, is_response: bool):
    end = buf.find(b"\r\n\r\n", pos)
    if end < 0:
        return None
    head = buf[pos:end].decode("latin-1").split("\r\n")
    hdrs = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    pos = end + 4
    if "content-length" in hdrs:
        pos += int(hdrs["content-length"][0])
    elif is_response and hdrs.get("transfer-encoding", [""])[0].lower() == "chunked":
        while True:
            eol = buf.index(b"\r\n", pos)
            size = int(buf[pos:eol].split(b";")[0], 16)
            pos = eol + 2 + size + 2
            if size == 0:
                break
    return head[0], {k: ", ".join(v) for k, v in hdrs.items()}, pos


class Direction:
    def __init__(self, side, pmd, violations):
        self.side, self.pmd, self.v = side, pmd, violations
        self.messages, self.pings, self.close = [], 0, None
        self.payloads = []  # the data messages' payloads, for the subprotocol checks
        self.open = None  # [opcode, compressed, bytearray]
        self.closed = False
        self.history = b""  # uncompressed output, for context takeover
        self.inflater = zlib.decompressobj(-15)

    def inflate(self, data: bytes):
        no_takeover = self.pmd is not None and f"{self.side}_no_context_takeover" in self.pmd
        if no_takeover:
            try:
                out = zlib.decompressobj(-15).decompress(data + b"\x00\x00\xff\xff")
            except zlib.error:
                try:  # does it decode with the previous messages' window?
                    out = zlib.decompressobj(-15, zdict=self.history[-32768:]).decompress(
                        data + b"\x00\x00\xff\xff")
                    self.v.append("deflate-context-takeover-violated")
                except zlib.error:
                    self.v.append("deflate-error")
                    return None
        else:
            try:
                out = self.inflater.decompress(data + b"\x00\x00\xff\xff")
            except zlib.error:
                self.v.append("deflate-error")
                return None
        self.history += out
        return out

    def deliver(self, opcode, compressed, payload):
        if compressed:
            payload = self.inflate(payload)
            if payload is None:
                return
        if opcode == 1:
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError:
                self.v.append("invalid-utf8-text")
        self.payloads.append(payload)
        self.messages.append({"opcode": OPN[opcode], "len": len(payload),
                              "sha256": hashlib.sha256(payload).hexdigest()})

    def frames(self, buf: bytes, pos: int):
        masked_expected = self.side == "client"
        while pos + 2 <= len(buf):
            b0, b1 = buf[pos], buf[pos + 1]
            fin, rsv, op = b0 >> 7, (b0 >> 4) & 7, b0 & 15
            n, p = b1 & 127, pos + 2
            if n == 126:
                n, p = struct.unpack_from("!H", buf, p)[0], p + 2
                if n < 126:
                    self.v.append("non-minimal-length")
            elif n == 127:
                n, p = struct.unpack_from("!Q", buf, p)[0], p + 8
                if n >> 63:
                    self.v.append("length-msb-set")
                    return
                if n <= 0xFFFF:
                    self.v.append("non-minimal-length")
            masked = bool(b1 & 128)
            key = buf[p:p + 4] if masked else b""
            p += 4 if masked else 0
            payload = buf[p:p + n]
            if len(payload) < n:
                return  # truncated at the end of the capture
            pos = p + n
            if masked:
                payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
            if masked != masked_expected:
                self.v.append("client-frame-unmasked" if masked_expected else "server-frame-masked")
            rsv_ok = 0b100 if (self.pmd is not None and op in (0, 1, 2)) else 0
            if rsv & ~rsv_ok:
                self.v.append("rsv-bits-without-extension")
            if op >= 8:
                if n > 125:
                    self.v.append("control-frame-too-long")
                if not fin:
                    self.v.append("control-frame-fragmented")
            if op in (1, 2, 0) and self.closed:
                self.v.append("data-after-close")
            if op in (1, 2):
                compressed = bool(rsv & 0b100) and self.pmd is not None
                if self.open is not None:
                    self.v.append("data-inside-fragmented-message")
                    if fin:  # listed on its own; the open message goes on
                        self.deliver(op, compressed, payload)
                    continue
                if fin:
                    self.deliver(op, compressed, payload)
                else:
                    self.open = [op, compressed, bytearray(payload)]
            elif op == 0:
                if self.open is None:
                    self.v.append("continuation-without-start")
                    continue
                self.open[2] += payload
                if fin:
                    self.deliver(self.open[0], self.open[1], bytes(self.open[2]))
                    self.open = None
            elif op == 8:
                self.closed = True
                if len(payload) == 1:
                    self.v.append("close-payload-one-byte")
                    self.close = {"code": None, "reason": None}
                elif len(payload) >= 2:
                    code = struct.unpack("!H", payload[:2])[0]
                    if code < 1000 or code in (1004, 1005, 1006, 1015) or 1016 <= code <= 2999 or code >= 5000:
                        self.v.append("invalid-close-code")
                    try:
                        reason = payload[2:].decode("utf-8")
                    except UnicodeDecodeError:
                        self.v.append("invalid-utf8-close-reason")
                        reason = payload[2:].decode("utf-8", "replace")
                    self.close = {"code": code, "reason": reason}
                else:
                    self.close = {"code": None, "reason": ""}
            elif op == 9:
                self.pings += 1
            elif op == 10:
                pass
            else:
                self.v.append("reserved-opcode")


payloads: dict[str, dict[str, list[bytes]]] = {}  # client address -> side -> payloads


def decode(client: str, server: str, cbytes: bytes, sbytes: bytes, has_handshake: bool):
    violations = []
    hs = None
    cpos = spos = 0
    pmd = None
    upgraded = not has_handshake
    if has_handshake:
        req_hdrs = None
        while cpos < len(cbytes):
            r = parse_http(cbytes, cpos, False)
            if r is None:
                break
            start, hdrs, cpos = r
            if hdrs.get("upgrade", "").lower() == "websocket":
                req_hdrs = hdrs
                break
        while spos < len(sbytes):
            r = parse_http(sbytes, spos, True)
            if r is None:
                break
            start, hdrs, spos = r
            if req_hdrs is not None and (start.split()[1] == "101" or spos >= len(sbytes)):
                hs = {"status": int(start.split()[1]), "subprotocol": hdrs.get("sec-websocket-protocol"),
                      "extensions": hdrs.get("sec-websocket-extensions")}
                break
        if hs is None:
            return None
        if hs["status"] == 101:
            upgraded = True
            import base64
            key = req_hdrs.get("sec-websocket-key", "")
            want = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            if hdrs.get("sec-websocket-accept") != want:
                violations.append("handshake-accept-mismatch")
                upgraded = False
            try:
                if len(base64.b64decode(key, validate=True)) != 16:
                    violations.append("handshake-key-invalid")
            except ValueError:
                violations.append("handshake-key-invalid")
            if req_hdrs.get("sec-websocket-version") != "13":
                violations.append("handshake-version-invalid")
            if "host" not in req_hdrs:
                violations.append("handshake-host-missing")
            if hs["subprotocol"] and hs["subprotocol"] not in [
                    p.strip() for p in req_hdrs.get("sec-websocket-protocol", "").split(",")]:
                violations.append("handshake-subprotocol-not-offered")
            if hs["extensions"]:
                offered = [e.split(";")[0].strip() for e in req_hdrs.get("sec-websocket-extensions", "").split(",")]
                if hs["extensions"].split(";")[0].strip() not in offered:
                    violations.append("handshake-extension-not-offered")
                pmd = [p.strip().split("=")[0] for p in hs["extensions"].split(";")]
            # frames sent by the client before the response: the client's first
            # frame must not be captured before the 101 (checked by timestamp in
            # the Rust decoder; here: the frame bytes just follow the request)
    cdir, sdir = Direction("client", pmd, violations), Direction("server", pmd, violations)
    if upgraded:
        cdir.frames(cbytes, cpos)
        sdir.frames(sbytes, spos)
    payloads[client] = {"client": cdir.payloads, "server": sdir.payloads}
    return {"client": client, "server": server, "handshake": hs,
            "messages": {"client": cdir.messages, "server": sdir.messages},
            "pings": {"client": cdir.pings, "server": sdir.pings},
            "close": {"client": cdir.close, "server": sdir.close}}, violations


def check(expected_path: str) -> bool:
    exp = json.load(open(expected_path, encoding="utf-8"))
    path = os.path.join(CAP, exp["capture"])
    ok = True
    got_conns = {}
    all_v = []
    for n, (a0, a1, d0, d1) in streams(path).items():
        a0, a1 = norm(a0), norm(a1)
        e = next((c for c in exp["connections"] if {c["client"], c["server"]} == {a0, a1}), None)
        if e is None:
            continue  # e.g. the plain-HTTP connection of keepalive-then-upgrade
        cb, sb = (d0, d1) if a0 == e["client"] else (d1, d0)
        r = decode(e["client"], e["server"], cb, sb, e["handshake"] is not None)
        if r is None:
            print(f"  {exp['capture']}: no handshake found for {e['client']}")
            ok = False
            continue
        got, v = r
        all_v += v
        got_conns[e["client"]] = got
        if got != e:
            ok = False
            print(f"  MISMATCH {exp['capture']} {e['client']}:")
            for k in e:
                if got.get(k) != e[k]:
                    print(f"    {k}: expected {json.dumps(e[k], ensure_ascii=False)[:400]}")
                    print(f"    {k}:      got {json.dumps(got.get(k), ensure_ascii=False)[:400]}")
    missing = [c["client"] for c in exp["connections"] if c["client"] not in got_conns]
    if missing:
        ok = False
        print(f"  {exp['capture']}: connections not found in the capture: {missing}")
    if sorted(set(all_v)) != sorted(exp["violations"]):
        # handshake-client-frames-before-response needs timestamps; not derivable here
        extra = set(exp["violations"]) - set(all_v) - {"handshake-client-frames-before-response"}
        if extra or set(all_v) - set(exp["violations"]):
            ok = False
            print(f"  violations: expected {exp['violations']}, decoded {sorted(set(all_v))}")
    if "subprotocol_packets" in exp:
        ok = check_subprotocol(exp) and ok
    print(f"{'ok  ' if ok else 'FAIL'} {exp['capture']}: {len(exp['connections'])} connection(s)")
    return ok


def tshark_mqtt(streams: dict[str, bytes]) -> tuple[dict[str, list[str]], list[str]]:
    """Wireshark's MQTT dissector on each direction's bytes (one TCP segment each)."""
    import tempfile
    ports = {"client": (50000, 1883), "server": (1883, 50000)}
    pkts = []
    for side in ("client", "server"):
        data = streams[side]
        sport, dport = ports[side]
        tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, 0x18, 65535, 0, 0) + data
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + tcp
        eth = b"\x00" * 12 + b"\x08\x00" + ip
        pkts.append(struct.pack("<IIII", 1 + len(pkts), 0, len(eth), len(eth)) + eth)
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + b"".join(pkts))
        f.flush()
        out = tshark("-r", f.name, "-Y", "mqtt", "-T", "json", "--no-duplicate-keys", "-J", "tcp mqtt")
    from subproto import MQTT_TYPES
    names = {"client": [], "server": []}
    topics = {"client": [], "server": []}
    for frame in json.loads(out):
        layers = frame["_source"]["layers"]
        side = "client" if layers["tcp"]["tcp.srcport"] == "50000" else "server"
        pdus = layers["mqtt"] if isinstance(layers["mqtt"], list) else [layers["mqtt"]]
        for pdu in pdus:
            name = MQTT_TYPES[int(pdu["mqtt.hdrflags_tree"]["mqtt.msgtype"])]
            names[side].append(name)
            if name == "PUBLISH":
                topics[side].append(pdu["mqtt.topic"])
    return names, topics["client"] + topics["server"]


def check_subprotocol(exp: dict) -> bool:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from subproto import mqtt_packets, stomp_frames
    (conn,) = exp["connections"]
    sub = conn["handshake"]["subprotocol"]
    p = payloads[conn["client"]]
    streams = {side: b"".join(p[side]) for side in ("client", "server")}
    ok = True
    if sub == "mqtt":
        got, topics = {}, []
        for side in ("client", "server"):
            got[side], t = mqtt_packets(streams[side])
            topics += t
        ws_names, ws_topics = tshark_mqtt(streams)
        checks = [("packets", got, exp["subprotocol_packets"]), ("topics", topics, exp["mqtt_topics"]),
                  ("Wireshark MQTT packets", ws_names, exp["subprotocol_packets"]),
                  ("Wireshark MQTT topics", ws_topics, exp["mqtt_topics"])]
    elif sub and sub.endswith(".stomp"):
        got = {side: stomp_frames(streams[side]) for side in ("client", "server")}
        checks = [("frames", got, exp["subprotocol_packets"])]
    else:
        print(f"  {exp['capture']}: subprotocol_packets for an unknown subprotocol {sub!r}")
        return False
    for what, have, want in checks:
        if have != want:
            ok = False
            print(f"  MISMATCH {exp['capture']} {what}:\n    expected {want}\n         got {have}")
    return ok


if __name__ == "__main__":
    names = sys.argv[1:]
    files = sorted(glob.glob(os.path.join(CAP, "expected", "*.json")))
    if names:
        files = [f for f in files if os.path.basename(f)[:-5] in names]
    results = [check(f) for f in files]
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    sys.exit(0 if all(results) else 1)
