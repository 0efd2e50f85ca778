//! The frame list of the selected connection: index, time, gap since the previous
//! frame (idle periods stand out), direction, opcode, FIN, length and a preview.

use std::collections::HashSet;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::model::{Capture, Connection, Dir, FrameRecord};
use crate::model::{DataOpcode, Opcode};
use crate::tui::app::{App, Pane, TimeFormat};
use crate::tui::format;

use super::pane_block;
use crate::tui::docs::payload;

/// The opcode in at most 6 characters.
pub fn short_opcode(op: Opcode) -> String {
    match op {
        Opcode::Data(DataOpcode::Continuation) => "cont".into(),
        o if o.is_reserved() => format!("op-{:x}", o.bits()),
        o => o.name(),
    }
}

fn time_text(app: &App, conn: &Connection, f: &FrameRecord) -> String {
    match app.panes.time {
        TimeFormat::Relative => format::relative(f.ts, conn.first_ts),
        TimeFormat::Absolute => format::clock(f.ts),
    }
}

/// Column widths that fit every frame of a connection: index and time.
#[derive(Clone, Copy)]
struct Widths {
    index: usize,
    time: usize,
}

impl Widths {
    fn of(app: &App, conn: &Connection) -> Widths {
        let index = conn.frame_count().to_string().len().max(4);
        let time = match (app.panes.time, conn.frames.last()) {
            (TimeFormat::Relative, Some(f)) => time_text(app, conn, f).len().max(9),
            (TimeFormat::Relative, None) => 9,
            (TimeFormat::Absolute, _) => 15,
        };
        Widths { index, time }
    }
}

fn row(
    app: &App,
    conn: &Connection,
    f: &FrameRecord,
    bad: bool,
    width: usize,
    w: Widths,
) -> Line<'static> {
    let theme = app.theme;
    let prev = f.index.checked_sub(1).and_then(|i| conn.frame(i));
    let gap_secs = prev.map(|p| f.ts.seconds_since(p.ts));
    let gap = gap_secs.map(format::gap).unwrap_or_default();
    let gap_style = if gap_secs.is_some_and(|g| g >= format::IDLE_GAP) {
        theme.idle()
    } else {
        theme.dim()
    };
    let (arrow, dir_style) = match f.dir {
        Dir::Client => ("→", theme.client()),
        Dir::Server => ("←", theme.server()),
    };
    let head = format!(
        "{:>iw$} {:>tw$} ",
        f.index,
        time_text(app, conn, f),
        iw = w.index,
        tw = w.time
    );
    let rest = format!(
        " {:<6} {:^3} {:>7} ",
        short_opcode(f.header.opcode),
        if f.header.fin { "1" } else { "0" },
        f.header.payload_len
    );
    let used = 1 + head.chars().count() + 7 + 2 + rest.chars().count();
    let preview = payload::frame_preview(conn, f, width.saturating_sub(used));
    Line::from(vec![
        if bad {
            Span::styled("✗", theme.bad())
        } else {
            Span::raw(" ")
        },
        Span::raw(head),
        Span::styled(format!("{gap:>7}"), gap_style),
        Span::styled(format!(" {arrow}"), dir_style),
        Span::raw(rest),
        Span::raw(preview),
    ])
}

fn header(app: &App, w: Widths) -> Line<'static> {
    let time = if app.panes.time == TimeFormat::Absolute {
        "time (UTC)"
    } else {
        "time (s)"
    };
    Line::styled(
        format!(
            " {:>iw$} {time:>tw$} {:>7}   {:<6} {:^3} {:>7} payload",
            "#",
            "gap",
            "opcode",
            "FIN",
            "length",
            iw = w.index,
            tw = w.time
        ),
        app.theme.title(),
    )
}

/// The first and last frame held, when the connection holds only part of its frames
/// (a window of a long connection, or the latest frames of one still being read).
fn held_part(conn: &Connection) -> Option<(u32, u32)> {
    let (first, last) = conn.held_frames()?;
    let all = first == 1 && usize::try_from(last).is_ok_and(|l| l == conn.frame_count());
    (!all).then_some((first, last))
}

