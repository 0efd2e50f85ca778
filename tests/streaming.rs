//! Streaming mode (what `summary`, `frames` and `export` use): connections handed out as
//! their flows end must be the same connections, with the same numbers and the same
//! output, as a whole decode gives, on one decode thread or several; only the order in
//! which they are handed out differs.

mod common;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};

use common::{Conversation, pcap_file};
use wsscope::command::scripted::{purpose, write_streaming};
use wsscope::export::{self, Format, Renderer, jsonl};
use wsscope::model::Connection;
use wsscope::pipeline::StreamSetup;
use wsscope::{Capture, Handout, SessionConfig, decode_reader, decode_reader_sharded};

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

/// Decode threads the tests run streaming mode on: one (decoding on the caller's
/// thread), and flows shared out among two and three.
const SHARES: [usize; 3] = [1, 2, 3];

fn setup(hand_out_at: usize, shares: usize) -> StreamSetup {
    StreamSetup {
        hand_out_at,
        shares,
        parts: true,
    }
}

/// The connections in the order streaming mode hands them out (each with the records it
/// handed out while open put back in front), and the capture left. Records are handed
/// out once a connection holds `hand_out_at` frames; flows are decoded on `shares` threads.
fn streamed_with(pcap: &[u8], hand_out_at: usize, shares: usize) -> (Vec<Connection>, Capture) {
    let mut conns = Vec::new();
    let mut parts: HashMap<u64, Vec<Connection>> = HashMap::new();
    let capture = decode_reader_sharded(pcap, config(), setup(hand_out_at, shares), |h| {
        match h {
            Handout::Part(p) => {
                let earlier = parts.entry(p.flow_order).or_default();
                let (frames, messages) = earlier.iter().fold((0, 0), |(f, m), p| {
                    (f + p.frames.len(), m + p.messages.len())
                });
                assert_eq!(
                    (p.held.before.frames, p.held.before.messages),
                    (frames, messages),
                    "a part must say how many records came before it"
                );
                earlier.push(p);
            }
            Handout::Finished(mut c) => {
                let earlier = parts.remove(&c.flow_order).unwrap_or_default();
                let (mut frames, mut messages) = (Vec::new(), Vec::new());
                for p in earlier {
                    assert!(p.id == 0 || p.id == c.id, "a part numbered differently");
                    frames.extend(p.frames);
                    messages.extend(p.messages);
                }
                assert_eq!(
                    (frames.len(), messages.len()),
                    (c.held.before.frames, c.held.before.messages),
                    "the connection must count what it handed out"
                );
                frames.append(&mut c.frames);
                messages.append(&mut c.messages);
                c.frames = frames;
                c.messages = messages;
                c.held = Default::default();
                conns.push(c);
            }
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("streaming decode: {e}"));
    assert!(parts.is_empty(), "parts of a connection never finished");
    (conns, capture)
}

fn streamed(pcap: &[u8]) -> (Vec<Connection>, Capture) {
    streamed_with(pcap, wsscope::pipeline::HAND_OUT_AT, 1)
}

fn jsonl_of(c: &Connection) -> String {
    let mut out = Vec::new();
    jsonl::write_connection(&mut out, c).unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&out).into_owned()
}

/// Streaming gives the whole decode's connections, numbers and lines, whether records
/// are handed out after every packet, every few frames or rarely, on one decode thread
/// or several. Returns the order connections were handed out in on one thread.
fn assert_same(pcap: &[u8], what: &str) -> Vec<u32> {
    for shares in SHARES {
        for hand_out_at in [1, 3] {
            assert_same_with(
                pcap,
                &format!("{what}, hand out at {hand_out_at}, {shares} threads"),
                hand_out_at,
                shares,
            );
        }
        if shares > 1 {
            assert_same_with(pcap, what, wsscope::pipeline::HAND_OUT_AT, shares);
        }
    }
    assert_same_with(pcap, what, wsscope::pipeline::HAND_OUT_AT, 1)
}

fn assert_same_with(pcap: &[u8], what: &str, hand_out_at: usize, shares: usize) -> Vec<u32> {
    let expected = whole(pcap);
    let (mut got, rest) = streamed_with(pcap, hand_out_at, shares);
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
    assert_eq!(rest.stats.bytes, expected.stats.bytes, "{what}: bytes");
    assert_eq!(
        rest.stats.tcp_packets, expected.stats.tcp_packets,
        "{what}: TCP packets"
    );
    assert_eq!(
        rest.stats.skipped, expected.stats.skipped,
        "{what}: skipped"
    );
    assert_eq!(
        rest.stats.first_ts, expected.stats.first_ts,
        "{what}: first"
    );
    assert_eq!(rest.stats.last_ts, expected.stats.last_ts, "{what}: last");
    assert_eq!(
        rest.stats.skipped_blocks, expected.stats.skipped_blocks,
        "{what}: skipped blocks"
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

/// What a whole decode renders in `format` (the reference the streaming writer must match).
fn rendered_whole(pcap: &[u8], format: Format) -> String {
    let config = purpose(format).config(&SessionConfig::default());
    let capture = decode_reader(pcap, config).unwrap_or_else(|e| panic!("decode: {e}"));
    let mut out = Vec::new();
    match format {
        Format::Summary => export::summary::write(&mut out, &capture, "x"),
        Format::Frames => export::frames::write(&mut out, &capture, None),
        Format::Jsonl => export::jsonl::write(&mut out, &capture, None),
    }
    .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&out).into_owned()
}

/// What `summary`, `frames` or `export` print, with records handed out at `hand_out_at`,
/// on one decode thread; checked to be the same on two and three.
fn rendered_streaming(pcap: &[u8], format: Format, hand_out_at: usize) -> String {
    let config = SessionConfig::default();
    let renderer = Renderer { format, only: None };
    let mut outputs = SHARES.iter().map(|&shares| {
        let mut out = Vec::new();
        write_streaming(
            pcap,
            &config,
            renderer,
            "x",
            &mut out,
            setup(hand_out_at, shares),
        )
        .unwrap_or_else(|e| panic!("streaming on {shares} threads: {e}"));
        (shares, String::from_utf8_lossy(&out).into_owned())
    });
    let (_, first) = outputs.next().unwrap_or_default();
    for (shares, other) in outputs {
        assert_eq!(other, first, "{format:?} on {shares} threads");
    }
    first
}

const FORMATS: [Format; 3] = [Format::Summary, Format::Frames, Format::Jsonl];

#[test]
fn every_bundled_capture_prints_the_same_whenever_records_are_handed_out() {
    for path in common::bundled_captures() {
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        for format in FORMATS {
            let expected = rendered_whole(&bytes, format);
            for hand_out_at in [1, 2, 64] {
                assert_eq!(
                    rendered_streaming(&bytes, format, hand_out_at),
                    expected,
                    "{name}, {format:?}, hand out at {hand_out_at}"
                );
            }
        }
    }
}

#[test]
fn a_long_connection_holds_few_records_and_prints_the_same() {
    let pcap = common::long_connection(3000);
    let mut reader =
        wsscope::source::CaptureReader::new(&pcap[..]).unwrap_or_else(|e| panic!("{e}"));
    let mut pipeline = wsscope::Pipeline::new(config());
    pipeline.set_streaming();
    let (mut most_held, mut parts, mut handed) = (0, 0, 0);
    while let Some(packet) = reader.next_packet().unwrap_or_else(|e| panic!("{e}")) {
        pipeline.packet(&packet);
        let held = pipeline.capture.connections.iter().map(|c| c.frames.len());
        most_held = most_held.max(held.max().unwrap_or(0));
        for h in pipeline.take_handouts() {
            if let Handout::Part(p) = h {
                parts += 1;
                handed += p.frames.len();
            }
        }
    }
    assert!(
        most_held <= wsscope::pipeline::HAND_OUT_AT,
        "{most_held} frames held at once"
    );
    assert!(
        parts >= 3000 / wsscope::pipeline::HAND_OUT_AT,
        "only {parts} parts"
    );
    assert!(handed > 3000, "only {handed} frames handed out");
    for format in FORMATS {
        let expected = rendered_whole(&pcap, format);
        if format != Format::Summary {
            assert!(expected.len() > 3000 * 20, "{format:?} printed too little");
        }
        for hand_out_at in [1, 7, 64] {
            assert_eq!(
                rendered_streaming(&pcap, format, hand_out_at),
                expected,
                "{format:?}, hand out at {hand_out_at}"
            );
        }
    }
    // The counts the summary prints cover the records handed out.
    let summary = rendered_streaming(&pcap, Format::Summary, 64);
    assert!(
        summary.contains("server 3301 frames; text 3000, binary 0, ping 0, pong 300, close 1"),
        "{summary}"
    );
    assert!(summary.contains("300 pings, 300 answered"), "{summary}");
}

/// What `frames` or `export --conn N` print, whole and streamed.
fn rendered_both(
    pcap: &[u8],
    format: Format,
    only: Option<u32>,
    hand_out_at: usize,
    shares: usize,
) -> (String, String) {
    let config = SessionConfig::default();
    let capture = decode_reader(pcap, purpose(format).config(&config))
        .unwrap_or_else(|e| panic!("decode: {e}"));
    let mut whole = Vec::new();
    match format {
        Format::Frames => export::frames::write(&mut whole, &capture, only),
        _ => export::jsonl::write(&mut whole, &capture, only),
    }
    .unwrap_or_else(|e| panic!("{e}"));
    let mut streamed = Vec::new();
    write_streaming(
        pcap,
        &config,
        Renderer { format, only },
        "x",
        &mut streamed,
        setup(hand_out_at, shares),
    )
    .unwrap_or_else(|e| panic!("streaming: {e}"));
    (
        String::from_utf8_lossy(&whole).into_owned(),
        String::from_utf8_lossy(&streamed).into_owned(),
    )
}

#[test]
fn parts_handed_out_before_the_number_is_settled_are_renumbered() {
    // Flow A sends its SYN first and upgrades only after a long connection has handed
    // out all its records: until then the long one has no number (A may or may not
    // become connection 1). Then A stays silent instead (a lone SYN): the long one is 1.
    let a = connection(40001, "a");
    let long = common::long_conversation(3000);
    let mut upgrades = vec![a.packets[0].clone()];
    upgrades.extend_from_slice(&long.packets);
    upgrades.extend_from_slice(&a.packets[1..]);
    let mut silent = vec![a.packets[0].clone()];
    silent.extend_from_slice(&long.packets);
    for (what, packets, ids) in [
        ("upgrades", upgrades, vec![1, 2, 3]),
        ("silent", silent, vec![1, 2]),
    ] {
        let pcap = pcap_file(&packets);
        for format in [Format::Frames, Format::Jsonl] {
            for only in std::iter::once(None).chain(ids.iter().copied().map(Some)) {
                for shares in SHARES {
                    let (whole, streamed) = rendered_both(&pcap, format, only, 64, shares);
                    assert_eq!(
                        streamed, whole,
                        "{what}, {format:?}, --conn {only:?}, {shares} threads"
                    );
                }
                if only.is_none() {
                    let (whole, _) = rendered_both(&pcap, format, only, 64, 1);
                    assert!(whole.lines().count() > 3000, "{what}: too few lines");
                }
            }
        }
    }
}
