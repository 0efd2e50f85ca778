//! Search as the user drives it: typing (incremental), confirming, cancelling back to
//! where it started, and n/N to the next and previous match.

use std::time::Instant;

use std::borrow::Cow;

use crate::model::{Capture, Connection, FrameRecord};
use crate::reread::FileIndex;

use super::app::App;
use super::command::{Command, Mode};
use super::filter::FrameTest;
use super::search::{self, Outcome, Pos, SearchSource};
use super::views;

/// What a search (n/N, Enter) looks through: connections in memory, compacted ones
/// decoded again, long ones scanned part by part; within the time budget.
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
        if self.decoded > 0 && self.started.elapsed() >= self.app.search_budget {
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

    fn long(&self, record: &Connection) -> bool {
        self.reread && self.app.long(record)
    }

    fn scan(
        &mut self,
        record: &'c Connection,
        test: &FrameTest<'_>,
        needle: &str,
        (lo, hi): (u32, u32),
        forward: bool,
    ) -> Option<Option<u32>> {
        if !self.spend() {
            return None;
        }
        let index = self.app.index.as_ref()?;
        Some(scan_for(
            index,
            record,
            (lo, hi),
            forward,
            &mut |part, f| test.accepts(part, f) && search::frame_matches(part, f, needle),
        ))
    }
}

/// Reads the long connection `record` again part by part: the first (`forward`) or
/// last frame index in `lo..=hi` that `accept` takes (with the part it is in, which
/// holds its message). A connection that cannot be read again gives none.
fn scan_for(
    index: &FileIndex,
    record: &Connection,
    (lo, hi): (u32, u32),
    forward: bool,
    accept: &mut dyn FnMut(&Connection, &FrameRecord) -> bool,
) -> Option<u32> {
    let mut found = None;
    let scanned = index.scan(record, None, &mut |part| {
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
    /// The frame of the selected long connection nearest to `wanted` that passes the
    /// filter: the first at or after it (`forward`), or the last at or before it.
    pub(crate) fn passing_frame(
        &self,
        wanted: u32,
        forward: bool,
        capture: &Capture,
    ) -> Option<u32> {
        let record = self.record(capture)?;
        let index = self.index.as_ref()?;
        let needle = self.search.needle();
        let test = FrameTest::new(&self.filter, record, needle.as_deref());
        let total = u32::try_from(record.frame_count()).unwrap_or(u32::MAX);
        let range = if forward {
            (wanted, total)
        } else {
            (1, wanted)
        };
        scan_for(index, record, range, forward, &mut |part, f| {
            test.accepts(part, f)
        })
    }

    pub(crate) fn search_command(&mut self, cmd: Command, capture: &Capture) {
        match cmd {
            Command::SearchStart => {
                self.mode = Mode::Search;
                self.search.input.clear();
                self.search_origin = Some((self.conn, self.frame));
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
                self.search_origin = None;
                let input = std::mem::take(&mut self.search.input);
                if input.is_empty() {
                    self.search.query = None;
                    self.search.count = None;
                    return;
                }
                let needle = input.to_lowercase();
                // Counted in what is in memory: counting in every compacted connection
                // would decode the whole file again.
                let n = search::count(capture, &self.order, &self.filter, &needle, &mut |c| {
                    self.searchable(c, false)
                });
                let unsearched = self
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
                self.search_origin = None;
            }
            Command::NextMatch | Command::PrevMatch => match self.search.needle() {
                Some(needle) => self.find(&needle, cmd == Command::NextMatch, false, true, capture),
                None => self.notice = Some("no search yet: press / to search".into()),
            },
            _ => {}
        }
    }

    fn restore_origin(&mut self, capture: &Capture) {
        if let Some((conn, frame)) = self.search_origin {
            self.conn = conn;
            self.sync(capture);
            if let Some(pos) = frame.and_then(|f| self.visible.binary_search(&f).ok()) {
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
        let mut from = Pos {
            conn: self.conn_pos(capture).unwrap_or(0),
            frame: self.frame,
        };
        let mut inclusive = inclusive;
        if let Some((resume, dir, at)) = self.search_resume.take()
            && resume == needle
            && dir == forward
        {
            // Forward from before its handshake; backward from after its last frame.
            let last = self
                .order
                .get(at)
                .and_then(|&i| capture.connections.get(i))
                .map_or(0, |c| u32::try_from(c.frame_count()).unwrap_or(u32::MAX));
            from = Pos {
                conn: at,
                frame: if forward { None } else { Some(last) },
            };
            inclusive = true;
        }
        // Decoding compacted connections again costs time: a search stops after a
        // second of it, and says where the next n goes on from.
        let started = Instant::now();
        let found = search::find(
            capture,
            &self.order,
            &self.filter,
            needle,
            from,
            forward,
            inclusive,
            &mut Searching {
                app: self,
                reread,
                started,
                decoded: 0,
            },
        );
        let (pos, wrapped) = match found {
            Outcome::Match(pos, wrapped) => (pos, wrapped),
            Outcome::NoMatch => {
                self.notice = Some(format!("no match for {needle:?}"));
                return;
            }
            Outcome::Stopped(at) => {
                // The next n (or N) goes on with the connection not searched.
                self.search_resume = Some((needle.to_string(), forward, at));
                let next = self
                    .order
                    .get(at)
                    .and_then(|&i| capture.connections.get(i))
                    .map(views::connections::label)
                    .unwrap_or_default();
                self.notice = Some(format!(
                    "no match for {needle:?} yet ({:.1} s spent decoding connections again); {} goes on from connection {next}",
                    started.elapsed().as_secs_f64(),
                    if forward { "n" } else { "N" }
                ));
                return;
            }
        };
        let long = self
            .order
            .get(pos.conn)
            .and_then(|&i| capture.connections.get(i))
            .is_some_and(|c| self.long(c));
        if long {
            // Decoded again as the window around the match (in the background when
            // large), not from its first frame.
            self.select_conn(pos.conn, capture);
        } else {
            self.select_conn_now(pos.conn, capture);
        }
        match pos.frame {
            Some(index) => {
                if let Ok(p) = self.visible.binary_search(&index) {
                    self.select_frame_pos(p, capture);
                } else if long {
                    self.go_past_window(index, capture);
                }
            }
            None => {
                let label = self
                    .connection(capture)
                    .map(views::connections::label)
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
