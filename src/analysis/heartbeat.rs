//! Heartbeats (RFC 6455 §5.5.2, §5.5.3): pings paired with the pongs that answer them,
//! round-trip times, unanswered pings, pongs that echo no ping, the ping interval, idle
//! gaps, and whether the connection ended with a closing handshake (§7.1.2).

use crate::model::tally::Tally;
use crate::model::{Connection, Dir, Ending, MessageKind};
use crate::rules::Warning;

pub use crate::model::tally::PingPair;

/// Idle gaps longer than this are worth a warning by default: a common NAT and proxy
/// idle timeout, after which middleboxes silently drop the connection.
pub const DEFAULT_IDLE_THRESHOLD_SECS: f64 = 60.0;

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

/// The heartbeat picture of everything `tally` was fed, for a connection that ended as
/// `ending`; only silences longer than `idle_threshold` are listed (it must not be below the
/// threshold the frames were fed with).
pub fn from_tally(tally: &Tally, ending: Ending, idle_threshold: f64) -> Heartbeat {
    let hb = &tally.heartbeat;
    // The side that pings most (the server on a tie).
    let (count, span) = if hb.pings[0].0 > hb.pings[1].0 {
        hb.pings[0]
    } else {
        hb.pings[1]
    };
    let ping_interval = span
        .filter(|_| count >= 2)
        .map(|(first, last)| last.seconds_since(first) / (count - 1) as f64);
    let closed = |d: Dir| tally.count(d, MessageKind::Close) > 0;
    let closing = match (closed(Dir::Client), closed(Dir::Server)) {
        (true, true) => Closing::Handshake,
        (true, false) => Closing::OneSided(Dir::Client),
        (false, true) => Closing::OneSided(Dir::Server),
        (false, false) => Closing::None(ending),
    };
    Heartbeat {
        pairs: hb.pairs.clone(),
        unsolicited_pongs: hb.unsolicited,
        ping_interval,
        longest_idle: hb.longest_idle,
        idle_gaps: hb
            .idle_gaps
            .iter()
            .copied()
            .filter(|(gap, _)| *gap > idle_threshold)
            .collect(),
        closing,
    }
}

/// Analyses the heartbeats of `conn`; gaps longer than `idle_threshold` seconds are listed
/// (records already handed out in streaming mode count through [`Connection::tally`]).
pub fn heartbeat(conn: &Connection, idle_threshold: f64) -> Heartbeat {
    from_tally(&conn.tally(idle_threshold), conn.ending, idle_threshold)
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
