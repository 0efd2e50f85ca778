//! Everything a viewer needs: connections with their handshake, frames, messages,
//! violations and warnings, plus capture-wide counts. Built incrementally by the
//! pipeline; read (never decoded again) by the TUI and the exporters.

mod build;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::analysis::Tally;
use crate::decode::SkipReason;
use crate::http::Handshake;
use crate::rules::{Violation, Warning};
use crate::source::Timestamp;

pub use crate::ws::record::{Dir, FrameRecord, MessageKind, MessageRecord};

/// Violations of one rule stored per connection; beyond it they are counted only.
pub const MAX_VIOLATIONS_PER_RULE: usize = 1000;

/// A broken protocol rule, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViolationRecord {
    /// The rule.
    pub rule: Violation,
    /// Who broke it (`None` for the handshake as a whole).
    pub dir: Option<Dir>,
    /// The frame that broke it.
    pub frame: Option<u32>,
    /// What exactly was seen.
    pub detail: String,
}

/// A capture problem, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarningRecord {
    /// What kind of problem.
    pub warning: Warning,
    /// Which direction's stream.
    pub dir: Option<Dir>,
    /// The frame concerned, if any.
    pub frame: Option<u32>,
    /// What exactly happened.
    pub detail: String,
}

/// How a connection ended, as far as the capture shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Still open at the end of the capture.
    Open,
    /// Both sides closed with FIN.
    Fin,
    /// A RST aborted it.
    Reset,
}

/// A WebSocket connection (an Upgrade attempted, or frames recognised without one).
#[derive(Clone, Debug)]
pub struct Connection {
    /// 1, 2, … in order of each connection's first packet (set by [`Capture::finish`];
    /// while a capture is still being read, the order in which connections were recognised).
    pub id: u32,
    /// Order of the TCP flow's first packet among all flows.
    pub flow_order: u64,
    /// The client's address.
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// Time of the flow's first packet.
    pub first_ts: Timestamp,
    /// Number of the flow's first packet.
    pub first_packet: u64,
    /// Time of the latest packet that carried data.
    pub last_ts: Timestamp,
    /// The opening handshake, if captured.
    pub handshake: Option<Handshake>,
    /// Recognised without a handshake (capture started mid-connection, or `--port`).
    pub midstream: bool,
    /// Every frame, both directions, in capture order.
    pub frames: Vec<FrameRecord>,
    /// Every message (data and control), in the order its first frame arrived.
    pub messages: Vec<MessageRecord>,
    /// Rules broken.
    pub violations: Vec<ViolationRecord>,
    /// Violations not stored because their rule reached [`MAX_VIOLATIONS_PER_RULE`], counted.
    pub suppressed: BTreeMap<Violation, u64>,
    /// Capture problems.
    pub warnings: Vec<WarningRecord>,
    /// TCP ending.
    pub ending: Ending,
    /// Bytes of TCP payload per direction (client, server).
    pub tcp_bytes: [u64; 2],
    /// Packets per direction (client, server).
    pub packets: [u64; 2],
    /// Bytes of link, IP and TCP headers per direction (client, server).
    pub header_bytes: [u64; 2],
    /// Set when `frames` and `messages` were dropped to save memory after the flow
    /// ended (the terminal UI on a file re-decodes them from the file when shown).
    pub compacted: Option<Compacted>,
    /// Streaming mode: the records handed out while the connection was open, before
    /// those in `frames` and `messages` ([`Connection::take_ended_records`]).
    pub handed_out: HandedOut,
    /// Set when `frames` and `messages` are a window into a longer connection decoded
    /// again (the terminal UI holds a bounded part of a long connection): what the
    /// whole connection has.
    pub window: Option<Box<Whole>>,
}

/// The whole of a connection of which only a window of records is held
/// ([`Connection::window`]).
#[derive(Clone, Debug, Default)]
pub struct Whole {
    /// Its frames.
    pub frames: usize,
    /// Its messages.
    pub messages: usize,
    /// Counts over all its frames and messages, in and out of the window.
    pub tally: Tally,
}

/// What a connection handed out in streaming mode, so counts and analyses still cover
/// its whole life.
#[derive(Clone, Debug, Default)]
pub struct HandedOut {
    /// Frames handed out (the first frame still held has index `frames + 1`).
    pub frames: usize,
    /// Messages handed out.
    pub messages: usize,
    /// Counts over the handed-out records.
    pub tally: Tally,
}

