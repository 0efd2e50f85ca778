//! Reading a long connection again part by part to find a frame: the next search match
//! in it (n/N), or the nearest frame that passes the filter past the window shown.
//! Such a scan decodes from the connection's first packet and can take seconds, so on a
//! large connection it runs on a background thread: the status line shows how far it
//! got, Esc (or any other key but n/N) stops it, and the UI stays usable meanwhile.
//! Small connections are scanned at once, as they are decoded again at once.

use crate::model::{Capture, Connection};

use super::app::App;
use super::decoding::{BackgroundScan, Purpose};
use super::filter::Filter;
use super::jobs::{Done, Job, JobId, Matcher};

impl App {
    /// A scan is running in the background.
    pub(crate) fn scanning(&self) -> bool {
        self.decoding.scanning.is_some()
    }

    /// The scan running in the background is one for a search (n/N).
    pub(crate) fn scanning_for_search(&self) -> bool {
        self.decoding
            .scanning
            .as_ref()
            .is_some_and(|s| matches!(s.purpose, Purpose::Search { .. }))
    }

    /// Stops the scan running in the background, if any.
    pub(crate) fn stop_scan(&mut self) {
        if let Some(s) = self.decoding.scanning.take() {
            s.ticket.cancel();
        }
    }

    /// Scans frames `range` of `record` for `purpose`, by a job: waited for when the
    /// connection is small (the answer is returned), else left to run in the background
    /// (`None`; the answer is taken up by [`App::scanned_job`]).
    pub(crate) fn start_scan(
        &mut self,
        record: &Connection,
        range: (u32, u32),
        purpose: Purpose,
    ) -> Option<Option<u32>> {
        self.stop_scan();
        if self.decoding.jobs.index().is_none() {
            return Some(None);
        }
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
        let job = Job::Scan {
            record: record.clone(),
            range,
            forward,
            matcher,
        };
        let ticket = match self.decoding.jobs.start(job) {
            Ok(ticket) => ticket,
            Err(e) => {
                self.notice = Some(format!("could not start the search: {e}"));
                return None;
            }
        };
        if !self.in_background(record)
            && let Some(Done::Scanned { found, .. }) = self.wait_for(ticket.id)
        {
            return Some(found);
        }
        self.decoding.scanning = Some(BackgroundScan {
            purpose,
            flow_order: record.flow_order,
            label: super::docs::labels::label(record),
            last: range.1,
            ticket,
        });
        None
    }

    /// A scan in the background finished with `found` (or nothing): the search goes on
    /// or shows its match, the move goes to its frame.
    pub(crate) fn scanned_job(&mut self, id: JobId, found: Option<u32>, capture: &Capture) {
        let Some(s) = self.decoding.scanning.take_if(|s| s.ticket.id == id) else {
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
                let scan = scan.relisted(at, start, self.panes.order.len());
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
