//! Parts of the frame detail: the summary at the top, the frame's violations and
//! warnings, and the payload (unmasked, decompressed, rendered).

use ratatui::text::{Line, Span};

use crate::model::{Connection, FrameRecord, MessageKind, MessageRecord};
use crate::tui::format;

use super::{Doc, payload};

/// Lines of the rendered payload shown at most.
const PAYLOAD_LINES: usize = 200;

/// The summary at the top: which frame, when, how long, which packets, which message.
pub(super) fn summary(doc: &mut Doc, conn: &Connection, f: &FrameRecord) {
    let theme = doc.theme;
    let h = &f.header;
    doc.push(Line::from(vec![
        Span::styled(format!("Frame {}", f.index), theme.title()),
        Span::raw(format!(
            " of {} · {} · {} · {}",
            conn.frame_count(),
            super::labels::dir_arrow(f.dir),
            h.opcode.name(),
            if h.fin { "FIN" } else { "not final" }
        )),
    ]));
    let prev = f.index.checked_sub(1).and_then(|i| conn.frame(i));
    let gap = match prev {
        Some(p) => format!(
            " · {} after frame {}",
            format::gap(f.ts.seconds_since(p.ts)),
            p.index
        ),
        None => String::new(),
    };
    // A length the capture does not back is what the header declares, not a size.
    let size = if f.seen < h.payload_len {
        format!(
            "declares {} B payload; {} B of it {}",
            h.payload_len,
            f.seen,
            if f.ended {
                "are in the capture"
            } else {
                "seen so far"
            }
        )
    } else {
        format!(
            "{} B payload, {} B on the wire",
            h.payload_len,
            u64::from(h.header_len).saturating_add(h.payload_len)
        )
    };
    let text = format!(
        "{size} · at +{} s · {}{gap}",
        format::relative(f.ts, conn.first_ts),
        format::absolute(f.ts)
    );
    doc.para(&text, 0, theme.text());
    let packets: Vec<String> = f.packets.iter().map(u64::to_string).collect();
    let mut carried = format!(
        "carried by packet{} {}",
        if packets.len() == 1 { "" } else { "s" },
        packets.join(", ")
    );
    if let Some((i, m)) = f.message.and_then(|i| conn.message(i).map(|m| (i, m))) {
        carried.push_str(&format!(
            " · part of message {} ({} frame{}{})",
            i + 1,
            m.frames.len(),
            if m.frames.len() == 1 { "" } else { "s" },
            if m.compressed { ", compressed" } else { "" }
        ));
    }
    if !f.complete {
        let why = f.lacks.map_or_else(
            || "not every payload byte is available".to_string(),
            |lack| lack.sentence(h.payload_len.saturating_sub(f.seen)),
        );
        carried.push_str(&format!(" · {why}"));
    }
    doc.para(&carried, 0, theme.dim());
}

/// The frame's violations (with their rules) and warnings.
pub(super) fn problems(doc: &mut Doc, conn: &Connection, f: &FrameRecord) {
    let theme = doc.theme;
    for v in conn.violations.iter().filter(|v| v.frame == Some(f.index)) {
        doc.push(Line::default());
        doc.push(Line::from(vec![
            Span::styled("✗ ", theme.bad()),
            Span::styled(v.rule.code(), theme.bad()),
            Span::raw(format!("  ({})", v.rule.rfc())),
        ]));
        doc.para(&v.detail, 2, theme.text());
        doc.para(v.rule.sentence(), 2, theme.dim());
    }
    for w in conn.warnings.iter().filter(|w| w.frame == Some(f.index)) {
        doc.push(Line::default());
        doc.push(Line::from(vec![
            Span::styled("! ", theme.warn()),
            Span::styled(w.warning.code(), theme.warn()),
            Span::raw("  (a capture problem, not a rule)"),
        ]));
        doc.para(&w.detail, 2, theme.text());
    }
}

