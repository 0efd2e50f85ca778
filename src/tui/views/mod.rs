//! Rendering: one widget per pane, composed by [`AppView`]. Views read the state and the
//! capture and never change either.

pub mod connections;
pub mod detail;
pub mod frames;
pub mod handshake;
pub mod help;
pub mod hex;
pub mod messages;
pub mod stats;
pub mod status;
pub mod violations;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};

use crate::model::Capture;

use super::app::{App, View};
use super::layout;
use super::theme::Theme;

/// The whole screen: the state and the capture it shows.
pub struct AppView<'a> {
    /// The UI state.
    pub app: &'a App,
    /// The capture decoded so far.
    pub capture: &'a Capture,
}

impl<'a> AppView<'a> {
    /// A view of `app` over `capture`.
    pub fn new(app: &'a App, capture: &'a Capture) -> Self {
        AppView { app, capture }
    }
}

impl Widget for &AppView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, capture) = (self.app, self.capture);
        let (body, status_area) = layout::with_status(area);
        match app.view() {
            None => {
                let a = layout::main(
                    area,
                    app.panes.order.len(),
                    app.panes.visible.len(),
                    app.panes.show_hex,
                );
                connections::render(app, capture, a.connections, buf);
                frames::render(app, capture, a.frames, buf);
                if let Some(r) = a.detail {
                    detail::render(app, capture, r, buf);
                }
                if let Some(r) = a.hex {
                    hex::render(app, capture, r, buf);
                }
            }
            Some(View::Handshake) => handshake::render(app, capture, body, buf),
            Some(View::Violations) => violations::render(app, capture, body, buf),
            Some(View::Messages) => messages::render(app, capture, body, buf),
            Some(View::Stats) => stats::render(app, capture, body, buf),
            Some(View::Help) => help::render(app, body, buf),
        }
        status::render(app, capture, status_area, buf);
        if app.mode == super::command::Mode::FilterMenu {
            status::filter_menu(app, area, buf);
        }
    }
}

/// A bordered pane with a title; the focused pane's border is accented.
pub fn pane_block(title: &str, focused: bool, theme: Theme) -> Block<'static> {
    let style = if focused {
        theme.focus()
    } else {
        theme.border()
    };
    let title_style = if focused {
        theme.focus()
    } else {
        theme.title()
    };
    Block::bordered()
        .border_style(style)
        .title(Span::styled(title.to_string(), title_style))
}

/// Writes `lines start-end of total` on the bottom border when the text does not fit.
pub fn scroll_hint(
    start: usize,
    end: usize,
    total: usize,
    area: Rect,
    buf: &mut Buffer,
    theme: Theme,
) {
    if (start == 0 && end >= total) || area.height < 2 || area.width < 24 {
        return;
    }
    let text = format!(" {}-{} of {} ", start + 1, end, total);
    let x = area.right().saturating_sub(text.chars().count() as u16 + 2);
    buf.set_line(
        x,
        area.bottom() - 1,
        &Line::styled(text, theme.dim()),
        area.width,
    );
}

/// Paints the selection over row `row` of `inner` (full width), if it is on screen.
pub fn highlight_row(
    buf: &mut Buffer,
    inner: Rect,
    row: Option<usize>,
    style: ratatui::style::Style,
) {
    if let Some(r) = row.filter(|r| *r < usize::from(inner.height)) {
        let line = Rect::new(inner.x, inner.y + r as u16, inner.width, 1);
        buf.set_style(line, style);
    }
}

/// The selection style for a pane with or without focus.
pub fn selection(focused: bool, theme: Theme) -> ratatui::style::Style {
    if focused {
        theme.selected()
    } else {
        theme.selected_idle()
    }
}

/// Draws pre-built lines scrolled to `scroll`, inside a bordered pane.
pub fn scrolled_page(
    lines: Vec<Line<'static>>,
    scroll: usize,
    block: Block<'static>,
    area: Rect,
    buf: &mut Buffer,
    theme: Theme,
) {
    let inner = block.inner(area);
    block.render(area, buf);
    let rows = usize::from(inner.height);
    let start = scroll.min(lines.len().saturating_sub(rows));
    let end = (start + rows).min(lines.len());
    let total = lines.len();
    let shown: Vec<Line<'static>> = lines.into_iter().skip(start).take(rows).collect();
    ratatui::widgets::Paragraph::new(shown).render(inner, buf);
    scroll_hint(start, end, total, area, buf, theme);
}
