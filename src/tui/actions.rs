//! What movement keys, Enter and the mouse do in each pane and view.

use crate::model::Capture;

use super::app::{App, Pane, View};
use super::command::Command;
use super::decoding::Purpose;
use super::docs;
use super::layout;
use super::nav::target;
use super::views;

/// Lines the mouse wheel scrolls a text pane.
const WHEEL_LINES: usize = 3;

impl App {
    pub(crate) fn movement(&mut self, cmd: Command, capture: &Capture) {
        match self.view() {
            None => self.main_movement(cmd, capture),
            Some(View::Handshake | View::Help | View::Stats) => {
                let (body, _) = layout::with_status(self.area);
                let (w, rows) = (layout::inner_cols(body), layout::inner_rows(body));
                let total = match self.view() {
                    Some(View::Handshake) => {
                        docs::handshake::document(self.connection(capture), w, self.theme).len()
                    }
                    Some(View::Stats) => {
                        docs::stats::document(self.connection(capture), w, self.theme).len()
                    }
                    _ => views::help::lines(self.theme, w).len(),
                };
                let max = total.saturating_sub(rows);
                if let Some(p) = target(Some(self.overlays.page), max + 1, cmd, rows) {
                    self.overlays.page = p;
                }
            }
            Some(View::Violations | View::Messages) => {
                if cmd == Command::Open {
                    self.open_list_item(capture);
                } else if let Some(p) =
                    target(Some(self.overlays.cursor), self.list_len(capture), cmd, 10)
                {
                    self.overlays.cursor = p;
                }
            }
        }
    }

    fn main_movement(&mut self, cmd: Command, capture: &Capture) {
        if matches!(cmd, Command::Left | Command::Right) {
            self.step_field(cmd == Command::Right, capture);
            return;
        }
        if cmd == Command::Open {
            match self.panes.pane {
                Pane::Connections => self.focus(Pane::Frames),
                Pane::Frames => self.focus(Pane::Detail),
                Pane::Detail => self.focus(Pane::Hex),
                Pane::Hex => {}
            }
            return;
        }
        let page = self.page(self.panes.pane);
        match self.panes.pane {
            Pane::Connections => {
                if let Some(p) = target(self.conn_pos(capture), self.panes.order.len(), cmd, page) {
                    self.select_conn(p, capture);
                }
            }
            Pane::Frames => {
                // On a frame a connection being read has let go: the frames held all
                // come after it, so a step down goes to the first of them.
                let before_held = self
                    .panes
                    .frame
                    .is_some_and(|f| self.dropped_while_read(self.record(capture), f));
                if before_held && matches!(cmd, Command::Down | Command::PageDown) {
                    if !self.panes.visible.is_empty() {
                        self.select_frame_pos(0, capture);
                    }
                } else if !self.move_past_window(cmd, page, capture)
                    && let Some(p) = target(self.frame_pos(), self.panes.visible.len(), cmd, page)
                {
                    self.select_frame_pos(p, capture);
                }
            }
            Pane::Detail => match cmd {
                Command::Up | Command::Down => self.step_field(cmd == Command::Down, capture),
                _ => self.scroll_pane(Pane::Detail, cmd, capture),
            },
            Pane::Hex => self.scroll_pane(Pane::Hex, cmd, capture),
        }
    }

    /// When the shown connection is a window of a long one and `cmd` leads past its
    /// first or last frame: goes there (with a filter, to the nearest frame that
    /// passes it, found by reading the connection again) and returns true.
    pub(crate) fn move_past_window(
        &mut self,
        cmd: Command,
        page: usize,
        capture: &Capture,
    ) -> bool {
        let Some((wanted, forward)) = self.past_window(cmd, page, capture) else {
            return false;
        };
        if self.filter.is_empty() {
            self.go_past_window(wanted, capture);
            return true;
        }
        let Some(record) = self.record(capture) else {
            return true;
        };
        let total = u32::try_from(record.frame_count()).unwrap_or(u32::MAX);
        let range = if forward {
            (wanted, total)
        } else {
            (1, wanted)
        };
        if let Some(found) = self.start_scan(record, range, Purpose::Move { forward }) {
            self.moved_to(found, forward, capture);
        }
        true
    }

    /// When the shown connection is a window of a long one and `cmd` leads past its
    /// first or last frame: the index of the frame to go to, and whether that is
    /// forwards (a frame at or after it is wanted) or backwards.
    fn past_window(&self, cmd: Command, page: usize, capture: &Capture) -> Option<(u32, bool)> {
        let conn = self.connection(capture)?;
        // A window, or a long connection whose first window is still being decoded.
        if !conn.held.is_window() && !self.shown_in_windows(conn) {
            return None;
        }
        let (first, last) = conn.held_frames().unwrap_or((u32::MAX, 0));
        let total = u32::try_from(conn.frame_count()).unwrap_or(u32::MAX);
        let pos = self.frame_pos();
        let len = self.panes.visible.len();
        let page = page.max(1);
        let step = u32::try_from(page).unwrap_or(u32::MAX);
        let current = self.panes.frame.unwrap_or(1);
        // With nothing in the list (a filter that no frame of the window passes), the
        // keys move past the window's ends.
        let (wanted, forward) = match (cmd, pos) {
            (Command::Down, Some(p)) if p + 1 >= len => (last + 1, true),
            (Command::Down, None) if len == 0 => (last.saturating_add(1), true),
            (Command::Up, Some(0)) => (first - 1, false),
            (Command::Up, None) if len == 0 => (first.saturating_sub(1), false),
            (Command::PageDown, Some(p)) if p + page >= len => {
                (current.saturating_add(step).max(last + 1), true)
            }
            (Command::PageUp, Some(p)) if p < page => {
                (current.saturating_sub(step).min(first - 1), false)
            }
            (Command::First, _) => (1, true),
            (Command::Last, _) => (total, false),
            _ => return None,
        };
        if wanted == 0 || wanted > total {
            return None;
        }
        let outside = wanted < first || wanted > last;
        // With a filter, the nearest frame that passes may be in the window or past it.
        (outside || !self.filter.is_empty()).then_some((wanted, forward))
    }

