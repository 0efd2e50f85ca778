//! One TCP connection above TCP: it starts undecided, becomes plain HTTP (keep-alive
//! requests and responses, bodies skipped), a WebSocket connection (after an Upgrade,
//! or recognised by its frames when the handshake was not captured), or "other".
//!
//! State is kept per direction (RFC 6455 is asymmetric: the client masks, the server
//! answers the handshake), as an explicit `Phase` per side. The HTTP exchange is in
//! `exchange`, recognising WebSocket traffic without a handshake in `recognise`.

mod exchange;
mod probe;
mod recognise;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::http::HttpHead;
use crate::http::body::{BodyLength, BodySkipper};
use crate::model::{Connection, Dir, Ending, FlowKind};
use crate::rules::Warning;
use crate::source::Timestamp;
use crate::tcp::{Endpoints, GapReason, Side, StreamEvent};
use crate::tls::{KeyLog, TlsEvent, TlsFlow, starts_tls};
use crate::ws::decoder::SnaplenCuts;
use crate::ws::limits::Limits;
use crate::ws::{DirectionDecoder, Negotiated};

/// Settings shared by every session.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Resource limits.
    pub limits: Limits,
    /// Ports whose traffic is WebSocket even without a captured handshake (`--port`).
    pub ws_ports: Vec<u16>,
    /// Silences between frames longer than this many seconds are warned about.
    pub idle_threshold: f64,
    /// Whether a flow seen from its middle may be taken for WebSocket on the evidence of
    /// its frames (`--no-guess` turns it off; `--port` still applies).
    pub guess: bool,
    /// TLS secrets (`--keylog`, `SSLKEYLOGFILE`, pcapng secrets blocks): TLS flows whose
    /// client random they hold are decrypted.
    pub keys: Arc<KeyLog>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            limits: Limits::default(),
            ws_ports: Vec::new(),
            idle_threshold: crate::analysis::heartbeat::DEFAULT_IDLE_THRESHOLD_SECS,
            guess: true,
            keys: Arc::new(KeyLog::default()),
        }
    }
}

/// What the snaplen cut from one direction's frames, in a sentence.
fn snaplen_sentence(cuts: SnaplenCuts, cut_to: u32) -> String {
    let snaplen = if cut_to > 0 {
        format!("the snaplen (packets kept to {cut_to} bytes)")
    } else {
        "the snaplen".to_string()
    };
    let mut s = format!(
        "{snaplen} cut {} bytes of this direction, the first at packet {}",
        cuts.bytes, cuts.first_packet
    );
    if cuts.frames > 0 {
        s += &format!(
            ": {} frames lost part of their payload (their lengths are known, their bytes are not, so their messages have no hash)",
            cuts.frames
        );
    }
    if cuts.boundaries_lost > 0 {
        s += &format!(
            "{} {} times whole frame headers were cut, and frames were found again at the next packet that starts with a confirmed one",
            if cuts.frames > 0 { ";" } else { ":" },
            cuts.boundaries_lost
        );
    }
    s
}

/// What the flow has turned out to be so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Undecided,
    /// Seen from its middle: the frames' evidence is being gathered ([`probe`]).
    Probing,
    Http,
    WebSocket,
    Other,
}

/// Where one direction of the connection is.
#[derive(Debug)]
enum Phase {
    /// Collecting an HTTP head.
    Head(Vec<u8>),
    /// Skipping an HTTP body.
    Body(BodySkipper),
    /// The client only, after its Upgrade request: what it sent meanwhile (and what the
    /// capture lost of it), held until the server answers, and how many bytes that is.
    AwaitUpgrade(Vec<Early>, usize),
    /// Bytes of the HTTP exchange were lost: the next packet that starts a head (a
    /// request line from the client, a status line from the server) picks it up again.
    HttpLost,
    /// The server only: its answer to an Upgrade request was lost from the capture; what
    /// it sends next tells whether it switched to WebSocket (frames that chain exactly)
    /// or not.
    AnswerLost,
    /// The server only: this many bytes (the 101 of a handshake whose request was lost)
    /// are passed over before its frames.
    Skip(usize),
    /// WebSocket frames.
    Ws,
    /// Not decoded any further.
    Opaque,
}

