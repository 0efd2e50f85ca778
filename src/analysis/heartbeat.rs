//! Heartbeats (RFC 6455 §5.5.2, §5.5.3): pings paired with the pongs that answer them,
//! round-trip times, unanswered pings, pongs that echo no ping, the ping interval, idle
//! gaps, and whether the connection ended with a closing handshake (§7.1.2).

use crate::model::{Connection, Dir, Ending, MessageKind};
use crate::rules::Warning;
use crate::source::Timestamp;

/// Idle gaps longer than this are worth a warning by default: a common NAT and proxy
/// idle timeout, after which middleboxes silently drop the connection.
pub const DEFAULT_IDLE_THRESHOLD_SECS: f64 = 60.0;

/// One ping and what answered it.
#[derive(Clone, Debug, PartialEq)]
pub struct PingPair {
    /// Who sent the ping.
    pub dir: Dir,
    /// Frame index of the ping.
    pub ping_frame: u32,
    /// Frame index of the pong that answered it.
    pub pong_frame: Option<u32>,
    /// Seconds from ping to pong.
    pub rtt: Option<f64>,
    /// The pong echoed this ping's payload, as §5.5.3 requires.
    pub echoed: bool,
}

/// How the connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    /// Both sides sent Close (§7.1.2).
    Handshake,
    /// Only one side sent Close.
    OneSided(Dir),
    /// Nobody sent Close: the TCP connection was reset, finished, or the capture ended.
    None(Ending),
}

/// The heartbeat picture of one connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Heartbeat {
    /// Every ping, in order, with its answer.
    pub pairs: Vec<PingPair>,
    /// Pongs that answered no outstanding ping (allowed, §5.5.3: a unidirectional heartbeat).
    pub unsolicited_pongs: usize,
    /// Mean seconds between consecutive pings of the side that pings most.
    pub ping_interval: Option<f64>,
    /// The longest silence between two frames: seconds, and the frame after it.
    pub longest_idle: Option<(f64, u32)>,
    /// Silences longer than the threshold: seconds, and the frame after each.
    pub idle_gaps: Vec<(f64, u32)>,
    /// How it ended.
    pub closing: Closing,
}

impl Heartbeat {
    /// Pings never answered.
    pub fn unanswered(&self) -> usize {
        self.pairs.iter().filter(|p| p.pong_frame.is_none()).count()
    }

    /// Answered pings whose pong did not echo the payload.
    pub fn not_echoed(&self) -> usize {
        self.pairs
            .iter()
            .filter(|p| p.pong_frame.is_some() && !p.echoed)
            .count()
    }

    /// Round-trip times of answered pings: (min, mean, max) in seconds.
    pub fn rtt_stats(&self) -> Option<(f64, f64, f64)> {
        let rtts: Vec<f64> = self.pairs.iter().filter_map(|p| p.rtt).collect();
        if rtts.is_empty() {
            return None;
        }
        let min = rtts.iter().copied().fold(f64::INFINITY, f64::min);
        let max = rtts.iter().copied().fold(0.0, f64::max);
        Some((min, rtts.iter().sum::<f64>() / rtts.len() as f64, max))
    }
}

