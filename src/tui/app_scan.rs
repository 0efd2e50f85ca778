//! Reading a long connection again part by part to find a frame: the next search match
//! in it (n/N), or the nearest frame that passes the filter past the window shown.
//! Such a scan decodes from the connection's first packet and can take seconds, so on a
//! large connection it runs on a background thread: the status line shows how far it
//! got, Esc (or any other key but n/N) stops it, and the UI stays usable meanwhile.
//! Small connections are scanned at once, as they are decoded again at once.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::{Capture, Connection, FrameRecord};
use crate::reread::{FileIndex, Watch};

use super::app::App;
use super::filter::{Filter, FrameTest};
use super::matching;
use super::search::Scan;

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

/// A scan running on a background thread.
#[derive(Clone, Debug)]
pub(crate) struct Scanning {
    pub(crate) purpose: Purpose,
    /// The connection scanned ([`Connection::flow_order`]) and its label.
    flow_order: u64,
    label: String,
    /// The last frame index the scan looks at.
    last: u32,
    /// The last frame index it has read so far.
    reached: Arc<AtomicU32>,
    /// `Some` once done: the frame found, if any.
    result: Arc<Mutex<Option<Option<u32>>>>,
    /// Stops the thread.
    watch: Arc<Watch>,
}

impl Scanning {
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
            self.reached.load(Ordering::Relaxed),
            self.last
        )
    }
}

/// What a scan tests each frame with: the filter (prepared for the connection by
/// [`FrameTest::new`] with `filter_needle`) and, for a search, the text to match.
#[derive(Clone, Debug)]
struct Matcher {
    filter: Filter,
    filter_needle: Option<String>,
    text: Option<String>,
}

/// Reads the long connection `record` again part by part: the first (`forward`) or
/// last frame index in `lo..=hi` that `matcher` takes. `reached` follows the reading;
/// a scan stopped by `cancel`, or of a connection that cannot be read again, finds none.
fn scan_for(
    index: &FileIndex,
    record: &Connection,
    (lo, hi): (u32, u32),
    forward: bool,
    matcher: &Matcher,
    cancel: Option<&Watch>,
    reached: Option<&AtomicU32>,
) -> Option<u32> {
    let test = FrameTest::new(&matcher.filter, record, matcher.filter_needle.as_deref());
    let accept = |part: &Connection, f: &FrameRecord| {
        test.accepts(part, f)
            && matcher
                .text
                .as_deref()
                .is_none_or(|needle| matching::frame_matches(part, f, needle))
    };
    let mut found = None;
    let scanned = index.scan(record, cancel, &mut |part| {
        if let (Some(reached), Some(f)) = (reached, part.frames.last()) {
            reached.store(f.index.min(hi), Ordering::Relaxed);
        }
        for f in &part.frames {
            if f.index > hi {
                return false;
            }
            if f.index >= lo && accept(part, f) {
                found = Some(f.index);
                if forward {
                    return false;
                }
            }
        }
        true
    });
    scanned.ok().and(found)
}

impl App {
    /// A scan is running in the background.
    pub(crate) fn scanning(&self) -> bool {
        self.scanning.is_some()
    }

    /// The scan running in the background is one for a search (n/N).
    pub(crate) fn scanning_for_search(&self) -> bool {
        self.scanning
            .as_ref()
            .is_some_and(|s| matches!(s.purpose, Purpose::Search { .. }))
    }

    /// Stops the scan running in the background, if any.
    pub(crate) fn stop_scan(&mut self) {
        if let Some(s) = self.scanning.take() {
            s.watch.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// Scans frames `range` of `record` for `purpose`: at once when the connection is
    /// small (the answer is returned), else on a background thread (`None`; the answer
    /// is taken up by [`App::poll_scan`]).
    pub(crate) fn start_scan(
        &mut self,
        record: &Connection,
        range: (u32, u32),
        purpose: Purpose,
    ) -> Option<Option<u32>> {
        self.stop_scan();
        let Some(index) = self.index.clone() else {
            return Some(None);
        };
        let (forward, matcher) = match &purpose {
            Purpose::Search { needle, scan, .. } => (
                scan.next.forward,
                Matcher {
                    // As search::find tests frames: every hit is a match.
                    filter: Filter {
                        matching: false,
                        ..self.filter.clone()
                    },
                    filter_needle: None,
                    text: Some(needle.clone()),
                },
            ),
            Purpose::Move { forward } => (
                *forward,
                Matcher {
                    filter: self.filter.clone(),
                    filter_needle: self.search.needle(),
                    text: None,
                },
            ),
        };
        if !self.in_background(record) {
            return Some(scan_for(
                &index, record, range, forward, &matcher, None, None,
            ));
        }
        let result = Arc::new(Mutex::new(None));
        let watch = Arc::new(Watch::default());
        let reached = Arc::new(AtomicU32::new(0));
        let (slot, stop, progress) = (
            Arc::clone(&result),
            Arc::clone(&watch),
            Arc::clone(&reached),
        );
        let owned = record.clone();
        let spawned = std::thread::Builder::new()
            .name("wsscope-scan".into())
            .spawn(move || {
                let found = scan_for(
                    &index,
                    &owned,
                    range,
                    forward,
                    &matcher,
                    Some(&stop),
                    Some(&progress),
                );
                *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(found);
            });
        if let Err(e) = spawned {
            self.notice = Some(format!("could not start the search: {e}"));
            return None;
        }
        self.scanning = Some(Scanning {
            purpose,
            flow_order: record.flow_order,
            label: super::docs::labels::label(record),
            last: range.1,
            reached,
            result,
            watch,
        });
        None
    }

    /// Takes up the answer of the scan running in the background once it is done (each
    /// tick): the search goes on or shows its match, the move goes to its frame.
    pub(crate) fn poll_scan(&mut self, capture: &Capture) {
        let Some(s) = self.scanning.as_ref() else {
            return;
        };
        let Some(found) = s
            .result
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return;
        };
        let Some(s) = self.scanning.take() else {
            return;
        };
        match s.purpose {
            Purpose::Search {
                needle,
                scan,
                start_flow,
            } => {
                // Connections listed while the scan ran may have moved it, and the
                // connection the search started in, in the list.
                let (Some(at), Some(start)) = (
                    self.position_of(s.flow_order, capture),
                    self.position_of(start_flow, capture),
                ) else {
                    return;
                };
                let scan = scan.relisted(at, start, self.order.len());
                self.scanned(&needle, scan, found, capture);
            }
            Purpose::Move { forward } => {
                if self.record(capture).map(|c| c.flow_order) == Some(s.flow_order) {
                    self.moved_to(found, forward, capture);
                }
            }
        }
    }

    /// The filtered move past the window found `found` (or nothing).
    pub(crate) fn moved_to(&mut self, found: Option<u32>, forward: bool, capture: &Capture) {
        match found {
            Some(index) => self.go_past_window(index, capture),
            None => {
                self.notice = Some(format!(
                    "no frame {} passes the filter",
                    if forward {
                        "after these"
                    } else {
                        "before these"
                    }
                ));
            }
        }
    }
}