/// What the client sent after its Upgrade request and before the server's answer.
#[derive(Debug)]
enum Early {
    /// Bytes, with their packet and time.
    Bytes(Vec<u8>, u64, Timestamp),
    /// Bytes the capture lost: how many, why, at which packet.
    Gap(u64, GapReason, u64),
}

impl Phase {
    /// What follows a head with a body of length `body`.
    fn after_head(body: BodyLength) -> Self {
        match BodySkipper::new(body) {
            BodySkipper::Done => Phase::Head(Vec::new()),
            skipper => Phase::Body(skipper),
        }
    }
}

/// A request waiting for its response.
#[derive(Debug)]
struct PendingRequest {
    method: String,
    /// The request's head, when it asked for an Upgrade (or may have: a GET the snaplen
    /// cut before it showed whether it did).
    upgrade: Option<HttpHead>,
    /// A 101 the snaplen cut before it showed which protocol it switched to: what the
    /// server sends next tells ([`Phase::AnswerLost`]).
    answer: Option<HttpHead>,
}

/// The application-layer state of one TCP connection.
#[derive(Debug)]
pub struct Session {
    flow_order: u64,
    first_packet: u64,
    first_ts: Timestamp,
    endpoints: Endpoints,
    /// Which TCP side is the (WebSocket or HTTP) client.
    client_side: Side,
    mode: Mode,
    /// Index of this connection's record in the capture, once it is a WebSocket.
    conn: Option<usize>,
    /// Each direction's phase, by [`Dir::index`].
    phases: [Phase; 2],
    pending: VecDeque<PendingRequest>,
    /// Boxed: only WebSocket flows have them, and the flow table stays small.
    decoders: [Option<Box<DirectionDecoder>>; 2],
    /// The evidence gathered while [`Mode::Probing`].
    probe: Option<Box<probe::Probe>>,
    /// The flow's first packet was a SYN: its start is in the capture.
    opened: bool,
    /// Bytes of a direction were missing before the flow's first payload was judged.
    start_lost: bool,
    /// Packets, header bytes and stream bytes sent by each [`Side`] (by [`Side::index`];
    /// which side is the client may be settled late).
    packets: [u64; 2],
    header_bytes: [u64; 2],
    bytes: [u64; 2],
    /// Segments, bytes and the first packet of each [`Side`] beyond the receiver's window.
    out_of_window: [(u64, u64, u64); 2],
    /// The snaplen cut the handshake's head in each direction (by [`Dir::index`]): where
    /// it ends is unknown, so that direction's frames are found by their evidence.
    head_cut: [bool; 2],
    /// The longest captured length of a packet the snaplen cut (the snaplen as seen).
    cut_to: u32,
    /// The TLS layer, when the flow's opener started with a ClientHello: what it
    /// decrypts is what the HTTP and WebSocket stages see.
    tls: Option<Box<TlsFlow>>,
    /// The flow's first payload was looked at for a ClientHello.
    tls_checked: bool,
    /// What the TLS layer said before the connection record existed.
    tls_notes: Vec<(Option<Side>, String)>,
}

impl Session {
    /// A new session for a flow whose first packet is `first_packet`; `opened` when that
    /// packet is a SYN (the flow's start is in the capture, so RFC 6455 §4's handshake
    /// must be too for it to be WebSocket).
    pub fn new(
        endpoints: Endpoints,
        flow_order: u64,
        first_packet: u64,
        first_ts: Timestamp,
        opened: bool,
    ) -> Self {
        Session {
            flow_order,
            first_packet,
            first_ts,
            endpoints,
            client_side: Side::Opener,
            mode: Mode::Undecided,
            conn: None,
            phases: [Phase::Head(Vec::new()), Phase::Head(Vec::new())],
            pending: VecDeque::new(),
            decoders: [None, None],
            probe: None,
            opened,
            start_lost: false,
            packets: [0; 2],
            header_bytes: [0; 2],
            bytes: [0; 2],
            out_of_window: [(0, 0, 0); 2],
            head_cut: [false; 2],
            cut_to: 0,
            tls: None,
            tls_checked: false,
            tls_notes: Vec::new(),
        }
    }

