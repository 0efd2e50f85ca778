//! The UI state and how each [`Command`] changes it. No terminal here: tests drive
//! [`App::update`] with commands and a decoded capture and look at the state.
//!
//! Selections are kept by identity, not by row: the connection by its TCP flow's order
//! ([`Connection::flow_order`], stable while the capture is read, unlike `id` and the
//! position in the list) and the frame by its index. New connections and frames that
//! arrive while a file is read never move what the user is looking at.

use std::sync::Arc;

use ratatui::layout::Rect;

use crate::model::{Capture, Connection, FrameRecord};
use crate::reread::FileIndex;

use super::event::Inbox;
use super::jobs::{Done, Jobs};

use super::command::{Command, Mode};
use super::decoding::{Decoding, to_show};
use super::docs::detail::{Look, NoFrame};
use super::docs::{self, Doc};
use super::fields::Field;
use super::filter::Filter;
use super::search::Search;
use super::theme::Theme;

/// A pane of the main view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Pane {
    /// The connection list.
    Connections,
    /// The frame list.
    #[default]
    Frames,
    /// The selected frame, field by field.
    Detail,
    /// The selected frame's bytes.
    Hex,
}

impl Pane {
    const CYCLE: [Pane; 4] = [Pane::Connections, Pane::Frames, Pane::Detail, Pane::Hex];

    fn step(self, forward: bool) -> Pane {
        let i = Pane::CYCLE.iter().position(|p| *p == self).unwrap_or(0);
        let n = Pane::CYCLE.len();
        Pane::CYCLE[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

/// A full-screen view opened over the main one (`Esc` closes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The opening handshake of the selected connection.
    Handshake,
    /// Violations and warnings of the selected connection.
    Violations,
    /// Messages (fragments assembled) of the selected connection.
    Messages,
    /// Heartbeats and overhead of the selected connection.
    Stats,
    /// Every key.
    Help,
}

/// How frame times are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// Seconds since the connection's first packet.
    #[default]
    Relative,
    /// Wall-clock time (UTC).
    Absolute,
}

/// How far the file has been read.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct LoadState {
    /// Reading has finished.
    pub done: bool,
    /// Fraction read, when the size is known.
    pub progress: Option<f64>,
    /// Bytes read so far.
    pub bytes_read: u64,
    /// For a live capture: packets seen, dropped by the kernel, dropped by wsscope's queue.
    pub live: Option<[u64; 3]>,
    /// The temporary copy of a piped or live stream has stopped (a full disk): frames
    /// a connection has let go cannot be decoded again.
    pub copy_lost: bool,
}

impl LoadState {
    /// A capture that is completely decoded.
    pub fn finished() -> Self {
        LoadState {
            done: true,
            progress: Some(1.0),
            bytes_read: 0,
            live: None,
            copy_lost: false,
        }
    }
}

/// Scroll offsets (first visible row or line) of the main view's panes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scroll {
    /// Connection list.
    pub connections: usize,
    /// Frame list.
    pub frames: usize,
    /// Detail pane.
    pub detail: usize,
    /// Hex pane.
    pub hex: usize,
}

/// The main view's panes: which has the focus, what is selected, the lists shown and
/// how far each is scrolled.
#[derive(Clone, Debug, Default)]
pub struct Panes {
    /// The focused pane.
    pub pane: Pane,
    /// Which of detail and hex the lower area shows when only one fits.
    pub show_hex: bool,
    /// The selected connection, by [`Connection::flow_order`].
    pub conn: Option<u64>,
    /// The selected frame's index.
    pub frame: Option<u32>,
    /// The header field selected in the detail pane (highlighted in the hex pane).
    pub field: Field,
    /// Relative or absolute times.
    pub time: TimeFormat,
    /// The hex pane shows the payload unmasked.
    pub unmask_hex: bool,
    /// Scroll offsets.
    pub scroll: Scroll,
    /// Connection indices sorted by first packet (refreshed by [`App::sync`]).
    pub order: Vec<usize>,
    /// Indices of the selected connection's frames that pass the filter.
    pub visible: Vec<u32>,
    /// What `visible` was last built for.
    pub(crate) cache: CacheKey,
}

/// The views opened over the main one (handshake, violations, messages, stats, help).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overlays {
    /// Open, innermost last.
    pub views: Vec<View>,
    /// Scroll offset of the handshake, stats and help pages.
    pub page: usize,
    /// Scroll offset of the violations and messages lists.
    pub list: usize,
    /// Selected row of the violations or messages list.
    pub cursor: usize,
}

