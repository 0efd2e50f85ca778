//! `wsscope explain`: the TUI's frame detail or handshake view as plain text. The words
//! come from the very documents the TUI draws ([`crate::tui::docs::detail`] and
//! [`crate::tui::docs::handshake`]), so the command and the UI can never disagree.

use ratatui::text::Line;

use crate::model::Capture;
use crate::tui::docs::detail::Look;
use crate::tui::docs::{detail, handshake};
use crate::tui::fields::Field;
use crate::tui::theme::Theme;

/// What to explain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Frame K (1-based) of the connection.
    Frame(u32),
    /// The connection's opening handshake.
    Handshake,
}

/// Why nothing could be explained.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExplainError {
    /// No connection with that number.
    #[error("no connection #{0} (the capture has {1})")]
    NoConnection(u32, usize),
    /// No frame with that index.
    #[error("connection #{0} has no frame {1} (it has {2})")]
    NoFrame(u32, u32, usize),
}

fn flatten(lines: &[Line<'_>]) -> String {
    let mut out = String::new();
    for line in lines {
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        // The UI's key hints mean nothing on paper.
        let text = match text.split_once(" (Left/Right") {
            Some((head, _)) => head.to_string(),
            None => text,
        };
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// Explains `subject` of connection `conn` (numbered as in the summary), `width` columns wide.
pub fn explain(
    capture: &Capture,
    name: &str,
    conn: u32,
    subject: Subject,
    width: u16,
) -> Result<String, ExplainError> {
    let c = capture
        .connections
        .iter()
        .find(|c| c.id == conn)
        .ok_or(ExplainError::NoConnection(conn, capture.connections.len()))?;
    let (theme, width) = (Theme::new(false), usize::from(width));
    let header = format!(
        "{name} · connection #{} {} → {}\n\n",
        c.id, c.client, c.server
    );
    match subject {
        Subject::Handshake => {
            Ok(header + &flatten(&handshake::document(Some(c), width, theme).lines))
        }
        Subject::Frame(k) => {
            let f = c
                .frame(k)
                .ok_or(ExplainError::NoFrame(conn, k, c.frames.len()))?;
            // As the detail pane first shows a frame: its FIN bit selected.
            let look = Look {
                field: Field::Fin,
                focused: false,
            };
            let doc = detail::document(c, f, look, width, theme);
            Ok(header + &flatten(&doc.lines))
        }
    }
}
