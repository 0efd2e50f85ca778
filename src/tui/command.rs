//! What the user asked for, apart from how they asked: keys become [`Command`]s through
//! a pure function tested without a terminal (mouse events: [`super::event::mouse_to_command`]).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::filter::FilterChoice;

/// How keys are read at the moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// Browsing: keys are commands.
    #[default]
    Normal,
    /// Typing a search: keys are text until Enter or Esc.
    Search,
    /// The filter menu is open: one key picks a filter.
    FilterMenu,
}

/// Everything the user can ask the UI to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Leave and restore the terminal.
    Quit,
    /// Focus the next pane.
    NextPane,
    /// Focus the previous pane.
    PrevPane,
    /// Move up one row (or field, or line).
    Up,
    /// Move down one row.
    Down,
    /// Previous field (detail and hex panes).
    Left,
    /// Next field (detail and hex panes).
    Right,
    /// Up one page.
    PageUp,
    /// Down one page.
    PageDown,
    /// To the first row.
    First,
    /// To the last row.
    Last,
    /// Open the selection (a connection's frames, a frame's detail, a violation's frame).
    Open,
    /// Go back (close a view, leave a pane).
    Back,
    /// Select the next frame, whatever pane has focus.
    NextFrame,
    /// Select the previous frame, whatever pane has focus.
    PrevFrame,
    /// Show the handshake view.
    Handshake,
    /// Show the violations and warnings view.
    Violations,
    /// Show the messages view.
    Messages,
    /// Show the heartbeat and overhead view.
    Stats,
    /// Show the key help.
    Help,
    /// Start typing a search.
    SearchStart,
    /// A character of the search text.
    SearchChar(char),
    /// Delete the last search character.
    SearchBackspace,
    /// Clear the search text.
    SearchClear,
    /// Confirm the search.
    SearchConfirm,
    /// Abandon the search and go back where it started.
    SearchCancel,
    /// Next search match.
    NextMatch,
    /// Previous search match.
    PrevMatch,
    /// Open the filter menu.
    FilterMenu,
    /// Apply a filter choice (and close the menu).
    Filter(FilterChoice),
    /// Close a menu without choosing.
    CloseMenu,
    /// Switch between relative and absolute frame times.
    ToggleTime,
    /// Show the payload masked (as on the wire) or unmasked in the hex pane.
    ToggleUnmask,
    /// A mouse click at a screen cell.
    Click {
        /// Column.
        x: u16,
        /// Row.
        y: u16,
    },
    /// The mouse wheel over a screen cell.
    Scroll {
        /// Column.
        x: u16,
        /// Row.
        y: u16,
        /// Towards the end (wheel down).
        down: bool,
    },
    /// The terminal was resized.
    Resize {
        /// New width.
        width: u16,
        /// New height.
        height: u16,
    },
}

/// The command a key stands for in `mode`, if any.
pub fn key_to_command(key: KeyEvent, mode: &Mode) -> Option<Command> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Command::Quit);
    }
    match mode {
        Mode::Search => search_key(key, ctrl),
        Mode::FilterMenu => filter_key(key),
        Mode::Normal => normal_key(key, ctrl),
    }
}

fn search_key(key: KeyEvent, ctrl: bool) -> Option<Command> {
    match key.code {
        KeyCode::Enter => Some(Command::SearchConfirm),
        KeyCode::Esc => Some(Command::SearchCancel),
        KeyCode::Backspace => Some(Command::SearchBackspace),
        KeyCode::Char('u') if ctrl => Some(Command::SearchClear),
        KeyCode::Char(c) if !ctrl => Some(Command::SearchChar(c)),
        _ => None,
    }
}

fn filter_key(key: KeyEvent) -> Option<Command> {
    let choice = match key.code {
        KeyCode::Esc | KeyCode::Enter | KeyCode::Char('f') | KeyCode::Char('q') => {
            return Some(Command::CloseMenu);
        }
        KeyCode::Char('c') => FilterChoice::Client,
        KeyCode::Char('s') => FilterChoice::Server,
        KeyCode::Char('b') => FilterChoice::BothDirections,
        KeyCode::Char('d') => FilterChoice::Data,
        KeyCode::Char('o') => FilterChoice::Control,
        KeyCode::Char('a') => FilterChoice::AllOpcodes,
        KeyCode::Char('v') => FilterChoice::ViolationsOnly,
        KeyCode::Char('t') => FilterChoice::MatchingSearch,
        KeyCode::Char('x') => FilterChoice::Clear,
        _ => return None,
    };
    Some(Command::Filter(choice))
}

