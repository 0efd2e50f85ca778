//! The HTTP exchange of a session: request and response heads collected across
//! packets, bodies skipped on keep-alive connections, the Upgrade request answered
//! (RFC 6455 §4): with 101 the handshake is checked and both directions carry frames
//! from then on; with anything else the connection goes on as HTTP.

use super::{Early, Mode, PendingRequest, Phase, Session, SessionConfig};
use crate::http::body::{BodyNext, request_body, response_body};
use crate::http::extensions::{DeflateParams, parse_extensions};
use crate::http::handshake::{self, is_upgrade_request};
use crate::http::head::{
    HeadError, HttpHead, looks_like_request, parse_cut, parse_request, parse_response,
};
use crate::model::{Connection, Dir};
use crate::rules::{Violation, Warning};
use crate::source::Timestamp;
use crate::ws::Negotiated;

use super::recognise::plausible_frames;

/// Most client bytes held while the server's answer to an Upgrade is awaited.
const MAX_EARLY_CLIENT_BYTES: usize = 1 << 20;

impl Session {
    /// The next `bytes` of `dir`'s stream, from capture packet `packet` of time `ts`,
    /// once the flow is HTTP (or WebSocket).
    pub(super) fn bytes_of(
        &mut self,
        dir: Dir,
        mut bytes: &[u8],
        packet: u64,
        ts: Timestamp,
        conns: &mut Vec<Connection>,
        cfg: &SessionConfig,
    ) {
        while !bytes.is_empty() {
            match &mut self.phases[dir.index()] {
                Phase::Opaque => return,
                Phase::HttpLost => {
                    let starts_head = match dir {
                        Dir::Client => looks_like_request(bytes),
                        Dir::Server => bytes.starts_with(b"HTTP/1."),
                    };
                    if !starts_head {
                        return;
                    }
                    self.phases[dir.index()] = Phase::Head(Vec::new());
                }
                Phase::AnswerLost => {
                    if !plausible_frames(bytes) {
                        self.phases[dir.index()] = Phase::Opaque;
                        return;
                    }
                    self.answered_unseen(packet, conns, cfg);
                }
                Phase::Skip(left) => {
                    let used = (*left).min(bytes.len());
                    bytes = &bytes[used..];
                    *left -= used;
                    if *left == 0 {
                        self.phases[dir.index()] = Phase::Ws;
                    }
                }
                Phase::Ws => {
                    if let (Some(c), Some(d)) = (self.conn, self.decoders[dir.index()].as_mut()) {
                        d.feed(&mut conns[c], bytes, packet, ts);
                    }
                    return;
                }
                Phase::AwaitUpgrade(held, total) => {
                    if *total + bytes.len() > MAX_EARLY_CLIENT_BYTES {
                        if let Some(c) = self.conn {
                            conns[c].warning(Warning::LimitReached, Some(Dir::Client), None, "more than 1 MiB sent by the client before the server answered; the rest is not decoded");
                        }
                        self.phases[dir.index()] = Phase::Opaque;
                        return;
                    }
                    *total += bytes.len();
                    held.push(Early::Bytes(bytes.to_vec(), packet, ts));
                    return;
                }
                Phase::Body(skipper) => {
                    let (used, next) = skipper.advance(bytes);
                    bytes = &bytes[used..];
                    match next {
                        BodyNext::Body => {}
                        BodyNext::Head => self.phases[dir.index()] = Phase::Head(Vec::new()),
                        BodyNext::Malformed => self.phases[dir.index()] = Phase::Opaque,
                    }
                }
                Phase::Head(buf) => {
                    let parse = match dir {
                        Dir::Client => parse_request,
                        Dir::Server => parse_response,
                    };
                    match collect_head(buf, bytes, cfg.limits.max_http_head, parse) {
                        HeadStep::Complete(mut head, used) => {
                            bytes = &bytes[used..];
                            head.packet = packet;
                            head.ts = ts;
                            match dir {
                                Dir::Client => self.request(head, conns),
                                Dir::Server => self.response(head, conns, cfg),
                            }
                        }
                        HeadStep::NeedMore => return,
                        HeadStep::Stop(warning, why) => {
                            self.http_stop(conns, dir, warning, &why);
                            return;
                        }
                    }
                }
            }
        }
    }

