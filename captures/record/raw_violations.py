"""Hand-made protocol-violation captures: both peers are raw Python sockets.

Usage: python3 raw_violations.py GROUP HOST PORT

One process plays both peers over real loopback TCP: a listening socket (the
server) and a connected socket (the client).  Every write is made by the side
it belongs to and read completely by the other side before the next write, so
the order on the wire is exactly the order below.  Every frame is built by
hand with struct (common.frame); each crafted frame breaks one rule.

Conventions for the expected JSON (see captures/README.md): every data
message that can still be decoded is listed, even when it breaks a rule:
  * unmasked client / masked server frames, RSV bits without an extension,
    non-minimal lengths, invalid UTF-8 text, data after Close: listed, with
    the payload as written (unmasked; an RSV1 frame without a negotiated
    extension is not inflated);
  * a complete (FIN=1) text/binary frame that arrives inside an open
    fragmented message is listed as its own message, and the open message
    goes on and is listed when its final continuation arrives; messages are
    listed in the order they are complete;
  * not listed: a continuation with no message open, a frame with a reserved
    opcode, a compressed payload that cannot be inflated at all, anything
    after a 64-bit length with its most significant bit set;
  * a compressed message sent with the previous message's window although
    no_context_takeover was negotiated is listed with its real payload (it
    inflates with the window kept);
  * pings count every ping frame the peer wrote, valid or not;
  * a Close whose payload cannot be parsed is {"code": null, "reason": null};
    a reason that is not UTF-8 is given decoded with U+FFFD replacement.
"""

from __future__ import annotations

import socket
import sys
import time
import zlib

from common import (Log, Rng, accept_for, addr, close_payload, frame, header, parse_head,
                    recv_exact, recv_until)

LOG = Log()
GROUP, HOST, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
RNG = Rng(sum(GROUP.encode()))
GAP = 0.02  # seconds between writes, so the capture is easy to read

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


