//! The help view: every key, grouped by what it is for.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::tui::app::App;
use crate::tui::filter::FilterChoice;
use crate::tui::format;
use crate::tui::theme::Theme;

use super::pane_block;

/// Key groups: title, then (keys, what they do).
pub const KEYS: &[(&str, &[(&str, &str)])] = &[
    (
        "Moving",
        &[
            (
                "j k ↓ ↑",
                "next / previous row (frame, connection, field, line)",
            ),
            (
                "] [  Ctrl-n/p  Ctrl-↓/↑",
                "next / previous frame, whatever pane has focus",
            ),
            ("g G  Home End", "first / last"),
            ("PgDn PgUp Space Ctrl-d/u", "a page down / up"),
            (
                "(long connections)",
                "held 20,000 frames at a time (the frame list's title says which): moving past either end decodes the frames there",
            ),
            (
                "← →",
                "previous / next header field (highlighted in the hex pane)",
            ),
            (
                "Tab Shift-Tab",
                "next / previous pane: connections, frames, detail, hex",
            ),
            (
                "Enter",
                "open: connection → frames → detail → hex; in lists, go to the frame",
            ),
            (
                "Esc Backspace",
                "back: close a view, or go to the previous pane",
            ),
            ("mouse", "click selects a row or a field, the wheel scrolls"),
        ],
    ),
    (
        "Views",
        &[
            ("h", "handshake: headers, checks, the Accept computation"),
            (
                "s",
                "stats: heartbeats (ping/pong round trips, idle gaps) and overhead vs HTTP polling",
            ),
            ("v", "violations and warnings of the connection"),
            ("m", "messages: fragments assembled and decompressed"),
            ("?  F1", "this help"),
        ],
    ),
    (
        "Finding",
        &[
            (
                "/",
                "search payload text, opcode names and handshake headers (Enter, Esc)",
            ),
            ("n N", "next / previous match (across connections)"),
            (
                "f",
                "filter frames (a menu: direction, data/control, violations, matches)",
            ),
        ],
    ),
    (
        "Display",
        &[
            ("t", "relative / absolute (UTC) frame times"),
            ("u", "hex pane: payload as on the wire (masked) or unmasked"),
            ("q  Ctrl-c", "quit"),
        ],
    ),
];

/// Width of the key column.
const KEY_W: usize = 26;

fn entry(out: &mut Vec<Line<'static>>, keys: &str, what: &str, width: usize, theme: Theme) {
    let lead = KEY_W + 2;
    let mut text = format::wrap(what, width.saturating_sub(lead)).into_iter();
    out.push(Line::from(vec![
        Span::styled(format!("  {keys:<KEY_W$}"), theme.value()),
        Span::raw(text.next().unwrap_or_default()),
    ]));
    out.extend(text.map(|t| Line::raw(format!("{:lead$}{t}", ""))));
}

/// The help text for a page `width` columns wide.
pub fn lines(theme: Theme, width: usize) -> Vec<Line<'static>> {
    let intro = "wsscope shows WebSocket traffic frame by frame. Step through frames with j/k: the detail and hex panes follow.";
    let mut out: Vec<Line<'static>> = format::wrap(intro, width)
        .into_iter()
        .map(Line::raw)
        .collect();
    for (title, keys) in KEYS {
        out.push(Line::default());
        out.push(Line::styled(title.to_string(), theme.title()));
        for (k, what) in keys.iter() {
            entry(&mut out, k, what, width, theme);
        }
    }
    out.push(Line::default());
    out.push(Line::styled("Filter menu (f)", theme.title()));
    for (k, _, label) in FilterChoice::MENU {
        entry(&mut out, &k.to_string(), label, width, theme);
    }
    out.push(Line::default());
    let marks = "Marks: ✓ clean · ✗ rule broken · ? unknown (no handshake, refused) · ! capture problem · → client to server · ← server to client";
    out.extend(
        format::wrap(marks, width)
            .into_iter()
            .map(|l| Line::styled(l, theme.dim())),
    );
    out
}

/// Draws the help view.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let block = pane_block(" Keys · Esc: back ", true, app.theme);
    let width = usize::from(block.inner(area).width);
    super::scrolled_page(
        lines(app.theme, width),
        app.overlays.page,
        block,
        area,
        buf,
        app.theme,
    );
}
