//! Decoding one direction of a WebSocket connection as its bytes arrive: the frame-level
//! state machine (RFC 6455 §5.2). Headers are collected and parsed (via
//! [`parse_frame_header`]) across packet boundaries, payloads streamed, gaps in the
//! capture followed where frame boundaries survive them and resynchronised where they do
//! not. Each frame is checked ([`super::checks`]) and handed to its message
//! (`ws::message`); everything found is reported to a [`Sink`], and nothing is an
//! error.

use super::Negotiated;
use super::chain::{Chain, Link};
use super::checks::header_violations;
use super::frame::{FrameHeader, MAX_HEADER_LEN, parse_frame_header};
use super::limits::{Limits, PREVIEW_FRAME_BYTES, PREVIEW_MESSAGE_BYTES};
use super::message::{Assembly, shrink};
use super::record::{Dir, FrameRecord, Lack};
use super::sink::Sink;
use crate::rules::Warning;
use crate::source::Timestamp;

/// Where the decoder is in the stream of frames.
#[derive(Debug)]
enum State {
    /// Collecting header bytes.
    Header {
        buf: [u8; MAX_HEADER_LEN],
        len: usize,
    },
    /// Streaming the payload of frame `index`.
    Payload {
        index: u32,
        header: FrameHeader,
        remaining: u64,
        offset: u64,
    },
    /// Frame boundaries were lost (gap inside a header, or an unfollowable length).
    Lost,
}

impl State {
    fn header() -> Self {
        State::Header {
            buf: [0; MAX_HEADER_LEN],
            len: 0,
        }
    }
}

/// Most bytes held while a frame found after a loss waits to be confirmed.
pub const MAX_RESYNC_HELD: usize = 256 * 1024;

/// A frame header found at the start of a segment after frame boundaries were lost,
/// not yet confirmed (its frame goes on past the segment): the segments since, held
/// until the frame ends where the next header fits, or a segment ends.
#[derive(Debug)]
struct Candidate {
    chain: Chain,
    held: Vec<Piece>,
    bytes: usize,
}

/// A part of the stream held while a candidate waits.
#[derive(Debug)]
enum Piece {
    /// A segment's bytes, its packet and time.
    Bytes(Vec<u8>, u64, Timestamp),
    /// This many bytes the snaplen cut from the end of the segment before, at a packet.
    Cut(u64, u64),
}

impl Piece {
    fn packet(&self) -> u64 {
        match self {
            Piece::Bytes(_, packet, _) | Piece::Cut(_, packet) => *packet,
        }
    }
}

/// What the snaplen cut from one direction, told once when the stream ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SnaplenCuts {
    /// Bytes cut.
    pub bytes: u64,
    /// The first packet cut.
    pub first_packet: u64,
    /// Frames that lost part of their payload (their length is known, their bytes not).
    pub frames: u64,
    /// Times whole headers were cut, so frame boundaries had to be found again.
    pub boundaries_lost: u64,
}

/// What a segment does while frame boundaries are lost.
enum Resync {
    /// Not a frame start: the bytes are passed over.
    Skip,
    /// Held: a candidate frame is not confirmed yet.
    Wait,
    /// Confirmed: these segments are decoded from their first frame.
    Found(Vec<Piece>),
}

/// Decoder of one direction of one connection.
pub struct DirectionDecoder {
    dir: Dir,
    negotiated: Negotiated,
    /// Largest part of a frame's wire bytes kept.
    max_frame_kept: usize,
    state: State,
    /// Bytes of this direction consumed since the WebSocket phase began.
    offset: u64,
    messages: Assembly,
    close_sent: bool,
    /// Packets that carried the bytes of the header being collected.
    header_packets: smallvec::SmallVec<[u64; 2]>,
    /// The last packet seen, to list a frame's packets without repeats.
    packet: u64,
    ts: Timestamp,
    /// While frame boundaries are lost: a frame found but not yet confirmed.
    candidate: Option<Candidate>,
    /// What the snaplen cut.
    cuts: SnaplenCuts,
    /// Frame boundaries were lost by the snaplen (or a head it cut) only: finding them
    /// again is part of [`SnaplenCuts`], not a warning of its own.
    lost_by_snaplen: bool,
    /// Decoding started unaligned ([`DirectionDecoder::start_unaligned`]) and no frame
    /// was found yet.
    unaligned_start: bool,
}

