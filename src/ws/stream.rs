//! Decoding one direction of a WebSocket connection as its bytes arrive: frame headers
//! (via [`parse_frame_header`]), payloads streamed through unmasking, message assembly
//! across fragments with control frames interleaved, permessage-deflate, UTF-8 and close
//! checks. Every finding is written into the [`Connection`] record; nothing is an error.

use sha2::{Digest, Sha256};

use super::close::{ClosePayload, close_code_allowed, parse_close};
use super::deflate::{DeflateParams, InflateFailure, Inflater};
use super::frame::{
    ControlOpcode, DataOpcode, FrameHeader, MAX_HEADER_LEN, Opcode, parse_frame_header,
};
use super::limits::Limits;
use super::mask::apply_mask;
use super::utf8::Utf8Validator;
use crate::model::{Connection, Dir, FrameRecord, MessageKind, MessageRecord};
use crate::rules::{Violation, Warning};
use crate::source::Timestamp;

/// What the handshake agreed that matters to framing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// permessage-deflate parameters of *this direction's sender*, if negotiated.
    pub deflate: Option<DeflateParams>,
    /// Some other extension was negotiated (its RSV bits are not judged).
    pub other_extension: bool,
    /// No handshake was seen: RSV1 and masking are judged leniently.
    pub unknown: bool,
}

#[derive(Debug)]
enum State {
    /// Collecting header bytes.
    Header {
        buf: [u8; MAX_HEADER_LEN],
        len: usize,
    },
    /// Streaming a payload.
    Payload {
        frame: usize,
        remaining: u64,
        offset: u64,
    },
    /// Frame boundaries were lost (gap inside a header, or an unfollowable length).
    Lost,
}

/// A data message being assembled.
struct OpenMessage {
    /// Position in `Connection::messages`; [`GONE`] once the record was handed out
    /// (a message past the fragment limit has ended while its fragments are skipped).
    index: usize,
    /// Index of its first frame.
    first_frame: u32,
    hasher: Sha256,
    utf8: Option<Utf8Validator>,
    fragments: u32,
    /// Past the fragment limit: its remaining fragments are skipped until its FIN.
    dropped: bool,
}

/// Position of a message record no longer held (handed out in streaming mode).
const GONE: usize = usize::MAX;

