//! `wsscope summary`: a human-readable account of the capture: counts, every WebSocket
//! connection with its handshake verdict, message counts, violations and warnings.

use std::io::{self, Write};

use crate::model::tally::Tally;
use crate::model::{Capture, Connection, Dir, FlowKind, MessageKind};

use super::ordered::Totals;

/// Writes the summary of `capture` (named `name`).
pub fn write(out: &mut dyn Write, capture: &Capture, name: &str) -> io::Result<()> {
    let totals = Totals {
        connections: capture.connections.len(),
        frames: capture.frame_count(),
        violations: capture.violation_count(),
    };
    write_header(out, capture, totals, name)?;
    for c in &capture.connections {
        write_connection(out, c)?;
    }
    Ok(())
}

/// Writes the summary's opening lines: what was read, the flows, the WebSocket totals,
/// notes and any reader error. The connections' own counts come in `totals` (in
/// streaming mode `capture` no longer holds them).
pub fn write_header(
    out: &mut dyn Write,
    capture: &Capture,
    totals: Totals,
    name: &str,
) -> io::Result<()> {
    let s = &capture.stats;
    let span = match (s.first_ts, s.last_ts) {
        (Some(a), Some(b)) => format!(", {:.3} s", b.seconds_since(a)),
        _ => String::new(),
    };
    writeln!(
        out,
        "capture {name}: {} packets, {} bytes{span}",
        s.packets, s.bytes
    )?;
    if s.cut_packets > 0 {
        writeln!(
            out,
            "captured with snaplen {}: payloads cut in {} packets; capture with -s 0 to see them",
            s.cut_to, s.cut_packets
        )?;
    }
    let flows = |k: FlowKind| s.flows.get(&k).copied().unwrap_or(0);
    let tls = match flows(FlowKind::Tls) {
        0 => String::new(),
        n => format!(", {n} tls not decrypted"),
    };
    writeln!(
        out,
        "tcp flows: {} websocket, {} plain http{tls}, {} other",
        flows(FlowKind::WebSocket),
        flows(FlowKind::PlainHttp),
        flows(FlowKind::Other)
    )?;
    if s.tls_key_logs > 0 && s.tls_keys_given == 0 {
        writeln!(
            out,
            "key logs: none of their lines holds a usable secret (the lines skipped are named on standard error)"
        )?;
    } else if s.tls_keys_given > 0 && s.tls_keys_matched == 0 {
        writeln!(
            out,
            "key logs: secrets for {} TLS connections, none of them in this capture",
            s.tls_keys_given
        )?;
    } else if s.tls_key_logs == 0 && flows(FlowKind::Tls) > 0 {
        writeln!(
            out,
            "tls: no key log given: --keylog FILE (or SSLKEYLOGFILE) decrypts the wss:// connections whose secrets it holds"
        )?;
    }
    for t in &capture.tls_flows {
        writeln!(
            out,
            "tls (packet {}) {} -> {}: {}",
            t.first_packet,
            t.client,
            t.server,
            tls_line(&t.info)
        )?;
    }
    if !s.skipped.is_empty() {
        let parts: Vec<String> = s
            .skipped
            .iter()
            .map(|(r, n)| format!("{n} {}", r.label()))
            .collect();
        writeln!(out, "packets not used: {}", parts.join(", "))?;
    }
    writeln!(
        out,
        "websocket: {} connections, {} frames, {} violations",
        totals.connections, totals.frames, totals.violations
    )?;
    for note in &capture.notes {
        writeln!(out, "note: {note}")?;
    }
    if let Some(err) = &capture.source_error {
        writeln!(out, "error: {err}")?;
    }
    Ok(())
}

/// Writes one connection's part of the summary (preceded by a blank line).
pub fn write_connection(out: &mut dyn Write, c: &Connection) -> io::Result<()> {
    writeln!(out)?;
    connection(out, c)
}

