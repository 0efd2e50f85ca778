//! Selection bookkeeping: following the capture as it grows ([`App::sync`]), moving
//! through connections, frames and fields, and keeping the selection on screen.

use crate::model::{Capture, Connection};

use super::jobs::Done;

use super::app::{App, CacheKey, FrameSource, Pane, View};
use super::command::Command;
use super::fields::Field;
use super::filter::FrameTest;
use super::layout;

/// The row a movement command leads to in a list of `len` rows, from `pos`.
pub fn target(pos: Option<usize>, len: usize, cmd: Command, page: usize) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let last = len - 1;
    let page = page.max(1);
    let pos = pos.unwrap_or(0).min(last);
    Some(match cmd {
        Command::Up => pos.saturating_sub(1),
        Command::Down => (pos + 1).min(last),
        Command::PageUp => pos.saturating_sub(page),
        Command::PageDown => (pos + page).min(last),
        Command::First => 0,
        Command::Last => last,
        _ => return None,
    })
}

/// The scroll offset that keeps row `pos` inside a window of `rows` rows.
pub fn fit(offset: usize, pos: usize, rows: usize) -> usize {
    if rows == 0 || pos < offset {
        pos
    } else if pos >= offset + rows {
        pos + 1 - rows
    } else {
        offset
    }
}

impl App {
    /// Follows the capture as it grows: sorts connections by first packet, selects the
    /// first connection and frame when nothing is selected yet, and extends the frame
    /// list with frames decoded since the last call. Cheap when nothing changed.
    pub fn sync(&mut self, capture: &Capture) {
        let mut order: Vec<usize> = (0..capture.connections.len()).collect();
        order.sort_by_key(|&i| capture.connections[i].flow_order);
        self.panes.order = order;
        if self.conn_pos(capture).is_none() {
            self.panes.conn = self
                .panes
                .order
                .first()
                .and_then(|&i| capture.connections.get(i))
                .map(|c| c.flow_order);
            self.panes.frame = None;
        }
        self.decode_selected(capture);
        let full = self.decoding.decoded.clone();
        let record = self.record(capture);
        let source = match record.and_then(|c| c.held.dropped().map(|_| c.flow_order)) {
            None => FrameSource::Record,
            Some(order) if full.as_ref().is_some_and(|f| f.flow_order == order) => {
                FrameSource::DecodedAgain
            }
            Some(_) => FrameSource::Compacted,
        };
        let needle = self.search.needle();
        let window = full
            .as_ref()
            .filter(|f| source == FrameSource::DecodedAgain && f.held.is_window())
            .map_or(0, |f| f.held.before.frames);
        let key = CacheKey {
            conn: self.panes.conn,
            source,
            window,
            filter: self.filter.clone(),
            needle: needle.clone(),
            done: self.loading.done,
            scanned: self.panes.cache.scanned,
        };
        if key != self.panes.cache {
            self.panes.visible.clear();
            self.panes.cache = CacheKey { scanned: 0, ..key };
        }
        // The decoded-again connection is shared, not borrowed from `self`.
        if let Some(conn) = super::decoding::to_show(full.as_deref(), record) {
            let test = FrameTest::new(&self.filter, conn, needle.as_deref());
            // A connection still being read holds its latest frames only: those it
            // dropped leave the list.
            if self
                .panes
                .visible
                .first()
                .is_some_and(|&v| conn.frame_before_held(v))
            {
                self.panes.visible.retain(|&v| !conn.frame_before_held(v));
            }
            self.panes.visible.extend(
                conn.frames_after(self.panes.cache.scanned)
                    .iter()
                    .filter(|f| test.accepts(conn, f))
                    .map(|f| f.index),
            );
            self.panes.cache.scanned = conn.frames_decoded();
        }
        match self.panes.frame {
            // Frames still being decoded again (or another window of them): the
            // selection waits for them.
            Some(_) if self.decoding.pending.is_some() => {}
            // A window no frame of which passes the filter: the selection stays where
            // it was asked to be (moving on reads further).
            Some(_)
                if self.panes.visible.is_empty()
                    && full.as_ref().is_some_and(|f| f.held.is_window()) => {}
            // A long connection still being read dropped the selected frame from
            // memory: the selection stays on it (the detail pane says why), and once the
            // connection has ended it is decoded again around it.
            Some(f) if self.dropped_while_read(record, f) => {}
            // Selecting such a connection starts at its first frame all the same.
            None if self.dropped_while_read(record, 1) => self.panes.frame = Some(1),
            None => self.panes.frame = self.panes.visible.first().copied(),
            Some(f) if self.frame_pos().is_none() => {
                let next = self.panes.visible.partition_point(|&v| v < f);
                self.panes.frame = self
                    .panes
                    .visible
                    .get(next)
                    .or(self.panes.visible.last())
                    .copied();
            }
            Some(_) => {}
        }
    }

