//! Text and JSON-lines views of a decoded [`crate::model::Capture`], whole
//! ([`summary::write`], [`frames::write`], [`jsonl::write`]) or a connection at a time as
//! a streaming decode hands them out ([`Renderer`], [`ordered::OrderedWriter`]). They
//! read the model only; [`crate::command`] drives a decode into them.

pub mod frames;
pub mod jsonl;
pub mod ordered;
pub mod stream;
pub mod summary;

use std::io::{self, Write};

use crate::model::Connection;
use ordered::Render;

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
    fn writes(&self, c: &Connection) -> bool {
        c.id == 0 || self.only.is_none_or(|id| id == c.id)
    }
}

impl Render for Renderer {
    fn renders_parts(&self) -> bool {
        self.format != Format::Summary
    }

    fn head(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
        match self.format {
            _ if !self.writes(c) => Ok(()),
            Format::Summary => summary::write_connection(out, c),
            Format::Frames => Ok(()),
            Format::Jsonl => jsonl::write_connection_line(out, c),
        }
    }

    fn frames(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
        match self.format {
            _ if !self.writes(c) => Ok(()),
            Format::Summary => Ok(()),
            Format::Frames => frames::write_connection(out, c),
            Format::Jsonl => jsonl::write_frames(out, c),
        }
    }

    fn messages(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
        match self.format {
            Format::Jsonl if self.writes(c) => jsonl::write_messages(out, c),
            _ => Ok(()),
        }
    }

    fn tail(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
        match self.format {
            Format::Jsonl if self.writes(c) => jsonl::write_tail(out, c),
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
