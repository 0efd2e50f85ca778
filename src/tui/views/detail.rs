//! The frame detail pane: every header field with its value and meaning, the selected
//! field explained, the §5.2 diagram with this frame's bits, unmasking step by step,
//! decompression, the payload rendered, and the frame's violations.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::model::{Capture, Connection, FrameRecord};
use crate::tui::app::{App, Pane};
use crate::tui::explain::{Field, FrameContext};
use crate::tui::format;
use crate::tui::theme::Theme;

use super::{detail_parts, diagram, pane_block, unmask};

/// Columns before a field's meaning: marker, name, value.
const LEAD: usize = 29;

/// The detail text of the selected frame, with the row of each field.
#[derive(Debug, Default)]
pub struct Doc {
    /// Every line.
    pub lines: Vec<Line<'static>>,
    /// The row of each field's line.
    pub fields: Vec<(Field, usize)>,
}

impl Doc {
    /// The row where `field` is listed.
    pub fn row_of(&self, field: Field) -> Option<usize> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, r)| *r)
    }

    /// The field listed on `row` (a field's explanation may take several rows).
    pub fn field_at(&self, row: usize) -> Option<Field> {
        let i = self.fields.partition_point(|(_, r)| *r <= row);
        let (f, start) = *self.fields.get(i.checked_sub(1)?)?;
        let end = self.fields.get(i).map_or(start + 1, |(_, r)| *r);
        (row >= start && row < end).then_some(f)
    }

    pub(crate) fn push(&mut self, line: impl Into<Line<'static>>) {
        self.lines.push(line.into());
    }

    pub(crate) fn heading(&mut self, text: impl Into<String>, theme: Theme) {
        self.push(Line::default());
        self.push(Line::styled(text.into(), theme.title()));
    }

    pub(crate) fn para(
        &mut self,
        text: &str,
        indent: usize,
        width: usize,
        style: ratatui::style::Style,
    ) {
        for l in format::wrap(text, width.saturating_sub(indent)) {
            self.push(Line::styled(format!("{}{l}", " ".repeat(indent)), style));
        }
    }
}

/// Whether permessage-deflate applies to a connection (negotiated, or unknown because
/// the handshake was not captured).
pub fn deflate_in_use(conn: &Connection) -> bool {
    match &conn.handshake {
        Some(h) => h.deflate.is_some(),
        None => conn.midstream,
    }
}

/// Builds the detail text of the selected frame for a pane `width` columns wide.
pub fn document(app: &App, capture: &Capture, width: usize) -> Doc {
    let mut doc = Doc::default();
    let theme = app.theme;
    let Some((conn, f)) = app.selected_frame(capture) else {
        match app.connection(capture) {
            Some(c) if c.frames.is_empty() => {
                let text = format!(
                    "No frames on this connection: {}. Press h for the handshake: the request, the server's answer and every check.",
                    super::connections::outcome(c)
                );
                doc.para(&text, 0, width, theme.text());
            }
            Some(c)
                if app
                    .frame
                    .is_some_and(|f| app.dropped_while_read(Some(c), f)) =>
            {
                let text = format!(
                    "Frame {} is no longer in memory: this connection is still being read, and only its latest frames are held meanwhile. It is shown again once the connection has ended (G goes to the latest frame).",
                    app.frame.unwrap_or_default()
                );
                doc.para(&text, 0, width, theme.dim());
            }
            _ => doc.push(Line::styled("No frame selected.", theme.dim())),
        }
        return doc;
    };
    detail_parts::summary(&mut doc, app, conn, f, width);
    detail_parts::problems(&mut doc, conn, f, width, theme);
    field_list(&mut doc, app, conn, f, width);
    doc.heading(
        "RFC 6455 §5.2 frame header, filled with this frame's bits",
        theme,
    );
    doc.lines
        .extend(diagram::lines(&f.raw, &f.header, app.field, theme));
    let about = app.field;
    doc.heading(format!("About {} ({})", about.name(), about.rfc()), theme);
    doc.para(about.about(), 2, width, theme.text());
    if let Some(key) = f.header.mask {
        doc.heading(
            "Unmasking (RFC 6455 §5.3): data[i] = wire[i] XOR key[i mod 4]",
            theme,
        );
        doc.lines.extend(unmask::lines(f, key, width, theme));
    }
    detail_parts::payload_section(&mut doc, conn, f, width, theme);
    doc
}

fn field_list(doc: &mut Doc, app: &App, conn: &Connection, f: &FrameRecord, width: usize) {
    let theme = app.theme;
    doc.heading(
        "Header fields (Left/Right or j/k select; the hex pane highlights)",
        theme,
    );
    let ctx = FrameContext {
        dir: f.dir,
        deflate: deflate_in_use(conn),
    };
    let focused = app.pane == Pane::Detail && app.view().is_none();
    for field in Field::ALL {
        let h = &f.header;
        let present = field.byte_range(h).is_some();
        let selected = field == app.field;
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

/// Draws the detail pane.
pub fn render(app: &App, capture: &Capture, area: Rect, buf: &mut Buffer) {
    let focused = app.pane == Pane::Detail;
    let title = if crate::tui::layout::both_lower(app.area) {
        " Detail ".to_string()
    } else {
        " Detail │ Tab: hex ".to_string()
    };
    let block = pane_block(&title, focused, app.theme);
    let inner = block.inner(area);
    block.render(area, buf);
    let doc = document(app, capture, usize::from(inner.width));
    let start = app.scroll.detail.min(doc.lines.len().saturating_sub(1));
    let end = (start + usize::from(inner.height)).min(doc.lines.len());
    let shown: Vec<Line<'static>> = doc.lines.get(start..end).unwrap_or(&[]).to_vec();
    Paragraph::new(shown).render(inner, buf);
    super::scroll_hint(start, end, doc.lines.len(), area, buf, app.theme);
}