/// What a compacted connection still says about the frames and messages it dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compacted {
    /// How many frames it had.
    pub frames: usize,
    /// How many messages it had.
    pub messages: usize,
    /// Number of the flow's last packet (its packets lie between `first_packet` and this).
    pub last_packet: u64,
}

impl Connection {
    /// An empty connection record.
    pub fn new(
        client: SocketAddr,
        server: SocketAddr,
        flow_order: u64,
        first_packet: u64,
        first_ts: Timestamp,
    ) -> Self {
        Connection {
            id: 0,
            flow_order,
            client,
            server,
            first_ts,
            first_packet,
            last_ts: first_ts,
            handshake: None,
            midstream: false,
            frames: Vec::new(),
            messages: Vec::new(),
            violations: Vec::new(),
            suppressed: BTreeMap::new(),
            warnings: Vec::new(),
            ending: Ending::Open,
            tcp_bytes: [0; 2],
            packets: [0; 2],
            header_bytes: [0; 2],
            compacted: None,
            handed_out: HandedOut::default(),
            window: None,
        }
    }

    /// Frames seen, whether kept, handed out, compacted away or outside the window.
    pub fn frame_count(&self) -> usize {
        match (&self.compacted, &self.window) {
            (Some(c), _) => c.frames,
            (None, Some(w)) => w.frames,
            (None, None) => self.handed_out.frames + self.frames.len(),
        }
    }

    /// Messages seen, whether kept, handed out, compacted away or outside the window.
    pub fn message_count(&self) -> usize {
        match (&self.compacted, &self.window) {
            (Some(c), _) => c.messages,
            (None, Some(w)) => w.messages,
            (None, None) => self.handed_out.messages + self.messages.len(),
        }
    }

    /// The frame with 1-based `index`, if it is held here (not handed out, compacted
    /// away or outside the window).
    pub fn frame(&self, index: u32) -> Option<&FrameRecord> {
        let at = usize::try_from(index)
            .ok()?
            .checked_sub(1 + self.handed_out.frames)?;
        self.frames.get(at)
    }

    /// The message at `index` (0-based, counting those handed out), if it is held here.
    pub fn message(&self, index: usize) -> Option<&MessageRecord> {
        self.messages
            .get(index.checked_sub(self.handed_out.messages)?)
    }

    /// Indices of the first and last frame held, `None` when none is.
    pub fn held_frames(&self) -> Option<(u32, u32)> {
        Some((self.frames.first()?.index, self.frames.last()?.index))
    }

    /// The message frame `f` belongs to, if it is held here.
    pub fn message_of(&self, f: &FrameRecord) -> Option<&MessageRecord> {
        f.message.and_then(|m| self.message(m))
    }

    /// Counts over every frame and message of the connection, handed out or held;
    /// silences between frames longer than `idle_threshold` seconds are listed.
    pub fn tally(&self, idle_threshold: f64) -> Tally {
        if let Some(whole) = &self.window {
            return whole.tally.clone();
        }
        let mut tally = self.handed_out.tally.clone();
        tally.frames(&self.frames, idle_threshold);
        tally.messages(&self.messages);
        tally
    }

    /// Streaming mode: takes out the leading frames and messages that have ended, for
    /// output while the connection is still open, so a connection that lasts the whole
    /// capture does not hold all of its records. They go into [`HandedOut::tally`] first
    /// (silences longer than `idle_threshold` seconds are remembered for the heartbeat
    /// warnings). Returned as a connection record that holds only them, numbered like
    /// this one, or `None` when nothing at the front has ended.
    ///
    /// A frame is taken only with its message and a message only with all its frames,
    /// so output written from the part alone is complete. The decoders name records by
    /// index and ordinal, so they go on decoding into the records left.
    pub fn take_ended_records(&mut self, idle_threshold: f64) -> Option<Connection> {
        self.take_ended_records_within(idle_threshold, usize::MAX, usize::MAX)
    }

