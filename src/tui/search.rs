//! Search: payload text (after unmasking and decompression), opcode names, and the
//! handshake's header lines. Case-insensitive. Matches are found from a position
//! forwards or backwards, across connections, wrapping once.

use std::borrow::Cow;

use crate::model::{Capture, Connection};

use super::filter::{Filter, FrameTest};
use super::matching::{frame_matches, handshake_matches};

/// Search state: the line being typed, the confirmed query, and where a search
/// started and stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search {
    /// The text being typed (search mode).
    pub input: String,
    /// The confirmed query, as typed.
    pub query: Option<String>,
    /// Matches of the confirmed query when it was confirmed.
    pub count: Option<usize>,
    /// Where the selection was when typing began (Esc goes back there).
    pub(crate) origin: Option<(Option<u64>, Option<u32>)>,
    /// A search stopped for time: its needle, direction and the connection to go on with.
    pub(crate) resume: Option<(String, bool, usize)>,
    /// Time one search (n/N) may spend decoding compacted connections again before it
    /// stops and says where the next one goes on (at least one is always decoded).
    pub budget: std::time::Duration,
}

impl Default for Search {
    fn default() -> Self {
        Search {
            input: String::new(),
            query: None,
            count: None,
            origin: None,
            resume: None,
            budget: std::time::Duration::from_secs(1),
        }
    }
}

impl Search {
    /// The confirmed query lower-cased, for matching.
    pub fn needle(&self) -> Option<String> {
        self.query.as_deref().map(str::to_lowercase)
    }
}

/// A place a match can be: a connection (by position in the sorted list) and a frame
/// index, or `None` for the connection's handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    /// Position in the connection list.
    pub conn: usize,
    /// Frame index (1-based), or `None` for the handshake.
    pub frame: Option<u32>,
}

fn matches_at(conn: &Connection, test: &FrameTest<'_>, k: usize, needle: &str) -> bool {
    if k == 0 {
        return handshake_matches(conn, needle);
    }
    u32::try_from(k)
        .ok()
        .and_then(|k| conn.frame(k))
        .is_some_and(|f| test.accepts(conn, f) && frame_matches(conn, f, needle))
}

/// Index of the last frame held in memory (0 when none is): frames before the first
/// held one are not found by [`Connection::frame`] and never match.
fn last_held(conn: &Connection) -> usize {
    conn.held_frames().map_or(0, |(_, last)| last as usize)
}

/// Where [`find`] gets the frames of each connection.
pub trait SearchSource<'c> {
    /// The connection to search for `record`: the record itself, or for a compacted one
    /// its frames decoded again (see [`crate::reread`]); `None` when the search has spent
    /// its time, and stops there.
    fn resolve(&mut self, record: &'c Connection) -> Option<Cow<'c, Connection>>;

    /// `record` is too long to hold: [`find`] stops there with [`Outcome::Scan`], for
    /// the caller to read it part by part ([`crate::reread::FileIndex::scan`]).
    fn shown_in_windows(&self, record: &Connection) -> bool;
}

/// The positions (0 for the handshake, else a frame index) that step `step` of [`find`]
/// searches in a connection whose last position is `last`, as inclusive bounds; `None`
/// when there are none.
fn bounds(
    step: usize,
    steps: usize,
    forward: bool,
    start: usize,
    skip: usize,
    last: usize,
) -> Option<(usize, usize)> {
    let (lo, hi) = match (step, forward) {
        (0, true) => (start + skip, last),
        (0, false) => (0, (start + 1).checked_sub(skip + 1)?),
        (s, true) if s == steps => (0, (start + skip).min(last + 1).checked_sub(1)?),
        (s, false) if s == steps => (start + 1 - skip, last),
        _ => (0, last),
    };
    (lo <= hi).then_some((lo, hi))
}

/// Where [`find`] walks from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walk {
    /// The position the search starts at.
    pub from: Pos,
    /// Forwards (n) or backwards (N).
    pub forward: bool,
    /// `from` itself may match.
    pub inclusive: bool,
    /// Connections already passed: 0 for a new search, more when one goes on after a
    /// long connection was scanned ([`Scan::next`]).
    pub step: usize,
}

impl Walk {
    /// A new search from `from`.
    pub fn from(from: Pos, forward: bool, inclusive: bool) -> Self {
        Walk {
            from,
            forward,
            inclusive,
            step: 0,
        }
    }
}

/// A long connection [`find`] reached: its frames are to be read again part by part,
/// which can take seconds, so the caller does it (on a background thread) and then goes
/// on with [`Scan::next`] when none matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scan {
    /// The connection's position in the list.
    pub conn: usize,
    /// The frame indices to look at, inclusive: the first (forwards) or last one that
    /// passes the filter and matches is the match.
    pub frames: (u32, u32),
    /// Backwards, its handshake matches: the match when no frame does.
    pub handshake: bool,
    /// A match here is past the end (or start) of the list: the search wrapped.
    pub wrapped: bool,
    /// The walk on from the next connection.
    pub next: Walk,
}