/// Decoder of one direction of one connection.
pub struct DirectionDecoder {
    dir: Dir,
    negotiated: Negotiated,
    limits: Limits,
    state: State,
    /// Bytes of this direction consumed since the WebSocket phase began.
    offset: u64,
    open: Option<OpenMessage>,
    /// A complete data frame that arrived while `open` was unfinished: kept as its own
    /// (interleaved, RFC 6455 §5.4) message without disturbing `open`.
    interloper: Option<OpenMessage>,
    /// The message the current frame feeds (data message, or the control frame's own).
    current: Option<usize>,
    control_hasher: Option<Sha256>,
    inflater: Option<Inflater>,
    /// Inflate the current message (RSV1 on its first frame under permessage-deflate).
    inflating: bool,
    inflate_failed: bool,
    /// A capture gap made decompression unreliable: errors are warnings, not violations.
    inflate_unreliable: bool,
    close_sent: bool,
    scratch: Vec<u8>,
    /// Packets that carried the bytes of the header being collected.
    header_packets: smallvec::SmallVec<[u64; 2]>,
    /// The last packet seen, to list a frame's packets without repeats.
    packet: u64,
    ts: Timestamp,
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
            limits.max_frame_kept = limits
                .max_frame_kept
                .min(super::limits::PREVIEW_FRAME_BYTES);
            limits.max_message_kept = limits
                .max_message_kept
                .min(super::limits::PREVIEW_MESSAGE_BYTES);
        }
        let inflater = negotiated
            .deflate
            .map(|p| Inflater::new(p, limits.max_decompressed))
            .or_else(|| {
                negotiated
                    .unknown
                    .then(|| Inflater::new(DeflateParams::default(), limits.max_decompressed))
            });
        DirectionDecoder {
            dir,
            negotiated,
            limits,
            state: State::Header {
                buf: [0; MAX_HEADER_LEN],
                len: 0,
            },
            offset: 0,
            open: None,
            interloper: None,
            current: None,
            control_hasher: None,
            inflater,
            inflating: false,
            inflate_failed: false,
            inflate_unreliable: false,
            close_sent: false,
            scratch: Vec::new(),
            header_packets: smallvec::SmallVec::new(),
            packet: 0,
            ts: Timestamp::default(),
        }
    }

    /// The connection handed out its first `frames` frame and `messages` message records
    /// (streaming mode, [`Connection::take_ended_records`]): positions held here move down.
    /// Only ended records are handed out, so the frame being decoded stays; a message
    /// past the fragment limit, ended while its fragments are skipped, may go.
    pub fn records_handed_out(&mut self, frames: usize, messages: usize) {
        if let State::Payload { frame, .. } = &mut self.state {
            match frame.checked_sub(frames) {
                Some(at) => *frame = at,
                // Not reachable: the frame being decoded has not ended. Stop following
                // this stream rather than write into another frame's record.
                None => self.state = State::Lost,
            }
        }
        for open in [self.open.as_mut(), self.interloper.as_mut()]
            .into_iter()
            .flatten()
        {
            if open.index != GONE {
                open.index = open.index.checked_sub(messages).unwrap_or(GONE);
            }
        }
        self.current = self.current.and_then(|m| m.checked_sub(messages));
    }

    /// The connection holds `held` frames because this direction's fragmented message
    /// has not ended (records leave only from the front, with their messages): the
    /// message is given up as past the fragment limit (its remaining fragments are
    /// skipped until its last one), so the frames behind it can go. Only while this
    /// direction is between frames.
    pub fn give_up_open(&mut self, conn: &mut Connection, held: usize) {
        if self.current.is_some() || self.interloper.is_some() {
            return;
        }
        let Some(open) = self.open.as_mut().filter(|o| !o.dropped && o.index != GONE) else {
            return;
        };
        open.dropped = true;
        let first = open.first_frame;
        if let Some(m) = conn.messages.get_mut(open.index) {
            m.sha256 = None;
            m.complete = false;
            m.ended = true;
        }
        conn.warning(
            Warning::LimitReached,
            Some(self.dir),
            Some(first),
            format!(
                "message still open while {held} later frames arrived: given up so they could be written (output holds at most that many frames); its remaining fragments are skipped until its last one"
            ),
        );
    }

    /// True if a Close frame was sent in this direction.
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// Feeds the next bytes of this direction's stream.
    pub fn feed(&mut self, conn: &mut Connection, mut bytes: &[u8], packet: u64, ts: Timestamp) {
        self.packet = packet;
        self.ts = ts;
        conn.last_ts = ts;
        if matches!(self.state, State::Lost) {
            if !plausible_header(bytes, self.dir) {
                self.offset += bytes.len() as u64;
                return;
            }
            conn.warning(
                Warning::Desync,
                Some(self.dir),
                None,
                format!("frame boundaries found again at packet {packet}"),
            );
            self.state = State::Header {
                buf: [0; MAX_HEADER_LEN],
                len: 0,
            };
        }
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
                            self.begin_frame(conn, header, raw);
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
                    frame,
                    remaining,
                    offset,
                } => {
                    let (frame, payload_offset) = (*frame, *offset);
                    let take = (*remaining).min(bytes.len() as u64) as usize;
                    *remaining -= take as u64;
                    *offset += take as u64;
                    let done = *remaining == 0;
                    let chunk = &bytes[..take];
                    bytes = &bytes[take..];
                    self.offset += take as u64;
                    self.payload(conn, frame, chunk, payload_offset);
                    if done {
                        self.end_frame(conn, frame);
                    }
                }
            }
        }
    }

    /// `len` bytes of this direction are missing from the capture.
    pub fn gap(&mut self, conn: &mut Connection, len: u64, snaplen: bool, packet: u64) {
        self.offset += len;
        let (code, what) = if snaplen {
            (Warning::Truncated, "the snaplen cut")
        } else {
            (Warning::TcpGap, "the capture lost")
        };
        match &mut self.state {
            State::Payload {
                frame,
                remaining,
                offset,
            } if len <= *remaining => {
                let frame = *frame;
                *remaining -= len;
                *offset += len;
                let done = *remaining == 0;
                conn.frames[frame].complete = false;
                if let Some(m) = self.current {
                    conn.messages[m].complete = false;
                    conn.messages[m].sha256 = None;
                }
                if self.inflating {
                    self.inflate_failed = true;
                    self.inflate_unreliable = true;
                }
                let index = conn.frames[frame].index;
                conn.warning(
                    code,
                    Some(self.dir),
                    Some(index),
                    format!("{what} {len} payload bytes of frame {index} (packet {packet})"),
                );
                if done {
                    self.end_frame(conn, frame);
                }
            }
            _ => {
                if let State::Payload { frame, .. } = self.state {
                    conn.frames[frame].complete = false;
                }
                conn.warning(
                    code,
                    Some(self.dir),
                    None,
                    format!("{what} {len} bytes (packet {packet}); frame boundaries are lost until a packet starts with a plausible frame header"),
                );
                self.inflate_unreliable = true;
                self.lose_sync(conn);
            }
        }
    }

    /// Frame boundaries are lost: whatever message was open cannot be finished, and what
    /// follows must not be judged against it (a gap is a capture problem, not a violation).
    fn lose_sync(&mut self, conn: &mut Connection) {
        if let State::Payload { frame, .. } = self.state {
            conn.frames[frame].ended = true;
        }
        for m in [
            self.open.take().map(|o| o.index),
            self.interloper.take().map(|o| o.index),
            self.current.take(),
        ]
        .into_iter()
        .flatten()
        {
            give_up(conn, m);
        }
        self.inflating = false;
        self.control_hasher = None;
        self.state = State::Lost;
    }

    /// The stream ended: report a frame cut short and a message left open.
    pub fn finish(&mut self, conn: &mut Connection) {
        match &self.state {
            State::Header { len, .. } if *len > 0 => {
                conn.warning(
                    Warning::FrameIncomplete,
                    Some(self.dir),
                    None,
                    format!("the stream ends inside a frame header ({len} bytes)"),
                );
            }
            State::Payload {
                frame, remaining, ..
            } => {
                let frame = *frame;
                conn.frames[frame].complete = false;
                conn.frames[frame].ended = true;
                let index = conn.frames[frame].index;
                conn.warning(
                    Warning::FrameIncomplete,
                    Some(self.dir),
                    Some(index),
                    format!(
                        "the stream ends with {remaining} payload bytes of frame {index} missing"
                    ),
                );
                if let Some(m) = self.current {
                    conn.messages[m].complete = false;
                    conn.messages[m].sha256 = None;
                }
            }
            _ => {}
        }
        if let Some(msg) = self
            .open
            .take()
            .and_then(|open| conn.messages.get_mut(open.index))
        {
            msg.sha256 = None;
            msg.ended = true;
        }
        for m in [self.current.take(), self.interloper.take().map(|o| o.index)]
            .into_iter()
            .flatten()
        {
            if let Some(msg) = conn.messages.get_mut(m) {
                msg.ended = true;
            }
        }
    }

    fn begin_frame(&mut self, conn: &mut Connection, header: FrameHeader, raw: Vec<u8>) {
        let index = (conn.handed_out.frames + conn.frames.len() + 1) as u32;
        let dir = self.dir;
        let frame_at = conn.frames.len();
        conn.frames.push(FrameRecord {
            index,
            dir,
            ts: self.ts,
            header,
            packets: std::mem::take(&mut self.header_packets),
            stream_offset: self.offset - u64::from(header.header_len),
            raw,
            complete: true,
            message: None,
            ended: false,
        });
        self.check_header(conn, &header, index);
        let lost = header.length_msb_set();
        self.route_frame(conn, &header, index, frame_at);
        if lost {
            conn.warning(Warning::Desync, Some(dir), Some(index), "a 64-bit length with its top bit set cannot be followed; decoding resumes at the next packet that starts with a plausible frame header");
            conn.frames[frame_at].complete = false;
            conn.frames[frame_at].ended = true;
            self.lose_sync(conn);
            return;
        }
        if header.payload_len == 0 {
            self.state = State::Payload {
                frame: frame_at,
                remaining: 0,
                offset: 0,
            };
            self.end_frame(conn, frame_at);
        } else {
            self.state = State::Payload {
                frame: frame_at,
                remaining: header.payload_len,
                offset: 0,
            };
        }
    }

    fn check_header(&mut self, conn: &mut Connection, h: &FrameHeader, index: u32) {
        let dir = Some(self.dir);
        let frame = Some(index);
        if self.close_sent {
            conn.violation(
                Violation::DataAfterClose,
                dir,
                frame,
                format!("{} frame after this side's Close", h.opcode.name()),
            );
        }
        match (self.dir, h.mask.is_some()) {
            (Dir::Client, false) => {
                conn.violation(
                    Violation::ClientFrameUnmasked,
                    dir,
                    frame,
                    "client frame without a masking key",
                );
            }
            (Dir::Server, true) => {
                conn.violation(
                    Violation::ServerFrameMasked,
                    dir,
                    frame,
                    "server frame with a masking key",
                );
            }
            _ => {}
        }
        if h.opcode.is_reserved() {
            conn.violation(
                Violation::ReservedOpcode,
                dir,
                frame,
                format!("opcode 0x{:x}", h.opcode.bits()),
            );
        }
        if (h.rsv2 || h.rsv3) && !self.negotiated.other_extension {
            conn.violation(
                Violation::RsvBitsWithoutExtension,
                dir,
                frame,
                format!(
                    "RSV2={} RSV3={} with no extension defining them",
                    h.rsv2 as u8, h.rsv3 as u8
                ),
            );
        }
        if h.rsv1 {
            let first_data = matches!(
                h.opcode,
                Opcode::Data(DataOpcode::Text | DataOpcode::Binary)
            );
            if self.negotiated.deflate.is_some() || self.negotiated.unknown {
                if !first_data {
                    conn.violation(
                        Violation::Rsv1NotOnFirstFrame,
                        dir,
                        frame,
                        format!("RSV1 on a {} frame", h.opcode.name()),
                    );
                }
            } else if !self.negotiated.other_extension {
                conn.violation(
                    Violation::RsvBitsWithoutExtension,
                    dir,
                    frame,
                    "RSV1 set but permessage-deflate was not negotiated",
                );
            }
        }
        if h.opcode.is_control() {
            if h.payload_len > 125 {
                conn.violation(
                    Violation::ControlFrameTooLong,
                    dir,
                    frame,
                    format!(
                        "{} frame with {} payload bytes",
                        h.opcode.name(),
                        h.payload_len
                    ),
                );
            }
            if !h.fin {
                conn.violation(
                    Violation::ControlFrameFragmented,
                    dir,
                    frame,
                    format!("{} frame with FIN clear", h.opcode.name()),
                );
            }
        }
        if h.non_minimal_length() {
            conn.violation(
                Violation::NonMinimalLength,
                dir,
                frame,
                format!(
                    "length {} sent in the {:?} form",
                    h.payload_len, h.length_form
                ),
            );
        }
        if h.length_msb_set() {
            conn.violation(
                Violation::LengthMsbSet,
                dir,
                frame,
                format!("64-bit length 0x{:016x}", h.payload_len),
            );
        }
    }

    /// Attaches the frame to a message (new, continued, or its own control message).
    fn route_frame(&mut self, conn: &mut Connection, h: &FrameHeader, index: u32, frame_at: usize) {
        let dir = Some(self.dir);
        self.current = None;
        match h.opcode {
            Opcode::Data(DataOpcode::Text) | Opcode::Data(DataOpcode::Binary) => {
                let kind = if h.opcode == Opcode::Data(DataOpcode::Text) {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                if let Some(open) = &self.open {
                    let first = open.first_frame;
                    conn.violation(
                        Violation::DataInsideFragmentedMessage,
                        dir,
                        Some(index),
                        format!(
                            "new {} frame while the message started at frame {first} is unfinished",
                            h.opcode.name()
                        ),
                    );
                    if h.fin {
                        // An interleaved single-frame message: the open one goes on after it.
                        let m = self.push_message(conn, kind, false);
                        self.interloper = Some(OpenMessage {
                            index: m,
                            first_frame: index,
                            hasher: Sha256::new(),
                            utf8: (kind == MessageKind::Text).then(Utf8Validator::default),
                            fragments: 1,
                            dropped: false,
                        });
                        self.current = Some(m);
                        conn.messages[m].frames.push(index);
                        conn.frames[frame_at].message = Some(conn.handed_out.messages + m);
                        return;
                    }
                    if let Some(old) = self.open.take() {
                        give_up(conn, old.index);
                    }
                }
                let compressed = h.rsv1
                    && self.inflater.is_some()
                    && (self.negotiated.deflate.is_some() || self.negotiated.unknown);
                let index_m = self.push_message(conn, kind, compressed);
                self.inflating = compressed;
                self.inflate_failed = false;
                if compressed && let Some(inf) = self.inflater.as_mut() {
                    inf.begin_message();
                }
                self.open = Some(OpenMessage {
                    index: index_m,
                    first_frame: index,
                    hasher: Sha256::new(),
                    utf8: (kind == MessageKind::Text).then(Utf8Validator::default),
                    fragments: 1,
                    dropped: false,
                });
                self.current = Some(index_m);
            }
            Opcode::Data(DataOpcode::Continuation) => match self.open.as_mut() {
                Some(open) if open.dropped => {
                    // Skipped quietly until its FIN: the limit was already reported.
                    if h.fin {
                        self.open = None;
                    }
                }
                Some(open) => {
                    open.fragments += 1;
                    if open.fragments > self.limits.max_fragments {
                        let idx = open.index;
                        open.dropped = true;
                        conn.messages[idx].sha256 = None;
                        conn.messages[idx].complete = false;
                        conn.messages[idx].ended = true;
                        conn.warning(
                            Warning::LimitReached,
                            dir,
                            Some(index),
                            format!(
                                "message has more than {} fragments (--max-fragments): its remaining fragments are skipped until its last one",
                                self.limits.max_fragments
                            ),
                        );
                        if h.fin {
                            self.open = None;
                        }
                    } else {
                        self.current = Some(open.index);
                    }
                }
                None => {
                    conn.violation(
                        Violation::ContinuationWithoutStart,
                        dir,
                        Some(index),
                        "continuation frame with no message open",
                    );
                }
            },
            Opcode::Control(
                op @ (ControlOpcode::Close | ControlOpcode::Ping | ControlOpcode::Pong),
            ) => {
                let kind = match op {
                    ControlOpcode::Close => MessageKind::Close,
                    ControlOpcode::Ping => MessageKind::Ping,
                    _ => MessageKind::Pong,
                };
                let m = self.push_message(conn, kind, false);
                self.control_hasher = Some(Sha256::new());
                self.current = Some(m);
            }
            _ => {}
        }
        if let Some(m) = self.current {
            conn.messages[m].frames.push(index);
            conn.frames[frame_at].message = Some(conn.handed_out.messages + m);
        }
    }

    fn push_message(
        &mut self,
        conn: &mut Connection,
        kind: MessageKind,
        compressed: bool,
    ) -> usize {
        conn.messages.push(MessageRecord {
            dir: self.dir,
            ts: self.ts,
            end_ts: self.ts,
            kind,
            len: 0,
            wire_len: 0,
            sha256: Some(String::new()),
            compressed,
            frames: smallvec::SmallVec::new(),
            data: Vec::new(),
            complete: true,
            data_cut: false,
            finished: false,
            ended: false,
            close_code: None,
            close_reason: None,
        });
        conn.messages.len() - 1
    }

    fn payload(&mut self, conn: &mut Connection, frame: usize, chunk: &[u8], payload_offset: u64) {
        let rec = &mut conn.frames[frame];
        if rec.packets.last() != Some(&self.packet) {
            rec.packets.push(self.packet);
        }
        let room = self.limits.max_frame_kept.saturating_sub(rec.raw.len());
        if room < chunk.len() && rec.complete {
            rec.complete = false;
        }
        rec.raw.extend_from_slice(&chunk[..room.min(chunk.len())]);
        let mask = rec.header.mask;
        let is_control = rec.header.opcode.is_control();
        let Some(m) = self.current else { return };
        // Unmask only the bytes something reads: all of them when they are hashed,
        // inflated or checked as UTF-8; for a plain binary message only those still kept.
        let absorbed_plain = self.interloper.is_some() || (self.open.is_some() && !self.inflating);
        let needed =
            if is_control || !absorbed_plain || self.limits.hash_messages || self.checks_utf8() {
                chunk.len()
            } else {
                let msg = &mut conn.messages[m];
                let room = self.data_kept(msg).saturating_sub(msg.data.len() as u64);
                let needed = chunk.len().min(usize::try_from(room).unwrap_or(usize::MAX));
                let skipped = chunk.len() - needed;
                if skipped > 0 {
                    msg.len += skipped as u64;
                    msg.data_cut = true;
                }
                needed
            };
        self.scratch.clear();
        self.scratch.extend_from_slice(&chunk[..needed]);
        if let Some(key) = mask {
            apply_mask(&mut self.scratch, key, payload_offset);
        }
        conn.messages[m].wire_len += chunk.len() as u64;
        conn.messages[m].end_ts = self.ts;
        if is_control {
            let hasher = self.control_hasher.get_or_insert_with(Sha256::new);
            let data = std::mem::take(&mut self.scratch);
            absorb(
                &mut conn.messages[m],
                hasher,
                None,
                &data,
                self.limits.max_message_kept,
                self.limits.hash_messages,
            );
            self.scratch = data;
            return;
        }
        let keep = self.data_kept(&conn.messages[m]);
        if let Some(inter) = self.interloper.as_mut() {
            absorb(
                &mut conn.messages[m],
                &mut inter.hasher,
                inter.utf8.as_mut(),
                &self.scratch,
                keep,
                self.limits.hash_messages,
            );
        } else if self.inflating {
            if self.inflate_failed {
                conn.messages[m].complete = false;
                return;
            }
            let data = std::mem::take(&mut self.scratch);
            let result = self.inflate(conn, m, |inf, sink| inf.feed(&data, sink));
            self.scratch = data;
            self.inflate_result(conn, m, frame, result);
        } else if let Some(open) = self.open.as_mut() {
            absorb(
                &mut conn.messages[m],
                &mut open.hasher,
                open.utf8.as_mut(),
                &self.scratch,
                keep,
                self.limits.hash_messages,
            );
        }
    }

    /// The data message being assembled is text, checked as UTF-8 as it arrives.
    fn checks_utf8(&self) -> bool {
        match (&self.interloper, &self.open) {
            (Some(inter), _) => inter.utf8.is_some(),
            (None, Some(open)) => open.utf8.is_some(),
            (None, None) => false,
        }
    }

    /// Bytes of a data message's payload to keep: none when no output shows them
    /// ([`Limits::keep_message_data`]), the limit, or in preview-only mode for
    /// an uncompressed binary message just a frame preview's worth (text output shows it
    /// only through its frames' own previews, and a binary message may be 64 KiB). Text is
    /// kept up to the message preview, which the JSON-lines `text` field shows; a
    /// compressed message too, as `frames` previews its inflated bytes.
    fn data_kept(&self, msg: &MessageRecord) -> u64 {
        if !self.limits.keep_message_data {
            return 0;
        }
        if self.limits.preview_only && msg.kind == MessageKind::Binary && !msg.compressed {
            self.limits
                .max_message_kept
                .min(super::limits::PREVIEW_FRAME_BYTES as u64)
        } else {
            self.limits.max_message_kept
        }
    }

    /// Runs the inflater, absorbing what it produces into message `m`.
    fn inflate(
        &mut self,
        conn: &mut Connection,
        m: usize,
        step: impl FnOnce(&mut Inflater, &mut dyn FnMut(&[u8])) -> Result<(), InflateFailure>,
    ) -> Result<(), InflateFailure> {
        let keep = self.data_kept(&conn.messages[m]);
        let (Some(inf), Some(open)) = (self.inflater.as_mut(), self.open.as_mut()) else {
            return Ok(());
        };
        let msg = &mut conn.messages[m];
        let hash = self.limits.hash_messages;
        step(inf, &mut |out: &[u8]| {
            absorb(msg, &mut open.hasher, open.utf8.as_mut(), out, keep, hash)
        })
    }

    fn inflate_result(
        &mut self,
        conn: &mut Connection,
        m: usize,
        frame: usize,
        result: Result<(), InflateFailure>,
    ) {
        let Err(failure) = result else { return };
        let index = conn.frames[frame].index;
        let dir = Some(self.dir);
        match failure {
            InflateFailure::TooLarge(n) => {
                self.inflate_failed = true;
                conn.messages[m].complete = false;
                conn.messages[m].sha256 = None;
                conn.warning(
                    Warning::LimitReached,
                    dir,
                    Some(index),
                    format!(
                        "message inflates past {} bytes ({n} so far): decompression stopped",
                        self.limits.max_decompressed
                    ),
                );
            }
            InflateFailure::Corrupt(why) => {
                self.inflate_failed = true;
                conn.messages[m].complete = false;
                conn.messages[m].sha256 = None;
                if self.inflate_unreliable || self.negotiated.unknown {
                    conn.warning(Warning::TcpGap, dir, Some(index), format!("compressed message does not inflate ({why}); earlier bytes are missing from the capture"));
                } else {
                    conn.violation(
                        Violation::DeflateError,
                        dir,
                        Some(index),
                        format!("compressed payload does not inflate: {why}"),
                    );
                }
            }
            InflateFailure::ContextTakeover => {
                conn.violation(Violation::DeflateContextTakeoverViolated, dir, Some(index), "the message refers to data of an earlier message although no_context_takeover was agreed");
            }
            InflateFailure::WindowBits => {
                conn.violation(
                    Violation::DeflateWindowBitsViolated,
                    dir,
                    Some(index),
                    "a back-reference reaches past the agreed window",
                );
            }
        }
    }

    fn end_frame(&mut self, conn: &mut Connection, frame: usize) {
        self.state = State::Header {
            buf: [0; MAX_HEADER_LEN],
            len: 0,
        };
        conn.frames[frame].ended = true;
        shrink(&mut conn.frames[frame].raw);
        let header = conn.frames[frame].header;
        let index = conn.frames[frame].index;
        let Some(m) = self.current.take() else { return };
        if header.opcode.is_control() {
            let hasher = self.control_hasher.take().unwrap_or_default();
            self.finish_message(conn, m, hasher);
            if header.opcode == Opcode::Control(ControlOpcode::Close) {
                self.close_sent = true;
                self.check_close(conn, m, index);
            }
            return;
        }
        if let Some(inter) = self.interloper.take() {
            let valid_utf8 = inter.utf8.as_ref().map(Utf8Validator::finish);
            self.finish_message(conn, m, inter.hasher);
            if valid_utf8 == Some(false) && conn.messages[m].complete {
                conn.violation(
                    Violation::InvalidUtf8Text,
                    Some(self.dir),
                    Some(index),
                    "text message is not valid UTF-8",
                );
            }
            return;
        }
        if !header.fin {
            return;
        }
        let Some(mut open) = self.open.take() else {
            return;
        };
        if self.inflating && !self.inflate_failed {
            let keep = self.data_kept(&conn.messages[m]);
            let result = {
                let (Some(inf), msg) = (self.inflater.as_mut(), &mut conn.messages[m]) else {
                    return;
                };
                let hash = self.limits.hash_messages;
                let (hasher, utf8) = (&mut open.hasher, open.utf8.as_mut());
                let mut utf8 = utf8;
                inf.end_message(&mut |out: &[u8]| {
                    absorb(msg, hasher, utf8.as_deref_mut(), out, keep, hash)
                })
            };
            self.inflate_result(conn, m, frame, result);
        }
        self.inflating = false;
        let valid_utf8 = open.utf8.as_ref().map(Utf8Validator::finish);
        self.finish_message(conn, m, open.hasher);
        if valid_utf8 == Some(false) && conn.messages[m].complete {
            conn.violation(
                Violation::InvalidUtf8Text,
                Some(self.dir),
                Some(index),
                "text message is not valid UTF-8",
            );
        }
    }

    fn finish_message(&mut self, conn: &mut Connection, m: usize, hasher: Sha256) {
        if conn.messages[m].data_cut && !self.limits.preview_only {
            let (len, first) = (
                conn.messages[m].len,
                conn.messages[m].frames.first().copied(),
            );
            conn.warning(
                Warning::LimitReached,
                Some(self.dir),
                first,
                format!("message of {len} bytes: only the first {} are kept in memory (--max-message); its length and hash cover all of it", self.limits.max_message_kept),
            );
        }
        let msg = &mut conn.messages[m];
        shrink(&mut msg.data);
        msg.finished = true;
        msg.ended = true;
        msg.end_ts = self.ts;
        msg.sha256 = if msg.complete && msg.sha256.is_some() && self.limits.hash_messages {
            Some(hex::encode(hasher.finalize()))
        } else {
            None
        };
    }

    fn check_close(&mut self, conn: &mut Connection, m: usize, index: u32) {
        if !conn.messages[m].complete || conn.messages[m].data_cut {
            return;
        }
        let dir = Some(self.dir);
        match parse_close(&conn.messages[m].data) {
            ClosePayload::Empty => {}
            ClosePayload::OneByte => {
                conn.violation(
                    Violation::ClosePayloadOneByte,
                    dir,
                    Some(index),
                    "close payload of 1 byte",
                );
            }
            ClosePayload::Status {
                code,
                reason,
                reason_valid,
            } => {
                conn.messages[m].close_code = Some(code);
                conn.messages[m].close_reason = Some(reason);
                if !close_code_allowed(code) {
                    conn.violation(
                        Violation::InvalidCloseCode,
                        dir,
                        Some(index),
                        format!(
                            "close code {code} ({})",
                            super::close::close_code_meaning(code)
                        ),
                    );
                }
                if !reason_valid {
                    conn.violation(
                        Violation::InvalidUtf8CloseReason,
                        dir,
                        Some(index),
                        "close reason is not valid UTF-8",
                    );
                }
            }
        }
    }
}

