//! A connection record built from what its decoders report: the model's side of
//! [`crate::ws::Sink`]. Frames are found by index and messages by ordinal among those
//! the connection still holds (records that have left memory come before them).

use super::{Connection, FrameRecord, MessageRecord};
use crate::rules::{Violation, Warning};
use crate::source::Timestamp;
use crate::ws::{Dir, Sink};

impl Sink for Connection {
    fn gap(&mut self, dir: Dir, len: u64, packet: u64, snaplen: bool) {
        if self.gaps.len() >= super::MAX_GAPS_KEPT {
            self.gaps_not_kept += 1;
            return;
        }
        let before_frame = self.held.next_frame_index(self.frames.len());
        self.gaps.push(super::GapRecord {
            dir,
            before_frame,
            len,
            packet,
            snaplen,
        });
    }

    fn push_frame(&mut self, mut frame: FrameRecord) -> u32 {
        let index = self.held.next_frame_index(self.frames.len());
        frame.index = index;
        self.frames.push(frame);
        index
    }

    fn frame_mut(&mut self, index: u32) -> Option<&mut FrameRecord> {
        self.frames.get_mut(self.held.frame_position(index)?)
    }

    fn push_message(&mut self, message: MessageRecord) -> usize {
        self.messages.push(message);
        self.held.message_ordinal(self.messages.len() - 1)
    }

    fn message_mut(&mut self, ordinal: usize) -> Option<&mut MessageRecord> {
        self.messages.get_mut(self.held.message_position(ordinal)?)
    }

    fn violation(
        &mut self,
        rule: Violation,
        dir: Dir,
        frame: Option<u32>,
        detail: impl Into<String>,
    ) {
        Connection::violation(self, rule, Some(dir), frame, detail);
    }

    fn warning(
        &mut self,
        warning: Warning,
        dir: Dir,
        frame: Option<u32>,
        detail: impl Into<String>,
    ) {
        Connection::warning(self, warning, Some(dir), frame, detail);
    }

    fn bytes_at(&mut self, ts: Timestamp) {
        self.last_ts = ts;
    }
}
