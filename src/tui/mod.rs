//! The terminal UI: event → command → state → render, kept apart.
//!
//! - [`event`]: everything the UI reacts to comes on one channel, the
//!   [`event::Inbox`]: terminal input (read on its own thread), the decode thread's word
//!   that the capture grew, the results of decode jobs ([`jobs`]);
//! - [`command`] turns keys and mouse events into [`command::Command`]s (pure functions);
//! - [`app::App::update`] applies a command to the state ([`app`], [`nav`], `actions`);
//! - [`views`] draws the state over the capture ([`views::AppView`]), one widget a pane,
//!   from the documents of [`docs`].
//!
//! The capture is decoded on a background thread that shares the model with the UI
//! ([`Feed`]); the UI follows what was added ([`app::App::sync`]) and redraws, so a
//! large file is browsable while it is read.

mod actions;
pub mod app;
mod app_reread;
mod app_scan;
mod app_search;
pub mod command;
pub mod decoding;
pub mod docs;
pub mod event;
pub mod fields;
pub mod filter;
pub mod format;
pub mod jobs;
pub mod layout;
pub mod matching;
pub mod nav;
mod overlay;
pub mod search;
pub mod terminal;
pub mod theme;
pub mod views;

use std::io;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratatui::layout::Rect;

use crate::model::Capture;
use crate::reread::FileIndex;

use app::{App, LoadState};
use event::Event;
use theme::Theme;
use views::AppView;

/// How often the UI wakes up without input, to show reading progress.
pub const TICK: Duration = Duration::from_millis(100);

/// Where the UI's capture comes from: a capture decoded on another thread, shared
/// with the UI (the loader), or one decoded already.
pub trait Feed {
    /// The capture decoded so far; the decoder waits while it is looked at.
    fn capture(&self) -> Box<dyn Deref<Target = Capture> + '_>;
    /// How far reading has got.
    fn state(&self) -> LoadState;
    /// The capture file's index, when finished connections are compacted (they are
    /// decoded again from the file when shown).
    fn index(&self) -> Option<Arc<FileIndex>>;
    /// From now on, `wake` is called (now and then, not for every packet) when the
    /// capture grew or its reading ended.
    fn on_growth(&self, wake: Arc<dyn Fn() + Send + Sync>);
}

/// Runs the UI on the capture `feed` gives until the user quits. `file_name` is shown
/// in the status line; `no_color` (or the `NO_COLOR` environment variable) turns colours
/// off. The terminal is restored on return, on error and on panic.
pub fn run(feed: &dyn Feed, file_name: String, no_color: bool) -> io::Result<()> {
    let (mut terminal, guard) = terminal::setup()?;
    let size = terminal.size()?;
    let theme = Theme::from_env(no_color);
    let mut app = App::new(file_name, theme, Rect::new(0, 0, size.width, size.height));
    app.set_index(feed.index());
    let stop = Arc::new(AtomicBool::new(false));
    let input = event::read_terminal(app.inbox.sender(), stop.clone())?;
    let grew = app.inbox.sender();
    feed.on_growth(Arc::new(move || {
        let _ = grew.send(Event::Decoded);
    }));
    let result = event_loop(&mut terminal, &mut app, feed);
    stop.store(true, Ordering::Relaxed);
    drop(guard);
    let _ = input.join();
    result
}

/// Set by [`request_quit`]: the UI ends at its next tick, as if `q` were pressed.
static QUIT: AtomicBool = AtomicBool::new(false);

/// Asks the running UI to end cleanly (restoring the terminal, deleting a stream's
/// temporary copy): for a signal handler (SIGTERM, SIGHUP when the terminal goes away),
/// which must not end the process on the spot.
pub fn request_quit() {
    QUIT.store(true, Ordering::Relaxed);
}

fn event_loop(term: &mut terminal::Term, app: &mut App, feed: &dyn Feed) -> io::Result<()> {
    let mut dirty = true;
    loop {
        if QUIT.load(Ordering::Relaxed) {
            return Ok(());
        }
        if terminal::panicked() {
            return Err(io::Error::other(
                "the capture decoder stopped on an internal error (see the message above)",
            ));
        }
        let was_done = app.loading.done;
        app.loading = feed.state();
        if !was_done || app.busy() {
            dirty = true;
        }
        if dirty {
            let capture = feed.capture();
            app.refresh(&capture);
            term.draw(|frame| frame.render_widget(&AppView::new(app, &capture), frame.area()))?;
            dirty = false;
        }
        if app.quit {
            return Ok(());
        }
        let mut ev = app.inbox.next(TICK);
        // Handle every event already waiting before drawing again; within such a burst
        // (a held key) only the last one decodes a compacted connection again.
        loop {
            match ev {
                Event::Tick => break,
                Event::Failed(kind, why) => return Err(io::Error::new(kind, why)),
                Event::Decoded => dirty = true,
                Event::Job(done) => {
                    let capture = feed.capture();
                    app.job_done(done, &capture);
                    dirty = true;
                }
                input => {
                    let next = app.inbox.try_next();
                    if let Some(cmd) = event::to_command(&input, &app.mode) {
                        let capture = feed.capture();
                        app.decoding.defer = next.as_ref().is_some_and(Event::is_input);
                        app.update(cmd, &capture);
                        app.decoding.defer = false;
                        dirty = true;
                    }
                    if app.quit {
                        return Ok(());
                    }
                    match next {
                        Some(next) => {
                            ev = next;
                            continue;
                        }
                        None => break,
                    }
                }
            }
            match app.inbox.try_next() {
                Some(next) => ev = next,
                None => break,
            }
        }
    }
}
