//! How a frame's bytes are laid out in the hex pane: lines of `bytes_per_line` bytes
//! under a header, then the byte map (each run of bytes and the header fields it holds,
//! RFC 6455 §5.2).

use std::ops::Range;

use crate::model::FrameRecord;
use crate::tui::fields::Field;

/// Lines above the dump.
pub const HEADER_LINES: usize = 2;

/// Bytes a line for a pane `width` columns wide (inside its border).
pub fn bytes_per_line(width: usize) -> usize {
    if width >= 74 { 16 } else { 8 }
}

/// Lines of the hex document of frame `f`: header, dump, byte map.
pub fn line_count(f: &FrameRecord, per_line: usize) -> usize {
    HEADER_LINES + dump_lines(f, per_line) + 2 + groups(f).len()
}

/// Lines of the dump of frame `f`.
pub fn dump_lines(f: &FrameRecord, per_line: usize) -> usize {
    f.raw.len().div_ceil(per_line.max(1))
}

/// The byte map: each run of bytes, what it holds, and the fields it holds.
pub fn groups(f: &FrameRecord) -> Vec<(Range<usize>, String, &'static [Field])> {
    const BYTE0: &[Field] = &[
        Field::Fin,
        Field::Rsv1,
        Field::Rsv2,
        Field::Rsv3,
        Field::Opcode,
    ];
    const BYTE1: &[Field] = &[Field::Mask, Field::PayloadLen];
    let h = &f.header;
    let mut out = vec![
        (0..1, "FIN, RSV1-3, opcode".to_string(), BYTE0),
        (1..2, "MASK, payload len".to_string(), BYTE1),
    ];
    if let Some(r) = Field::ExtendedLen.byte_range(h) {
        out.push((r, "extended payload length".into(), &[Field::ExtendedLen]));
    }
    if let Some(r) = Field::MaskingKey.byte_range(h) {
        out.push((r, "masking key".into(), &[Field::MaskingKey]));
    }
    if let Some(r) = Field::Payload.byte_range(h) {
        // The map shows the bytes the capture holds: a declared length may be far more.
        let held = r.start..r.end.min(f.raw.len().max(r.start));
        let label = if held.len() as u64 == h.payload_len {
            format!("payload ({} B)", h.payload_len)
        } else if f.seen < h.payload_len {
            format!(
                "payload ({} B declared, {} B in the capture)",
                h.payload_len, f.seen
            )
        } else {
            format!(
                "payload ({} B, the first {} B kept)",
                h.payload_len,
                held.len()
            )
        };
        out.push((held, label, &[Field::Payload]));
    }
    out
}

/// The line where `field`'s first byte is, in frame `f`'s hex document `width` columns
/// wide.
pub fn field_line(f: &FrameRecord, field: Field, width: usize) -> Option<usize> {
    let range = field.byte_range(&f.header)?;
    Some(HEADER_LINES + range.start / bytes_per_line(width))
}
