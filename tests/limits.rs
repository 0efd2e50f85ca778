//! Hostile and oversized input through the whole pipeline: every limit is reported as a
//! `limit-reached` warning when hit, decoding goes on, nothing panics.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::Conversation;
use wsscope::model::Handout;
use wsscope::pipeline::{StreamSetup, decode_reader_sharded};
use wsscope::rules::Warning;
use wsscope::ws::limits::Limits;
use wsscope::{Capture, Connection, SessionConfig, decode_reader};

const REQUEST: &str = "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

fn addr(last: u8, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, last), port)
}

/// A masked client frame.
fn client_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let key = [9u8, 8, 7, 6];
    let mut f = vec![b0];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n < 65536 => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// A connection with a valid handshake followed by `client_bytes`, sent in `seg`-byte segments.
fn upgraded(client_bytes: &[u8], seg: usize) -> Conversation {
    let mut c = Conversation::new(addr(1, 40000), addr(2, 80), 1000, 5000);
    c.client_data(0, REQUEST.as_bytes());
    c.server_data(0, RESPONSE.as_bytes());
    for (i, chunk) in client_bytes.chunks(seg.max(1)).enumerate() {
        c.client_data(REQUEST.len() + i * seg.max(1), chunk);
    }
    c
}

fn decode(pcap: &[u8], limits: Limits) -> Capture {
    decode_reader(
        pcap,
        SessionConfig {
            limits,
            ..SessionConfig::default()
        },
    )
    .expect("decodes")
}

fn limit_warnings(c: &Capture) -> Vec<String> {
    c.connections
        .iter()
        .flat_map(|c| c.warnings.iter())
        .filter(|w| w.warning == Warning::LimitReached)
        .map(|w| w.detail.clone())
        .collect()
}

#[test]
fn message_kept_limit_cuts_the_copy_not_the_hash() {
    let payload = vec![b'a'; 5000];
    let conv = upgraded(&client_frame(0x81, &payload), 1448);
    let capture = decode(
        &conv.pcap(),
        Limits {
            max_message_kept: 1000,
            ..Limits::default()
        },
    );
    let m = &capture.connections[0].messages[0];
    assert_eq!((m.len, m.data.len()), (5000, 1000));
    assert!(m.sha256.is_some(), "the hash covers the whole message");
    let w = limit_warnings(&capture);
    assert!(w.iter().any(|d| d.contains("--max-message")), "{w:?}");
}

#[test]
fn fragments_limit_stops_a_message_that_never_ends() {
    let mut bytes = client_frame(0x01, b"start");
    for _ in 0..50 {
        bytes.extend(client_frame(0x00, b"x"));
    }
    let conv = upgraded(&bytes, 1448);
    let capture = decode(
        &conv.pcap(),
        Limits {
            max_fragments: 10,
            ..Limits::default()
        },
    );
    let w = limit_warnings(&capture);
    assert!(
        w.iter().any(|d| d.contains("more than 10 fragments")),
        "{w:?}"
    );
    assert!(capture.connections[0].messages[0].sha256.is_none());
}

#[test]
fn http_head_limit() {
    let mut c = Conversation::new(addr(1, 40000), addr(2, 80), 1, 2);
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: {}\r\n",
        "p".repeat(10_000)
    );
    c.client_data(0, huge.as_bytes());
    let capture = decode(
        &c.pcap(),
        Limits {
            max_http_head: 1024,
            ..Limits::default()
        },
    );
    // Not an upgrade (the head never completed): counted as a flow, no crash, no connection.
    assert!(capture.connections.is_empty());
    assert_eq!(capture.stats.packets, 4);
}

#[test]
fn out_of_order_limit_gives_the_hole_up() {
    let payload = vec![b'z'; 20_000];
    let frame = client_frame(0x82, &payload);
    let mut c = Conversation::new(addr(1, 40000), addr(2, 80), 1, 2);
    c.client_data(0, REQUEST.as_bytes());
    c.server_data(0, RESPONSE.as_bytes());
    // The first 1000 frame bytes never arrive; the rest waits out of order.
    for (i, chunk) in frame[1000..].chunks(1000).enumerate() {
        c.client_data(REQUEST.len() + 1000 + i * 1000, chunk);
    }
    let capture = decode(
        &c.pcap(),
        Limits {
            max_out_of_order: 4096,
            ..Limits::default()
        },
    );
    let w = limit_warnings(&capture);
    assert!(w.iter().any(|d| d.contains("--max-out-of-order")), "{w:?}");
}

