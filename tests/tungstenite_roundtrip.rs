//! Property test against a real implementation: random message sequences are framed
//! by `tungstenite` (client role masks, server role does not), the bytes are cut into
//! TCP segments of random sizes, reordered and duplicated, written as a pcap, and
//! decoded by wsscope, which must give back exactly the messages tungstenite sent.

mod common;

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};

use proptest::prelude::*;
use sha2::{Digest, Sha256};
use tungstenite::Message;
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::{Role, WebSocket};
use wsscope::model::{Dir, MessageKind};

/// A write-only in-memory stream: whatever tungstenite writes is kept.
#[derive(Default)]
struct Sink(Vec<u8>);

impl Read for Sink {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[derive(Clone, Debug)]
enum TestMsg {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    /// A text message sent as several frames (cut at byte offsets, maybe inside a code point).
    Fragmented(String, Vec<usize>),
}

fn msg_strategy() -> impl Strategy<Value = TestMsg> {
    prop_oneof![
        4 => ".{0,200}".prop_map(TestMsg::Text),
        3 => proptest::collection::vec(any::<u8>(), 0..300).prop_map(TestMsg::Binary),
        1 => (65_530usize..70_000, any::<u8>()).prop_map(|(n, b)| TestMsg::Binary((0..n).map(|i| b.wrapping_add(i as u8)).collect())),
        1 => proptest::collection::vec(any::<u8>(), 0..=125).prop_map(TestMsg::Ping),
        2 => (".{1,80}", proptest::collection::vec(0usize..400, 1..4)).prop_map(|(s, cuts)| TestMsg::Fragmented(s, cuts)),
    ]
}

/// What wsscope must report: (kind, sha256) in order.
fn expected(msgs: &[TestMsg]) -> Vec<(&'static str, String)> {
    let h = |b: &[u8]| hex::encode(Sha256::digest(b));
    msgs.iter()
        .map(|m| match m {
            TestMsg::Text(s) | TestMsg::Fragmented(s, _) => ("text", h(s.as_bytes())),
            TestMsg::Binary(b) => ("binary", h(b)),
            TestMsg::Ping(p) => ("ping", h(p)),
        })
        .collect()
}

/// Frames `msgs` with tungstenite in `role`, returning the bytes it wrote.
fn frame_with_tungstenite(role: Role, msgs: &[TestMsg]) -> Vec<u8> {
    let mut ws = WebSocket::from_raw_socket(Sink::default(), role, None);
    for m in msgs {
        match m {
            TestMsg::Text(s) => ws.write(Message::Text(s.clone().into())).expect("text"),
            TestMsg::Binary(b) => ws.write(Message::Binary(b.clone().into())).expect("binary"),
            TestMsg::Ping(p) => ws.write(Message::Ping(p.clone().into())).expect("ping"),
            TestMsg::Fragmented(s, cuts) => {
                let bytes = s.as_bytes();
                let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
                points.sort_unstable();
                points.dedup();
                let mut start = 0;
                let mut first = true;
                for p in points.into_iter().chain(std::iter::once(bytes.len())) {
                    if p < start || (p == start && p != bytes.len()) {
                        continue;
                    }
                    let fin = p == bytes.len();
                    let op = if first {
                        OpCode::Data(Data::Text)
                    } else {
                        OpCode::Data(Data::Continue)
                    };
                    ws.write(Message::Frame(Frame::message(
                        bytes[start..p].to_vec(),
                        op,
                        fin,
                    )))
                    .expect("fragment");
                    first = false;
                    start = p;
                    if fin {
                        break;
                    }
                }
            }
        }
    }
    // End with the closing handshake (RFC 6455 §7.1.2): each side sends its Close.
    ws.close(Some(tungstenite::protocol::CloseFrame {
        code: tungstenite::protocol::frame::coding::CloseCode::Normal,
        reason: "bye".into(),
    }))
    .expect("close");
    let _ = ws.flush();
    ws.get_ref().0.clone()
}

fn segments(stream: &[u8], sizes: &[usize]) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < stream.len() {
        let n = sizes[i % sizes.len()].min(stream.len() - pos);
        out.push((pos, stream[pos..pos + n].to_vec()));
        pos += n;
        i += 1;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn tungstenite_messages_survive_segmentation_reordering_duplication(
        client_msgs in proptest::collection::vec(msg_strategy(), 0..10),
        server_msgs in proptest::collection::vec(msg_strategy(), 0..10),
        sizes in proptest::collection::vec(1usize..1500, 1..12),
        mix in proptest::collection::vec(any::<bool>(), 0..64),
        swaps in proptest::collection::vec(any::<u16>(), 0..24),
        dups in proptest::collection::vec(any::<u16>(), 0..6),
        isn_c in any::<u32>(),
        isn_s in any::<u32>(),
    ) {
        let key = tungstenite::handshake::client::generate_key();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let request = format!("GET /prop HTTP/1.1\r\nHost: 10.0.0.2:9000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        let response = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
        let client_frames = frame_with_tungstenite(Role::Client, &client_msgs);
        let server_frames = frame_with_tungstenite(Role::Server, &server_msgs);

        let client = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 50_000);
        let server = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 9000);
        let mut conv = common::Conversation::new(client, server, isn_c, isn_s);
        conv.client_data(0, request.as_bytes());
        conv.server_data(0, response.as_bytes());
        // Frames after the handshake: both directions cut up, interleaved, then
        // reordered within a direction and partly duplicated.
        let mut c = segments(&client_frames, &sizes).into_iter().map(|(o, b)| (true, o + request.len(), b)).collect::<Vec<_>>();
        let mut s = segments(&server_frames, &sizes).into_iter().map(|(o, b)| (false, o + response.len(), b)).collect::<Vec<_>>();
        c.reverse();
        s.reverse();
        let mut all = Vec::new();
        let mut k = 0;
        while !c.is_empty() || !s.is_empty() {
            let pick_client = if c.is_empty() { false } else if s.is_empty() { true } else { mix.get(k % mix.len().max(1)).copied().unwrap_or(true) };
            k += 1;
            all.push(if pick_client { c.pop() } else { s.pop() }.expect("non-empty"));
        }
        for w in &swaps {
            if all.len() > 1 {
                let i = *w as usize % (all.len() - 1);
                all.swap(i, i + 1);
            }
        }
        for d in &dups {
            if !all.is_empty() {
                let i = *d as usize % all.len();
                let copy = all[i].clone();
                let at = (i + 1 + *d as usize % 3).min(all.len());
                all.insert(at, copy);
            }
        }
        for (from_client, off, bytes) in &all {
            if *from_client { conv.client_data(*off, bytes) } else { conv.server_data(*off, bytes) }
        }
        conv.close(request.len() + client_frames.len(), response.len() + server_frames.len());

        let capture = wsscope::decode_reader(&conv.pcap()[..], wsscope::SessionConfig::default()).expect("decodes");
        prop_assert_eq!(capture.connections.len(), 1);
        let conn = &capture.connections[0];
        prop_assert!(conn.handshake.as_ref().is_some_and(|h| h.valid));
        prop_assert!(conn.violations.is_empty(), "violations: {:?}", conn.violations);
        prop_assert!(conn.warnings.is_empty(), "warnings: {:?}", conn.warnings);
        for dir in [Dir::Client, Dir::Server] {
            let close = conn.messages_from(dir).find(|m| m.kind == MessageKind::Close);
            prop_assert_eq!(close.and_then(|m| m.close_code), Some(1000));
        }
        for (dir, msgs) in [(Dir::Client, &client_msgs), (Dir::Server, &server_msgs)] {
            let got: Vec<(&'static str, String)> = conn
                .messages_from(dir)
                .filter(|m| matches!(m.kind, MessageKind::Text | MessageKind::Binary | MessageKind::Ping))
                .map(|m| (m.kind.name(), m.sha256.clone().unwrap_or_default()))
                .collect();
            prop_assert_eq!(got, expected(msgs), "{:?} messages", dir);
        }
    }
}