fn verdict(c: &Connection) -> String {
    match &c.handshake {
        None => "no handshake captured (midstream)".to_string(),
        Some(h) => match h.status() {
            None => "upgrade requested, no response captured".to_string(),
            Some(101) if h.valid => "handshake ok (101)".to_string(),
            Some(101) if !h.observable && h.failed_checks().next().is_none() => format!(
                "handshake accepted (101), not fully captured: the snaplen cut it, {} check(s) not judged",
                h.unjudged_checks().count()
            ),
            Some(101) => format!(
                "handshake accepted (101) but breaks {} rule(s)",
                h.failed_checks().count()
            ),
            Some(s) => format!("upgrade refused ({s})"),
        },
    }
}

/// What TLS showed, in a line: version, suite, SNI, ALPN, and whether (or why not) it was
/// decrypted.
pub fn tls_line(t: &crate::model::TlsInfo) -> String {
    let mut parts = vec![t.version_name()];
    if let Some(s) = t.suite_name() {
        parts.push(s);
    }
    if let Some(sni) = &t.sni {
        parts.push(format!("SNI {sni}"));
    }
    match (&t.alpn, t.alpn_offered.is_empty()) {
        (Some(a), _) => parts.push(format!("ALPN {a}")),
        (None, false) => parts.push(format!("ALPN offered {}", t.alpn_offered.join(", "))),
        (None, true) => {}
    }
    let mut line = parts.join(", ");
    if t.alpn.as_deref() == Some("h2") {
        line.push_str("; HTTP/2: WebSocket over HTTP/2 (RFC 8441) is not decoded yet");
    }
    match (&t.reason, t.decrypted) {
        (Some(why), false) => line.push_str(&format!("; not decrypted: {why}")),
        (_, true) => line.push_str(&format!(
            "; decrypted with the key log ({} + {} records)",
            t.records[0], t.records[1]
        )),
        (None, false) => line.push_str("; not decrypted"),
    }
    line
}

fn connection(out: &mut dyn Write, c: &Connection) -> io::Result<()> {
    let mark = if c.clean() && c.handshake.as_ref().is_some_and(|h| h.valid) {
        "ok"
    } else if c.violations.is_empty() {
        "--"
    } else {
        "!!"
    };
    writeln!(
        out,
        "[{mark}] #{} {} -> {}  {}",
        c.id,
        c.client,
        c.server,
        verdict(c)
    )?;
    if let Some(t) = &c.tls {
        writeln!(out, "     tls: {}", tls_line(t))?;
    }
    if let Some(h) = &c.handshake {
        let mut extras = Vec::new();
        if let Some(p) = &h.subprotocol {
            extras.push(format!("subprotocol {p}"));
        }
        if let Some(e) = &h.extensions {
            extras.push(format!("extensions {e}"));
        }
        let path = match &h.request.start {
            crate::model::StartLine::Request { path, .. } => path.as_str(),
            _ => "",
        };
        writeln!(
            out,
            "     {} {path}{}",
            h.request.method().unwrap_or("?"),
            if extras.is_empty() {
                String::new()
            } else {
                format!("  ({})", extras.join("; "))
            }
        )?;
    }
    // Counts cover records handed out while the connection was open, too.
    let tally = c.tally(f64::INFINITY);
    for dir in [Dir::Client, Dir::Server] {
        let count = |k: MessageKind| tally.count(dir, k);
        writeln!(
            out,
            "     {:<6} {} frames; text {}, binary {}, ping {}, pong {}, close {}; {} data bytes",
            dir.name(),
            tally.frames[dir.index()],
            count(MessageKind::Text),
            count(MessageKind::Binary),
            count(MessageKind::Ping),
            count(MessageKind::Pong),
            count(MessageKind::Close),
            tally.data_bytes[dir.index()]
        )?;
    }
    for close in &tally.closes {
        writeln!(
            out,
            "     close from {}: {} {} {:?}",
            close.dir.name(),
            close.code,
            crate::model::close_code_meaning(close.code),
            close.reason
        )?;
    }
    if c.handshake.as_ref().is_none_or(|h| h.accepted()) {
        heartbeat_lines(out, c, &tally)?;
        overhead_lines(out, c, &tally)?;
    }
    for v in &c.violations {
        let at = v.frame.map(|f| format!(" frame {f}")).unwrap_or_default();
        let who = v.dir.map(|d| format!(" {}", d.name())).unwrap_or_default();
        writeln!(
            out,
            "     violation {} ({}){who}{at}: {}",
            v.rule.code(),
            v.rule.rfc(),
            v.detail
        )?;
    }
    for w in &c.warnings {
        let at = w.frame.map(|f| format!(" frame {f}")).unwrap_or_default();
        writeln!(out, "     warning {}{at}: {}", w.warning.code(), w.detail)?;
    }
    Ok(())
}