    /// A request head: an Upgrade makes the flow a WebSocket connection (its handshake
    /// so far recorded) and holds what the client sends next until the answer.
    fn request(&mut self, head: HttpHead, conns: &mut Vec<Connection>) {
        let method = head.method().unwrap_or("").to_string();
        let client = Dir::Client.index();
        if is_upgrade_request(&head) || (head.cut && shows_websocket_headers(&head)) {
            self.mode = Mode::WebSocket;
            if self.conn.is_none() {
                let conn = self.new_connection();
                self.push_connection(conn, conns);
            }
            if let Some(c) = self.conn {
                conns[c].handshake = Some(handshake::build(head.clone(), None, false));
                conns[c].last_ts = head.ts;
            }
            self.pending.push_back(PendingRequest {
                method,
                upgrade: Some(head),
                answer: None,
            });
            self.phases[client] = Phase::AwaitUpgrade(Vec::new(), 0);
        } else if head.cut && method == "GET" {
            // Cut before it showed whether it asks for an Upgrade: the answer tells, and
            // what the client sends meanwhile is held until then.
            self.pending.push_back(PendingRequest {
                method,
                upgrade: Some(head),
                answer: None,
            });
            self.phases[client] = Phase::AwaitUpgrade(Vec::new(), 0);
        } else {
            let body = request_body(&head);
            let cut = head.cut;
            self.pending.push_back(PendingRequest {
                method,
                upgrade: None,
                answer: None,
            });
            self.phases[client] = if cut {
                Phase::HttpLost
            } else {
                Phase::after_head(body)
            };
        }
    }

    /// A response head: the answer to the oldest request waiting (an interim 1xx but 101
    /// answers nothing). The answer to an Upgrade settles the handshake.
    fn response(&mut self, head: HttpHead, conns: &mut Vec<Connection>, cfg: &SessionConfig) {
        let (client, server) = (Dir::Client.index(), Dir::Server.index());
        let status = head.status().unwrap_or(0);
        // After a head the snaplen cut, the next head starts at a later packet.
        let next_head = |cut: bool| {
            if cut {
                Phase::HttpLost
            } else {
                Phase::Head(Vec::new())
            }
        };
        if (100..200).contains(&status) && status != 101 {
            self.phases[server] = next_head(head.cut);
            return;
        }
        if status == 101 {
            // After a loss, answers may be missing: the 101 answers the Upgrade.
            while self.pending.front().is_some_and(|r| r.upgrade.is_none()) {
                self.pending.pop_front();
            }
        }
        let Some(request) = self.pending.pop_front() else {
            self.http_stop(
                conns,
                Dir::Server,
                Warning::HttpUnparsed,
                "a response without a request",
            );
            return;
        };
        let Some(upgrade) = request.upgrade else {
            let body = response_body(&head, Some(&request.method));
            self.phases[server] = if head.cut {
                Phase::HttpLost
            } else {
                Phase::after_head(body)
            };
            return;
        };
        if self.conn.is_none() && status == 101 {
            // A GET the snaplen cut: the 101 says it asked for an Upgrade.
            if !head.has_token("upgrade", "websocket")
                && head.header("sec-websocket-accept").is_none()
            {
                // Cut before it showed which protocol: the frames that follow tell.
                self.pending.push_front(PendingRequest {
                    answer: Some(head),
                    upgrade: Some(upgrade),
                    ..request
                });
                self.phases[server] = Phase::AnswerLost;
                return;
            }
            self.mode = Mode::WebSocket;
            let conn = self.new_connection();
            self.push_connection(conn, conns);
        }
        let held = match std::mem::replace(&mut self.phases[client], Phase::Opaque) {
            Phase::AwaitUpgrade(held, _) => held,
            other => {
                self.phases[client] = other;
                Vec::new()
            }
        };
        let early = !held.is_empty();
        let (request_cut, response_cut) = (upgrade.cut, head.cut);
        let hs = handshake::build(upgrade, Some(head.clone()), early);
        let Some(c) = self.conn else {
            // A cut GET answered with something else than 101: it was plain HTTP.
            self.phases[server] = if head.cut {
                Phase::HttpLost
            } else {
                Phase::after_head(response_body(&head, Some("GET")))
            };
            self.phases[client] = Phase::HttpLost;
            return self.replay_early(held, conns, cfg);
        };
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
            // A 101 the snaplen cut may have agreed extensions beyond what shows.
            let for_dir = |p: Option<DeflateParams>| Negotiated {
                deflate: p,
                other_extension: others || response_cut,
                unknown: response_cut && hs.extensions.is_none(),
            };
            let client_params = for_dir(hs.deflate.map(|d| d.client));
            let server_params = for_dir(hs.deflate.map(|d| d.server));
            self.start_frames(client_params, server_params, cfg.limits);
            self.head_cut = [request_cut, response_cut];
            if request_cut || response_cut {
                self.frames_after_cut_heads(conns, c);
            }
            conns[c].handshake = Some(hs);
        } else {
            conns[c].handshake = Some(hs);
            let body = response_body(&head, Some("GET"));
            self.phases[server] = if head.cut {
                Phase::HttpLost
            } else {
                Phase::after_head(body)
            };
            self.phases[client] = next_head(request_cut);
        }
        // What the client sent while it waited is decoded as what it turned out to be.
        self.replay_early(held, conns, cfg);
    }

    /// What the client sent (and the capture lost) while it waited for the answer.
    fn replay_early(&mut self, held: Vec<Early>, conns: &mut Vec<Connection>, cfg: &SessionConfig) {
        for early in held {
            match early {
                Early::Bytes(bytes, packet, ts) => {
                    self.bytes_of(Dir::Client, &bytes, packet, ts, conns, cfg)
                }
                Early::Gap(len, reason, packet) => {
                    self.gap(Dir::Client, len, reason, packet, conns, cfg)
                }
            }
        }
    }
}

