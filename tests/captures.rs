//! Every bundled capture decodes to exactly what its peers sent.
//!
//! `captures/record/record.sh` ran real third-party peers (Python `websockets`, Node `ws`,
//! hand-written raw-socket peers for the violations) over loopback under tcpdump/dumpcap,
//! and wrote `captures/expected/NAME.json` from the peers' own record of what they sent.
//! These tests decode the capture with wsscope and compare with that record; nothing
//! here comes from wsscope's own earlier output.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

mod common;

use serde_json::Value;
use wsscope::decode_reader;
use wsscope::model::{Capture, Connection, Dir, MessageKind};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Decodes a bundled capture; a wss capture with its key log (`NAME.keys` beside it).
fn decode(path: &Path) -> Capture {
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let config = common::loss::config_for(path);
    decode_reader(std::io::BufReader::new(file), config)
        .unwrap_or_else(|e| panic!("decode {}: {e}", path.display()))
}

fn expected(name: &str) -> Value {
    let path = root()
        .join("captures/expected")
        .join(format!("{name}.json"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn kind_name(k: MessageKind) -> &'static str {
    k.name()
}

/// Compares one connection with the generator's record; returns the differences.
fn compare_connection(conn: &Connection, exp: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let id = conn.client.to_string();
    if exp["server"].as_str() != Some(conn.server.to_string().as_str()) {
        diffs.push(format!(
            "{id}: server {} vs expected {}",
            conn.server, exp["server"]
        ));
    }
    match (&exp["handshake"], &conn.handshake) {
        (Value::Null, None) => {}
        (Value::Null, Some(_)) => diffs.push(format!("{id}: decoded a handshake, none expected")),
        (_, None) => diffs.push(format!("{id}: no handshake decoded")),
        (h, Some(hs)) => {
            if h["status"].as_u64().map(|s| s as u16) != hs.status() {
                diffs.push(format!("{id}: status {:?} vs {}", hs.status(), h["status"]));
            }
            if h["subprotocol"].as_str() != hs.subprotocol.as_deref() {
                diffs.push(format!(
                    "{id}: subprotocol {:?} vs {}",
                    hs.subprotocol, h["subprotocol"]
                ));
            }
            if h["extensions"].as_str() != hs.extensions.as_deref() {
                diffs.push(format!(
                    "{id}: extensions {:?} vs {}",
                    hs.extensions, h["extensions"]
                ));
            }
        }
    }
    for dir in [Dir::Client, Dir::Server] {
        let want: Vec<(String, u64, String)> = exp["messages"][dir.name()]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| {
                        (
                            m["opcode"].as_str().unwrap_or("?").to_string(),
                            m["len"].as_u64().unwrap_or(u64::MAX),
                            m["sha256"].as_str().unwrap_or("?").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Messages that could not be decoded whole (hash null: an aborted fragmented
        // message, a payload that does not inflate) are not ones the peer completed;
        // the generator lists every message that a tolerant receiver would assemble.
        // In the order a receiver gets them: by the index of their last frame (an
        // interleaved single-frame message is delivered before the one it interrupts).
        let mut data: Vec<_> = conn
            .messages_from(dir)
            .filter(|m| matches!(m.kind, MessageKind::Text | MessageKind::Binary))
            .filter(|m| m.sha256.is_some())
            .collect();
        data.sort_by_key(|m| m.frames.last().copied().unwrap_or(0));
        let got: Vec<(String, u64, String)> = data
            .into_iter()
            .map(|m| {
                (
                    kind_name(m.kind).to_string(),
                    m.len,
                    m.sha256.clone().unwrap_or_else(|| "null".into()),
                )
            })
            .collect();
        if want != got {
            diffs.push(format!(
                "{id}: {} data messages differ:\n   got  {got:?}\n   want {want:?}",
                dir.name()
            ));
        }
        if let Some(pings) = exp["pings"][dir.name()].as_u64() {
            let got = conn
                .messages_from(dir)
                .filter(|m| m.kind == MessageKind::Ping)
                .count() as u64;
            if got != pings {
                diffs.push(format!(
                    "{id}: {} pings {got} vs expected {pings}",
                    dir.name()
                ));
            }
        }
        let close = &exp["close"][dir.name()];
        let got_close = conn
            .messages_from(dir)
            .find(|m| m.kind == MessageKind::Close);
        match (close, got_close) {
            (Value::Null, None) => {}
            (Value::Null, Some(_)) => {
                diffs.push(format!("{id}: {} sent a Close, none expected", dir.name()))
            }
            (_, None) => diffs.push(format!("{id}: {} Close missing", dir.name())),
            (c, Some(m)) => {
                let code = c["code"].as_u64().map(|v| v as u16);
                if code != m.close_code {
                    diffs.push(format!(
                        "{id}: {} close code {:?} vs {code:?}",
                        dir.name(),
                        m.close_code
                    ));
                }
                if let Some(reason) = c["reason"].as_str()
                    && m.close_reason.as_deref().unwrap_or("") != reason
                {
                    diffs.push(format!(
                        "{id}: {} close reason {:?} vs {reason:?}",
                        dir.name(),
                        m.close_reason
                    ));
                }
            }
        }
    }
    diffs
}

/// MQTT control packets and STOMP frames decoded by wsscope, per direction, against the
/// generator's list (`subprotocol_packets`, `mqtt_topics`).
fn compare_subprotocol(capture: &Capture, exp: &Value) -> Vec<String> {
    use wsscope::analysis::subprotocol::{decode_message, mqtt_packets, mqtt_v5_of};
    let mut diffs = Vec::new();
    if exp.get("subprotocol_packets").is_none() {
        return diffs;
    }
    let conn = &capture.connections[0];
    let mut topics = Vec::new();
    for dir in [Dir::Client, Dir::Server] {
        let want: Vec<String> = exp["subprotocol_packets"][dir.name()]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let got: Vec<String> = if exp.get("mqtt_topics").is_some() {
            let (packets, err) = mqtt_packets(conn, dir, mqtt_v5_of(conn));
            if let Some(e) = err {
                diffs.push(format!("{} MQTT stream: {e}", dir.name()));
            }
            topics.extend(packets.iter().filter_map(|(_, p)| p.topic.clone()));
            packets
                .into_iter()
                .map(|(_, p)| p.name.to_string())
                .collect()
        } else {
            conn.messages_from(dir)
                .filter_map(|m| decode_message(conn, m))
                .flat_map(|d| d.units)
                .collect()
        };
        if got != want {
            diffs.push(format!(
                "{} subprotocol packets:\n   got  {got:?}\n   want {want:?}",
                dir.name()
            ));
        }
    }
    if let Some(want) = exp.get("mqtt_topics").and_then(Value::as_array) {
        let want: Vec<&str> = want.iter().filter_map(Value::as_str).collect();
        if topics != want {
            diffs.push(format!("MQTT topics {topics:?} vs {want:?}"));
        }
    }
    diffs
}

fn check_capture(name: &str) {
    let exp = expected(name);
    let file = exp["capture"].as_str().expect("capture name");
    let capture = decode(&root().join("captures").join(file));
    assert!(
        capture.source_error.is_none(),
        "{file}: {:?}",
        capture.source_error
    );
    let mut diffs = Vec::new();
    let want_conns = exp["connections"].as_array().cloned().unwrap_or_default();
    if want_conns.len() != capture.connections.len() {
        diffs.push(format!(
            "{} connections decoded, {} expected: {:?}",
            capture.connections.len(),
            want_conns.len(),
            capture
                .connections
                .iter()
                .map(|c| c.client.to_string())
                .collect::<Vec<_>>()
        ));
    }
    for want in &want_conns {
        let client = want["client"].as_str().unwrap_or("");
        match capture
            .connections
            .iter()
            .find(|c| c.client.to_string() == client)
        {
            Some(conn) => diffs.extend(compare_connection(conn, want)),
            None => diffs.push(format!("connection from {client} not decoded")),
        }
    }
    let want_violations: BTreeSet<String> = exp["violations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let got_violations: BTreeSet<String> = capture
        .connections
        .iter()
        .flat_map(|c| c.violations.iter().map(|v| v.rule.code().to_string()))
        .collect();
    if want_violations != got_violations {
        let detail: Vec<String> = capture
            .connections
            .iter()
            .flat_map(|c| {
                c.violations.iter().map(move |v| {
                    format!(
                        "#{} {} frame {:?}: {}",
                        c.id,
                        v.rule.code(),
                        v.frame,
                        v.detail
                    )
                })
            })
            .collect();
        diffs.push(format!(
            "violations {got_violations:?} vs expected {want_violations:?}\n   {}",
            detail.join("\n   ")
        ));
    }
    diffs.extend(compare_subprotocol(&capture, &exp));
    // Clean captures have no capture problems either, except a midstream start, and
    // every message in them decodes whole.
    for c in &capture.connections {
        if want_violations.is_empty() {
            for m in c.messages.iter().filter(|m| m.sha256.is_none()) {
                diffs.push(format!(
                    "#{} {} {} message at frames {:?} did not decode whole",
                    c.id,
                    m.dir.name(),
                    m.kind.name(),
                    m.frames
                ));
            }
        }
        // The record says whether each side sent a Close: a missing one must be reported.
        let unclosed = want_conns.iter().any(|w| {
            w["client"].as_str() == Some(c.client.to_string().as_str())
                && (w["close"]["client"].is_null() || w["close"]["server"].is_null())
        });
        let refused = c.handshake.as_ref().is_some_and(|h| !h.accepted());
        if unclosed && !refused && want_violations.is_empty() {
            let reported = c
                .warnings
                .iter()
                .any(|w| w.warning == wsscope::rules::Warning::NoClosingHandshake);
            if !reported {
                diffs.push(format!(
                    "#{} ended without a closing handshake, but no warning says so",
                    c.id
                ));
            }
        }
        for w in &c.warnings {
            let expected_midstream =
                w.warning == wsscope::rules::Warning::Midstream && c.handshake.is_none();
            let expected_unclosed =
                w.warning == wsscope::rules::Warning::NoClosingHandshake && unclosed;
            if !expected_midstream && !expected_unclosed && want_violations.is_empty() {
                diffs.push(format!(
                    "#{} unexpected warning {}: {}",
                    c.id,
                    w.warning.code(),
                    w.detail
                ));
            }
        }
    }
    assert!(diffs.is_empty(), "{file}:\n - {}", diffs.join("\n - "));
}

macro_rules! capture_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $( #[test] fn $test() { check_capture($name); } )*

        /// Every expected record in captures/expected has a test above.
        #[test]
        fn every_capture_is_tested() {
            // Captures cut by a snaplen are compared with their record in tests/snaplen.rs.
            let listed: BTreeSet<&str> = [$($name),*].into_iter().chain(["snaplen-128", "snaplen-128-node"]).collect();
            let mut missing = Vec::new();
            for entry in fs::read_dir(root().join("captures/expected")).expect("captures/expected") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == "json") {
                    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
                    if !listed.contains(stem.as_str()) {
                        missing.push(stem);
                    }
                }
            }
            assert!(missing.is_empty(), "captures without a test: {missing:?}");
        }
    };
}

capture_tests! {
    demo => "demo",
    echo_sizes => "echo-sizes",
    echo_sizes_ns => "echo-sizes-ns",
    ping_pong => "ping-pong",
    close_codes => "close-codes",
    deflate_takeover => "deflate-takeover",
    deflate_no_takeover => "deflate-no-takeover",
    fragmented => "fragmented",
    subprotocol => "subprotocol",
    multi_conn => "multi-conn",
    ipv6 => "ipv6",
    any_sll => "any-sll",
    any_sll2 => "any-sll2",
    any_sll2_ng => "any-sll2-ng",
    refused_403 => "refused-403",
    refused_426 => "refused-426",
    refused_400_version => "refused-400-version",
    wrong_accept => "wrong-accept",
    keepalive_then_upgrade => "keepalive-then-upgrade",
    midstream => "midstream",
    violations_masking => "violations-masking",
    violations_framing => "violations-framing",
    violations_fragments => "violations-fragments",
    violations_utf8_close => "violations-utf8-close",
    violations_deflate => "violations-deflate",
    violations_handshake => "violations-handshake",
    mqtt => "mqtt",
    stomp => "stomp",
    wss_tls13_aes256 => "wss-tls13-aes256",
    wss_tls13_aes128 => "wss-tls13-aes128",
    wss_tls13_chacha => "wss-tls13-chacha",
    wss_tls12_gcm => "wss-tls12-gcm",
    wss_tls12_chacha => "wss-tls12-chacha",
    wss_deflate => "wss-deflate",
    wss_dsb => "wss-dsb",
}
