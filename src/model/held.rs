//! Which part of a connection's frame and message records is in memory.
//!
//! A connection's records are numbered for its whole life: frames 1, 2, … (both
//! directions, in capture order), messages by ordinal 0, 1, … (in the order their first
//! frames arrived). Memory holds one run of them, `frames` and `messages` of
//! [`Connection`]; [`Held`] says where that run lies in the whole:
//!
//! - records before it have left memory: handed out to streaming output while the
//!   connection was open, released once live output wrote them, dropped from a long
//!   connection still open in the terminal UI, or all of them once its flow ended
//!   ([`Extent::Dropped`]: the UI decodes them again from the capture when shown);
//! - records after it exist only for a window of a long connection decoded again
//!   ([`Extent::Window`]), which holds a bounded run in the middle.
//!
//! Invariants (the oracle test in `tests` checks them on random sequences):
//! 1. The frames held have the indices `before.frames + 1 ..= before.frames + frames.len()`,
//!    in order; the messages held have the ordinals `before.messages ..` likewise.
//! 2. [`Held::frame_count`] and [`Held::message_count`] are the connection's whole counts:
//!    records before, held, and (for a window) after.
//! 3. Records leave only from the front, a frame only with its message and a message only
//!    with all its frames: every frame held has its message held, and in a tail every
//!    message held has all its frames held (or still to come). A window may hold a
//!    message whose first frames lie before it.
//! 4. `tally` counts exactly the records that are not held, so a tally fed the held
//!    records on top covers the whole connection; for a window, it counts the whole
//!    connection already and the held records are not added.

use super::tally::Tally;
use super::{Connection, FrameRecord, MessageRecord};

/// How many frames and messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Frames.
    pub frames: usize,
    /// Messages.
    pub messages: usize,
}

/// What the records held are, relative to the whole connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Extent {
    /// Every record from `before` on, as decoded so far (records may still be added).
    #[default]
    Tail,
    /// None: the flow has ended and every record left memory. They can be decoded
    /// again from the flow's packets, which end at packet `last_packet`.
    Dropped {
        /// Number of the flow's last packet.
        last_packet: u64,
    },
    /// A window of a connection decoded again, which has `total` records in all.
    Window {
        /// The whole connection's counts.
        total: Counts,
    },
}

/// Where the records in memory lie in the whole connection (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct Held {
    /// Records before the first one held.
    pub before: Counts,
    /// What the records held are.
    pub extent: Extent,
    /// Counts over the records not held (for a window: over the whole connection).
    pub tally: Tally,
}

impl Held {
    /// The connection's frames, when `held` of them are in memory.
    pub fn frame_count(&self, held: usize) -> usize {
        match self.extent {
            Extent::Window { total } => total.frames,
            Extent::Tail | Extent::Dropped { .. } => self.before.frames + held,
        }
    }

    /// The connection's messages, when `held` of them are in memory.
    pub fn message_count(&self, held: usize) -> usize {
        match self.extent {
            Extent::Window { total } => total.messages,
            Extent::Tail | Extent::Dropped { .. } => self.before.messages + held,
        }
    }

    /// Position in memory of frame `index`, if it comes at or after the first one held.
    pub fn frame_position(&self, index: u32) -> Option<usize> {
        usize::try_from(index)
            .ok()?
            .checked_sub(1 + self.before.frames)
    }

    /// Position in memory of message `ordinal`, if it comes at or after the first one held.
    pub fn message_position(&self, ordinal: usize) -> Option<usize> {
        ordinal.checked_sub(self.before.messages)
    }

    /// The index the next frame decoded gets, when `held` frames are in memory.
    pub fn next_frame_index(&self, held: usize) -> u32 {
        (self.before.frames + held + 1) as u32
    }

    /// The ordinal of the message at `position` in memory.
    pub fn message_ordinal(&self, position: usize) -> usize {
        self.before.messages + position
    }

    /// The flow has ended and its records were dropped: the number of its last packet.
    pub fn dropped(&self) -> Option<u64> {
        match self.extent {
            Extent::Dropped { last_packet } => Some(last_packet),
            Extent::Tail | Extent::Window { .. } => None,
        }
    }

    /// The records held are a window of a longer connection decoded again.
    pub fn is_window(&self) -> bool {
        matches!(self.extent, Extent::Window { .. })
    }

    /// Some records of a connection still decoding have left memory (handed out,
    /// released, or dropped from a long open connection).
    pub fn some_left(&self) -> bool {
        self.extent == Extent::Tail && self.before.frames > 0
    }
}

