//! Messages from frames (RFC 6455 §5.4): a data message assembled across its fragments,
//! with control frames interleaved (and whole data frames, which §5.4 forbids, kept as
//! messages of their own); its payload unmasked, inflated under permessage-deflate
//! (RFC 7692 §7.2.2), checked as UTF-8 across fragment boundaries (§8.1), hashed and kept
//! up to the limits; close payloads read (§5.5.1). Everything is reported to the
//! [`Sink`] as the message grows; the frame-level state machine is [`super::decoder`].

mod loss;

use sha2::{Digest, Sha256};

use super::Negotiated;
use super::checks::close_violations;
use super::close::{ClosePayload, parse_close};
use super::deflate::{InflateFailure, Inflater};
use super::frame::{ControlOpcode, DataOpcode, FrameHeader, Opcode};
use super::limits::{Limits, PREVIEW_FRAME_BYTES};
use super::mask::apply_mask;
use super::record::{Dir, MessageKind, MessageRecord};
use super::sink::Sink;
use super::utf8::Utf8Validator;
use crate::http::extensions::DeflateParams;
use crate::rules::{Violation, Warning};
use crate::source::Timestamp;

/// A data message being assembled.
struct OpenMessage {
    /// Its ordinal in the sink.
    ordinal: usize,
    /// Index of its first frame.
    first_frame: u32,
    hasher: Sha256,
    utf8: Option<Utf8Validator>,
    fragments: u32,
    /// Past the fragment limit (or given up while open): its remaining fragments are
    /// skipped until its FIN.
    dropped: bool,
}

impl OpenMessage {
    fn new(ordinal: usize, first_frame: u32, kind: MessageKind) -> Self {
        OpenMessage {
            ordinal,
            first_frame,
            hasher: Sha256::new(),
            utf8: (kind == MessageKind::Text).then(Utf8Validator::default),
            fragments: 1,
            dropped: false,
        }
    }
}

/// The messages of one direction under construction.
pub(super) struct Assembly {
    dir: Dir,
    negotiated: Negotiated,
    limits: Limits,
    /// The data message being assembled across fragments.
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
    /// Since the compressed stream last lost bytes, a message was found to refer to
    /// bytes the capture lacks and said so (once per loss).
    context_warned: bool,
    /// Frames were lost (or the capture began inside the connection) and no data message
    /// has begun since: a continuation may belong to a message whose first frame the
    /// capture lacks, which is no violation. Said once per loss.
    start_lost: Option<bool>,
    /// The compressed stream may have begun before the capture (nothing shows where it
    /// began), as opposed to losing bytes inside the capture.
    stream_began_before: bool,
    scratch: Vec<u8>,
}

impl Assembly {
    /// Messages sent by `dir` under what the handshake agreed, kept to `limits`.
    pub(super) fn new(dir: Dir, negotiated: Negotiated, limits: Limits) -> Self {
        let inflater = negotiated
            .deflate
            .map(|p| Inflater::new(p, limits.max_decompressed))
            .or_else(|| {
                negotiated.unknown.then(|| {
                    // Recognised without a handshake: the compressed stream began before
                    // the capture, so its window is unknown.
                    let mut inf = Inflater::new(DeflateParams::default(), limits.max_decompressed);
                    inf.lose_context();
                    inf
                })
            });
        Assembly {
            dir,
            negotiated,
            limits,
            open: None,
            interloper: None,
            current: None,
            control_hasher: None,
            inflater,
            inflating: false,
            inflate_failed: false,
            inflate_unreliable: false,
            context_warned: false,
            start_lost: negotiated.unknown.then_some(false),
            stream_began_before: negotiated.unknown,
            scratch: Vec::new(),
        }
    }

    /// The compressed stream (whose parameters the handshake does not show) starts here,
    /// with nothing of this direction passed over since the handshake: it is inflated
    /// from an empty window, exactly, whatever was agreed (RFC 7692 §7.2.2: a receiver
    /// keeping its window inflates a sender that resets its own).
    pub(super) fn stream_starts_here(&mut self) {
        if self.negotiated.unknown && self.open.is_none() && self.current.is_none() {
            self.inflater = Some(Inflater::new(
                DeflateParams::default(),
                self.limits.max_decompressed,
            ));
            self.stream_began_before = false;
        }
    }

