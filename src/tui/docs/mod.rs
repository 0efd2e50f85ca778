//! The UI's text documents (frame detail, handshake, stats), built from the model and a
//! few display choices, never from the UI state: the panes render them, and
//! `wsscope explain` prints the very same words. [`Doc`] is the one text builder they
//! are written with; the other modules here are what the documents and the panes are
//! made of (labels, findings, payload renderings, the §5.2 diagram, hex layout).

pub mod detail;
mod detail_parts;
pub mod diagram;
pub mod findings;
pub mod handshake;
mod handshake_checks;
pub mod hexdump;
pub mod labels;
pub mod payload;
pub mod stats;
pub mod unmask;

use ratatui::style::Style;
use ratatui::text::Line;

use super::fields::Field;
use super::format;
use super::theme::Theme;

/// A document being written: its lines, the row of each header field listed (the
/// frame detail lists them; the panes scroll to them), its width and its theme.
#[derive(Debug)]
pub struct Doc {
    /// Every line.
    pub lines: Vec<Line<'static>>,
    /// The row of each field's line.
    pub fields: Vec<(Field, usize)>,
    /// Columns available.
    pub width: usize,
    /// Colours.
    pub theme: Theme,
}

impl Doc {
    /// An empty document `width` columns wide.
    pub fn new(width: usize, theme: Theme) -> Doc {
        Doc {
            lines: Vec::new(),
            fields: Vec::new(),
            width,
            theme,
        }
    }

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

    /// Adds a line.
    pub fn push(&mut self, line: impl Into<Line<'static>>) {
        self.lines.push(line.into());
    }

    /// Adds a blank line and a heading.
    pub fn heading(&mut self, text: impl Into<String>) {
        self.push(Line::default());
        self.push(Line::styled(text.into(), self.theme.title()));
    }

    /// Adds `text` wrapped to the width, each line indented by `indent` columns.
    pub fn para(&mut self, text: &str, indent: usize, style: Style) {
        for l in format::wrap(text, self.width.saturating_sub(indent)) {
            self.push(Line::styled(format!("{}{l}", " ".repeat(indent)), style));
        }
    }

    /// Lines in all.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// No line yet.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}
