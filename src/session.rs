//! One TCP connection above TCP: it starts undecided, becomes plain HTTP (keep-alive
//! requests and responses, bodies skipped), a WebSocket connection (after an Upgrade,
//! or recognised by its frames when the handshake was not captured), or "other".
//!
//! State is kept per direction (RFC 6455 is asymmetric: the client masks, the server
//! answers the handshake), as an explicit enum per side.

use std::collections::VecDeque;
use std::net::SocketAddr;

use crate::http::body::{BodyLength, BodyNext, BodySkipper, request_body, response_body};
use crate::http::extensions::DeflateParams;
use crate::http::extensions::parse_extensions;
use crate::http::handshake::{self, is_upgrade_request};
use crate::http::head::{HttpHead, looks_like_request, parse_request, parse_response};
use crate::model::{Connection, Dir, Ending, FlowKind};
use crate::rules::{Violation, Warning};
use crate::source::Timestamp;
use crate::tcp::{Endpoints, GapReason, Side, StreamEvent};
use crate::ws::checks::plausible_header;
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
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            limits: Limits::default(),
            ws_ports: Vec::new(),
            idle_threshold: crate::analysis::heartbeat::DEFAULT_IDLE_THRESHOLD_SECS,
        }
    }
}

/// Most client bytes held while the server's answer to an Upgrade is awaited.
const MAX_EARLY_CLIENT_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Undecided,
    Http,
    WebSocket,
    Other,
}

#[derive(Debug)]
enum ClientPhase {
    Head(Vec<u8>),
    Body(BodySkipper),
    AwaitUpgrade(Vec<(Vec<u8>, u64, Timestamp)>, usize),
    Ws,
    Opaque,
}

#[derive(Debug)]
enum ServerPhase {
    Head(Vec<u8>),
    Body(BodySkipper),
    Ws,
    Opaque,
}

impl ClientPhase {
    /// What follows a request head with a body of length `body`.
    fn after_head(body: BodyLength) -> Self {
        match BodySkipper::new(body) {
            BodySkipper::Done => ClientPhase::Head(Vec::new()),
            skipper => ClientPhase::Body(skipper),
        }
    }
}

impl ServerPhase {
    /// What follows a response head with a body of length `body`.
    fn after_head(body: BodyLength) -> Self {
        match BodySkipper::new(body) {
            BodySkipper::Done => ServerPhase::Head(Vec::new()),
            skipper => ServerPhase::Body(skipper),
        }
    }
}

#[derive(Debug)]
struct PendingRequest {
    method: String,
    upgrade: Option<HttpHead>,
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
    client: ClientPhase,
    server: ServerPhase,
    pending: VecDeque<PendingRequest>,
    /// Boxed: only WebSocket flows have them, and the flow table stays small.
    decoders: [Option<Box<DirectionDecoder>>; 2],
    packets: [u64; 2],
    header_bytes: [u64; 2],
    bytes: [u64; 2],
}

impl Session {
    /// A new session for a flow whose first packet is `first_packet`.
    pub fn new(
        endpoints: Endpoints,
        flow_order: u64,
        first_packet: u64,
        first_ts: Timestamp,
    ) -> Self {
        Session {
            flow_order,
            first_packet,
            first_ts,
            endpoints,
            client_side: Side::Opener,
            mode: Mode::Undecided,
            conn: None,
            client: ClientPhase::Head(Vec::new()),
            server: ServerPhase::Head(Vec::new()),
            pending: VecDeque::new(),
            decoders: [None, None],
            packets: [0; 2],
            header_bytes: [0; 2],
            bytes: [0; 2],
        }
    }

    /// Bytes this session holds while waiting (partial HTTP heads, early client data).
    pub fn held_bytes(&self) -> usize {
        let client = match &self.client {
            ClientPhase::Head(b) => b.len(),
            ClientPhase::AwaitUpgrade(_, total) => *total,
            _ => 0,
        };
        let server = match &self.server {
            ServerPhase::Head(b) => b.len(),
            _ => 0,
        };
        client + server
    }

