//! A capture loss simulator: a capture with some of its data packets removed (as a busy
//! `tcpdump` drops them), and what wsscope decodes from it compared with what it decodes
//! from the whole capture.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use wsscope::decode::decode_packet;
use wsscope::model::{Connection, Dir, MessageKind};
use wsscope::source::{CaptureReader, LinkType};
use wsscope::{Capture, SessionConfig, decode_reader};

/// One packet of a capture, owned.
#[derive(Clone, Debug)]
pub struct Packet {
    pub number: u64,
    pub link: LinkType,
    pub secs: i64,
    pub micros: u32,
    pub data: Vec<u8>,
    pub orig_len: u32,
    /// It carries TCP payload.
    pub data_packet: bool,
}

impl Packet {
    /// The packet as the decoder takes it (its time left out).
    pub fn as_ref(&self) -> wsscope::source::PacketRef<'_> {
        wsscope::source::PacketRef {
            number: self.number,
            ts: wsscope::source::Timestamp::default(),
            link: self.link,
            data: &self.data,
            orig_len: self.orig_len,
        }
    }
}

/// Every packet of the capture `bytes`.
pub fn packets_of(bytes: &[u8]) -> Vec<Packet> {
    let mut reader = CaptureReader::new(bytes).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    while let Ok(Some(p)) = reader.next_packet() {
        let data_packet = decode_packet(&p).is_ok_and(|seg| !seg.payload.is_empty());
        let micros = ((p.ts.as_f64() - p.ts.as_f64().floor()) * 1e6).round() as u32;
        out.push(Packet {
            number: p.number,
            link: p.link,
            secs: p.ts.as_f64().floor() as i64,
            micros: micros.min(999_999),
            data: p.data.to_vec(),
            orig_len: p.orig_len,
            data_packet,
        });
    }
    out
}

/// The LINKTYPE number of `link`.
fn linktype(link: LinkType) -> u32 {
    match link {
        LinkType::Ethernet => 1,
        LinkType::LinuxSll => 113,
        LinkType::LinuxSll2 => 276,
        LinkType::RawIp => 101,
        LinkType::Null => 0,
        LinkType::Loop => 108,
        LinkType::Other(n) => n as u32,
    }
}

/// A little-endian microsecond pcap of `packets` (all of one link type).
pub fn pcap_of(packets: &[&Packet]) -> Vec<u8> {
    let link = packets.first().map_or(1, |p| linktype(p.link));
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&0i32.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&262_144u32.to_le_bytes());
    f.extend_from_slice(&link.to_le_bytes());
    for p in packets {
        f.extend_from_slice(&(p.secs as u32).to_le_bytes());
        f.extend_from_slice(&p.micros.to_le_bytes());
        f.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
        f.extend_from_slice(&p.orig_len.to_le_bytes());
        f.extend_from_slice(&p.data);
    }
    f
}

/// xorshift64: deterministic and dependency-free.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The numbers of the data packets to remove: each with probability `percent` %.
pub fn lost_packets(packets: &[Packet], percent: u64, seed: u64) -> HashSet<u64> {
    let mut rng = Rng(seed.max(1));
    packets
        .iter()
        .filter(|p| p.data_packet)
        .filter(|_| rng.next() % 100 < percent)
        .map(|p| p.number)
        .collect()
}

/// A connection's identity across the two decodes (packet numbers differ).
type Key = (SocketAddr, SocketAddr, usize);

fn keyed(capture: &Capture) -> HashMap<Key, &Connection> {
    let mut seen: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    let mut out = HashMap::new();
    for c in &capture.connections {
        let n = seen.entry((c.client, c.server)).or_default();
        out.insert((c.client, c.server, *n), c);
        *n += 1;
    }
    out
}

/// What a lossy decode got right and wrong, against the whole capture's decode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Messages with a hash that no message of the same connection and direction has
    /// in the whole decode: bytes the peer never sent (on connections whose peers broke
    /// no rule).
    pub invented_hashes: usize,
    /// Violations on connections whose whole decode has none.
    pub invented_violations: usize,
    /// Complete messages of the whole decode none of whose frames' packets was lost.
    pub untouched: usize,
    /// …of which the lossy decode has one with the same direction, kind and hash.
    pub recalled: usize,
    /// Connections of the lossy decode the whole decode does not have.
    pub invented_connections: usize,
    /// Untouched messages not recalled whose connection the lossy decode does not have,
    /// or has without the server's answer to the handshake, or without any frame of
    /// that direction after a gap: where the recall is lost.
    pub missed: [usize; 3],
    /// The untouched messages not recalled: connection, direction, kind, first frame.
    pub missed_which: Vec<String>,
    /// Compressed messages, under context takeover, sent after the capture lost bytes
    /// of their direction: their frames are all there, but they may refer to the lost
    /// bytes (RFC 7692 §7.2.2), so they are not counted as untouched.
    pub after_context_loss: usize,
    /// …of which the lossy decode has the same message exactly (it referred to none of
    /// the lost bytes, which the twin inflaters could tell).
    pub after_context_loss_recalled: usize,
}

impl std::ops::AddAssign for Comparison {
    fn add_assign(&mut self, o: Comparison) {
        self.invented_hashes += o.invented_hashes;
        self.invented_violations += o.invented_violations;
        self.untouched += o.untouched;
        self.recalled += o.recalled;
        self.invented_connections += o.invented_connections;
        for i in 0..3 {
            self.missed[i] += o.missed[i];
        }
        self.missed_which.extend(o.missed_which);
        self.after_context_loss += o.after_context_loss;
        self.after_context_loss_recalled += o.after_context_loss_recalled;
    }
}

