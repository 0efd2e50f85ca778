//! A window of a long connection: a bounded run of its records around one frame,
//! collected from the parts of the connection as they are decoded again in order (the
//! terminal UI shows a connection of more than [`WINDOW_FRAMES`] frames or
//! [`WINDOW_BYTES`] bytes a window at a time). What it holds is a [`Connection`] whose
//! [`super::Held`] is an [`super::Extent::Window`].

use std::collections::VecDeque;

use super::{Connection, Counts, FrameRecord, MessageRecord};

/// A window of a long connection holds at most this many frames: the terminal UI shows
/// a connection with more a window at a time ([`crate::reread::FileIndex::reread_window`]).
pub const WINDOW_FRAMES: usize = 20_000;

/// …and at most this many bytes of payload (frames as on the wire, messages decoded).
pub const WINDOW_BYTES: usize = 32 << 20;

/// How much of a long connection a window holds ([`crate::reread::FileIndex::reread_window`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowSize {
    /// Frames at most.
    pub frames: usize,
    /// Bytes of payload at most (frames as on the wire plus messages decoded).
    pub bytes: usize,
}

impl Default for WindowSize {
    fn default() -> Self {
        WindowSize {
            frames: WINDOW_FRAMES,
            bytes: WINDOW_BYTES,
        }
    }
}

/// Collects a window of records from the parts of a connection decoded in order
/// ([`crate::reread::FileIndex::reread_window`]).
pub struct Window {
    /// The frame the window is for.
    around: u32,
    size: WindowSize,
    /// The frames kept, in order.
    frames: VecDeque<FrameRecord>,
    /// The messages kept, in order.
    messages: VecDeque<MessageRecord>,
    /// Index (counting from the connection's first message) of `messages[0]`.
    first_message: usize,
    /// Bytes of the frames kept, as on the wire.
    frame_bytes: usize,
    /// Bytes of the messages kept, decoded.
    message_bytes: usize,
    /// No more frames are kept: the window is full past `around`.
    closed: bool,
}

impl Window {
    /// An empty window around frame `around`, of at most `size`.
    pub fn new(around: u32, size: WindowSize) -> Self {
        Window {
            around,
            size,
            frames: VecDeque::new(),
            messages: VecDeque::new(),
            first_message: 0,
            frame_bytes: 0,
            message_bytes: 0,
            closed: false,
        }
    }

    /// Takes the next records of the connection (a part, or what it held at its end).
    /// Returns whether later records are still wanted.
    pub fn take(&mut self, part: Connection) -> bool {
        let size = self.size;
        // Bytes of this part's messages whose first frame is kept (counted below).
        let mut starting = 0;
        let base = part.held.before.messages;
        for f in part.frames {
            let full = self.frames.len() >= size.frames
                || self.frame_bytes + self.message_bytes + starting >= size.bytes;
            if self.closed || (f.index > self.around && full) {
                self.closed = true;
                break;
            }
            let before = f.index <= self.around;
            if let Some(m) = f
                .message
                .and_then(|m| m.checked_sub(base))
                .and_then(|m| part.messages.get(m))
                .filter(|m| m.frames.first() == Some(&f.index))
            {
                starting += m.data.len();
            }
            self.frame_bytes += f.raw.len();
            self.frames.push_back(f);
            // Up to the frame asked for, keep a quarter of the window behind it.
            while before
                && self.frames.front().is_some_and(|f| f.index < self.around)
                && (self.frames.len() > size.frames / 4 || self.frame_bytes > size.bytes / 4)
            {
                if let Some(old) = self.frames.pop_front() {
                    self.frame_bytes -= old.raw.len();
                }
            }
        }
        if self.messages.is_empty() {
            self.first_message = part.held.before.messages;
        }
        // Messages come in the order of their first frames: those that start after the
        // window's last frame are not shown, nor (below) those that end before its first.
        let last = self.frames.back().map_or(0, |f| f.index);
        for m in part.messages {
            if self.closed && m.frames.first().is_some_and(|&i| i > last) {
                break;
            }
            self.message_bytes += m.data.len();
            self.messages.push_back(m);
        }
        let first = self.frames.front().map_or(u32::MAX, |f| f.index);
        while self
            .messages
            .front()
            .is_some_and(|m| m.frames.last().is_some_and(|&l| l < first))
        {
            if let Some(old) = self.messages.pop_front() {
                self.message_bytes -= old.data.len();
                self.first_message += 1;
            }
        }
        !self.closed
    }

    /// A message is kept cut (longer than `--max-message`) although all its bytes were
    /// decoded: its hash needs a decode that hashes.
    pub fn holds_cut_message(&self) -> bool {
        self.messages.iter().any(|m| m.data_cut && m.complete)
    }

    /// The window as a connection record: `whole` (the compacted record of the
    /// connection, whose counts and tally it keeps) holding only the window's records.
    pub fn shown_as(self, whole: &Connection, idle_threshold: f64) -> Connection {
        let before = Counts {
            frames: self.frames.front().map_or(0, |f| f.index as usize - 1),
            messages: self.first_message,
        };
        whole.window(
            before,
            self.frames.into(),
            self.messages.into(),
            idle_threshold,
        )
    }
}
