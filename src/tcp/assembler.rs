//! Reassembly of one direction of a TCP connection into an ordered byte stream.
//!
//! Invariants (checked by the tests against a byte-map oracle):
//! - `delivered` is the stream offset of the next byte owed to the consumer; bytes are
//!   delivered exactly once, in order, and a byte's first captured copy wins.
//! - every entry in `pending` starts after `delivered` and holds bytes not yet delivered;
//!   entries may overlap each other (resolved on delivery, first copy wins).
//! - `pending_bytes` is the sum of the lengths in `pending` and never exceeds the limit
//!   for longer than one call: past it, the hole is declared a gap (capture loss).
//! - a gap is only declared when the bytes cannot arrive any more (limit, peer's ACK
//!   past them, FIN/RST, end of capture); nothing from either side of a gap is spliced.

use std::collections::{BTreeMap, VecDeque};

use super::seq::SeqAnchor;
use crate::source::Timestamp;

/// How many delivered bytes are remembered to compare retransmissions with (about three
/// full-size segments: retransmissions resend what was not yet acknowledged).
const RECENT_BYTES: usize = 4 * 1024;

/// Why a stream has a hole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapReason {
    /// The capture lost the segments (the peer acknowledged them or the buffer limit hit).
    Loss,
    /// The snaplen cut the packet: the bytes were on the wire but not in the file.
    Snaplen,
    /// More bytes waited out of order than the limit allows: the hole was given up.
    BufferLimit,
    /// TLS records were lost (the TLS layer says so): `len` counts the TCP bytes, and
    /// how many bytes of plaintext they held is unknown.
    Encrypted,
}

/// What a direction's reassembler hands downstream, in stream order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// The next bytes of the stream and the packet that carried them.
    Data {
        /// The bytes.
        bytes: &'a [u8],
        /// Capture packet number.
        packet: u64,
        /// Capture time.
        ts: Timestamp,
    },
    /// `len` bytes of the stream are not in the capture.
    Gap {
        /// Missing byte count.
        len: u64,
        /// Why.
        reason: GapReason,
        /// Packet after which the hole was noticed.
        packet: u64,
        /// Its time.
        ts: Timestamp,
    },
    /// A segment lies beyond what the receiver allowed (its advertised window, or the
    /// largest window TCP can advertise past anything it acknowledged): the receiver
    /// never took these bytes, so they are not stream data (RFC 9293 §3.10.7.4).
    OutOfWindow {
        /// The segment's packet.
        packet: u64,
        /// Its payload length.
        len: u64,
    },
    /// A retransmitted segment carried bytes that differ from the first copy.
    RetransmissionDiffers {
        /// The retransmitting packet.
        packet: u64,
        /// Stream offset of the first differing byte.
        offset: u64,
    },
}

#[derive(Clone, Debug)]
struct Pending {
    data: Vec<u8>,
    /// Snaplen-missing bytes after `data`.
    missing: u32,
    packet: u64,
    ts: Timestamp,
}

impl Pending {
    fn end(&self, start: u64) -> u64 {
        start + self.data.len() as u64 + u64::from(self.missing)
    }
}

/// One direction of a TCP connection.
#[derive(Debug, Default)]
pub struct Reassembler {
    anchor: Option<SeqAnchor>,
    delivered: u64,
    pending: BTreeMap<u64, Pending>,
    pending_bytes: usize,
    recent: VecDeque<u8>,
    /// Stream offset of `recent[0]`.
    recent_start: u64,
    fin_at: Option<u64>,
    /// The stream started at a SYN (false: the capture began mid-connection).
    pub saw_syn: bool,
    /// Total bytes declared missing.
    pub gap_bytes: u64,
    /// Limit on bytes buffered out of order.
    pub max_pending: usize,
    /// The furthest stream offset the receiver allowed: acknowledged plus the window it
    /// advertised, where its scale is known (both SYNs seen).
    window_end: Option<u64>,
    /// The latest window the receiver advertised, in bytes (scale known).
    window: u64,
    /// The furthest stream offset the receiver acknowledged.
    acked_max: Option<u64>,
}

/// The largest window TCP can advertise: 65,535 scaled by 2^14 (RFC 7323 §2.3).
pub const MAX_WINDOW: u64 = 65_535 << 14;

impl Reassembler {
    /// A reassembler that buffers at most `max_pending` out-of-order bytes.
    pub fn new(max_pending: usize) -> Self {
        Reassembler {
            max_pending,
            ..Default::default()
        }
    }

    /// Stream offset of the next byte to deliver.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Bytes buffered out of order now.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// All bytes this direction holds: out of order, and remembered for retransmissions.
    pub fn buffered_bytes(&self) -> usize {
        self.pending_bytes + self.recent.len()
    }

