//! The frame detail document: every header field with its value and meaning, the
//! selected field explained, the §5.2 diagram with this frame's bits, unmasking step by
//! step, decompression, the payload rendered, and the frame's violations.

use ratatui::text::{Line, Span};

use crate::model::{Connection, FrameRecord};
use crate::tui::fields::{Field, FrameContext};
use crate::tui::format;
use crate::tui::theme::Theme;

use super::{Doc, detail_parts, diagram, labels, unmask};

/// Columns before a field's meaning: marker, name, value.
const LEAD: usize = 29;

/// How the frame is looked at: the field selected, and whether the pane that shows the
/// document has the focus (the selection is drawn brighter then).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Look {
    /// The header field selected (explained, highlighted in the diagram).
    pub field: Field,
    /// The pane showing the document has the focus.
    pub focused: bool,
}

/// Why no frame is shown.
#[derive(Clone, Copy, Debug)]
pub enum NoFrame<'c> {
    /// No connection or frame is selected.
    Unselected,
    /// The connection has no frames.
    Frameless(&'c Connection),
    /// Frame `index` of a connection still being read has left memory.
    LeftMemory(u32),
}

/// Whether permessage-deflate applies to a connection (negotiated, or unknown because
/// the handshake was not captured).
pub fn deflate_in_use(conn: &Connection) -> bool {
    match &conn.handshake {
        Some(h) => h.deflate.is_some(),
        None => conn.midstream,
    }
}

/// What the detail says when no frame is shown, `width` columns wide.
pub fn no_frame(why: NoFrame<'_>, width: usize, theme: Theme) -> Doc {
    let mut doc = Doc::new(width, theme);
    match why {
        NoFrame::Frameless(c) => {
            let text = format!(
                "No frames on this connection: {}. Press h for the handshake: the request, the server's answer and every check.",
                labels::outcome(c)
            );
            doc.para(&text, 0, theme.text());
        }
        NoFrame::LeftMemory(index) => {
            let text = format!(
                "Frame {index} is no longer in memory: this connection is still being read, and only its latest frames are held meanwhile. It is shown again once the connection has ended (G goes to the latest frame)."
            );
            doc.para(&text, 0, theme.dim());
        }
        NoFrame::Unselected => doc.push(Line::styled("No frame selected.", theme.dim())),
    }
    doc
}

/// The detail of frame `f` of `conn`, looked at as `look`, `width` columns wide.
pub fn document(conn: &Connection, f: &FrameRecord, look: Look, width: usize, theme: Theme) -> Doc {
    let mut doc = Doc::new(width, theme);
    detail_parts::summary(&mut doc, conn, f);
    detail_parts::problems(&mut doc, conn, f);
    field_list(&mut doc, look, conn, f);
    doc.heading("RFC 6455 §5.2 frame header, filled with this frame's bits");
    doc.lines
        .extend(diagram::lines(&f.raw, &f.header, look.field, theme));
    let about = look.field;
    doc.heading(format!("About {} ({})", about.name(), about.rfc()));
    doc.para(about.about(), 2, theme.text());
    if let Some(key) = f.header.mask {
        doc.heading("Unmasking (RFC 6455 §5.3): data[i] = wire[i] XOR key[i mod 4]");
        doc.lines.extend(unmask::lines(f, key, width, theme));
    }
    detail_parts::payload_section(&mut doc, conn, f);
    doc
}

fn field_list(doc: &mut Doc, look: Look, conn: &Connection, f: &FrameRecord) {
    let (theme, width) = (doc.theme, doc.width);
    doc.heading("Header fields (Left/Right or j/k select; the hex pane highlights)");
    let ctx = FrameContext {
        dir: f.dir,
        deflate: deflate_in_use(conn),
    };
    let focused = look.focused;
    for field in Field::ALL {
        let h = &f.header;
        let present = field.byte_range(h).is_some();
        let selected = field == look.field;
        let row = doc.lines.len();
        doc.fields.push((field, row));
        let marker = if selected { "▸ " } else { "  " };
        let name_style = match (selected, focused) {
            (true, true) => theme.selected(),
            (true, false) => theme.selected_idle(),
            _ => theme.text(),
        };
        let meaning = field.meaning(h, ctx);
        let mut wrapped = format::wrap(&meaning, width.saturating_sub(LEAD)).into_iter();
        let value_style = if present { theme.value() } else { theme.dim() };
        let value = field.value(h);
        let first = if value.chars().count() > 13 {
            // A long value (a 64-bit length) takes the line; the meaning goes below.
            String::new()
        } else {
            wrapped.next().unwrap_or_default()
        };
        doc.push(Line::from(vec![
            Span::styled(format!("{marker}{:<12}", field.name()), name_style),
            Span::styled(format!(" {value:<13} "), value_style),
            Span::raw(first),
        ]));
        for more in wrapped {
            doc.push(Line::raw(format!("{:LEAD$}{more}", "")));
        }
    }
}