fn normal_key(key: KeyEvent, ctrl: bool) -> Option<Command> {
    let cmd = match key.code {
        KeyCode::Char('d') if ctrl => Command::PageDown,
        KeyCode::Char('u') if ctrl => Command::PageUp,
        KeyCode::Char('f') if ctrl => Command::PageDown,
        KeyCode::Char('b') if ctrl => Command::PageUp,
        KeyCode::Char('n') if ctrl => Command::NextFrame,
        KeyCode::Char('p') if ctrl => Command::PrevFrame,
        KeyCode::Down if ctrl => Command::NextFrame,
        KeyCode::Up if ctrl => Command::PrevFrame,
        _ if ctrl => return None,
        KeyCode::Char('q') => Command::Quit,
        KeyCode::Tab => Command::NextPane,
        KeyCode::BackTab => Command::PrevPane,
        KeyCode::Down | KeyCode::Char('j') => Command::Down,
        KeyCode::Up | KeyCode::Char('k') => Command::Up,
        KeyCode::Left => Command::Left,
        KeyCode::Right => Command::Right,
        KeyCode::PageDown | KeyCode::Char(' ') => Command::PageDown,
        KeyCode::PageUp => Command::PageUp,
        KeyCode::Home | KeyCode::Char('g') => Command::First,
        KeyCode::End | KeyCode::Char('G') => Command::Last,
        KeyCode::Enter => Command::Open,
        KeyCode::Esc | KeyCode::Backspace => Command::Back,
        KeyCode::Char(']') => Command::NextFrame,
        KeyCode::Char('[') => Command::PrevFrame,
        KeyCode::Char('h') => Command::Handshake,
        KeyCode::Char('v') => Command::Violations,
        KeyCode::Char('m') => Command::Messages,
        KeyCode::Char('s') => Command::Stats,
        KeyCode::Char('?') | KeyCode::F(1) => Command::Help,
        KeyCode::Char('/') => Command::SearchStart,
        KeyCode::Char('n') => Command::NextMatch,
        KeyCode::Char('N') => Command::PrevMatch,
        KeyCode::Char('f') => Command::FilterMenu,
        KeyCode::Char('t') => Command::ToggleTime,
        KeyCode::Char('u') => Command::ToggleUnmask,
        _ => return None,
    };
    Some(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn normal_keys() {
        let m = Mode::Normal;
        let cases = [
            (KeyCode::Char('j'), Command::Down),
            (KeyCode::Down, Command::Down),
            (KeyCode::Char('k'), Command::Up),
            (KeyCode::Char('g'), Command::First),
            (KeyCode::Char('G'), Command::Last),
            (KeyCode::PageDown, Command::PageDown),
            (KeyCode::Tab, Command::NextPane),
            (KeyCode::BackTab, Command::PrevPane),
            (KeyCode::Enter, Command::Open),
            (KeyCode::Esc, Command::Back),
            (KeyCode::Char('h'), Command::Handshake),
            (KeyCode::Char('v'), Command::Violations),
            (KeyCode::Char('m'), Command::Messages),
            (KeyCode::Char('s'), Command::Stats),
            (KeyCode::Char('?'), Command::Help),
            (KeyCode::Char('/'), Command::SearchStart),
            (KeyCode::Char('n'), Command::NextMatch),
            (KeyCode::Char('N'), Command::PrevMatch),
            (KeyCode::Char('f'), Command::FilterMenu),
            (KeyCode::Char(']'), Command::NextFrame),
            (KeyCode::Char('q'), Command::Quit),
        ];
        for (code, cmd) in cases {
            assert_eq!(key_to_command(key(code), &m), Some(cmd), "{code:?}");
        }
        assert_eq!(key_to_command(key(KeyCode::Char('z')), &m), None);
        assert_eq!(key_to_command(ctrl('c'), &m), Some(Command::Quit));
        assert_eq!(key_to_command(ctrl('d'), &m), Some(Command::PageDown));
        assert_eq!(key_to_command(ctrl('x'), &m), None);
    }

    #[test]
    fn releases_are_ignored() {
        let mut k = key(KeyCode::Char('j'));
        k.kind = KeyEventKind::Release;
        assert_eq!(key_to_command(k, &Mode::Normal), None);
    }

    #[test]
    fn search_mode_types_text() {
        let m = Mode::Search;
        assert_eq!(
            key_to_command(key(KeyCode::Char('q')), &m),
            Some(Command::SearchChar('q'))
        );
        assert_eq!(
            key_to_command(key(KeyCode::Char('j')), &m),
            Some(Command::SearchChar('j'))
        );
        assert_eq!(
            key_to_command(key(KeyCode::Enter), &m),
            Some(Command::SearchConfirm)
        );
        assert_eq!(
            key_to_command(key(KeyCode::Esc), &m),
            Some(Command::SearchCancel)
        );
        assert_eq!(
            key_to_command(key(KeyCode::Backspace), &m),
            Some(Command::SearchBackspace)
        );
        assert_eq!(key_to_command(ctrl('c'), &m), Some(Command::Quit));
    }

    #[test]
    fn filter_menu_keys() {
        let m = Mode::FilterMenu;
        assert_eq!(
            key_to_command(key(KeyCode::Char('c')), &m),
            Some(Command::Filter(FilterChoice::Client))
        );
        assert_eq!(
            key_to_command(key(KeyCode::Char('v')), &m),
            Some(Command::Filter(FilterChoice::ViolationsOnly))
        );
        assert_eq!(
            key_to_command(key(KeyCode::Esc), &m),
            Some(Command::CloseMenu)
        );
        assert_eq!(key_to_command(key(KeyCode::Char('j')), &m), None);
    }
}