impl Session {
    /// The server's answer to the Upgrade request was lost (or the snaplen cut it before
    /// it showed the protocol), and what it sent next is WebSocket frames (server frames,
    /// unmasked, chaining exactly): it switched. The extensions are unknown (RSV bits and
    /// compression are judged leniently), and what the client sent meanwhile is decoded
    /// as frames.
    fn answered_unseen(&mut self, packet: u64, conns: &mut Vec<Connection>, cfg: &SessionConfig) {
        let request = self.pending.pop_front();
        let held = match std::mem::replace(&mut self.phases[Dir::Client.index()], Phase::Opaque) {
            Phase::AwaitUpgrade(held, _) => held,
            _ => Vec::new(),
        };
        let unknown = Negotiated {
            deflate: None,
            other_extension: false,
            unknown: true,
        };
        match request.and_then(|r| Some((r.upgrade?, r.answer?))) {
            Some((upgrade, answer)) => {
                // Both heads were cut before they named the protocol.
                self.mode = Mode::WebSocket;
                if self.conn.is_none() {
                    let conn = self.new_connection();
                    self.push_connection(conn, conns);
                }
                let request_cut = upgrade.cut;
                let hs = handshake::build(upgrade, Some(answer), !held.is_empty());
                let Some(c) = self.conn else { return };
                conns[c].warning(
                    Warning::Truncated,
                    None,
                    None,
                    format!("the snaplen cut the request and the 101 before they named the protocol; the frames the server sends from packet {packet} on show it switched to WebSocket"),
                );
                conns[c].handshake = Some(hs);
                self.start_frames(unknown, unknown, cfg.limits);
                self.head_cut = [request_cut, true];
                self.frames_after_cut_heads(conns, c);
            }
            None => {
                if let Some(c) = self.conn {
                    conns[c].warning(
                        Warning::TcpGap,
                        Some(Dir::Server),
                        None,
                        format!("the server's answer to the Upgrade was not captured; the frames it sends from packet {packet} on show it switched to WebSocket: the extensions it accepted are unknown"),
                    );
                }
                self.start_frames(unknown, unknown, cfg.limits);
                if self.head_cut[Dir::Client.index()]
                    && let Some(c) = self.conn
                {
                    self.frames_after_cut_heads(conns, c);
                }
            }
        }
        self.replay_early(held, conns, cfg);
    }

    /// The snaplen cut a head of `dir` (`packet` of time `ts`) being collected: its
    /// whole lines are taken for what they show (a cut Upgrade request and its 101 make
    /// a WebSocket connection whose handshake is not fully captured). False when
    /// nothing was being collected or the lines are not a head; the gap is then handled
    /// as any other.
    pub(super) fn cut_head(
        &mut self,
        dir: Dir,
        packet: u64,
        ts: Timestamp,
        conns: &mut Vec<Connection>,
        cfg: &SessionConfig,
    ) -> bool {
        if !matches!(self.mode, Mode::Http | Mode::WebSocket) {
            return false;
        }
        let Phase::Head(buf) = &self.phases[dir.index()] else {
            return false;
        };
        let parse = match dir {
            Dir::Client => parse_request,
            Dir::Server => parse_response,
        };
        let Some(mut head) = parse_cut(buf, parse) else {
            return false;
        };
        head.packet = packet;
        head.ts = ts;
        match dir {
            Dir::Client => self.request(head, conns),
            Dir::Server => self.response(head, conns, cfg),
        }
        true
    }

    /// Frames follow a head the snaplen cut (by [`Session::head_cut`]): where the head
    /// ended is not in the capture, so the frames of that direction are decoded from
    /// the first packet that starts with a confirmed header.
    fn frames_after_cut_heads(&mut self, conns: &mut [Connection], c: usize) {
        for dir in [Dir::Client, Dir::Server] {
            if !self.head_cut[dir.index()] {
                continue;
            }
            if let Some(d) = self.decoders[dir.index()].as_mut() {
                d.start_unaligned();
            }
            let who = match dir {
                Dir::Client => "Upgrade request",
                Dir::Server => "101 response",
            };
            conns[c].warning(
                Warning::Truncated,
                Some(dir),
                None,
                format!("the snaplen cut the {who}: the checks it cannot show are not judged, and this direction's frames are decoded from the first packet that starts with a frame confirmed by where it ends"),
            );
        }
    }
}

/// A request cut by the snaplen that already shows a WebSocket header (`Sec-WebSocket-*`),
/// a GET: an Upgrade request, though its `Upgrade` header may not show.
fn shows_websocket_headers(head: &HttpHead) -> bool {
    head.method() == Some("GET")
        && head.headers.iter().any(|(name, _)| {
            name.len() > 14 && name.as_bytes()[..14].eq_ignore_ascii_case(b"sec-websocket-")
        })
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
    parse: fn(&[u8]) -> Result<Option<HttpHead>, HeadError>,
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
