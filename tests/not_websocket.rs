//! RFC 6455 §4: a connection is WebSocket after its opening handshake. One whose start is
//! in the capture is WebSocket only if the handshake is too; one seen from its middle only
//! on the evidence of frames that chain exactly both ways. The captures of other TCP
//! protocols (`captures/not-ws-*.pcap`, recorded by `captures/record/record_other.sh`
//! from openssl, dnspython with dnslib, and Python's multiprocessing.connection) must
//! never be taken for WebSocket, whole or cut at any packet; the WebSocket captures cut
//! after their handshake must still be found, with nothing invented.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use common::loss::{Packet, compare, packets_of, pcap_of};
use wsscope::decode::decode_packet;
use wsscope::{SessionConfig, decode_reader};

fn capture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The packets of `packets` without the first `cut` packets of each TCP flow (its SYNs
/// and first data): each flow is then seen from its middle.
fn from_the_middle(packets: &[Packet], cut: usize) -> Vec<&Packet> {
    let mut seen: HashMap<(std::net::SocketAddr, std::net::SocketAddr), usize> = HashMap::new();
    packets
        .iter()
        .filter(|p| {
            let Ok(seg) = decode_packet(&p.as_ref()) else {
                return true;
            };
            let key = if seg.src < seg.dst {
                (seg.src, seg.dst)
            } else {
                (seg.dst, seg.src)
            };
            let n = seen.entry(key).or_insert(0);
            *n += 1;
            *n > cut
        })
        .collect()
}

/// Connections and violations wsscope finds in `packets`.
fn found(packets: &[&Packet], config: &SessionConfig) -> (usize, usize) {
    let bytes = pcap_of(packets);
    let cap = decode_reader(&bytes[..], config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let violations = cap.connections.iter().map(|c| c.violations.len()).sum();
    (cap.connections.len(), violations)
}

#[test]
fn other_protocols_are_not_websocket_whole_or_seen_from_their_middle() {
    let config = SessionConfig::default();
    let mut tried = 0;
    for name in ["not-ws-tls.pcap", "not-ws-dns.pcap", "not-ws-rpc.pcap"] {
        let packets = packets_of(&capture(name));
        assert!(packets.len() > 100, "{name}: {} packets", packets.len());
        for cut in 0..40 {
            let kept = from_the_middle(&packets, cut);
            assert_eq!(
                found(&kept, &config),
                (0, 0),
                "{name} without the first {cut} packets of each flow"
            );
            tried += 1;
        }
    }
    assert_eq!(tried, 120);
}

#[test]
fn a_connection_seen_from_its_middle_is_decoded_from_its_first_frame_on() {
    // Each capture cut at every packet after its handshake (the handshake, the SYNs
    // and whatever came before the cut are gone): the connection is found by its frames,
    // nothing is invented, and the messages after the cut are decoded.
    let mut untouched = 0;
    let mut recalled = 0;
    for name in [
        "echo-sizes.pcap",
        "ping-pong.pcap",
        "fragmented.pcap",
        "midstream.pcap",
        "deflate-no-takeover.pcap",
        "mqtt.pcap",
    ] {
        let bytes = capture(name);
        let packets = packets_of(&bytes);
        let data: Vec<u64> = packets
            .iter()
            .filter(|p| p.data_packet)
            .map(|p| p.number)
            .collect();
        // From after the 101 (the second data packet) to a few packets before the end.
        for &cut in data
            .iter()
            .skip(2)
            .take(data.len().saturating_sub(8))
            .step_by(3)
        {
            let lost: HashSet<u64> = packets
                .iter()
                .map(|p| p.number)
                .filter(|&n| n <= cut)
                .collect();
            let c = compare(&bytes, &lost);
            assert_eq!(
                (
                    c.invented_hashes,
                    c.invented_violations,
                    c.invented_connections
                ),
                (0, 0, 0),
                "{name} cut after packet {cut}: {c:?}"
            );
            untouched += c.untouched;
            recalled += c.recalled;
        }
    }
    let recall = recalled as f64 / untouched.max(1) as f64;
    println!(
        "seen from the middle: {recalled} of {untouched} messages after the cut ({:.2} %)",
        recall * 100.0
    );
    assert!(untouched > 500, "{untouched}");
    assert!(recall >= 0.95, "recall {:.2} %", recall * 100.0);
}
