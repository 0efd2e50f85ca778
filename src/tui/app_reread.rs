//! Showing compacted connections: on a file, the loader keeps only compacted records of
//! finished connections ([`crate::reread`]); the selected one is decoded again from the
//! file, on the UI thread when it is small, on a background thread when it is large
//! (the frame list says so meanwhile), and search decodes others as it reaches them.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::{Capture, Connection};
use crate::reread::{FileIndex, RereadError, Watch};
use crate::rules::Warning;

use super::app::App;

/// Connections with at least this many frames are decoded again in the background
/// (about 0.3 s of decoding); smaller ones at once, so a step shows them complete.
pub const BACKGROUND_FRAMES: usize = 100_000;

/// Connections whose packets spread over more of the file than this many packets are
/// decoded again in the background too: the whole span is read (about 0.15 s).
pub const BACKGROUND_SPAN: u64 = 500_000;

/// A connection being decoded again on a background thread.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// Which connection ([`Connection::flow_order`]).
    pub(crate) flow_order: u64,
    /// Its frames, when known.
    pub(crate) frames: usize,
    /// The frame whose window is decoded, when the connection is a long one shown a
    /// window at a time.
    pub(crate) around: Option<u32>,
    result: Arc<Mutex<Option<Result<Connection, String>>>>,
    /// Stops the thread (the connection is no longer selected); tells how far it got.
    pub(crate) watch: Arc<Watch>,
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

/// `record` has more frames, or more bytes, than a window holds: it is shown a window
/// at a time.
pub(crate) fn windowed(index: &FileIndex, record: &Connection) -> bool {
    let size = index.window();
    let bytes = record.tcp_bytes.iter().sum::<u64>();
    record.frame_count() > size.frames || bytes > size.bytes as u64
}

/// A compacted `record` with its frames and messages decoded again from the file;
/// stopped early when `cancel` is set. A connection of more frames or bytes than a
/// window holds ([`windowed`]) is decoded as a window around frame `around`
/// ([`FileIndex::reread_window`]).
fn decoded_again(
    index: &FileIndex,
    record: &Connection,
    around: u32,
    cancel: Option<&Watch>,
) -> Result<Connection, RereadError> {
    if windowed(index, record) {
        return index.reread_window(record, around, cancel);
    }
    let again = index.reread_until(record, cancel)?;
    let mut full = record.clone();
    full.restore(again.frames, again.messages);
    // The first pass kept previews only, so it never warned about the --max-message
    // limit: those warnings come from the full decode.
    for w in again.warnings {
        if w.warning == Warning::LimitReached && !full.warnings.contains(&w) {
            full.warnings.push(w);
        }
    }
    Ok(full)
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
                .index
                .as_ref()
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
            p.watch.cancel.store(true, Ordering::Relaxed);
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
                    p.watch.cancel.store(true, Ordering::Relaxed);
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
        let Some(index) = self.index.clone() else {
            return;
        };
        if let Some(p) = self.pending.take() {
            let done = p
                .result
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            match done {
                Some(result) => {
                    self.take_reread(c.flow_order, c.id, result);
                    return;
                }
                // Wanted at once (a search match): the thread is stopped, decoded below.
                None if self.full_at_once => p.watch.cancel.store(true, Ordering::Relaxed),
                // A window of a long connection around another frame (g or G pressed
                // meanwhile): that decode is stopped, this one started below.
                None if p.around.is_some() && p.around != Some(around) => {
                    p.watch.cancel.store(true, Ordering::Relaxed);
                }
                None => {
                    self.pending = Some(p);
                    return;
                }
            }
        }
        // Small, and close together in the file (or wanted at once): decoded here.
        if self.full_at_once || !self.in_background(c) {
            let result = decoded_again(&index, c, around, None).map_err(|e| e.to_string());
            self.take_reread(c.flow_order, c.id, result);
            return;
        }
        let long = windowed(&index, c);
        let result = Arc::new(Mutex::new(None));
        let watch = Arc::new(Watch::default());
        let (slot, stop) = (Arc::clone(&result), Arc::clone(&watch));
        let record = c.clone();
        let spawned = std::thread::Builder::new()
            .name("wsscope-reread".into())
            .spawn(move || {
                let again =
                    decoded_again(&index, &record, around, Some(&stop)).map_err(|e| e.to_string());
                *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(again);
            });
        match spawned {
            Ok(_) => {
                self.pending = Some(Pending {
                    flow_order: c.flow_order,
                    frames: c.frame_count(),
                    around: long.then_some(around),
                    result,
                    watch,
                });
            }
            Err(e) => self.take_reread(c.flow_order, c.id, Err(e.to_string())),
        }
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
        match &self.index {
            Some(index) if reread && record.frame_count() > 0 => {
                decoded_again(index, record, 1, None).map_or(Cow::Borrowed(record), Cow::Owned)
            }
            _ => Cow::Borrowed(record),
        }
    }
}