impl std::fmt::Debug for DirectionDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectionDecoder")
            .field("dir", &self.dir)
            .field("state", &self.state)
            .finish()
    }
}

impl DirectionDecoder {
    /// A decoder for frames sent by `dir`.
    pub fn new(dir: Dir, negotiated: Negotiated, mut limits: Limits) -> Self {
        if limits.preview_only {
            limits.max_frame_kept = limits.max_frame_kept.min(PREVIEW_FRAME_BYTES);
            limits.max_message_kept = limits.max_message_kept.min(PREVIEW_MESSAGE_BYTES);
        }
        DirectionDecoder {
            dir,
            negotiated,
            max_frame_kept: limits.max_frame_kept,
            state: State::header(),
            offset: 0,
            messages: Assembly::new(dir, negotiated, limits),
            close_sent: false,
            header_packets: smallvec::SmallVec::new(),
            packet: 0,
            ts: Timestamp::default(),
            candidate: None,
            cuts: SnaplenCuts::default(),
            lost_by_snaplen: false,
            unaligned_start: false,
        }
    }

    /// Frames start somewhere after a head the snaplen cut (RFC 6455 §4: right after
    /// the handshake, but where the head ends is not in the capture): decoding starts
    /// with frame boundaries lost, at the first packet that starts with a confirmed
    /// header.
    pub fn start_unaligned(&mut self) {
        self.state = State::Lost;
        self.lost_by_snaplen = true;
        self.unaligned_start = true;
    }

    /// Bytes of this direction were lost before its frames begin (with the Upgrade
    /// request, whose length is unknown): frames, and the compressed stream's window,
    /// may have been lost with them. Decoding starts with frame boundaries lost, and
    /// compressed messages are judged as after a gap.
    pub fn start_after_loss(&mut self) {
        self.state = State::Lost;
        self.messages.gap_between_frames();
    }

    /// What the snaplen cut from this direction so far.
    pub fn snaplen_cuts(&self) -> SnaplenCuts {
        self.cuts
    }

    /// Bytes held while a frame found after a loss waits to be confirmed.
    pub fn held_bytes(&self) -> usize {
        self.candidate.as_ref().map_or(0, |c| c.bytes)
    }

    /// The sink holds `held` frames because this direction's fragmented message has not
    /// ended (records leave only from the front, with their messages): the message is
    /// given up as past the fragment limit (its remaining fragments are skipped until
    /// its last one), so the frames behind it can go. Only while this direction is
    /// between frames.
    pub fn give_up_open(&mut self, sink: &mut impl Sink, held: usize) {
        self.messages.give_up_open(sink, held);
    }

    /// True if a Close frame was sent in this direction.
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// Feeds the next bytes of this direction's stream, from capture packet `packet` of
    /// time `ts` (one TCP segment's worth, as released by reassembly).
    ///
    /// After frame boundaries were lost, a segment is decoded again only from a frame
    /// header at its start that is confirmed ([`Chain`]): the frame ends where the
    /// segment ends, or the next header starts where it ends and fits as well. Until a
    /// candidate is confirmed its segments are held (at most [`MAX_RESYNC_HELD`] bytes).
    pub fn feed(&mut self, sink: &mut impl Sink, bytes: &[u8], packet: u64, ts: Timestamp) {
        if !matches!(self.state, State::Lost) {
            return self.decode(sink, bytes, packet, ts);
        }
        sink.bytes_at(ts);
        match self.resync(bytes, packet, ts) {
            Resync::Skip => self.offset += bytes.len() as u64,
            Resync::Wait => {}
            Resync::Found(held) => self.replay_found(sink, held),
        }
    }

