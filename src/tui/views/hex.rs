//! The hex pane: a frame's wire bytes, with the bytes of the field selected in the detail
//! pane highlighted and the capture packets that carried them. Only the lines on screen
//! are built, so a 1 MiB frame scrolls as fast as a small one.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::model::{Capture, FrameRecord};
use crate::tui::app::{App, Pane};
use crate::tui::fields::Field;
use crate::tui::theme::Theme;

use super::pane_block;
use crate::tui::docs::hexdump::{HEADER_LINES, bytes_per_line, dump_lines, groups, line_count};

fn map_line(app: &App, i: usize, f: &FrameRecord) -> Line<'static> {
    let groups = groups(f);
    match i {
        0 => Line::default(),
        1 => Line::styled("byte map (← → select a field)", app.theme.title()),
        _ => match groups.get(i - 2) {
            Some((r, label, fields)) => {
                let range = match r.len() {
                    0 => "(none)".to_string(),
                    1 => r.start.to_string(),
                    _ => format!("{}-{}", r.start, r.end.saturating_sub(1)),
                };
                let line = Line::raw(format!("  {range:<12} {label}"));
                if fields.contains(&app.panes.field) {
                    line.style(app.theme.hex_field())
                } else {
                    line
                }
            }
            None => Line::default(),
        },
    }
}

struct Styler {
    header_len: usize,
    key: Option<Range<usize>>,
    field: Option<Range<usize>>,
    theme: Theme,
}

impl Styler {
    fn style(&self, i: usize) -> Style {
        if self.field.as_ref().is_some_and(|r| r.contains(&i)) {
            self.theme.hex_field()
        } else if self.key.as_ref().is_some_and(|r| r.contains(&i)) {
            self.theme.hex_key()
        } else if i < self.header_len {
            self.theme.hex_header()
        } else {
            self.theme.text()
        }
    }
}

fn dump_line(
    f: &FrameRecord,
    line: usize,
    per_line: usize,
    unmask: bool,
    st: &Styler,
) -> Line<'static> {
    let start = line * per_line;
    let bytes = f
        .raw
        .get(start..(start + per_line).min(f.raw.len()))
        .unwrap_or(&[]);
    let shown = |k: usize, b: u8| -> u8 {
        let i = start + k;
        match f.header.mask {
            Some(key) if unmask && i >= st.header_len => b ^ key[(i - st.header_len) % 4],
            _ => b,
        }
    };
    let mut spans = vec![Span::styled(format!("{start:06x}  "), st.theme.dim())];
    for k in 0..per_line {
        if k == 8 {
            spans.push(Span::raw(" "));
        }
        match bytes.get(k) {
            Some(&b) => {
                spans.push(Span::styled(
                    format!("{:02x}", shown(k, b)),
                    st.style(start + k),
                ));
                spans.push(Span::raw(" "));
            }
            None => spans.push(Span::raw("   ")),
        }
    }
    spans.push(Span::raw(" "));
    for (k, &b) in bytes.iter().enumerate() {
        let c = shown(k, b);
        let ch = if (0x20..0x7f).contains(&c) {
            c as char
        } else {
            '.'
        };
        spans.push(Span::styled(ch.to_string(), st.style(start + k)));
    }
    Line::from(spans)
}

fn header_lines(app: &App, f: &FrameRecord) -> [Line<'static>; 2] {
    let theme = app.theme;
    let packets: Vec<String> = f.packets.iter().map(u64::to_string).collect();
    let mut first = format!(
        "frame {} · {} B kept · packet{} {}",
        f.index,
        f.raw.len(),
        if f.packets.len() == 1 { "" } else { "s" },
        packets.join(", ")
    );
    if !f.complete {
        first.push_str(" · not every byte is available (capture gap or keep limit)");
    }
    let mut legend = vec![Span::styled("header", theme.hex_header()), Span::raw(" ")];
    if f.header.mask.is_some() {
        legend.push(Span::styled("key", theme.hex_key()));
        legend.push(Span::raw(if app.panes.unmask_hex {
            " payload unmasked (u: as on the wire) "
        } else {
            " payload masked, as on the wire (u: unmask) "
        }));
    } else {
        legend.push(Span::raw("payload "));
    }
    legend.push(Span::styled(
        format!("[{}]", app.panes.field.name()),
        theme.hex_field(),
    ));
    [Line::styled(first, theme.dim()), Line::from(legend)]
}

/// Draws the hex pane.
pub fn render(app: &App, capture: &Capture, area: Rect, buf: &mut Buffer) {
    let block = pane_block(" Hex ", app.panes.pane == Pane::Hex, app.theme);
    let inner = block.inner(area);
    block.render(area, buf);
    let Some((_, f)) = app.selected_frame(capture) else {
        Paragraph::new(Line::styled("No frame selected.", app.theme.dim())).render(inner, buf);
        return;
    };
    let per_line = bytes_per_line(usize::from(inner.width));
    let total = line_count(f, per_line);
    let rows = usize::from(inner.height);
    let start = app.panes.scroll.hex.min(total.saturating_sub(rows));
    let styler = Styler {
        header_len: usize::from(f.header.header_len),
        key: Field::MaskingKey.byte_range(&f.header),
        field: app.panes.field.byte_range(&f.header),
        theme: app.theme,
    };
    let header = header_lines(app, f);
    let end = (start + rows).min(total);
    let dump_end = HEADER_LINES + dump_lines(f, per_line);
    let lines: Vec<Line<'static>> = (start..end)
        .map(|i| match header.get(i) {
            Some(l) => l.clone(),
            None if i < dump_end => {
                dump_line(f, i - HEADER_LINES, per_line, app.panes.unmask_hex, &styler)
            }
            None => map_line(app, i - dump_end, f),
        })
        .collect();
    Paragraph::new(lines).render(inner, buf);
    super::scroll_hint(start, end, total, area, buf, app.theme);
}
