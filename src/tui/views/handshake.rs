//! The handshake view: the selected connection's handshake document
//! ([`crate::tui::docs::handshake`]), scrolled.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::model::Capture;
use crate::tui::app::App;
use crate::tui::docs;

use super::pane_block;

/// Draws the handshake view.
pub fn render(app: &App, capture: &Capture, area: Rect, buf: &mut Buffer) {
    let block = pane_block(" Handshake (RFC 6455 §4) · Esc: back ", true, app.theme);
    let width = usize::from(block.inner(area).width);
    let lines = docs::handshake::document(app.connection(capture), width, app.theme).lines;
    super::scrolled_page(lines, app.overlays.page, block, area, buf, app.theme);
}
