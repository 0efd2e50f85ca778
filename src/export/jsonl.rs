//! The JSON-lines export (DESIGN.md "JSON-lines contract"): one object per line, each
//! with a `kind` of `connection`, `frame`, `message`, `violation` or `warning`.
//! Field names are stable; fields may be added, never renamed.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{
    Capture, Connection, FrameRecord, MessageRecord, ViolationRecord, WarningRecord,
};

/// Longest text kept in a `message` line, in bytes (cut on a character boundary).
pub const TEXT_CUT: usize = 4096;

#[derive(Serialize)]
struct CheckLine {
    rule: &'static str,
    /// `null`: not captured (the snaplen cut what the rule needs).
    ok: Option<bool>,
    rfc: &'static str,
    code: &'static str,
    detail: String,
}

#[derive(Serialize)]
struct HandshakeLine {
    valid: bool,
    /// Both heads are whole in the capture.
    observable: bool,
    status: Option<u16>,
    method: Option<String>,
    path: Option<String>,
    key: Option<String>,
    accept: Option<String>,
    expected_accept: Option<String>,
    version: Option<String>,
    subprotocol: Option<String>,
    extensions: Option<String>,
    checks: Vec<CheckLine>,
}

#[derive(Serialize)]
struct TlsLine {
    version: String,
    cipher: Option<String>,
    sni: Option<String>,
    alpn: Option<String>,
    decrypted: bool,
    reason: Option<String>,
}

#[derive(Serialize)]
struct ConnectionLine {
    kind: &'static str,
    id: u32,
    client: String,
    server: String,
    first_ts: f64,
    midstream: bool,
    handshake: Option<HandshakeLine>,
    /// `null` for plain TCP.
    tls: Option<TlsLine>,
}

#[derive(Serialize)]
struct FrameLine<'a> {
    kind: &'static str,
    conn: u32,
    dir: &'static str,
    index: u32,
    ts: f64,
    fin: bool,
    rsv1: bool,
    rsv2: bool,
    rsv3: bool,
    opcode: u8,
    masked: bool,
    mask_key: Option<String>,
    payload_len: u64,
    header_len: u8,
    packets: &'a [u64],
}

#[derive(Serialize)]
struct MessageLine {
    kind: &'static str,
    conn: u32,
    dir: &'static str,
    ts: f64,
    opcode: &'static str,
    len: Option<u64>,
    sha256: Option<String>,
    compressed: bool,
    frames: usize,
    text: Option<String>,
    close_code: Option<u16>,
    close_reason: Option<String>,
    complete: bool,
    wire_len: u64,
}

#[derive(Serialize)]
struct ViolationLine {
    kind: &'static str,
    conn: u32,
    dir: Option<&'static str>,
    code: &'static str,
    rfc: &'static str,
    frame: Option<u32>,
    detail: String,
}

#[derive(Serialize)]
struct WarningLine {
    kind: &'static str,
    conn: u32,
    dir: Option<&'static str>,
    code: &'static str,
    frame: Option<u32>,
    detail: String,
}

#[derive(Serialize)]
struct AnalysisLine {
    kind: &'static str,
    conn: u32,
    heartbeat: serde_json::Value,
    overhead: serde_json::Value,
}

fn analysis_line(c: &Connection) -> AnalysisLine {
    use crate::analysis::heartbeat::Closing;
    let tally = c.tally(f64::INFINITY);
    let hb = crate::analysis::heartbeat::from_tally(&tally, c.ending, f64::INFINITY);
    let rtt = hb.rtt_stats();
    let o = crate::analysis::overhead::overhead_with(c, &tally);
    AnalysisLine {
        kind: "analysis",
        conn: c.id,
        heartbeat: serde_json::json!({
            "pings": hb.pairs.len(),
            "answered": hb.pairs.len() - hb.unanswered(),
            "unanswered": hb.unanswered(),
            "not_echoed": hb.not_echoed(),
            "unsolicited_pongs": hb.unsolicited_pongs,
            "rtt_min": rtt.map(|r| r.0),
            "rtt_mean": rtt.map(|r| r.1),
            "rtt_max": rtt.map(|r| r.2),
            "ping_interval": hb.ping_interval,
            "longest_idle": hb.longest_idle.map(|g| g.0),
            "closing": match hb.closing {
                Closing::Handshake => "handshake",
                Closing::OneSided(_) => "one-sided",
                Closing::None(_) => "none",
            },
        }),
        overhead: serde_json::json!({
            "messages": o.messages,
            "payload": o.payload,
            "framing": o.framing,
            "handshake": o.handshake,
            "tcpip": o.tcpip,
            "duration": o.duration,
            "websocket_bytes": o.websocket_bytes(),
            "polling_bytes": o.polling_bytes,
            "long_polling_bytes": o.long_polling_bytes,
        }),
    }
}

/// Writes a connection's `analysis` line (heartbeat and overhead; the connection must be finished).
pub fn write_analysis_line(out: &mut dyn Write, c: &Connection) -> io::Result<()> {
    line(out, &analysis_line(c))
}

fn addr(a: std::net::SocketAddr) -> String {
    a.to_string()
}