    /// One segment while frame boundaries are lost.
    fn resync(&mut self, bytes: &[u8], packet: u64, ts: Timestamp) -> Resync {
        if let Some(c) = self.candidate.as_mut() {
            if c.chain.segment(bytes) == Link::Continued {
                c.held.push(Piece::Bytes(bytes.to_vec(), packet, ts));
                c.bytes += bytes.len();
                if c.chain.confirmed() > 0 {
                    return Resync::Found(
                        self.candidate.take().map(|c| c.held).unwrap_or_default(),
                    );
                }
                if c.bytes <= MAX_RESYNC_HELD {
                    return Resync::Wait;
                }
                // Too long to wait for: its bytes are passed over.
                self.drop_candidate();
                return Resync::Wait;
            }
            // The candidate did not chain: it was not a frame.
            self.drop_candidate();
        }
        let rsv1 = self.negotiated.unknown
            || self.negotiated.other_extension
            || self.negotiated.deflate.is_some();
        let mut chain = Chain::new(Some(self.dir == Dir::Client), rsv1);
        if chain.segment(bytes) != Link::Started {
            return Resync::Skip;
        }
        let held = vec![Piece::Bytes(bytes.to_vec(), packet, ts)];
        if chain.confirmed() > 0 {
            return Resync::Found(held);
        }
        self.candidate = Some(Candidate {
            chain,
            held,
            bytes: bytes.len(),
        });
        Resync::Wait
    }

    /// The buffer budget is exhausted: a frame found after a loss and still waiting for
    /// confirmation is given up, its bytes passed over (frame boundaries stay lost).
    pub fn shed(&mut self) {
        self.drop_candidate();
    }

    /// The candidate frame is given up: its bytes are passed over.
    fn drop_candidate(&mut self) {
        if let Some(c) = self.candidate.take() {
            self.offset += c.bytes as u64;
        }
    }

    /// Decodes the next bytes while frame boundaries are known.
    fn decode(&mut self, sink: &mut impl Sink, mut bytes: &[u8], packet: u64, ts: Timestamp) {
        self.packet = packet;
        self.ts = ts;
        sink.bytes_at(ts);
        while !bytes.is_empty() {
            match &mut self.state {
                State::Lost => {
                    self.offset += bytes.len() as u64;
                    return;
                }
                State::Header { buf, len } => {
                    if self.header_packets.last() != Some(&packet) {
                        self.header_packets.push(packet);
                    }
                    let take = (MAX_HEADER_LEN - *len).min(bytes.len());
                    buf[*len..*len + take].copy_from_slice(&bytes[..take]);
                    let have = *len + take;
                    match parse_frame_header(&buf[..have]) {
                        Ok((_, header)) => {
                            let used = usize::from(header.header_len)
                                .saturating_sub(*len)
                                .min(take);
                            let raw = buf[..usize::from(header.header_len)].to_vec();
                            bytes = &bytes[used..];
                            self.offset += used as u64;
                            self.begin_frame(sink, header, raw);
                        }
                        Err(nom::Err::Incomplete(_)) => {
                            *len = have;
                            self.offset += take as u64;
                            bytes = &bytes[take..];
                        }
                        Err(_) => {
                            // The header parser has no failure mode besides Incomplete.
                            self.state = State::Lost;
                        }
                    }
                }
                State::Payload {
                    index,
                    header,
                    remaining,
                    offset,
                } => {
                    let (index, header, payload_offset) = (*index, *header, *offset);
                    let take = (*remaining).min(bytes.len() as u64) as usize;
                    *remaining -= take as u64;
                    *offset += take as u64;
                    let done = *remaining == 0;
                    let chunk = &bytes[..take];
                    bytes = &bytes[take..];
                    self.offset += take as u64;
                    self.payload(sink, index, &header, chunk, payload_offset);
                    if done {
                        self.end_frame(sink, index, &header);
                    }
                }
            }
        }
    }

    /// `len` bytes of this direction are missing from the capture (cut by the snaplen
    /// when `snaplen`, else lost), at packet `packet`.
    pub fn gap(&mut self, sink: &mut impl Sink, len: u64, snaplen: bool, packet: u64) {
        if snaplen {
            if self.cuts.bytes == 0 {
                self.cuts.first_packet = packet;
            }
            self.cuts.bytes = self.cuts.bytes.saturating_add(len);
            if let Some(c) = self.candidate.as_mut()
                && c.chain.cut(len)
            {
                // The candidate's frame goes on into the bytes cut: where it ends on the
                // wire still confirms it.
                c.held.push(Piece::Cut(len, packet));
                if c.chain.confirmed() > 0
                    && let Some(c) = self.candidate.take()
                {
                    self.replay_found(sink, c.held);
                }
                return;
            }
        }
        self.drop_candidate();
        self.missing(sink, len, snaplen, packet);
    }

