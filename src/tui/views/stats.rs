//! The stats view (`s`): the selected connection's stats document
//! ([`crate::tui::docs::stats`]), scrolled.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::model::Capture;
use crate::tui::app::App;
use crate::tui::docs;

use super::pane_block;

/// Draws the stats view.
pub fn render(app: &App, capture: &Capture, area: Rect, buf: &mut Buffer) {
    let block = pane_block(
        " Stats: heartbeats and overhead · Esc: back ",
        true,
        app.theme,
    );
    let width = usize::from(block.inner(area).width);
    let lines = docs::stats::document(app.connection(capture), width, app.theme).lines;
    super::scrolled_page(lines, app.overlays.page, block, area, buf, app.theme);
}