    /// Like [`Connection::take_ended_records`], taking at most the first `max_frames`
    /// frames and `max_messages` messages held (live output releases only what it wrote).
    pub fn take_ended_records_within(
        &mut self,
        idle_threshold: f64,
        max_frames: usize,
        max_messages: usize,
    ) -> Option<Connection> {
        let base = self.handed_out.messages;
        let message_ended = |f: &FrameRecord| {
            f.message
                .is_none_or(|m| m < base || self.messages.get(m - base).is_some_and(|m| m.ended))
        };
        let mut frames = self
            .frames
            .iter()
            .take(max_frames)
            .take_while(|f| f.ended && message_ended(f))
            .count();
        let messages = loop {
            // Messages whose frames are all among the first `frames`…
            let last_index = (self.handed_out.frames + frames) as u64;
            let messages = self
                .messages
                .iter()
                .take(max_messages)
                .take_while(|m| {
                    m.ended && m.frames.last().is_none_or(|&i| u64::from(i) <= last_index)
                })
                .count();
            // …and frames whose message goes with them.
            let kept = self.frames[..frames]
                .iter()
                .position(|f| f.message.is_some_and(|m| m >= base + messages))
                .unwrap_or(frames);
            if kept == frames {
                break messages;
            }
            frames = kept;
        };
        if frames == 0 && messages == 0 {
            return None;
        }
        let rest = self.frames.split_off(frames);
        let frames = std::mem::replace(&mut self.frames, rest);
        let rest = self.messages.split_off(messages);
        let messages = std::mem::replace(&mut self.messages, rest);
        self.handed_out.tally.frames(&frames, idle_threshold);
        self.handed_out.tally.messages(&messages);
        let mut part = Connection::new(
            self.client,
            self.server,
            self.flow_order,
            self.first_packet,
            self.first_ts,
        );
        part.id = self.id;
        part.handed_out.frames = self.handed_out.frames;
        part.handed_out.messages = self.handed_out.messages;
        self.handed_out.frames += frames.len();
        self.handed_out.messages += messages.len();
        part.frames = frames;
        part.messages = messages;
        Some(part)
    }

    /// Drops the frame and message records of a finished connection, keeping their
    /// counts and the flow's packet range so they can be decoded again from the file.
    /// What [`Connection::tally`] counts stays in the handed-out tally (silences longer
    /// than `idle_threshold` seconds listed), so the analyses need no second decode.
    pub fn compact(&mut self, last_packet: u64, idle_threshold: f64) {
        if self.compacted.is_some() {
            return;
        }
        self.compacted = Some(Compacted {
            frames: self.frame_count(),
            messages: self.message_count(),
            last_packet,
        });
        self.handed_out.tally.frames(&self.frames, idle_threshold);
        self.handed_out.tally.messages(&self.messages);
        self.frames = Vec::new();
        self.messages = Vec::new();
    }

    /// A compacted connection with its records decoded again (all of them, from the
    /// first): the opposite of [`Connection::compact`].
    pub fn restore(&mut self, frames: Vec<FrameRecord>, messages: Vec<MessageRecord>) {
        self.frames = frames;
        self.messages = messages;
        self.compacted = None;
        self.window = None;
        // The counts were kept for the records dropped; they are all here again.
        self.handed_out = HandedOut::default();
    }

    /// Records a violation. Past [`MAX_VIOLATIONS_PER_RULE`] of one rule, further ones
    /// are only counted in `suppressed` (a hostile stream cannot fill memory with them).
    pub fn violation(
        &mut self,
        rule: Violation,
        dir: Option<Dir>,
        frame: Option<u32>,
        detail: impl Into<String>,
    ) {
        if let Some(n) = self.suppressed.get_mut(&rule) {
            *n += 1;
            return;
        }
        if self.violations.iter().filter(|v| v.rule == rule).count() >= MAX_VIOLATIONS_PER_RULE {
            *self.suppressed.entry(rule).or_default() += 1;
            return;
        }
        self.violations.push(ViolationRecord {
            rule,
            dir,
            frame,
            detail: detail.into(),
        });
    }

    /// Records a warning.
    pub fn warning(
        &mut self,
        warning: Warning,
        dir: Option<Dir>,
        frame: Option<u32>,
        detail: impl Into<String>,
    ) {
        self.warnings.push(WarningRecord {
            warning,
            dir,
            frame,
            detail: detail.into(),
        });
    }

    /// Messages of one kind sent by one side.
    pub fn messages_from(&self, dir: Dir) -> impl Iterator<Item = &MessageRecord> {
        self.messages.iter().filter(move |m| m.dir == dir)
    }

    /// True when the handshake was accepted and every check passed, and no frame broke a rule.
    pub fn clean(&self) -> bool {
        self.violations.is_empty() && self.handshake.as_ref().is_none_or(|h| h.valid)
    }
}

/// What kind of TCP flow it was, for the summary's counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowKind {
    /// A WebSocket connection (upgrade attempted or frames recognised).
    WebSocket,
    /// Plain HTTP/1.x without an upgrade.
    PlainHttp,
    /// Something else (or nothing: a flow without payload).
    Other,
}

