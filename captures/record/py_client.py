"""Python `websockets` client peer.

Usage: python3 py_client.py SCENARIO URI [GO_FILE READY_FILE]
Logs (WSSCOPE_LOG) what this client sends, read from its own calls/state.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import sys

import websockets
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from common import Log, addr, make_bytes, make_text, touch, wait_for_file

LOG = Log()
SCENARIO, URI = sys.argv[1], sys.argv[2]

BASE = dict(ping_interval=None, proxy=None, compression=None, open_timeout=10, close_timeout=5)

if URI.startswith("wss:"):
    # wss:// (record_wss.sh): trust the recording's own CA, write the TLS secrets to the
    # key log (NSS format, what SSLKEYLOGFILE gives), optionally cap the version or pick
    # TLS 1.2 suites (TLS 1.3 suites come from OPENSSL_CONF: Python has no setter).
    import os
    import ssl

    _ctx = ssl.create_default_context(cafile=os.environ["WSSCOPE_TLS_CA"])
    _ctx.keylog_filename = os.environ["WSSCOPE_KEYLOG"]
    if os.environ.get("WSSCOPE_TLS_MAX") == "1.2":
        _ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if os.environ.get("WSSCOPE_TLS12_CIPHERS"):
        _ctx.set_ciphers(os.environ["WSSCOPE_TLS12_CIPHERS"])
    BASE["ssl"] = _ctx


class Peer:
    """A websockets connection plus the log of what we sent on it."""

    def __init__(self, ws, handshake=True):
        self.ws = ws
        self.log = LOG.conn("client", addr(ws.local_address), addr(ws.remote_address),
                            request_extensions=ws.request.headers.get("Sec-WebSocket-Extensions"),
                            request_protocols=ws.request.headers.get("Sec-WebSocket-Protocol"))
        if handshake:
            r = ws.response
            self.log.handshake(r.status_code, r.headers.get("Sec-WebSocket-Protocol"),
                               r.headers.get("Sec-WebSocket-Extensions"), "ws.response")
        else:
            self.log.no_handshake()

    async def send(self, data):
        if isinstance(data, str):
            self.log.message("text", data)
        else:
            self.log.message("binary", data)
        await self.ws.send(data)

    async def ping(self, data, wait=True):
        self.log.ping(data)
        pong = await self.ws.ping(data)
        if wait:
            await asyncio.wait_for(pong, 5)

    async def recv(self):
        return await asyncio.wait_for(self.ws.recv(), 10)

    async def close(self, code, reason):
        self.log.close(code, reason, "explicit ws.close(code, reason)")
        await self.ws.close(code, reason)

    async def wait_server_close(self):
        """Wait for the server to close; websockets echoes the server's Close frame."""
        try:
            async with asyncio.timeout(10):
                while True:
                    await self.ws.recv()
        except ConnectionClosed:
            pass
        sent = self.ws.protocol.close_sent
        self.log.close(sent.code if sent else None, sent.reason if sent else None,
                       "websockets echo (protocol.close_sent)")


async def echo_roundtrip(p: Peer, data):
    await p.send(data)
    back = await p.recv()
    assert back == data, "echo mismatch"


async def demo():
    async with connect(URI, **{**BASE, "compression": "deflate"}, subprotocols=["chat.v1"]) as ws:
        p = Peer(ws)
        await p.send(json.dumps({"type": "join", "user": "ada"}))
        print(await p.recv())
        await p.send(json.dumps({"type": "msg", "to": "grace", "text": "hello, grace!"}))
        print(await p.recv())
        await p.ping("are-you-there")
        # a small binary "avatar": PNG signature + deterministic bytes
        await p.send(b"\x89PNG\r\n\x1a\n" + make_bytes(56, 7))
        print(await p.recv())  # history, sent by the server in three frames
        await p.send(json.dumps({"type": "leave", "user": "ada"}))
        await asyncio.sleep(0.05)
        await p.close(1000, "bye")