/// Analyses the heartbeats of `conn`; gaps longer than `idle_threshold` seconds are listed.
pub fn heartbeat(conn: &Connection, idle_threshold: f64) -> Heartbeat {
    let mut pairs: Vec<PingPair> = Vec::new();
    // Outstanding pings per pinging side: (index in pairs, payload).
    let mut outstanding: [Vec<(usize, &[u8], Timestamp)>; 2] = [Vec::new(), Vec::new()];
    let mut unsolicited = 0;
    for m in &conn.messages {
        let frame = m.frames.first().copied().unwrap_or(0);
        match m.kind {
            MessageKind::Ping => {
                outstanding[m.dir.index()].push((pairs.len(), &m.data, m.ts));
                pairs.push(PingPair {
                    dir: m.dir,
                    ping_frame: frame,
                    pong_frame: None,
                    rtt: None,
                    echoed: false,
                });
            }
            MessageKind::Pong => {
                // A pong answers the other side's pings: the one whose payload it echoes,
                // else the most recent (§5.5.3 allows answering only the latest ping).
                let waiting = &mut outstanding[m.dir.other().index()];
                let pos = waiting
                    .iter()
                    .rposition(|(_, p, _)| *p == m.data.as_slice());
                let echoed = pos.is_some();
                match pos.or_else(|| waiting.len().checked_sub(1)) {
                    Some(at) => {
                        let (i, _, ts) = waiting[at];
                        // Earlier pings are left unanswered; later ones stay outstanding.
                        waiting.drain(..=at);
                        pairs[i].pong_frame = Some(frame);
                        pairs[i].rtt = Some(m.ts.seconds_since(ts));
                        pairs[i].echoed = echoed;
                    }
                    None => unsolicited += 1,
                }
            }
            _ => {}
        }
    }
    let ping_interval = [Dir::Client, Dir::Server]
        .into_iter()
        .map(|d| {
            let times: Vec<Timestamp> = conn
                .messages_from(d)
                .filter(|m| m.kind == MessageKind::Ping)
                .map(|m| m.ts)
                .collect();
            times
        })
        .max_by_key(Vec::len)
        .filter(|t| t.len() >= 2)
        .map(|t| t[t.len() - 1].seconds_since(t[0]) / (t.len() - 1) as f64);
    let mut longest_idle: Option<(f64, u32)> = None;
    let mut idle_gaps = Vec::new();
    for w in conn.frames.windows(2) {
        let gap = w[1].ts.seconds_since(w[0].ts);
        if longest_idle.is_none_or(|(g, _)| gap > g) {
            longest_idle = Some((gap, w[1].index));
        }
        if gap > idle_threshold {
            idle_gaps.push((gap, w[1].index));
        }
    }
    let closed = |d: Dir| conn.messages_from(d).any(|m| m.kind == MessageKind::Close);
    let closing = match (closed(Dir::Client), closed(Dir::Server)) {
        (true, true) => Closing::Handshake,
        (true, false) => Closing::OneSided(Dir::Client),
        (false, true) => Closing::OneSided(Dir::Server),
        (false, false) => Closing::None(conn.ending),
    };
    Heartbeat {
        pairs,
        unsolicited_pongs: unsolicited,
        ping_interval,
        longest_idle,
        idle_gaps,
        closing,
    }
}

/// Adds the heartbeat warnings to `conn`: idle gaps past the threshold, and an ending
/// without the closing handshake.
pub fn annotate(conn: &mut Connection, idle_threshold: f64) {
    let hb = heartbeat(conn, idle_threshold);
    for (gap, frame) in &hb.idle_gaps {
        conn.warning(
            Warning::IdleGap,
            None,
            Some(*frame),
            format!("no frame for {gap:.1} s before frame {frame}, longer than {idle_threshold} s: NATs and proxies commonly drop idle connections after 60 s; a ping every 30 s keeps them open"),
        );
    }
    let how = match hb.closing {
        Closing::Handshake => return,
        Closing::OneSided(d) => format!(
            "only the {} sent Close; the other side never answered it",
            d.name()
        ),
        Closing::None(Ending::Reset) => {
            "the TCP connection was reset (RST) without a Close frame".into()
        }
        Closing::None(Ending::Fin) => "TCP was closed (FIN) without a Close frame".into(),
        Closing::None(Ending::Open) => {
            "the capture ends while the connection is open, with no Close frame".into()
        }
    };
    if conn.handshake.as_ref().is_some_and(|h| !h.accepted()) {
        return;
    }
    conn.warning(
        Warning::NoClosingHandshake,
        None,
        None,
        format!("{how} (RFC 6455 §7.1.2 closing handshake)"),
    );
}
