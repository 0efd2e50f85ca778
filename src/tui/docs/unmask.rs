//! Unmasking shown step by step on the first payload bytes of a frame (RFC 6455 §5.3):
//! each wire byte, the key byte it is XORed with (key[i mod 4]), and the result.

use ratatui::text::{Line, Span};

use crate::model::FrameRecord;
use crate::tui::theme::Theme;

/// Most bytes shown.
const MAX: usize = 16;

/// The unmasking table for frame `f` masked with `key`.
pub fn lines(f: &FrameRecord, key: [u8; 4], width: usize, theme: Theme) -> Vec<Line<'static>> {
    let wire = f.wire_payload();
    let n = wire.len().min(MAX).min(width.saturating_sub(10) / 3);
    if n == 0 {
        return vec![Line::styled("  (no payload bytes to unmask)", theme.dim())];
    }
    let row = |label: &str, cells: Vec<String>, style| {
        let mut spans = vec![Span::styled(format!("  {label:<6}"), theme.dim())];
        spans.extend(
            cells
                .into_iter()
                .map(|c| Span::styled(format!(" {c:>2}"), style)),
        );
        Line::from(spans)
    };
    let idx = (0..n).map(|i| i.to_string()).collect();
    let masked = wire[..n].iter().map(|b| format!("{b:02x}")).collect();
    let keys = (0..n).map(|i| format!("{:02x}", key[i % 4])).collect();
    let data: Vec<u8> = (0..n).map(|i| wire[i] ^ key[i % 4]).collect();
    let plain = data.iter().map(|b| format!("{b:02x}")).collect();
    let chars = data
        .iter()
        .map(|&b| {
            if (0x21..0x7f).contains(&b) {
                (b as char).to_string()
            } else {
                "·".into()
            }
        })
        .collect();
    let mut out = vec![
        row("i", idx, theme.dim()),
        row("wire", masked, theme.text()),
        row("key", keys, theme.hex_key()),
        row("data", plain, theme.value()),
        row("ascii", chars, theme.text()),
    ];
    if wire.len() > n {
        out.push(Line::styled(
            format!(
                "  … and so on for all {} bytes (key {:02x} {:02x} {:02x} {:02x} repeats every 4 bytes)",
                wire.len(),
                key[0],
                key[1],
                key[2],
                key[3]
            ),
            theme.dim(),
        ));
    }
    out
}