impl Scan {
    /// The same scan once the list has changed under it (connections are listed as
    /// their handshakes are read, in order of their first packets, so an earlier one
    /// can come in between): the connection scanned is now at `at`, the one the search
    /// started in at `start`, of `n`. The walk goes on from the same connections.
    pub fn relisted(self, at: usize, start: usize, n: usize) -> Scan {
        let forward = self.next.forward;
        let step = if self.next.step <= 1 {
            // The start's own frames after the position (step 0).
            0
        } else if at == start {
            // The start's frames before the position, last in the walk.
            n
        } else if forward {
            (at + n - start) % n
        } else {
            (start + n - at) % n
        };
        let wrapped = step > 0 && if forward { at <= start } else { at >= start };
        Scan {
            conn: at,
            wrapped,
            next: Walk {
                from: Pos {
                    conn: start,
                    ..self.next.from
                },
                step: step + 1,
                ..self.next
            },
            ..self
        }
    }
}

/// Finds the next (or previous) match from `walk.from`, skipping frames the filter
/// hides; `walk.inclusive` lets `from` itself match. Returns the match and whether the
/// search wrapped past the end (or start), or the long connection to scan before going
/// on. `source` gives each connection's frames.
pub fn find<'c>(
    capture: &'c Capture,
    order: &[usize],
    filter: &Filter,
    needle: &str,
    walk: Walk,
    source: &mut dyn SearchSource<'c>,
) -> Outcome {
    let Walk {
        from,
        forward,
        inclusive,
        ..
    } = walk;
    let n = order.len();
    if n == 0 || needle.is_empty() {
        return Outcome::NoMatch;
    }
    let start_conn = from.conn.min(n - 1);
    let start_k = from.frame.map_or(0, |f| f as usize);
    // The filter's own "matching" flag is irrelevant here: every hit is a match.
    let filter = Filter {
        matching: false,
        ..filter.clone()
    };
    for step in walk.step..=n {
        let ci = if forward {
            (start_conn + step) % n
        } else {
            (start_conn + n * 2 - step) % n
        };
        let Some(record) = order.get(ci).and_then(|&i| capture.connections.get(i)) else {
            continue;
        };
        let skip = usize::from(!inclusive);
        let wrapped = step > 0
            && if forward {
                ci <= start_conn
            } else {
                ci >= start_conn
            };
        let found = if source.shown_in_windows(record) {
            let Some((lo, hi)) = bounds(step, n, forward, start_k, skip, record.frame_count())
            else {
                continue;
            };
            let handshake = lo == 0 && handshake_matches(record, needle);
            if forward && handshake {
                return Outcome::Match(
                    Pos {
                        conn: ci,
                        frame: None,
                    },
                    wrapped,
                );
            }
            let frames = (
                u32::try_from(lo.max(1)).unwrap_or(u32::MAX),
                u32::try_from(hi).unwrap_or(u32::MAX),
            );
            if frames.0 <= frames.1 {
                return Outcome::Scan(Scan {
                    conn: ci,
                    frames,
                    handshake,
                    wrapped,
                    next: Walk {
                        step: step + 1,
                        ..walk
                    },
                });
            }
            handshake.then_some(0)
        } else {
            let Some(conn) = source.resolve(record) else {
                return Outcome::Stopped(ci);
            };
            let conn = &*conn;
            let test = FrameTest::new(&filter, conn, None);
            bounds(step, n, forward, start_k, skip, last_held(conn)).and_then(|(lo, hi)| {
                if forward {
                    (lo..=hi).find(|&k| matches_at(conn, &test, k, needle))
                } else {
                    (lo..=hi)
                        .rev()
                        .find(|&k| matches_at(conn, &test, k, needle))
                }
            })
        };
        if let Some(k) = found {
            let frame = (k > 0).then_some(k as u32);
            return Outcome::Match(Pos { conn: ci, frame }, wrapped);
        }
    }
    Outcome::NoMatch
}

/// What [`find`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A match, and whether the search wrapped past the end (or start).
    Match(Pos, bool),
    /// No match anywhere.
    NoMatch,
    /// Out of time before the connection at this position in the list (not searched).
    Stopped(usize),
    /// A long connection to read again part by part before the search can go on.
    Scan(Scan),
}

/// How many handshakes and frames (passing the filter) match `needle` in the connections
/// `resolve` gives (a record itself, or a compacted one decoded again).
pub fn count<'c>(
    capture: &'c Capture,
    order: &[usize],
    filter: &Filter,
    needle: &str,
    resolve: &mut dyn FnMut(&'c Connection) -> Cow<'c, Connection>,
) -> usize {
    let filter = Filter {
        matching: false,
        ..filter.clone()
    };
    order
        .iter()
        .filter_map(|&i| capture.connections.get(i))
        .map(|record| {
            let conn = &*resolve(record);
            let test = FrameTest::new(&filter, conn, None);
            (0..=last_held(conn))
                .filter(|&k| matches_at(conn, &test, k, needle))
                .count()
        })
        .sum()
}