/// The payload: unmasked, decompressed, rendered; the whole message of a fragment.
pub(super) fn payload_section(doc: &mut Doc, conn: &Connection, f: &FrameRecord) {
    let (theme, width) = (doc.theme, doc.width);
    let msg = conn.message_of(f);
    let own = f.unmasked_payload();
    let text = msg.is_some_and(|m| m.kind == MessageKind::Text);
    match msg {
        Some(m) if m.compressed => {
            doc.heading("Decompression (permessage-deflate, RFC 7692 §7.2.2)");
            let frames: Vec<String> = m.frames.iter().map(u32::to_string).collect();
            let outcome = if m.complete {
                format!("inflates to {} B", m.len)
            } else {
                format!(
                    "could not be decompressed in full (the problems above say why): {} B of what it holds are known",
                    m.data.len()
                )
            };
            let note = format!(
                "RSV1 on frame {} marks the message compressed. The payloads of its frame{} {} ({} B), followed by 00 00 ff ff, form a raw DEFLATE stream that {outcome}.",
                m.frames.first().copied().unwrap_or(f.index),
                if frames.len() == 1 { "" } else { "s" },
                frames.join(", "),
                m.wire_len,
            );
            doc.para(&note, 2, theme.text());
            doc.heading(format!(
                "Before decompression: this frame's payload ({} B, unmasked)",
                own.len()
            ));
            let (_, lines) = payload::render(&own, false, width, 8, theme);
            doc.lines.extend(lines);
            message_body(doc, m, "After decompression: the message");
        }
        Some(m) if m.kind == MessageKind::Close => {
            doc.heading("Close payload (RFC 6455 §5.5.1, status codes §7.4)");
            doc.lines.extend(payload::close_lines(&own, width, theme));
        }
        Some(m) if m.frames.len() > 1 => {
            let at = m
                .frames
                .iter()
                .position(|i| *i == f.index)
                .map_or(0, |p| p + 1);
            let (label, lines) = payload::render(&own, text, width, PAYLOAD_LINES, theme);
            doc.heading(format!(
                "This fragment ({at} of {}): {label}, {} B",
                m.frames.len(),
                own.len()
            ));
            doc.lines.extend(lines);
            message_body(doc, m, "The whole message");
        }
        _ if own.is_empty() && f.header.payload_len > 0 => {
            doc.heading(format!(
                "Payload: not in the capture ({} B declared)",
                f.header.payload_len
            ));
        }
        _ => {
            let (label, lines) = payload::render(&own, text, width, PAYLOAD_LINES, theme);
            doc.heading(format!("Payload: {label}, {} B", own.len()));
            doc.lines.extend(lines);
        }
    }
    if let Some(m) = msg.filter(|m| m.finished && m.frames.last() == Some(&f.index)) {
        subprotocol_section(doc, conn, m);
    }
}

/// What rides on WebSocket: the message decoded by its subprotocol (MQTT, STOMP) or as
/// JSON, shown on the message's last frame (where the whole message is known).
fn subprotocol_section(doc: &mut Doc, conn: &Connection, m: &MessageRecord) {
    let theme = doc.theme;
    let Some(d) = crate::analysis::subprotocol::decode_message(conn, m) else {
        return;
    };
    if d.protocol == "JSON" {
        // JSON is already pretty-printed above; say what it is.
        doc.heading("Inside: JSON");
        doc.para(d.explain, 2, theme.dim());
        return;
    }
    doc.heading(format!("Inside: {} ({})", d.protocol, d.units.join(", ")));
    doc.para(d.explain, 2, theme.dim());
    for line in &d.lines {
        doc.para(line, 2, theme.text());
    }
}

fn message_body(doc: &mut Doc, m: &MessageRecord, title: &str) {
    let (theme, width) = (doc.theme, doc.width);
    let (label, lines) = payload::render(
        &m.data,
        m.kind == MessageKind::Text,
        width,
        PAYLOAD_LINES,
        theme,
    );
    let mut head = format!("{title}: {label}, {} B", m.len_label());
    if !m.compressed && !m.complete && (m.data.len() as u64) < m.len {
        head = format!(
            "{title}: {} B, of which the first {} B are shown ({label})",
            m.len,
            m.data.len()
        );
    } else if m.compressed && !m.complete {
        head = if m.data.is_empty() {
            format!("{title}: not known (it could not be decompressed)")
        } else {
            format!("{title}: its first {} B are known ({label})", m.data.len())
        };
    } else if !m.finished {
        head.push_str(" (not finished in the capture)");
    } else if m.data_cut {
        head.push_str(" (only the first bytes were kept)");
    }
    doc.heading(head);
    doc.lines.extend(lines);
}
