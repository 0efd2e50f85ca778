//! A flow seen from its middle (no SYN, or its first bytes lost) whose first payload is
//! neither HTTP nor a 101: it is WebSocket only on evidence (RFC 6455 §4 makes the
//! opening handshake mandatory, so frames without one are a guess). Each side's bytes are
//! followed by a [`Chain`]; the flow is taken for WebSocket once frames chain exactly in
//! both directions, masked one way and unmasked the other (§5.1), or, when one side sent
//! nothing at all, once many chain on the other. Until then the bytes from the start of
//! each side's chain are held, to be decoded once the guess is made; a flow that gives
//! no such evidence within [`MAX_PROBE_BYTES`] or [`MAX_PROBE_SEGMENTS`] is not
//! WebSocket.

use crate::source::Timestamp;
use crate::tcp::{GapReason, Side};
use crate::ws::chain::{Chain, Link};

/// Most bytes held while a flow is probed.
pub(super) const MAX_PROBE_BYTES: usize = 1 << 20;

/// Most segments looked at before a flow is given up as not WebSocket.
pub(super) const MAX_PROBE_SEGMENTS: u32 = 64;

/// Frames confirmed on each side before a flow with traffic both ways is taken for
/// WebSocket, and in all.
pub(super) const CONFIRMED_EACH_WAY: u32 = 1;
pub(super) const CONFIRMED_BOTH_WAYS: u32 = 3;

/// Frames confirmed on one side when the other sent nothing at all.
pub(super) const CONFIRMED_ONE_WAY: u32 = 8;

/// One segment, or one gap, of a side held while probing.
#[derive(Debug)]
pub(super) struct Held {
    pub side: Side,
    pub what: HeldKind,
    pub packet: u64,
}

/// What was held.
#[derive(Debug)]
pub(super) enum HeldKind {
    /// Bytes of a segment, with its time.
    Bytes(Vec<u8>, Timestamp),
    /// Bytes the capture lacks: how many and why.
    Gap(u64, GapReason),
}

impl Held {
    fn len(&self) -> usize {
        match &self.what {
            HeldKind::Bytes(b, _) => b.len(),
            HeldKind::Gap(..) => 0,
        }
    }
}

/// What a probe hands over once the flow is taken for WebSocket.
#[derive(Debug)]
pub(super) struct Gathered {
    /// The segments from the start of each side's chain, in capture order.
    pub segments: Vec<Held>,
    /// Bytes of each side (by [`Side::index`]) before its chain, not decoded.
    pub skipped: [u64; 2],
}

/// What the evidence says so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Not yet enough either way.
    Open,
    /// WebSocket, with this side as the client (its frames are masked).
    WebSocket { client: Side },
    /// Not WebSocket, or no evidence within the bounds.
    NotWebSocket,
}

/// The evidence gathered about a flow seen from its middle.
#[derive(Debug)]
pub(super) struct Probe {
    chains: [Chain; 2],
    held: Vec<Held>,
    held_bytes: usize,
    /// Bytes of each side not part of a chain (before the first frame found).
    skipped: [u64; 2],
    /// Bytes each side sent while probing.
    sent: [u64; 2],
    segments: u32,
}

impl Probe {
    /// A probe for a flow whose extensions are unknown (RSV1 may be set).
    pub fn new() -> Self {
        Probe {
            chains: [Chain::new(None, true), Chain::new(None, true)],
            held: Vec::new(),
            held_bytes: 0,
            skipped: [0; 2],
            sent: [0; 2],
            segments: 0,
        }
    }

    /// Bytes held.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// The next segment of `side`; returns what the evidence now says.
    pub fn segment(&mut self, side: Side, bytes: &[u8], packet: u64, ts: Timestamp) -> Verdict {
        self.segments += 1;
        self.sent[side.index()] += bytes.len() as u64;
        let chain = &mut self.chains[side.index()];
        let held = HeldKind::Bytes(bytes.to_vec(), ts);
        match chain.segment(bytes) {
            Link::Outside if chain.has_evidence() => self.hold(side, held, packet),
            Link::Outside | Link::Broken => self.drop_side(side, bytes.len()),
            Link::Started => {
                self.drop_side(side, 0);
                self.hold(side, held, packet);
            }
            Link::Continued => self.hold(side, held, packet),
        }
        self.verdict()
    }

    /// `len` bytes of `side` are missing at packet `packet`: its chain cannot go on across
    /// them, though what it confirmed before stands (bytes the snaplen cut inside a
    /// payload are followed through: their length is known).
    pub fn gap(&mut self, side: Side, len: u64, reason: GapReason, packet: u64) {
        let chain = &mut self.chains[side.index()];
        if reason != GapReason::Snaplen || !chain.cut(len) {
            chain.gap();
        }
        if chain.has_evidence() {
            self.hold(side, HeldKind::Gap(len, reason), packet);
        } else {
            self.skipped[side.index()] = self.skipped[side.index()].saturating_add(len);
        }
    }

    /// What was held (in capture order) and skipped, once the flow is taken for
    /// WebSocket.
    pub fn into_parts(self) -> Gathered {
        Gathered {
            segments: self.held,
            skipped: self.skipped,
        }
    }

    fn hold(&mut self, side: Side, what: HeldKind, packet: u64) {
        let held = Held { side, what, packet };
        self.held_bytes += held.len();
        self.held.push(held);
    }

