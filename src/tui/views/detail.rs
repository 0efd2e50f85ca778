//! The frame detail pane: the selected frame's detail document
//! ([`crate::tui::docs::detail`]), scrolled.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

use crate::model::Capture;
use crate::tui::app::{App, Pane};

use super::pane_block;

/// Draws the detail pane.
pub fn render(app: &App, capture: &Capture, area: Rect, buf: &mut Buffer) {
    let focused = app.panes.pane == Pane::Detail;
    let title = if crate::tui::layout::both_lower(app.area) {
        " Detail ".to_string()
    } else {
        " Detail │ Tab: hex ".to_string()
    };
    let block = pane_block(&title, focused, app.theme);
    let inner = block.inner(area);
    block.render(area, buf);
    let doc = app.detail_document(capture, usize::from(inner.width));
    let start = app
        .panes
        .scroll
        .detail
        .min(doc.lines.len().saturating_sub(1));
    let end = (start + usize::from(inner.height)).min(doc.lines.len());
    let shown: Vec<Line<'static>> = doc.lines.get(start..end).unwrap_or(&[]).to_vec();
    Paragraph::new(shown).render(inner, buf);
    super::scroll_hint(start, end, doc.lines.len(), area, buf, app.theme);
}
