"""Add the subprotocol packet lists to an expected JSON (mqtt, stomp captures).

Usage: python3 subproto.py mqtt|stomp OUT.json LOG [LOG...]

Reads only the peers' logs (proto_log.js writes every WebSocket message each
side's `ws` wrote, with its payload, and every message it received); the capture
is never opened.  For each direction the payloads of the messages that side
sent are concatenated in order and cut into MQTT control packets (fixed header:
type in the high nibble of byte 0, then the Remaining Length varint) or STOMP
frames (command line, headers, blank line, body up to NUL or content-length; an
EOL where a frame would start is a heart-beat, "HEARTBEAT").  A WebSocket
message may carry part of a packet or several packets: the lists say what the
bytes contain, whatever the message boundaries.

Adds to the document:
  "subprotocol_packets": {"client": [...], "server": [...]}
  "mqtt_topics": [...]   (mqtt only: the topic of each PUBLISH packet, the
                          client's in order, then the server's)

Also checks that what one side sent is exactly what the other received,
message by message, and, where the client logged its library's own view of
the packets (MQTT.js 'packetsend'/'packetreceive': "lib_packet" events), that
the packets cut from the bytes are the ones the library sent and received
(a failed check fails the recording, which record.sh retries).
"""

from __future__ import annotations

import base64
import json
import sys

MQTT_TYPES = [None, "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
              "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP",
              "DISCONNECT", "AUTH"]
STOMP_COMMANDS = {"CONNECT", "STOMP", "CONNECTED", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "MESSAGE",
                  "RECEIPT", "ERROR", "DISCONNECT", "ACK", "NACK", "BEGIN", "COMMIT", "ABORT"}


def mqtt_packets(buf: bytes) -> tuple[list[str], list[str]]:
    names, topics = [], []
    pos = 0
    while pos < len(buf):
        b0 = buf[pos]
        name = MQTT_TYPES[b0 >> 4]
        if name is None:
            raise ValueError(f"MQTT packet type 0 at offset {pos}")
        p, mult, length = pos + 1, 1, 0
        for _ in range(4):
            if p >= len(buf):
                raise ValueError(f"MQTT remaining length cut off at offset {pos}")
            b = buf[p]
            p += 1
            length += (b & 0x7F) * mult
            mult *= 128
            if not b & 0x80:
                break
        else:
            raise ValueError(f"MQTT remaining length longer than 4 bytes at offset {pos}")
        end = p + length
        if end > len(buf):
            raise ValueError(f"MQTT {name} at offset {pos} is cut off ({len(buf) - p} of {length} bytes)")
        names.append(name)
        if name == "PUBLISH":
            tlen = int.from_bytes(buf[p:p + 2], "big")
            topics.append(buf[p + 2:p + 2 + tlen].decode("utf-8"))
        pos = end
    return names, topics


def stomp_frames(buf: bytes) -> list[str]:
    names = []
    pos = 0
    while pos < len(buf):
        if buf.startswith(b"\r\n", pos) or buf[pos:pos + 1] == b"\n":
            names.append("HEARTBEAT")
            pos += 2 if buf[pos] == 0x0D else 1
            continue
        head_end = buf.find(b"\n\n", pos)
        head_end_crlf = buf.find(b"\r\n\r\n", pos)
        if head_end < 0 and head_end_crlf < 0:
            raise ValueError(f"STOMP frame without end of headers at offset {pos}")
        if head_end_crlf >= 0 and (head_end < 0 or head_end_crlf < head_end):
            head, body_start = buf[pos:head_end_crlf], head_end_crlf + 4
        else:
            head, body_start = buf[pos:head_end], head_end + 2
        lines = head.decode("utf-8").replace("\r\n", "\n").split("\n")
        command = lines[0]
        if command not in STOMP_COMMANDS:
            raise ValueError(f"unknown STOMP command {command!r} at offset {pos}")
        clen = None
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k == "content-length" and clen is None:  # the first occurrence counts
                clen = int(v)
        if clen is not None:
            nul = body_start + clen
            if buf[nul:nul + 1] != b"\x00":
                raise ValueError(f"STOMP {command} at offset {pos}: no NUL after content-length {clen}")
        else:
            nul = buf.find(b"\x00", body_start)
            if nul < 0:
                raise ValueError(f"STOMP {command} at offset {pos}: no NUL")
        names.append(command)
        pos = nul + 1
    return names


def main() -> None:
    proto, out, *logs = sys.argv[1:]
    sent = {"client": [], "server": []}
    recv = {"client": [], "server": []}
    conns = set()
    lib = {"sent": [], "received": []}
    for path in logs:
        try:
            f = open(path, encoding="utf-8")
        except FileNotFoundError:
            continue
        with f:
            for line in f:
                if not line.strip():
                    continue
                ev = json.loads(line)
                if ev["kind"] == "lib_packet":
                    lib[ev["dir"]].append(ev["name"])
                if ev["kind"] in ("message", "recv"):
                    conns.add((ev["client"], ev["server"]))
                    (sent if ev["kind"] == "message" else recv)[ev["side"]].append(
                        (ev["opcode"], base64.b64decode(ev["payload_b64"])))
    if len(conns) != 1:
        sys.exit(f"subproto: expected one connection, got {sorted(conns)}")
    for side, other in (("client", "server"), ("server", "client")):
        if sent[side] != recv[other]:
            sys.exit(f"subproto: the {side} sent {len(sent[side])} messages, the {other} received "
                     f"{len(recv[other])}, and they differ")
    doc = json.load(open(out, encoding="utf-8"))
    packets, topics = {}, []
    for side in ("client", "server"):
        stream = b"".join(p for _, p in sent[side])
        if proto == "mqtt":
            if any(op != "binary" for op, _ in sent[side]):
                sys.exit("subproto: MQTT over WebSocket must use binary messages")
            names, t = mqtt_packets(stream)
            topics += t
        elif proto == "stomp":
            names = stomp_frames(stream)
        else:
            sys.exit(f"subproto: unknown subprotocol {proto}")
        packets[side] = names
    if lib["sent"] or lib["received"]:
        for side, d in (("client", "sent"), ("server", "received")):
            if packets[side] != lib[d]:
                sys.exit(f"subproto: {side} packets {packets[side]} but the client library {d} {lib[d]}")
    doc["subprotocol_packets"] = packets
    if proto == "mqtt":
        doc["mqtt_topics"] = topics
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    for side in ("client", "server"):
        print(f"  {proto} {side}: {len(sent[side])} WebSocket messages: {' '.join(packets[side])}")


if __name__ == "__main__":
    main()