    /// What `side` held is not part of its chain: it is counted as skipped. `more` bytes
    /// of a segment outside any chain are skipped too.
    fn drop_side(&mut self, side: Side, more: usize) {
        let mut dropped = more as u64;
        self.held.retain(|h| {
            let keep = h.side != side;
            if !keep {
                dropped += match h.what {
                    HeldKind::Bytes(ref b, _) => b.len() as u64,
                    HeldKind::Gap(len, _) => len,
                };
            }
            keep
        });
        self.held_bytes = self.held.iter().map(Held::len).sum();
        self.skipped[side.index()] = self.skipped[side.index()].saturating_add(dropped);
    }

    fn verdict(&self) -> Verdict {
        let [a, b] = &self.chains;
        let roles = (a.masked(), b.masked());
        let each_way = a.confirmed() >= CONFIRMED_EACH_WAY
            && b.confirmed() >= CONFIRMED_EACH_WAY
            && a.confirmed() + b.confirmed() >= CONFIRMED_BOTH_WAYS;
        match roles {
            (Some(true), Some(false)) if each_way => {
                return Verdict::WebSocket {
                    client: Side::Opener,
                };
            }
            (Some(false), Some(true)) if each_way => {
                return Verdict::WebSocket {
                    client: Side::Accepter,
                };
            }
            _ => {}
        }
        for side in [Side::Opener, Side::Accepter] {
            let chain = &self.chains[side.index()];
            let silent = self.sent[side.other().index()] == 0;
            if silent && chain.confirmed() >= CONFIRMED_ONE_WAY {
                let client = match chain.masked() {
                    Some(false) => side.other(),
                    _ => side,
                };
                return Verdict::WebSocket { client };
            }
        }
        if self.held_bytes > MAX_PROBE_BYTES || self.segments >= MAX_PROBE_SEGMENTS {
            return Verdict::NotWebSocket;
        }
        Verdict::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked_text(text: &[u8]) -> Vec<u8> {
        let mut f = vec![0x81, 0x80 | text.len() as u8, 0, 0, 0, 0];
        f.extend_from_slice(text);
        f
    }

    fn text(text: &[u8]) -> Vec<u8> {
        let mut f = vec![0x81, text.len() as u8];
        f.extend_from_slice(text);
        f
    }

    #[test]
    fn frames_chaining_both_ways_with_opposite_masking_make_a_websocket() {
        let mut p = Probe::new();
        let ts = Timestamp::default();
        assert_eq!(
            p.segment(Side::Accepter, b"tail of a payload", 1, ts),
            Verdict::Open
        );
        assert_eq!(
            p.segment(Side::Opener, &masked_text(b"hi"), 2, ts),
            Verdict::Open
        );
        assert_eq!(
            p.segment(Side::Accepter, &text(b"hi"), 3, ts),
            Verdict::Open
        );
        assert_eq!(
            p.segment(Side::Opener, &masked_text(b"again"), 4, ts),
            Verdict::WebSocket {
                client: Side::Opener
            }
        );
        let gathered = p.into_parts();
        assert_eq!(gathered.skipped, [0, 17]);
        let held: Vec<u64> = gathered.segments.iter().map(|h| h.packet).collect();
        assert_eq!(held, [2, 3, 4]);
    }

    /// Seeded xorshift: the same bytes on every run.
    fn noise(state: &mut u64, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                (*state >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn random_bytes_both_ways_are_never_taken_for_websocket() {
        // Encrypted or compressed protocols look like this: 2,000 flows of 64 segments
        // of 1 to 300 random bytes each, sent both ways.
        let mut state = 0x9e37_79b9_7f4a_7c15;
        let ts = Timestamp::default();
        let mut taken = 0;
        for flow in 0..2000 {
            let mut p = Probe::new();
            for n in 0..MAX_PROBE_SEGMENTS {
                let len = 1 + (noise(&mut state, 2)[0] as usize * 300) / 256;
                let side = if n % 2 == 0 {
                    Side::Opener
                } else {
                    Side::Accepter
                };
                match p.segment(side, &noise(&mut state, len), u64::from(n), ts) {
                    Verdict::Open => continue,
                    Verdict::WebSocket { .. } => taken += 1,
                    Verdict::NotWebSocket => {}
                }
                break;
            }
            let _ = flow;
        }
        assert_eq!(taken, 0);
    }

    #[test]
    fn the_same_masking_both_ways_is_not_a_websocket() {
        let mut p = Probe::new();
        let ts = Timestamp::default();
        for n in 0..6 {
            assert_eq!(p.segment(Side::Opener, &text(b"one"), n, ts), Verdict::Open);
            assert_eq!(
                p.segment(Side::Accepter, &text(b"two"), n, ts),
                Verdict::Open
            );
        }
    }

    #[test]
    fn one_way_traffic_needs_more_frames_and_no_evidence_gives_up() {
        let mut p = Probe::new();
        let ts = Timestamp::default();
        for n in 0..7 {
            assert_eq!(
                p.segment(Side::Accepter, &text(b"tick"), n, ts),
                Verdict::Open
            );
        }
        assert_eq!(
            p.segment(Side::Accepter, &text(b"tick"), 7, ts),
            Verdict::WebSocket {
                client: Side::Opener
            }
        );
        let mut noise = Probe::new();
        let mut verdict = Verdict::Open;
        for n in 0..MAX_PROBE_SEGMENTS {
            verdict = noise.segment(Side::Opener, &[0x16, 3, 1, 0, 5], u64::from(n), ts);
        }
        assert_eq!(verdict, Verdict::NotWebSocket);
        assert_eq!(noise.held_bytes(), 0);
    }
}