    /// The global buffer budget is exhausted: drop what this session holds, saying so
    /// (`what` tells which budget, see [`crate::Pipeline`]).
    pub fn shed(&mut self, conns: &mut [Connection], what: &str) {
        if self.held_bytes() == 0 {
            return;
        }
        if !matches!(
            self.client,
            ClientPhase::Ws | ClientPhase::Opaque | ClientPhase::Body(_)
        ) {
            self.http_stop(conns, Dir::Client, Warning::LimitReached, what);
        }
        if matches!(self.server, ServerPhase::Head(ref b) if !b.is_empty()) {
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
            Mode::Undecided | Mode::Http | Mode::WebSocket => None,
        }
    }

    /// What the flow turned out to be.
    pub fn kind(&self) -> FlowKind {
        match self.mode {
            Mode::WebSocket => FlowKind::WebSocket,
            Mode::Http => FlowKind::PlainHttp,
            Mode::Undecided | Mode::Other => FlowKind::Other,
        }
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
    /// `header_bytes` is what the packet spent on link, IP and TCP headers.
    pub fn packet(&mut self, side: Side, header_bytes: u64, conns: &mut [Connection]) {
        let dir = self.dir_of(side);
        self.packets[dir.index()] += 1;
        self.header_bytes[dir.index()] += header_bytes;
        if let Some(c) = self.conn {
            conns[c].packets[dir.index()] += 1;
            conns[c].header_bytes[dir.index()] += header_bytes;
        }
    }

    /// Takes one stream event of `side`.
    pub fn event(
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
                let dir = self.dir_of(side);
                self.bytes[dir.index()] += bytes.len() as u64;
                if let Some(c) = self.conn {
                    conns[c].tcp_bytes[dir.index()] += bytes.len() as u64;
                }
                match (self.mode, dir) {
                    (Mode::Http | Mode::WebSocket, Dir::Client) => {
                        self.client_bytes(bytes, packet, ts, conns, cfg)
                    }
                    (Mode::Http | Mode::WebSocket, Dir::Server) => {
                        self.server_bytes(bytes, packet, ts, conns, cfg)
                    }
                    _ => {}
                }
            }
            StreamEvent::Gap {
                len,
                reason,
                packet,
                ..
            } => {
                let dir = self.dir_of(side);
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
                let in_ws = match dir {
                    Dir::Client => matches!(self.client, ClientPhase::Ws),
                    Dir::Server => matches!(self.server, ServerPhase::Ws),
                };
                if let (Some(c), true) = (self.conn, in_ws) {
                    if let Some(d) = self.decoders[dir.index()].as_mut() {
                        d.gap(&mut conns[c], len, snaplen, packet);
                    }
                    return;
                }
                match dir {
                    Dir::Client => self.client = ClientPhase::Opaque,
                    Dir::Server => self.server = ServerPhase::Opaque,
                }
                if let Some(c) = self.conn {
                    let w = if snaplen {
                        Warning::Truncated
                    } else {
                        Warning::TcpGap
                    };
                    conns[c].warning(w, Some(dir), None, format!("{len} bytes missing during the HTTP exchange (packet {packet}); the rest of this direction is not decoded"));
                }
            }
            StreamEvent::RetransmissionDiffers { packet, offset } => {
                if let Some(c) = self.conn {
                    let dir = self.dir_of(side);
                    conns[c].warning(Warning::RetransmissionDiffers, Some(dir), None, format!("packet {packet} retransmits stream byte {offset} with different content; the first copy is kept"));
                }
            }
        }
    }

    /// First payload of the flow: HTTP, WebSocket without a handshake, or something else.
    fn decide(
        &mut self,
        side: Side,
        bytes: &[u8],
        packet: u64,
        ts: Timestamp,
        conns: &mut Vec<Connection>,
        cfg: &SessionConfig,
    ) {
        let port_side = [Side::Opener, Side::Accepter]
            .into_iter()
            .find(|s| cfg.ws_ports.contains(&self.addr(*s).port()));
        if side == Side::Opener
            && looks_like_request(bytes)
            && port_side.is_none_or(|s| s == Side::Accepter)
        {
            self.mode = Mode::Http;
            return;
        }
        let client_side = if let Some(server_side) = port_side {
            Some(server_side.other())
        } else if plausible_header(bytes, Dir::Client) {
            Some(side)
        } else if plausible_frames(bytes) {
            Some(side.other())
        } else {
            None
        };
        let Some(client_side) = client_side else {
            self.mode = Mode::Other;
            return;
        };
        self.client_side = client_side;
        self.mode = Mode::WebSocket;
        self.client = ClientPhase::Ws;
        self.server = ServerPhase::Ws;
        let mut conn = self.new_connection();
        conn.midstream = true;
        let how = if port_side.is_some() {
            "--port"
        } else {
            "the masking of its frames"
        };
        conn.warning(
            Warning::Midstream,
            None,
            None,
            format!("no handshake captured (first payload at packet {packet}); recognised as WebSocket by {how}: extensions and subprotocol are unknown"),
        );
        conn.last_ts = ts;
        let negotiated = Negotiated {
            deflate: None,
            other_extension: false,
            unknown: true,
        };
        self.decoders = [
            Some(Box::new(DirectionDecoder::new(
                Dir::Client,
                negotiated,
                cfg.limits,
            ))),
            Some(Box::new(DirectionDecoder::new(
                Dir::Server,
                negotiated,
                cfg.limits,
            ))),
        ];
        conn.id = conns.len() as u32 + 1;
        conns.push(conn);
        self.conn = Some(conns.len() - 1);
    }

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
        c.packets = self.packets;
        c.header_bytes = self.header_bytes;
        c.tcp_bytes = self.bytes;
        c
    }

    fn client_bytes(
        &mut self,
        mut bytes: &[u8],
        packet: u64,
        ts: Timestamp,
        conns: &mut Vec<Connection>,
        cfg: &SessionConfig,
    ) {
        while !bytes.is_empty() {
            match &mut self.client {
                ClientPhase::Opaque => return,
                ClientPhase::Ws => {
                    if let (Some(c), Some(d)) = (self.conn, self.decoders[0].as_mut()) {
                        d.feed(&mut conns[c], bytes, packet, ts);
                    }
                    return;
                }
                ClientPhase::AwaitUpgrade(held, total) => {
                    if *total + bytes.len() > MAX_EARLY_CLIENT_BYTES {
                        if let Some(c) = self.conn {
                            conns[c].warning(Warning::LimitReached, Some(Dir::Client), None, "more than 1 MiB sent by the client before the server answered; the rest is not decoded");
                        }
                        self.client = ClientPhase::Opaque;
                        return;
                    }
                    *total += bytes.len();
                    held.push((bytes.to_vec(), packet, ts));
                    return;
                }
                ClientPhase::Body(skipper) => {
                    let (used, next) = skipper.advance(bytes);
                    bytes = &bytes[used..];
                    match next {
                        BodyNext::Body => {}
                        BodyNext::Head => self.client = ClientPhase::Head(Vec::new()),
                        BodyNext::Malformed => self.client = ClientPhase::Opaque,
                    }
                }
                ClientPhase::Head(buf) => {
                    match collect_head(buf, bytes, cfg.limits.max_http_head, parse_request) {
                        HeadStep::Complete(mut head, used) => {
                            bytes = &bytes[used..];
                            head.packet = packet;
                            head.ts = ts;
                            self.request(head, conns);
                        }
                        HeadStep::NeedMore => return,
                        HeadStep::Stop(warning, why) => {
                            self.http_stop(conns, Dir::Client, warning, &why);
                            return;
                        }
                    }
                }
            }
        }
    }

    fn http_trouble(&mut self, conns: &mut [Connection], dir: Dir, what: &str) {
        self.http_stop(conns, dir, Warning::HttpUnparsed, what);
    }

    fn http_stop(&mut self, conns: &mut [Connection], dir: Dir, warning: Warning, what: &str) {
        match dir {
            Dir::Client => self.client = ClientPhase::Opaque,
            Dir::Server => self.server = ServerPhase::Opaque,
        }
        if let Some(c) = self.conn {
            conns[c].warning(warning, Some(dir), None, what.to_string());
        }
    }

    fn request(&mut self, head: HttpHead, conns: &mut Vec<Connection>) {
        let method = head.method().unwrap_or("").to_string();
        if is_upgrade_request(&head) {
            self.mode = Mode::WebSocket;
            if self.conn.is_none() {
                let mut conn = self.new_connection();
                conn.id = conns.len() as u32 + 1;
                conns.push(conn);
                self.conn = Some(conns.len() - 1);
            }
            if let Some(c) = self.conn {
                conns[c].handshake = Some(handshake::build(head.clone(), None, false));
                conns[c].last_ts = head.ts;
            }
            self.pending.push_back(PendingRequest {
                method,
                upgrade: Some(head),
            });
            self.client = ClientPhase::AwaitUpgrade(Vec::new(), 0);
        } else {
            let body = request_body(&head);
            self.pending.push_back(PendingRequest {
                method,
                upgrade: None,
            });
            self.client = ClientPhase::after_head(body);
        }
    }

    fn server_bytes(
        &mut self,
        mut bytes: &[u8],
        packet: u64,
        ts: Timestamp,
        conns: &mut Vec<Connection>,
        cfg: &SessionConfig,
    ) {
        while !bytes.is_empty() {
            match &mut self.server {
                ServerPhase::Opaque => return,
                ServerPhase::Ws => {
                    if let (Some(c), Some(d)) = (self.conn, self.decoders[1].as_mut()) {
                        d.feed(&mut conns[c], bytes, packet, ts);
                    }
                    return;
                }
                ServerPhase::Body(skipper) => {
                    let (used, next) = skipper.advance(bytes);
                    bytes = &bytes[used..];
                    match next {
                        BodyNext::Body => {}
                        BodyNext::Head => self.server = ServerPhase::Head(Vec::new()),
                        BodyNext::Malformed => self.server = ServerPhase::Opaque,
                    }
                }
                ServerPhase::Head(buf) => {
                    match collect_head(buf, bytes, cfg.limits.max_http_head, parse_response) {
                        HeadStep::Complete(mut head, used) => {
                            bytes = &bytes[used..];
                            head.packet = packet;
                            head.ts = ts;
                            self.response(head, conns, cfg);
                        }
                        HeadStep::NeedMore => return,
                        HeadStep::Stop(warning, why) => {
                            self.http_stop(conns, Dir::Server, warning, &why);
                            return;
                        }
                    }
                }
            }
        }
    }

    fn response(&mut self, head: HttpHead, conns: &mut Vec<Connection>, cfg: &SessionConfig) {
        let status = head.status().unwrap_or(0);
        if (100..200).contains(&status) && status != 101 {
            self.server = ServerPhase::Head(Vec::new());
            return;
        }
        let Some(request) = self.pending.pop_front() else {
            self.http_trouble(conns, Dir::Server, "a response without a request");
            return;
        };
        let Some(upgrade) = request.upgrade else {
            let body = response_body(&head, Some(&request.method));
            self.server = ServerPhase::after_head(body);
            return;
        };
        let held = match std::mem::replace(&mut self.client, ClientPhase::Opaque) {
            ClientPhase::AwaitUpgrade(held, _) => held,
            other => {
                self.client = other;
                Vec::new()
            }
        };
        let early = !held.is_empty();
        let hs = handshake::build(upgrade, Some(head.clone()), early);
        let Some(c) = self.conn else { return };
        conns[c].last_ts = head.ts;
        if status == 101 {
            for check in hs.failed_checks() {
                let dir = if is_client_rule(check.rule) {
                    Dir::Client
                } else {
                    Dir::Server
                };
                conns[c].violation(check.rule, Some(dir), None, check.detail.clone());
            }
            let others = hs
                .extensions
                .as_deref()
                .map(|e| {
                    parse_extensions(e)
                        .iter()
                        .any(|x| x.name != "permessage-deflate")
                })
                .unwrap_or(false);
            let for_dir = |p: Option<DeflateParams>| Negotiated {
                deflate: p,
                other_extension: others,
                unknown: false,
            };
            let client_params = hs.deflate.map(|d| d.client);
            let server_params = hs.deflate.map(|d| d.server);
            self.decoders = [
                Some(Box::new(DirectionDecoder::new(
                    Dir::Client,
                    for_dir(client_params),
                    cfg.limits,
                ))),
                Some(Box::new(DirectionDecoder::new(
                    Dir::Server,
                    for_dir(server_params),
                    cfg.limits,
                ))),
            ];
            conns[c].handshake = Some(hs);
            self.server = ServerPhase::Ws;
            self.client = ClientPhase::Ws;
            for (bytes, packet, ts) in held {
                self.client_bytes(&bytes, packet, ts, conns, cfg);
            }
        } else {
            conns[c].handshake = Some(hs);
            let body = response_body(&head, Some("GET"));
            self.server = ServerPhase::after_head(body);
            self.client = ClientPhase::Head(Vec::new());
            for (bytes, packet, ts) in held {
                self.client_bytes(&bytes, packet, ts, conns, cfg);
            }
        }
    }

    /// The flow is over (closed, reset, or end of capture): settle what is open.
    pub fn finish(&mut self, conns: &mut [Connection], ending: Ending) {
        let Some(c) = self.conn else { return };
        for d in self.decoders.iter_mut().flatten() {
            d.finish(&mut conns[c]);
        }
        conns[c].ending = ending;
    }
}

