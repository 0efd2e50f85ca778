//! Showing compacted connections: on a file, the loader keeps only compacted records of
//! finished connections ([`crate::reread`]); the selected one is decoded again from the
//! file by a job ([`super::jobs`]). A small one is waited for, so a step shows it
//! complete; a large one is decoded in the background (the frame list says so
//! meanwhile) and shown when its result arrives. Search decodes others as it reaches
//! them.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::{Capture, Connection};

use super::app::App;
use super::jobs::{Done, Job, JobId, Ticket, windowed};

/// Connections with at least this many frames are decoded again in the background
/// (about 0.3 s of decoding); smaller ones at once, so a step shows them complete.
pub const BACKGROUND_FRAMES: usize = 100_000;

/// Connections whose packets spread over more of the file than this many packets are
/// decoded again in the background too: the whole span is read (about 0.15 s).
pub const BACKGROUND_SPAN: u64 = 500_000;

/// How long the UI waits for a job it needs at once (a small connection, a search
/// match) before it lets the job go on in the background.
pub const QUICK_WAIT: Duration = Duration::from_secs(2);

/// A connection being decoded again by a job, in the background.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// Which connection ([`Connection::flow_order`]).
    pub(crate) flow_order: u64,
    /// Its frames, when known.
    pub(crate) frames: usize,
    /// The frame whose window is decoded, when the connection is a long one shown a
    /// window at a time.
    pub(crate) around: Option<u32>,
    /// The job: stopped when the connection is no longer selected; tells how far it got.
    pub(crate) ticket: Ticket,
}

/// What to show for a connection `record`: `full`, its frames and messages decoded again,
/// when the record is compacted and `full` is that connection.
pub(crate) fn shown<'c>(
    full: Option<&'c Connection>,
    record: Option<&'c Connection>,
) -> Option<&'c Connection> {
    match (full, record) {
        (Some(f), Some(c)) if c.held.dropped().is_some() && f.flow_order == c.flow_order => Some(f),
        (_, c) => c,
    }
}

/// The connection holds frame `index`, or holds all its frames (a window that does not
/// hold it means decoding another window).
fn holds(conn: &Connection, index: u32) -> bool {
    !conn.held.is_window()
        || conn
            .held_frames()
            .is_some_and(|(first, last)| (first..=last).contains(&index))
}

impl App {
    /// A large connection is being decoded again, or scanned, in the background: the UI
    /// should redraw on each tick to show it (or how far it got).
    pub fn busy(&self) -> bool {
        self.pending.is_some() || self.scanning()
    }

    /// `record` is a compacted connection too long to hold: it is shown a window at a
    /// time, and search scans it part by part.
    pub(crate) fn long(&self, record: &Connection) -> bool {
        record.held.dropped().is_some()
            && self
                .jobs
                .index()
                .is_some_and(|index| windowed(index, record))
    }

    /// Decoding the compacted `record` again takes long enough to be done in the
    /// background: it has many frames, or its packets spread over much of the file.
    pub(crate) fn in_background(&self, record: &Connection) -> bool {
        record.held.dropped().is_some_and(|last_packet| {
            let span = last_packet.saturating_sub(record.first_packet);
            record.frame_count() >= self.background_frames || span >= BACKGROUND_SPAN
        })
    }

    /// `record` is compacted with frames or messages that are not in memory: showing or
    /// searching it means decoding it again.
    pub(crate) fn needs_reread(&self, record: &Connection) -> bool {
        record.held.dropped().is_some()
            && (record.frame_count() > 0 || record.message_count() > 0)
            && shown(self.full.as_deref(), Some(record))
                .is_none_or(|c| c.held.dropped().is_some() || c.held.is_window())
    }

    /// Selects the connection at `pos` with its frames decoded again at once, even a
    /// large one (a search match must be selectable at once).
    pub(crate) fn select_conn_now(&mut self, pos: usize, capture: &Capture) {
        self.full_at_once = true;
        self.select_conn(pos, capture);
        self.full_at_once = false;
    }

    /// When the selected connection's record is compacted, decodes its frames and
    /// messages again from the file (once per selection).
    pub(crate) fn load_full(&mut self, capture: &Capture) {
        if self.defer_full {
            return;
        }
        let selected = self.record(capture).map(|c| c.flow_order);
        if let Some(p) = self.pending.as_ref()
            && Some(p.flow_order) != selected
        {
            // Another connection was selected meanwhile: its decode is stopped.
            p.ticket.cancel();
            self.pending = None;
        }
        let Some(c) = self.record(capture) else {
            self.full = None;
            return;
        };
        if c.held.dropped().is_none() {
            self.full = None;
            return;
        }
        let around = self.frame.unwrap_or(1);
        let shown_here = self
            .full
            .as_ref()
            .is_some_and(|f| f.flow_order == c.flow_order);
        if let Some(full) = self.full.as_mut()
            && shown_here
        {
            if full.id != c.id {
                // Numbers are given again when the file is read to its end.
                Arc::make_mut(full).id = c.id;
            }
            if holds(full, around) || self.reread_failed == Some(c.flow_order) {
                // Back inside the window shown (or given up): another window being
                // decoded is no longer wanted.
                if let Some(p) = self.pending.take() {
                    p.ticket.cancel();
                }
                return;
            }
            // A window of a long connection, and the frame wanted is outside it: the
            // window stays shown until the one around that frame is decoded.
        } else {
            self.full = None;
        }
        if (c.frame_count() == 0 && c.message_count() == 0)
            || self.reread_failed == Some(c.flow_order)
        {
            return;
        }
        let Some(index) = self.jobs.index().cloned() else {
            return;
        };
        if let Some(p) = self.pending.take() {
            match () {
                // Wanted at once (a search match): the job is stopped, decoded below.
                () if self.full_at_once => p.ticket.cancel(),
                // A window of a long connection around another frame (g or G pressed
                // meanwhile): that decode is stopped, this one started below.
                () if p.around.is_some() && p.around != Some(around) => p.ticket.cancel(),
                () => {
                    self.pending = Some(p);
                    return;
                }
            }
        }
        let long = windowed(&index, c);
        let quick = self.full_at_once || !self.in_background(c);
        let (flow_order, id, frames) = (c.flow_order, c.id, c.frame_count());
        let job = Job::Decode {
            record: c.clone(),
            around,
        };
        let ticket = match self.jobs.start(job) {
            Ok(ticket) => ticket,
            Err(e) => return self.take_reread(flow_order, id, Err(e)),
        };
        // Small, and close together in the file (or wanted at once): waited for.
        if quick && let Some(Done::Decoded { result, .. }) = self.wait_for(ticket.id) {
            return self.take_reread(flow_order, id, result.map(|c| *c));
        }
        self.pending = Some(Pending {
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
        let Some(p) = self.pending.take_if(|p| p.ticket.id == id) else {
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
                self.full = Some(Arc::new(full));
            }
            Err(e) => {
                self.reread_failed = Some(flow_order);
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
        if let Some(full) = shown(self.full.as_deref(), Some(record))
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
        let Ok(ticket) = self.jobs.start(job) else {
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
