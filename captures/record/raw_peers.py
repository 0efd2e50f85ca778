"""Hand-written socket peers (Python `socket` module only).

Usage:
  python3 raw_peers.py version-client HOST PORT
      sends a well-formed upgrade request with Sec-WebSocket-Version: 8 and
      reads the answer (used against py_server.py).
  python3 raw_peers.py wrong-accept-server HOST PORT READY_FILE
      answers one upgrade with 101 and a WRONG Sec-WebSocket-Accept.
  python3 raw_peers.py keepalive-server HOST PORT READY_FILE
  python3 raw_peers.py keepalive-client HOST PORT
      one TCP connection carrying GET /health, POST /x, GET /y (chunked
      answer), then a WebSocket upgrade and frames; plus a second,
      plain-HTTP-only connection.
Logs (WSSCOPE_LOG) what each peer sends.
"""

from __future__ import annotations

import socket
import sys
import time

from common import (Log, Rng, accept_for, addr, close_payload, frame, header, parse_head,
                    read_frame, recv_exact, recv_until, touch)

LOG = Log()
TIMEOUT = 10


def listen(host: str, port: int) -> socket.socket:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(8)
    s.settimeout(30)
    return s


def nodelay(s: socket.socket) -> socket.socket:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(TIMEOUT)
    return s


def read_body(sock, buf, headers) -> bytes:
    n = header(headers, "Content-Length")
    if n is None:
        return b""
    n = int(n)
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("EOF in body")
        buf += chunk
    body = bytes(buf[:n])
    del buf[:n]
    return body


def read_chunked(sock, buf) -> bytes:
    body = b""
    while True:
        line = recv_until(sock, b"\r\n", buf)
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            recv_until(sock, b"\r\n", buf)  # no trailers
            return body
        while len(buf) < size + 2:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("EOF in chunk")
            buf += chunk
        body += bytes(buf[:size])
        del buf[:size + 2]


def drain_until_eof(sock) -> None:
    sock.settimeout(5)
    try:
        while sock.recv(65536):
            pass
    except (socket.timeout, ConnectionError):
        pass


# --------------------------------------------------------------------------

def version_client(host: str, port: int) -> None:
    s = nodelay(socket.create_connection((host, port), timeout=TIMEOUT))
    log = LOG.conn("client", addr(s.getsockname()), addr(s.getpeername()))
    key = Rng(426).key()
    req = (f"GET /chat HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
           f"Sec-WebSocket-Version: 8\r\n\r\n").encode()
    s.sendall(req)
    buf = bytearray()
    start, headers = parse_head(recv_until(s, b"\r\n\r\n", buf))
    body = read_body(s, buf, headers)
    status = int(start.split()[1])
    log.handshake(status, header(headers, "Sec-WebSocket-Protocol"),
                  header(headers, "Sec-WebSocket-Extensions"), "status line read by the raw client")
    print(f"server answered: {start!r}, Sec-WebSocket-Version: {header(headers, 'Sec-WebSocket-Version')!r}, "
          f"body {body!r}")
    s.close()