/// What collecting an HTTP head from the next bytes came to.
enum HeadStep {
    /// The head is complete; this many of the new bytes belonged to it.
    Complete(HttpHead, usize),
    /// All new bytes were taken; the head goes on.
    NeedMore,
    /// Not HTTP, or the head is too large: stop decoding this direction, saying why.
    Stop(Warning, String),
}

/// Adds `bytes` to the partial head in `buf` (at most `max` bytes in all) and parses it.
fn collect_head(
    buf: &mut Vec<u8>,
    bytes: &[u8],
    max: usize,
    parse: fn(&[u8]) -> Result<Option<HttpHead>, crate::http::head::HeadError>,
) -> HeadStep {
    let old = buf.len();
    let take = bytes.len().min(max + 1 - old.min(max));
    buf.extend_from_slice(&bytes[..take]);
    match parse(buf) {
        Ok(Some(head)) => {
            let used = head.len.saturating_sub(old).min(take);
            HeadStep::Complete(head, used)
        }
        Ok(None) if buf.len() > max => HeadStep::Stop(
            Warning::LimitReached,
            "an HTTP head is larger than --max-http-head; the rest of this direction is not decoded".into(),
        ),
        Ok(None) => HeadStep::NeedMore,
        Err(e) => HeadStep::Stop(Warning::HttpUnparsed, format!("the bytes are not HTTP ({e}); the rest of this direction is not decoded")),
    }
}

