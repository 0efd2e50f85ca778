//! Terminal setup and teardown, in one place: raw mode, the alternate screen and mouse
//! reporting on the way in; all of it undone on the way out, when the guard drops (also
//! on an early error return) and from a panic hook, so a crash never leaves the user's
//! terminal unusable.

use std::io::{self, Stdout, stdout};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal is in UI mode (so restoring twice, from the panic hook and then from
/// the guard, does nothing the second time).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// A thread panicked (the terminal was restored so its message is readable).
static PANICKED: AtomicBool = AtomicBool::new(false);

/// A thread panicked while the UI ran: the terminal is already restored and the UI
/// should stop.
pub fn panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// The terminal the UI draws on.
pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct Guard(());

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = restore();
    }
}

/// Puts the terminal in UI mode and installs the panic hook. Keep the guard alive
/// while the UI runs.
pub fn setup() -> io::Result<(Term, Guard)> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Any thread: the decoder's panic must be readable too, and stops the UI.
        PANICKED.store(true, Ordering::SeqCst);
        let _ = restore();
        previous(info);
    }));
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let guard = Guard(());
    execute!(stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
    terminal.hide_cursor()?;
    terminal.clear()?;
    Ok((terminal, guard))
}

/// Leaves UI mode: mouse reporting off, main screen back, raw mode off, cursor shown.
/// Does nothing when not in UI mode.
pub fn restore() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let mouse = execute!(stdout(), DisableMouseCapture);
    let screen = execute!(stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
    let raw = disable_raw_mode();
    mouse.and(screen).and(raw)
}
