//! Showing compacted connections: on a file, the loader keeps only compacted records of
//! finished connections ([`crate::reread`]); the selected one is decoded again from the
//! file by a job ([`super::jobs`]). A small one is waited for, so a step shows it
//! complete; a large one is decoded in the background (the frame list says so
//! meanwhile) and shown when its result arrives. Search decodes others as it reaches
//! them.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use crate::model::{Capture, Connection};

use super::app::App;
use super::decoding::{BACKGROUND_SPAN, BackgroundDecode, QUICK_WAIT, to_show};
use super::jobs::{Done, Job, JobId, windowed};

/// The connection holds frame `index`, or holds all its frames (a window that does not
/// hold it means decoding another window).
fn holds_frame(conn: &Connection, index: u32) -> bool {
    !conn.held.is_window()
        || conn
            .held_frames()
            .is_some_and(|(first, last)| (first..=last).contains(&index))
}

impl App {
    /// A large connection is being decoded again, or scanned, in the background: the UI
    /// should redraw on each tick to show it (or how far it got).
    pub fn busy(&self) -> bool {
        self.decoding.pending.is_some() || self.scanning()
    }

    /// `record` is a compacted connection too long to hold: it is shown a window at a
    /// time, and search scans it part by part.
    pub(crate) fn shown_in_windows(&self, record: &Connection) -> bool {
        record.held.dropped().is_some()
            && self
                .decoding
                .jobs
                .index()
                .is_some_and(|index| windowed(index, record))
    }

    /// Decoding the compacted `record` again takes long enough to be done in the
    /// background: it has many frames, or its packets spread over much of the file.
    pub(crate) fn in_background(&self, record: &Connection) -> bool {
        record.held.dropped().is_some_and(|last_packet| {
            let span = last_packet.saturating_sub(record.first_packet);
            record.frame_count() >= self.decoding.background_frames || span >= BACKGROUND_SPAN
        })
    }

    /// `record` is compacted with frames or messages that are not in memory: showing or
    /// searching it means decoding it again.
    pub(crate) fn needs_reread(&self, record: &Connection) -> bool {
        record.held.dropped().is_some()
            && (record.frame_count() > 0 || record.message_count() > 0)
            && to_show(self.decoding.decoded.as_deref(), Some(record))
                .is_none_or(|c| c.held.dropped().is_some() || c.held.is_window())
    }

    /// Selects the connection at `pos` with its frames decoded again at once, even a
    /// large one (a search match must be selectable at once).
    pub(crate) fn select_conn_now(&mut self, pos: usize, capture: &Capture) {
        self.decoding.at_once = true;
        self.select_conn(pos, capture);
        self.decoding.at_once = false;
    }

