//! Streaming mode (what `summary`, `frames` and `export` use): connections handed out as
//! their flows end must be the same connections, with the same numbers and the same
//! output, as a whole decode gives; only the order in which they are handed out differs.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::{Conversation, pcap_file};
use wsscope::export::jsonl;
use wsscope::model::Connection;
use wsscope::{Capture, SessionConfig, decode_reader, decode_reader_streaming};

const REQUEST: &str = "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

fn config() -> SessionConfig {
    let mut c = SessionConfig::default();
    c.limits.preview_only = true;
    c
}

fn whole(pcap: &[u8]) -> Capture {
    decode_reader(pcap, config()).unwrap_or_else(|e| panic!("decode: {e}"))
}

/// The connections in the order streaming mode hands them out, and the capture left.
fn streamed(pcap: &[u8]) -> (Vec<Connection>, Capture) {
    let mut conns = Vec::new();
    let capture = decode_reader_streaming(pcap, config(), |c| {
        conns.push(c);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("streaming decode: {e}"));
    (conns, capture)
}

fn jsonl_of(c: &Connection) -> String {
    let mut out = Vec::new();
    jsonl::write_connection(&mut out, c).unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&out).into_owned()
}

/// Streaming gives the whole decode's connections, numbers and lines.
fn assert_same(pcap: &[u8], what: &str) -> Vec<u32> {
    let expected = whole(pcap);
    let (mut got, rest) = streamed(pcap);
    let arrival: Vec<u32> = got.iter().map(|c| c.id).collect();
    got.sort_by_key(|c| c.id);
    assert_eq!(got.len(), expected.connections.len(), "{what}: connections");
    for (g, e) in got.iter().zip(&expected.connections) {
        assert_eq!(jsonl_of(g), jsonl_of(e), "{what}: connection {}", e.id);
    }
    assert!(rest.connections.is_empty(), "{what}: records left behind");
    assert_eq!(
        rest.stats.packets, expected.stats.packets,
        "{what}: packets"
    );
    assert_eq!(rest.stats.flows, expected.stats.flows, "{what}: flows");
    assert_eq!(rest.notes, expected.notes, "{what}: notes");
    assert_eq!(rest.source_error, expected.source_error, "{what}: error");
    arrival
}

#[test]
fn every_bundled_capture_streams_to_the_same_connections() {
    let mut seen = 0;
    for path in common::bundled_captures() {
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_same(&bytes, &name);
        // Cut short: the reader error and what came before it are kept the same way.
        assert_same(&bytes[..bytes.len() * 2 / 3], &format!("{name} cut"));
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} captures found");
}

fn addr(last: u8, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, last), port)
}

/// An unmasked server text frame (short).
fn server_text(text: &str) -> Vec<u8> {
    let mut f = vec![0x81, text.len() as u8];
    f.extend_from_slice(text.as_bytes());
    f
}

/// A connection on client port `port`: handshake packets (3), then upgrade and response,
/// then one server message naming it, then FINs.
fn connection(port: u16, name: &str) -> Conversation {
    let mut c = Conversation::new(addr(1, port), addr(2, 80), 100, 900);
    c.client_data(0, REQUEST.as_bytes());
    c.server_data(0, RESPONSE.as_bytes());
    let frame = server_text(name);
    c.server_data(RESPONSE.len(), &frame);
    c.close(REQUEST.len(), RESPONSE.len() + frame.len());
    c
}

#[test]
fn numbers_follow_first_packets_even_when_later_connections_end_first() {
    // Flow A opens first but says nothing until B has upgraded, talked and closed, and C
    // has upgraded; a non-WebSocket flow X sits in between. A must still be number 1.
    let a = connection(40001, "a");
    let b = connection(40002, "b");
    let c = connection(40003, "c");
    let mut x = Conversation::new(addr(3, 40009), addr(2, 5432), 7, 8);
    x.client_data(
        0,
        b"\x00\x00\x00\x08\x04\xd2\x16\x2f not http, not websocket",
    );
    let mut packets = Vec::new();
    packets.extend_from_slice(&a.packets[..3]); // A: TCP handshake only
    packets.extend_from_slice(&x.packets); // X: opaque bytes
    packets.extend_from_slice(&b.packets); // B: everything, closed
    packets.extend_from_slice(&c.packets[..6]); // C: upgraded and talking, still open
    packets.extend_from_slice(&a.packets[3..]); // A: everything else, closed
    packets.extend_from_slice(&c.packets[6..]); // C: closed
    let pcap = pcap_file(&packets);
    let arrival = assert_same(&pcap, "interleaved");
    assert_eq!(arrival, vec![2, 1, 3], "B ends first, then A, then C");
    let (mut conns, _) = streamed(&pcap);
    conns.sort_by_key(|c| c.id);
    let ports: Vec<u16> = conns.iter().map(|c| c.client.port()).collect();
    assert_eq!(ports, vec![40001, 40002, 40003]);
    // Each connection kept its own frame (records moved around when B left).
    for (conn, name) in conns.iter().zip(["a", "b", "c"]) {
        let text = conn.messages.first().and_then(|m| m.text());
        assert_eq!(text.as_deref(), Some(name), "connection {}", conn.id);
    }
}

#[test]
fn many_overlapping_connections_keep_their_own_records() {
    // 40 connections opened in order, closed in a scrambled order, each with frames
    // arriving while others come and go.
    let convs: Vec<Conversation> = (0..40)
        .map(|i| connection(41000 + i, &format!("conn-{i}")))
        .collect();
    let mut packets = Vec::new();
    for c in &convs {
        packets.extend_from_slice(&c.packets[..5]);
    }
    let mut order: Vec<usize> = (0..40).collect();
    order.sort_by_key(|i| (i * 17) % 40);
    for i in &order {
        packets.extend_from_slice(&convs[*i].packets[5..]);
    }
    let pcap = pcap_file(&packets);
    let arrival = assert_same(&pcap, "scrambled");
    let expected: Vec<u32> = order.iter().map(|i| *i as u32 + 1).collect();
    assert_eq!(arrival, expected);
}
