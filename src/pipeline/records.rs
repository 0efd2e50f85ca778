//! What leaves a connection's records while its flow is still open: released once
//! written (live output), taken out as parts (decoding a window again), or given up
//! when a message that never ends would hold every later frame.

use crate::model::Connection;

use super::{MAX_HELD_FRAMES, Pipeline};

impl Pipeline {
    /// Drops the leading ended records of connection `index` (at most `max_frames` frames
    /// and `max_messages` messages), keeping their counts in its tally
    /// ([`Connection::take_ended_records_within`]); returns how many of each went. Live
    /// output calls it for what it has written, so a capture that runs for hours holds
    /// only the records not yet written, like streaming mode does for a file.
    pub fn release_records(
        &mut self,
        index: usize,
        max_frames: usize,
        max_messages: usize,
    ) -> (usize, usize) {
        self.take_records(index, max_frames, max_messages)
            .map_or((0, 0), |part| (part.frames.len(), part.messages.len()))
    }

    /// Like [`Pipeline::release_records`], returning the records taken out (as a
    /// connection record holding only them, numbered like connection `index`).
    pub fn take_records(
        &mut self,
        index: usize,
        max_frames: usize,
        max_messages: usize,
    ) -> Option<Connection> {
        let conn = self.capture.connections.get_mut(index)?;
        conn.take_ended_records_within(self.config.idle_threshold, max_frames, max_messages)
    }

    /// The frames a connection may hold behind a message that has not ended before the
    /// message is given up: [`MAX_HELD_FRAMES`], or one more than `--max-fragments`.
    pub fn held_limit(&self) -> usize {
        let fragments = usize::try_from(self.config.limits.max_fragments).unwrap_or(usize::MAX);
        MAX_HELD_FRAMES.max(fragments.saturating_add(1))
    }

    /// Connection `index` holds [`Pipeline::held_limit`] frames or more behind a message that
    /// has not ended (records leave only from the front, with their messages): its open
    /// messages are given up, with a warning, so the frames behind them can leave.
    pub fn give_up_blocking(&mut self, index: usize) {
        let held = self
            .capture
            .connections
            .get(index)
            .map_or(0, |c| c.frames.len());
        let conns = &mut self.capture.connections;
        if let Some(flow) = self
            .owners
            .get(index)
            .and_then(|key| self.flows.get_mut(key))
            .filter(|f| f.app.session.connection_index() == Some(index))
        {
            flow.app.session.give_up_open_messages(conns, held);
        }
    }
}
