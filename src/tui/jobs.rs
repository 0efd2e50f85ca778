//! Decode jobs: the UI's work that reads the capture file again, each on a thread of its
//! own, so the UI thread never decodes. A job decodes a compacted connection again
//! (whole, or the window of a long one around a frame) or scans a long one part by part
//! for a frame (a search match, the nearest frame that passes the filter). It ends by
//! handing its [`Done`] to the reply it was started with (the UI's event channel,
//! [`super::event`]); a [`Ticket`] lets the UI stop it and see how far it got.
//!
//! Nothing here knows the UI's state: the App decides when to start a job and what its
//! result means (`app_reread`, `app_scan`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::model::{Connection, FrameRecord};
use crate::reread::{FileIndex, RereadError, Watch};
use crate::rules::Warning;

use super::filter::{Filter, FrameTest};
use super::matching;

/// Which job a result is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JobId(u64);

/// Work to do off the UI thread.
#[derive(Clone, Debug)]
pub enum Job {
    /// Decode `record`, a compacted connection of the file, again: whole, or (when it is
    /// longer than a window holds, [`windowed`]) the window around frame `around`.
    Decode {
        /// The compacted record.
        record: Connection,
        /// The frame a window is wanted around.
        around: u32,
    },
    /// Read the long connection `record` again part by part for the first (`forward`) or
    /// last frame in `range` (inclusive) that `matcher` takes.
    Scan {
        /// The compacted record.
        record: Connection,
        /// Frame indices to look at.
        range: (u32, u32),
        /// The first frame wanted (else the last).
        forward: bool,
        /// What a frame must be.
        matcher: Matcher,
    },
}

/// What a job found, handed to its reply.
#[derive(Debug)]
pub enum Done {
    /// A connection decoded again (or why it could not be).
    Decoded {
        /// The job.
        id: JobId,
        /// The connection with its records, or the error.
        result: Result<Box<Connection>, String>,
    },
    /// A scan's answer: the frame found, if any (none also when stopped or unreadable).
    Scanned {
        /// The job.
        id: JobId,
        /// The frame's index.
        found: Option<u32>,
    },
}

impl Done {
    /// The job it is for.
    pub fn id(&self) -> JobId {
        match self {
            Done::Decoded { id, .. } | Done::Scanned { id, .. } => *id,
        }
    }
}

/// What a scan tests each frame with: the filter (prepared for the connection by
/// [`FrameTest::new`] with `filter_needle`) and, for a search, the text to match.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// The frame filter.
    pub filter: Filter,
    /// The search the filter's "matching" flag refers to.
    pub filter_needle: Option<String>,
    /// For a search: the lower-cased text a frame must contain.
    pub text: Option<String>,
}

/// A job started: how to stop it and how far it got.
#[derive(Clone, Debug)]
pub struct Ticket {
    /// The job.
    pub id: JobId,
    /// Stops it ([`Watch::cancel`]); tells the packet it reached.
    pub watch: Arc<Watch>,
    /// A scan: the last frame index read so far.
    pub reached: Arc<AtomicU32>,
}

impl Ticket {
    /// Asks the job to stop; its result, if it still comes, is for nobody.
    pub fn cancel(&self) {
        self.watch.cancel.store(true, Ordering::Relaxed);
    }
}

/// Where a job's result goes.
pub type Reply = Arc<dyn Fn(Done) + Send + Sync>;

/// Starts jobs over one capture file.
pub struct Jobs {
    index: Option<Arc<FileIndex>>,
    reply: Reply,
    /// The last job's number (a job may be started through a shared borrow of the UI
    /// state, as search does).
    next: std::cell::Cell<u64>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("index", &self.index.is_some())
            .field("next", &self.next.get())
            .finish()
    }
}

impl Jobs {
    /// Jobs whose results go to `reply`, over no file yet.
    pub fn new(reply: Reply) -> Self {
        Jobs {
            index: None,
            reply,
            next: std::cell::Cell::new(0),
        }
    }

    /// The capture file's index, when its finished connections are compacted: jobs read
    /// it again.
    pub fn index(&self) -> Option<&Arc<FileIndex>> {
        self.index.as_ref()
    }

    /// Reads connections again from the file `index` describes.
    pub fn set_index(&mut self, index: Option<Arc<FileIndex>>) {
        self.index = index;
    }

    /// Starts `job` on a thread of its own. `Err` when there is no file to read again,
    /// or no thread could be started.
    pub fn start(&self, job: Job) -> Result<Ticket, String> {
        let Some(index) = self.index.clone() else {
            return Err("no capture file to read again".into());
        };
        self.next.set(self.next.get() + 1);
        let ticket = Ticket {
            id: JobId(self.next.get()),
            watch: Arc::new(Watch::default()),
            reached: Arc::new(AtomicU32::new(0)),
        };
        let (id, watch, reached) = (ticket.id, ticket.watch.clone(), ticket.reached.clone());
        let reply = self.reply.clone();
        let name = match &job {
            Job::Decode { .. } => "wsscope-reread",
            Job::Scan { .. } => "wsscope-scan",
        };
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let done = match job {
                    Job::Decode { record, around } => Done::Decoded {
                        id,
                        result: decoded_again(&index, &record, around, Some(&watch))
                            .map(Box::new)
                            .map_err(|e| e.to_string()),
                    },
                    Job::Scan {
                        record,
                        range,
                        forward,
                        matcher,
                    } => Done::Scanned {
                        id,
                        found: scan_for(
                            &index, &record, range, forward, &matcher, &watch, &reached,
                        ),
                    },
                };
                reply(done);
            })
            .map_err(|e| e.to_string())?;
        Ok(ticket)
    }
}

/// `record` has more frames, or more bytes, than a window holds: it is shown a window
/// at a time.
pub fn windowed(index: &FileIndex, record: &Connection) -> bool {
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

/// Reads the long connection `record` again part by part: the first (`forward`) or
/// last frame index in `lo..=hi` that `matcher` takes. `reached` follows the reading;
/// a scan stopped by `cancel`, or of a connection that cannot be read again, finds none.
fn scan_for(
    index: &FileIndex,
    record: &Connection,
    (lo, hi): (u32, u32),
    forward: bool,
    matcher: &Matcher,
    cancel: &Watch,
    reached: &AtomicU32,
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
    let scanned = index.scan(record, Some(cancel), &mut |part| {
        if let Some(f) = part.frames.last() {
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
