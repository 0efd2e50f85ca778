//! Test helpers: build Ethernet/IPv4/TCP packets with `etherparse` and write them as a
//! pcap file, so tests can feed wsscope byte streams produced by other implementations.
#![allow(dead_code)]

pub mod loss;
pub mod reread;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;

use etherparse::{PacketBuilder, TcpHeader};

/// TCP flags for [`tcp_packet`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags {
    pub syn: bool,
    pub ack: Option<u32>,
    pub fin: bool,
    pub rst: bool,
}

/// One Ethernet/IPv4/TCP packet.
pub fn tcp_packet(
    src: SocketAddrV4,
    dst: SocketAddrV4,
    seq: u32,
    flags: Flags,
    payload: &[u8],
) -> Vec<u8> {
    let mut tcp = TcpHeader::new(src.port(), dst.port(), seq, 65535);
    tcp.syn = flags.syn;
    tcp.fin = flags.fin;
    tcp.rst = flags.rst;
    tcp.psh = !payload.is_empty();
    if let Some(a) = flags.ack {
        tcp.ack = true;
        tcp.acknowledgment_number = a;
    }
    let builder = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src.ip().octets(), dst.ip().octets(), 64)
        .tcp_header(tcp);
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).expect("packet fits");
    out
}

/// A little-endian microsecond pcap file with Ethernet link type.
pub fn pcap_file(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&0i32.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&262_144u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        f.extend_from_slice(&(1_700_000_000u32 + (i / 1000) as u32).to_le_bytes());
        f.extend_from_slice(&((i % 1000) as u32 * 1000).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(p);
    }
    f
}

/// A TCP connection being written packet by packet: handshake, data in either
/// direction at explicit stream offsets, and FINs. Each data packet acknowledges what
/// its sender has received in order from the other side so far, as a real receiver
/// does (its window, 65,535 bytes, is counted from there).
pub struct Conversation {
    pub client: SocketAddrV4,
    pub server: SocketAddrV4,
    pub isn_c: u32,
    pub isn_s: u32,
    pub packets: Vec<Vec<u8>>,
    /// Byte ranges sent so far by the client (0) and the server (1).
    sent: [Vec<(usize, usize)>; 2],
}

/// The end of the prefix of a stream that `ranges` cover from offset 0.
fn contiguous(ranges: &[(usize, usize)]) -> usize {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut end = 0;
    for (start, stop) in sorted {
        if start > end {
            break;
        }
        end = end.max(stop);
    }
    end
}

impl Conversation {
    pub fn new(client: SocketAddrV4, server: SocketAddrV4, isn_c: u32, isn_s: u32) -> Self {
        let mut c = Conversation {
            client,
            server,
            isn_c,
            isn_s,
            packets: Vec::new(),
            sent: [Vec::new(), Vec::new()],
        };
        c.packets.push(tcp_packet(
            client,
            server,
            isn_c,
            Flags {
                syn: true,
                ..Flags::default()
            },
            &[],
        ));
        c.packets.push(tcp_packet(
            server,
            client,
            isn_s,
            Flags {
                syn: true,
                ack: Some(isn_c.wrapping_add(1)),
                ..Flags::default()
            },
            &[],
        ));
        c.packets.push(tcp_packet(
            client,
            server,
            isn_c.wrapping_add(1),
            Flags {
                ack: Some(isn_s.wrapping_add(1)),
                ..Flags::default()
            },
            &[],
        ));
        c
    }

    /// Data from the client at stream offset `off`.
    pub fn client_data(&mut self, off: usize, bytes: &[u8]) {
        let seq = self.isn_c.wrapping_add(1).wrapping_add(off as u32);
        let received = contiguous(&self.sent[1]) as u32;
        let ack = Some(self.isn_s.wrapping_add(1).wrapping_add(received));
        self.sent[0].push((off, off + bytes.len()));
        self.packets.push(tcp_packet(
            self.client,
            self.server,
            seq,
            Flags {
                ack,
                ..Flags::default()
            },
            bytes,
        ));
    }

