"""Python `websockets` server peer.

Usage: python3 py_server.py SCENARIO HOST PORT NCONN READY_FILE
Serves NCONN connections, then exits.  Logs (WSSCOPE_LOG) what it sends.

SCENARIO:
  echo             echo every message back (no compression)
  version-426      a process_request hook answers requests whose
                   Sec-WebSocket-Version is not 13 with 426 Upgrade Required
                   and "Sec-WebSocket-Version: 13" (RFC 6455 section 4.4)
  version-default  no hook: what websockets itself answers to such a request
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys

import websockets
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from common import Log, addr, touch

LOG = Log()
SCENARIO, HOST, PORT, NCONN, READY = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]


def process_request(connection, request):
    if SCENARIO == "version-426" and request.headers.get("Sec-WebSocket-Version") != "13":
        response = connection.respond(426, "Upgrade Required: this server speaks WebSocket version 13.\n")
        response.headers["Upgrade"] = "websocket"
        response.headers["Sec-WebSocket-Version"] = "13"
        return response
    return None


def process_response(connection, request, response):
    # This is the response websockets is about to write.
    log = LOG.conn("server", addr(connection.remote_address), addr(connection.local_address))
    log.handshake(response.status_code, response.headers.get("Sec-WebSocket-Protocol"),
                  response.headers.get("Sec-WebSocket-Extensions"), "process_response")
    connection.wsscope_log = log
    return None


async def handler(ws):
    log = ws.wsscope_log
    try:
        async for message in ws:
            log.message("text" if isinstance(message, str) else "binary", message)
            await ws.send(message)
    except ConnectionClosed:
        pass
    await ws.wait_closed()
    sent = ws.protocol.close_sent
    # websockets answers a received Close by echoing its payload.
    log.close(sent.code if sent else None, sent.reason if sent else None,
              "websockets echo (protocol.close_sent)")


async def main():
    done = asyncio.Queue()

    async def track(connection):
        await connection.wait_closed()
        done.put_nowait(1)

    def process_response_and_track(connection, request, response):
        asyncio.get_running_loop().create_task(track(connection))
        return process_response(connection, request, response)

    tls = {}
    if os.environ.get("WSSCOPE_TLS_CERT"):
        # wss:// (record_wss.sh): the recording's own certificate.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.environ["WSSCOPE_TLS_CERT"], os.environ["WSSCOPE_TLS_KEY"])
        tls["ssl"] = ctx
    async with serve(handler, HOST, PORT, compression=None, ping_interval=None, **tls,
                     process_request=process_request,
                     process_response=process_response_and_track) as server:
        touch(READY)
        for _ in range(NCONN):
            await asyncio.wait_for(done.get(), 50)
        await asyncio.sleep(0.1)


if __name__ == "__main__":
    print(f"websockets {websockets.__version__} server: {SCENARIO} on {HOST}:{PORT}")
    asyncio.run(main())