/// What the frame list was last built for.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct CacheKey {
    pub(crate) conn: Option<u64>,
    /// Where the connection's frames come from: its record in the capture, or (when the
    /// record is compacted) the connection decoded again, or nothing yet.
    pub(crate) source: FrameSource,
    /// Frames before the window shown, when the connection decoded again is a window
    /// of a long one.
    pub(crate) window: usize,
    pub(crate) filter: Filter,
    pub(crate) needle: Option<String>,
    pub(crate) done: bool,
    /// Frames scanned for the list: those up to this index.
    pub(crate) scanned: usize,
}

/// Where the selected connection's frames come from (see [`CacheKey`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum FrameSource {
    /// The record in the capture (still open, or never compacted).
    #[default]
    Record,
    /// The record is compacted and its frames are not decoded again (yet).
    Compacted,
    /// The record is compacted; the frames are those decoded again.
    DecodedAgain,
}

/// The whole UI state, made of parts: the main view's panes, the views over it, the
/// filter and search, and the decoding of compacted connections (jobs and their results).
#[derive(Debug)]
pub struct App {
    /// Shown in the status line.
    pub file_name: String,
    /// Colours or not.
    pub theme: Theme,
    /// The terminal's size.
    pub area: Rect,
    /// Reading progress.
    pub loading: LoadState,
    /// How keys are read.
    pub mode: Mode,
    /// The main view's panes.
    pub panes: Panes,
    /// The views opened over the main view.
    pub overlays: Overlays,
    /// Frame filter.
    pub filter: Filter,
    /// Search state.
    pub search: Search,
    /// Compacted connections decoded again.
    pub decoding: Decoding,
    /// The UI's one channel: terminal input, the decode thread's word, job results.
    pub inbox: Inbox,
    /// A one-off message for the status line.
    pub notice: Option<String>,
    /// The user asked to quit.
    pub quit: bool,
}

impl App {
    /// A fresh state for a terminal of `area`.
    pub fn new(file_name: impl Into<String>, theme: Theme, area: Rect) -> Self {
        let inbox = Inbox::default();
        App {
            file_name: file_name.into(),
            theme,
            area,
            loading: LoadState::default(),
            mode: Mode::Normal,
            panes: Panes::default(),
            overlays: Overlays::default(),
            filter: Filter::default(),
            search: Search::default(),
            decoding: Decoding::new(Jobs::new(inbox.reply())),
            inbox,
            notice: None,
            quit: false,
        }
    }

    /// Finished connections are compacted and decoded again from the file `index`
    /// describes.
    pub fn set_index(&mut self, index: Option<Arc<FileIndex>>) {
        self.decoding.jobs.set_index(index);
    }

    /// A decode job finished: its connection is shown, or its scan's answer taken up.
    pub fn job_done(&mut self, done: Done, capture: &Capture) {
        match done {
            Done::Decoded { id, result } => self.decoded(id, result, capture),
            Done::Scanned { id, found } => self.scanned_job(id, found, capture),
        }
        self.refresh(capture);
    }

    /// The innermost open view, `None` for the main view.
    pub fn view(&self) -> Option<View> {
        self.overlays.views.last().copied()
    }

    /// The selected connection (decoded again from the file when its record is compacted).
    pub fn connection<'c>(&'c self, capture: &'c Capture) -> Option<&'c Connection> {
        to_show(self.decoding.decoded.as_deref(), self.record(capture))
    }