    /// When the selected connection's record is compacted, decodes its frames and
    /// messages again from the file (once per selection).
    pub(crate) fn decode_selected(&mut self, capture: &Capture) {
        if self.decoding.defer {
            return;
        }
        let selected = self.record(capture).map(|c| c.flow_order);
        if let Some(p) = self.decoding.pending.as_ref()
            && Some(p.flow_order) != selected
        {
            // Another connection was selected meanwhile: its decode is stopped.
            p.ticket.cancel();
            self.decoding.pending = None;
        }
        let Some(c) = self.record(capture) else {
            self.decoding.decoded = None;
            return;
        };
        if c.held.dropped().is_none() {
            self.decoding.decoded = None;
            return;
        }
        let around = self.panes.frame.unwrap_or(1);
        let shown_here = self
            .decoding
            .decoded
            .as_ref()
            .is_some_and(|f| f.flow_order == c.flow_order);
        if let Some(full) = self.decoding.decoded.as_mut()
            && shown_here
        {
            if full.id != c.id {
                // Numbers are given again when the file is read to its end.
                Arc::make_mut(full).id = c.id;
            }
            if holds_frame(full, around) || self.decoding.failed == Some(c.flow_order) {
                // Back inside the window shown (or given up): another window being
                // decoded is no longer wanted.
                if let Some(p) = self.decoding.pending.take() {
                    p.ticket.cancel();
                }
                return;
            }
            // A window of a long connection, and the frame wanted is outside it: the
            // window stays shown until the one around that frame is decoded.
        } else {
            self.decoding.decoded = None;
        }
        if (c.frame_count() == 0 && c.message_count() == 0)
            || self.decoding.failed == Some(c.flow_order)
        {
            return;
        }
        let Some(index) = self.decoding.jobs.index().cloned() else {
            return;
        };
        if let Some(p) = self.decoding.pending.take() {
            match () {
                // Wanted at once (a search match): the job is stopped, decoded below.
                () if self.decoding.at_once => p.ticket.cancel(),
                // A window of a long connection around another frame (g or G pressed
                // meanwhile): that decode is stopped, this one started below.
                () if p.around.is_some() && p.around != Some(around) => p.ticket.cancel(),
                () => {
                    self.decoding.pending = Some(p);
                    return;
                }
            }
        }
        let long = windowed(&index, c);
        let quick = self.decoding.at_once || !self.in_background(c);
        let (flow_order, id, frames) = (c.flow_order, c.id, c.frame_count());
        let job = Job::Decode {
            record: c.clone(),
            around,
        };
        let ticket = match self.decoding.jobs.start(job) {
            Ok(ticket) => ticket,
            Err(e) => return self.take_reread(flow_order, id, Err(e)),
        };
        // Small, and close together in the file (or wanted at once): waited for.
        if quick && let Some(Done::Decoded { result, .. }) = self.wait_for(ticket.id) {
            return self.take_reread(flow_order, id, result.map(|c| *c));
        }
        self.decoding.pending = Some(BackgroundDecode {
            flow_order,
            frames,
            around: long.then_some(around),
            ticket,
        });
    }

    /// Waits (at most [`QUICK_WAIT`]) for the result of job `id`, keeping every other
    /// event for later.
    pub(crate) fn wait_for(&self, id: JobId) -> Option<Done> {
        self.inbox.wait_for(id, Instant::now() + QUICK_WAIT)
    }

    /// A background decode finished: its connection is shown, if it is still wanted.
    pub(crate) fn decoded(
        &mut self,
        id: JobId,
        result: Result<Box<Connection>, String>,
        capture: &Capture,
    ) {
        let Some(p) = self.decoding.pending.take_if(|p| p.ticket.id == id) else {
            return;
        };
        let Some(record) = self
            .record(capture)
            .filter(|c| c.flow_order == p.flow_order)
        else {
            return;
        };
        let id = record.id;
        self.take_reread(p.flow_order, id, result.map(|c| *c));
    }

    fn take_reread(&mut self, flow_order: u64, id: u32, result: Result<Connection, String>) {
        match result {
            Ok(mut full) => {
                full.id = id;
                self.decoding.decoded = Some(Arc::new(full));
            }
            Err(e) => {
                self.decoding.failed = Some(flow_order);
                self.notice = Some(e);
            }
        }
    }

    /// For search: the connection to look in for `record`. A compacted record's frames
    /// are decoded again when `reread` allows it (confirmed searches and n/N, not each
    /// key typed); otherwise only its handshake can match.
    pub(crate) fn searchable<'c>(
        &'c self,
        record: &'c Connection,
        reread: bool,
    ) -> Cow<'c, Connection> {
        if record.held.dropped().is_none() {
            return Cow::Borrowed(record);
        }
        if let Some(full) = to_show(self.decoding.decoded.as_deref(), Some(record))
            && full.held.dropped().is_none()
        {
            return Cow::Borrowed(full);
        }
        if !reread || record.frame_count() == 0 {
            return Cow::Borrowed(record);
        }
        let job = Job::Decode {
            record: record.clone(),
            around: 1,
        };
        let Ok(ticket) = self.decoding.jobs.start(job) else {
            return Cow::Borrowed(record);
        };
        match self.wait_for(ticket.id) {
            Some(Done::Decoded {
                result: Ok(full), ..
            }) => Cow::Owned(*full),
            _ => {
                ticket.cancel();
                Cow::Borrowed(record)
            }
        }
    }
}
