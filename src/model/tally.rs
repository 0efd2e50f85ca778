//! Running totals over a connection's frames and messages, fed in capture order a batch
//! at a time. In streaming mode (`summary`, `frames`, `export`) a long connection's
//! ended records are handed out while it is still open; what the summary and the
//! analyses need from them stays here, so per-direction counts, the heartbeat picture
//! (RFC 6455 §5.5.2, §5.5.3, §7.1.2) and the overhead still cover the whole connection.
//! The viewer's analyses are computed the same way, from a fresh tally fed every record,
//! so the two can never disagree. The analyses themselves are in [`crate::analysis`].

use std::collections::VecDeque;

use super::{Dir, FrameRecord, MessageKind, MessageRecord};
use crate::source::Timestamp;

/// Pings one side may have waiting for an answer; past it the oldest is given up as
/// unanswered (a peer that pings without end cannot fill memory with payloads).
pub const MAX_OUTSTANDING_PINGS: usize = 4096;

/// A close message whose status code was read (RFC 6455 §5.5.1, §7.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseSeen {
    /// Who sent it.
    pub dir: Dir,
    /// The status code.
    pub code: u16,
    /// The reason (lossy UTF-8).
    pub reason: String,
}

/// Counts over the records fed so far.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Frames per direction (client, server).
    pub frames: [u64; 2],
    /// Frame payload bytes per direction, as on the wire (compressed where it was).
    pub payload: [u64; 2],
    /// Frame header bytes per direction.
    pub framing: [u64; 2],
    /// Payload bytes frames declared that the capture does not hold (the snaplen cut
    /// them, the capture lost them or ended first), per direction.
    pub payload_missing: [u64; 2],
    /// Messages per direction and kind, indexed by [`kind_index`].
    pub kinds: [[u64; 5]; 2],
    /// Bytes of data messages (text and binary, after decompression) per direction.
    pub data_bytes: [u64; 2],
    /// Close messages whose status code was read, in order.
    pub closes: Vec<CloseSeen>,
    /// Pings paired with pongs, and silences between frames.
    pub heartbeat: HeartbeatTally,
}

/// Position of a message kind in [`Tally::kinds`].
pub fn kind_index(kind: MessageKind) -> usize {
    match kind {
        MessageKind::Text => 0,
        MessageKind::Binary => 1,
        MessageKind::Ping => 2,
        MessageKind::Pong => 3,
        MessageKind::Close => 4,
    }
}

/// One ping and what answered it (RFC 6455 §5.5.2, §5.5.3).
#[derive(Clone, Debug, PartialEq)]
pub struct PingPair {
    /// Who sent the ping.
    pub dir: Dir,
    /// Frame index of the ping.
    pub ping_frame: u32,
    /// Frame index of the pong that answered it.
    pub pong_frame: Option<u32>,
    /// Seconds from ping to pong.
    pub rtt: Option<f64>,
    /// The pong echoed this ping's payload, as §5.5.3 requires.
    pub echoed: bool,
}

/// The heartbeat picture under construction ([`crate::analysis::heartbeat::from_tally`] reads it).
#[derive(Clone, Debug, Default)]
pub struct HeartbeatTally {
    /// Every ping, in order, with its answer so far.
    pub pairs: Vec<PingPair>,
    /// Pings still waiting for a pong, per pinging side: (index in `pairs`, payload, time).
    outstanding: [VecDeque<(usize, Vec<u8>, Timestamp)>; 2],
    /// Pongs that answered no outstanding ping.
    pub unsolicited: usize,
    /// Per side: pings sent, time of the first and of the latest.
    pub pings: [(usize, Option<(Timestamp, Timestamp)>); 2],
    /// Time of the latest frame fed.
    last_frame: Option<Timestamp>,
    /// The longest silence between two frames: seconds, and the frame after it.
    pub longest_idle: Option<(f64, u32)>,
    /// Silences longer than the threshold given to [`Tally::frames`].
    pub idle_gaps: Vec<(f64, u32)>,
}

