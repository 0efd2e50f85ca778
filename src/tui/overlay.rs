//! The views opened over the main one (handshake, violations, messages, help): opening,
//! closing, where their cursor starts, and Enter on a row (go to its frame).

use crate::model::Capture;

use super::app::{App, Pane, View};
use super::command::Command;
use super::docs;
use super::filter::Filter;

impl App {
    pub(crate) fn toggle_view(&mut self, cmd: Command, capture: &Capture) {
        let view = match cmd {
            Command::Handshake => View::Handshake,
            Command::Violations => View::Violations,
            Command::Messages => View::Messages,
            Command::Stats => View::Stats,
            _ => View::Help,
        };
        if self.view() == Some(view) {
            self.overlays.views.pop();
            return;
        }
        self.overlays.views.retain(|v| *v != view);
        self.overlays.views.push(view);
        self.overlays.page = 0;
        self.overlays.list = 0;
        self.overlays.cursor = self.initial_cursor(view, capture);
    }

    pub(crate) fn back(&mut self) {
        if self.overlays.views.pop().is_some() {
            self.overlays.page = 0;
            return;
        }
        match self.panes.pane {
            Pane::Hex => self.focus(Pane::Detail),
            Pane::Detail => self.focus(Pane::Frames),
            Pane::Frames => self.focus(Pane::Connections),
            Pane::Connections => {}
        }
    }

    /// Enter in the violations or messages view: go to the frame.
    pub(crate) fn open_list_item(&mut self, capture: &Capture) {
        let Some(c) = self.connection(capture) else {
            return;
        };
        let frame = match self.view() {
            Some(View::Violations) => {
                let entries = docs::findings::entries(c);
                let Some(e) = entries.get(self.overlays.cursor) else {
                    return;
                };
                if e.frame.is_none() && e.handshake {
                    self.overlays.views.pop();
                    self.overlays.views.push(View::Handshake);
                    self.overlays.page = 0;
                    return;
                }
                e.frame
            }
            Some(View::Messages) => c
                .messages
                .get(self.overlays.cursor)
                .and_then(|m| m.frames.first().copied()),
            _ => None,
        };
        match frame {
            Some(index) => self.jump_to_frame(index, capture),
            None => self.notice = Some("this entry is not tied to a frame".into()),
        }
    }

    /// Closes every view and shows frame `index` of the selected connection in the detail
    /// pane, clearing the filter if it hides the frame.
    pub fn jump_to_frame(&mut self, index: u32, capture: &Capture) {
        self.overlays.views.clear();
        let held = self
            .connection(capture)
            .is_some_and(|c| c.frame(index).is_some());
        if !held && self.connection(capture).is_some_and(|c| c.held.is_window()) {
            // Outside the window of a long connection: the window around it is decoded.
            if !self.filter.is_empty() {
                self.filter = Filter::default();
                self.notice = Some(format!("filter cleared to show frame {index}"));
            }
            self.go_past_window(index, capture);
            self.focus(Pane::Detail);
            return;
        }
        if self.panes.visible.binary_search(&index).is_err() {
            self.filter = Filter::default();
            self.sync(capture);
            self.notice = Some(format!("filter cleared to show frame {index}"));
        }
        if let Ok(pos) = self.panes.visible.binary_search(&index) {
            self.select_frame_pos(pos, capture);
        }
        self.focus(Pane::Detail);
    }

    /// The violations view starts on the selected frame's violation; the messages view
    /// on its message.
    pub(crate) fn initial_cursor(&self, view: View, capture: &Capture) -> usize {
        let Some((c, f)) = self.selected_frame(capture) else {
            return 0;
        };
        match view {
            View::Violations => docs::findings::entries(c)
                .iter()
                .position(|e| e.frame == Some(f.index))
                .unwrap_or(0),
            // The list holds the messages in memory (a window's, in a long connection).
            View::Messages => f
                .message
                .and_then(|m| c.held.message_position(m))
                .unwrap_or(0),
            _ => 0,
        }
    }
}
