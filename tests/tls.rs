//! wss:// through the TLS stage, beyond what tests/captures.rs compares (there, each
//! wss capture decrypted with its key log decodes to what its peers sent): without a key
//! a TLS flow is listed with the reason and nothing of it is decoded; with a wrong key
//! nothing unauthenticated is shown; key log lines that cannot be used are named.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use wsscope::model::{Capture, FlowKind};
use wsscope::tls::KeyLog;
use wsscope::{SessionConfig, decode_reader};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn decode(name: &str, keys: KeyLog, ports: Vec<u16>) -> Capture {
    let bytes = std::fs::read(root().join("captures").join(name)).expect("capture");
    let config = SessionConfig {
        keys: Arc::new(keys),
        ws_ports: ports,
        ..SessionConfig::default()
    };
    decode_reader(&bytes[..], config).expect("decode")
}

fn keys_of(name: &str) -> String {
    std::fs::read_to_string(root().join("captures").join(name)).expect("key log")
}

fn summary(capture: &Capture) -> String {
    let mut out = Vec::new();
    wsscope::export::summary::write(&mut out, capture, "capture").expect("summary");
    String::from_utf8(out).expect("utf-8")
}

const CAPTURES: [&str; 6] = [
    "wss-tls13-aes256",
    "wss-tls13-aes128",
    "wss-tls13-chacha",
    "wss-tls12-gcm",
    "wss-tls12-chacha",
    "wss-deflate",
];

/// Without a key (even with --port, which once decoded the ciphertext as 273 frames and
/// 821 violations) nothing is decoded, and the flow is listed with the client random
/// whose key log line is missing.
#[test]
fn without_a_key_a_tls_flow_is_listed_with_the_reason() {
    for name in CAPTURES {
        let port = 18030 + CAPTURES.iter().position(|n| *n == name).unwrap_or(0) as u16;
        let capture = decode(&format!("{name}.pcap"), KeyLog::default(), vec![port]);
        assert!(
            capture.connections.is_empty(),
            "{name}: {} connections",
            capture.connections.len()
        );
        assert_eq!(capture.stats.flows.get(&FlowKind::Tls), Some(&1), "{name}");
        let flow = capture.tls_flows.first().expect("listed");
        let random = hex::encode(flow.info.client_random.expect("client random"));
        assert!(
            keys_of(&format!("{name}.keys")).contains(&random),
            "{name}: the key log line is keyed by this random"
        );
        let why = flow.info.reason.as_deref().unwrap_or("");
        assert!(why.contains(&random), "{name}: {why}");
        let text = summary(&capture);
        assert!(text.contains("tls: no key log given"), "{text}");
        assert!(text.contains(&random), "{text}");
    }
}

/// Every secret altered by one bit: no record verifies, so no plaintext, no frame, no
/// violation; the reason names the record that did not verify.
#[test]
fn a_wrong_key_shows_nothing() {
    for name in CAPTURES {
        let altered: String = keys_of(&format!("{name}.keys"))
            .lines()
            .map(|l| {
                let mut parts: Vec<String> = l.split(' ').map(str::to_string).collect();
                if parts.len() == 3 {
                    let last = parts[2].pop().and_then(|c| c.to_digit(16)).unwrap_or(0);
                    parts[2].push(char::from_digit(last ^ 1, 16).unwrap_or('0'));
                }
                parts.join(" ") + "\n"
            })
            .collect();
        let mut keys = KeyLog::default();
        keys.add(&altered, "altered");
        assert!(keys.problems.is_empty());
        let capture = decode(&format!("{name}.pcap"), keys, Vec::new());
        assert!(
            capture.connections.is_empty(),
            "{name}: decoded from a wrong key"
        );
        let flow = capture.tls_flows.first().expect("listed");
        assert!(flow.info.key_found && !flow.info.decrypted, "{name}");
        let why = flow.info.reason.as_deref().unwrap_or("");
        assert!(why.contains("does not verify"), "{name}: {why}");
    }
}

