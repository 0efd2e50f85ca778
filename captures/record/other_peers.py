"""Peers of other TCP protocols, none of them WebSocket, for wsscope's
"not taken for WebSocket" captures (record_other.sh). Every byte on the wire is
written by a third-party or standard library, never by wsscope's authors:

  dns-server PORT READY / dns-client PORT   DNS over TCP (RFC 1035 §4.2.2, a
      2-byte length before each message): dnspython asks (dns.query.tcp, and
      send_tcp/receive_tcp for many queries on one connection), dnslib parses and
      writes the answers (up to ~3 KiB).
  rpc-server PORT READY / rpc-client PORT   a binary RPC over Python's
      multiprocessing.connection: pickles behind a 4-byte big-endian length,
      after the HMAC challenge of its authkey.

Traffic goes to 127.0.0.1 only; each peer stops by itself."""

import socket
import sys
import time


def dns_server(port, ready):
    # dnslib's own TCP server answers one query per connection; this one keeps the
    # connection open for more (RFC 7766 §6.2.1). dnslib parses and writes every
    # message; the 2-byte length before each is RFC 1035 §4.2.2's.
    import socketserver
    import struct
    import threading
    from dnslib import DNSRecord, RR, QTYPE, A, TXT

    def answer(data):
        request = DNSRecord.parse(data)
        reply = request.reply()
        name = str(request.q.qname)
        n = len(name)
        if request.q.qtype == QTYPE.TXT:
            # TXT answers of every size from ~100 B to ~2.7 KiB, in steps of ~90 B
            # (so their 2-byte lengths take many values: 0x02f5 reads like a frame).
            size = 60 + (sum(name.encode()) * 7 % 30) * 90
            text = ("v=" + name * 100)[:size]
            strings = [text[j : j + 200] for j in range(0, len(text), 200)]
            reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(strings), ttl=60))
        else:
            for i in range(1 + n % 5):
                reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(f"10.0.{n % 250}.{i + 1}"), ttl=300))
        return reply.pack()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            f = self.request.makefile("rb")
            while True:
                head = f.read(2)
                if len(head) < 2:
                    return
                (length,) = struct.unpack("!H", head)
                out = answer(f.read(length))
                self.request.sendall(struct.pack("!H", len(out)) + out)

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
    threading.Timer(8, server.shutdown).start()
    open(ready, "w").close()
    server.serve_forever()


def dns_client(port):
    import dns.message
    import dns.query

    names = [f"host{i}.example.test" for i in range(12)] + [f"svc-{i}.long-name.example.test" for i in range(12)]
    # One connection per query, as most resolvers do ...
    for name in names[:6]:
        q = dns.message.make_query(name, "A")
        r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=5)
        print(name, len(r.answer))
    # ... and many queries on one connection (RFC 7766 §6.2.1).
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for name in names:
            for rdtype in ("A", "TXT"):
                q = dns.message.make_query(name, rdtype)
                dns.query.send_tcp(sock, q)
                r, _ = dns.query.receive_tcp(sock)
                print(name, rdtype, len(r.to_wire()))


def rpc_server(port, ready):
    from multiprocessing.connection import Listener

    store = {}
    with Listener(("127.0.0.1", port), authkey=b"wsscope-example") as listener:
        open(ready, "w").close()
        with listener.accept() as conn:
            while True:
                try:
                    call = conn.recv()
                except EOFError:
                    return
                if call[0] == "put":
                    store[call[1]] = call[2]
                    conn.send(len(store))
                else:
                    conn.send(store.get(call[1]))


def rpc_client(port):
    from multiprocessing.connection import Client

    with Client(("127.0.0.1", port), authkey=b"wsscope-example") as conn:
        for i in range(40):
            conn.send(("put", f"key-{i}", {"n": i, "blob": bytes(range(256)) * (i % 9), "text": "é" * i}))
            conn.recv()
        for i in range(40):
            conn.send(("get", f"key-{i}"))
            print(i, conn.recv()["n"])


if __name__ == "__main__":
    what, port = sys.argv[1], int(sys.argv[2])
    {"dns-server": lambda: dns_server(port, sys.argv[3]),
     "dns-client": lambda: dns_client(port),
     "rpc-server": lambda: rpc_server(port, sys.argv[3]),
     "rpc-client": lambda: rpc_client(port)}[what]()