    /// Selects frame `index`, outside the window of a long connection shown: the window
    /// around it is decoded (the selection waits for it).
    pub(crate) fn go_past_window(&mut self, index: u32, capture: &Capture) {
        self.panes.frame = Some(index);
        self.decode_selected(capture);
        self.sync(capture);
    }

    /// Scrolls the text of the detail or hex pane.
    fn scroll_pane(&mut self, pane: Pane, cmd: Command, capture: &Capture) {
        let (total, rows) = match pane {
            Pane::Detail => {
                let (w, rows) = self.detail_size();
                (self.detail_document(capture, w).len(), rows)
            }
            Pane::Hex => {
                let (w, rows) = self.hex_size();
                let per_line = docs::hexdump::bytes_per_line(w);
                let total = self
                    .selected_frame(capture)
                    .map_or(0, |(_, f)| docs::hexdump::line_count(f, per_line));
                (total, rows)
            }
            Pane::Connections | Pane::Frames => return,
        };
        let max = total.saturating_sub(rows);
        let scroll = if pane == Pane::Detail {
            &mut self.panes.scroll.detail
        } else {
            &mut self.panes.scroll.hex
        };
        if let Some(p) = target(Some((*scroll).min(max)), max + 1, cmd, rows) {
            *scroll = p;
        }
    }

    pub(crate) fn click(&mut self, x: u16, y: u16, capture: &Capture) {
        let at = ratatui::layout::Position { x, y };
        let row_in = |r: ratatui::layout::Rect, header: u16| {
            (r.contains(at) && y >= r.y + 1 + header).then(|| usize::from(y - r.y - 1 - header))
        };
        match self.view() {
            None => {
                let a = self.main_areas(self.panes.show_hex);
                if a.connections.contains(at) {
                    self.focus(Pane::Connections);
                    if let Some(r) = row_in(a.connections, 0) {
                        self.select_conn(self.panes.scroll.connections + r, capture);
                    }
                } else if a.frames.contains(at) {
                    self.focus(Pane::Frames);
                    if let Some(r) = row_in(a.frames, 1) {
                        self.select_frame_pos(self.panes.scroll.frames + r, capture);
                    }
                } else if a.detail.is_some_and(|d| d.contains(at)) {
                    self.focus(Pane::Detail);
                    let r = a.detail.and_then(|d| row_in(d, 0));
                    let (w, _) = self.detail_size();
                    let doc = self.detail_document(capture, w);
                    if let Some(f) = r.and_then(|r| doc.field_at(self.panes.scroll.detail + r)) {
                        self.panes.field = f;
                        self.field_changed(capture);
                    }
                } else if a.hex.is_some_and(|h| h.contains(at)) {
                    self.focus(Pane::Hex);
                }
            }
            Some(View::Violations | View::Messages) => {
                let (body, _) = layout::with_status(self.area);
                let (list, _) = layout::list_and_detail(body, self.list_len(capture));
                if let Some(r) = row_in(list, 1) {
                    let pos = self.overlays.list + r;
                    if pos < self.list_len(capture) {
                        self.overlays.cursor = pos;
                    }
                }
            }
            Some(View::Handshake | View::Help | View::Stats) => {}
        }
    }

    pub(crate) fn wheel(&mut self, x: u16, y: u16, down: bool, capture: &Capture) {
        let step = if down { Command::Down } else { Command::Up };
        let at = ratatui::layout::Position { x, y };
        if self.view().is_some() {
            let times = match self.view() {
                Some(View::Handshake | View::Help | View::Stats) => WHEEL_LINES,
                _ => 1,
            };
            for _ in 0..times {
                self.movement(step, capture);
            }
            return;
        }
        let a = self.main_areas(self.panes.show_hex);
        if a.connections.contains(at) {
            if let Some(p) = target(self.conn_pos(capture), self.panes.order.len(), step, 1) {
                self.select_conn(p, capture);
            }
        } else if a.frames.contains(at) {
            self.step_frame(if down { 1 } else { -1 }, capture);
        } else {
            let pane = if a.hex.is_some_and(|h| h.contains(at)) {
                Pane::Hex
            } else {
                Pane::Detail
            };
            for _ in 0..WHEEL_LINES {
                self.scroll_pane(pane, step, capture);
            }
        }
    }
}