    /// Frame `index` of `record`, a connection still being read, is no longer in memory:
    /// it holds its latest frames only until it ends ([`crate::Pipeline::set_compacting`]).
    /// Not once the capture has been read (or its copy has stopped): the frames of a
    /// connection left uncompacted then are not coming back.
    pub(crate) fn dropped_while_read(&self, record: Option<&Connection>, index: u32) -> bool {
        !self.loading.done
            && !self.loading.copy_lost
            && record.is_some_and(|c| c.frame_left_early(index))
    }

    /// Follows the capture and keeps the selection on screen (each tick).
    pub fn refresh(&mut self, capture: &Capture) {
        // Results of jobs that finished in the background (the UI loop hands them over
        // as they come; tests and waits pick them up here).
        while let Some(done) = self.inbox.try_job() {
            match done {
                Done::Decoded { id, result } => self.decoded(id, result, capture),
                Done::Scanned { id, found } => self.scanned_job(id, found, capture),
            }
        }
        self.sync(capture);
        self.keep_visible(capture);
    }

    /// Selects the connection at `pos` in the sorted list and its first frame.
    pub fn select_conn(&mut self, pos: usize, capture: &Capture) {
        let Some(c) = self.listed(pos, capture) else {
            return;
        };
        if self.panes.conn != Some(c.flow_order) {
            self.panes.conn = Some(c.flow_order);
            self.panes.frame = None;
            self.panes.scroll.frames = 0;
            self.sync(capture);
            self.frame_changed(capture);
        }
    }

    /// Selects the frame at `pos` in the frame list.
    pub fn select_frame_pos(&mut self, pos: usize, capture: &Capture) {
        if let Some(&index) = self.panes.visible.get(pos)
            && self.panes.frame != Some(index)
        {
            self.panes.frame = Some(index);
            self.frame_changed(capture);
        }
    }

    /// Moves `delta` frames along the list, whatever pane has focus.
    pub fn step_frame(&mut self, delta: isize, capture: &Capture) {
        let cmd = if delta > 0 {
            Command::Down
        } else {
            Command::Up
        };
        if !self.move_past_window(cmd, 1, capture)
            && let Some(p) = target(self.frame_pos(), self.panes.visible.len(), cmd, 1)
        {
            self.select_frame_pos(p, capture);
        }
    }

    /// Brings the selected field into view after the frame changed.
    /// The detail pane starts at the top (summary and violations) unless it has focus,
    /// where the selected field stays in view.
    pub(crate) fn frame_changed(&mut self, capture: &Capture) {
        self.panes.scroll.detail = 0;
        self.panes.scroll.hex = 0;
        self.field_changed(capture);
        if self.panes.pane != Pane::Detail {
            self.panes.scroll.detail = 0;
        }
    }

    /// Scrolls detail and hex so the selected field shows.
    pub(crate) fn field_changed(&mut self, capture: &Capture) {
        let (width, rows) = self.detail_size();
        let doc = self.detail_document(capture, width);
        if let Some(row) = doc.row_of(self.panes.field) {
            self.panes.scroll.detail = fit(self.panes.scroll.detail, row, rows);
        }
        let (hex_width, hex_rows) = self.hex_size();
        if let Some(line) = self.hex_field_line(capture, hex_width) {
            self.panes.scroll.hex = fit(self.panes.scroll.hex, line, hex_rows);
        }
    }

