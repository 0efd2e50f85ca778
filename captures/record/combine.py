"""Turn the peers' JSONL logs into captures/expected/<name>.json.

Usage: python3 combine.py OUT.json CAPTURE_FILE_NAME "DESCRIPTION" LOG [LOG...]

Only the peers' own logs are read (what each application sent, its handshake
state); the capture file is never opened here.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    out, capture, description, *logs = sys.argv[1:]
    events = []
    for path in logs:
        try:
            with open(path, encoding="utf-8") as f:
                for i, line in enumerate(f):
                    if line.strip():
                        ev = json.loads(line)
                        ev["_order"] = (path, i)
                        events.append(ev)
        except FileNotFoundError:
            pass
    if not events:
        sys.exit(f"combine: no events in {logs}")

    conns: dict[tuple[str, str], dict] = {}
    violations: list[str] = []
    for ev in events:
        if ev["kind"] == "violation":
            if ev["code"] not in violations:
                violations.append(ev["code"])
            continue
        key = (ev["client"], ev["server"])
        c = conns.setdefault(key, {"events": [], "opened": None})
        c["events"].append(ev)
        if ev["kind"] == "open":
            # order connections by the time they were opened (earliest side's view)
            c["opened"] = ev["t"] if c["opened"] is None else min(c["opened"], ev["t"])

    result = []
    for (client, server), c in sorted(conns.items(), key=lambda kv: (kv[1]["opened"] or 0, kv[0])):
        evs = c["events"]
        hs_events = [e for e in evs if e["kind"] == "handshake"]
        if any(e["kind"] == "no_handshake" for e in evs):
            handshake = None
        elif hs_events:
            views = {}
            for e in hs_events:
                views.setdefault(e["side"], (e["status"], e["subprotocol"], e["extensions"]))
            if len(set(views.values())) != 1:
                sys.exit(f"combine: client and server disagree on the handshake of {client}: {views}")
            # the server's view is what it sent; the client's is what it received
            status, sub, ext = views.get("server", views.get("client"))
            handshake = {"status": status, "subprotocol": sub, "extensions": ext}
        else:
            sys.exit(f"combine: no handshake logged for {client} -> {server}")

        messages = {"client": [], "server": []}
        pings = {"client": 0, "server": 0}
        close = {"client": None, "server": None}
        for e in evs:
            side = e["side"]
            if e["kind"] == "message":
                messages[side].append({"opcode": e["opcode"], "len": e["len"], "sha256": e["sha256"]})
            elif e["kind"] == "ping":
                pings[side] += 1
            elif e["kind"] == "close":
                if close[side] is not None:
                    sys.exit(f"combine: two close frames logged for {side} of {client}")
                close[side] = {"code": e["code"], "reason": e["reason"]}
        result.append({
            "client": client,
            "server": server,
            "handshake": handshake,
            "messages": messages,
            "pings": pings,
            "close": close,
        })

    doc = {
        "capture": capture,
        "description": description,
        "connections": result,
        "violations": violations,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    n_msgs = sum(len(c["messages"]["client"]) + len(c["messages"]["server"]) for c in result)
    print(f"  expected: {len(result)} connection(s), {n_msgs} message(s), violations={violations}")


if __name__ == "__main__":
    main()