    /// TLS records were lost (`tcp_len` bytes of the TCP stream, at `packet`): how many
    /// bytes of this direction's frames they held is unknown, so frame boundaries are
    /// lost, whatever frame was being read is cut there, and decoding resumes at a
    /// decrypted record that starts with a confirmed frame.
    pub fn gap_of_unknown_length(&mut self, sink: &mut impl Sink, tcp_len: u64, packet: u64) {
        self.drop_candidate();
        if let State::Payload { index, .. } = self.state
            && let Some(frame) = sink.frame_mut(index)
        {
            frame.complete = false;
            frame.lacks.get_or_insert(Lack::Lost);
        }
        sink.gap(self.dir, tcp_len, packet, false);
        sink.warning(
            Warning::TcpGap,
            self.dir,
            None,
            format!("the capture lost {tcp_len} bytes of the TLS stream (packet {packet}): what the records held is unknown; frame boundaries are lost until a decrypted record starts with a frame confirmed by where it ends"),
        );
        self.messages.gap_between_frames();
        self.lose_sync(sink);
        self.lost_by_snaplen = false;
    }

    /// Decodes the pieces held for a candidate frame that is now confirmed.
    fn replay_found(&mut self, sink: &mut impl Sink, held: Vec<Piece>) {
        if !self.lost_by_snaplen {
            let first = held.first().map_or(self.packet, Piece::packet);
            sink.warning(
                Warning::Desync,
                self.dir,
                None,
                format!("frame boundaries found again at packet {first} (the frame found there is confirmed by where it ends)"),
            );
        }
        self.lost_by_snaplen = false;
        if std::mem::take(&mut self.unaligned_start) {
            if self.offset == 0 {
                // The first frame after the handshake: any compressed stream starts here.
                self.messages.stream_starts_here();
            } else {
                self.messages.gap_between_frames();
            }
        }
        self.state = State::header();
        for piece in held {
            match piece {
                Piece::Bytes(bytes, packet, ts) => self.feed(sink, &bytes, packet, ts),
                Piece::Cut(len, packet) => self.missing(sink, len, true, packet),
            }
        }
    }

    /// `len` bytes are not in the capture (cut by the snaplen, or lost): inside a frame's
    /// payload they are that frame's missing bytes; anywhere else frame boundaries are
    /// lost. What the snaplen cut is counted and told once ([`SnaplenCuts`]).
    fn missing(&mut self, sink: &mut impl Sink, len: u64, snaplen: bool, packet: u64) {
        self.offset += len;
        let lack = if snaplen { Lack::Snaplen } else { Lack::Lost };
        match &mut self.state {
            State::Payload {
                index,
                header,
                remaining,
                offset,
            } if len <= *remaining => {
                let (index, header) = (*index, *header);
                *remaining -= len;
                *offset += len;
                let done = *remaining == 0;
                if let Some(frame) = sink.frame_mut(index) {
                    frame.complete = false;
                    frame.lacks.get_or_insert(lack);
                }
                self.messages.bytes_missing(sink, len);
                if snaplen {
                    self.cuts.frames += 1;
                } else {
                    sink.gap(self.dir, len, packet, false);
                    sink.warning(
                        Warning::TcpGap,
                        self.dir,
                        Some(index),
                        format!("the capture lost {len} payload bytes of frame {index} (packet {packet})"),
                    );
                }
                if done {
                    self.end_frame(sink, index, &header);
                }
            }
            // Boundaries are lost already: these bytes are passed over like the rest.
            State::Lost if snaplen => {}
            _ => {
                if let State::Payload { index, .. } = self.state
                    && let Some(frame) = sink.frame_mut(index)
                {
                    frame.complete = false;
                    frame.lacks.get_or_insert(lack);
                }
                if snaplen {
                    if matches!(self.state, State::Payload { .. }) {
                        self.cuts.frames += 1;
                    }
                    self.cuts.boundaries_lost += 1;
                } else {
                    sink.warning(
                        Warning::TcpGap,
                        self.dir,
                        None,
                        format!("the capture lost {len} bytes (packet {packet}); frame boundaries are lost until a packet starts with a plausible frame header"),
                    );
                }
                self.messages.gap_between_frames();
                self.lose_sync(sink);
                self.lost_by_snaplen = snaplen;
                sink.gap(self.dir, len, packet, snaplen);
            }
        }
    }