fn cut_text(s: &str) -> String {
    if s.len() <= TEXT_CUT {
        return s.to_string();
    }
    let mut end = TEXT_CUT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn connection_line(c: &Connection) -> ConnectionLine {
    let handshake = c.handshake.as_ref().map(|h| HandshakeLine {
        valid: h.valid,
        observable: h.observable,
        status: h.status(),
        method: h.request.method().map(str::to_string),
        path: match &h.request.start {
            crate::model::StartLine::Request { path, .. } => Some(path.clone()),
            _ => None,
        },
        key: h.request.header("sec-websocket-key"),
        accept: h
            .response
            .as_ref()
            .and_then(|r| r.header("sec-websocket-accept")),
        expected_accept: h.accept.as_ref().map(|a| a.expected.clone()),
        version: h.request.header("sec-websocket-version"),
        subprotocol: h.subprotocol.clone(),
        extensions: h.extensions.clone(),
        checks: h
            .checks
            .iter()
            .map(|k| CheckLine {
                rule: k.rule.check_name(),
                ok: k.judged.then_some(k.ok),
                rfc: k.rule.rfc(),
                code: k.rule.code(),
                detail: k.detail.clone(),
            })
            .collect(),
    });
    ConnectionLine {
        kind: "connection",
        id: c.id,
        client: addr(c.client),
        server: addr(c.server),
        first_ts: c.first_ts.as_f64(),
        midstream: c.midstream,
        handshake,
        tls: c.tls.as_ref().map(|t| TlsLine {
            version: t.version_name(),
            cipher: t.suite_name(),
            sni: t.sni.clone(),
            alpn: t.alpn.clone(),
            decrypted: t.decrypted,
            reason: t.reason.clone(),
        }),
    }
}

fn frame_line(conn: u32, f: &FrameRecord) -> FrameLine<'_> {
    let h = &f.header;
    FrameLine {
        kind: "frame",
        conn,
        dir: f.dir.name(),
        index: f.index,
        ts: f.ts.as_f64(),
        fin: h.fin,
        rsv1: h.rsv1,
        rsv2: h.rsv2,
        rsv3: h.rsv3,
        opcode: h.opcode.bits(),
        masked: h.mask.is_some(),
        mask_key: h.mask.map(hex::encode),
        payload_len: h.payload_len,
        header_len: h.header_len,
        packets: &f.packets,
    }
}

fn message_line(conn: u32, m: &MessageRecord) -> MessageLine {
    MessageLine {
        kind: "message",
        conn,
        dir: m.dir.name(),
        ts: m.ts.as_f64(),
        opcode: m.kind.name(),
        len: (!m.len_unknown).then_some(m.len),
        sha256: m.sha256.clone(),
        compressed: m.compressed,
        frames: m.frames.len(),
        text: m.text().map(|t| cut_text(&t)),
        close_code: m.close_code,
        close_reason: m.close_reason.clone(),
        complete: m.complete,
        wire_len: m.wire_len,
    }
}

fn violation_line(conn: u32, v: &ViolationRecord) -> ViolationLine {
    ViolationLine {
        kind: "violation",
        conn,
        dir: v.dir.map(|d| d.name()),
        code: v.rule.code(),
        rfc: v.rule.rfc(),
        frame: v.frame,
        detail: v.detail.clone(),
    }
}

fn warning_line(conn: u32, w: &WarningRecord) -> WarningLine {
    WarningLine {
        kind: "warning",
        conn,
        dir: w.dir.map(|d| d.name()),
        code: w.warning.code(),
        frame: w.frame,
        detail: w.detail.clone(),
    }
}

fn line<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Writes a connection's own line.
pub fn write_connection_line(out: &mut dyn Write, c: &Connection) -> io::Result<()> {
    line(out, &connection_line(c))
}

/// Writes one frame's line.
pub fn write_frame_line(out: &mut dyn Write, c: &Connection, f: &FrameRecord) -> io::Result<()> {
    line(out, &frame_line(c.id, f))
}

/// Writes one message's line.
pub fn write_message_line(
    out: &mut dyn Write,
    c: &Connection,
    m: &MessageRecord,
) -> io::Result<()> {
    line(out, &message_line(c.id, m))
}

/// Writes one violation's line.
pub fn write_violation_line(
    out: &mut dyn Write,
    c: &Connection,
    v: &ViolationRecord,
) -> io::Result<()> {
    line(out, &violation_line(c.id, v))
}

/// Writes one warning's line.
pub fn write_warning_line(
    out: &mut dyn Write,
    c: &Connection,
    w: &WarningRecord,
) -> io::Result<()> {
    line(out, &warning_line(c.id, w))
}

/// Writes one connection's lines: the connection, its frames, messages, violations, warnings.
pub fn write_connection(out: &mut dyn Write, c: &Connection) -> io::Result<()> {
    write_connection_line(out, c)?;
    write_frames(out, c)?;
    write_messages(out, c)?;
    write_tail(out, c)
}

/// Writes the lines of the frames `c` holds.
pub fn write_frames(out: &mut dyn Write, c: &Connection) -> io::Result<()> {
    for f in &c.frames {
        write_frame_line(out, c, f)?;
    }
    Ok(())
}

/// Writes the lines of the messages `c` holds.
pub fn write_messages(out: &mut dyn Write, c: &Connection) -> io::Result<()> {
    for m in &c.messages {
        write_message_line(out, c, m)?;
    }
    Ok(())
}

/// Writes what follows the messages: violations, warnings and the analysis line.
pub fn write_tail(out: &mut dyn Write, c: &Connection) -> io::Result<()> {
    for v in &c.violations {
        write_violation_line(out, c, v)?;
    }
    for w in &c.warnings {
        write_warning_line(out, c, w)?;
    }
    write_analysis_line(out, c)
}

/// Writes the whole capture (optionally one connection) as JSON lines.
pub fn write(out: &mut dyn Write, capture: &Capture, only: Option<u32>) -> io::Result<()> {
    for c in capture
        .connections
        .iter()
        .filter(|c| only.is_none_or(|id| c.id == id))
    {
        write_connection(out, c)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_on_a_char_boundary() {
        let s = "é".repeat(3000);
        let cut = cut_text(&s);
        assert!(cut.len() <= TEXT_CUT);
        assert!(cut.len() >= TEXT_CUT - 1);
    }
}
