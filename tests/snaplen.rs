//! Short snaplen: captures whose packets keep only their first bytes (`tcpdump -s 128`).
//!
//! Two captures were recorded that way from real peers (`captures/record/record.sh
//! snaplen-128 snaplen-128-node`), and are compared with the peers' own record of what
//! they sent: every message is found, with its kind and its length (or, compressed, an
//! unknown length), and a hash only where the capture holds all its bytes, the right one.
//! Then every bundled capture is cut to several snaplens here: whatever the cut, nothing
//! is invented (no connection, frame, violation or hash the whole capture lacks), and
//! what the headers show is still found.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;

use common::loss::{Packet, packets_of, pcap_of};
use serde_json::Value;
use wsscope::model::{Capture, Connection, Dir, MessageKind};
use wsscope::{SessionConfig, decode_reader};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn decode(bytes: &[u8]) -> Capture {
    decode_reader(bytes, SessionConfig::default()).unwrap_or_else(|e| panic!("decode: {e}"))
}

/// A recorded snaplen capture against its record: what it must show.
fn check_recorded(name: &str) {
    let exp: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join(format!("captures/expected/{name}.json")))
            .unwrap_or_else(|e| panic!("{name}: {e}")),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let bytes = std::fs::read(
        root()
            .join("captures")
            .join(exp["capture"].as_str().unwrap_or("")),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let capture = decode(&bytes);
    assert!(capture.stats.cut_packets > 0, "{name}: no packet was cut?");
    assert_eq!(capture.stats.cut_to, 128, "{name}: the snaplen as seen");
    assert_eq!(
        capture.connections.len(),
        1,
        "{name}: one WebSocket connection"
    );
    let conn = &capture.connections[0];
    let want = &exp["connections"][0];
    assert_eq!(
        conn.client.to_string(),
        want["client"].as_str().unwrap_or("")
    );
    let hs = conn
        .handshake
        .as_ref()
        .expect("the handshake, as far as it shows");
    assert_eq!(hs.status(), Some(101), "{name}");
    assert!(!hs.observable, "{name}: both heads were cut");
    assert!(
        !hs.valid,
        "{name}: a handshake not fully seen is not called valid"
    );
    assert!(
        hs.checks.iter().any(|c| !c.judged),
        "{name}: some checks cannot be judged"
    );
    assert!(
        conn.violations.is_empty(),
        "{name}: the peers broke no rule: {:?}",
        conn.violations
    );
    let mut hashed = 0;
    for dir in [Dir::Client, Dir::Server] {
        let want: Vec<&Value> = want["messages"][dir.name()]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let got: Vec<_> = conn
            .messages_from(dir)
            .filter(|m| matches!(m.kind, MessageKind::Text | MessageKind::Binary))
            .collect();
        assert_eq!(
            got.len(),
            want.len(),
            "{name} {}: data messages",
            dir.name()
        );
        for (m, w) in got.iter().zip(&want) {
            let what = format!("{name} {} frames {:?}", dir.name(), m.frames);
            assert_eq!(Some(m.kind.name()), w["opcode"].as_str(), "{what}: kind");
            if m.len_unknown {
                assert!(m.compressed, "{what}: only an inflated length is unknown");
            } else {
                assert_eq!(Some(m.len), w["len"].as_u64(), "{what}: length");
            }
            match &m.sha256 {
                Some(h) => {
                    hashed += 1;
                    assert_eq!(Some(h.as_str()), w["sha256"].as_str(), "{what}: hash");
                    assert!(m.complete, "{what}");
                }
                None => assert!(!m.complete, "{what}: no hash, so not complete"),
            }
        }
    }
    assert!(
        hashed > 0,
        "{name}: the messages the capture holds whole are hashed"
    );
    let summary = {
        let mut out = Vec::new();
        wsscope::export::summary::write(&mut out, &capture, name).expect("summary");
        String::from_utf8(out).expect("utf-8")
    };
    assert_eq!(
        summary.matches("captured with snaplen 128").count(),
        1,
        "{summary}"
    );
    assert!(
        conn.warnings
            .iter()
            .any(|w| w.warning == wsscope::rules::Warning::Truncated
                && w.detail.contains("128 bytes")),
        "{name}: a truncated warning names the snaplen: {:?}",
        conn.warnings
    );
}

#[test]
fn python_client_node_server_cut_to_128_bytes() {
    check_recorded("snaplen-128");
}

#[test]
fn node_client_python_server_cut_to_128_bytes() {
    check_recorded("snaplen-128-node");
}

#[test]
fn json_lines_say_what_was_not_captured() {
    let bytes = std::fs::read(root().join("captures/snaplen-128.pcap")).expect("capture");
    let capture = decode(&bytes);
    let mut out = Vec::new();
    for c in &capture.connections {
        wsscope::export::jsonl::write_connection(&mut out, c).expect("export");
    }
    let lines: Vec<Value> = String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let conn = lines
        .iter()
        .find(|l| l["kind"] == "connection")
        .expect("a connection line");
    assert_eq!(conn["handshake"]["observable"], Value::Bool(false));
    let checks = conn["handshake"]["checks"].as_array().expect("checks");
    assert!(checks.iter().any(|c| c["ok"].is_null()), "{checks:?}");
    assert!(
        checks.iter().all(|c| c["ok"] != Value::Bool(false)),
        "{checks:?}"
    );
    // A compressed message cut by the snaplen: its inflated length is unknown.
    assert!(lines.iter().any(|l| l["kind"] == "message"
        && l["compressed"] == Value::Bool(true)
        && l["len"].is_null()
        && l["sha256"].is_null()));
}