/// Decodes `bytes` whole and without the packets `lost`, and compares.
pub fn compare(bytes: &[u8], lost: &HashSet<u64>) -> Comparison {
    compare_with(bytes, lost, SessionConfig::default())
}

/// The session settings a bundled capture is decoded with: a wss capture with the key
/// log beside it (`NAME.keys`).
pub fn config_for(path: &std::path::Path) -> SessionConfig {
    let mut config = SessionConfig::default();
    let keys = path.with_extension("keys");
    if keys.exists() {
        let mut log = wsscope::tls::KeyLog::default();
        log.load(&keys)
            .unwrap_or_else(|e| panic!("{}: {e}", keys.display()));
        config.keys = std::sync::Arc::new(log);
    }
    config
}

/// [`compare`] with `config` (a key log, say).
pub fn compare_with(bytes: &[u8], lost: &HashSet<u64>, config: SessionConfig) -> Comparison {
    let packets = packets_of(bytes);
    // The whole capture written the same way as the lossy one (microsecond pcap).
    let all: Vec<&Packet> = packets.iter().collect();
    let whole_bytes = pcap_of(&all);
    let whole = decode_reader(&whole_bytes[..], config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let kept: Vec<&Packet> = packets
        .iter()
        .filter(|p| !lost.contains(&p.number))
        .collect();
    let lossy_bytes = pcap_of(&kept);
    let lossy = decode_reader(&lossy_bytes[..], config).unwrap_or_else(|e| panic!("{e}"));
    let (whole_by, lossy_by) = (keyed(&whole), keyed(&lossy));
    // The first packet lost of each direction of each pair of endpoints.
    let mut first_loss: HashMap<(SocketAddr, SocketAddr), u64> = HashMap::new();
    for p in packets.iter().filter(|p| lost.contains(&p.number)) {
        if let Ok(seg) = decode_packet(&p.as_ref()) {
            let first = first_loss.entry((seg.src, seg.dst)).or_insert(p.number);
            *first = (*first).min(p.number);
        }
    }
    let mut out = Comparison::default();
    for (key, c) in &lossy_by {
        let Some(w) = whole_by.get(key) else {
            out.invented_connections += 1;
            continue;
        };
        // A peer that broke a rule (an RSV1 frame without permessage-deflate, say) sent
        // bytes wsscope may read differently once the handshake that showed the rule is
        // lost: its connection is judged only on violations it did not commit.
        if !w.violations.is_empty() {
            continue;
        }
        let sent: HashSet<(Dir, &str)> = w
            .messages
            .iter()
            .filter_map(|m| m.sha256.as_deref().map(|h| (m.dir, h)))
            .collect();
        out.invented_hashes += c
            .messages
            .iter()
            .filter_map(|m| m.sha256.as_deref().map(|h| (m.dir, h)))
            .filter(|k| !sent.contains(k))
            .count();
        out.invented_violations += c.violations.len();
    }
    for (key, w) in &whole_by {
        let got: HashSet<(Dir, MessageKind, &str)> = lossy_by
            .get(key)
            .map(|c| {
                c.messages
                    .iter()
                    .filter_map(|m| m.sha256.as_deref().map(|h| (m.dir, m.kind, h)))
                    .collect()
            })
            .unwrap_or_default();
        for m in w
            .messages
            .iter()
            .filter(|m| m.complete && m.sha256.is_some())
        {
            let (from, to) = match m.dir {
                Dir::Client => (w.client, w.server),
                Dir::Server => (w.server, w.client),
            };
            let takeover = match &w.handshake {
                Some(h) => h.deflate.is_some_and(|d| {
                    let p = if m.dir == Dir::Client {
                        d.client
                    } else {
                        d.server
                    };
                    !p.no_context_takeover
                }),
                None => true,
            };
            let starts = m
                .frames
                .first()
                .and_then(|&i| w.frame(i))
                .and_then(|f| f.packets.first().copied())
                .unwrap_or(0);
            if m.compressed && takeover && first_loss.get(&(from, to)).is_some_and(|&l| l < starts)
            {
                out.after_context_loss += 1;
                if let Some(h) = m.sha256.as_deref()
                    && got.contains(&(m.dir, m.kind, h))
                {
                    out.after_context_loss_recalled += 1;
                }
                continue;
            }
            let touched = m.frames.iter().any(|&i| {
                w.frame(i)
                    .is_some_and(|f| f.packets.iter().any(|n| lost.contains(n)))
            });
            if touched {
                continue;
            }
            out.untouched += 1;
            if let Some(h) = m.sha256.as_deref()
                && got.contains(&(m.dir, m.kind, h))
            {
                out.recalled += 1;
            } else {
                out.missed_which.push(format!(
                    "{}:{} {} {} frame {:?}",
                    key.0,
                    key.1,
                    m.dir.name(),
                    m.kind.name(),
                    m.frames.first()
                ));
                match lossy_by.get(key) {
                    None => out.missed[0] += 1,
                    Some(c) if c.handshake.as_ref().is_some_and(|h| h.response.is_none()) => {
                        out.missed[1] += 1
                    }
                    Some(_) => out.missed[2] += 1,
                }
            }
        }
    }
    out
}