    /// The main view's panes at the current size.
    pub fn main_areas(&self, show_hex: bool) -> layout::MainAreas {
        layout::main(
            self.area,
            self.panes.order.len(),
            self.panes.visible.len(),
            show_hex,
        )
    }

    /// Inner width and height of the detail pane (as if shown, at small sizes).
    pub fn detail_size(&self) -> (usize, usize) {
        let a = self.main_areas(false);
        let r = a.detail.unwrap_or_default();
        (layout::inner_cols(r), layout::inner_rows(r))
    }

    /// Inner width and height of the hex pane (as if shown, at small sizes).
    pub fn hex_size(&self) -> (usize, usize) {
        let a = self.main_areas(true);
        let r = a.hex.unwrap_or_default();
        (layout::inner_cols(r), layout::inner_rows(r))
    }

    /// Selects the previous or next field present in the selected frame.
    pub fn step_field(&mut self, forward: bool, capture: &Capture) {
        let header = self.selected_frame(capture).map(|(_, f)| f.header);
        let present = |f: &Field| header.is_none_or(|h| f.byte_range(&h).is_some());
        let fields: Vec<Field> = Field::ALL.into_iter().filter(present).collect();
        let at = fields.iter().position(|f| *f == self.panes.field);
        let next = match (at, forward) {
            (Some(i), true) => fields.get(i + 1),
            (Some(i), false) => i.checked_sub(1).and_then(|i| fields.get(i)),
            (None, true) => fields.iter().find(|f| **f > self.panes.field),
            (None, false) => fields.iter().rev().find(|f| **f < self.panes.field),
        };
        if let Some(&f) = next {
            self.panes.field = f;
            self.field_changed(capture);
        }
    }

    /// Keeps every selection inside its pane's window.
    pub(crate) fn keep_visible(&mut self, capture: &Capture) {
        let a = self.main_areas(self.panes.show_hex);
        let rows = layout::inner_rows(a.connections);
        let conns = self.panes.order.len();
        self.panes.scroll.connections = self
            .panes
            .scroll
            .connections
            .min(conns.saturating_sub(rows));
        if let Some(p) = self.conn_pos(capture) {
            self.panes.scroll.connections = fit(self.panes.scroll.connections, p, rows);
        }
        let rows = layout::inner_rows(a.frames).saturating_sub(1);
        self.panes.scroll.frames = self
            .panes
            .scroll
            .frames
            .min(self.panes.visible.len().saturating_sub(rows));
        if let Some(p) = self.frame_pos() {
            self.panes.scroll.frames = fit(self.panes.scroll.frames, p, rows);
        }
        if let Some(View::Violations | View::Messages) = self.view() {
            let n = self.list_len(capture);
            self.overlays.cursor = self.overlays.cursor.min(n.saturating_sub(1));
            let (body, _) = layout::with_status(self.area);
            let (list, _) = layout::list_and_detail(body, n);
            let rows = layout::inner_rows(list).saturating_sub(1);
            self.overlays.list = fit(
                self.overlays.list.min(n.saturating_sub(rows)),
                self.overlays.cursor,
                rows,
            );
        }
    }

    /// Rows of the list in the violations or messages view.
    pub fn list_len(&self, capture: &Capture) -> usize {
        let Some(c) = self.connection(capture) else {
            return 0;
        };
        match self.view() {
            Some(View::Violations) => c.violations.len() + c.warnings.len(),
            Some(View::Messages) => c.messages.len(),
            _ => 0,
        }
    }

    /// Page size of the focused main pane.
    pub(crate) fn page(&self, pane: Pane) -> usize {
        let a = self.main_areas(self.panes.show_hex);
        match pane {
            Pane::Connections => layout::inner_rows(a.connections),
            Pane::Frames => layout::inner_rows(a.frames).saturating_sub(1),
            Pane::Detail => self.detail_size().1,
            Pane::Hex => self.hex_size().1,
        }
    }
}