class Conn:
    """One TCP connection; .c is the client socket, .s the server socket."""

    def __init__(self, lst: socket.socket):
        self.c = socket.create_connection((HOST, PORT), timeout=10)
        self.s, _ = lst.accept()
        for sk in (self.c, self.s):
            sk.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sk.settimeout(10)
        me, srv = addr(self.c.getsockname()), addr(self.c.getpeername())
        self.clog = LOG.conn("client", me, srv)
        self.slog = LOG.conn("server", me, srv)
        self.sbuf = bytearray()

    # raw writes, each fully read by the other side
    def c_send(self, data: bytes) -> None:
        self.c.sendall(data)
        recv_exact(self.s, len(data))
        time.sleep(GAP)

    def s_send(self, data: bytes) -> None:
        self.s.sendall(data)
        recv_exact(self.c, len(data))
        time.sleep(GAP)

    # ---- handshake -----------------------------------------------------
    def handshake(self, *, key: str | None = None, version: str = "13", host: bool = True,
                  protocols: str | None = None, extensions: str | None = None,
                  resp_protocol: str | None = None, resp_extensions: str | None = None,
                  early: bytes = b"") -> None:
        key = key or RNG.key()
        lines = ["GET /chat HTTP/1.1"]
        if host:
            lines.append(f"Host: {HOST}:{PORT}")
        lines += ["Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                  f"Sec-WebSocket-Version: {version}"]
        if protocols:
            lines.append(f"Sec-WebSocket-Protocol: {protocols}")
        if extensions:
            lines.append(f"Sec-WebSocket-Extensions: {extensions}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        # the client writes the request (and, for one violation, a frame right
        # after it, before the response has been sent)
        self.c.sendall(request)
        if early:
            time.sleep(GAP)
            self.c.sendall(early)
        # the server reads the request head and answers with the accept of the key it got
        _, hdrs = parse_head(recv_until(self.s, b"\r\n\r\n", self.sbuf))
        got_key = header(hdrs, "Sec-WebSocket-Key")
        if len(early) > len(self.sbuf):
            self.sbuf += recv_exact(self.s, len(early) - len(self.sbuf))
        assert bytes(self.sbuf) == early
        self.sbuf.clear()
        time.sleep(GAP)
        resp = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
                f"Sec-WebSocket-Accept: {accept_for(got_key)}"]
        if resp_protocol:
            resp.append(f"Sec-WebSocket-Protocol: {resp_protocol}")
        if resp_extensions:
            resp.append(f"Sec-WebSocket-Extensions: {resp_extensions}")
        self.s_send(("\r\n".join(resp) + "\r\n\r\n").encode())
        self.slog.handshake(101, resp_protocol, resp_extensions, "raw server response")
        self.clog.handshake(101, resp_protocol, resp_extensions, "raw client read it")

    # ---- logged frames -------------------------------------------------
    def c_msg(self, opcode: int, payload: bytes | str, **kw) -> None:
        """A valid (or still-delivered) client data message in one frame."""
        if isinstance(payload, str):
            payload = payload.encode()
        self.clog.message("text" if opcode == TEXT else "binary", payload)
        kw.setdefault("mask", RNG.mask())
        self.c_send(frame(opcode, payload, **kw))

    def s_msg(self, opcode: int, payload: bytes | str, **kw) -> None:
        if isinstance(payload, str):
            payload = payload.encode()
        self.slog.message("text" if opcode == TEXT else "binary", payload)
        self.s_send(frame(opcode, payload, **kw))

    def c_close(self, code, reason, payload: bytes | None = None) -> None:
        self.clog.close(code, reason, "raw frame")
        if payload is None:
            payload = close_payload(code, reason)
        self.c_send(frame(CLOSE, payload, mask=RNG.mask()))

    def s_close(self, code, reason) -> None:
        self.slog.close(code, reason, "raw frame")
        self.s_send(frame(CLOSE, close_payload(code, reason)))

    def end(self) -> None:
        """The server closes TCP first, then the client."""
        time.sleep(GAP)
        self.s.shutdown(socket.SHUT_WR)
        assert self.c.recv(1) == b""
        self.c.close()
        self.s.settimeout(5)
        try:
            while self.s.recv(65536):
                pass
        except OSError:
            pass
        self.s.close()
        time.sleep(0.1)

    def normal_close(self, reason: str = "bye") -> None:
        self.c_close(1000, reason)
        self.s_close(1000, reason)
        self.end()


def violation(code: str) -> None:
    LOG.violation(code)


# --------------------------------------------------------------------------

def masking(lst):
    k = Conn(lst)
    k.handshake()
    k.c_msg(TEXT, "masked, as it should be")
    violation("client-frame-unmasked")
    k.c_msg(TEXT, "client forgot to mask this", mask=None)
    k.s_msg(TEXT, "unmasked, as it should be")
    violation("server-frame-masked")
    k.s_msg(TEXT, "server masked this one", mask=RNG.mask())
    k.normal_close()


def framing(lst):
    k = Conn(lst)
    k.handshake()
    k.c_msg(TEXT, "valid before the bad frames")
    k.s_msg(TEXT, "server: hello")
    violation("reserved-opcode")
    k.c_send(frame(0x3, b"reserved opcode 3", mask=RNG.mask()))
    violation("rsv-bits-without-extension")
    k.c_msg(TEXT, "RSV2 is set on this text frame", rsv=0b010)
    violation("control-frame-too-long")
    k.clog.ping(b"p" * 126)
    k.c_send(frame(PING, b"p" * 126, mask=RNG.mask()))  # 126 bytes: 16-bit length form
    violation("control-frame-fragmented")
    k.clog.ping(b"ping FIN=0")
    k.c_send(frame(PING, b"ping FIN=0", fin=False, mask=RNG.mask()))
    violation("non-minimal-length")
    k.c_msg(TEXT, "short", length_form="16")  # 5 bytes in the 16-bit form
    k.s_msg(TEXT, "server: still here")
    # The server closes; the client's last frame has a 64-bit length with the
    # most significant bit set, after which its direction cannot be followed.
    k.s_close(1002, "protocol error")
    violation("length-msb-set")
    k.c_send(frame(BINARY, b"sixteen bytes!!!", mask=RNG.mask(), length_form="64",
                   raw_length=(1 << 63) | 16))
    k.end()


def fragments(lst):
    k = Conn(lst)
    k.handshake()
    violation("continuation-without-start")
    k.c_send(frame(CONT, b"orphan continuation", mask=RNG.mask()))
    k.c_msg(TEXT, "a normal message")
    # "abc" + "def" is one message; the complete text frame "xyz" intrudes
    # before its end.  Listed in the order they are complete: "xyz", "abcdef".
    k.c_send(frame(TEXT, b"abc", fin=False, mask=RNG.mask()))
    violation("data-inside-fragmented-message")
    k.c_msg(TEXT, b"xyz")
    k.clog.message("text", b"abcdef")
    k.c_send(frame(CONT, b"def", mask=RNG.mask()))
    k.s_msg(TEXT, "server: got it")
    # a correct fragmented binary message from the server, for contrast
    k.slog.message("binary", b"\x01\x02\x03\x04\x05\x06")
    k.s_send(frame(BINARY, b"\x01\x02\x03", fin=False))
    k.s_send(frame(CONT, b"\x04\x05\x06"))
    k.normal_close()


def utf8_close(lst):
    # 1: a text frame that is not UTF-8
    k = Conn(lst)
    k.handshake()
    violation("invalid-utf8-text")
    k.c_msg(TEXT, b"\xff\xfe")
    k.s_close(1007, "invalid UTF-8")
    k.c_close(1007, "invalid UTF-8")
    k.end()
    # 2: a close reason that is not UTF-8
    k = Conn(lst)
    k.handshake()
    k.c_msg(TEXT, "fine")
    violation("invalid-utf8-close-reason")
    k.c_close(1000, b"bad \xff\xfe".decode("utf-8", "replace"), payload=close_payload(1000, b"bad \xff\xfe"))
    k.s_close(1007, "invalid close reason")
    k.end()
    # 3: a close payload of one byte
    k = Conn(lst)
    k.handshake()
    k.c_msg(TEXT, "fine")
    violation("close-payload-one-byte")
    k.c_close(None, None, payload=b"\x03")
    k.s_close(1002, "one-byte close payload")
    k.end()
    # 4: close code 1005 written on the wire
    k = Conn(lst)
    k.handshake()
    violation("invalid-close-code")
    k.c_close(1005, "1005 must not be sent")
    k.s_close(1002, "invalid close code")
    k.end()
    # 5: close code 999
    k = Conn(lst)
    k.handshake()
    k.c_close(999, "below 1000")
    k.s_close(1002, "invalid close code")
    k.end()
    # 6: a data frame after the client's Close
    k = Conn(lst)
    k.handshake()
    k.c_msg(TEXT, "before close")
    k.c_close(1000, "done")
    violation("data-after-close")
    k.c_msg(TEXT, "too late")
    k.s_close(1000, "done")
    k.end()


def deflate_bytes(comp, data: bytes) -> bytes:
    out = comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def inflate_alone(data: bytes) -> bytes:
    d = zlib.decompressobj(-15)
    return d.decompress(data + b"\x00\x00\xff\xff")


def deflate(lst):
    # 1: permessage-deflate negotiated; one good compressed message, then garbage
    k = Conn(lst)
    k.handshake(extensions="permessage-deflate; client_max_window_bits",
                resp_extensions="permessage-deflate")
    ccomp = zlib.compressobj(9, zlib.DEFLATED, -15)
    scomp = zlib.compressobj(9, zlib.DEFLATED, -15)
    text = b"hello, compressed world! hello, compressed world!"
    k.clog.message("text", text)
    k.c_send(frame(TEXT, deflate_bytes(ccomp, text), rsv=0b100, mask=RNG.mask()))
    reply = b"server reply, compressed too"
    k.slog.message("text", reply)
    k.s_send(frame(TEXT, deflate_bytes(scomp, reply), rsv=0b100))
    violation("deflate-error")
    bad = b"\xff\xff\xff\xff this is not a deflate stream"
    try:
        inflate_alone(bad)
        raise AssertionError("garbage inflated?")
    except zlib.error:
        pass
    k.c_send(frame(BINARY, bad, rsv=0b100, mask=RNG.mask()))
    k.s_close(1007, "bad deflate data")
    k.c_close(1007, "bad deflate data")
    k.end()

    # 2: client_no_context_takeover negotiated, but the client keeps its window
    k = Conn(lst)
    k.handshake(extensions="permessage-deflate; client_no_context_takeover",
                resp_extensions="permessage-deflate; client_no_context_takeover")
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)  # ONE compressor for both messages
    msg = b'{"type":"reading","sensor":"greenhouse-temp-01","value":21.5,"unit":"celsius"}'
    c1 = deflate_bytes(comp, msg)
    c2 = deflate_bytes(comp, msg)
    assert inflate_alone(c1) == msg
    try:  # the second message cannot be inflated with a fresh window ...
        bad = inflate_alone(c2)
        assert bad != msg, "second message does not depend on the first's window"
    except zlib.error:
        pass
    d = zlib.decompressobj(-15)  # ... only with the first message's window kept
    assert d.decompress(c1 + b"\x00\x00\xff\xff") == msg
    assert d.decompress(c2 + b"\x00\x00\xff\xff") == msg
    k.clog.message("text", msg)
    k.c_send(frame(TEXT, c1, rsv=0b100, mask=RNG.mask()))
    violation("deflate-context-takeover-violated")
    k.clog.message("text", msg)
    k.c_send(frame(TEXT, c2, rsv=0b100, mask=RNG.mask()))
    reply = b"server: ok"
    k.slog.message("text", reply)
    k.s_send(frame(TEXT, deflate_bytes(zlib.compressobj(9, zlib.DEFLATED, -15), reply), rsv=0b100))
    k.normal_close()

    # 3: no extension negotiated, yet a compressed (RSV1) frame
    k = Conn(lst)
    k.handshake()
    violation("rsv-bits-without-extension")
    wire = deflate_bytes(zlib.compressobj(9, zlib.DEFLATED, -15), b"compressed without permission")
    k.c_msg(BINARY, wire, rsv=0b100)  # delivered as the bytes on the wire
    k.normal_close()