async def echo_sizes():
    async with connect(URI, **BASE, max_size=2**20) as ws:
        p = Peer(ws)
        for n in (0, 1, 125, 126, 65535, 65536, 100000):
            await echo_roundtrip(p, make_text(n, seed=n))
            await echo_roundtrip(p, make_bytes(n, seed=n + 1))
        await p.close(1000, "done")


async def small_echo():
    async with connect(URI, **BASE) as ws:
        p = Peer(ws)
        await echo_roundtrip(p, "hello over " + SCENARIO)
        await echo_roundtrip(p, make_bytes(32, 11))
        await echo_roundtrip(p, "caf\u00e9 \u2713 \U0001F600")
        await p.close(1000, "done")


async def ping_pong():
    async with connect(URI, **BASE) as ws:
        p = Peer(ws)
        await p.ping("hb-1")
        await asyncio.sleep(0.1)
        await p.ping("hb-2")
        await asyncio.sleep(1.0)  # idle gap
        await p.send("status?")
        assert await p.recv() == "ok"
        await asyncio.sleep(0.1)
        await p.ping("hb-3")
        await p.wait_server_close()  # server closes with 1001 "going away"


CLOSE_PLAN = {1: ("client", 1000, "normal"), 2: ("server", 1001, "going away"),
              3: ("server", 1008, "policy"), 4: ("client", 4000, "ferm\u00e9 \u2713"),
              5: ("client", 3000, "")}


async def close_codes():
    for n, (who, code, reason) in CLOSE_PLAN.items():
        async with connect(URI, **BASE) as ws:
            p = Peer(ws)
            await p.send(f"conn {n}")
            assert await p.recv() == f"ack {n}"
            if who == "client":
                await p.close(code, reason)
            else:
                await p.wait_server_close()
        await asyncio.sleep(0.1)


def sensor_json(i: int) -> str:
    return json.dumps({"type": "reading", "seq": i, "sensor": "greenhouse-temp-01",
                       "value": round(21.5 + 0.1 * i, 1), "unit": "celsius",
                       "tags": ["north", "row-3", "calibrated"],
                       "ts": f"2024-05-01T12:00:{i:02d}Z"})


async def deflate(extensions=None):
    kw = dict(BASE)
    if extensions is None:
        kw["compression"] = "deflate"  # websockets' default offer
    else:
        kw["extensions"] = extensions
    async with connect(URI, **kw) as ws:
        p = Peer(ws)
        for i in range(12):
            await echo_roundtrip(p, sensor_json(i))
        # one larger, very repetitive binary message
        await echo_roundtrip(p, b"ABCD" * 1024)
        await p.close(1000, "done")


async def fragmented():
    async with connect(URI, **BASE) as ws:
        p = Peer(ws)
        # 1. iterable of str: websockets sends one frame per item, then an
        #    empty final continuation frame (FIN=1).
        parts = ["Hello, ", "fragmented ", "world"]
        p.log.message("text", "".join(parts))
        await ws.send(parts)

        # 2. async iterator of bytes with a ping sent between two fragments.
        chunks = [make_bytes(20, 21), make_bytes(300, 22), make_bytes(7, 23)]

        async def agen():
            yield chunks[0]
            p.log.ping("mid-message")
            await ws.ping("mid-message")
            yield chunks[1]
            yield chunks[2]

        p.log.message("binary", b"".join(chunks))
        await ws.send(agen())

        # 3. text sent as UTF-8 byte chunks with text=True, cut inside characters:
        #    "café crème brûlée" -> b"caf\xc3" | b"\xa9 cr\xc3" | b"\xa8me br\xc3\xbbl\xc3\xa9e"
        whole = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e".encode()
        cuts = [whole[:4], whole[4:9], whole[9:]]
        assert cuts[0] == b"caf\xc3" and cuts[1] == b"\xa9 cr\xc3"
        p.log.message("text", whole)
        await ws.send(cuts, text=True)

        await p.send("your turn")
        got = []
        while True:
            m = await p.recv()
            got.append(m)
            if m == "done":
                break
        print([m if isinstance(m, str) else len(m) for m in got])
        await p.close(1000, "done")


