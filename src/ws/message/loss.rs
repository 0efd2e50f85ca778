//! What the capture's losses do to message assembly: bytes missing inside a frame,
//! frame boundaries lost across a gap, the stream's end, a compressed stream whose window
//! lost bytes, and messages given up to keep memory bounded.

use super::{Assembly, give_up, give_up_hash};
use crate::rules::Warning;
use crate::ws::sink::Sink;

impl Assembly {
    /// A compressed message that referred to bytes the capture lacks (its compressed
    /// stream lost bytes before it, or began before the capture): its content from that
    /// byte on is unknown, its length is known. Says so once per loss.
    pub(super) fn content_unknown(&mut self, sink: &mut impl Sink, m: usize, index: u32) -> bool {
        let Some(inf) = self.inflater.as_ref() else {
            return false;
        };
        let Some(from) = inf.unknown_from() else {
            return false;
        };
        let produced = inf.produced();
        if let Some(msg) = sink.message_mut(m) {
            msg.len = produced;
            msg.complete = false;
            msg.sha256 = None;
        }
        if !self.context_warned {
            self.context_warned = true;
            let why = if self.stream_began_before {
                "its compressed stream began before the capture"
            } else {
                "bytes of its compressed stream before it are not in the capture: lost, or cut by the snaplen"
            };
            sink.warning(
                Warning::TcpGap,
                self.dir,
                Some(index),
                format!("deflate context lost: this compressed message refers to bytes the capture lacks ({why}); its content from byte {from} on is unknown, and so is that of later messages that refer to them (its length, {produced} B, is known)"),
            );
        }
        true
    }

    /// The compressed stream lost bytes: later messages may refer to them.
    pub(super) fn lose_context(&mut self) {
        if let Some(inf) = self.inflater.as_mut() {
            inf.lose_context();
            self.context_warned = false;
        }
    }

    /// `len` bytes of the current frame's payload are missing: its message lacks them
    /// (they count in its length on the wire and, uncompressed, in its length; what
    /// compressed bytes inflate to is unknown), and decompression can no longer be
    /// trusted.
    pub(in crate::ws) fn bytes_missing(&mut self, sink: &mut impl Sink, len: u64) {
        if let Some(m) = self.current {
            give_up_hash(sink, m);
            let inflating = self.inflating;
            if let Some(msg) = sink.message_mut(m) {
                msg.wire_len = msg.wire_len.saturating_add(len);
                if inflating {
                    msg.len_unknown = true;
                } else {
                    msg.len = msg.len.saturating_add(len);
                }
            }
        }
        if self.inflating {
            self.inflate_failed = true;
            self.inflate_unreliable = true;
            self.lose_context();
        }
    }

    /// Frame boundaries were lost across a gap: decompression errors from now on may
    /// come from the missing bytes.
    pub(in crate::ws) fn gap_between_frames(&mut self) {
        self.inflate_unreliable = true;
        // What was lost may have been (part of) a compressed message.
        self.lose_context();
    }

    /// Frame boundaries are lost: whatever message was open cannot be finished, and what
    /// follows must not be judged against it (a gap is a capture problem, not a violation).
    pub(in crate::ws) fn lose_sync(&mut self, sink: &mut impl Sink) {
        for m in [
            self.open.take().map(|o| o.ordinal),
            self.interloper.take().map(|o| o.ordinal),
            self.current.take(),
        ]
        .into_iter()
        .flatten()
        {
            give_up(sink, m);
        }
        self.inflating = false;
        self.control_hasher = None;
        self.start_lost = Some(false);
    }

    /// The stream ended; `inside_payload` when it ended inside the current frame's
    /// payload: the messages left open end, incomplete.
    pub(in crate::ws) fn stream_ended(&mut self, sink: &mut impl Sink, inside_payload: bool) {
        if inside_payload && let Some(m) = self.current {
            give_up_hash(sink, m);
        }
        if let Some(msg) = self.open.take().and_then(|o| sink.message_mut(o.ordinal)) {
            msg.sha256 = None;
            msg.ended = true;
        }
        for m in [
            self.current.take(),
            self.interloper.take().map(|o| o.ordinal),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(msg) = sink.message_mut(m) {
                msg.ended = true;
            }
        }
    }

    /// The sink holds `held` frames because this direction's fragmented message has not
    /// ended (records leave only from the front, with their messages): the message is
    /// given up as past the fragment limit (its remaining fragments are skipped until
    /// its last one), so the frames behind it can go. Only between frames.
    pub(in crate::ws) fn give_up_open(&mut self, sink: &mut impl Sink, held: usize) {
        if self.current.is_some() || self.interloper.is_some() {
            return;
        }
        let Some(open) = self.open.as_mut().filter(|o| !o.dropped) else {
            return;
        };
        let Some(msg) = sink.message_mut(open.ordinal) else {
            return;
        };
        open.dropped = true;
        msg.sha256 = None;
        msg.complete = false;
        msg.ended = true;
        sink.warning(
            Warning::LimitReached,
            self.dir,
            Some(open.first_frame),
            format!(
                "message still open while {held} later frames arrived: given up so they could be written (output holds at most that many frames); its remaining fragments are skipped until its last one"
            ),
        );
    }
}
