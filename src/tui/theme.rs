//! Styles. The terminal's own foreground and background are kept everywhere (so the UI
//! reads on dark and light themes); colour is only an accent, and every meaning also
//! shows as text or a modifier, so `NO_COLOR` loses nothing.

use ratatui::style::{Color, Modifier, Style};

/// The styles every view draws with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    /// Colours are used (false under `NO_COLOR` or `--no-color`).
    pub color: bool,
}

impl Theme {
    /// A theme with or without colour.
    pub fn new(color: bool) -> Self {
        Theme { color }
    }

    /// Colour unless `no_color` is set or the `NO_COLOR` environment variable is non-empty
    /// (<https://no-color.org>).
    pub fn from_env(no_color: bool) -> Self {
        let env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme::new(!no_color && !env)
    }

    fn fg(self, color: Color, plain: Modifier) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new().add_modifier(plain)
        }
    }

    /// Plain text.
    pub fn text(self) -> Style {
        Style::new()
    }

    /// Secondary text (explanations, units).
    pub fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    /// Headings and pane titles.
    pub fn title(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Border of the focused pane.
    pub fn focus(self) -> Style {
        self.fg(Color::Cyan, Modifier::BOLD)
    }

    /// Border of other panes.
    pub fn border(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    /// The selected row of the focused pane.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The selected row of a pane without focus.
    pub fn selected_idle(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    /// Passed checks, valid handshakes.
    pub fn ok(self) -> Style {
        self.fg(Color::Green, Modifier::BOLD)
    }

    /// Violations and failed checks.
    pub fn bad(self) -> Style {
        self.fg(Color::Red, Modifier::BOLD)
            .add_modifier(Modifier::BOLD)
    }

    /// Warnings and refused upgrades.
    pub fn warn(self) -> Style {
        self.fg(Color::Magenta, Modifier::BOLD)
    }

    /// Frames sent by the client.
    pub fn client(self) -> Style {
        self.fg(Color::Cyan, Modifier::empty())
    }

    /// Frames sent by the server.
    pub fn server(self) -> Style {
        self.fg(Color::Magenta, Modifier::empty())
    }

    /// Accent for values (header field values, keys in the help).
    pub fn value(self) -> Style {
        self.fg(Color::Cyan, Modifier::BOLD)
    }

    /// Header bytes in the hex dump (other than the selected field).
    pub fn hex_header(self) -> Style {
        self.fg(Color::Cyan, Modifier::BOLD)
    }

    /// Masking-key bytes in the hex dump.
    pub fn hex_key(self) -> Style {
        self.fg(Color::Magenta, Modifier::UNDERLINED)
    }

    /// The bytes of the field selected in the detail pane.
    pub fn hex_field(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    /// An idle gap before a frame (bold: yellow is unreadable on light backgrounds).
    pub fn idle(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// The input line of a search.
    pub fn input(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
}
