//! Incremental output for a capture that is still growing (live capture): after each
//! packet, write only what is new and complete, each line once.
//!
//! A connection's line is written once its handshake is settled (the response seen) or
//! its first frame arrives; its frames (each once its last byte is in), finished messages,
//! violations and warnings follow as they appear. Connections are tracked by position, which never changes while a
//! capture is read (numbers are only reassigned by `Capture::finish` on files).

use std::io::{self, Write};

use crate::model::{Capture, Connection};

use super::{frames, jsonl};

/// The output format being streamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamFormat {
    /// JSON lines, as `wsscope export`.
    Jsonl,
    /// One text line per frame, as `wsscope frames`.
    Frames,
}

#[derive(Clone, Debug, Default)]
struct Written {
    connection: bool,
    frames: usize,
    messages: usize,
    violations: usize,
    warnings: usize,
}

/// Remembers what was written so far.
#[derive(Debug)]
pub struct Streamer {
    format: StreamFormat,
    written: Vec<Written>,
    header: bool,
}

fn settled(c: &Connection) -> bool {
    !c.frames.is_empty() || c.handshake.as_ref().is_none_or(|h| h.response.is_some())
}

impl Streamer {
    /// A streamer for `format`.
    pub fn new(format: StreamFormat) -> Self {
        Streamer {
            format,
            written: Vec::new(),
            header: false,
        }
    }

    /// Lets the records already written go, so a long live capture does not hold every
    /// frame: `release(i, frames, messages)` drops at most the first `frames` frames and
    /// `messages` messages of connection `i` (as far as they may leave, keeping their
    /// counts: [`crate::Pipeline::release_records`]) and says how many of each went.
    /// Call it right after [`Streamer::write_new`].
    pub fn release_with(&mut self, mut release: impl FnMut(usize, usize, usize) -> (usize, usize)) {
        for (i, w) in self.written.iter_mut().enumerate() {
            // The frame list writes no message lines: a message may go with its frames.
            let messages = match self.format {
                StreamFormat::Jsonl => w.messages,
                StreamFormat::Frames => usize::MAX,
            };
            let (frames, messages) = release(i, w.frames, messages);
            w.frames -= frames;
            w.messages = w.messages.saturating_sub(messages);
        }
    }

    /// Writes what became complete since the last call; with `at_end`, everything left.
    pub fn write_new(
        &mut self,
        out: &mut dyn Write,
        capture: &Capture,
        at_end: bool,
    ) -> io::Result<()> {
        if self.format == StreamFormat::Frames && !self.header {
            frames::write_header(out)?;
            self.header = true;
        }
        for (i, c) in capture.connections.iter().enumerate() {
            if self.written.len() <= i {
                self.written.push(Written::default());
            }
            let w = &mut self.written[i];
            if !w.connection {
                if !(at_end || settled(c)) {
                    continue;
                }
                if self.format == StreamFormat::Jsonl {
                    jsonl::write_connection_line(out, c)?;
                }
                w.connection = true;
            }
            // Frames in order, each once its last byte is in (its packet list is whole);
            // a text line also shows its message's decoded form, so it waits for the
            // message to end (finished or given up).
            for f in &c.frames[w.frames..] {
                let message_done =
                    self.format == StreamFormat::Jsonl || c.message_of(f).is_none_or(|m| m.ended);
                if !(at_end || (f.ended && message_done)) {
                    break;
                }
                match self.format {
                    StreamFormat::Jsonl => jsonl::write_frame_line(out, c, f)?,
                    StreamFormat::Frames => writeln!(out, "{}", frames::frame_line(c, f))?,
                }
                w.frames += 1;
            }
            if self.format == StreamFormat::Jsonl {
                // Messages in order, each once it has ended (finished or given up).
                while let Some(m) = c.messages.get(w.messages) {
                    if !(m.ended || at_end) {
                        break;
                    }
                    jsonl::write_message_line(out, c, m)?;
                    w.messages += 1;
                }
                for v in &c.violations[w.violations..] {
                    jsonl::write_violation_line(out, c, v)?;
                }
                for x in &c.warnings[w.warnings..] {
                    jsonl::write_warning_line(out, c, x)?;
                }
            }
            w.violations = c.violations.len();
            w.warnings = c.warnings.len();
            if at_end && self.format == StreamFormat::Jsonl {
                jsonl::write_analysis_line(out, c)?;
            }
        }
        out.flush()
    }
}
