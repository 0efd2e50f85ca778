//! Output in connection order from connections that finish in any order (streaming
//! mode, [`Pipeline::set_streaming`](crate::Pipeline::set_streaming)).
//!
//! Each connection is rendered as soon as it arrives, and its records dropped; so are
//! the parts a long connection hands out while still open ([`Handout::Part`]): their
//! frame and message lines wait in the connection's sections until it ends. Output
//! whose turn has not come (an earlier connection is still open) waits: in memory up to
//! [`HELD_IN_MEMORY`] bytes in all, then in an anonymous temporary file. Memory
//! therefore follows the open flows, whatever the size of the capture, the length of a
//! connection or the size of the output.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::model::Connection;
use crate::model::Handout;

/// Bytes of rendered output kept in memory while waiting for their turn; past it,
/// waiting output goes to a temporary file.
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

/// How an output format renders a connection, piece by piece, so that the frames and
/// messages a connection hands out while open can be rendered at once. A whole block
/// is `head`, the frames' lines, the messages' lines, then `tail`.
pub trait Render {
    /// Whether handed-out records are rendered at all (the summary needs only the
    /// counts the connection keeps, [`crate::model::Held::tally`]).
    fn renders_parts(&self) -> bool;
    /// What comes before the frames (a connection's own line).
    fn head(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()>;
    /// Lines for the frames `c` holds.
    fn frames(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()>;
    /// Lines for the messages `c` holds.
    fn messages(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()>;
    /// What comes after the messages (violations, warnings, analyses).
    fn tail(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()>;
    /// Rewrites one line rendered for a part with no number yet (`id` 0, rendered
    /// whatever the connection filter) for connection number `id`; writes nothing when
    /// that connection is not shown.
    fn renumber(&self, out: &mut Vec<u8>, line: &[u8], id: u32);
}

/// A run of rendered output waiting for its turn.
enum Piece {
    Memory(Vec<u8>),
    Spilled { offset: u64, len: u64 },
}

/// The rendered lines of a connection still open, from the parts it handed out.
#[derive(Default)]
struct Sections {
    /// Lines of parts handed out before the connection had a number, rendered as
    /// number 0: renumbered ([`Render::renumber`]) once it has one.
    unnumbered_frames: Vec<Piece>,
    unnumbered_messages: Vec<Piece>,
    frames: Vec<Piece>,
    messages: Vec<Piece>,
}

/// Where waiting output is kept: memory up to [`HELD_IN_MEMORY`], then a temporary file.
#[derive(Default)]
struct Store {
    in_memory: usize,
    spill: Option<File>,
    spill_end: u64,
}

impl Store {
    /// Adds `bytes` to the end of `pieces`.
    fn stash(&mut self, bytes: &[u8], pieces: &mut Vec<Piece>) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.in_memory + bytes.len() <= HELD_IN_MEMORY {
            self.in_memory += bytes.len();
            match pieces.last_mut() {
                Some(Piece::Memory(last)) => last.extend_from_slice(bytes),
                _ => pieces.push(Piece::Memory(bytes.to_vec())),
            }
            return Ok(());
        }
        let spill = match self.spill.as_mut() {
            Some(f) => f,
            None => self.spill.insert(tempfile::tempfile()?),
        };
        spill.seek(SeekFrom::Start(self.spill_end))?;
        spill.write_all(bytes)?;
        let offset = self.spill_end;
        self.spill_end += bytes.len() as u64;
        match pieces.last_mut() {
            Some(Piece::Spilled { offset: o, len }) if *o + *len == offset => {
                *len += bytes.len() as u64;
            }
            _ => pieces.push(Piece::Spilled {
                offset,
                len: bytes.len() as u64,
            }),
        }
        Ok(())
    }

    /// Reads up to 64 KiB of `piece` from byte `at` into `buf`; false past its end.
    fn read_chunk(&mut self, piece: &Piece, at: u64, buf: &mut Vec<u8>) -> io::Result<bool> {
        buf.clear();
        match piece {
            Piece::Memory(bytes) => {
                let from = usize::try_from(at).unwrap_or(usize::MAX).min(bytes.len());
                let to = from.saturating_add(1 << 16).min(bytes.len());
                buf.extend_from_slice(&bytes[from..to]);
            }
            Piece::Spilled { offset, len } => {
                let want = len.saturating_sub(at).min(1 << 16);
                if let Some(spill) = self.spill.as_mut()
                    && want > 0
                {
                    spill.seek(SeekFrom::Start(offset + at))?;
                    buf.resize(want as usize, 0);
                    spill.read_exact(buf)?;
                }
            }
        }
        Ok(!buf.is_empty())
    }

    /// Forgets `piece` (its memory is released; spilled bytes stay in the file).
    fn release(&mut self, piece: &Piece) {
        if let Piece::Memory(bytes) = piece {
            self.in_memory -= bytes.len();
        }
    }

    /// Writes `pieces` to `out`, releasing their memory.
    fn write(&mut self, out: &mut dyn Write, pieces: Vec<Piece>) -> io::Result<()> {
        for piece in pieces {
            match piece {
                Piece::Memory(bytes) => {
                    self.in_memory -= bytes.len();
                    out.write_all(&bytes)?;
                }
                Piece::Spilled { offset, len } => {
                    let Some(spill) = self.spill.as_mut() else {
                        continue;
                    };
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
}

/// Writes rendered connections in order of their numbers (1, 2, …).
pub struct OrderedWriter {
    /// Write each block as soon as every earlier one is written (else all at [`OrderedWriter::finish`]).
    early: bool,
    next: u32,
    /// Finished connections waiting for their turn, by number.
    held: BTreeMap<u32, Vec<Piece>>,
    /// Connections still open that handed out parts, by flow order.
    open: HashMap<u64, Sections>,
    store: Store,
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
            open: HashMap::new(),
            store: Store::default(),
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
        self.store.spill_end
    }

    /// Takes what streaming mode handed out.
    pub fn take(
        &mut self,
        out: &mut dyn Write,
        handout: Handout,
        render: &dyn Render,
    ) -> io::Result<()> {
        match handout {
            Handout::Part(part) => self.add_part(part, render),
            Handout::Finished(conn) => self.add(out, &conn, render),
        }
    }

    /// Takes records a connection handed out while open: renders their lines into the
    /// connection's sections (once it has a number).
    pub fn add_part(&mut self, part: Connection, render: &dyn Render) -> io::Result<()> {
        if !render.renders_parts() {
            return Ok(());
        }
        let sections = self.open.entry(part.flow_order).or_default();
        let mut scratch = std::mem::take(&mut self.scratch);
        let result = render_parts(
            &mut self.store,
            &mut scratch,
            sections,
            part.id,
            Some(part),
            render,
        );
        self.scratch = scratch;
        result
    }

    /// Takes a finished, numbered connection: renders it after the lines of the parts it
    /// handed out, and writes it now or later, in number order.
    pub fn add(
        &mut self,
        out: &mut dyn Write,
        conn: &Connection,
        render: &dyn Render,
    ) -> io::Result<()> {
        self.totals.connections += 1;
        self.totals.frames += conn.frame_count();
        self.totals.violations += conn.violations.len();
        let sections = self.open.remove(&conn.flow_order).unwrap_or_default();
        let mut scratch = std::mem::take(&mut self.scratch);
        let result = render_block(&mut self.store, &mut scratch, sections, conn, render);
        self.scratch = scratch;
        let block = result?;
        if self.early && conn.id == self.next {
            self.store.write(out, block)?;
            self.next += 1;
            return self.write_ready(out);
        }
        self.held.insert(conn.id, block);
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
            let block = entry.remove();
            self.store.write(out, block)?;
            self.next += 1;
        }
        Ok(())
    }

    /// Writes every block still waiting, in number order (numbers never seen are skipped).
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        while let Some((id, block)) = self.held.pop_first() {
            self.next = id;
            self.store.write(out, block)?;
        }
        Ok(())
    }
}

/// Renders a finished connection after the lines of the parts it handed out.
fn render_block(
    store: &mut Store,
    scratch: &mut Vec<u8>,
    mut sections: Sections,
    conn: &Connection,
    render: &dyn Render,
) -> io::Result<Vec<Piece>> {
    render_parts(store, scratch, &mut sections, conn.id, None, render)?;
    let mut block = Vec::new();
    scratch.clear();
    render.head(scratch, conn)?;
    store.stash(scratch, &mut block)?;
    block.append(&mut sections.frames);
    scratch.clear();
    render.frames(scratch, conn)?;
    store.stash(scratch, &mut block)?;
    block.append(&mut sections.messages);
    scratch.clear();
    render.messages(scratch, conn)?;
    render.tail(scratch, conn)?;
    store.stash(scratch, &mut block)?;
    Ok(block)
}

/// Renders `part` into `sections`: as number 0 while it has no number, else after
/// renumbering the lines of the parts that waited for number `id`.
fn render_parts(
    store: &mut Store,
    scratch: &mut Vec<u8>,
    sections: &mut Sections,
    id: u32,
    part: Option<Connection>,
    render: &dyn Render,
) -> io::Result<()> {
    if id != 0 {
        for (waiting, into) in [
            (
                std::mem::take(&mut sections.unnumbered_frames),
                &mut sections.frames,
            ),
            (
                std::mem::take(&mut sections.unnumbered_messages),
                &mut sections.messages,
            ),
        ] {
            // Line by line, 64 KiB at a time: memory stays bounded however many
            // lines waited (they may be in the temporary file).
            let (mut chunk, mut line) = (Vec::new(), Vec::new());
            scratch.clear();
            for piece in waiting {
                let mut at = 0;
                while store.read_chunk(&piece, at, &mut chunk)? {
                    at += chunk.len() as u64;
                    for part in chunk.split_inclusive(|b| *b == b'\n') {
                        line.extend_from_slice(part);
                        if part.ends_with(b"\n") {
                            render.renumber(scratch, &line, id);
                            line.clear();
                        }
                    }
                    if scratch.len() >= 1 << 16 {
                        store.stash(scratch, into)?;
                        scratch.clear();
                    }
                }
                store.release(&piece);
            }
            if !line.is_empty() {
                render.renumber(scratch, &line, id);
            }
            store.stash(scratch, into)?;
        }
    }
    let Some(mut part) = part else {
        return Ok(());
    };
    part.id = id;
    let (frames, messages) = if id == 0 {
        (
            &mut sections.unnumbered_frames,
            &mut sections.unnumbered_messages,
        )
    } else {
        (&mut sections.frames, &mut sections.messages)
    };
    scratch.clear();
    render.frames(scratch, &part)?;
    store.stash(scratch, frames)?;
    scratch.clear();
    render.messages(scratch, &part)?;
    store.stash(scratch, messages)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dir, FrameRecord};
    use crate::source::Timestamp;

    fn conn(id: u32) -> Connection {
        let a = "127.0.0.1:1".parse().unwrap_or_else(|_| unreachable!());
        let mut c = Connection::new(a, a, u64::from(id), 0, Timestamp::default());
        c.id = id;
        c
    }

    /// Renders a connection as `id` then one `id.frame` line per frame, then `end id`;
    /// `fill` bytes of padding in the head.
    struct Lines {
        fill: usize,
    }

    impl Render for Lines {
        fn renders_parts(&self) -> bool {
            true
        }
        fn head(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
            let pad = b'a' + (c.id % 26) as u8;
            out.write_all(&vec![pad; self.fill])?;
            writeln!(out, "{}", c.id)
        }
        fn frames(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
            for f in &c.frames {
                writeln!(out, "{}.{}", c.id, f.index)?;
            }
            Ok(())
        }
        fn messages(&self, _: &mut dyn Write, _: &Connection) -> io::Result<()> {
            Ok(())
        }
        fn tail(&self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
            writeln!(out, "end {}", c.id)
        }
        fn renumber(&self, out: &mut Vec<u8>, line: &[u8], id: u32) {
            let rest = line.strip_prefix(b"0").unwrap_or(line);
            out.extend_from_slice(id.to_string().as_bytes());
            out.extend_from_slice(rest);
        }
    }

    const LINES: Lines = Lines { fill: 0 };

    fn frame(index: u32) -> FrameRecord {
        FrameRecord::for_test(index, Dir::Server, None, true)
    }

    fn part(id: u32, flow_order: u64, frames: std::ops::RangeInclusive<u32>) -> Connection {
        let mut c = conn(id);
        c.flow_order = flow_order;
        c.frames = frames.map(frame).collect();
        c
    }

    #[test]
    fn blocks_come_out_in_number_order_whatever_order_they_arrive() {
        for early in [false, true] {
            let mut w = OrderedWriter::new(early);
            let mut out = Vec::new();
            for id in [3, 1, 5, 2, 4] {
                w.add(&mut out, &conn(id), &LINES)
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            w.finish(&mut out).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                String::from_utf8_lossy(&out),
                "1\nend 1\n2\nend 2\n3\nend 3\n4\nend 4\n5\nend 5\n"
            );
            assert_eq!(w.totals().connections, 5);
        }
    }

    #[test]
    fn early_writes_as_soon_as_the_turn_comes() {
        let mut w = OrderedWriter::new(true);
        let mut out = Vec::new();
        w.add(&mut out, &conn(2), &LINES)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.is_empty());
        w.add(&mut out, &conn(1), &LINES)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(String::from_utf8_lossy(&out), "1\nend 1\n2\nend 2\n");
    }

    #[test]
    fn parts_come_out_inside_their_connection_in_order() {
        let mut w = OrderedWriter::new(true);
        let mut out = Vec::new();
        // Connection 1 (flow 10) hands out two parts, the first before it has a number;
        // connection 2 (flow 20) one part, and ends first.
        let mut last = conn(1);
        last.flow_order = 10;
        last.frames = vec![frame(5)];
        last.held.before.frames = 4;
        let steps = [
            Handout::Part(part(0, 10, 1..=2)),
            Handout::Part(part(2, 20, 1..=1)),
            Handout::Part(part(1, 10, 3..=4)),
            Handout::Finished(part(2, 20, 2..=2)),
            Handout::Finished(last),
        ];
        for step in steps {
            w.take(&mut out, step, &LINES)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        w.finish(&mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            String::from_utf8_lossy(&out),
            "1\n1.1\n1.2\n1.3\n1.4\n1.5\nend 1\n2\n2.1\n2.2\nend 2\n"
        );
        assert_eq!(w.totals().frames, 5 + 1);
    }

    #[test]
    fn blocks_past_the_memory_budget_wait_in_a_file_and_come_back_whole() {
        let mut w = OrderedWriter::new(true);
        let mut out = Vec::new();
        let big = Lines { fill: 5 << 20 };
        for id in (1..=8).rev() {
            w.add(&mut out, &conn(id), &big)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(w.spilled_bytes() > 0, "nothing was spilled");
        let block = (5 << 20) + "1\nend 1\n".len();
        assert_eq!(out.len(), 8 * block);
        for (i, chunk) in out.chunks(block).enumerate() {
            let fill = b'a' + (i as u8 + 1) % 26;
            assert!(
                chunk[..5 << 20].iter().all(|b| *b == fill),
                "block {} is wrong",
                i + 1
            );
            assert_eq!(
                String::from_utf8_lossy(&chunk[5 << 20..]),
                format!("{}\nend {}\n", i + 1, i + 1)
            );
        }
    }

    #[test]
    fn parts_without_a_number_are_rendered_at_once_and_renumbered() {
        let mut w = OrderedWriter::new(true);
        let mut out = Vec::new();
        // 600,000 frame lines (over 4 MiB) before the connection has a number: they
        // must go to the file rendered, not wait as records.
        for k in 0..100 {
            w.add_part(part(0, 20, k * 6000 + 1..=(k + 1) * 6000), &LINES)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(w.spilled_bytes() > 0, "nothing was spilled");
        let mut last = conn(1);
        last.flow_order = 20;
        last.held.before.frames = 600_000;
        w.add(&mut out, &last, &LINES)
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 600_000 + 2);
        assert_eq!(&lines[..3], ["1", "1.1", "1.2"]);
        assert_eq!(lines[lines.len() - 2], "1.600000");
    }

    #[test]
    fn parts_past_the_memory_budget_wait_in_a_file() {
        let mut w = OrderedWriter::new(true);
        let mut out = Vec::new();
        // Connection 2 hands out 600,000 frame lines (over 4 MiB) while 1 is open.
        for k in 0..100 {
            w.add_part(part(2, 20, k * 6000 + 1..=(k + 1) * 6000), &LINES)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let mut two = conn(2);
        two.flow_order = 20;
        two.held.before.frames = 600_000;
        w.add(&mut out, &two, &LINES)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.is_empty());
        assert!(w.spilled_bytes() > 0, "nothing was spilled");
        w.add(&mut out, &conn(1), &LINES)
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 + 1 + 600_000 + 1);
        assert_eq!(&lines[..4], ["1", "end 1", "2", "2.1"]);
        assert_eq!(lines[lines.len() - 2], "2.600000");
        assert_eq!(w.totals().frames, 600_000);
    }
}