fn ms(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.2} ms", secs * 1000.0)
    } else {
        format!("{secs:.2} s")
    }
}

fn heartbeat_lines(out: &mut dyn Write, c: &Connection, tally: &Tally) -> io::Result<()> {
    use crate::analysis::heartbeat::Closing;
    let hb = crate::analysis::heartbeat::from_tally(tally, c.ending, f64::INFINITY);
    let mut parts = Vec::new();
    if hb.pairs.is_empty() {
        parts.push("no pings".to_string());
    } else {
        let answered = hb.pairs.len() - hb.unanswered();
        parts.push(format!("{} pings, {answered} answered", hb.pairs.len()));
        if let Some((min, mean, max)) = hb.rtt_stats() {
            parts.push(format!(
                "rtt {} / {} / {} (min/mean/max)",
                ms(min),
                ms(mean),
                ms(max)
            ));
        }
        if hb.not_echoed() > 0 {
            parts.push(format!("{} pongs not echoing their ping", hb.not_echoed()));
        }
        if let Some(i) = hb.ping_interval {
            parts.push(format!("a ping every {}", ms(i)));
        }
    }
    if hb.unsolicited_pongs > 0 {
        parts.push(format!(
            "{} unsolicited pongs (allowed, §5.5.3)",
            hb.unsolicited_pongs
        ));
    }
    if let Some((gap, frame)) = hb.longest_idle {
        parts.push(format!("longest idle {} (before frame {frame})", ms(gap)));
    }
    parts.push(
        match hb.closing {
            Closing::Handshake => "closing handshake complete",
            Closing::OneSided(_) => "closing handshake one-sided",
            Closing::None(_) => "no closing handshake",
        }
        .to_string(),
    );
    writeln!(out, "     heartbeat: {}", parts.join("; "))
}

fn overhead_lines(out: &mut dyn Write, c: &Connection, tally: &Tally) -> io::Result<()> {
    let o = crate::analysis::overhead::overhead_with(c, tally);
    let sum = |a: [u64; 2]| a[0] + a[1];
    let (payload, framing, tcpip) = (sum(o.payload), sum(o.framing), sum(o.tcpip));
    let pct = |x: u64| {
        if payload + framing == 0 {
            0.0
        } else {
            100.0 * x as f64 / (payload + framing) as f64
        }
    };
    let missing = tally.payload_missing[0].saturating_add(tally.payload_missing[1]);
    let payload_text = if missing > 0 {
        format!("{payload} B in the capture (frames declare {missing} B more)")
    } else {
        format!("{payload} B")
    };
    let cut = c.handshake.as_ref().is_some_and(|h| !h.observable);
    writeln!(
        out,
        "     overhead: payload {payload_text}, framing {framing} B ({:.1}% of frames), handshake {}{} B, TCP/IP headers {tcpip} B; payload is {:.0}% of all bytes",
        pct(framing),
        if cut { "≥" } else { "" },
        sum(o.handshake),
        o.efficiency() * 100.0
    )?;
    writeln!(
        out,
        "     as HTTP (heads of {} + {} B): polling every 1 s ≈ {} B, long-polling ≈ {} B, vs WebSocket {} B",
        o.http_heads.0,
        o.http_heads.1,
        o.polling_bytes,
        o.long_polling_bytes,
        o.websocket_bytes()
    )
}
