//! The status line (position, filter, search, file, reading progress; or the search
//! input line) and the filter menu.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use crate::model::{Capture, Dir};
use crate::tui::app::{App, View};
use crate::tui::command::Mode;
use crate::tui::filter::{FilterChoice, OpcodeClass};
use crate::tui::{format, layout};

use super::pane_block;

fn progress(app: &App, capture: &Capture) -> String {
    if let Some([seen, kernel, queue]) = app.loading.live {
        let frames = capture.frame_count();
        return format!(
            "{} · {seen} pkts, {kernel} kernel drops, {queue} queue drops · {} conns, {frames} frames",
            if app.loading.done { "stopped" } else { "live" },
            capture.connections.len()
        );
    }
    if app.loading.done {
        return match &capture.source_error {
            Some(_) => "file cut short (v: details)".to_string(),
            None => format!("{} packets", capture.stats.packets),
        };
    }
    match app.loading.progress {
        Some(p) => {
            let filled = (p * 10.0).round() as usize;
            format!(
                "reading {:>3.0}% {}{}",
                p * 100.0,
                "█".repeat(filled.min(10)),
                "░".repeat(10 - filled.min(10))
            )
        }
        None => format!("reading… {}", format::bytes(app.loading.bytes_read)),
    }
}

fn position(app: &App, capture: &Capture) -> String {
    let mut parts = Vec::new();
    if let Some(view) = app.view() {
        parts.push(
            match view {
                View::Handshake => "handshake",
                View::Stats => "stats",
                View::Violations => "violations",
                View::Messages => "messages",
                View::Help => "help",
            }
            .to_string(),
        );
    }
    match (app.panes.frame, app.frame_pos()) {
        (Some(index), Some(pos)) if !app.filter.is_empty() => {
            parts.push(format!(
                "frame {index} · {}/{} shown",
                pos + 1,
                app.panes.visible.len()
            ));
        }
        (Some(_), Some(pos)) => {
            parts.push(format!("frame {}/{}", pos + 1, app.panes.visible.len()))
        }
        _ => parts.push("no frame".into()),
    }
    if app.panes.order.len() > 1
        && let Some(p) = app.conn_pos(capture)
    {
        parts.push(format!("conn {}/{}", p + 1, app.panes.order.len()));
    }
    if let Some(f) = app.filter.describe() {
        parts.push(format!("filter: {f}"));
    }
    if let Some(q) = &app.search.query {
        match app.search.count {
            Some(1) => parts.push(format!("/{q} (1 match)")),
            Some(n) => parts.push(format!("/{q} ({n} matches)")),
            None => parts.push(format!("/{q}")),
        }
    }
    parts.join(" · ")
}

/// Draws the status line.
pub fn render(app: &App, capture: &Capture, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let right = format!(" {} · {} ", app.file_name, progress(app, capture));
    let left = match (app.mode, &app.notice) {
        (Mode::Search, _) => Line::from(vec![
            Span::styled("/", theme.value()),
            Span::styled(format!("{}▏", app.search.input), theme.input()),
            Span::styled("  Enter: keep · Esc: cancel", theme.dim()),
            Span::styled(
                app.notice
                    .as_deref()
                    .map(|n| format!(" · {n}"))
                    .unwrap_or_default(),
                theme.warn(),
            ),
        ]),
        (Mode::FilterMenu, _) => Line::styled("filter menu: press a key · Esc closes", theme.dim()),
        _ if app.decoding.scanning.is_some() => Line::styled(
            app.decoding
                .scanning
                .as_ref()
                .map(|s| s.describe())
                .unwrap_or_default(),
            theme.warn(),
        ),
        (_, Some(n)) => Line::styled(n.clone(), theme.warn()),
        _ => Line::raw(position(app, capture)),
    };
    let room = usize::from(area.width).saturating_sub(left.width() + 1);
    let with_help = format!("{right}· ? help ");
    let right = if with_help.chars().count() <= room {
        with_help
    } else {
        right
    };
    let right_w = right.chars().count().min(room) as u16;
    let left_area = Rect {
        width: area.width.saturating_sub(right_w),
        ..area
    };
    let right_area = Rect {
        x: area.x + area.width.saturating_sub(right_w),
        width: right_w,
        ..area
    };
    Paragraph::new(left).render(left_area, buf);
    Paragraph::new(Line::styled(right, theme.dim()).right_aligned()).render(right_area, buf);
}

fn active(app: &App, choice: FilterChoice) -> bool {
    let f = &app.filter;
    match choice {
        FilterChoice::Client => f.dir == Some(Dir::Client),
        FilterChoice::Server => f.dir == Some(Dir::Server),
        FilterChoice::BothDirections => f.dir.is_none(),
        FilterChoice::Data => f.class == Some(OpcodeClass::Data),
        FilterChoice::Control => f.class == Some(OpcodeClass::Control),
        FilterChoice::AllOpcodes => f.class.is_none(),
        FilterChoice::ViolationsOnly => f.violations_only,
        FilterChoice::MatchingSearch => f.matching,
        FilterChoice::Clear => false,
    }
}

/// Draws the filter menu over the screen.
pub fn filter_menu(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let lines: Vec<Line<'static>> = FilterChoice::MENU
        .iter()
        .map(|(key, choice, label)| {
            let mark = if active(app, *choice) { "●" } else { " " };
            Line::from(vec![
                Span::styled(format!(" {key} "), theme.value()),
                Span::raw(format!("{mark} {label}")),
            ])
        })
        .collect();
    let r = layout::centered(area, 50, lines.len() as u16 + 2);
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(pane_block(" Filter frames · Esc: close ", true, theme))
        .render(r, buf);
}
