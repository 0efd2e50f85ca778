//! Where each pane goes for a given terminal size. Both rendering and the state update
//! (page sizes, keeping the selection visible, mouse clicks) use these rectangles, so
//! they always agree.
//!
//! - 80×24 and other small sizes: connections, frames, then one lower pane that shows
//!   the frame detail or the hex dump (Tab switches between them).
//! - 40 rows or more: detail above hex.
//! - 160 columns or more: detail and hex side by side.

use ratatui::layout::{Constraint, Layout, Rect};

/// Columns from which detail and hex sit side by side.
pub const WIDE: u16 = 160;
/// Rows from which detail and hex are both shown, stacked.
pub const TALL: u16 = 40;
/// Width of the hex pane when it sits beside the detail (16 bytes a line).
pub const HEX_WIDTH: u16 = 78;

/// The panes of the main view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MainAreas {
    /// Connection list.
    pub connections: Rect,
    /// Frame list of the selected connection.
    pub frames: Rect,
    /// Frame detail, when shown.
    pub detail: Option<Rect>,
    /// Hex dump, when shown.
    pub hex: Option<Rect>,
    /// Status line.
    pub status: Rect,
}

/// Splits off the bottom line for the status.
pub fn with_status(area: Rect) -> (Rect, Rect) {
    let [body, status] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    (body, status)
}

/// Detail and hex are both visible at this size.
pub fn both_lower(area: Rect) -> bool {
    area.width >= WIDE || area.height >= TALL
}

/// The main view's panes. `connections` and `frames` are the lengths of the two lists
/// (short lists get short panes); `show_hex` picks the lower pane when only one fits.
pub fn main(area: Rect, connections: usize, frames: usize, show_hex: bool) -> MainAreas {
    let (body, status) = with_status(area);
    let tall = area.height >= TALL;
    let most = if tall { 8 } else { 3 };
    let conn_h = (connections.clamp(1, most) as u16 + 2).min(body.height);
    let rest = body.height.saturating_sub(conn_h);
    let frames_h = if tall {
        (rest * 2 / 5).min(frames.max(4) as u16 + 3)
    } else {
        (rest * 9 / 20).max(7)
    }
    .min(rest);
    let [connections, frames, lower] = Layout::vertical([
        Constraint::Length(conn_h),
        Constraint::Length(frames_h),
        Constraint::Min(0),
    ])
    .areas(body);
    let (detail, hex) = if area.width >= WIDE {
        let [d, h] =
            Layout::horizontal([Constraint::Min(0), Constraint::Length(HEX_WIDTH)]).areas(lower);
        (Some(d), Some(h))
    } else if tall {
        let [d, h] =
            Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(lower);
        (Some(d), Some(h))
    } else if show_hex {
        (None, Some(lower))
    } else {
        (Some(lower), None)
    };
    MainAreas {
        connections,
        frames,
        detail,
        hex,
        status,
    }
}

/// A list above and the selected item's detail below (violations, messages).
pub fn list_and_detail(body: Rect, items: usize) -> (Rect, Rect) {
    let list_h = (items.max(1) as u16 + 3)
        .min(body.height / 2)
        .max(4.min(body.height));
    let [list, detail] =
        Layout::vertical([Constraint::Length(list_h), Constraint::Min(0)]).areas(body);
    (list, detail)
}

/// Rows inside a bordered box.
pub fn inner_rows(r: Rect) -> usize {
    usize::from(r.height.saturating_sub(2))
}

/// Columns inside a bordered box.
pub fn inner_cols(r: Rect) -> usize {
    usize::from(r.width.saturating_sub(2))
}

/// A centred box of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_terminal_shows_one_lower_pane() {
        let a = main(Rect::new(0, 0, 80, 24), 1, 100, false);
        assert_eq!(a.connections.height, 3);
        assert!(a.detail.is_some() && a.hex.is_none());
        assert_eq!(a.status.y, 23);
        let total = a.connections.height + a.frames.height + a.detail.map_or(0, |d| d.height);
        assert_eq!(total, 23);
        let a = main(Rect::new(0, 0, 80, 24), 1, 100, true);
        assert!(a.detail.is_none() && a.hex.is_some());
    }

    #[test]
    fn wide_terminal_puts_hex_beside_detail() {
        let a = main(Rect::new(0, 0, 160, 48), 5, 100, false);
        let (d, h) = (a.detail.expect("detail"), a.hex.expect("hex"));
        assert_eq!(d.y, h.y);
        assert_eq!(h.width, HEX_WIDTH);
        assert_eq!(d.width + h.width, 160);
    }
}
