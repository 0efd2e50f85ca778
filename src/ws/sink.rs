//! Where the decoder reports what it finds (DESIGN.md, "Shape of the code"): frames and
//! messages as records it completes while their bytes arrive, violations and warnings as
//! they are seen. The model implements it for a connection
//! ([`crate::model::Connection`], in `model::build`); tests use [`Recording`].
//!
//! Records are named by stable numbers, never by where they are kept: a frame by its
//! index (1, 2, … within the connection, both directions together), a message by its
//! ordinal (0, 1, … in the order their first frames arrived). A sink may let records go
//! once they have ended (output written, memory bounded); asking for one then gives
//! `None`, and the decoder, which has no more to add to an ended record, goes on.

use super::record::{Dir, FrameRecord, MessageRecord};
use crate::rules::{Violation, Warning};
use crate::source::Timestamp;

/// Receives the records and findings of the decoders of one connection (one per
/// direction, sharing the numbering of frames and messages).
pub trait Sink {
    /// Adds a frame that has just begun (its header parsed); returns the index it gets.
    fn push_frame(&mut self, frame: FrameRecord) -> u32;
    /// The frame with `index`, while the sink holds it.
    fn frame_mut(&mut self, index: u32) -> Option<&mut FrameRecord>;
    /// Adds a message that has just begun (its first frame's header parsed); returns
    /// the ordinal it gets.
    fn push_message(&mut self, message: MessageRecord) -> usize;
    /// The message with `ordinal`, while the sink holds it.
    fn message_mut(&mut self, ordinal: usize) -> Option<&mut MessageRecord>;
    /// A protocol rule broken by `dir`, at frame `frame` when one is to blame.
    fn violation(
        &mut self,
        rule: Violation,
        dir: Dir,
        frame: Option<u32>,
        detail: impl Into<String>,
    );
    /// A capture problem in `dir`'s stream (loss, truncation, a limit reached).
    fn warning(
        &mut self,
        warning: Warning,
        dir: Dir,
        frame: Option<u32>,
        detail: impl Into<String>,
    );
    /// Bytes of the connection arrived in a packet of time `ts`.
    fn bytes_at(&mut self, ts: Timestamp);
    /// `len` bytes of `dir`'s stream are not in the capture (noticed at `packet`; cut by
    /// the snaplen when `snaplen`) at a point where whole frames may be missing: before
    /// the next frame to be pushed. Views show a row there.
    fn gap(&mut self, dir: Dir, len: u64, packet: u64, snaplen: bool) {
        let _ = (dir, len, packet, snaplen);
    }
}

/// A violation or warning as [`Recording`] keeps it: the rule or problem, who, which
/// frame, what was seen.
pub type Finding<T> = (T, Dir, Option<u32>, String);

/// A sink that keeps everything reported, in order: for tests and fuzz targets, which
/// look at the decoder's reports without a model.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// Every frame, by index (index 1 first).
    pub frames: Vec<FrameRecord>,
    /// Every message, by ordinal.
    pub messages: Vec<MessageRecord>,
    /// Every violation, in the order reported.
    pub violations: Vec<Finding<Violation>>,
    /// Every warning, in the order reported.
    pub warnings: Vec<Finding<Warning>>,
    /// The time of the latest bytes.
    pub last_ts: Timestamp,
}

impl Sink for Recording {
    fn push_frame(&mut self, mut frame: FrameRecord) -> u32 {
        frame.index = self.frames.len() as u32 + 1;
        self.frames.push(frame);
        self.frames.len() as u32
    }

    fn frame_mut(&mut self, index: u32) -> Option<&mut FrameRecord> {
        self.frames
            .get_mut(usize::try_from(index).ok()?.checked_sub(1)?)
    }

    fn push_message(&mut self, message: MessageRecord) -> usize {
        self.messages.push(message);
        self.messages.len() - 1
    }

    fn message_mut(&mut self, ordinal: usize) -> Option<&mut MessageRecord> {
        self.messages.get_mut(ordinal)
    }

    fn violation(
        &mut self,
        rule: Violation,
        dir: Dir,
        frame: Option<u32>,
        detail: impl Into<String>,
    ) {
        self.violations.push((rule, dir, frame, detail.into()));
    }

    fn warning(
        &mut self,
        warning: Warning,
        dir: Dir,
        frame: Option<u32>,
        detail: impl Into<String>,
    ) {
        self.warnings.push((warning, dir, frame, detail.into()));
    }

    fn bytes_at(&mut self, ts: Timestamp) {
        self.last_ts = ts;
    }
}
