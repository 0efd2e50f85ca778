//! Search as the user drives it: typing (incremental), confirming, cancelling back to
//! where it started, and n/N to the next and previous match.

use std::time::Instant;

use std::borrow::Cow;

use crate::model::{Capture, Connection};

use super::app::App;
use super::command::{Command, Mode};
use super::decoding::Purpose;
use super::docs;
use super::search::{self, Outcome, Pos, Scan, SearchSource, Walk};

/// What a search (n/N, Enter) looks through: connections in memory and compacted ones
/// decoded again, within the time budget (long ones are scanned part by part, see
/// [`App::go_on`]).
struct Searching<'a> {
    app: &'a App,
    /// Compacted connections may be decoded again (not while typing).
    reread: bool,
    started: Instant,
    /// Connections decoded again so far.
    decoded: usize,
}

impl Searching<'_> {
    /// One more connection is decoded again, unless the time is spent (at least one per
    /// search, so n always gets further).
    fn spend(&mut self) -> bool {
        if self.decoded > 0 && self.started.elapsed() >= self.app.search.budget {
            return false;
        }
        self.decoded += 1;
        true
    }
}

impl<'c> SearchSource<'c> for Searching<'c> {
    fn resolve(&mut self, record: &'c Connection) -> Option<Cow<'c, Connection>> {
        if self.reread && self.app.needs_reread(record) && !self.spend() {
            return None;
        }
        Some(self.app.searchable(record, self.reread))
    }

    fn shown_in_windows(&self, record: &Connection) -> bool {
        self.reread && self.app.shown_in_windows(record)
    }
}

impl App {
    pub(crate) fn search_command(&mut self, cmd: Command, capture: &Capture) {
        match cmd {
            Command::SearchStart => {
                self.mode = Mode::Search;
                self.search.input.clear();
                self.search.origin = Some((self.panes.conn, self.panes.frame));
            }
            Command::SearchChar(c) => {
                self.search.input.push(c);
                self.incremental(capture);
            }
            Command::SearchBackspace => {
                self.search.input.pop();
                self.incremental(capture);
            }
            Command::SearchClear => {
                self.search.input.clear();
                self.incremental(capture);
            }
            Command::SearchConfirm => {
                self.mode = Mode::Normal;
                self.search.origin = None;
                let input = std::mem::take(&mut self.search.input);
                if input.is_empty() {
                    self.search.query = None;
                    self.search.count = None;
                    return;
                }
                let needle = input.to_lowercase();
                // Counted in what is in memory: counting in every compacted connection
                // would decode the whole file again.
                let n = search::count(
                    capture,
                    &self.panes.order,
                    &self.filter,
                    &needle,
                    &mut |c| self.searchable(c, false),
                );
                let unsearched = self
                    .panes
                    .order
                    .iter()
                    .filter_map(|&i| capture.connections.get(i))
                    .filter(|c| self.needs_reread(c))
                    .count();
                self.search.query = Some(input);
                self.search.count = Some(n);
                if unsearched > 0 {
                    self.notice = Some(format!(
                        "{n} matches in the connections in memory; n/N also search the {unsearched} others, decoding them again from the file"
                    ));
                } else if n == 0 {
                    self.notice = Some(format!("no match for {needle:?}"));
                }
            }
            Command::SearchCancel => {
                self.mode = Mode::Normal;
                self.search.input.clear();
                self.restore_origin(capture);
                self.search.origin = None;
            }
            Command::NextMatch | Command::PrevMatch => match self.search.needle() {
                Some(needle) => self.find(&needle, cmd == Command::NextMatch, false, true, capture),
                None => self.notice = Some("no search yet: press / to search".into()),
            },
            _ => {}
        }
    }

    fn restore_origin(&mut self, capture: &Capture) {
        if let Some((conn, frame)) = self.search.origin {
            self.panes.conn = conn;
            self.sync(capture);
            if let Some(pos) = frame.and_then(|f| self.panes.visible.binary_search(&f).ok()) {
                self.select_frame_pos(pos, capture);
            }
        }
    }

    fn incremental(&mut self, capture: &Capture) {
        self.restore_origin(capture);
        let needle = self.search.input.to_lowercase();
        if !needle.is_empty() {
            // Typing searches what is in memory; Enter and n/N also decode compacted
            // connections again.
            self.find(&needle, true, true, false, capture);
        }
    }

    fn find(
        &mut self,
        needle: &str,
        forward: bool,
        inclusive: bool,
        reread: bool,
        capture: &Capture,
    ) {
        let mut walk = Walk::from(
            Pos {
                conn: self.conn_pos(capture).unwrap_or(0),
                frame: self.panes.frame,
            },
            forward,
            inclusive,
        );
        if let Some((resume, dir, at)) = self.search.resume.take()
            && resume == needle
            && dir == forward
        {
            // Forward from before its handshake; backward from after its last frame.
            let last = self
                .listed(at, capture)
                .map_or(0, |c| u32::try_from(c.frame_count()).unwrap_or(u32::MAX));
            walk = Walk::from(
                Pos {
                    conn: at,
                    frame: if forward { None } else { Some(last) },
                },
                forward,
                true,
            );
        }
        self.go_on(needle, walk, reread, capture);
    }