/// Adds payload bytes to a message: length, hash, UTF-8 check, and the kept copy.
fn absorb(
    msg: &mut MessageRecord,
    hasher: &mut Sha256,
    utf8: Option<&mut Utf8Validator>,
    bytes: &[u8],
    keep: u64,
    hash: bool,
) {
    msg.len += bytes.len() as u64;
    if hash {
        hasher.update(bytes);
    }
    if let Some(v) = utf8 {
        v.feed(bytes);
    }
    let room = keep.saturating_sub(msg.data.len() as u64) as usize;
    msg.data.extend_from_slice(&bytes[..room.min(bytes.len())]);
    if room < bytes.len() {
        msg.data_cut = true;
    }
}

/// Gives back what a finished frame's or message's bytes over-allocated while growing
/// (up to half of it): the terminal UI keeps millions of them.
fn shrink(bytes: &mut Vec<u8>) {
    if bytes.capacity() - bytes.len() > 64 {
        bytes.shrink_to_fit();
    }
}

/// Message `m` will get no more bytes and lacks some: no hash, not complete, ended.
/// Tolerates a record already handed out.
fn give_up(conn: &mut Connection, m: usize) {
    if let Some(msg) = conn.messages.get_mut(m) {
        msg.sha256 = None;
        msg.complete = false;
        msg.ended = true;
    }
}

