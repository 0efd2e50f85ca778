//! The terminal UI: event → command → state → render, kept apart.
//!
//! - [`event`] reads terminal events with a timeout (a tick every 100 ms);
//! - [`command`] turns keys and mouse events into [`command::Command`]s (pure functions);
//! - [`app::App::update`] applies a command to the state ([`app`], [`nav`], `actions`);
//! - [`views`] draws the state over the capture ([`views::AppView`]), one widget a pane.
//!
//! The capture is decoded on a background thread ([`crate::loader`]); each tick the UI
//! locks it, follows what was added ([`app::App::sync`]) and redraws, so a large file is
//! browsable while it is read.

mod actions;
pub mod app;
mod app_reread;
mod app_scan;
mod app_search;
pub mod command;
pub mod docs;
pub mod event;
pub mod fields;
pub mod filter;
pub mod format;
pub mod layout;
pub mod matching;
pub mod nav;
mod overlay;
pub mod search;
pub mod terminal;
pub mod theme;
pub mod views;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratatui::layout::Rect;

use crate::loader::Loading;

use app::{App, LoadState};
use event::Event;
use theme::Theme;
use views::AppView;

/// How often the UI wakes up without input, to show reading progress.
pub const TICK: Duration = Duration::from_millis(100);

/// Runs the UI on the capture `loading` is decoding until the user quits. `file_name`
/// is shown in the status line; `no_color` (or the `NO_COLOR` environment variable)
/// turns colours off. The terminal is restored on return, on error and on panic.
pub fn run(loading: Loading, file_name: String, no_color: bool) -> io::Result<()> {
    let (mut terminal, guard) = terminal::setup()?;
    let size = terminal.size()?;
    let theme = Theme::from_env(no_color);
    let mut app = App::new(file_name, theme, Rect::new(0, 0, size.width, size.height));
    app.index = loading.index.clone();
    let result = event_loop(&mut terminal, &mut app, &loading);
    drop(guard);
    result
}

fn load_state(loading: &Loading) -> LoadState {
    #[cfg(feature = "live")]
    let live = loading.live.as_ref().map(|s| {
        use std::sync::atomic::Ordering::Relaxed;
        [
            s.seen.load(Relaxed),
            s.kernel_dropped.load(Relaxed),
            s.queue_dropped.load(Relaxed),
        ]
    });
    #[cfg(not(feature = "live"))]
    let live = None;
    LoadState {
        done: loading.done(),
        progress: loading.progress(),
        bytes_read: loading.bytes_read(),
        live,
        copy_lost: loading.copy_lost(),
    }
}

/// Set by [`request_quit`]: the UI ends at its next tick, as if `q` were pressed.
static QUIT: AtomicBool = AtomicBool::new(false);

/// Asks the running UI to end cleanly (restoring the terminal, deleting a stream's
/// temporary copy): for a signal handler (SIGTERM, SIGHUP when the terminal goes away),
/// which must not end the process on the spot.
pub fn request_quit() {
    QUIT.store(true, Ordering::Relaxed);
}

fn event_loop(term: &mut terminal::Term, app: &mut App, loading: &Loading) -> io::Result<()> {
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
        app.loading = load_state(loading);
        if !was_done || app.busy() {
            dirty = true;
        }
        if dirty {
            let capture = loading.capture();
            app.refresh(&capture);
            term.draw(|frame| frame.render_widget(&AppView::new(app, &capture), frame.area()))?;
            dirty = false;
        }
        if app.quit {
            return Ok(());
        }
        let mut ev = event::next(TICK)?;
        // Handle every event already waiting before drawing again; within such a burst
        // (a held key) only the last one decodes a compacted connection again.
        while ev != Event::Tick {
            let next = event::next(Duration::ZERO)?;
            if let Some(cmd) = event::to_command(ev, &app.mode) {
                let capture = loading.capture();
                app.defer_full = next != Event::Tick;
                app.update(cmd, &capture);
                app.defer_full = false;
                dirty = true;
            }
            if app.quit {
                return Ok(());
            }
            ev = next;
        }
    }
}
