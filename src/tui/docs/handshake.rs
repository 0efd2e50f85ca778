//! The handshake document: request and response heads, every check with its rule and RFC
//! section, the Sec-WebSocket-Accept computation step by step, and what was negotiated.
//! A refused upgrade is an outcome; a midstream connection says no handshake was seen.

use ratatui::text::{Line, Span};

use crate::model::Connection;
use crate::model::DeflateParams;
use crate::model::{Handshake, HttpHead};
use crate::tui::format;
use crate::tui::theme::Theme;

use super::{Doc, handshake_checks, labels};

/// What the handshake document writes besides paragraphs.
trait Heads {
    fn head(&mut self, title: &str, head: &HttpHead, start: crate::model::Timestamp);
}

impl Heads for Doc {
    fn head(&mut self, title: &str, head: &HttpHead, start: crate::model::Timestamp) {
        self.heading(format!(
            "{title} · packet {} · +{} s",
            head.packet,
            format::relative(head.ts, start)
        ));
        self.lines.push(Line::styled(
            format!("  {}", head.first_line()),
            self.theme.value(),
        ));
        for (name, value) in &head.headers {
            let text = format!("{name}: {value}");
            let mut parts = format::wrap(&text, self.width.saturating_sub(6)).into_iter();
            let first = parts.next().unwrap_or_default();
            let (n, v) = first.split_at(name.len().min(first.len()));
            self.lines.push(Line::from(vec![
                Span::styled(format!("  {n}"), self.theme.title()),
                Span::raw(v.to_string()),
            ]));
            for more in parts {
                self.lines.push(Line::raw(format!("      {more}")));
            }
        }
        if head.cut {
            self.lines.push(Line::styled(
                format!(
                    "  ⋯ the snaplen cut the head after {} bytes: the rest is not in the capture",
                    head.len
                ),
                self.theme.warn(),
            ));
        }
    }
}

/// Request and response, side by side when the page is wide enough.
fn heads(p: &mut Doc, h: &Handshake, start: crate::model::Timestamp) {
    let wide = p.width >= 140;
    let half = p.width / 2;
    let mut left = Doc::new(if wide { half - 1 } else { p.width }, p.theme);
    left.head("Request (client → server)", &h.request, start);
    let mut right = Doc::new(left.width, p.theme);
    if let Some(r) = &h.response {
        right.head("Response (server → client)", r, start);
    }
    if !wide {
        p.lines.append(&mut left.lines);
        p.lines.append(&mut right.lines);
        return;
    }
    let rows = left.lines.len().max(right.lines.len());
    let mut l = left.lines.into_iter();
    let mut r = right.lines.into_iter();
    for _ in 0..rows {
        let mut line = l.next().unwrap_or_default();
        let pad = half.saturating_sub(line.width());
        line.spans.push(Span::raw(" ".repeat(pad)));
        line.spans.extend(r.next().unwrap_or_default().spans);
        p.lines.push(line);
    }
}

fn outcome(p: &mut Doc, h: &Handshake) {
    let Some(status) = h.status() else {
        p.heading("Outcome");
        p.para(
            "The capture holds the request but no response.",
            2,
            p.theme.warn(),
        );
        return;
    };
    if status == 101 {
        return;
    }
    p.heading("Outcome: the server refused the upgrade");
    let reason = h
        .response
        .as_ref()
        .map(HttpHead::first_line)
        .unwrap_or_default();
    let mut text = format!(
        "The server answered {reason}. A refusal is an outcome, not a protocol violation: a server may refuse with any status other than 101 (RFC 6455 §4.2.2), and the connection stays plain HTTP."
    );
    let versions = h
        .response
        .as_ref()
        .and_then(|r| r.header("sec-websocket-version"));
    if status == 426 || versions.is_some() {
        text.push_str(&format!(
            " With 426 Upgrade Required the server lists the versions it speaks in Sec-WebSocket-Version (RFC 6455 §4.4): {}.",
            versions.as_deref().unwrap_or("none listed")
        ));
    }
    p.para(&text, 2, p.theme.warn());
}

fn params(side: &str, d: &DeflateParams) -> String {
    format!(
        "{side}: {}, window up to 2^{} bytes",
        if d.no_context_takeover {
            "each message compressed on its own (no context takeover)"
        } else {
            "keeps its window between messages (context takeover)"
        },
        d.max_window_bits
    )
}

fn negotiated(p: &mut Doc, h: &Handshake) {
    if !h.accepted() {
        return;
    }
    p.heading("Negotiated");
    let cut = h.response.as_ref().is_some_and(|r| r.cut);
    let offered = if h.offered_subprotocols.is_empty() {
        "none".to_string()
    } else {
        h.offered_subprotocols.join(", ")
    };
    p.para(
        &format!(
            "subprotocol: {} (client offered: {offered})",
            h.subprotocol.as_deref().unwrap_or(if cut {
                "unknown (cut by the snaplen)"
            } else {
                "none"
            })
        ),
        2,
        p.theme.text(),
    );
    let none = if cut {
        "unknown (the snaplen cut the response before any Sec-WebSocket-Extensions showed)"
    } else {
        "none"
    };
    p.para(
        &format!("extensions: {}", h.extensions.as_deref().unwrap_or(none)),
        2,
        p.theme.text(),
    );
    if let Some(d) = &h.deflate {
        p.para(&params("client → server", &d.client), 4, p.theme.dim());
        p.para(&params("server → client", &d.server), 4, p.theme.dim());
    }
}

fn midstream(p: &mut Doc, c: &Connection) {
    p.heading("No handshake was captured");
    p.para("The capture started after this connection was opened, so the HTTP Upgrade request and response are not in it. wsscope recognised WebSocket framing in the TCP stream; the subprotocol and extensions (such as permessage-deflate) are unknown, so compression and RSV bits are judged leniently.", 2, p.theme.text());
    for w in &c.warnings {
        p.para(
            &format!("{}: {}", w.warning.code(), w.detail),
            2,
            p.theme.warn(),
        );
    }
}

/// The handshake document of `conn` (`None`: no connection is selected), `width`
/// columns wide.
pub fn document(conn: Option<&Connection>, width: usize, theme: Theme) -> Doc {
    let mut p = Doc::new(width, theme);
    let Some(c) = conn else {
        p.push(Line::styled("No connection selected.", theme.dim()));
        return p;
    };
    let v = labels::verdict(c);
    p.lines.push(Line::from(vec![
        Span::styled(format!("{} ", v.mark()), v.style(theme)),
        Span::styled(format!("Connection {} ", labels::label(c)), theme.title()),
        Span::raw(format!("{} → {}", c.client, c.server)),
    ]));
    p.lines.push(Line::styled(
        format!("  {}", labels::outcome(c)),
        v.style(theme),
    ));
    let Some(h) = &c.handshake else {
        midstream(&mut p, c);
        return p;
    };
    outcome(&mut p, h);
    heads(&mut p, h, c.first_ts);
    handshake_checks::checks(&mut p, h);
    handshake_checks::accept(&mut p, h);
    negotiated(&mut p, h);
    p
}