/// Could `bytes` start with a frame header sent by `dir`? Used to find frame boundaries
/// again after a gap, and to recognise WebSocket traffic without a handshake.
pub fn plausible_header(bytes: &[u8], dir: Dir) -> bool {
    let Ok((_, h)) = parse_frame_header(bytes) else {
        return false;
    };
    let masked_right = (dir == Dir::Client) == h.mask.is_some();
    let opcode_ok = !h.opcode.is_reserved() && h.opcode != Opcode::Data(DataOpcode::Continuation);
    let control_ok = !h.opcode.is_control() || (h.fin && h.payload_len <= 125 && !h.rsv1);
    masked_right
        && opcode_ok
        && control_ok
        && !h.rsv2
        && !h.rsv3
        && !h.non_minimal_length()
        && !h.length_msb_set()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    /// Builds one frame: `b0` is FIN/RSV/opcode, the length is encoded minimally unless
    /// `form` forces 16 or 64 bits.
    fn frame(b0: u8, payload: &[u8], mask: Option<[u8; 4]>, form: Option<u8>) -> Vec<u8> {
        let mut out = vec![b0];
        let m = if mask.is_some() { 0x80 } else { 0 };
        let len = payload.len();
        match form.unwrap_or(if len < 126 {
            7
        } else if len < 65536 {
            16
        } else {
            64
        }) {
            7 => out.push(m | len as u8),
            16 => {
                out.push(m | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(m | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        let mut body = payload.to_vec();
        if let Some(k) = mask {
            out.extend_from_slice(&k);
            apply_mask(&mut body, k, 0);
        }
        out.extend_from_slice(&body);
        out
    }

    const KEY: Option<[u8; 4]> = Some([1, 2, 3, 4]);

    fn conn() -> Connection {
        let a: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let b: SocketAddr = "127.0.0.1:80".parse().expect("addr");
        Connection::new(a, b, 0, 1, Timestamp::default())
    }

    fn run(dir: Dir, negotiated: Negotiated, bytes: &[u8]) -> Connection {
        let mut c = conn();
        let mut d = DirectionDecoder::new(dir, negotiated, Limits::default());
        // Feed in 1-byte pieces to exercise the partial-input paths as well.
        for (i, b) in bytes.iter().enumerate() {
            d.feed(
                &mut c,
                std::slice::from_ref(b),
                i as u64 + 1,
                Timestamp::default(),
            );
        }
        d.finish(&mut c);
        c
    }

    fn codes(c: &Connection) -> Vec<&'static str> {
        c.violations.iter().map(|v| v.rule.code()).collect()
    }

    fn deflate() -> Negotiated {
        Negotiated {
            deflate: Some(DeflateParams::default()),
            ..Negotiated::default()
        }
    }

    #[test]
    fn clean_traffic_has_no_violation() {
        let mut bytes = frame(0x01, "frag ".as_bytes(), KEY, None);
        bytes.extend(frame(0x89, b"ping", KEY, None));
        bytes.extend(frame(0x80, "é ✓".as_bytes(), KEY, None));
        bytes.extend(frame(0x82, &[0u8; 300], KEY, None));
        bytes.extend(frame(0x82, &[7u8; 70_000], KEY, None));
        bytes.extend(frame(0x88, &[0x03, 0xe8, b'o', b'k'], KEY, None));
        let c = run(Dir::Client, Negotiated::default(), &bytes);
        assert_eq!(codes(&c), Vec::<&str>::new());
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let kinds: Vec<_> = c.messages.iter().map(|m| (m.kind.name(), m.len)).collect();
        assert_eq!(
            kinds,
            vec![
                ("text", 11),
                ("ping", 4),
                ("binary", 300),
                ("binary", 70_000),
                ("close", 4)
            ]
        );
        assert!(c.messages.iter().all(|m| m.sha256.is_some()));
        assert_eq!(c.messages[4].close_code, Some(1000));
        assert_eq!(c.messages[0].text().as_deref(), Some("frag é ✓"));
    }

    #[test]
    fn each_framing_rule_fires_on_its_minimal_input() {
        let cases: Vec<(&str, Dir, Negotiated, Vec<u8>)> = vec![
            (
                "client-frame-unmasked",
                Dir::Client,
                Negotiated::default(),
                frame(0x81, b"hi", None, None),
            ),
            (
                "server-frame-masked",
                Dir::Server,
                Negotiated::default(),
                frame(0x81, b"hi", KEY, None),
            ),
            (
                "reserved-opcode",
                Dir::Client,
                Negotiated::default(),
                frame(0x83, b"", KEY, None),
            ),
            (
                "reserved-opcode",
                Dir::Client,
                Negotiated::default(),
                frame(0x8b, b"", KEY, None),
            ),
            (
                "rsv-bits-without-extension",
                Dir::Client,
                Negotiated::default(),
                frame(0xa1, b"x", KEY, None),
            ),
            (
                "rsv-bits-without-extension",
                Dir::Client,
                Negotiated::default(),
                frame(0xc1, b"x", KEY, None),
            ),
            (
                "rsv1-not-on-first-frame",
                Dir::Client,
                deflate(),
                frame(0xc9, b"", KEY, None),
            ),
            (
                "control-frame-too-long",
                Dir::Client,
                Negotiated::default(),
                frame(0x89, &[0u8; 126], KEY, None),
            ),
            (
                "control-frame-fragmented",
                Dir::Client,
                Negotiated::default(),
                frame(0x09, b"", KEY, None),
            ),
            (
                "non-minimal-length",
                Dir::Client,
                Negotiated::default(),
                frame(0x82, b"12345", KEY, Some(16)),
            ),
            (
                "non-minimal-length",
                Dir::Client,
                Negotiated::default(),
                frame(0x82, b"12345", KEY, Some(64)),
            ),
            (
                "continuation-without-start",
                Dir::Client,
                Negotiated::default(),
                frame(0x80, b"x", KEY, None),
            ),
            (
                "invalid-utf8-text",
                Dir::Client,
                Negotiated::default(),
                frame(0x81, &[0xff, 0xfe], KEY, None),
            ),
            (
                "invalid-utf8-close-reason",
                Dir::Client,
                Negotiated::default(),
                frame(0x88, &[0x03, 0xe8, 0xff], KEY, None),
            ),
            (
                "close-payload-one-byte",
                Dir::Client,
                Negotiated::default(),
                frame(0x88, &[0x03], KEY, None),
            ),
            (
                "invalid-close-code",
                Dir::Client,
                Negotiated::default(),
                frame(0x88, &[0x03, 0xed], KEY, None),
            ),
            (
                "invalid-close-code",
                Dir::Client,
                Negotiated::default(),
                frame(0x88, &[0x03, 0xe7], KEY, None),
            ),
            (
                "deflate-error",
                Dir::Client,
                deflate(),
                frame(0xc1, &[0xff, 0xff, 0xff], KEY, None),
            ),
        ];
        for (code, dir, neg, bytes) in cases {
            let c = run(dir, neg, &bytes);
            assert_eq!(codes(&c), vec![code], "input {}", hex::encode(&bytes));
        }
    }

    #[test]
    fn sequences_that_break_rules() {
        // A new data message while a fragmented one is open, then its end.
        let mut bytes = frame(0x01, b"abc", KEY, None);
        bytes.extend(frame(0x81, b"xyz", KEY, None));
        bytes.extend(frame(0x80, b"def", KEY, None));
        let c = run(Dir::Client, Negotiated::default(), &bytes);
        assert_eq!(codes(&c), vec!["data-inside-fragmented-message"]);
        let texts: Vec<String> = c.messages.iter().filter_map(|m| m.text()).collect();
        assert_eq!(
            texts,
            vec!["abcdef", "xyz"],
            "interleaved message kept apart"
        );
        // Data after Close.
        let mut bytes = frame(0x88, &[0x03, 0xe8], KEY, None);
        bytes.extend(frame(0x81, b"late", KEY, None));
        let c = run(Dir::Client, Negotiated::default(), &bytes);
        assert_eq!(codes(&c), vec!["data-after-close"]);
        // A 64-bit length with its top bit set: flagged, then the direction is not followed.
        let mut bytes = vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4];
        bytes.extend(frame(0x81, b"never parsed", KEY, None));
        let c = run(Dir::Client, Negotiated::default(), &bytes);
        assert_eq!(codes(&c), vec!["length-msb-set"]);
        assert_eq!(c.frames.len(), 1);
        assert!(c.warnings.iter().any(|w| w.warning == Warning::Desync));
    }

    #[test]
    fn utf8_split_across_fragments_is_valid() {
        let s = "ü✓😀".as_bytes();
        let mut bytes = frame(0x01, &s[..1], KEY, None);
        bytes.extend(frame(0x00, &s[1..5], KEY, None));
        bytes.extend(frame(0x80, &s[5..], KEY, None));
        let c = run(Dir::Client, Negotiated::default(), &bytes);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        assert_eq!(c.messages[0].text().as_deref(), Some("ü✓😀"));
    }

    #[test]
    fn huge_declared_length_allocates_nothing_and_reports_the_cut() {
        // 2^40 bytes announced, 10 delivered: nothing is reserved up front.
        let mut bytes = vec![0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 9, 9, 9, 9];
        bytes.extend_from_slice(&[0u8; 10]);
        let c = run(Dir::Client, Negotiated::default(), &bytes);
        assert!(c.violations.is_empty());
        assert_eq!(c.frames[0].header.payload_len, 1 << 40);
        assert!(c.frames[0].raw.capacity() < 1 << 20);
        assert!(
            c.warnings
                .iter()
                .any(|w| w.warning == Warning::FrameIncomplete)
        );
        assert_eq!(c.messages[0].sha256, None);
    }

    #[test]
    fn losing_frame_sync_abandons_the_open_message_without_false_violations() {
        // Found with hostile captures: after a gap across a frame boundary, a new text
        // frame used to be reported as data-inside-fragmented-message.
        let mut c = conn();
        let mut d = DirectionDecoder::new(Dir::Client, Negotiated::default(), Limits::default());
        let t = Timestamp::default();
        d.feed(&mut c, &frame(0x01, b"abc", KEY, None), 1, t);
        d.gap(&mut c, 9, false, 2);
        d.feed(&mut c, &frame(0x81, b"fresh start", KEY, None), 3, t);
        d.finish(&mut c);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        assert_eq!(
            c.messages.last().and_then(|m| m.text()).as_deref(),
            Some("fresh start")
        );
        assert_eq!(
            c.messages[0].sha256, None,
            "the abandoned message has no hash"
        );
    }

    #[test]
    fn past_the_fragment_limit_the_rest_is_skipped_quietly() {
        let mut c = conn();
        let limits = Limits {
            max_fragments: 5,
            ..Limits::default()
        };
        let mut d = DirectionDecoder::new(Dir::Client, Negotiated::default(), limits);
        let mut bytes = frame(0x01, b"a", KEY, None);
        for _ in 0..20 {
            bytes.extend(frame(0x00, b"b", KEY, None));
        }
        bytes.extend(frame(0x80, b"end", KEY, None));
        bytes.extend(frame(0x81, b"next", KEY, None));
        d.feed(&mut c, &bytes, 1, Timestamp::default());
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        assert_eq!(
            c.warnings
                .iter()
                .filter(|w| w.warning == Warning::LimitReached)
                .count(),
            1
        );
        assert_eq!(
            c.messages.last().and_then(|m| m.text()).as_deref(),
            Some("next")
        );
    }

    #[test]
    fn gap_inside_a_payload_keeps_frame_sync() {
        let mut c = conn();
        let mut d = DirectionDecoder::new(Dir::Server, Negotiated::default(), Limits::default());
        let f1 = frame(0x82, &[5u8; 100], None, None);
        let f2 = frame(0x81, b"after", None, None);
        d.feed(&mut c, &f1[..40], 1, Timestamp::default());
        d.gap(&mut c, 30, false, 2);
        d.feed(&mut c, &f1[70..], 3, Timestamp::default());
        d.feed(&mut c, &f2, 4, Timestamp::default());
        assert_eq!(c.messages.len(), 2);
        assert_eq!(
            c.messages[0].sha256, None,
            "a message with missing bytes has no hash"
        );
        assert_eq!(c.messages[1].text().as_deref(), Some("after"));
        assert!(c.violations.is_empty());
    }
}
