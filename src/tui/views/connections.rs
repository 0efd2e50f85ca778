//! The connection list: a verdict mark, the endpoints, the handshake outcome and counts.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::model::{Capture, Connection};
use crate::tui::app::{App, Pane};
use crate::tui::theme::Theme;

use super::pane_block;

/// What the connection list says about a connection at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Handshake accepted, every check passed, no violation.
    Clean,
    /// At least one rule broken.
    Broken,
    /// Cannot tell: no handshake captured, no response, or the upgrade was refused.
    Unknown,
}

impl Verdict {
    /// ✓, ✗ or ?.
    pub fn mark(self) -> &'static str {
        match self {
            Verdict::Clean => "✓",
            Verdict::Broken => "✗",
            Verdict::Unknown => "?",
        }
    }

    /// The mark's style.
    pub fn style(self, theme: Theme) -> Style {
        match self {
            Verdict::Clean => theme.ok(),
            Verdict::Broken => theme.bad(),
            Verdict::Unknown => theme.warn(),
        }
    }
}

/// The verdict on a connection.
pub fn verdict(c: &Connection) -> Verdict {
    if !c.violations.is_empty() {
        return Verdict::Broken;
    }
    match &c.handshake {
        Some(h) if h.valid => Verdict::Clean,
        Some(h) if h.accepted() => Verdict::Broken,
        _ => Verdict::Unknown,
    }
}

/// The handshake's outcome in a few words.
pub fn outcome(c: &Connection) -> String {
    match &c.handshake {
        None if c.midstream => "no handshake captured (midstream)".into(),
        None => "no handshake".into(),
        Some(h) => match h.status() {
            Some(101) if h.valid => "handshake ok (101)".into(),
            Some(101) => format!(
                "handshake accepted, {} check(s) failed",
                h.failed_checks().count()
            ),
            Some(s) => format!("upgrade refused ({s})"),
            None => "no response captured".into(),
        },
    }
}

/// The outcome in a word or two, for the list.
pub fn short_outcome(c: &Connection) -> String {
    match &c.handshake {
        None if c.midstream => "midstream".into(),
        None => "no handshake".into(),
        Some(h) => match h.status() {
            Some(101) if h.valid => "101 ok".into(),
            Some(101) => format!("101, {} check(s) failed", h.failed_checks().count()),
            Some(s) => format!("refused ({s})"),
            None => "no response".into(),
        },
    }
}

/// `#1` once numbered, `#?` while the capture is still being read.
pub fn label(c: &Connection) -> String {
    if c.id == 0 {
        "#?".into()
    } else {
        format!("#{}", c.id)
    }
}

fn row(c: &Connection, theme: Theme) -> Vec<Span<'static>> {
    let v = verdict(c);
    let mut spans = vec![
        Span::styled(format!("{} ", v.mark()), v.style(theme)),
        Span::styled(format!("{:<4}", label(c)), theme.title()),
        Span::raw(format!("{} → {}", c.client, c.server)),
        Span::styled(format!("  {} frames · ", c.frame_count()), theme.dim()),
        Span::raw(short_outcome(c)),
    ];
    if !c.violations.is_empty() {
        spans.push(Span::styled(
            format!(" · {} violations", c.violations.len()),
            theme.bad(),
        ));
    }
    if !c.warnings.is_empty() {
        spans.push(Span::styled(
            format!(" · {} warnings", c.warnings.len()),
            theme.warn(),
        ));
    }
    spans
}

/// Draws the connection list.
pub fn render(app: &App, capture: &Capture, area: Rect, buf: &mut Buffer) {
    let focused = app.pane == Pane::Connections;
    let reading = if app.loading.done { "" } else { ", reading…" };
    let title = format!(" Connections ({}{reading}) ", app.order.len());
    let block = pane_block(&title, focused, app.theme);
    let inner = block.inner(area);
    block.render(area, buf);
    if app.order.is_empty() {
        let msg = if app.loading.done {
            "No WebSocket connection in this capture (try --port N for traffic without a handshake)."
        } else {
            "Waiting for the first WebSocket connection…"
        };
        Paragraph::new(Line::styled(msg, app.theme.dim())).render(inner, buf);
        return;
    }
    let selected = app.conn_pos(capture);
    let rows = usize::from(inner.height);
    let lines: Vec<Line<'static>> = app
        .order
        .iter()
        .enumerate()
        .skip(app.scroll.connections)
        .take(rows)
        .filter_map(|(_, &i)| {
            capture
                .connections
                .get(i)
                .map(|c| Line::from(row(c, app.theme)))
        })
        .collect();
    Paragraph::new(lines).render(inner, buf);
    let row = selected.and_then(|p| p.checked_sub(app.scroll.connections));
    super::highlight_row(buf, inner, row, super::selection(focused, app.theme));
    let end = (app.scroll.connections + rows).min(app.order.len());
    super::scroll_hint(
        app.scroll.connections,
        end,
        app.order.len(),
        area,
        buf,
        app.theme,
    );
}