    /// Bytes this session holds while waiting (partial HTTP heads, early client data, a
    /// flow being probed, frames found after a loss awaiting confirmation).
    pub fn held_bytes(&self) -> usize {
        self.phases
            .iter()
            .map(|phase| match phase {
                Phase::Head(b) => b.len(),
                Phase::AwaitUpgrade(_, total) => *total,
                _ => 0,
            })
            .sum::<usize>()
            + self.probe.as_ref().map_or(0, |p| p.held_bytes())
            + self.tls.as_ref().map_or(0, |t| t.held_bytes())
            + self
                .decoders
                .iter()
                .flatten()
                .map(|d| d.held_bytes())
                .sum::<usize>()
    }

    /// The global buffer budget is exhausted: drop what this session holds, saying so
    /// (`what` tells which budget, see [`crate::Pipeline`]).
    pub fn shed(&mut self, conns: &mut [Connection], what: &str) {
        if self.held_bytes() == 0 {
            return;
        }
        for decoder in self.decoders.iter_mut().flatten() {
            decoder.shed();
        }
        if self.mode == Mode::Probing {
            // Not enough evidence within the budget: not followed as WebSocket.
            self.probe = None;
            self.mode = Mode::Other;
            return;
        }
        if matches!(
            self.phases[Dir::Client.index()],
            Phase::Head(_) | Phase::AwaitUpgrade(..)
        ) {
            self.http_stop(conns, Dir::Client, Warning::LimitReached, what);
        }
        if matches!(self.phases[Dir::Server.index()], Phase::Head(ref b) if !b.is_empty()) {
            self.http_stop(conns, Dir::Server, Warning::LimitReached, what);
        }
    }

    /// Index of this flow's connection record in the capture, once it is a WebSocket.
    pub fn connection_index(&self) -> Option<usize> {
        self.conn
    }

    /// The capture's connection records moved (a finished one was taken out): this
    /// flow's record is now at `index`.
    pub fn set_connection_index(&mut self, index: usize) {
        self.conn = Some(index);
    }

    /// This flow's connection holds `held` frames behind a message that has not ended:
    /// the open messages are given up ([`DirectionDecoder::give_up_open`]).
    pub fn give_up_open_messages(&mut self, conns: &mut [Connection], held: usize) {
        let Some(conn) = self.conn.and_then(|i| conns.get_mut(i)) else {
            return;
        };
        for decoder in self.decoders.iter_mut().flatten() {
            decoder.give_up_open(conn, held);
        }
    }

    /// Whether this flow is a WebSocket connection, once that is settled: `Some(true)`
    /// when it has a connection record, `Some(false)` when its first payload was neither
    /// HTTP nor WebSocket, `None` while it may still become one (no payload yet, or
    /// plain HTTP that may still ask for an Upgrade).
    pub fn websocket_decided(&self) -> Option<bool> {
        if self.conn.is_some() {
            return Some(true);
        }
        match self.mode {
            Mode::Other => Some(false),
            Mode::Undecided | Mode::Probing | Mode::Http | Mode::WebSocket => None,
        }
    }

    /// What the flow turned out to be.
    pub fn kind(&self) -> FlowKind {
        match self.mode {
            Mode::WebSocket => FlowKind::WebSocket,
            Mode::Http => FlowKind::PlainHttp,
            _ if self.tls.is_some() => FlowKind::Tls,
            Mode::Undecided | Mode::Probing | Mode::Other => FlowKind::Other,
        }
    }