def wrong_accept_server(host: str, port: int, ready: str) -> None:
    lst = listen(host, port)
    touch(ready)
    s, peer = lst.accept()
    nodelay(s)
    log = LOG.conn("server", addr(peer), addr(s.getsockname()))
    buf = bytearray()
    start, headers = parse_head(recv_until(s, b"\r\n\r\n", buf))
    key = header(headers, "Sec-WebSocket-Key")
    wrong = accept_for(key + "x")  # the accept of a different key
    assert wrong != accept_for(key)
    s.sendall((f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Accept: {wrong}\r\n\r\n").encode())
    log.handshake(101, None, None, "raw server, wrong Sec-WebSocket-Accept on purpose")
    LOG.violation("handshake-accept-mismatch")
    drain_until_eof(s)  # the client must give up and close
    s.close()
    lst.close()


# --------------------------------------------------------------------------

def http_response(status: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode() + body


def keepalive_server(host: str, port: int, ready: str) -> None:
    lst = listen(host, port)
    touch(ready)
    for _ in range(2):
        s, peer = lst.accept()
        nodelay(s)
        log = None
        buf = bytearray()
        while True:
            try:
                head = recv_until(s, b"\r\n\r\n", buf)
            except ConnectionError:
                break
            start, headers = parse_head(head)
            method, path, _ = start.split(" ", 2)
            body = read_body(s, buf, headers)
            if method == "GET" and path == "/health":
                out = b'{"status":"ok"}'
                s.sendall(http_response("200 OK", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(out)))], out))
            elif method == "POST" and path == "/x":
                out = b"received " + str(len(body)).encode() + b" bytes\r\n\r\nthank you"
                s.sendall(http_response("200 OK", [("Content-Type", "text/plain"),
                                                   ("Content-Length", str(len(out)))], out))
            elif method == "GET" and path == "/y":
                # chunked; one chunk even contains a blank line and a fake status line
                chunks = [b"chunk one;", b"\r\n\r\nHTTP/1.1 101 not really\r\n\r\n", b"last chunk"]
                out = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
                s.sendall(http_response("200 OK", [("Content-Type", "text/plain"),
                                                   ("Transfer-Encoding", "chunked")], out))
            elif method == "GET" and path == "/plain":
                out = b"just HTTP here, no upgrade\n"
                s.sendall(http_response("200 OK", [("Content-Type", "text/plain"),
                                                   ("Content-Length", str(len(out))),
                                                   ("Connection", "close")], out))
                break
            elif (header(headers, "Upgrade") or "").lower() == "websocket":
                key = header(headers, "Sec-WebSocket-Key")
                s.sendall(http_response("101 Switching Protocols", [
                    ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Accept", accept_for(key))]))
                log = LOG.conn("server", addr(peer), addr(s.getsockname()))
                log.handshake(101, None, None, "raw server, correct accept")
                while True:
                    fin, rsv, op, masked, payload = read_frame(s, buf)
                    assert masked and fin and rsv == 0
                    if op == 0x1:
                        log.message("text", payload)
                        s.sendall(frame(0x1, payload))  # echo, unmasked
                    elif op == 0x8:
                        log.close(1000, "bye")
                        s.sendall(frame(0x8, close_payload(1000, "bye")))
                        break
                break
            else:
                s.sendall(http_response("404 Not Found", [("Content-Length", "0")]))
        time.sleep(0.05)
        s.shutdown(socket.SHUT_WR)
        drain_until_eof(s)
        s.close()
    lst.close()


def keepalive_client(host: str, port: int) -> None:
    rng = Rng(15)
    hostport = f"{host}:{port}"

    # connection 1: three keep-alive requests, then the upgrade, on one TCP connection
    s = nodelay(socket.create_connection((host, port), timeout=TIMEOUT))
    me, srv = addr(s.getsockname()), addr(s.getpeername())
    buf = bytearray()

    def roundtrip(req: bytes):
        s.sendall(req)
        start, headers = parse_head(recv_until(s, b"\r\n\r\n", buf))
        if (header(headers, "Transfer-Encoding") or "").lower() == "chunked":
            body = read_chunked(s, buf)
        else:
            body = read_body(s, buf, headers)
        print(f"  {req.split(b' ')[0].decode()} {req.split(b' ')[1].decode()} -> {start} ({len(body)} body bytes)")
        time.sleep(0.05)
        return start, headers

    roundtrip(f"GET /health HTTP/1.1\r\nHost: {hostport}\r\nConnection: keep-alive\r\n"
              f"User-Agent: wsscope-raw/1\r\n\r\n".encode())
    post_body = b'{"note":"a body with a blank line\\r\\n\\r\\ninside","n":1}\r\n\r\nGET /fake HTTP/1.1\r\n\r\n'
    roundtrip(f"POST /x HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: text/plain\r\n"
              f"Content-Length: {len(post_body)}\r\n\r\n".encode() + post_body)
    roundtrip(f"GET /y HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
    key = rng.key()
    start, headers = roundtrip(
        f"GET /ws HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    assert start.split()[1] == "101" and header(headers, "Sec-WebSocket-Accept") == accept_for(key)
    log = LOG.conn("client", me, srv)
    log.handshake(101, None, None, "status line read by the raw client")
    text = "echo me, caf\u00e9"
    log.message("text", text)
    s.sendall(frame(0x1, text.encode(), mask=rng.mask()))
    fin, rsv, op, masked, payload = read_frame(s, buf)
    assert op == 0x1 and payload == text.encode() and not masked
    time.sleep(0.05)
    log.close(1000, "bye")
    s.sendall(frame(0x8, close_payload(1000, "bye"), mask=rng.mask()))
    fin, rsv, op, masked, payload = read_frame(s, buf)
    assert op == 0x8
    drain_until_eof(s)  # the server closes TCP first
    s.close()
    time.sleep(0.1)

    # connection 2: plain HTTP only (not a WebSocket connection; not in the expected JSON)
    s = nodelay(socket.create_connection((host, port), timeout=TIMEOUT))
    buf = bytearray()
    roundtrip(f"GET /plain HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
    drain_until_eof(s)
    s.close()


if __name__ == "__main__":
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "version-client":
        version_client(host, port)
    elif cmd == "wrong-accept-server":
        wrong_accept_server(host, port, sys.argv[4])
    elif cmd == "keepalive-server":
        keepalive_server(host, port, sys.argv[4])
    elif cmd == "keepalive-client":
        keepalive_client(host, port)
    else:
        sys.exit(f"unknown command {cmd}")
