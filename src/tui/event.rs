//! Terminal events, read with a timeout so the UI keeps ticking (and follows a capture
//! that is still being read) when the user does nothing.

use std::io;
use std::time::Duration;

use crossterm::event::{self as ct, KeyEvent, MouseButton, MouseEvent, MouseEventKind};

use super::command::{Command, Mode, key_to_command};

/// Something that happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// The mouse did something.
    Mouse(MouseEvent),
    /// The terminal was resized.
    Resize(u16, u16),
    /// Nothing happened for a tick.
    Tick,
}

/// Waits up to `timeout` for an event.
pub fn next(timeout: Duration) -> io::Result<Event> {
    if !ct::poll(timeout)? {
        return Ok(Event::Tick);
    }
    Ok(match ct::read()? {
        ct::Event::Key(k) => Event::Key(k),
        ct::Event::Mouse(m) => Event::Mouse(m),
        ct::Event::Resize(w, h) => Event::Resize(w, h),
        _ => Event::Tick,
    })
}

/// The command an event stands for in `mode`.
pub fn to_command(ev: Event, mode: &Mode) -> Option<Command> {
    match ev {
        Event::Key(k) => key_to_command(k, mode),
        Event::Mouse(m) if *mode == Mode::Normal => mouse_to_command(m),
        Event::Resize(width, height) => Some(Command::Resize { width, height }),
        Event::Mouse(_) | Event::Tick => None,
    }
}

/// The command a mouse event stands for: left click selects, the wheel scrolls.
pub fn mouse_to_command(ev: MouseEvent) -> Option<Command> {
    let (x, y) = (ev.column, ev.row);
    match ev.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(Command::Click { x, y }),
        MouseEventKind::ScrollDown => Some(Command::Scroll { x, y, down: true }),
        MouseEventKind::ScrollUp => Some(Command::Scroll { x, y, down: false }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    #[test]
    fn mouse() {
        let ev = |kind| MouseEvent {
            kind,
            column: 3,
            row: 7,
            modifiers: KeyModifiers::NONE,
        };
        assert_eq!(
            mouse_to_command(ev(MouseEventKind::Down(MouseButton::Left))),
            Some(Command::Click { x: 3, y: 7 })
        );
        assert_eq!(
            mouse_to_command(ev(MouseEventKind::ScrollDown)),
            Some(Command::Scroll {
                x: 3,
                y: 7,
                down: true
            })
        );
        assert_eq!(mouse_to_command(ev(MouseEventKind::Moved)), None);
    }
}