/// What a connection hands out of its records, in order: streaming output takes them
/// from [`crate::Pipeline::take_handouts`].
#[derive(Debug)]
pub enum Handout {
    /// Ended frames and messages of a connection still open
    /// ([`Connection::take_ended_records`]): a record holding only them, with the
    /// connection's `flow_order` and its `id` (0 while it has no number yet). Every part
    /// of a connection comes before the connection itself.
    Part(Connection),
    /// A connection whose flow ended, settled and numbered, holding the records not
    /// handed out before.
    Finished(Connection),
}

/// What a connection holds, and the records leaving and coming back.
impl Connection {
    /// Frames seen, whether in memory or not ([`Held::frame_count`]).
    pub fn frame_count(&self) -> usize {
        self.held.frame_count(self.frames.len())
    }

    /// Messages seen, whether in memory or not ([`Held::message_count`]).
    pub fn message_count(&self) -> usize {
        self.held.message_count(self.messages.len())
    }

    /// The frame with 1-based `index`, if it is in memory.
    pub fn frame(&self, index: u32) -> Option<&FrameRecord> {
        self.frames.get(self.held.frame_position(index)?)
    }

    /// The message with `ordinal` (0-based, counting those not in memory), if it is in
    /// memory.
    pub fn message(&self, ordinal: usize) -> Option<&MessageRecord> {
        self.messages.get(self.held.message_position(ordinal)?)
    }

    /// Frames decoded so far: those that left memory and those held.
    pub fn frames_decoded(&self) -> usize {
        self.held.before.frames + self.frames.len()
    }

    /// The frames in memory past the first `decoded` frames of the connection.
    pub fn frames_after(&self, decoded: usize) -> &[FrameRecord] {
        let from = decoded.saturating_sub(self.held.before.frames);
        self.frames.get(from..).unwrap_or(&[])
    }

    /// Frame `index` comes before the frames in memory (it left memory).
    pub fn frame_before_held(&self, index: u32) -> bool {
        (index as usize) <= self.held.before.frames
    }

    /// Frame `index` left memory while the connection was being decoded (it was handed
    /// out, or a long connection still open dropped it), and was not dropped with the
    /// rest when the flow ended.
    pub fn frame_left_early(&self, index: u32) -> bool {
        self.held.dropped().is_none() && self.frame_before_held(index)
    }

    /// The messages in memory with their ordinals.
    pub fn held_messages(&self) -> impl Iterator<Item = (usize, &MessageRecord)> {
        let first = self.held.before.messages;
        self.messages
            .iter()
            .enumerate()
            .map(move |(i, m)| (first + i, m))
    }

    /// Indices of the first and last frame held, `None` when none is.
    pub fn held_frames(&self) -> Option<(u32, u32)> {
        Some((self.frames.first()?.index, self.frames.last()?.index))
    }

    /// The message frame `f` belongs to, if it is held here.
    pub fn message_of(&self, f: &FrameRecord) -> Option<&MessageRecord> {
        f.message.and_then(|m| self.message(m))
    }

    /// Why message `m` is not complete, in a sentence (`None` when it is): the first of
    /// its frames in memory that lacks bytes says why, else the first problem reported on
    /// one of its frames, else what is known of its end.
    pub fn why_incomplete(&self, m: &MessageRecord) -> Option<String> {
        if m.complete {
            return None;
        }
        let frames = || m.frames.iter().filter_map(|&i| self.frame(i));
        if let Some(f) = frames().find(|f| f.lacks.is_some()) {
            let missing = f.header.payload_len.saturating_sub(f.seen);
            return f
                .lacks
                .map(|l| format!("frame {}: {}", f.index, l.sentence(missing)));
        }
        if let Some(w) = self
            .warnings
            .iter()
            .find(|w| w.frame.is_some_and(|i| m.frames.contains(&i)))
        {
            return Some(w.detail.clone());
        }
        Some(if m.finished {
            "some of its bytes are not in the capture".to_string()
        } else {
            "its last frame is not in the capture (frame boundaries were lost, or the capture ends first)".to_string()
        })
    }

    /// Counts over every frame and message of the connection, handed out or held;
    /// silences between frames longer than `idle_threshold` seconds are listed.
    pub fn tally(&self, idle_threshold: f64) -> Tally {
        if self.held.is_window() {
            return self.held.tally.clone();
        }
        let mut tally = self.held.tally.clone();
        tally.frames(&self.frames, idle_threshold);
        tally.messages(&self.messages);
        tally
    }

