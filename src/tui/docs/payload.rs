//! Payload rendering: one-line previews for the lists, and full renderings (text,
//! pretty-printed JSON, or a hex dump) for the detail and messages views. Work is
//! bounded by what fits on screen, so a large payload costs no more than a small one.

use ratatui::text::Line;

use crate::model::close_code_meaning;
use crate::model::{Connection, FrameRecord, MessageKind, MessageRecord};
use crate::tui::format;
use crate::tui::theme::Theme;

/// Bytes looked at for a one-line preview.
const PREVIEW_BYTES: usize = 256;
/// Largest payload pretty-printed as JSON.
const JSON_LIMIT: usize = 256 << 10;
/// Bytes of a long payload looked at for text or hex (the hex pane has every byte).
const RENDER_LIMIT: usize = 64 << 10;

fn looks_like_text(bytes: &[u8]) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        // A character cut at the end of a prefix is still text.
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => return false,
    };
    String::from_utf8_lossy(&bytes[..valid])
        .chars()
        .all(|c| !c.is_control() || c == '\n' || c == '\t' || c == '\r')
}

/// A one-line rendering of some bytes: quoted text or hex, at most `chars` characters.
pub fn short(bytes: &[u8], text: bool, chars: usize) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    if text || looks_like_text(bytes) {
        let s = format::printable(&String::from_utf8_lossy(bytes));
        let cut: String = s.chars().take(chars.saturating_sub(2)).collect();
        let more = s.chars().count() > cut.chars().count();
        return format!("\"{cut}{}", if more { "…" } else { "\"" });
    }
    let n = bytes.len().min(chars / 2);
    let mut s = hex::encode(&bytes[..n]);
    if bytes.len() > n {
        s.push('…');
    }
    s
}

/// One-line preview of a frame's payload for the frame list.
pub fn frame_preview(conn: &Connection, f: &FrameRecord, chars: usize) -> String {
    let msg = conn.message_of(f);
    if let Some(m) = msg {
        if m.compressed {
            if m.frames.first() != Some(&f.index) {
                return "(continues compressed message)".into();
            }
            let head = format!("deflate→{}B ", m.len_label());
            let rest = chars.saturating_sub(head.chars().count());
            return head + &message_preview(m, rest);
        }
        if m.kind == MessageKind::Close && m.frames.first() == Some(&f.index) {
            return close_line(m);
        }
    }
    let text = msg.is_some_and(|m| m.kind == MessageKind::Text);
    short(&f.unmasked_prefix(PREVIEW_BYTES), text, chars)
}

/// One-line preview of a whole message (after decompression).
pub fn message_preview(m: &MessageRecord, chars: usize) -> String {
    if m.kind == MessageKind::Close {
        return close_line(m);
    }
    let data = m.data.get(..PREVIEW_BYTES.min(m.data.len())).unwrap_or(&[]);
    short(data, m.kind == MessageKind::Text, chars)
}

/// `1000 normal closure "bye"`, or `no status code`.
pub fn close_line(m: &MessageRecord) -> String {
    match m.close_code {
        Some(code) => format!(
            "{code} {} {:?}",
            close_code_meaning(code),
            m.close_reason.as_deref().unwrap_or("")
        ),
        None if m.len == 0 => "no status code".into(),
        None => "malformed close payload".into(),
    }
}

/// A close payload taken apart: the status code's two bytes and meaning, the reason.
pub fn close_lines(payload: &[u8], width: usize, theme: Theme) -> Vec<Line<'static>> {
    use crate::model::{ClosePayload, close_code_allowed, parse_close};
    let text = match parse_close(payload) {
        ClosePayload::Empty => {
            vec!["no payload: no status code given (applications see 1005)".to_string()]
        }
        ClosePayload::OneByte => vec!["1 byte: malformed, a status code takes 2 bytes".to_string()],
        ClosePayload::Status {
            code,
            reason,
            reason_valid,
        } => vec![
            format!(
                "status code  {:02x} {:02x} = {code}: {}{}",
                code >> 8,
                code & 0xff,
                close_code_meaning(code),
                if close_code_allowed(code) {
                    ""
                } else {
                    " (may not be sent)"
                }
            ),
            format!(
                "reason       {reason:?} ({} B{})",
                payload.len() - 2,
                if reason_valid {
                    " of UTF-8"
                } else {
                    ", not valid UTF-8"
                }
            ),
        ],
    };
    text.iter()
        .flat_map(|t| format::wrap(&format!("  {t}"), width))
        .map(|l| Line::styled(l, theme.value()))
        .collect()
}