    /// The selected connection's record in the capture (possibly compacted).
    pub(crate) fn record<'c>(&self, capture: &'c Capture) -> Option<&'c Connection> {
        self.listed(self.conn_pos(capture)?, capture)
    }

    /// The record at position `pos` of the sorted connection list.
    pub(crate) fn listed<'c>(&self, pos: usize, capture: &'c Capture) -> Option<&'c Connection> {
        self.panes
            .order
            .get(pos)
            .and_then(|&i| capture.connections.get(i))
    }

    /// Position in the sorted list of the connection `flow_order`
    /// ([`Connection::flow_order`]).
    pub(crate) fn position_of(&self, flow_order: u64, capture: &Capture) -> Option<usize> {
        self.panes
            .order
            .binary_search_by_key(&flow_order, |&i| {
                capture
                    .connections
                    .get(i)
                    .map_or(u64::MAX, |c| c.flow_order)
            })
            .ok()
    }

    /// The detail document of the selected frame (or what the detail says instead),
    /// `width` columns wide ([`docs::detail`]).
    pub fn detail_document(&self, capture: &Capture, width: usize) -> Doc {
        if let Some((conn, f)) = self.selected_frame(capture) {
            let look = Look {
                field: self.panes.field,
                focused: self.panes.pane == Pane::Detail && self.view().is_none(),
            };
            return docs::detail::document(conn, f, look, width, self.theme);
        }
        let why = match (self.connection(capture), self.panes.frame) {
            (Some(c), _) if c.frames.is_empty() => NoFrame::Frameless(c),
            (Some(c), Some(f)) if self.dropped_while_read(Some(c), f) => NoFrame::LeftMemory(f),
            _ => NoFrame::Unselected,
        };
        docs::detail::no_frame(why, width, self.theme)
    }

    /// The hex pane's line (`width` columns wide) of the selected field's first byte.
    pub fn hex_field_line(&self, capture: &Capture, width: usize) -> Option<usize> {
        let (_, f) = self.selected_frame(capture)?;
        docs::hexdump::field_line(f, self.panes.field, width)
    }

    /// The selected frame and its connection.
    pub fn selected_frame<'c>(
        &'c self,
        capture: &'c Capture,
    ) -> Option<(&'c Connection, &'c FrameRecord)> {
        let conn = self.connection(capture)?;
        let f = conn.frame(self.panes.frame?)?;
        Some((conn, f))
    }

    /// Position of the selected connection in the sorted list.
    pub fn conn_pos(&self, capture: &Capture) -> Option<usize> {
        self.position_of(self.panes.conn?, capture)
    }

    /// Position of the selected frame in the (filtered) frame list.
    pub fn frame_pos(&self) -> Option<usize> {
        self.panes.visible.binary_search(&self.panes.frame?).ok()
    }

    /// Applies one command.
    pub fn update(&mut self, cmd: Command, capture: &Capture) {
        self.sync(capture);
        if self.scanning() {
            // A scan in the background is stopped by Esc, and given up by any other key
            // (the user has moved on) but n/N while it is a search's.
            match cmd {
                Command::Resize { .. } => {}
                Command::NextMatch | Command::PrevMatch if self.scanning_for_search() => return,
                Command::Back => {
                    self.notice = Some(
                        if self.scanning_for_search() {
                            "search stopped"
                        } else {
                            "move stopped"
                        }
                        .into(),
                    );
                    self.stop_scan();
                    return;
                }
                _ => self.stop_scan(),
            }
        }
        if !matches!(
            cmd,
            Command::Resize { .. } | Command::SearchChar(_) | Command::SearchConfirm
        ) {
            self.notice = None;
        }
        match cmd {
            Command::Quit => self.quit = true,
            Command::Resize { width, height } => self.area = Rect::new(0, 0, width, height),
            Command::Help
            | Command::Handshake
            | Command::Violations
            | Command::Messages
            | Command::Stats => self.toggle_view(cmd, capture),
            Command::Back => self.back(),
            Command::NextPane | Command::PrevPane if self.view().is_none() => {
                self.focus(self.panes.pane.step(cmd == Command::NextPane));
            }
            Command::NextFrame => self.step_frame(1, capture),
            Command::PrevFrame => self.step_frame(-1, capture),
            Command::SearchStart
            | Command::SearchChar(_)
            | Command::SearchBackspace
            | Command::SearchClear
            | Command::SearchConfirm
            | Command::SearchCancel
            | Command::NextMatch
            | Command::PrevMatch => self.search_command(cmd, capture),
            Command::FilterMenu => self.mode = Mode::FilterMenu,
            Command::CloseMenu => self.mode = Mode::Normal,
            Command::Filter(choice) => {
                self.mode = Mode::Normal;
                self.filter.apply(choice);
                if self.filter.matching && self.search.query.is_none() {
                    self.notice = Some("no search yet: press / to search first".into());
                }
            }
            Command::ToggleTime => {
                self.panes.time = match self.panes.time {
                    TimeFormat::Relative => TimeFormat::Absolute,
                    TimeFormat::Absolute => TimeFormat::Relative,
                }
            }
            Command::ToggleUnmask => self.panes.unmask_hex = !self.panes.unmask_hex,
            Command::Click { x, y } => self.click(x, y, capture),
            Command::Scroll { x, y, down } => self.wheel(x, y, down, capture),
            _ => self.movement(cmd, capture),
        }
        self.sync(capture);
        self.keep_visible(capture);
    }

    /// Focuses a pane of the main view.
    pub fn focus(&mut self, pane: Pane) {
        self.panes.pane = pane;
        match pane {
            Pane::Detail => self.panes.show_hex = false,
            Pane::Hex => self.panes.show_hex = true,
            Pane::Connections | Pane::Frames => {}
        }
    }
}
