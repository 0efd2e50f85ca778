//! The connection list: a verdict mark, the endpoints, the handshake outcome and counts.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::model::{Capture, Connection};
use crate::tui::app::{App, Pane};
use crate::tui::theme::Theme;

use super::pane_block;
use crate::tui::docs::labels::{label, short_outcome, verdict};

fn row(c: &Connection, theme: Theme) -> Vec<Span<'static>> {
    let v = verdict(c);
    let mut spans = vec![
        Span::styled(format!("{} ", v.mark()), v.style(theme)),
        Span::styled(format!("{:<4}", label(c)), theme.title()),
        Span::raw(format!("{} → {}", c.client, c.server)),
        Span::styled(format!("  {} frames · ", c.frame_count()), theme.dim()),
        Span::raw(short_outcome(c)),
    ];
    if let Some(t) = &c.tls {
        // wss://: decrypted with the key log.
        let suite = t.suite_name().unwrap_or_default();
        let sni = t
            .sni
            .as_deref()
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        spans.push(Span::styled(
            format!(" · 🔒 {} {suite}{sni}", t.version_name()),
            theme.dim(),
        ));
    }
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
    let focused = app.panes.pane == Pane::Connections;
    let reading = if app.loading.done { "" } else { ", reading…" };
    let title = format!(" Connections ({}{reading}) ", app.panes.order.len());
    let block = pane_block(&title, focused, app.theme);
    let inner = block.inner(area);
    block.render(area, buf);
    if app.panes.order.is_empty() {
        let tls = capture.tls_flows.len();
        let msg = if app.loading.done && tls > 0 {
            format!(
                "No WebSocket connection: {tls} TLS connection{} not decrypted (its key log: --keylog FILE or SSLKEYLOGFILE).",
                if tls == 1 { "" } else { "s" }
            )
        } else if app.loading.done {
            "No WebSocket connection in this capture (try --port N for traffic without a handshake).".to_string()
        } else {
            "Waiting for the first WebSocket connection…".to_string()
        };
        Paragraph::new(Line::styled(msg, app.theme.dim()))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .render(inner, buf);
        return;
    }
    let selected = app.conn_pos(capture);
    let rows = usize::from(inner.height);
    let lines: Vec<Line<'static>> = app
        .panes
        .order
        .iter()
        .enumerate()
        .skip(app.panes.scroll.connections)
        .take(rows)
        .filter_map(|(_, &i)| {
            capture
                .connections
                .get(i)
                .map(|c| Line::from(row(c, app.theme)))
        })
        .collect();
    Paragraph::new(lines).render(inner, buf);
    let row = selected.and_then(|p| p.checked_sub(app.panes.scroll.connections));
    super::highlight_row(buf, inner, row, super::selection(focused, app.theme));
    let end = (app.panes.scroll.connections + rows).min(app.panes.order.len());
    super::scroll_hint(
        app.panes.scroll.connections,
        end,
        app.panes.order.len(),
        area,
        buf,
        app.theme,
    );
}
