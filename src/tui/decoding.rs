//! The App's part that decodes compacted connections again: the jobs, the connection
//! decoded again for the selection, and the decode or scan running in the background.
//! What the App does with them is in `app_reread` (showing a connection) and
//! `app_scan` (scanning one for a frame).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::model::Connection;

use super::jobs::{Jobs, Ticket};
use super::search::Scan;

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
pub(crate) struct BackgroundDecode {
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

/// What a scan is looking for, and what its answer is for.
#[derive(Clone, Debug)]
pub(crate) enum Purpose {
    /// The next (or previous) search match in a long connection the search reached.
    Search {
        /// The lower-cased query.
        needle: String,
        /// Where the search stands.
        scan: Scan,
        /// The connection it started in ([`Connection::flow_order`]), to find it again
        /// if the list changes meanwhile.
        start_flow: u64,
    },
    /// The frame nearest to the one wanted that passes the filter, past the window of
    /// the selected connection.
    Move {
        /// A frame at or after the one wanted (else at or before it).
        forward: bool,
    },
}

/// A scan running in the background.
#[derive(Clone, Debug)]
pub(crate) struct BackgroundScan {
    pub(crate) purpose: Purpose,
    /// The connection scanned ([`Connection::flow_order`]) and its label.
    pub(crate) flow_order: u64,
    pub(crate) label: String,
    /// The last frame index the scan looks at.
    pub(crate) last: u32,
    /// The job: stops it, tells the last frame index read so far.
    pub(crate) ticket: Ticket,
}

impl BackgroundScan {
    /// What the status line says meanwhile.
    pub(crate) fn describe(&self) -> String {
        let what = match &self.purpose {
            Purpose::Search { needle, .. } => format!("searching {} for {needle:?}", self.label),
            Purpose::Move { forward: true } => {
                format!(
                    "looking for a later frame of {} that passes the filter",
                    self.label
                )
            }
            Purpose::Move { forward: false } => format!(
                "looking for an earlier frame of {} that passes the filter",
                self.label
            ),
        };
        format!(
            "{what}: read up to frame {} of {}… (Esc stops)",
            self.ticket.reached.load(Ordering::Relaxed),
            self.last
        )
    }
}

/// Decoding compacted connections again.
#[derive(Debug)]
pub struct Decoding {
    /// Decode jobs over the capture file, when finished connections are compacted
    /// ([`crate::reread`]).
    pub jobs: Jobs,
    /// The selected connection decoded again, when its record in the capture is compacted.
    pub(crate) decoded: Option<Arc<Connection>>,
    /// A large connection being decoded again in the background.
    pub(crate) pending: Option<BackgroundDecode>,
    /// A long connection being scanned in the background (search, filtered moves).
    pub(crate) scanning: Option<BackgroundScan>,
    /// Compacted connections with at least this many frames are decoded again in the
    /// background ([`BACKGROUND_FRAMES`] unless changed).
    pub background_frames: usize,
    /// Set while a search selects its match: decoded at once, however large.
    pub(crate) at_once: bool,
    /// A compacted connection that could not be decoded again (not retried).
    pub(crate) failed: Option<u64>,
    /// Set while a burst of keys is applied (a held arrow key): a compacted connection
    /// passed over is not decoded again, only the one the burst ends on.
    pub defer: bool,
}

impl Decoding {
    /// Decoding with `jobs`, nothing decoded yet.
    pub fn new(jobs: Jobs) -> Self {
        Decoding {
            jobs,
            decoded: None,
            pending: None,
            scanning: None,
            background_frames: BACKGROUND_FRAMES,
            at_once: false,
            failed: None,
            defer: false,
        }
    }
}

/// What to show for a connection `record`: `full`, its frames and messages decoded again,
/// when the record is compacted and `full` is that connection.
pub(crate) fn to_show<'c>(
    full: Option<&'c Connection>,
    record: Option<&'c Connection>,
) -> Option<&'c Connection> {
    match (full, record) {
        (Some(f), Some(c)) if c.held.dropped().is_some() && f.flow_order == c.flow_order => Some(f),
        (_, c) => c,
    }
}