async def subprotocol():
    async with connect(URI, **BASE, subprotocols=["v2.chat", "v1.chat"]) as ws:
        p = Peer(ws)
        assert ws.subprotocol == "v1.chat"
        await p.send("hello in v1")
        await p.recv()
        await p.close(1000, "done")


async def multi_conn():
    async def one(i: int):
        rnd = random.Random(100 + i)
        # compression left at websockets' default: the client offers
        # permessage-deflate, the server (perMessageDeflate: false) declines.
        async with connect(URI, **{**BASE, "compression": "deflate"}) as ws:
            p = Peer(ws)
            for j in range(6):
                await asyncio.sleep(rnd.uniform(0.01, 0.08))
                if j % 2:
                    await echo_roundtrip(p, make_bytes(rnd.randint(1, 300), 1000 * i + j))
                else:
                    await echo_roundtrip(p, f"conn {i} message {j}: " + make_text(rnd.randint(0, 200), 1000 * i + j))
            await asyncio.sleep(rnd.uniform(0.01, 0.05))
            await p.close(1000, f"conn {i} done")

    await asyncio.gather(*(one(i) for i in range(1, 6)))


async def midstream():
    go_file, ready_file = sys.argv[3], sys.argv[4]
    async with connect(URI, **BASE) as ws:
        # The capture starts after this point, so it holds no handshake.
        p = Peer(ws, handshake=False)
        touch(ready_file)
        await asyncio.to_thread(wait_for_file, go_file, 20)
        await asyncio.sleep(0.2)
        await echo_roundtrip(p, "first message after the capture started")
        await echo_roundtrip(p, make_bytes(200, 31))
        await echo_roundtrip(p, make_text(300, 32))
        await p.ping("mid-ping")
        await p.close(1000, "done")


def preconnected() -> socket.socket:
    """A TCP socket connected by us, so we know our address even if the handshake fails."""
    host, port = URI.split("//")[1].split("/")[0].rsplit(":", 1)
    return socket.create_connection((host.strip("[]"), int(port)), timeout=10)


async def refused():
    sock = preconnected()
    log = LOG.conn("client", addr(sock.getsockname()), addr(sock.getpeername()))
    try:
        async with connect(URI, **BASE, sock=sock):
            raise AssertionError("handshake unexpectedly succeeded")
    except InvalidStatus as exc:
        r = exc.response
        log.handshake(r.status_code, r.headers.get("Sec-WebSocket-Protocol"),
                      r.headers.get("Sec-WebSocket-Extensions"), "InvalidStatus.response")
        print("refused as expected:", exc)


async def wrong_accept():
    sock = preconnected()
    log = LOG.conn("client", addr(sock.getsockname()), addr(sock.getpeername()))
    try:
        async with connect(URI, **BASE, sock=sock):
            raise AssertionError("handshake unexpectedly succeeded")
    except InvalidHandshake as exc:
        log.note(f"websockets rejected the handshake: {exc!r}")
        print("rejected as expected:", repr(exc))


SCENARIOS = {
    "demo": demo, "echo-sizes": echo_sizes, "small-echo": small_echo,
    "ping-pong": ping_pong, "close-codes": close_codes,
    "deflate-takeover": lambda: deflate(None),
    "deflate-no-takeover": lambda: deflate([ClientPerMessageDeflateFactory(
        server_max_window_bits=10, client_no_context_takeover=True,
        server_no_context_takeover=True)]),
    "fragmented": fragmented, "subprotocol": subprotocol, "multi-conn": multi_conn,
    "midstream": midstream, "refused": refused, "wrong-accept": wrong_accept,
}

if __name__ == "__main__":
    print(f"websockets {websockets.__version__}: {SCENARIO} -> {URI}")
    asyncio.run(asyncio.wait_for(SCENARIOS[SCENARIO](), 60))