/// Draws the frame list.
pub fn render(app: &App, capture: &Capture, area: Rect, buf: &mut Buffer) {
    let focused = app.panes.pane == Pane::Frames;
    let theme = app.theme;
    let conn = app.connection(capture);
    let mut title = match conn {
        Some(c) => format!(
            " Frames of {} ({}",
            crate::tui::docs::labels::label(c),
            c.frame_count()
        ),
        None => " Frames (".to_string(),
    };
    if !app.filter.is_empty() {
        title.push_str(&format!(", {} shown", app.panes.visible.len()));
    }
    if let Some((first, last)) = conn.and_then(held_part) {
        title.push_str(&format!(", {first}–{last} in memory"));
    }
    if let Some(p) = app.decoding.pending.as_ref()
        && let Some(around) = p.around
    {
        let read = app
            .record(capture)
            .filter(|r| r.flow_order == p.flow_order)
            .map(|r| format!(" {} % of the connection read", p.ticket.watch.percent(r)))
            .unwrap_or_default();
        title.push_str(&format!(", decoding the part around {around}…{read}"));
    }
    title.push_str(") ");
    let block = pane_block(&title, focused, theme);
    let inner = block.inner(area);
    block.render(area, buf);
    let Some(conn) = conn else {
        return;
    };
    let width = usize::from(inner.width);
    let rows = usize::from(inner.height).saturating_sub(1);
    let bad: HashSet<u32> = conn.violations.iter().filter_map(|v| v.frame).collect();
    let widths = Widths::of(app, conn);
    let mut lines = vec![header(app, widths)];
    if app.panes.visible.is_empty() {
        let pending = app
            .decoding
            .pending
            .as_ref()
            .filter(|p| p.flow_order == conn.flow_order);
        let why: String = if let Some(p) = pending {
            format!(
                "Decoding this connection's {} frames again from the file… {} % read",
                p.frames,
                p.ticket.watch.percent(conn)
            )
        } else if conn.held.dropped().is_some() && app.decoding.failed == Some(conn.flow_order) {
            "The frames could not be read again from the file (the status line says why).".into()
        } else if conn.frames.is_empty() {
            match &conn.handshake {
                Some(h) if !h.accepted() => {
                    "No frames: the upgrade was not accepted (h shows the handshake).".into()
                }
                _ => "No frames yet.".into(),
            }
        } else {
            "No frame passes the filter (f changes it).".into()
        };
        lines.push(Line::styled(why, theme.dim()));
    }
    // Frame rows from the scroll position, each after a row for every gap before it
    // (bytes the capture lacks between the frame before it and this one); rows above the
    // selected frame are dropped when gap rows would push it out of view.
    let selected = app.panes.frame;
    let mut body: Vec<(Line<'static>, bool)> = Vec::new();
    let mut prev_shown: Option<u32> = app
        .panes
        .scroll
        .frames
        .checked_sub(1)
        .and_then(|p| app.panes.visible.get(p).copied());
    for &i in app.panes.visible.iter().skip(app.panes.scroll.frames) {
        let Some(f) = conn.frame(i) else { continue };
        let from = prev_shown.map_or(f.index, |p| p + 1);
        let first = conn.gaps.partition_point(|g| g.before_frame < from);
        let last = conn.gaps.partition_point(|g| g.before_frame <= f.index);
        for g in conn.gaps.get(first..last).unwrap_or_default() {
            body.push((
                Line::styled(format!("  {}", g.row_text()), theme.warn()),
                false,
            ));
        }
        prev_shown = Some(f.index);
        body.push((
            row(app, conn, f, bad.contains(&f.index), width, widths),
            selected == Some(i),
        ));
        let past_selection = selected.is_none_or(|s| body.iter().any(|(_, sel)| *sel) || s < i);
        if body.len() >= rows && past_selection {
            break;
        }
    }
    let skip = body
        .iter()
        .position(|(_, sel)| *sel)
        .map_or(0, |at| (at + 1).saturating_sub(rows));
    let sel_row = body
        .iter()
        .skip(skip)
        .position(|(_, sel)| *sel)
        .map(|r| r + 1);
    lines.extend(body.into_iter().skip(skip).take(rows).map(|(l, _)| l));
    Paragraph::new(lines).render(inner, buf);
    super::highlight_row(buf, inner, sel_row, super::selection(focused, theme));
    let end = (app.panes.scroll.frames + rows).min(app.panes.visible.len());
    super::scroll_hint(
        app.panes.scroll.frames,
        end,
        app.panes.visible.len(),
        area,
        buf,
        theme,
    );
}