/// Rules broken by the request (the client's fault) rather than the response.
fn is_client_rule(rule: Violation) -> bool {
    matches!(
        rule,
        Violation::HandshakeMethodNotGet
            | Violation::HandshakeHttpVersion
            | Violation::HandshakeHostMissing
            | Violation::HandshakeUpgradeMissing
            | Violation::HandshakeConnectionMissing
            | Violation::HandshakeKeyInvalid
            | Violation::HandshakeVersionInvalid
            | Violation::HandshakeClientFramesBeforeResponse
    )
}

/// Does a chunk sent by the server look like whole unmasked frames, back to back? A
/// stricter test than one header, since unmasked frames have no tell-tale mask bit.
fn plausible_frames(mut bytes: &[u8]) -> bool {
    let mut frames = 0;
    while !bytes.is_empty() {
        if !plausible_header(bytes, Dir::Server) {
            return false;
        }
        let Ok((rest, h)) = crate::ws::frame::parse_frame_header(bytes) else {
            return frames > 0;
        };
        frames += 1;
        let Ok(len) = usize::try_from(h.payload_len) else {
            return false;
        };
        if len >= rest.len() {
            // The first frame must either end exactly here or continue in later segments.
            return true;
        }
        bytes = &rest[len..];
    }
    frames > 0
}