    /// Frame boundaries are lost: the frame being read ends here, and whatever message
    /// was open cannot be finished.
    fn lose_sync(&mut self, sink: &mut impl Sink) {
        if let State::Payload { index, .. } = self.state
            && let Some(frame) = sink.frame_mut(index)
        {
            frame.ended = true;
        }
        self.messages.lose_sync(sink);
        self.state = State::Lost;
    }

    /// The stream ended: report a frame cut short and a message left open.
    pub fn finish(&mut self, sink: &mut impl Sink) {
        if let Some(c) = self.candidate.take() {
            sink.warning(
                Warning::Desync,
                self.dir,
                None,
                format!(
                    "the stream ends before the frame found at packet {} could be confirmed; its {} bytes are not decoded",
                    c.held.first().map_or(0, Piece::packet),
                    c.bytes
                ),
            );
        }
        let mut inside_payload = false;
        match &self.state {
            State::Header { len, .. } if *len > 0 => {
                sink.warning(
                    Warning::FrameIncomplete,
                    self.dir,
                    None,
                    format!("the stream ends inside a frame header ({len} bytes)"),
                );
            }
            State::Payload {
                index, remaining, ..
            } => {
                let (index, remaining) = (*index, *remaining);
                if let Some(frame) = sink.frame_mut(index) {
                    frame.complete = false;
                    frame.ended = true;
                    frame.lacks.get_or_insert(Lack::StreamEnd);
                }
                sink.warning(
                    Warning::FrameIncomplete,
                    self.dir,
                    Some(index),
                    format!(
                        "the stream ends with {remaining} payload bytes of frame {index} missing"
                    ),
                );
                inside_payload = true;
            }
            _ => {}
        }
        self.messages.stream_ended(sink, inside_payload);
    }

    fn begin_frame(&mut self, sink: &mut impl Sink, header: FrameHeader, raw: Vec<u8>) {
        let dir = self.dir;
        let index = sink.push_frame(FrameRecord {
            index: 0,
            dir,
            ts: self.ts,
            header,
            packets: std::mem::take(&mut self.header_packets),
            stream_offset: self.offset - u64::from(header.header_len),
            raw,
            complete: true,
            seen: 0,
            message: None,
            ended: false,
            lacks: None,
        });
        for (rule, detail) in header_violations(dir, &self.negotiated, self.close_sent, &header) {
            sink.violation(rule, dir, Some(index), detail);
        }
        let lost = header.length_msb_set();
        self.messages.begin_frame(sink, &header, index, self.ts);
        if lost {
            sink.warning(Warning::Desync, dir, Some(index), "a 64-bit length with its top bit set cannot be followed; decoding resumes at the next packet that starts with a plausible frame header");
            if let Some(frame) = sink.frame_mut(index) {
                frame.complete = false;
                frame.ended = true;
                frame.lacks = Some(Lack::BadLength);
            }
            self.messages.lose_sync(sink);
            self.state = State::Lost;
            return;
        }
        self.state = State::Payload {
            index,
            header,
            remaining: header.payload_len,
            offset: 0,
        };
        if header.payload_len == 0 {
            self.end_frame(sink, index, &header);
        }
    }

    fn payload(
        &mut self,
        sink: &mut impl Sink,
        index: u32,
        header: &FrameHeader,
        chunk: &[u8],
        payload_offset: u64,
    ) {
        if let Some(rec) = sink.frame_mut(index) {
            if rec.packets.last() != Some(&self.packet) {
                rec.packets.push(self.packet);
            }
            rec.seen += chunk.len() as u64;
            let room = self.max_frame_kept.saturating_sub(rec.raw.len());
            if room < chunk.len() && rec.complete {
                rec.complete = false;
                rec.lacks.get_or_insert(Lack::KeepLimit);
            }
            rec.raw.extend_from_slice(&chunk[..room.min(chunk.len())]);
        }
        self.messages
            .payload(sink, index, header, chunk, payload_offset, self.ts);
    }

    fn end_frame(&mut self, sink: &mut impl Sink, index: u32, header: &FrameHeader) {
        self.state = State::header();
        if let Some(frame) = sink.frame_mut(index) {
            frame.ended = true;
            shrink(&mut frame.raw);
        }
        if self.messages.end_frame(sink, header, index, self.ts) {
            self.close_sent = true;
        }
    }
}

#[cfg(test)]
mod tests;
