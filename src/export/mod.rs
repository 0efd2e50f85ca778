//! Text and JSON-lines views of a decoded [`Capture`], and the
//! streaming writer that `summary`, `frames` and `export` use on a whole file.

pub mod frames;
pub mod jsonl;
pub mod ordered;
pub mod stream;
pub mod summary;

use std::io::{self, Read, Write};

use crate::model::{Capture, Connection};
use crate::pipeline::{StreamError, StreamSetup, decode_reader_sharded};
use crate::session::SessionConfig;
use ordered::{OrderedWriter, Render, Totals};

/// The scripted outputs (DESIGN.md "Command line").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `wsscope summary`: totals, then a block per connection.
    Summary,
    /// `wsscope frames`: one line per frame.
    Frames,
    /// `wsscope export`: the JSON-lines contract.
    Jsonl,
}

impl Format {
    /// Narrows `config` to what this output shows, so nothing else is kept: only the
    /// frame list previews frame bytes, the summary shows no payload at all, and only
    /// the export prints message hashes.
    pub fn tune(self, config: &mut SessionConfig) {
        config.limits.preview_only = true;
        config.limits.hash_messages = self == Format::Jsonl;
        if self != Format::Frames {
            config.limits.max_frame_kept = 0;
        }
        if self == Format::Summary {
            config.limits.keep_message_data = false;
        }
    }
}

/// Renders one format's connection blocks, optionally for one connection only.
#[derive(Clone, Copy, Debug)]
pub struct Renderer {
    /// The output.
    pub format: Format,
    /// Only this connection (`--conn N`).
    pub only: Option<u32>,
}

impl Renderer {
    /// Whether `c`'s lines are written; a part without a number yet (0) is rendered
    /// anyway, and filtered when renumbered.
    fn shown(&self, c: &Connection) -> bool {
        c.id == 0 || self.only.is_none_or(|id| id == c.id)
    }
}

impl Render for Renderer {
    fn renders_parts(&self) -> bool {
        self.format != Format::Summary
    }

    fn head(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
        match self.format {
            _ if !self.shown(c) => Ok(()),
            Format::Summary => summary::write_connection(out, c),
            Format::Frames => Ok(()),
            Format::Jsonl => jsonl::write_connection_line(out, c),
        }
    }

    fn frames(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
        match self.format {
            _ if !self.shown(c) => Ok(()),
            Format::Summary => Ok(()),
            Format::Frames => frames::write_connection(out, c),
            Format::Jsonl => jsonl::write_frames(out, c),
        }
    }

    fn messages(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
        match self.format {
            Format::Jsonl if self.shown(c) => jsonl::write_messages(out, c),
            _ => Ok(()),
        }
    }

    fn tail(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
        match self.format {
            Format::Jsonl if self.shown(c) => jsonl::write_tail(out, c),
            _ => Ok(()),
        }
    }

    fn renumber(&self, out: &mut Vec<u8>, line: &[u8], id: u32) {
        if self.only.is_some_and(|only| only != id) {
            return;
        }
        // Where number 0 was written: the first column of a frame line ("{:>4}"), the
        // `conn` field right after `kind` of a JSON line.
        let (placeholder, number) = match self.format {
            Format::Frames => (&b"   0"[..], format!("{id:>4}")),
            Format::Jsonl => (&br#""conn":0,"#[..], format!(r#""conn":{id},"#)),
            // The summary renders no parts.
            Format::Summary => return out.extend_from_slice(line),
        };
        match line
            .windows(placeholder.len())
            .position(|w| w == placeholder)
        {
            Some(at) => {
                out.extend_from_slice(&line[..at]);
                out.extend_from_slice(number.as_bytes());
                out.extend_from_slice(&line[at + placeholder.len()..]);
            }
            None => out.extend_from_slice(line),
        }
    }
}

/// Decodes a capture in streaming mode and writes `renderer`'s output to `out`: the
/// same bytes as rendering a whole decode, in memory that follows the open flows and
/// the output limits, not the size of the file or the length of a connection.
/// `setup` says how ([`StreamSetup::default`] outside tests; the output does not depend
/// on it). `name` names the capture in the summary. Returns the capture's counts (no
/// connections) and totals.
pub fn write_streaming<R: Read + Send>(
    reader: R,
    config: SessionConfig,
    renderer: Renderer,
    name: &str,
    out: &mut dyn Write,
    mut setup: StreamSetup,
) -> Result<(Capture, Totals), StreamError> {
    // The summary starts with totals, so its connections are all written at the end.
    let mut ordered = OrderedWriter::new(renderer.format != Format::Summary);
    if renderer.format == Format::Frames {
        frames::write_header(out)?;
    }
    setup.parts = renderer.renders_parts();
    let capture = decode_reader_sharded(reader, config, setup, |handout| {
        ordered.take(out, handout, &renderer)
    })?;
    if renderer.format == Format::Summary {
        summary::write_header(out, &capture, ordered.totals(), name)?;
    }
    ordered.finish(out)?;
    Ok((capture, ordered.totals()))
}
