//! Search as the user drives it: typing (incremental), confirming, cancelling back to
//! where it started, and n/N to the next and previous match.

use crate::model::Capture;

use super::app::App;
use super::command::{Command, Mode};
use super::search::{self, Pos};
use super::views;

impl App {
    pub(crate) fn search_command(&mut self, cmd: Command, capture: &Capture) {
        match cmd {
            Command::SearchStart => {
                self.mode = Mode::Search;
                self.search.input.clear();
                self.search_origin = Some((self.conn, self.frame));
            }
            Command::SearchChar(c) => {
                self.search.input.push(c);
                self.incremental(capture);
            }
            Command::SearchBackspace => {
                self.search.input.pop();
                self.incremental(capture);
            }
            Command::SearchClear => {
                self.search.input.clear();
                self.incremental(capture);
            }
            Command::SearchConfirm => {
                self.mode = Mode::Normal;
                self.search_origin = None;
                let input = std::mem::take(&mut self.search.input);
                if input.is_empty() {
                    self.search.query = None;
                    self.search.count = None;
                    return;
                }
                let needle = input.to_lowercase();
                let n = search::count(capture, &self.order, &self.filter, &needle, &mut |c| {
                    self.searchable(c, true)
                });
                self.search.query = Some(input);
                self.search.count = Some(n);
                if n == 0 {
                    self.notice = Some(format!("no match for {needle:?}"));
                }
            }
            Command::SearchCancel => {
                self.mode = Mode::Normal;
                self.search.input.clear();
                self.restore_origin(capture);
                self.search_origin = None;
            }
            Command::NextMatch | Command::PrevMatch => match self.search.needle() {
                Some(needle) => self.find(&needle, cmd == Command::NextMatch, false, true, capture),
                None => self.notice = Some("no search yet: press / to search".into()),
            },
            _ => {}
        }
    }

    fn restore_origin(&mut self, capture: &Capture) {
        if let Some((conn, frame)) = self.search_origin {
            self.conn = conn;
            self.sync(capture);
            if let Some(pos) = frame.and_then(|f| self.visible.binary_search(&f).ok()) {
                self.select_frame_pos(pos, capture);
            }
        }
    }

    fn incremental(&mut self, capture: &Capture) {
        self.restore_origin(capture);
        let needle = self.search.input.to_lowercase();
        if !needle.is_empty() {
            // Typing searches what is in memory; Enter and n/N also decode compacted
            // connections again.
            self.find(&needle, true, true, false, capture);
        }
    }

    fn find(
        &mut self,
        needle: &str,
        forward: bool,
        inclusive: bool,
        reread: bool,
        capture: &Capture,
    ) {
        let from = Pos {
            conn: self.conn_pos(capture).unwrap_or(0),
            frame: self.frame,
        };
        let found = search::find(
            capture,
            &self.order,
            &self.filter,
            needle,
            from,
            forward,
            inclusive,
            &mut |c| self.searchable(c, reread),
        );
        let Some((pos, wrapped)) = found else {
            self.notice = Some(format!("no match for {needle:?}"));
            return;
        };
        self.select_conn(pos.conn, capture);
        match pos.frame {
            Some(index) => {
                if let Ok(p) = self.visible.binary_search(&index) {
                    self.select_frame_pos(p, capture);
                }
            }
            None => {
                let label = self
                    .connection(capture)
                    .map(views::connections::label)
                    .unwrap_or_default();
                self.notice = Some(format!(
                    "match in the handshake of connection {label} (h shows it)"
                ));
            }
        }
        if wrapped && self.notice.is_none() {
            self.notice = Some(
                if forward {
                    "search wrapped to the start"
                } else {
                    "search wrapped to the end"
                }
                .into(),
            );
        }
    }
}