#[test]
fn flow_limit_retires_the_oldest_and_says_so() {
    let capture = decode(
        &open_flows(20),
        Limits {
            max_flows: 5,
            ..Limits::default()
        },
    );
    assert_eq!(capture.connections.len(), 20);
    let retired = limit_warnings(&capture)
        .iter()
        .filter(|d| d.contains("--max-flows"))
        .count();
    assert_eq!(retired, 15);
    assert!(
        capture
            .notes
            .iter()
            .any(|n| n.contains("15 flows were retired early"))
    );
}

#[test]
fn one_byte_segments_decode_like_one_big_one() {
    let mut bytes = client_frame(0x81, "héllo wörld".as_bytes());
    bytes.extend(client_frame(0x82, &[1u8; 300]));
    bytes.extend(client_frame(0x88, &[0x03, 0xe8]));
    let tiny = decode(&upgraded(&bytes, 1).pcap(), Limits::default());
    let big = decode(&upgraded(&bytes, 1448).pcap(), Limits::default());
    let sums = |c: &Capture| {
        c.connections[0]
            .messages
            .iter()
            .map(|m| (m.kind, m.sha256.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(sums(&tiny), sums(&big));
    assert_eq!(tiny.connections[0].messages.len(), 3);
    assert!(tiny.connections[0].violations.is_empty());
    // 8 header bytes (2 + 16-bit length + mask key) and 300 payload bytes, one packet each.
    assert_eq!(
        tiny.connections[0].frames[1].packets.len(),
        8 + 300,
        "every carrying packet is listed"
    );
}

#[test]
fn length_of_2_pow_63_is_flagged_and_bounded() {
    let mut bytes = vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    bytes.extend(vec![0u8; 10_000]);
    let capture = decode(&upgraded(&bytes, 1448).pcap(), Limits::default());
    let c = &capture.connections[0];
    assert_eq!(
        c.violations
            .iter()
            .map(|v| v.rule.code())
            .collect::<Vec<_>>(),
        vec!["length-msb-set"]
    );
    assert!(
        c.frames[0].raw.len() < 100,
        "nothing after the unfollowable header is kept"
    );
}

#[test]
fn oversized_record_length_is_an_error_not_an_allocation() {
    let mut file = common::pcap_file(&[]);
    // A record header claiming 1 GiB of data, then a few bytes.
    for v in [1u32, 0, 1 << 30, 1 << 30] {
        file.extend_from_slice(&v.to_le_bytes());
    }
    file.extend_from_slice(&[0u8; 64]);
    let capture = decode(&file, Limits::default());
    let err = capture.source_error.expect("reported");
    assert!(err.contains("byte 24"), "{err}");
}

/// `n` clients that each send an Upgrade request and 20 KB of early data; no server
/// answers.
fn early_data(n: u16) -> Vec<u8> {
    let mut packets = Vec::new();
    for i in 0..n {
        let mut c = Conversation::new(addr(1, 20000 + i), addr(2, 80), u32::from(i) * 1000, 7);
        c.client_data(0, REQUEST.as_bytes());
        for k in 0..20 {
            c.client_data(REQUEST.len() + k * 1000, &[0x81; 1000]);
        }
        packets.extend(c.packets);
    }
    common::pcap_file(&packets)
}

#[test]
fn global_buffer_budget_is_shared_by_all_flows() {
    let pcap = early_data(30);
    let roomy = decode(&pcap, Limits::default());
    assert!(limit_warnings(&roomy).is_empty());
    let tight = decode(
        &pcap,
        Limits {
            max_buffered_total: 100_000,
            ..Limits::default()
        },
    );
    let shed = limit_warnings(&tight)
        .iter()
        .filter(|d| d.contains("--max-buffered"))
        .count();
    // 100 KB holds the early data of about four flows; every flow after that sheds.
    assert!((20..=30).contains(&shed), "{shed} flows shed");
    assert_eq!(
        tight.connections.len(),
        30,
        "every connection is still reported"
    );
}

/// The connections and capture of a streaming decode of `pcap` on `shares` threads.
fn decode_sharded(pcap: &[u8], limits: Limits, shares: usize) -> (Vec<Connection>, Capture) {
    let config = SessionConfig {
        limits,
        ..SessionConfig::default()
    };
    let setup = StreamSetup {
        hand_out_at: 64,
        shares,
        parts: false,
    };
    let mut conns = Vec::new();
    let capture = decode_reader_sharded(pcap, config, setup, |h| {
        if let Handout::Finished(c) = h {
            conns.push(c);
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    (conns, capture)
}

/// `n` flows that each stay open after the handshake.
fn open_flows(n: u16) -> Vec<u8> {
    let mut packets = Vec::new();
    for i in 0..n {
        let mut c = Conversation::new(addr(1, 30000 + i), addr(2, 80), u32::from(i) * 7, 99);
        c.client_data(0, REQUEST.as_bytes());
        c.server_data(0, RESPONSE.as_bytes());
        packets.extend(c.packets);
    }
    common::pcap_file(&packets)
}

fn retired(conns: &[Connection]) -> usize {
    conns
        .iter()
        .flat_map(|c| &c.warnings)
        .filter(|w| w.warning == Warning::LimitReached && w.detail.contains("--max-flows"))
        .count()
}

#[test]
fn flow_limit_is_kept_exactly_on_several_threads() {
    let pcap = open_flows(60);
    for shares in [1, 2, 3, 4] {
        // 10 flows do not divide among 3 or 4 threads: the shares still add up to 10.
        let limits = Limits {
            max_flows: 10,
            ..Limits::default()
        };
        let (conns, capture) = decode_sharded(&pcap, limits, shares);
        assert_eq!(conns.len(), 60, "{shares} threads");
        assert_eq!(retired(&conns), 50, "{shares} threads");
        assert!(
            capture
                .notes
                .iter()
                .any(|n| n.contains("50 flows were retired early")),
            "{shares} threads: {:?}",
            capture.notes
        );
        // Fewer flows allowed than threads: never more open than allowed.
        let limits = Limits {
            max_flows: 1,
            ..Limits::default()
        };
        let (conns, _) = decode_sharded(&pcap, limits, shares);
        assert_eq!(retired(&conns), 59, "{shares} threads, --max-flows 1");
    }
}

#[test]
fn buffer_budget_warning_names_the_users_limit_on_several_threads() {
    let pcap = early_data(30);
    let limits = Limits {
        max_buffered_total: 100_000,
        ..Limits::default()
    };
    let (conns, _) = decode_sharded(&pcap, limits, 3);
    let details: Vec<&str> = conns
        .iter()
        .flat_map(|c| &c.warnings)
        .filter(|w| w.detail.contains("--max-buffered"))
        .map(|w| w.detail.as_str())
        .collect();
    assert!(!details.is_empty());
    for d in &details {
        assert!(d.contains("1/3 share of --max-buffered 100000"), "{d}");
    }
    let (conns, _) = decode_sharded(&pcap, limits, 1);
    assert!(conns.iter().flat_map(|c| &c.warnings).any(|w| {
        w.detail
            .contains("more than 100000 bytes were buffered across all flows")
    }));
}

/// A client that starts a fragmented message and sends its last fragment only after
/// the server's `n` frames.
fn open_fragment_then_flood(n: usize) -> Vec<u8> {
    let mut c = upgraded(b"", 1000);
    let (mut coff, mut soff) = (REQUEST.len(), RESPONSE.len());
    let first = client_frame(0x01, b"start");
    c.client_data(coff, &first);
    coff += first.len();
    for k in 0..n {
        let f = common::frame(0x81, format!("s{k}").as_bytes());
        c.server_data(soff, &f);
        soff += f.len();
    }
    let last = client_frame(0x80, b"end");
    c.client_data(coff, &last);
    coff += last.len();
    c.close(coff, soff);
    common::pcap_file(&c.packets)
}

#[test]
fn a_message_that_does_not_end_cannot_hold_every_later_frame() {
    let n = wsscope::pipeline::MAX_HELD_FRAMES + 5_000;
    let pcap = open_fragment_then_flood(n);
    // Fewer fragments allowed than the held-frames limit: that limit decides.
    let limits = Limits {
        max_fragments: 1000,
        ..Limits::default()
    };
    let config = SessionConfig {
        limits,
        ..SessionConfig::default()
    };
    // The UI's first pass: the connection never holds much more than the limit.
    let mut reader =
        wsscope::source::CaptureReader::new(&pcap[..]).unwrap_or_else(|e| panic!("{e}"));
    let mut pipeline =
        wsscope::Pipeline::new(wsscope::pipeline::keep::Purpose::Browse.config(&config));
    pipeline.set_compacting();
    let mut most = 0;
    while let Ok(Some(p)) = reader.next_packet() {
        pipeline.packet(&p);
        most = pipeline
            .capture
            .connections
            .iter()
            .map(|c| c.frames.len())
            .max()
            .unwrap_or(0)
            .max(most);
    }
    assert!(
        most <= wsscope::pipeline::MAX_HELD_FRAMES + 1,
        "a connection held {most} frames"
    );
    let capture = pipeline.finish();
    let record = &capture.connections[0];
    assert_eq!(record.frame_count(), n + 2);
    // Shown in the UI: windows at both ends decode, and the window at the end is reached
    // although the message stays open across 50,000 frames.
    let mut file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    std::io::Write::write_all(&mut file, &pcap).unwrap_or_else(|e| panic!("{e}"));
    let index = wsscope::reread::FileIndex::new(file.path(), config);
    let last = u32::try_from(n + 2).unwrap_or(u32::MAX);
    for around in [1, last] {
        let window = index
            .reread_window(record, around, None)
            .unwrap_or_else(|e| panic!("{e}"));
        let (first, end) = window.held_frames().unwrap_or_default();
        assert!((first..=end).contains(&around), "{first}–{end}");
        assert!(window.frames.len() <= wsscope::model::window::WINDOW_FRAMES);
    }
    // Streaming output says why the message was cut, and counts every frame.
    let (conns, _) = decode_sharded(&pcap, limits, 1);
    let c = &conns[0];
    assert_eq!(c.frame_count(), n + 2);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.warning == Warning::LimitReached && w.detail.contains("still open")),
        "{:?}",
        c.warnings
    );
    // The whole decode (no output to write as it goes) keeps the message whole.
    let whole = decode(&pcap, limits);
    assert!(
        limit_warnings(&whole).is_empty(),
        "{:?}",
        limit_warnings(&whole)
    );
}

/// Segments of random bytes 64 KiB to 3 GiB ahead of the client's stream, never
/// acknowledged, among its real frames: the receiver (whose window is 65,535 bytes, the
/// SYNs carrying no scale option) never took them, so they are counted in one
/// `out-of-window` warning and not decoded: no frame, no violation, no figure from them.
#[test]
fn an_out_of_window_flood_is_counted_not_decoded() {
    let real: Vec<Vec<u8>> = (0..20)
        .map(|i| client_frame(0x81, format!("message {i}").as_bytes()))
        .collect();
    let mut c = Conversation::new(addr(1, 40000), addr(2, 80), 1000, 5000);
    c.client_data(0, REQUEST.as_bytes());
    c.server_data(0, RESPONSE.as_bytes());
    let mut off = REQUEST.len();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut flood = 0;
    for (i, f) in real.iter().enumerate() {
        c.client_data(off, f);
        off += f.len();
        for _ in 0..if i % 2 == 0 { 1000 } else { 0 } {
            let ahead = 65_536 + (next() % (3u64 << 30)) as usize;
            let len = 1 + (next() % 1400) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            c.client_data(off + ahead, &bytes);
            flood += 1;
        }
    }
    c.close(off, RESPONSE.len());
    let cap = decode(&c.pcap(), Limits::default());
    let conn = &cap.connections[0];
    let texts: Vec<_> = conn.messages.iter().filter_map(|m| m.text()).collect();
    let want: Vec<String> = (0..20).map(|i| format!("message {i}")).collect();
    assert_eq!(texts, want);
    assert_eq!(conn.frames.len(), 20);
    assert!(conn.violations.is_empty(), "{:?}", conn.violations);
    let counted: Vec<_> = conn
        .warnings
        .iter()
        .filter(|w| w.warning == Warning::OutOfWindow)
        .map(|w| w.detail.clone())
        .collect();
    assert_eq!(counted.len(), 1, "{:?}", conn.warnings);
    assert!(
        !conn.warnings.iter().any(|w| w.warning == Warning::TcpGap),
        "no bytes of the stream were lost"
    );
    // Segments 2 GiB or more ahead read as behind the stream start (sequence numbers
    // wrap, RFC 9293 §3.4) and are dropped before they are counted.
    let n: u64 = counted[0]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(n > 1000 && n <= flood, "{n} of {flood}: {}", counted[0]);
}