    /// Gives up every hole now (the global buffer budget is exhausted): buffered bytes
    /// are delivered after gaps, and the retransmission memory is dropped.
    pub fn shed(&mut self, packet: u64, ts: Timestamp, out: &mut impl FnMut(StreamEvent<'_>)) {
        while !self.pending.is_empty() {
            self.skip_first_hole(GapReason::BufferLimit, packet, ts, out);
        }
        self.recent = VecDeque::new();
        self.recent_start = self.delivered;
    }

    /// True once a FIN was seen and every byte before it was delivered or declared lost.
    pub fn finished(&self) -> bool {
        self.fin_at.is_some_and(|f| self.delivered >= f)
    }

    /// Takes one segment of this direction and emits whatever becomes deliverable.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        seq: u32,
        syn: bool,
        fin: bool,
        payload: &[u8],
        missing: u32,
        packet: u64,
        ts: Timestamp,
        out: &mut impl FnMut(StreamEvent<'_>),
    ) {
        if syn {
            if self.anchor.is_none() || self.delivered == 0 {
                self.anchor = Some(SeqAnchor {
                    seq: seq.wrapping_add(1),
                    offset: 0,
                });
                self.saw_syn = true;
            }
            // Data on a SYN (TCP Fast Open) starts after the SYN's sequence number.
            return self.data(seq.wrapping_add(1), fin, payload, missing, packet, ts, out);
        }
        if self.anchor.is_none() {
            if payload.is_empty() && missing == 0 {
                // A bare ACK before any data: we learn nothing of the stream's start yet.
                if fin {
                    self.anchor = Some(SeqAnchor { seq, offset: 0 });
                    self.fin_at = Some(0);
                }
                return;
            }
            self.anchor = Some(SeqAnchor { seq, offset: 0 });
        }
        self.data(seq, fin, payload, missing, packet, ts, out)
    }

    #[allow(clippy::too_many_arguments)]
    fn data(
        &mut self,
        seq: u32,
        fin: bool,
        payload: &[u8],
        missing: u32,
        packet: u64,
        ts: Timestamp,
        out: &mut impl FnMut(StreamEvent<'_>),
    ) {
        let Some(anchor) = self.anchor else { return };
        let Some(start) = anchor.offset_of(seq) else {
            return;
        };
        let end = start + payload.len() as u64 + u64::from(missing);
        if fin && self.fin_at.is_none() {
            self.fin_at = Some(end);
        }
        if end <= self.delivered {
            self.compare_with_recent(start, payload, packet, out);
            return;
        }
        if payload.is_empty() && missing == 0 {
            // A bare ACK or FIN ahead of the data: nothing to buffer (its FIN is noted above).
            return;
        }
        if start <= self.delivered {
            let skip = (self.delivered - start) as usize;
            self.compare_with_recent(start, &payload[..skip.min(payload.len())], packet, out);
            self.emit(start, payload, missing, packet, ts, out);
            self.drain(out);
        } else if start >= self.receive_limit() {
            out(StreamEvent::OutOfWindow {
                packet,
                len: payload.len() as u64 + u64::from(missing),
            });
        } else {
            self.insert_pending(start, payload, missing, packet, ts);
            if self.pending_bytes > self.max_pending {
                self.skip_first_hole(GapReason::BufferLimit, packet, ts, out);
            }
        }
    }

    /// Where the receiver's allowance ends: its advertised window past its ACK when the
    /// window's scale is known, else the largest possible window past the furthest it
    /// acknowledged (or delivered). Bytes delivered in order count as received even
    /// when the ACK for them is not in the capture: the window also runs from there. A
    /// segment starting at the limit or beyond is out of window.
    fn receive_limit(&self) -> u64 {
        match self.window_end {
            Some(end) => end.max(self.delivered.saturating_add(self.window.max(1))),
            None => self
                .acked_max
                .unwrap_or(0)
                .max(self.delivered)
                .saturating_add(MAX_WINDOW),
        }
    }

    /// The receiver acknowledged `ack` and advertised `window`, scaled by `shift` when
    /// the scale is known (RFC 7323 §2.2: only when both SYNs were seen).
    pub fn advertised(&mut self, ack: u32, window: u16, shift: Option<u8>) {
        let Some(acked) = self.anchor.and_then(|a| a.offset_of(ack)) else {
            return;
        };
        self.acked_max = Some(self.acked_max.map_or(acked, |m| m.max(acked)));
        if let Some(shift) = shift {
            self.window = u64::from(window) << shift.min(14);
            let end = acked + self.window;
            self.window_end = Some(self.window_end.map_or(end, |e| e.max(end)));
        }
    }

    /// The peer acknowledged up to `ack`: any hole below it will never be filled.
    pub fn acked(
        &mut self,
        ack: u32,
        packet: u64,
        ts: Timestamp,
        out: &mut impl FnMut(StreamEvent<'_>),
    ) {
        let Some(anchor) = self.anchor else { return };
        let Some(acked) = anchor.offset_of(ack) else {
            return;
        };
        while let Some((&first, _)) = self.pending.first_key_value() {
            if first < acked && first > self.delivered {
                self.skip_first_hole(GapReason::Loss, packet, ts, out);
            } else {
                break;
            }
        }
    }

    /// End of capture or RST: deliver what is buffered, declaring the holes as gaps.
    pub fn flush(&mut self, packet: u64, ts: Timestamp, out: &mut impl FnMut(StreamEvent<'_>)) {
        while !self.pending.is_empty() {
            self.skip_first_hole(GapReason::Loss, packet, ts, out);
        }
    }

    fn skip_first_hole(
        &mut self,
        reason: GapReason,
        packet: u64,
        ts: Timestamp,
        out: &mut impl FnMut(StreamEvent<'_>),
    ) {
        if let Some((&first, _)) = self.pending.first_key_value() {
            if first > self.delivered {
                let len = first - self.delivered;
                self.gap_bytes += len;
                out(StreamEvent::Gap {
                    len,
                    reason,
                    packet,
                    ts,
                });
                self.delivered = first;
                self.recent.clear();
                self.recent_start = first;
            }
            self.drain(out);
        }
    }

    fn insert_pending(
        &mut self,
        mut start: u64,
        mut payload: &[u8],
        missing: u32,
        packet: u64,
        ts: Timestamp,
    ) {
        // First copy wins: where an entry already starts here, only the part of the new
        // segment beyond it is kept, at the entry's end (each round moves `start` forward).
        while let Some(existing) = self.pending.get(&start) {
            let skip = existing.end(start).saturating_sub(start) as usize;
            if skip == 0 || skip >= payload.len() {
                // Nothing new (a longer run of only snaplen-missing bytes is dropped too).
                return;
            }
            payload = &payload[skip..];
            start += skip as u64;
        }
        if payload.is_empty() && missing == 0 {
            return;
        }
        self.pending_bytes += payload.len();
        self.pending.insert(
            start,
            Pending {
                data: payload.to_vec(),
                missing,
                packet,
                ts,
            },
        );
    }

    /// Delivers pending entries that now touch the delivered edge.
    fn drain(&mut self, out: &mut impl FnMut(StreamEvent<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            let start = *entry.key();
            if start > self.delivered {
                break;
            }
            let p = entry.remove();
            self.pending_bytes -= p.data.len();
            if p.end(start) > self.delivered {
                self.emit(start, &p.data, p.missing, p.packet, p.ts, out);
            }
        }
    }

    /// Emits the part of a segment at `start` that lies beyond `delivered`.
    fn emit(
        &mut self,
        start: u64,
        payload: &[u8],
        missing: u32,
        packet: u64,
        ts: Timestamp,
        out: &mut impl FnMut(StreamEvent<'_>),
    ) {
        let skip = (self.delivered - start) as usize;
        if skip < payload.len() {
            let bytes = &payload[skip..];
            out(StreamEvent::Data { bytes, packet, ts });
            self.remember(bytes);
            self.delivered += bytes.len() as u64;
        }
        let end = start + payload.len() as u64 + u64::from(missing);
        if end > self.delivered {
            let len = end - self.delivered;
            self.gap_bytes += len;
            out(StreamEvent::Gap {
                len,
                reason: GapReason::Snaplen,
                packet,
                ts,
            });
            self.delivered = end;
            self.recent.clear();
            self.recent_start = end;
        }
    }

    fn remember(&mut self, bytes: &[u8]) {
        let keep = bytes.len().min(RECENT_BYTES);
        let tail = &bytes[bytes.len() - keep..];
        if self.recent.is_empty() {
            self.recent_start = self.delivered + (bytes.len() - keep) as u64;
        }
        // From a slice iterator, VecDeque copies in bulk (a byte iterator goes one by one).
        self.recent.extend(tail);
        let excess = self.recent.len().saturating_sub(RECENT_BYTES);
        if excess > 0 {
            self.recent.drain(..excess);
            self.recent_start += excess as u64;
        }
        // Keep the invariant recent_start + recent.len() == delivered + bytes.len().
        let expected_start = self.delivered + bytes.len() as u64 - self.recent.len() as u64;
        self.recent_start = expected_start;
    }

    fn compare_with_recent(
        &self,
        start: u64,
        bytes: &[u8],
        packet: u64,
        out: &mut impl FnMut(StreamEvent<'_>),
    ) {
        for (i, b) in bytes.iter().enumerate() {
            let off = start + i as u64;
            if off < self.recent_start {
                continue;
            }
            let idx = (off - self.recent_start) as usize;
            match self.recent.get(idx) {
                Some(seen) if seen != b => {
                    out(StreamEvent::RetransmissionDiffers {
                        packet,
                        offset: off,
                    });
                    return;
                }
                Some(_) => {}
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests;
