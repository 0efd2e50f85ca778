//! What a connection, a direction and an outcome are called on screen: the verdict
//! mark, the handshake's outcome in words, the connection's label.

use ratatui::style::Style;

use crate::model::{Connection, Dir};
use crate::tui::theme::Theme;

/// What the connection list says about a connection at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Handshake accepted, every check passed, no violation.
    Clean,
    /// At least one rule broken.
    Broken,
    /// Cannot tell: no handshake captured, no response, or the upgrade was refused.
    Unknown,
}

impl Verdict {
    /// ✓, ✗ or ?.
    pub fn mark(self) -> &'static str {
        match self {
            Verdict::Clean => "✓",
            Verdict::Broken => "✗",
            Verdict::Unknown => "?",
        }
    }

    /// The mark's style.
    pub fn style(self, theme: Theme) -> Style {
        match self {
            Verdict::Clean => theme.ok(),
            Verdict::Broken => theme.bad(),
            Verdict::Unknown => theme.warn(),
        }
    }
}

/// The verdict on a connection.
pub fn verdict(c: &Connection) -> Verdict {
    if !c.violations.is_empty() {
        return Verdict::Broken;
    }
    match &c.handshake {
        Some(h) if h.valid => Verdict::Clean,
        Some(h) if h.accepted() && h.failed_checks().next().is_some() => Verdict::Broken,
        _ => Verdict::Unknown,
    }
}

/// The handshake's outcome in a few words.
pub fn outcome(c: &Connection) -> String {
    match &c.handshake {
        None if c.midstream => "no handshake captured (midstream)".into(),
        None => "no handshake".into(),
        Some(h) => match h.status() {
            Some(101) if h.valid => "handshake ok (101)".into(),
            Some(101) if !h.observable && h.failed_checks().next().is_none() => format!(
                "handshake accepted, not fully captured (snaplen): {} check(s) not judged",
                h.unjudged_checks().count()
            ),
            Some(101) => format!(
                "handshake accepted, {} check(s) failed",
                h.failed_checks().count()
            ),
            Some(s) => format!("upgrade refused ({s})"),
            None => "no response captured".into(),
        },
    }
}

/// The outcome in a word or two, for the list.
pub fn short_outcome(c: &Connection) -> String {
    match &c.handshake {
        None if c.midstream => "midstream".into(),
        None => "no handshake".into(),
        Some(h) => match h.status() {
            Some(101) if h.valid => "101 ok".into(),
            Some(101) if !h.observable && h.failed_checks().next().is_none() => "101, cut".into(),
            Some(101) => format!("101, {} check(s) failed", h.failed_checks().count()),
            Some(s) => format!("refused ({s})"),
            None => "no response".into(),
        },
    }
}

/// `#1` once numbered, `#?` while the capture is still being read.
pub fn label(c: &Connection) -> String {
    if c.id == 0 {
        "#?".into()
    } else {
        format!("#{}", c.id)
    }
}

/// `client → server` or `server → client`.
pub fn dir_arrow(dir: Dir) -> &'static str {
    match dir {
        Dir::Client => "client → server",
        Dir::Server => "server → client",
    }
}
