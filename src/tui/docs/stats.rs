//! The stats document (the `s` view): a connection's heartbeats (pings paired with pongs,
//! round-trip times, idle gaps, how it closed) and overhead (payload, framing, TCP/IP
//! headers, and the same exchange estimated as HTTP polling), from `crate::analysis`.

use ratatui::text::Line;

use crate::analysis::heartbeat::{self, Closing};
use crate::analysis::overhead;
use crate::model::{Connection, Dir};
use crate::tui::theme::Theme;

use super::{Doc, labels};

fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.2} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

/// The stats document of `conn` (`None`: no connection is selected), `width` columns
/// wide.
pub fn document(conn: Option<&Connection>, width: usize, theme: Theme) -> Doc {
    let mut p = Doc::new(width, theme);
    let Some(c) = conn else {
        p.push(Line::styled("No connection selected.", theme.dim()));
        return p;
    };
    p.lines.push(Line::styled(
        format!(
            "Connection {} {} → {}",
            labels::label(c),
            c.client,
            c.server
        ),
        theme.title(),
    ));

    let hb = heartbeat::heartbeat(c, f64::INFINITY);
    p.heading("Heartbeats (RFC 6455 §5.5.2 ping, §5.5.3 pong)");
    p.para(
        "A ping asks the peer to answer with a pong echoing its payload; applications use them to measure round trips and to keep NATs and proxies (which often drop connections idle for about 60 s) from forgetting the connection.",
        2,
        theme.dim(),
    );
    if hb.pairs.is_empty() {
        p.para("No pings in this connection.", 2, theme.text());
    }
    for pair in &hb.pairs {
        let from = match pair.dir {
            Dir::Client => "client",
            Dir::Server => "server",
        };
        let line = match (pair.pong_frame, pair.rtt) {
            (Some(pong), Some(rtt)) => format!(
                "ping frame {} from the {from} → pong frame {pong} after {}{}",
                pair.ping_frame,
                secs(rtt),
                if pair.echoed {
                    ""
                } else {
                    " (the pong does not echo the ping's payload)"
                }
            ),
            _ => format!(
                "ping frame {} from the {from}: never answered",
                pair.ping_frame
            ),
        };
        p.para(&line, 2, theme.text());
    }
    let mut summary = Vec::new();
    if let Some((min, mean, max)) = hb.rtt_stats() {
        summary.push(format!(
            "round trip {} / {} / {} (min / mean / max)",
            secs(min),
            secs(mean),
            secs(max)
        ));
    }
    if let Some(i) = hb.ping_interval {
        summary.push(format!("a ping every {}", secs(i)));
    }
    if hb.unsolicited_pongs > 0 {
        summary.push(format!(
            "{} pongs answering no ping (allowed: a one-way heartbeat)",
            hb.unsolicited_pongs
        ));
    }
    if let Some((gap, frame)) = hb.longest_idle {
        summary.push(format!(
            "longest silence {} (before frame {frame})",
            secs(gap)
        ));
    }
    for s in summary {
        p.para(&s, 2, theme.value());
    }
    let closing = match hb.closing {
        Closing::Handshake => {
            "Closed with the closing handshake: both sides sent Close (§7.1.2).".to_string()
        }
        Closing::OneSided(d) => format!(
            "Only the {} sent Close; the other side never answered (§7.1.2).",
            d.name()
        ),
        Closing::None(e) => format!(
            "No Close frame at all; TCP ending: {e:?} (§7.1.2 expects a closing handshake)."
        ),
    };
    p.para(&closing, 2, theme.text());

    let o = overhead::overhead(c);
    let sum = |a: [u64; 2]| a[0] + a[1];
    let all = o.websocket_bytes() + sum(o.tcpip);
    p.heading("Overhead (RFC 6455 §1.1: why WebSocket)");
    p.para(
        "After one HTTP handshake, each message costs only 2 to 14 bytes of framing; HTTP polling pays a whole request and response head for every exchange.",
        2,
        theme.dim(),
    );
    for (what, v) in [
        ("payload", sum(o.payload)),
        ("framing", sum(o.framing)),
        ("handshake", sum(o.handshake)),
        ("TCP/IP headers", sum(o.tcpip)),
    ] {
        p.para(
            &format!("{what:<15} {v:>10} B  {:>6} of all bytes", pct(v, all)),
            2,
            theme.text(),
        );
    }
    p.para(
        &format!(
            "{} messages (client {}, server {}) over {}",
            sum(o.messages),
            o.messages[0],
            o.messages[1],
            secs(o.duration)
        ),
        2,
        theme.text(),
    );
    p.heading("The same messages over HTTP (estimate)");
    p.para(
        &format!(
            "With this connection's own heads ({} B request, {} B response): polling every second ≈ {} B, long-polling (one request per message) ≈ {} B, against {} B for WebSocket (handshake, framing and payload).",
            o.http_heads.0,
            o.http_heads.1,
            o.polling_bytes,
            o.long_polling_bytes,
            o.websocket_bytes()
        ),
        2,
        theme.value(),
    );
    p
}