/// A hex dump: `offset  hex bytes  |ascii|`, `per_line` bytes a line.
pub fn hex_line(bytes: &[u8], offset: usize, per_line: usize) -> String {
    let mut hexes = String::new();
    for i in 0..per_line {
        if i == 8 {
            hexes.push(' ');
        }
        match bytes.get(i) {
            Some(b) => hexes.push_str(&format!("{b:02x} ")),
            None => hexes.push_str("   "),
        }
    }
    let ascii: String = bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("{offset:06x}  {hexes} {ascii}")
}

/// A full rendering of a payload: a label (`text`, `JSON`, `binary`) and lines, at most
/// `max_lines` of at most `width` characters (long text lines wrap).
pub fn render(
    bytes: &[u8],
    text_hint: bool,
    width: usize,
    max_lines: usize,
    theme: Theme,
) -> (String, Vec<Line<'static>>) {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let label;
    let trimmed = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let json_like = trimmed.is_some_and(|i| matches!(bytes[i], b'{' | b'['));
    let json = (json_like && bytes.len() <= JSON_LIMIT)
        .then(|| serde_json::from_slice::<serde_json::Value>(bytes).ok())
        .flatten()
        .and_then(|v| serde_json::to_string_pretty(&v).ok());
    if let Some(pretty) = json {
        label = "JSON, pretty-printed";
        for l in pretty.lines() {
            lines.extend(format::wrap(l, width).into_iter().map(Line::from));
        }
    } else if bytes.is_empty() {
        label = "empty";
    } else if text_hint || looks_like_text(&bytes[..bytes.len().min(RENDER_LIMIT)]) {
        label = "text";
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(RENDER_LIMIT)]);
        for l in text.lines() {
            if lines.len() > max_lines {
                break;
            }
            let shown = format::printable(l);
            lines.extend(format::wrap(&shown, width).into_iter().map(Line::from));
        }
    } else {
        label = "binary, in hex";
        let per_line = if width >= 74 { 16 } else { 8 };
        for (i, chunk) in bytes.chunks(per_line).take(max_lines + 1).enumerate() {
            lines.push(Line::from(hex_line(chunk, i * per_line, per_line)));
        }
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        lines.push(Line::styled(
            format!(
                "… ({} in all; the hex pane shows every byte)",
                format::bytes(bytes.len() as u64)
            ),
            theme.dim(),
        ));
    }
    (label.to_string(), lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews() {
        assert_eq!(short(b"hello", false, 20), "\"hello\"");
        assert_eq!(short(b"hello world", true, 8), "\"hello …");
        assert_eq!(short(&[0, 1, 2, 0xff], false, 20), "000102ff");
        // A UTF-8 character cut by the prefix is still text.
        assert_eq!(
            short("café".as_bytes().get(..4).unwrap_or(&[]), false, 20),
            "\"caf\u{fffd}\""
        );
    }

    #[test]
    fn json_is_pretty_printed() {
        let (label, lines) = render(br#"{"a":1,"b":[true]}"#, true, 60, 50, Theme::new(false));
        assert_eq!(label, "JSON, pretty-printed");
        assert_eq!(lines.len(), 6);
        let (label, lines) = render(&[0u8; 40], false, 80, 2, Theme::new(false));
        assert_eq!(label, "binary, in hex");
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn hex_lines_have_offset_and_ascii() {
        assert_eq!(hex_line(b"Hi", 16, 4), "000010  48 69        Hi");
    }
}
