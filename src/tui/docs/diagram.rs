//! The RFC 6455 §5.2 header diagram, drawn for one frame: the same 32-bit rows as the
//! RFC, but only the fields this frame has, each filled with its actual bits, and the
//! rest of the last row with the first payload bits (as on the wire, masked or not).

use ratatui::text::{Line, Span};

use crate::model::FrameHeader;
use crate::tui::fields::{Field, extended_len_bytes};
use crate::tui::theme::Theme;

/// A run of bits belonging to one field, within one 32-bit row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    field: Field,
    label: &'static str,
    /// First bit, counted from the start of the frame.
    start: usize,
    bits: usize,
}

fn fields(h: &FrameHeader, payload_bits: usize) -> Vec<(Field, &'static str, usize)> {
    let mut v = vec![
        (Field::Fin, "F", 1),
        (Field::Rsv1, "1", 1),
        (Field::Rsv2, "2", 1),
        (Field::Rsv3, "3", 1),
        (Field::Opcode, "opcode", 4),
        (Field::Mask, "M", 1),
        (Field::PayloadLen, "payload len", 7),
    ];
    let ext = extended_len_bytes(h.length_form) * 8;
    if ext > 0 {
        v.push((Field::ExtendedLen, "extended payload length", ext));
    }
    if h.mask.is_some() {
        v.push((Field::MaskingKey, "masking key", 32));
    }
    if payload_bits > 0 {
        v.push((Field::Payload, "payload data ...", payload_bits));
    }
    v
}

/// Splits the fields into pieces of at most one row each.
fn rows(h: &FrameHeader, payload_available: usize) -> Vec<Vec<Piece>> {
    let header_bits = usize::from(h.header_len) * 8;
    let to_row_end = (32 - header_bits % 32) % 32;
    let payload_bits = to_row_end.min(payload_available * 8);
    let mut rows: Vec<Vec<Piece>> = Vec::new();
    let mut at = 0;
    for (field, label, bits) in fields(h, payload_bits) {
        let end = at + bits;
        while at < end {
            let row_end = (at / 32 + 1) * 32;
            let piece_end = end.min(row_end);
            if at % 32 == 0 {
                rows.push(Vec::new());
            }
            if let Some(row) = rows.last_mut() {
                row.push(Piece {
                    field,
                    label,
                    start: at,
                    bits: piece_end - at,
                });
            }
            at = piece_end;
        }
    }
    rows
}

fn bit(raw: &[u8], i: usize) -> char {
    match raw.get(i / 8) {
        Some(b) if b & (0x80 >> (i % 8)) != 0 => '1',
        Some(_) => '0',
        None => '?',
    }
}

fn centered(text: &str, width: usize) -> String {
    let text: String = text.chars().take(width).collect();
    let pad = width - text.chars().count();
    format!(
        "{}{}{}",
        " ".repeat(pad / 2),
        text,
        " ".repeat(pad - pad / 2)
    )
}

/// The diagram lines for a frame whose wire bytes are `raw`; `selected` is shown
/// reversed.
pub fn lines(raw: &[u8], h: &FrameHeader, selected: Field, theme: Theme) -> Vec<Line<'static>> {
    let payload_available = raw.len().saturating_sub(usize::from(h.header_len));
    let mut out = vec![
        Line::styled(
            "  0                   1                   2                   3",
            theme.dim(),
        ),
        Line::styled(
            "  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1",
            theme.dim(),
        ),
    ];
    let separator = |row: &[Piece]| {
        let mut s = String::from(" +");
        for p in row {
            s.push_str(&"-".repeat(p.bits * 2 - 1));
            s.push('+');
        }
        Line::styled(s, theme.dim())
    };
    let all = rows(h, payload_available);
    for row in &all {
        out.push(separator(row));
        let mut labels = vec![Span::styled(" |", theme.dim())];
        let mut bits = vec![Span::styled(" |", theme.dim())];
        for p in row {
            let width = p.bits * 2 - 1;
            let style = if p.field == selected {
                theme.hex_field()
            } else {
                theme.text()
            };
            labels.push(Span::styled(centered(p.label, width), style));
            labels.push(Span::styled("|", theme.dim()));
            let b: Vec<String> = (p.start..p.start + p.bits)
                .map(|i| bit(raw, i).to_string())
                .collect();
            let bit_style = if p.field == selected {
                theme.hex_field()
            } else {
                theme.value()
            };
            bits.push(Span::styled(b.join(" "), bit_style));
            bits.push(Span::styled("|", theme.dim()));
        }
        out.push(Line::from(labels));
        out.push(Line::from(bits));
    }
    if let Some(last) = all.last() {
        out.push(separator(last));
    }
    out.push(Line::styled(
        " F = FIN, 1 2 3 = RSV1-3, M = MASK (bits numbered as in the RFC)",
        theme.dim(),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::frame::parse_frame_header;

    #[test]
    fn rows_follow_the_rfc_layout() {
        // 64-bit length and a mask: 14 header bytes, 4 rows, payload fills the last.
        let raw = [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4, 9, 9];
        let (_, h) = parse_frame_header(&raw).expect("hdr");
        let r = rows(&h, 2);
        assert_eq!(r.len(), 4);
        let fields: Vec<Field> = r[2].iter().map(|p| p.field).collect();
        assert_eq!(fields, vec![Field::ExtendedLen, Field::MaskingKey]);
        assert_eq!(r[3].last().map(|p| p.field), Some(Field::Payload));
        for row in &r {
            assert_eq!(row.iter().map(|p| p.bits).sum::<usize>(), 32);
        }
    }

    #[test]
    fn bits_are_drawn() {
        let raw = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f];
        let (_, h) = parse_frame_header(&raw).expect("hdr");
        let text: Vec<String> = lines(&raw, &h, Field::Fin, Theme::new(false))
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert!(
            text.iter()
                .any(|l| l.starts_with(" |1|0|0|0|0 0 0 1|1|0 0 0 0 1 0 1|")),
            "{text:#?}"
        );
    }
}