/// A connection's identity in two decodes of the same packets.
type Key = (SocketAddr, SocketAddr);

/// A frame's identity: its connection, direction, first packet, opcode, length, FIN.
type FrameId = (Key, Dir, u64, u8, u64, bool);

fn frames_of(capture: &Capture) -> HashSet<FrameId> {
    capture
        .connections
        .iter()
        .flat_map(|c| {
            c.frames.iter().map(move |f| {
                (
                    (c.client, c.server),
                    f.dir,
                    f.packets.first().copied().unwrap_or(0),
                    f.header.opcode.bits(),
                    f.header.payload_len,
                    f.header.fin,
                )
            })
        })
        .collect()
}

fn by_key(capture: &Capture) -> HashMap<Key, &Connection> {
    capture
        .connections
        .iter()
        .map(|c| ((c.client, c.server), c))
        .collect()
}

/// `packets` with each one's captured bytes cut to `snaplen` (its length on the wire kept).
fn cut(packets: &[Packet], snaplen: usize) -> Vec<u8> {
    let cut: Vec<Packet> = packets
        .iter()
        .map(|p| {
            let mut p = p.clone();
            p.data.truncate(snaplen);
            p
        })
        .collect();
    pcap_of(&cut.iter().collect::<Vec<_>>())
}

#[test]
fn every_bundled_capture_cut_to_a_snaplen_invents_nothing() {
    let mut problems = Vec::new();
    let (mut frames_whole, mut frames_found) = (0usize, 0usize);
    let (mut conns_whole, mut conns_found) = (0usize, 0usize);
    for path in common::bundled_captures() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with("snaplen-") {
            continue;
        }
        let packets = packets_of(&std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}")));
        let whole = decode(&pcap_of(&packets.iter().collect::<Vec<_>>()));
        let whole_frames = frames_of(&whole);
        let whole_by = by_key(&whole);
        for snaplen in [96, 128, 200, 600] {
            let decoded = decode(&cut(&packets, snaplen));
            let at = format!("{name} cut to {snaplen}");
            for (key, c) in by_key(&decoded) {
                let Some(w) = whole_by.get(&key) else {
                    problems.push(format!("{at}: invented connection {key:?}"));
                    continue;
                };
                let rules: HashSet<_> = w.violations.iter().map(|v| v.rule).collect();
                for v in c.violations.iter().filter(|v| !rules.contains(&v.rule)) {
                    problems.push(format!(
                        "{at}: invented violation {} ({})",
                        v.rule.code(),
                        v.detail
                    ));
                }
                // A peer that broke a rule may be read differently once the handshake
                // that showed the rule is cut (RSV1 without permessage-deflate, say).
                for m in c.messages.iter().filter(|_| w.violations.is_empty()) {
                    let Some(h) = &m.sha256 else { continue };
                    if !w
                        .messages
                        .iter()
                        .any(|x| x.dir == m.dir && x.sha256.as_ref() == Some(h))
                    {
                        problems.push(format!(
                            "{at}: a {} {} message with a hash never sent",
                            m.dir.name(),
                            m.kind.name()
                        ));
                    }
                }
            }
            let found = frames_of(&decoded);
            for f in found.difference(&whole_frames) {
                problems.push(format!("{at}: invented frame {f:?}"));
            }
            // What can be found: the frames of connections whose handshake the whole
            // capture has (a flow seen from its middle needs evidence that a cut may hide).
            for (key, w) in &whole_by {
                if w.handshake.as_ref().is_none_or(|h| !h.accepted()) {
                    continue;
                }
                conns_whole += 1;
                let here = decoded
                    .connections
                    .iter()
                    .any(|c| (c.client, c.server) == *key);
                conns_found += usize::from(here);
                if !here && std::env::var_os("SNAPLEN_VERBOSE").is_some() {
                    println!("  {at}: connection {key:?} not found");
                }
                let mine: Vec<_> = whole_frames.iter().filter(|f| f.0 == *key).collect();
                frames_whole += mine.len();
                frames_found += mine.iter().filter(|f| found.contains(f)).count();
            }
        }
    }
    println!(
        "cut to 96/128/200/600 bytes: {conns_found} of {conns_whole} connections with a handshake found, {frames_found} of {frames_whole} of their frames ({:.2} %)",
        100.0 * frames_found as f64 / frames_whole.max(1) as f64
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        conns_found * 100 >= conns_whole * 97,
        "{conns_found} of {conns_whole} connections"
    );
    assert!(
        frames_found * 100 >= frames_whole * 98,
        "{frames_found} of {frames_whole} frames"
    );
}