    /// The flow is TLS and the key logs hold its secrets.
    pub fn tls_key_found(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.info.key_found)
    }

    /// This flow, when it is TLS and did not become a WebSocket connection: its
    /// endpoints and what TLS showed (for the capture's list of such flows).
    pub fn tls_flow(&self) -> Option<crate::model::TlsFlowRecord> {
        let tls = self.tls.as_ref().filter(|_| self.conn.is_none())?;
        Some(crate::model::TlsFlowRecord {
            client: self.endpoints.opener,
            server: self.endpoints.accepter,
            first_packet: self.first_packet,
            info: tls.info.clone(),
        })
    }

    fn dir_of(&self, side: Side) -> Dir {
        if side == self.client_side {
            Dir::Client
        } else {
            Dir::Server
        }
    }

    fn addr(&self, side: Side) -> SocketAddr {
        match side {
            Side::Opener => self.endpoints.opener,
            Side::Accepter => self.endpoints.accepter,
        }
    }

    /// Counts a packet sent by `side` (for per-connection statistics).
    /// `header_bytes` is what the packet spent on link, IP and TCP headers; `cut_to` is
    /// its captured length when the snaplen cut it.
    pub fn packet(
        &mut self,
        side: Side,
        header_bytes: u64,
        cut_to: Option<u32>,
        conns: &mut [Connection],
    ) {
        if let Some(len) = cut_to {
            self.cut_to = self.cut_to.max(len);
        }
        let dir = self.dir_of(side);
        self.packets[side.index()] += 1;
        self.header_bytes[side.index()] += header_bytes;
        if let Some(c) = self.conn {
            conns[c].packets[dir.index()] += 1;
            conns[c].header_bytes[dir.index()] += header_bytes;
        }
    }

    /// Takes one stream event of `side`: through the TLS layer when the flow is TLS.
    pub fn event(
        &mut self,
        side: Side,
        ev: StreamEvent<'_>,
        conns: &mut Vec<Connection>,
        cfg: &SessionConfig,
    ) {
        if let StreamEvent::Data { bytes, .. } = ev {
            // TCP bytes, as on the wire (the TLS layer may hand on fewer).
            self.bytes[side.index()] += bytes.len() as u64;
            if let Some(c) = self.conn {
                conns[c].tcp_bytes[self.dir_of(side).index()] += bytes.len() as u64;
            }
            if !self.tls_checked && self.mode == Mode::Undecided {
                self.tls_checked = true;
                if side == Side::Opener && starts_tls(bytes) {
                    self.tls = Some(Box::new(TlsFlow::new(cfg.keys.clone())));
                }
            }
        }
        let Some(tls) = self.tls.as_mut() else {
            return self.plain_event(side, ev, conns, cfg);
        };
        let out = match ev {
            StreamEvent::Data { bytes, packet, ts } => tls.data(side, bytes, packet, ts),
            StreamEvent::Gap {
                len, packet, ts, ..
            } => tls.gap(side, len, packet, ts),
            other => return self.plain_event(side, other, conns, cfg),
        };
        self.tls_events(out, conns, cfg);
    }

    /// What the TLS layer handed on: decrypted bytes, losses and what it has to say.
    fn tls_events(&mut self, out: Vec<TlsEvent>, conns: &mut Vec<Connection>, cfg: &SessionConfig) {
        for ev in out {
            match ev {
                TlsEvent::Data(side, bytes, packet, ts) => self.plain_event(
                    side,
                    StreamEvent::Data {
                        bytes: &bytes,
                        packet,
                        ts,
                    },
                    conns,
                    cfg,
                ),
                TlsEvent::Lost(side, len, packet, ts) => self.plain_event(
                    side,
                    StreamEvent::Gap {
                        len,
                        reason: GapReason::Encrypted,
                        packet,
                        ts,
                    },
                    conns,
                    cfg,
                ),
                TlsEvent::Warning(side, text) => match self.conn {
                    Some(c) => {
                        let dir = side.map(|s| self.dir_of(s));
                        conns[c].warning(Warning::Tls, dir, None, text);
                    }
                    None => self.tls_notes.push((side, text)),
                },
            }
        }
    }

    /// Takes one stream event of `side` as the HTTP and WebSocket stages see it (plain
    /// TCP, or what TLS decrypted).
    fn plain_event(
        &mut self,
        side: Side,
        ev: StreamEvent<'_>,
        conns: &mut Vec<Connection>,
        cfg: &SessionConfig,
    ) {
        match ev {
            StreamEvent::Data { bytes, packet, ts } => {
                if self.mode == Mode::Undecided {
                    self.decide(side, bytes, packet, ts, conns, cfg);
                }
                if self.mode == Mode::Probing {
                    return self.probe_segment(side, bytes, packet, ts, conns, cfg);
                }
                if matches!(self.mode, Mode::Http | Mode::WebSocket) {
                    self.bytes_of(self.dir_of(side), bytes, packet, ts, conns, cfg);
                }
            }
            StreamEvent::Gap {
                len,
                reason,
                packet,
                ts,
            } => match (self.mode, self.probe.as_mut()) {
                (Mode::Undecided, _) => {
                    // The flow's first bytes on this side are not all in the capture.
                    self.start_lost = true;
                    self.phases[self.dir_of(side).index()] = Phase::HttpLost;
                }
                (Mode::Probing, Some(probe)) => probe.gap(side, len, reason, packet),
                _ => {
                    let dir = self.dir_of(side);
                    if reason == GapReason::Snaplen && self.cut_head(dir, packet, ts, conns, cfg) {
                        return;
                    }
                    self.gap(dir, len, reason, packet, conns, cfg)
                }
            },
            StreamEvent::OutOfWindow { packet, len } => {
                let (segments, bytes, first) = &mut self.out_of_window[side.index()];
                if *segments == 0 {
                    *first = packet;
                }
                *segments += 1;
                *bytes = bytes.saturating_add(len);
            }
            StreamEvent::RetransmissionDiffers { packet, offset } => {
                if let Some(c) = self.conn {
                    let dir = self.dir_of(side);
                    conns[c].warning(Warning::RetransmissionDiffers, Some(dir), None, format!("packet {packet} retransmits stream byte {offset} with different content; the first copy is kept"));
                }
            }
        }
    }

    /// `len` bytes of `dir`'s stream are missing from the capture.
    fn gap(
        &mut self,
        dir: Dir,
        len: u64,
        reason: GapReason,
        packet: u64,
        conns: &mut [Connection],
        cfg: &SessionConfig,
    ) {
        let snaplen = reason == GapReason::Snaplen;
        if let (Some(c), GapReason::BufferLimit) = (self.conn, reason) {
            conns[c].warning(
                Warning::LimitReached,
                Some(dir),
                None,
                format!(
                    "more than {} bytes waited out of order (--max-out-of-order); a hole of {len} bytes was given up at packet {packet}",
                    cfg.limits.max_out_of_order
                ),
            );
        }
        let in_ws = matches!(self.phases[dir.index()], Phase::Ws);
        if let (Some(c), true) = (self.conn, in_ws) {
            if let Some(d) = self.decoders[dir.index()].as_mut() {
                if reason == GapReason::Encrypted {
                    d.gap_of_unknown_length(&mut conns[c], len, packet);
                } else {
                    d.gap(&mut conns[c], len, snaplen, packet);
                }
            }
            return;
        }
        let w = if snaplen {
            Warning::Truncated
        } else {
            Warning::TcpGap
        };
        if let Phase::AwaitUpgrade(held, _) = &mut self.phases[dir.index()] {
            // Judged with the rest once the server's answer says what the bytes were.
            held.push(Early::Gap(len, reason, packet));
            return;
        }
        let awaiting_upgrade = dir == Dir::Server
            && matches!(self.phases[dir.index()], Phase::Head(_))
            && self.pending.front().is_some_and(|r| r.upgrade.is_some());
        if let (Some(c), true) = (self.conn, awaiting_upgrade) {
            // The answer to the Upgrade is (partly) missing: what follows will tell.
            self.phases[dir.index()] = Phase::AnswerLost;
            conns[c].warning(w, Some(dir), None, format!("{len} bytes of the server's answer to the Upgrade request are missing (packet {packet}); what the server sends next shows whether it switched to WebSocket"));
            return;
        }
        let http = matches!(self.mode, Mode::Http | Mode::WebSocket)
            && matches!(
                self.phases[dir.index()],
                Phase::Head(_) | Phase::Body(_) | Phase::HttpLost
            );
        self.phases[dir.index()] = if http { Phase::HttpLost } else { Phase::Opaque };
        if let Some(c) = self.conn {
            let then = if http {
                "decoding goes on at the next packet that starts an HTTP head"
            } else {
                "the rest of this direction is not decoded"
            };
            conns[c].warning(
                w,
                Some(dir),
                None,
                format!("{len} bytes missing during the HTTP exchange (packet {packet}); {then}"),
            );
        }
    }

    /// A new WebSocket connection record for this flow, counting what the flow carried
    /// so far.
    fn new_connection(&self) -> Connection {
        let client = self.addr(self.client_side);
        let server = self.addr(self.client_side.other());
        let mut c = Connection::new(
            client,
            server,
            self.flow_order,
            self.first_packet,
            self.first_ts,
        );
        let by_dir = |counts: [u64; 2]| {
            [
                counts[self.client_side.index()],
                counts[self.client_side.other().index()],
            ]
        };
        c.packets = by_dir(self.packets);
        c.header_bytes = by_dir(self.header_bytes);
        c.tcp_bytes = by_dir(self.bytes);
        c.tls = self.tls.as_ref().map(|t| t.info.clone());
        for (side, text) in &self.tls_notes {
            let dir = side.map(|s| self.dir_of(s));
            c.warning(Warning::Tls, dir, None, text.clone());
        }
        c
    }

    /// Adds this flow's connection record to the capture (numbered in the order
    /// connections are recognised, until the capture is finished).
    fn push_connection(&mut self, conn: Connection, conns: &mut Vec<Connection>) -> usize {
        let mut conn = conn;
        conn.id = conns.len() as u32 + 1;
        conns.push(conn);
        let index = conns.len() - 1;
        self.conn = Some(index);
        index
    }

    /// Both directions carry frames from now on, decoded as `client` and `server`
    /// agreed (RFC 6455 §4: after the 101, or recognised without a handshake).
    fn start_frames(&mut self, client: Negotiated, server: Negotiated, limits: Limits) {
        self.decoders = [
            Some(Box::new(DirectionDecoder::new(Dir::Client, client, limits))),
            Some(Box::new(DirectionDecoder::new(Dir::Server, server, limits))),
        ];
        self.phases = [Phase::Ws, Phase::Ws];
    }

    fn http_stop(&mut self, conns: &mut [Connection], dir: Dir, warning: Warning, what: &str) {
        self.phases[dir.index()] = Phase::Opaque;
        if let Some(c) = self.conn {
            conns[c].warning(warning, Some(dir), None, what.to_string());
        }
    }

    /// The flow is over (closed, reset, or end of capture): settle what is open.
    pub fn finish(&mut self, conns: &mut [Connection], ending: Ending) {
        if let Some(tls) = self.tls.as_mut() {
            let said = tls.finish();
            let Some(c) = self.conn else {
                return self.finish_plain(conns, ending);
            };
            for ev in said {
                if let TlsEvent::Warning(side, text) = ev {
                    let dir = side.map(|s| {
                        if s == self.client_side {
                            Dir::Client
                        } else {
                            Dir::Server
                        }
                    });
                    conns[c].warning(Warning::Tls, dir, None, text);
                }
            }
            conns[c].tls = Some(tls.info.clone());
        }
        self.finish_plain(conns, ending);
    }

    /// [`Session::finish`] past the TLS layer.
    fn finish_plain(&mut self, conns: &mut [Connection], ending: Ending) {
        if self.mode == Mode::Probing {
            // The flow ended before its frames gave enough evidence.
            self.probe = None;
            self.mode = Mode::Other;
        }
        let Some(c) = self.conn else { return };
        for d in self.decoders.iter_mut().flatten() {
            d.finish(&mut conns[c]);
        }
        for dir in [Dir::Client, Dir::Server] {
            let Some(cuts) = self.decoders[dir.index()]
                .as_ref()
                .map(|d| d.snaplen_cuts())
            else {
                continue;
            };
            if cuts.bytes > 0 {
                conns[c].warning(
                    Warning::Truncated,
                    Some(dir),
                    None,
                    snaplen_sentence(cuts, self.cut_to),
                );
            }
        }
        for side in [Side::Opener, Side::Accepter] {
            let (segments, bytes, first) = self.out_of_window[side.index()];
            if segments > 0 {
                conns[c].warning(
                    Warning::OutOfWindow,
                    Some(self.dir_of(side)),
                    None,
                    format!("{segments} segments ({bytes} bytes, the first at packet {first}) lay beyond the receiver's window and were not decoded"),
                );
            }
        }
        conns[c].ending = ending;
    }
}