/// One key log holding the secrets of every capture decrypts each; the JSON line says
/// what TLS showed.
#[test]
fn one_key_log_for_many_connections_and_the_json_line() {
    let mut keys = KeyLog::default();
    for name in CAPTURES {
        keys.add(&keys_of(&format!("{name}.keys")), name);
    }
    assert_eq!(keys.len(), 6);
    let capture = decode("wss-tls12-chacha.pcap", keys, Vec::new());
    let conn = capture.connections.first().expect("decrypted");
    let tls = conn.tls.as_ref().expect("tls");
    assert_eq!(tls.version, Some(0x0303));
    assert_eq!(tls.suite, Some(0xcca8));
    assert!(tls.decrypted);
    let mut out = Vec::new();
    wsscope::export::jsonl::write_connection_line(&mut out, conn).expect("json");
    let line: Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(line["tls"]["version"], "TLS 1.2");
    assert_eq!(
        line["tls"]["cipher"],
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
    );
    assert_eq!(line["tls"]["decrypted"], true);
    assert!(
        summary(&capture)
            .contains("tls: TLS 1.2, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256; decrypted")
    );
}

/// A key log for other connections says so; the capture of a plain TLS service (not
/// WebSocket) stays out of the WebSocket connections.
#[test]
fn key_logs_that_match_nothing_say_so() {
    let mut keys = KeyLog::default();
    keys.add(&keys_of("wss-tls12-gcm.keys"), "wss-tls12-gcm.keys");
    let capture = decode("not-ws-tls.pcap", keys, Vec::new());
    assert!(capture.connections.is_empty());
    let text = summary(&capture);
    assert!(
        text.contains("key logs: secrets for 1 TLS connections, none of them in this capture"),
        "{text}"
    );
}

mod common;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

    /// One byte of one packet of a wss capture changed (anywhere: headers, handshake,
    /// ciphertext): decoded with the right key, nothing appears that the unchanged
    /// capture lacks; a changed ciphertext byte fails its record's tag and is not shown.
    #[test]
    fn a_changed_byte_is_never_shown(
        file in 0usize..6,
        which in proptest::prelude::any::<u16>(),
        at in proptest::prelude::any::<u16>(),
        bit in 0u8..8,
    ) {
        use common::loss::{packets_of, pcap_of};
        let name = CAPTURES[file];
        let bytes = std::fs::read(root().join("captures").join(format!("{name}.pcap"))).expect("capture");
        let mut keys = KeyLog::default();
        keys.add(&keys_of(&format!("{name}.keys")), name);
        let keys = Arc::new(keys);
        let config = SessionConfig { keys: keys.clone(), ..SessionConfig::default() };
        let mut packets = packets_of(&bytes);
        let whole = decode_reader(&pcap_of(&packets.iter().collect::<Vec<_>>())[..], config.clone()).expect("decode");
        let n = packets.len();
        let p = &mut packets[usize::from(which) % n];
        // Past the link, IP and TCP headers (66 bytes on loopback), when there is payload.
        if p.data.len() > 66 {
            let i = 66 + usize::from(at) % (p.data.len() - 66);
            p.data[i] ^= 1 << bit;
        }
        let changed = decode_reader(&pcap_of(&packets.iter().collect::<Vec<_>>())[..], config).expect("decode");
        let hashes: std::collections::HashSet<_> = whole.connections.iter().flat_map(|c| c.messages.iter().filter_map(|m| m.sha256.clone())).collect();
        for c in &changed.connections {
            proptest::prop_assert!(c.violations.is_empty(), "{name}: {:?}", c.violations);
            for m in &c.messages {
                if let Some(h) = &m.sha256 {
                    proptest::prop_assert!(hashes.contains(h), "{name}: a message never sent");
                }
            }
        }
    }
}
