//! `wsscope frames`: one line per frame, like tshark's one-line view: connection,
//! index, time since the connection's first packet, direction, opcode, flags, length
//! and a preview of the payload.

use std::io::{self, Write};

use crate::model::{Capture, Connection, Dir, FrameRecord};

/// How many characters of payload a line previews.
const PREVIEW_CHARS: usize = 48;

/// Writes the column header line.
pub fn write_header(out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{:>4} {:>5} {:>11} {:<3} {:<12} {:<3} {:<3} {:<4} {:>9}  payload",
        "conn", "frame", "time", "dir", "opcode", "fin", "rsv", "mask", "length"
    )
}

/// Writes every frame (optionally of one connection).
pub fn write(out: &mut dyn Write, capture: &Capture, only: Option<u32>) -> io::Result<()> {
    write_header(out)?;
    for c in capture
        .connections
        .iter()
        .filter(|c| only.is_none_or(|id| c.id == id))
    {
        write_connection(out, c)?;
    }
    Ok(())
}

/// Writes one connection's frame lines.
pub fn write_connection(out: &mut dyn Write, c: &Connection) -> io::Result<()> {
    for f in &c.frames {
        for g in c.gaps_before(f.index) {
            writeln!(out, "{:>4} {:>5} {}", c.id, "", g.row_text())?;
        }
        writeln!(out, "{}", frame_line(c, f))?;
    }
    // Gaps after the last frame held (the stream ends in a loss).
    let after = c.frames.last().map_or(0, |f| f.index + 1);
    for g in c.gaps.iter().filter(|g| g.before_frame >= after) {
        writeln!(out, "{:>4} {:>5} {}", c.id, "", g.row_text())?;
    }
    Ok(())
}

/// One frame as a line.
pub fn frame_line(c: &Connection, f: &FrameRecord) -> String {
    let h = &f.header;
    let rsv = format!(
        "{}{}{}",
        if h.rsv1 { '1' } else { '.' },
        if h.rsv2 { '2' } else { '.' },
        if h.rsv3 { '3' } else { '.' }
    );
    format!(
        "{:>4} {:>5} {:>11.6} {:<3} {:<12} {:<3} {:<3} {:<4} {:>9}  {}",
        c.id,
        f.index,
        f.ts.seconds_since(c.first_ts),
        match f.dir {
            Dir::Client => "C>S",
            Dir::Server => "S>C",
        },
        h.opcode.name(),
        if h.fin { "fin" } else { "..." },
        rsv,
        if h.mask.is_some() { "mask" } else { "" },
        h.payload_len,
        preview(c, f)
    )
}

/// A short rendering of the payload: text quoted, binary in hex, close code, compressed marked.
pub fn preview(c: &Connection, f: &FrameRecord) -> String {
    let msg = c.message_of(f);
    if let Some(m) = msg {
        if m.compressed {
            if m.frames.first() != Some(&f.index) {
                return "(continues compressed message)".into();
            }
            return format!(
                "[deflate {}→{} B] {}",
                m.wire_len,
                m.len_label(),
                render(&m.data, m.kind == crate::model::MessageKind::Text)
            );
        }
        if let Some(code) = m.close_code {
            return format!("{code} {:?}", m.close_reason.as_deref().unwrap_or(""));
        }
    }
    let payload = f.unmasked_payload();
    let text = msg.is_some_and(|m| m.kind == crate::model::MessageKind::Text);
    render(&payload, text)
}

fn render(bytes: &[u8], text: bool) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    if text
        || std::str::from_utf8(bytes).is_ok_and(|s| s.chars().all(|c| !c.is_control() || c == '\n'))
    {
        let s = String::from_utf8_lossy(bytes);
        let mut shown: String = s
            .chars()
            .take(PREVIEW_CHARS)
            .map(|c| if c.is_control() { '·' } else { c })
            .collect();
        if s.chars().count() > PREVIEW_CHARS {
            shown.push('…');
        }
        return format!("\"{shown}\"");
    }
    let n = bytes.len().min(PREVIEW_CHARS / 3);
    let mut s = hex::encode(&bytes[..n]);
    if bytes.len() > n {
        s.push('…');
    }
    s
}