def handshake(lst):
    def exchange(k):
        k.c_msg(TEXT, "hi")
        k.s_msg(TEXT, "hi back")
        k.normal_close()

    k = Conn(lst)
    violation("handshake-key-invalid")
    k.handshake(key=RNG.key(10))  # base64 of 10 bytes, not 16
    exchange(k)

    k = Conn(lst)
    violation("handshake-version-invalid")
    k.handshake(version="12")
    exchange(k)

    k = Conn(lst)
    violation("handshake-host-missing")
    k.handshake(host=False)
    exchange(k)

    k = Conn(lst)
    violation("handshake-subprotocol-not-offered")
    k.handshake(protocols="chat.v1", resp_protocol="chat.v2")
    exchange(k)

    k = Conn(lst)
    violation("handshake-extension-not-offered")
    k.handshake(resp_extensions="permessage-deflate")
    exchange(k)  # frames stay uncompressed (RSV1 clear)

    k = Conn(lst)
    violation("handshake-client-frames-before-response")
    early = "sent before the 101 arrived"
    k.clog.message("text", early)
    k.handshake(early=frame(TEXT, early.encode(), mask=RNG.mask()))
    k.s_msg(TEXT, "hi back")
    k.normal_close()


GROUPS = {"masking": masking, "framing": framing, "fragments": fragments,
          "utf8-close": utf8_close, "deflate": deflate, "handshake": handshake}

if __name__ == "__main__":
    lst = socket.create_server((HOST, PORT))
    lst.settimeout(10)
    GROUPS[GROUP](lst)
    lst.close()