    /// Attaches frame `index` (header `h`, first byte at `ts`) to a message: a new one,
    /// the open one continued, or its own control message.
    pub(super) fn begin_frame(
        &mut self,
        sink: &mut impl Sink,
        h: &FrameHeader,
        index: u32,
        ts: Timestamp,
    ) {
        let dir = self.dir;
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
                    sink.violation(
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
                        let m = self.push_message(sink, kind, false, ts);
                        self.interloper = Some(OpenMessage::new(m, index, kind));
                        self.current = Some(m);
                        self.attach(sink, m, index);
                        return;
                    }
                    if let Some(old) = self.open.take() {
                        give_up(sink, old.ordinal);
                    }
                }
                let compressed = h.rsv1
                    && self.inflater.is_some()
                    && (self.negotiated.deflate.is_some() || self.negotiated.unknown);
                self.start_lost = None;
                let m = self.push_message(sink, kind, compressed, ts);
                self.inflating = compressed;
                self.inflate_failed = false;
                if compressed && let Some(inf) = self.inflater.as_mut() {
                    inf.begin_message();
                }
                self.open = Some(OpenMessage::new(m, index, kind));
                self.current = Some(m);
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
                        open.dropped = true;
                        give_up(sink, open.ordinal);
                        sink.warning(
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
                        self.current = Some(open.ordinal);
                    }
                }
                None => match self.start_lost {
                    // The message's start is missing from the capture: its continuations
                    // are skipped.
                    Some(warned) => {
                        if !warned {
                            sink.warning(
                                Warning::TcpGap,
                                dir,
                                Some(index),
                                "continuation frames of a message whose first frame the capture lacks: skipped until a new message begins",
                            );
                        }
                        self.start_lost = Some(true);
                    }
                    None => sink.violation(
                        Violation::ContinuationWithoutStart,
                        dir,
                        Some(index),
                        "continuation frame with no message open",
                    ),
                },
            },
            Opcode::Control(
                op @ (ControlOpcode::Close | ControlOpcode::Ping | ControlOpcode::Pong),
            ) => {
                let kind = match op {
                    ControlOpcode::Close => MessageKind::Close,
                    ControlOpcode::Ping => MessageKind::Ping,
                    _ => MessageKind::Pong,
                };
                let m = self.push_message(sink, kind, false, ts);
                self.control_hasher = Some(Sha256::new());
                self.current = Some(m);
            }
            _ => {}
        }
        if let Some(m) = self.current {
            self.attach(sink, m, index);
        }
    }

    /// Frame `index` carries message `m`: each record names the other.
    fn attach(&self, sink: &mut impl Sink, m: usize, index: u32) {
        if let Some(msg) = sink.message_mut(m) {
            msg.frames.push(index);
        }
        if let Some(frame) = sink.frame_mut(index) {
            frame.message = Some(m);
        }
    }

    fn push_message(
        &self,
        sink: &mut impl Sink,
        kind: MessageKind,
        compressed: bool,
        ts: Timestamp,
    ) -> usize {
        sink.push_message(MessageRecord {
            dir: self.dir,
            ts,
            end_ts: ts,
            kind,
            len: 0,
            wire_len: 0,
            sha256: Some(String::new()),
            compressed,
            frames: smallvec::SmallVec::new(),
            data: Vec::new(),
            complete: true,
            data_cut: false,
            len_unknown: false,
            finished: false,
            ended: false,
            close_code: None,
            close_reason: None,
        })
    }

    /// The next `chunk` of the payload of frame `index` (header `h`), starting at byte
    /// `payload_offset` of it, arrived at `ts`.
    pub(super) fn payload(
        &mut self,
        sink: &mut impl Sink,
        index: u32,
        h: &FrameHeader,
        chunk: &[u8],
        payload_offset: u64,
        ts: Timestamp,
    ) {
        let Some(m) = self.current else { return };
        let is_control = h.opcode.is_control();
        // Unmask only the bytes something reads: all of them when they are hashed,
        // inflated or checked as UTF-8; for a plain binary message only those still kept.
        let absorbed_plain = self.interloper.is_some() || (self.open.is_some() && !self.inflating);
        let checks_utf8 = self.checks_utf8();
        let Some(msg) = sink.message_mut(m) else {
            return;
        };
        let needed = if is_control || !absorbed_plain || self.limits.hash_messages || checks_utf8 {
            chunk.len()
        } else {
            let room = data_kept(&self.limits, msg).saturating_sub(msg.data.len() as u64);
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
        if let Some(key) = h.mask {
            apply_mask(&mut self.scratch, key, payload_offset);
        }
        msg.wire_len += chunk.len() as u64;
        msg.end_ts = ts;
        let hash = self.limits.hash_messages;
        if is_control {
            let hasher = self.control_hasher.get_or_insert_with(Sha256::new);
            absorb(
                msg,
                hasher,
                None,
                &self.scratch,
                self.limits.max_message_kept,
                hash,
            );
            return;
        }
        let keep = data_kept(&self.limits, msg);
        if let Some(inter) = self.interloper.as_mut() {
            absorb(
                msg,
                &mut inter.hasher,
                inter.utf8.as_mut(),
                &self.scratch,
                keep,
                hash,
            );
        } else if self.inflating {
            if self.inflate_failed {
                msg.complete = false;
                return;
            }
            let result = match (self.inflater.as_mut(), self.open.as_mut()) {
                (Some(inf), Some(open)) => inf.feed(&self.scratch, &mut |out: &[u8]| {
                    absorb(msg, &mut open.hasher, open.utf8.as_mut(), out, keep, hash)
                }),
                _ => Ok(()),
            };
            self.inflate_result(sink, m, index, result);
        } else if let Some(open) = self.open.as_mut() {
            absorb(
                msg,
                &mut open.hasher,
                open.utf8.as_mut(),
                &self.scratch,
                keep,
                hash,
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

    fn inflate_result(
        &mut self,
        sink: &mut impl Sink,
        m: usize,
        index: u32,
        result: Result<(), InflateFailure>,
    ) {
        let Err(failure) = result else { return };
        let dir = self.dir;
        match failure {
            InflateFailure::TooLarge(n) => {
                self.inflate_failed = true;
                give_up_hash(sink, m);
                sink.warning(
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
                give_up_hash(sink, m);
                if self.inflate_unreliable || self.negotiated.unknown {
                    sink.warning(Warning::TcpGap, dir, Some(index), format!("compressed message does not inflate ({why}); earlier bytes are missing from the capture"));
                } else {
                    sink.violation(
                        Violation::DeflateError,
                        dir,
                        Some(index),
                        format!("compressed payload does not inflate: {why}"),
                    );
                }
            }
            InflateFailure::ContextTakeover => {
                sink.violation(Violation::DeflateContextTakeoverViolated, dir, Some(index), "the message refers to data of an earlier message although no_context_takeover was agreed");
            }
            InflateFailure::WindowBits => {
                sink.violation(
                    Violation::DeflateWindowBitsViolated,
                    dir,
                    Some(index),
                    "a back-reference reaches past the agreed window",
                );
            }
        }
    }

    /// Frame `index` (header `header`) has ended at `ts`: the message it fed is finished
    /// when this was its last frame. Returns whether it was a Close.
    pub(super) fn end_frame(
        &mut self,
        sink: &mut impl Sink,
        header: &FrameHeader,
        index: u32,
        ts: Timestamp,
    ) -> bool {
        let Some(m) = self.current.take() else {
            return false;
        };
        if header.opcode.is_control() {
            let hasher = self.control_hasher.take().unwrap_or_default();
            self.finish_message(sink, m, hasher, ts);
            let close = header.opcode == Opcode::Control(ControlOpcode::Close);
            if close {
                self.check_close(sink, m, index);
            }
            return close;
        }
        if let Some(inter) = self.interloper.take() {
            let valid_utf8 = inter.utf8.as_ref().map(Utf8Validator::finish);
            self.finish_message(sink, m, inter.hasher, ts);
            self.judge_utf8(sink, m, index, valid_utf8);
            return false;
        }
        if !header.fin {
            return false;
        }
        let Some(mut open) = self.open.take() else {
            return false;
        };
        if self.inflating && !self.inflate_failed {
            let hash = self.limits.hash_messages;
            let result = match (self.inflater.as_mut(), sink.message_mut(m)) {
                (Some(inf), Some(msg)) => {
                    let keep = data_kept(&self.limits, msg);
                    let (hasher, mut utf8) = (&mut open.hasher, open.utf8.as_mut());
                    inf.end_message(&mut |out: &[u8]| {
                        absorb(msg, hasher, utf8.as_deref_mut(), out, keep, hash)
                    })
                }
                _ => return false,
            };
            self.inflate_result(sink, m, index, result);
        }
        let unknown = self.inflating && self.content_unknown(sink, m, index);
        self.inflating = false;
        let valid_utf8 = open.utf8.as_ref().map(Utf8Validator::finish);
        self.finish_message(sink, m, open.hasher, ts);
        if !unknown {
            self.judge_utf8(sink, m, index, valid_utf8);
        }
        false
    }

    /// A text message whose bytes are all here and are not UTF-8 breaks RFC 6455 §8.1.
    fn judge_utf8(&self, sink: &mut impl Sink, m: usize, index: u32, valid: Option<bool>) {
        if valid == Some(false) && sink.message_mut(m).is_some_and(|msg| msg.complete) {
            sink.violation(
                Violation::InvalidUtf8Text,
                self.dir,
                Some(index),
                "text message is not valid UTF-8",
            );
        }
    }

    fn finish_message(&self, sink: &mut impl Sink, m: usize, hasher: Sha256, ts: Timestamp) {
        let Some(msg) = sink.message_mut(m) else {
            return;
        };
        let cut = (msg.data_cut && !self.limits.preview_only)
            .then(|| (msg.len, msg.frames.first().copied()));
        if let Some((len, first)) = cut {
            sink.warning(
                Warning::LimitReached,
                self.dir,
                first,
                format!("message of {len} bytes: only the first {} are kept in memory (--max-message); its length and hash cover all of it", self.limits.max_message_kept),
            );
        }
        let Some(msg) = sink.message_mut(m) else {
            return;
        };
        shrink(&mut msg.data);
        msg.finished = true;
        msg.ended = true;
        msg.end_ts = ts;
        msg.sha256 = if msg.complete && msg.sha256.is_some() && self.limits.hash_messages {
            Some(hex::encode(hasher.finalize()))
        } else {
            None
        };
    }

    fn check_close(&self, sink: &mut impl Sink, m: usize, index: u32) {
        let Some(msg) = sink.message_mut(m) else {
            return;
        };
        if !msg.complete || msg.data_cut {
            return;
        }
        let payload = parse_close(&msg.data);
        let found = close_violations(&payload);
        if let ClosePayload::Status { code, reason, .. } = payload {
            msg.close_code = Some(code);
            msg.close_reason = Some(reason);
        }
        for (rule, detail) in found {
            sink.violation(rule, self.dir, Some(index), detail);
        }
    }
}

/// Bytes of a data message's payload to keep: none when no output shows them
/// ([`Limits::keep_message_data`]), the limit, or in preview-only mode for an
/// uncompressed binary message just a frame preview's worth (text output shows it only
/// through its frames' own previews, and a binary message may be 64 KiB). Text is kept up
/// to the message preview, which the JSON-lines `text` field shows; a compressed message
/// too, as `frames` previews its inflated bytes.
fn data_kept(limits: &Limits, msg: &MessageRecord) -> u64 {
    if !limits.keep_message_data {
        return 0;
    }
    if limits.preview_only && msg.kind == MessageKind::Binary && !msg.compressed {
        limits.max_message_kept.min(PREVIEW_FRAME_BYTES as u64)
    } else {
        limits.max_message_kept
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
pub(super) fn shrink(bytes: &mut Vec<u8>) {
    if bytes.capacity() - bytes.len() > 64 {
        bytes.shrink_to_fit();
    }
}

/// Message `m` lacks some of its bytes: not complete, no hash.
fn give_up_hash(sink: &mut impl Sink, m: usize) {
    if let Some(msg) = sink.message_mut(m) {
        msg.complete = false;
        msg.sha256 = None;
    }
}

/// Message `m` will get no more bytes and lacks some: no hash, not complete, ended.
/// Tolerates a record the sink no longer holds.
fn give_up(sink: &mut impl Sink, m: usize) {
    if let Some(msg) = sink.message_mut(m) {
        msg.sha256 = None;
        msg.complete = false;
        msg.ended = true;
    }
}