    /// Data from the server at stream offset `off`.
    pub fn server_data(&mut self, off: usize, bytes: &[u8]) {
        let seq = self.isn_s.wrapping_add(1).wrapping_add(off as u32);
        let received = contiguous(&self.sent[0]) as u32;
        let ack = Some(self.isn_c.wrapping_add(1).wrapping_add(received));
        self.sent[1].push((off, off + bytes.len()));
        self.packets.push(tcp_packet(
            self.server,
            self.client,
            seq,
            Flags {
                ack,
                ..Flags::default()
            },
            bytes,
        ));
    }

    /// Both sides send FIN after `client_len` and `server_len` bytes.
    pub fn close(&mut self, client_len: usize, server_len: usize) {
        let cseq = self.isn_c.wrapping_add(1).wrapping_add(client_len as u32);
        let sseq = self.isn_s.wrapping_add(1).wrapping_add(server_len as u32);
        self.packets.push(tcp_packet(
            self.client,
            self.server,
            cseq,
            Flags {
                fin: true,
                ack: Some(sseq),
                ..Flags::default()
            },
            &[],
        ));
        self.packets.push(tcp_packet(
            self.server,
            self.client,
            sseq,
            Flags {
                fin: true,
                ack: Some(cseq.wrapping_add(1)),
                ..Flags::default()
            },
            &[],
        ));
    }

    pub fn pcap(&self) -> Vec<u8> {
        pcap_file(&self.packets)
    }
}

/// A connection whose opening handshake (key `dGhlIHNhbXBsZSBub25jZQ==`, path `/big`,
/// the correct Accept) is done: returns it with the client's and server's stream offsets.
pub fn upgraded(client: SocketAddrV4, server: SocketAddrV4) -> (Conversation, usize, usize) {
    let mut conv = Conversation::new(client, server, 1000, 5000);
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let req = format!(
        "GET /big HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let accept = wsscope::http::AcceptComputation::new(key, None).expected;
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    conv.client_data(0, req.as_bytes());
    conv.server_data(0, resp.as_bytes());
    (conv, req.len(), resp.len())
}

/// The bundled example captures (`captures/*.pcap`, `*.pcapng`), sorted by name.
pub fn bundled_captures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    paths.sort();
    paths
}

/// One connection of `messages` server text messages, each in its own packet, with a
/// ping from the client every 10 (and its pong), a client message split in two
/// fragments around them, then a closing handshake.
/// An unmasked frame (a server's, RFC 6455 §5.1) with opcode byte `b0` (FIN and opcode)
/// and a payload under 126 bytes.
pub fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![b0, payload.len() as u8];
    f.extend_from_slice(payload);
    f
}

/// A frame masked with the key 01 02 03 04 (a client's, RFC 6455 §5.3), opcode byte
/// `b0`, payload under 126 bytes.
pub fn masked_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let key = [1, 2, 3, 4];
    let mut f = vec![b0, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

pub fn long_connection(messages: usize) -> Vec<u8> {
    long_conversation(messages).pcap()
}

/// The packets of [`long_connection`].
pub fn long_conversation(messages: usize) -> Conversation {
    let (mut conv, mut c, mut s) = upgraded(
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 40100),
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80),
    );

    for i in 0..messages {
        let text = frame(0x81, format!("message {i}").as_bytes());
        conv.server_data(s, &text);
        s += text.len();
        if i % 10 == 0 {
            // A fragmented client message with a ping inside it, answered by a pong.
            for f in [
                masked_frame(0x01, b"first half "),
                masked_frame(0x89, format!("p{i}").as_bytes()),
                masked_frame(0x80, b"second half"),
            ] {
                conv.client_data(c, &f);
                c += f.len();
            }
            let pong = frame(0x8a, format!("p{i}").as_bytes());
            conv.server_data(s, &pong);
            s += pong.len();
        }
    }
    let close_c = masked_frame(0x88, &[0x03, 0xe8]);
    conv.client_data(c, &close_c);
    c += close_c.len();
    let close_s = [0x88, 0x02, 0x03, 0xe8];
    conv.server_data(s, &close_s);
    s += close_s.len();
    conv.close(c, s);
    conv
}
