"""Shared helpers for the Python peers used by record.sh.

Every peer appends what IT did (messages it sent, pings it sent, the close
frame it sent, the handshake it saw) to a JSON-lines log.  combine.py turns
those logs into captures/expected/<name>.json.  Nothing here ever reads a
capture file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import socket
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OPCODES = {0x0: "continuation", 0x1: "text", 0x2: "binary", 0x8: "close", 0x9: "ping", 0xA: "pong"}


# --------------------------------------------------------------------------
# logging of what a peer did
# --------------------------------------------------------------------------

class Log:
    """Append-only JSONL log of one peer process."""

    def __init__(self, path: str | None = None):
        self.path = path or os.environ["WSSCOPE_LOG"]

    def _write(self, obj: dict) -> None:
        obj["t"] = time.time()
        obj["pid"] = os.getpid()
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def conn(self, side: str, client: str, server: str, **extra) -> "ConnLog":
        return ConnLog(self, side, client, server, **extra)

    def violation(self, code: str) -> None:
        """A rule the hand-crafted bytes break on purpose (goes to "violations")."""
        self._write({"kind": "violation", "code": code})


class ConnLog:
    def __init__(self, log: Log, side: str, client: str, server: str, **extra):
        assert side in ("client", "server")
        self.log, self.side, self.client, self.server = log, side, client, server
        self.event("open", **extra)

    def event(self, kind: str, **fields) -> None:
        self.log._write({"kind": kind, "side": self.side, "client": self.client,
                         "server": self.server, **fields})

    def message(self, opcode: str, payload: bytes | str) -> None:
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        assert opcode in ("text", "binary")
        self.event("message", opcode=opcode, len=len(payload), sha256=sha256(payload))

    def ping(self, payload: bytes | str = b"") -> None:
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        self.event("ping", len=len(payload))

    def close(self, code: int | None, reason: str | None, how: str = "explicit") -> None:
        self.event("close", code=code, reason=reason, how=how)

    def handshake(self, status: int, subprotocol: str | None, extensions: str | None,
                  how: str = "") -> None:
        self.event("handshake", status=status, subprotocol=subprotocol,
                   extensions=extensions, how=how)

    def no_handshake(self) -> None:
        """The capture will not contain this connection's handshake (midstream)."""
        self.event("no_handshake")

    def note(self, text: str) -> None:
        self.event("note", text=text)


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def addr(sockaddr) -> str:
    """'127.0.0.1:1234' or '[::1]:1234' from a getsockname()/getpeername() tuple."""
    host, port = sockaddr[0], sockaddr[1]
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


# --------------------------------------------------------------------------
# deterministic payloads
# --------------------------------------------------------------------------

_TEXT_UNITS = ["wsscope ", "frame ", "payload ", "caf\u00e9 ", "na\u00efve ", "\u00fcber ",
               "\u2713 ", "\u20ac", "\U0001F600", "0123456789", "\n"]


def make_text(n: int, seed: int) -> str:
    """A str whose UTF-8 encoding is exactly n bytes (mixes 1-4 byte characters)."""
    rnd = random.Random(seed)
    out, size = [], 0
    while size < n:
        unit = rnd.choice(_TEXT_UNITS)
        b = len(unit.encode())
        if size + b > n:
            unit = "x" * (n - size)
            b = n - size
        out.append(unit)
        size += b
    s = "".join(out)
    assert len(s.encode()) == n
    return s


def make_bytes(n: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    return bytes(rnd.getrandbits(8) for _ in range(n))


# --------------------------------------------------------------------------
# hand-made frames (for the raw-socket peers)
# --------------------------------------------------------------------------

def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0,
          mask: bytes | None = None, length_form: str | None = None,
          raw_length: int | None = None) -> bytes:
    """Build one frame by hand.

    rsv: bits RSV1..RSV3 as 0b100 (RSV1), 0b010 (RSV2), 0b001 (RSV3).
    mask: 4-byte masking key, or None for an unmasked frame.
    length_form: None (minimal), "16" or "64" to force an extended length form.
    raw_length: write this value in the length field instead of len(payload)
                (only with length_form "64"; used for the MSB-set violation).
    """
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if raw_length is None else raw_length
    mbit = 0x80 if mask is not None else 0
    if length_form is None:
        length_form = "7" if n <= 125 else ("16" if n <= 0xFFFF else "64")
    if length_form == "7":
        hdr = struct.pack("!BB", b0, mbit | n)
    elif length_form == "16":
        hdr = struct.pack("!BBH", b0, mbit | 126, n)
    elif length_form == "64":
        hdr = struct.pack("!BBQ", b0, mbit | 127, n)
    else:
        raise ValueError(length_form)
    if mask is not None:
        assert len(mask) == 4
        hdr += mask
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return hdr + payload


def close_payload(code: int, reason: bytes | str = b"") -> bytes:
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack("!H", code) + reason


class Rng:
    """Deterministic masking keys / handshake keys for the hand-made captures."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)

    def mask(self) -> bytes:
        return bytes(self.r.getrandbits(8) for _ in range(4))

    def key(self, nbytes: int = 16) -> str:
        return base64.b64encode(bytes(self.r.getrandbits(8) for _ in range(nbytes))).decode()


# --------------------------------------------------------------------------
# blocking socket helpers
# --------------------------------------------------------------------------

def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def recv_until(sock: socket.socket, marker: bytes, buf: bytearray, limit: int = 1 << 20) -> bytes:
    """Read until marker is in buf; return everything up to and including it, keep the rest in buf."""
    while marker not in buf:
        if len(buf) > limit:
            raise ValueError("header too long")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("EOF while waiting for %r" % marker)
        buf += chunk
    i = buf.index(marker) + len(marker)
    out = bytes(buf[:i])
    del buf[:i]
    return out


def parse_head(head: bytes):
    """Parse an HTTP/1.1 request or response head -> (start_line, [(name, value)])."""
    lines = head.decode("latin-1").split("\r\n")
    start = lines[0]
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return start, headers


def header(headers, name):
    vals = [v for (k, v) in headers if k.lower() == name.lower()]
    return ", ".join(vals) if vals else None


def read_frame(sock: socket.socket, buf: bytearray):
    """Read one frame -> (fin, rsv, opcode, masked, payload) with the payload unmasked."""
    def need(n):
        while len(buf) < n:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("EOF inside a frame")
            buf.extend(chunk)
    need(2)
    b0, b1 = buf[0], buf[1]
    n, pos = b1 & 0x7F, 2
    if n == 126:
        need(4)
        n, pos = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        need(10)
        n, pos = struct.unpack("!Q", buf[2:10])[0], 10
    masked = bool(b1 & 0x80)
    key = b""
    if masked:
        need(pos + 4)
        key, pos = bytes(buf[pos:pos + 4]), pos + 4
    need(pos + n)
    payload = bytes(buf[pos:pos + n])
    del buf[:pos + n]
    if masked:
        payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
    return bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, masked, payload


def wait_for_file(path: str, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout}s")
        time.sleep(0.02)


def touch(path: str) -> None:
    with open(path, "w") as f:
        f.write(str(os.getpid()))
