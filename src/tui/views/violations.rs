//! The violations view: every rule the selected connection broke, then every capture
//! problem (warning), one a row; the selected one explained below. Enter goes to the frame.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::model::{Capture, Dir};
use crate::tui::app::App;
use crate::tui::{format, layout};

use super::pane_block;
use crate::tui::docs::findings::{Entry, entries};
use crate::tui::docs::labels;

fn short_rfc(rfc: &str) -> String {
    rfc.strip_prefix("RFC 6455 ")
        .map(str::to_string)
        .unwrap_or_else(|| rfc.trim_start_matches("RFC ").to_string())
}

fn place(e: &Entry) -> String {
    match (e.frame, e.handshake) {
        (Some(f), _) => format!("frame {f}"),
        (None, true) => "handshake".into(),
        (None, false) => "-".into(),
    }
}

/// Draws the violations view.
pub fn render(app: &App, capture: &Capture, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let Some(c) = app.connection(capture) else {
        let block = pane_block(" Violations ", true, theme);
        Paragraph::new("No connection selected.")
            .block(block)
            .render(area, buf);
        return;
    };
    let list = entries(c);
    let (list_area, detail_area) = layout::list_and_detail(area, list.len());
    let title = format!(
        " Violations of {}: {}, warnings: {} · Enter: frame · Esc: back ",
        labels::label(c),
        c.violations.len(),
        c.warnings.len()
    );
    let block = pane_block(&title, true, theme);
    let inner = block.inner(list_area);
    block.render(list_area, buf);
    let code_w = list
        .iter()
        .map(|e| e.code.len())
        .max()
        .unwrap_or(4)
        .clamp(4, 34);
    let mut lines = vec![Line::styled(
        format!(
            "  {:<code_w$} {:<10} {:<10} {:<7} what was seen",
            "rule", "RFC", "where", "sent by"
        ),
        theme.title(),
    )];
    if list.is_empty() {
        lines.push(Line::styled(
            "  ✓ No violations and no capture problems on this connection.",
            theme.ok(),
        ));
    }
    let rows = usize::from(inner.height).saturating_sub(1);
    for e in list.iter().skip(app.overlays.list).take(rows) {
        let (mark, style) = if e.violation {
            ("✗ ", theme.bad())
        } else {
            ("! ", theme.warn())
        };
        lines.push(Line::from(vec![
            Span::styled(mark, style),
            Span::styled(format!("{:<code_w$} ", e.code), style),
            Span::styled(format!("{:<10} ", short_rfc(e.rfc)), theme.dim()),
            Span::raw(format!(
                "{:<10} {:<7} ",
                place(e),
                e.dir.map_or("-", Dir::name)
            )),
            Span::raw(format::printable(&e.detail)),
        ]));
    }
    Paragraph::new(lines).render(inner, buf);
    let row = app
        .overlays
        .cursor
        .checked_sub(app.overlays.list)
        .map(|r| r + 1);
    if !list.is_empty() {
        super::highlight_row(buf, inner, row, theme.selected());
    }
    let block = pane_block(" Explanation ", false, theme);
    let inner = block.inner(detail_area);
    block.render(detail_area, buf);
    let width = usize::from(inner.width);
    let notes = capture_notes(capture, width, theme);
    let Some(e) = list.get(app.overlays.cursor) else {
        Paragraph::new(notes).render(inner, buf);
        return;
    };
    let mut text = vec![Line::from(vec![
        Span::styled(if e.violation { "✗ " } else { "! " }, theme.bad()),
        Span::styled(e.code, theme.title()),
        Span::raw(if e.rfc.is_empty() {
            String::new()
        } else {
            format!("  ({})", e.rfc)
        }),
        Span::raw(format!(
            "  · {} · {}",
            e.dir.map_or("-", Dir::name),
            place(e)
        )),
    ])];
    for l in format::wrap(&format!("Seen: {}", e.detail), width) {
        text.push(Line::raw(l));
    }
    for l in format::wrap(&format!("Rule: {}", e.explain), width) {
        text.push(Line::styled(l, theme.dim()));
    }
    let action = match (e.frame, e.handshake) {
        (Some(f), _) => format!("Enter: show frame {f} in the detail pane"),
        (None, true) => "Enter: show the handshake".into(),
        (None, false) => String::new(),
    };
    text.push(Line::styled(action, theme.value()));
    text.extend(notes);
    Paragraph::new(text).render(inner, buf);
}

/// Problems of the capture as a whole (a truncated file, limits reached), shown under
/// every connection's explanation.
fn capture_notes(
    capture: &Capture,
    width: usize,
    theme: crate::tui::theme::Theme,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let notes = capture
        .source_error
        .iter()
        .map(|e| format!("the file could not be read to its end: {e}"));
    for note in notes.chain(capture.notes.iter().cloned()) {
        if out.is_empty() {
            out.push(Line::default());
            out.push(Line::styled("Capture notes", theme.title()));
        }
        out.extend(
            format::wrap(&format!("! {note}"), width)
                .into_iter()
                .map(|l| Line::styled(l, theme.warn())),
        );
    }
    out
}