    /// Walks on with the search from `walk`: shows the match, says there is none, or
    /// scans the next long connection, in the background when it is large (and goes on
    /// from [`App::scanned_job`] once that is done).
    fn go_on(&mut self, needle: &str, mut walk: Walk, reread: bool, capture: &Capture) {
        // Decoding compacted connections again costs time: a search stops after a
        // second of it, and says where the next n goes on from.
        let started = Instant::now();
        let mut decoded = 0;
        loop {
            let mut source = Searching {
                app: self,
                reread,
                started,
                decoded,
            };
            let found = search::find(
                capture,
                &self.panes.order,
                &self.filter,
                needle,
                walk,
                &mut source,
            );
            decoded = source.decoded;
            let scan = match found {
                Outcome::Match(pos, wrapped) => {
                    return self.show_match(pos, wrapped, walk.forward, capture);
                }
                Outcome::NoMatch => {
                    self.notice = Some(format!("no match for {needle:?}"));
                    return;
                }
                Outcome::Stopped(at) => {
                    return self.stopped_at(needle, walk.forward, at, started, capture);
                }
                Outcome::Scan(scan) => scan,
            };
            let Some(record) = self.listed(scan.conn, capture) else {
                return;
            };
            if decoded > 0 && started.elapsed() >= self.search.budget && !self.in_background(record)
            {
                return self.stopped_at(needle, walk.forward, scan.conn, started, capture);
            }
            decoded += 1;
            let start_flow = self
                .listed(
                    walk.from.conn.min(self.panes.order.len().saturating_sub(1)),
                    capture,
                )
                .map_or(0, |c| c.flow_order);
            let purpose = Purpose::Search {
                needle: needle.to_string(),
                scan,
                start_flow,
            };
            match self.start_scan(record, scan.frames, purpose) {
                // Scanned at once: shown, or the walk goes on.
                Some(found) => match self.settle_scan(scan, found, capture) {
                    Some(next) => walk = next,
                    None => return,
                },
                // BackgroundScan in the background.
                None => return,
            }
        }
    }

    /// A long connection scanned for the search found `found` (or nothing): shows the
    /// match, or goes on with the walk after it.
    pub(crate) fn scanned(
        &mut self,
        needle: &str,
        scan: Scan,
        found: Option<u32>,
        capture: &Capture,
    ) {
        if let Some(next) = self.settle_scan(scan, found, capture) {
            self.go_on(needle, next, true, capture);
        }
    }

    /// Shows the match a scan found (a frame, or backwards the handshake after none);
    /// else the walk to go on with.
    fn settle_scan(&mut self, scan: Scan, found: Option<u32>, capture: &Capture) -> Option<Walk> {
        let frame = match found {
            Some(index) => Some(index),
            None if scan.handshake => None,
            None => return Some(scan.next),
        };
        self.show_match(
            Pos {
                conn: scan.conn,
                frame,
            },
            scan.wrapped,
            scan.next.forward,
            capture,
        );
        None
    }

    /// The search ran out of time before the connection at `at`: the next n (or N) goes
    /// on with it.
    fn stopped_at(
        &mut self,
        needle: &str,
        forward: bool,
        at: usize,
        started: Instant,
        capture: &Capture,
    ) {
        self.search.resume = Some((needle.to_string(), forward, at));
        let next = self
            .listed(at, capture)
            .map(docs::labels::label)
            .unwrap_or_default();
        self.notice = Some(format!(
            "no match for {needle:?} yet ({:.1} s spent decoding connections again); {} goes on from connection {next}",
            started.elapsed().as_secs_f64(),
            if forward { "n" } else { "N" }
        ));
    }

    /// Selects the match at `pos`, saying so when it is in a handshake or the search
    /// (`forward` or not) wrapped.
    fn show_match(&mut self, pos: Pos, wrapped: bool, forward: bool, capture: &Capture) {
        let long = self
            .listed(pos.conn, capture)
            .is_some_and(|c| self.shown_in_windows(c));
        if long {
            // Decoded again as the window around the match (in the background when
            // large), not from its first frame.
            self.select_conn(pos.conn, capture);
        } else {
            self.select_conn_now(pos.conn, capture);
        }
        match pos.frame {
            Some(index) => {
                if let Ok(p) = self.panes.visible.binary_search(&index) {
                    self.select_frame_pos(p, capture);
                } else if long {
                    self.go_past_window(index, capture);
                }
            }
            None => {
                let label = self
                    .connection(capture)
                    .map(docs::labels::label)
                    .unwrap_or_default();
                self.notice = Some(format!(
                    "match in the handshake of connection {label} (h shows it)"
                ));
            }
        }
        if wrapped && self.notice.is_none() {
            self.notice = Some(
                if forward {
                    "search wrapped to the start"
                } else {
                    "search wrapped to the end"
                }
                .into(),
            );
        }
    }
}