    /// Streaming mode: takes out the leading frames and messages that have ended, for
    /// output while the connection is still open, so a connection that lasts the whole
    /// capture does not hold all of its records. They go into [`Held::tally`] first
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
        let base = self.held.before.messages;
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
            let last_index = (self.held.before.frames + frames) as u64;
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
        self.held.tally.frames(&frames, idle_threshold);
        self.held.tally.messages(&messages);
        let mut part = Connection::new(
            self.client,
            self.server,
            self.flow_order,
            self.first_packet,
            self.first_ts,
        );
        part.id = self.id;
        part.held.before = self.held.before;
        self.held.before.frames += frames.len();
        self.held.before.messages += messages.len();
        part.frames = frames;
        part.messages = messages;
        Some(part)
    }

    /// Drops the frame and message records of a finished connection, keeping their
    /// counts and the flow's packet range so they can be decoded again from the file.
    /// What [`Connection::tally`] counts stays in the handed-out tally (silences longer
    /// than `idle_threshold` seconds listed), so the analyses need no second decode.
    pub fn compact(&mut self, last_packet: u64, idle_threshold: f64) {
        if self.held.extent != Extent::Tail {
            return;
        }
        self.held.tally.frames(&self.frames, idle_threshold);
        self.held.tally.messages(&self.messages);
        self.held.before = Counts {
            frames: self.frame_count(),
            messages: self.message_count(),
        };
        self.held.extent = Extent::Dropped { last_packet };
        self.frames = Vec::new();
        self.messages = Vec::new();
    }

    /// A compacted connection with its records decoded again (all of them, from the
    /// first): the opposite of [`Connection::compact`].
    pub fn restore(&mut self, frames: Vec<FrameRecord>, messages: Vec<MessageRecord>) {
        self.frames = frames;
        self.messages = messages;
        // The counts were kept for the records dropped; they are all here again.
        self.held = Held::default();
    }

    /// This connection, holding only `frames` and `messages`: a window of the whole
    /// (whose counts and tally it keeps) that starts after `before` records.
    pub fn window(
        &self,
        before: Counts,
        frames: Vec<FrameRecord>,
        messages: Vec<MessageRecord>,
        idle_threshold: f64,
    ) -> Connection {
        let mut shown = self.clone();
        shown.held = Held {
            before,
            extent: Extent::Window {
                total: Counts {
                    frames: self.frame_count(),
                    messages: self.message_count(),
                },
            },
            tally: self.tally(idle_threshold),
        };
        shown.frames = frames;
        shown.messages = messages;
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dir, MessageKind};
    use crate::source::Timestamp;
    use crate::ws::Sink;
    use proptest::prelude::*;

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
            len_unknown: false,
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
        assert_eq!(
            c.held.before,
            Counts {
                frames: 3,
                messages: 2
            }
        );
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

    /// One record as the oracle sees it: every record ever made stays in its list.
    #[derive(Clone, Debug)]
    struct OracleFrame {
        dir: Dir,
        message: Option<usize>,
        ended: bool,
    }

    #[derive(Clone, Debug)]
    struct OracleMessage {
        dir: Dir,
        frames: Vec<u32>,
        ended: bool,
    }

    /// Every record made, how many of each left memory, whether all were dropped.
    #[derive(Default)]
    struct Oracle {
        frames: Vec<OracleFrame>,
        messages: Vec<OracleMessage>,
        left: (usize, usize),
        dropped: bool,
    }

    impl Oracle {
        /// The largest prefix of the records held that may leave together, within
        /// `max`: every frame ended with its message among those leaving (or already
        /// gone), every message ended with all its frames among those leaving (or gone).
        /// Such prefixes are closed under taking the larger of two, so the largest is
        /// found by trying them all.
        fn may_leave(&self, max: (usize, usize)) -> (usize, usize) {
            let held = (
                self.frames.len() - self.left.0,
                self.messages.len() - self.left.1,
            );
            let mut best = (0, 0);
            for f in 0..=held.0.min(max.0) {
                for m in 0..=held.1.min(max.1) {
                    let frames_ok = self.frames[self.left.0..self.left.0 + f]
                        .iter()
                        .all(|x| x.ended && x.message.is_none_or(|o| o < self.left.1 + m));
                    let messages_ok = self.messages[self.left.1..self.left.1 + m].iter().all(|x| {
                        x.ended && x.frames.iter().all(|&i| (i as usize) <= self.left.0 + f)
                    });
                    if frames_ok && messages_ok {
                        best = (best.0.max(f), best.1.max(m));
                    }
                }
            }
            best
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// A frame sent by the client (or the server), beginning a message (or
        /// continuing that side's latest open one, or carrying none).
        Frame { client: bool, how: u8 },
        /// The `n`-th frame not ended ends.
        EndFrame(usize),
        /// The `n`-th message not ended ends.
        EndMessage(usize),
        /// Ended records leave, at most this many.
        Take(usize, usize),
        /// The flow ends and every record is dropped.
        Compact,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<bool>(), 0u8..3).prop_map(|(client, how)| Op::Frame { client, how }),
            3 => (0usize..8).prop_map(Op::EndFrame),
            2 => (0usize..8).prop_map(Op::EndMessage),
            2 => (0usize..12, 0usize..12).prop_map(|(f, m)| Op::Take(f, m)),
            1 => (0usize..12).prop_map(|_| Op::Compact),
        ]
    }

    /// Applies `op` to the connection through the same calls the decoder and the
    /// pipeline make, and to the oracle.
    fn apply(c: &mut Connection, o: &mut Oracle, op: &Op) {
        match *op {
            Op::Frame { client, how } => {
                if o.dropped {
                    return;
                }
                let dir = if client { Dir::Client } else { Dir::Server };
                let index = c.push_frame(frame(0, dir, None, false));
                assert_eq!(
                    index as usize,
                    o.frames.len() + 1,
                    "frames are numbered in order"
                );
                let open = o
                    .messages
                    .iter()
                    .rposition(|m| m.dir == dir && !m.ended)
                    .filter(|&m| m >= o.left.1);
                let message = match (how, open) {
                    (0, _) | (1, None) => {
                        let ordinal = c.push_message(message(dir, Vec::new(), false));
                        assert_eq!(ordinal, o.messages.len(), "messages are numbered in order");
                        o.messages.push(OracleMessage {
                            dir,
                            frames: Vec::new(),
                            ended: false,
                        });
                        Some(ordinal)
                    }
                    (1, Some(m)) => Some(m),
                    _ => None,
                };
                if let Some(m) = message {
                    c.message_mut(m)
                        .unwrap_or_else(|| panic!("message {m} held"))
                        .frames
                        .push(index);
                    c.frame_mut(index)
                        .unwrap_or_else(|| panic!("frame {index} held"))
                        .message = Some(m);
                    o.messages[m].frames.push(index);
                }
                o.frames.push(OracleFrame {
                    dir,
                    message,
                    ended: false,
                });
            }
            Op::EndFrame(n) => {
                let Some(at) = (o.left.0..o.frames.len())
                    .filter(|&i| !o.frames[i].ended)
                    .nth(n)
                else {
                    return;
                };
                o.frames[at].ended = true;
                let f = c
                    .frame_mut(at as u32 + 1)
                    .unwrap_or_else(|| panic!("frame {} held", at + 1));
                f.ended = true;
            }
            Op::EndMessage(n) => {
                let Some(at) = (o.left.1..o.messages.len())
                    .filter(|&i| !o.messages[i].ended)
                    .nth(n)
                else {
                    return;
                };
                o.messages[at].ended = true;
                let m = c
                    .message_mut(at)
                    .unwrap_or_else(|| panic!("message {at} held"));
                m.ended = true;
            }
            Op::Take(max_frames, max_messages) => {
                if o.dropped {
                    return;
                }
                let before = c.held.before;
                let want = o.may_leave((max_frames, max_messages));
                let part = c.take_ended_records_within(f64::INFINITY, max_frames, max_messages);
                let got = part
                    .as_ref()
                    .map_or((0, 0), |p| (p.frames.len(), p.messages.len()));
                assert_eq!(got, want, "the records that may leave, leave");
                if let Some(p) = &part {
                    assert_eq!(p.held.before, before, "a part says what came before it");
                    for (i, f) in p.frames.iter().enumerate() {
                        assert_eq!(f.index as usize, before.frames + i + 1);
                    }
                }
                o.left = (o.left.0 + want.0, o.left.1 + want.1);
            }
            Op::Compact => {
                c.compact(99, f64::INFINITY);
                o.dropped = true;
                o.left = (o.frames.len(), o.messages.len());
            }
        }
    }

    /// The connection agrees with the oracle on every record, count and tally.
    fn check(c: &mut Connection, o: &Oracle) {
        assert_eq!(c.frame_count(), o.frames.len());
        assert_eq!(c.message_count(), o.messages.len());
        assert_eq!(c.held.dropped(), o.dropped.then_some(99));
        assert_eq!(
            c.held.before,
            Counts {
                frames: o.left.0,
                messages: o.left.1
            }
        );
        for (i, want) in o.frames.iter().enumerate() {
            let index = i as u32 + 1;
            let held = i >= o.left.0;
            assert_eq!(c.frame(index).is_some(), held, "frame {index}");
            if let Some(f) = c.frame(index) {
                assert_eq!(
                    (f.index, f.dir, f.message, f.ended),
                    (index, want.dir, want.message, want.ended)
                );
                // Invariant 3: a frame held has its message held.
                assert!(f.message.is_none_or(|m| c.message(m).is_some()));
            }
            assert_eq!(c.frame_mut(index).is_some(), held);
        }
        for (ordinal, want) in o.messages.iter().enumerate() {
            let held = ordinal >= o.left.1;
            assert_eq!(c.message(ordinal).is_some(), held, "message {ordinal}");
            if let Some(m) = c.message(ordinal) {
                assert_eq!(m.frames.as_slice(), want.frames.as_slice());
                assert_eq!(m.ended, want.ended);
                // In a tail, a message held has all its frames held.
                assert!(m.frames.iter().all(|&i| c.frame(i).is_some()));
            }
        }
        let first = (o.left.0 + 1) as u32;
        let last = o.frames.len() as u32;
        assert_eq!(c.held_frames(), (first <= last).then_some((first, last)));
        assert!(
            c.held_messages()
                .map(|(o, _)| o)
                .eq(o.left.1..o.messages.len())
        );
        // Invariant 4: the tally covers every record, in memory or not.
        let tally = c.tally(f64::INFINITY);
        for dir in [Dir::Client, Dir::Server] {
            let frames = o.frames.iter().filter(|f| f.dir == dir).count() as u64;
            let messages = o.messages.iter().filter(|m| m.dir == dir).count() as u64;
            assert_eq!(tally.frames[dir.index()], frames);
            assert_eq!(tally.count(dir, MessageKind::Text), messages);
        }
    }

    proptest! {
        #[test]
        fn what_is_held_agrees_with_an_oracle_that_keeps_every_record(
            ops in proptest::collection::vec(op(), 0..120)
        ) {
            let mut c = conn();
            let mut o = Oracle::default();
            for op in &ops {
                apply(&mut c, &mut o, op);
                check(&mut c, &o);
            }
            // Decoded again, the records all come back.
            if o.dropped {
                let frames = (0..o.frames.len())
                    .map(|i| {
                        let f = &o.frames[i];
                        frame(i as u32 + 1, f.dir, f.message, f.ended)
                    })
                    .collect();
                let messages = o.messages.iter().map(|m| message(m.dir, m.frames.clone(), m.ended)).collect();
                c.restore(frames, messages);
                o.left = (0, 0);
                o.dropped = false;
                check(&mut c, &o);
            }
        }
    }

    #[test]
    fn a_window_holds_a_run_in_the_middle_and_counts_the_whole() {
        let mut whole = conn();
        for i in 1..=10 {
            whole
                .frames
                .push(frame(i, Dir::Server, Some(i as usize - 1), true));
            whole.messages.push(message(Dir::Server, vec![i], true));
        }
        whole.compact(10, f64::INFINITY);
        let frames = (4..=6)
            .map(|i| frame(i, Dir::Server, Some(i as usize - 1), true))
            .collect();
        let messages = (4..=6)
            .map(|i| message(Dir::Server, vec![i], true))
            .collect();
        let before = Counts {
            frames: 3,
            messages: 3,
        };
        let w = whole.window(before, frames, messages, f64::INFINITY);
        assert!(w.held.is_window());
        assert_eq!((w.frame_count(), w.message_count()), (10, 10));
        assert_eq!(w.held_frames(), Some((4, 6)));
        assert!(w.frame(3).is_none() && w.frame(7).is_none());
        assert_eq!(w.frame(5).map(|f| f.index), Some(5));
        assert_eq!(w.message(3).map(|m| m.frames.as_slice()), Some(&[4][..]));
        // The tally is the whole connection's, not the window's plus more.
        assert_eq!(w.tally(f64::INFINITY).frames, [0, 10]);
    }
}