/// Capture-wide counts.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Packets read.
    pub packets: u64,
    /// Bytes of packet data read.
    pub bytes: u64,
    /// Packets that carried a TCP segment.
    pub tcp_packets: u64,
    /// Packets not used, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// TCP flows by kind.
    pub flows: BTreeMap<FlowKind, u64>,
    /// Time of the first and last packet.
    pub first_ts: Option<Timestamp>,
    /// Time of the last packet.
    pub last_ts: Option<Timestamp>,
    /// pcapng blocks without packets that were skipped.
    pub skipped_blocks: u64,
}

/// The decoded capture.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    /// WebSocket connections, ordered by first packet once finished.
    pub connections: Vec<Connection>,
    /// Counts.
    pub stats: Stats,
    /// Capture-level problems (limits, a truncated file).
    pub notes: Vec<String>,
    /// The reader stopped on an error (truncated or corrupt file): what it said.
    pub source_error: Option<String>,
}

impl Capture {
    /// Orders connections by their first packet and numbers them 1, 2, …
    pub fn finish(&mut self) {
        self.connections.sort_by_key(|c| c.flow_order);
        for (i, c) in self.connections.iter_mut().enumerate() {
            c.id = i as u32 + 1;
        }
    }

    /// Total violations over all connections.
    pub fn violation_count(&self) -> usize {
        self.connections.iter().map(|c| c.violations.len()).sum()
    }

    /// Total frames over all connections.
    pub fn frame_count(&self) -> usize {
        self.connections.iter().map(Connection::frame_count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(index: u32, dir: Dir, message: Option<usize>, ended: bool) -> FrameRecord {
        FrameRecord::for_test(index, dir, message, ended)
    }

    fn message(dir: Dir, frames: Vec<u32>, ended: bool) -> MessageRecord {
        MessageRecord {
            dir,
            ts: Timestamp::default(),
            end_ts: Timestamp::default(),
            kind: MessageKind::Text,
            len: 0,
            wire_len: 0,
            sha256: None,
            compressed: false,
            frames: frames.into(),
            data: Vec::new(),
            complete: true,
            data_cut: false,
            finished: ended,
            ended,
            close_code: None,
            close_reason: None,
        }
    }

    fn conn() -> Connection {
        let a = "127.0.0.1:1".parse().unwrap_or_else(|_| unreachable!());
        Connection::new(a, a, 0, 0, Timestamp::default())
    }

    #[test]
    fn a_frame_waits_for_every_frame_of_its_message() {
        // Server message 0 in frames 1 and 3; client frame 2 (message 1) still arriving.
        let mut c = conn();
        c.frames = vec![
            frame(1, Dir::Server, Some(0), true),
            frame(2, Dir::Client, Some(1), false),
            frame(3, Dir::Server, Some(0), true),
        ];
        c.messages = vec![
            message(Dir::Server, vec![1, 3], true),
            message(Dir::Client, vec![2], false),
        ];
        assert!(c.take_ended_records(60.0).is_none());
        // Frame 2 ends: everything goes, and the counts say so.
        c.frames[1].ended = true;
        c.messages[1].ended = true;
        let part = c
            .take_ended_records(60.0)
            .unwrap_or_else(|| panic!("nothing handed out"));
        assert_eq!((part.frames.len(), part.messages.len()), (3, 2));
        assert_eq!((c.handed_out.frames, c.handed_out.messages), (3, 2));
        assert_eq!((c.frame_count(), c.message_count()), (3, 2));
        assert_eq!(c.tally(60.0).frames, [1, 2]);
    }

    #[test]
    fn a_message_waits_for_its_frames_and_later_frames_find_theirs() {
        // Message 0 (frames 1, 2) ended; message 1 (frame 3) still open.
        let mut c = conn();
        c.frames = vec![
            frame(1, Dir::Server, Some(0), true),
            frame(2, Dir::Server, Some(0), true),
            frame(3, Dir::Server, Some(1), false),
        ];
        c.messages = vec![
            message(Dir::Server, vec![1, 2], true),
            message(Dir::Server, vec![3], false),
        ];
        let part = c
            .take_ended_records(60.0)
            .unwrap_or_else(|| panic!("nothing handed out"));
        assert_eq!((part.frames.len(), part.messages.len()), (2, 1));
        assert!(part.frames.iter().all(|f| part.message_of(f).is_some()));
        // The frame left behind still finds its message, now first in the list.
        assert_eq!(c.frames.len(), 1);
        assert!(
            c.message_of(&c.frames[0])
                .is_some_and(|m| m.frames.as_slice() == [3])
        );
    }
}
