//! The messages view, like a browser's WebSocket message list: one row per message
//! (fragments assembled, decompressed), the selected message in full below.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::model::{Capture, Connection, Dir, MessageKind, MessageRecord};
use crate::tui::app::{App, TimeFormat};
use crate::tui::{format, layout};

use super::pane_block;
use crate::tui::docs::{labels, payload};

fn frames_text(m: &MessageRecord) -> String {
    match (m.frames.first(), m.frames.last()) {
        (Some(a), Some(b)) if a != b => format!("{a}-{b}"),
        (Some(a), _) => a.to_string(),
        _ => "-".into(),
    }
}

fn row(app: &App, c: &Connection, i: usize, m: &MessageRecord, width: usize) -> Line<'static> {
    let theme = app.theme;
    let (arrow, style) = match m.dir {
        Dir::Client => ("→", theme.client()),
        Dir::Server => ("←", theme.server()),
    };
    let time = match app.panes.time {
        TimeFormat::Relative => format::relative(m.ts, c.first_ts),
        TimeFormat::Absolute => format::clock(m.ts),
    };
    let deflated = if m.compressed {
        m.wire_len.to_string()
    } else {
        "-".into()
    };
    // Numbered in the whole connection (a window holds only some of its messages).
    let head = format!("{:>4} {time:>10} ", c.held.message_ordinal(i) + 1);
    let mid = format!(
        " {:<6} {:>8} {deflated:>8} {:>6} ",
        m.kind.name(),
        m.len_label(),
        frames_text(m)
    );
    let used = head.chars().count() + 2 + mid.chars().count();
    Line::from(vec![
        Span::raw(head),
        Span::styled(arrow, style),
        Span::raw(mid),
        Span::raw(payload::message_preview(m, width.saturating_sub(used))),
    ])
}

/// Draws the messages view.
pub fn render(app: &App, capture: &Capture, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let Some(c) = app.connection(capture) else {
        Paragraph::new("No connection selected.")
            .block(pane_block(" Messages ", true, theme))
            .render(area, buf);
        return;
    };
    let (list_area, body_area) = layout::list_and_detail(area, c.messages.len());
    let held = if c.messages.len() == c.message_count() {
        c.messages.len().to_string()
    } else {
        format!(
            "{}, {}–{} in memory",
            c.message_count(),
            c.held.message_ordinal(0) + 1,
            c.held.message_ordinal(c.messages.len())
        )
    };
    let title = format!(
        " Messages of {} ({held}) · → client, ← server · Enter: frame · Esc: back ",
        labels::label(c),
    );
    let block = pane_block(&title, true, theme);
    let inner = block.inner(list_area);
    block.render(list_area, buf);
    let width = usize::from(inner.width);
    let mut lines = vec![Line::styled(
        format!(
            "{:>4} {:>10}   {:<6} {:>8} {:>8} {:>6} data",
            "#", "time", "type", "length", "deflated", "frames"
        ),
        theme.title(),
    )];
    if c.messages.is_empty() {
        lines.push(Line::styled("No messages.", theme.dim()));
    }
    let rows = usize::from(inner.height).saturating_sub(1);
    lines.extend(
        c.messages
            .iter()
            .enumerate()
            .skip(app.overlays.list)
            .take(rows)
            .map(|(i, m)| row(app, c, i, m, width)),
    );
    Paragraph::new(lines).render(inner, buf);
    if !c.messages.is_empty() {
        let r = app
            .overlays
            .cursor
            .checked_sub(app.overlays.list)
            .map(|r| r + 1);
        super::highlight_row(buf, inner, r, theme.selected());
    }
    let Some(m) = c.messages.get(app.overlays.cursor) else {
        pane_block(" Message ", false, theme).render(body_area, buf);
        return;
    };
    let block = pane_block(
        &format!(
            " Message {} ",
            c.held.message_ordinal(app.overlays.cursor) + 1
        ),
        false,
        theme,
    );
    let inner = block.inner(body_area);
    block.render(body_area, buf);
    let width = usize::from(inner.width);
    let rows = usize::from(inner.height);
    let mut text = vec![Line::from(vec![
        Span::styled(format!("{} {}", m.dir.name(), m.kind.name()), theme.title()),
        Span::raw(format!(
            " · {} B{} · frames {} · sha256 {}",
            m.len_label(),
            if m.compressed {
                format!(" (deflated from {} B)", m.wire_len)
            } else {
                String::new()
            },
            frames_text(m),
            m.sha256.as_deref().map_or(
                if app.decoding.jobs.index().is_some() && !app.loading.done {
                    // The loader's first pass hashes nothing (see `loader::spawn_file`).
                    "computed once the file is read".to_string()
                } else {
                    "unknown (bytes missing)".to_string()
                },
                |h| format!("{}…", h.get(..16).unwrap_or(h))
            )
        )),
    ])];
    if let Some(why) = c.why_incomplete(m) {
        text.push(Line::styled(format!("incomplete: {why}"), theme.warn()));
    }
    if m.kind == MessageKind::Close {
        text.push(Line::raw(payload::close_line(m)));
    } else {
        let (label, body) =
            payload::render(&m.data, m.kind == MessageKind::Text, width, rows, theme);
        text.push(Line::styled(label, theme.dim()));
        text.extend(body);
    }
    Paragraph::new(text).render(inner, buf);
}
