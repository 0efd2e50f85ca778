//! Output in connection order from connections that finish in any order (streaming
//! mode, [`Pipeline::set_streaming`](crate::Pipeline::set_streaming)).
//!
//! Each connection is rendered as soon as it arrives, and its records dropped. A block
//! whose turn has not come (an earlier connection is still open) waits: in memory up to
//! [`HELD_IN_MEMORY`] bytes in all, then in an anonymous temporary file. Memory therefore
//! follows the open flows, whatever the size of the capture or of the output.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::model::Connection;

/// Bytes of rendered output kept in memory while waiting for their turn; past it,
/// waiting blocks go to a temporary file.
pub const HELD_IN_MEMORY: usize = 4 << 20;

/// Counts over every connection seen, for headers, `--stats` and `--strict`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// WebSocket connections.
    pub connections: usize,
    /// Frames over all connections.
    pub frames: usize,
    /// Violations over all connections (those listed; see `Connection::suppressed`).
    pub violations: usize,
}

/// Where a waiting block is.
enum Held {
    Memory(Vec<u8>),
    Spilled { offset: u64, len: u64 },
}

/// Writes rendered connections in order of their numbers (1, 2, …).
pub struct OrderedWriter {
    /// Write each block as soon as every earlier one is written (else all at [`OrderedWriter::finish`]).
    early: bool,
    next: u32,
    held: BTreeMap<u32, Held>,
    held_in_memory: usize,
    spill: Option<File>,
    spill_end: u64,
    totals: Totals,
    scratch: Vec<u8>,
}

impl OrderedWriter {
    /// A writer; with `early`, blocks are written as soon as their turn comes, otherwise
    /// all at [`OrderedWriter::finish`] (for output that starts with totals).
    pub fn new(early: bool) -> Self {
        OrderedWriter {
            early,
            next: 1,
            held: BTreeMap::new(),
            held_in_memory: 0,
            spill: None,
            spill_end: 0,
            totals: Totals::default(),
            scratch: Vec::new(),
        }
    }

    /// Counts over the connections added so far.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Bytes of rendered output waiting in a temporary file (for tests and `--stats`).
    pub fn spilled_bytes(&self) -> u64 {
        self.spill_end
    }

    /// Takes a finished, numbered connection: renders it with `render` and writes it
    /// now or later, in number order.
    pub fn add(
        &mut self,
        out: &mut dyn Write,
        conn: &Connection,
        render: impl FnOnce(&mut dyn Write, &Connection) -> io::Result<()>,
    ) -> io::Result<()> {
        self.totals.connections += 1;
        self.totals.frames += conn.frames.len();
        self.totals.violations += conn.violations.len();
        if self.early && conn.id == self.next {
            render(out, conn)?;
            self.next += 1;
            return self.write_ready(out);
        }
        let mut block = std::mem::take(&mut self.scratch);
        block.clear();
        render(&mut block, conn)?;
        let held = if self.held_in_memory + block.len() <= HELD_IN_MEMORY {
            self.held_in_memory += block.len();
            Held::Memory(block)
        } else {
            let spill = match self.spill.as_mut() {
                Some(f) => f,
                None => self.spill.insert(tempfile::tempfile()?),
            };
            spill.seek(SeekFrom::Start(self.spill_end))?;
            spill.write_all(&block)?;
            let offset = self.spill_end;
            self.spill_end += block.len() as u64;
            self.scratch = block;
            Held::Spilled {
                offset,
                len: self.spill_end - offset,
            }
        };
        self.held.insert(conn.id, held);
        if self.early {
            self.write_ready(out)?;
        }
        Ok(())
    }

    /// Writes the waiting blocks whose turn has come.
    fn write_ready(&mut self, out: &mut dyn Write) -> io::Result<()> {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            let held = entry.remove();
            self.write_held(out, held)?;
            self.next += 1;
        }
        Ok(())
    }

    fn write_held(&mut self, out: &mut dyn Write, held: Held) -> io::Result<()> {
        match held {
            Held::Memory(block) => {
                self.held_in_memory -= block.len();
                out.write_all(&block)?;
                if block.capacity() > self.scratch.capacity() {
                    self.scratch = block;
                }
            }
            Held::Spilled { offset, len } => {
                if let Some(spill) = self.spill.as_mut() {
                    spill.seek(SeekFrom::Start(offset))?;
                    let copied = io::copy(&mut Read::by_ref(spill).take(len), out)?;
                    if copied != len {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the temporary file with waiting output was cut short",
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes every block still waiting, in number order (numbers never seen are skipped).
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        while let Some((id, held)) = self.held.pop_first() {
            self.next = id;
            self.write_held(out, held)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Timestamp;

    fn conn(id: u32) -> Connection {
        let a = "127.0.0.1:1".parse().unwrap_or_else(|_| unreachable!());
        let mut c = Connection::new(a, a, u64::from(id), 0, Timestamp::default());
        c.id = id;
        c
    }

    fn line(out: &mut dyn Write, c: &Connection) -> io::Result<()> {
        writeln!(out, "{}", c.id)
    }

    #[test]
    fn blocks_come_out_in_number_order_whatever_order_they_arrive() {
        for early in [false, true] {
            let mut w = OrderedWriter::new(early);
            let mut out = Vec::new();
            for id in [3, 1, 5, 2, 4] {
                w.add(&mut out, &conn(id), line)
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            w.finish(&mut out).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(String::from_utf8_lossy(&out), "1\n2\n3\n4\n5\n");
            assert_eq!(w.totals().connections, 5);
        }
    }

    #[test]
    fn early_writes_as_soon_as_the_turn_comes() {
        let mut w = OrderedWriter::new(true);
        let mut out = Vec::new();
        w.add(&mut out, &conn(2), line)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.is_empty());
        w.add(&mut out, &conn(1), line)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(String::from_utf8_lossy(&out), "1\n2\n");
    }

    #[test]
    fn blocks_past_the_memory_budget_wait_in_a_file_and_come_back_whole() {
        let mut w = OrderedWriter::new(true);
        let mut out = Vec::new();
        let big = |out: &mut dyn Write, c: &Connection| -> io::Result<()> {
            let fill = b'a' + (c.id % 26) as u8;
            out.write_all(&vec![fill; 5 << 20])
        };
        for id in (1..=8).rev() {
            w.add(&mut out, &conn(id), big)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(w.spilled_bytes() > 0, "nothing was spilled");
        assert_eq!(out.len(), 8 * (5 << 20));
        for (i, chunk) in out.chunks(5 << 20).enumerate() {
            let fill = b'a' + (i as u8 + 1) % 26;
            assert!(chunk.iter().all(|b| *b == fill), "block {} is wrong", i + 1);
        }
    }
}
