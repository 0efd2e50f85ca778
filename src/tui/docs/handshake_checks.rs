//! The handshake's checks, each with its rule, RFC section and what was seen, and the
//! Sec-WebSocket-Accept computation step by step (RFC 6455 §4.2.2).

use ratatui::text::{Line, Span};

use crate::model::Handshake;
use crate::tui::format;

use super::Doc;

/// Every check: ✓, ✗ or ? (not captured: the snaplen cut what it needs), rule, RFC
/// section, detail; a failed rule is explained.
pub(super) fn checks(p: &mut Doc, h: &Handshake) {
    p.heading("Checks (RFC 6455 §4)");
    let theme = p.theme;
    for c in &h.checks {
        let (mark, style) = if !c.judged {
            ("?", theme.dim())
        } else if c.ok {
            ("✓", theme.ok())
        } else {
            ("✗", theme.bad())
        };
        let wide_lead = 2 + 2 + 28 + 16;
        // The detail beside the rule when it fits there, else below it.
        let narrow = c.detail.chars().count() > p.width.saturating_sub(wide_lead);
        let lead = if narrow { 6 } else { wide_lead };
        let mut detail = format::wrap(&c.detail, p.width.saturating_sub(lead)).into_iter();
        let first = if narrow {
            String::new()
        } else {
            detail.next().unwrap_or_default()
        };
        p.lines.push(Line::from(vec![
            Span::styled(format!("  {mark} "), style),
            Span::styled(format!("{:<28}", c.rule.check_name()), style),
            Span::styled(format!("{:<16}", c.rule.rfc()), theme.dim()),
            Span::raw(first),
        ]));
        for more in detail {
            p.lines.push(Line::raw(format!("{:lead$}{more}", "")));
        }
        if c.failed() {
            p.para(c.rule.sentence(), 6, theme.dim());
        }
    }
}

/// The Accept computation, step by step, and whether the server's value matches.
pub(super) fn accept(p: &mut Doc, h: &Handshake) {
    let Some(a) = &h.accept else {
        return;
    };
    let theme = p.theme;
    p.heading("Sec-WebSocket-Accept, step by step (RFC 6455 §4.2.2)");
    let steps = [
        ("1. Sec-WebSocket-Key, as the client sent it", a.key.clone()),
        (
            "2. the key followed by the GUID 258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
            a.concatenated.clone(),
        ),
        ("3. SHA-1 of those bytes, in hex", a.sha1_hex.clone()),
        (
            "4. base64 of the 20-byte digest: the expected Accept",
            a.expected.clone(),
        ),
        (
            "5. Sec-WebSocket-Accept, as the server sent it",
            a.received.clone().unwrap_or_else(|| "(absent)".into()),
        ),
    ];
    for (label, value) in steps {
        if p.width >= 120 {
            p.lines.push(Line::from(vec![
                Span::raw(format!("  {label:<72}")),
                Span::styled(value, theme.value()),
            ]));
        } else {
            p.para(label, 2, theme.text());
            p.para(&value, 5, theme.value());
        }
    }
    let (mark, style, text) = if a.matches() {
        (
            "✓",
            theme.ok(),
            "the server's value matches: it read the key",
        )
    } else if a.received.is_none() && !h.accepted() {
        (
            "-",
            theme.dim(),
            "no Accept to compare: the server did not switch protocols",
        )
    } else {
        (
            "✗",
            theme.bad(),
            "the server's value differs from the expected one",
        )
    };
    p.lines.push(Line::from(vec![
        Span::styled(format!("  {mark} "), style),
        Span::styled(text, style),
    ]));
}