impl Tally {
    /// Feeds the next frames, in capture order; silences longer than `idle_threshold`
    /// seconds are remembered for [`Tally::heartbeat`].
    pub fn frames(&mut self, frames: &[FrameRecord], idle_threshold: f64) {
        let hb = &mut self.heartbeat;
        for f in frames {
            let d = f.dir.index();
            self.frames[d] += 1;
            // What the capture holds: a declared length may be anything up to 2^63.
            self.payload[d] = self.payload[d].saturating_add(f.seen);
            // A 64-bit length with its top bit set is no length (RFC 6455 §5.2).
            if !f.complete && !f.header.length_msb_set() {
                let missing = f.header.payload_len.saturating_sub(f.seen);
                self.payload_missing[d] = self.payload_missing[d].saturating_add(missing);
            }
            self.framing[d] += u64::from(f.header.header_len);
            if let Some(prev) = hb.last_frame {
                let gap = f.ts.seconds_since(prev);
                if hb.longest_idle.is_none_or(|(g, _)| gap > g) {
                    hb.longest_idle = Some((gap, f.index));
                }
                if gap > idle_threshold {
                    hb.idle_gaps.push((gap, f.index));
                }
            }
            hb.last_frame = Some(f.ts);
        }
    }

    /// Feeds the next messages, in the order their first frames arrived.
    pub fn messages(&mut self, messages: &[MessageRecord]) {
        for m in messages {
            let d = m.dir.index();
            self.kinds[d][kind_index(m.kind)] += 1;
            match m.kind {
                MessageKind::Text | MessageKind::Binary => {
                    self.data_bytes[d] = self.data_bytes[d].saturating_add(m.len);
                }
                MessageKind::Close => {
                    if let Some(code) = m.close_code {
                        self.closes.push(CloseSeen {
                            dir: m.dir,
                            code,
                            reason: m.close_reason.clone().unwrap_or_default(),
                        });
                    }
                }
                MessageKind::Ping => self.heartbeat.ping(m),
                MessageKind::Pong => self.heartbeat.pong(m),
            }
        }
    }

    /// Messages of `kind` sent by `dir`.
    pub fn count(&self, dir: Dir, kind: MessageKind) -> u64 {
        self.kinds[dir.index()][kind_index(kind)]
    }

    /// Data messages (text and binary) sent by `dir`.
    pub fn data_messages(&self, dir: Dir) -> u64 {
        self.count(dir, MessageKind::Text) + self.count(dir, MessageKind::Binary)
    }
}

impl HeartbeatTally {
    fn ping(&mut self, m: &MessageRecord) {
        let side = m.dir.index();
        let waiting = &mut self.outstanding[side];
        waiting.push_back((self.pairs.len(), m.data.clone(), m.ts));
        if waiting.len() > MAX_OUTSTANDING_PINGS {
            waiting.pop_front();
        }
        self.pairs.push(PingPair {
            dir: m.dir,
            ping_frame: m.frames.first().copied().unwrap_or(0),
            pong_frame: None,
            rtt: None,
            echoed: false,
        });
        let (count, span) = &mut self.pings[side];
        *count += 1;
        *span = Some(span.map_or((m.ts, m.ts), |(first, _)| (first, m.ts)));
    }

    /// A pong answers the other side's pings: the one whose payload it echoes, else the
    /// most recent (§5.5.3 allows answering only the latest ping). Earlier pings are left
    /// unanswered; later ones stay outstanding.
    fn pong(&mut self, m: &MessageRecord) {
        let waiting = &mut self.outstanding[m.dir.other().index()];
        let pos = waiting
            .iter()
            .rposition(|(_, p, _)| p.as_slice() == m.data.as_slice());
        let echoed = pos.is_some();
        let Some(at) = pos.or_else(|| waiting.len().checked_sub(1)) else {
            self.unsolicited += 1;
            return;
        };
        let Some((i, _, ts)) = waiting.drain(..=at).next_back() else {
            return;
        };
        if let Some(pair) = self.pairs.get_mut(i) {
            pair.pong_frame = Some(m.frames.first().copied().unwrap_or(0));
            pair.rtt = Some(m.ts.seconds_since(ts));
            pair.echoed = echoed;
        }
    }
}
