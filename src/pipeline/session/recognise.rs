//! A flow's first payload decides what it is: an HTTP request (the opener speaks first),
//! a 101 whose request was lost, WebSocket frames whose handshake was not captured
//! (by `--port`, or, for a flow seen from its middle, on the evidence of frames that
//! chain exactly both ways: [`super::probe`]), or something else, not followed further.

use super::probe::{HeldKind, Probe, Verdict};
use super::{Mode, Phase, Session, SessionConfig};
use crate::http::HttpHead;
use crate::http::extensions::{parse_agreement, parse_extensions};
use crate::http::head::{looks_like_request, parse_response};
use crate::model::{Connection, Dir};
use crate::rules::Warning;
use crate::source::Timestamp;
use crate::tcp::Side;
use crate::ws::Negotiated;
use crate::ws::checks::plausible_header;
use crate::ws::frame::parse_frame_header;

impl Session {
    /// First payload of the flow, sent by `side`: HTTP, WebSocket without a handshake,
    /// or something else.
    pub(super) fn decide(
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
        if side == Side::Accepter
            && port_side.is_none()
            && let Ok(Some(head)) = parse_response(bytes)
            && head.status() == Some(101)
            && head.has_token("upgrade", "websocket")
        {
            return self.upgrade_without_request(head, packet, ts, conns, cfg);
        }
        let Some(server_side) = port_side else {
            // RFC 6455 §4: a flow whose start is in the capture is WebSocket only after
            // an Upgrade; one seen from its middle, only on the evidence of its frames.
            let from_middle = !self.opened || self.start_lost;
            if from_middle && cfg.guess {
                self.mode = Mode::Probing;
                self.probe = Some(Box::new(Probe::new()));
            } else {
                self.mode = Mode::Other;
            }
            return;
        };
        self.client_side = server_side.other();
        self.midstream_connection(
            conns,
            cfg,
            ts,
            format!("no handshake captured (first payload at packet {packet}); taken for WebSocket by --port: extensions and subprotocol are unknown"),
        );
    }

    /// The flow becomes a WebSocket connection whose handshake was not captured (`why`
    /// says how it was recognised): both directions carry frames, decoded without knowing
    /// what was negotiated.
    fn midstream_connection(
        &mut self,
        conns: &mut Vec<Connection>,
        cfg: &SessionConfig,
        ts: Timestamp,
        why: String,
    ) {
        self.mode = Mode::WebSocket;
        let mut conn = self.new_connection();
        conn.midstream = true;
        conn.warning(Warning::Midstream, None, None, why);
        conn.last_ts = ts;
        let unknown = Negotiated {
            deflate: None,
            other_extension: false,
            unknown: true,
        };
        self.start_frames(unknown, unknown, cfg.limits);
        self.push_connection(conn, conns);
    }

    /// The next segment of a flow being probed ([`Mode::Probing`]): once its frames show
    /// it is WebSocket, the connection is made and what was held is decoded in capture
    /// order; without such evidence, it is not followed.
    pub(super) fn probe_segment(
        &mut self,
        side: Side,
        bytes: &[u8],
        packet: u64,
        ts: Timestamp,
        conns: &mut Vec<Connection>,
        cfg: &SessionConfig,
    ) {
        let Some(probe) = self.probe.as_mut() else {
            self.mode = Mode::Other;
            return;
        };
        match probe.segment(side, bytes, packet, ts) {
            Verdict::Open => {}
            Verdict::NotWebSocket => {
                self.probe = None;
                self.mode = Mode::Other;
            }
            Verdict::WebSocket { client } => {
                let Some(probe) = self.probe.take() else {
                    return;
                };
                self.client_side = client;
                let held = probe.into_parts();
                let first = held.segments.first().map_or(packet, |h| h.packet);
                self.midstream_connection(
                    conns,
                    cfg,
                    ts,
                    format!("no handshake captured; recognised as WebSocket by its frames, which chain exactly in both directions from packet {first} on (the client's masked, the server's not, RFC 6455 §5.1): extensions and subprotocol are unknown"),
                );
                let Some(c) = self.conn else { return };
                for side in [Side::Opener, Side::Accepter] {
                    let skipped = held.skipped[side.index()];
                    if skipped > 0 {
                        let dir = self.dir_of(side);
                        conns[c].warning(
                            Warning::Midstream,
                            Some(dir),
                            None,
                            format!("the first {skipped} bytes of this direction in the capture are not decoded: no frame was found to start there"),
                        );
                    }
                }
                for h in held.segments {
                    let dir = self.dir_of(h.side);
                    match h.what {
                        HeldKind::Bytes(bytes, ts) => {
                            self.bytes_of(dir, &bytes, h.packet, ts, conns, cfg);
                        }
                        HeldKind::Gap(len, reason) => {
                            self.gap(dir, len, reason, h.packet, conns, cfg);
                        }
                    }
                }
            }
        }
    }
}

impl Session {
    /// The flow's first payload is the server's 101 to an Upgrade: the request was lost
    /// from the capture (its bytes are missing from the client's stream). The 101 shows
    /// the upgrade and the extensions the server accepted, which the frames are decoded
    /// with; the connection counts as one without a (whole) handshake.
    fn upgrade_without_request(
        &mut self,
        head: HttpHead,
        packet: u64,
        ts: Timestamp,
        conns: &mut Vec<Connection>,
        cfg: &SessionConfig,
    ) {
        self.client_side = Side::Opener;
        self.mode = Mode::WebSocket;
        let mut conn = self.new_connection();
        conn.midstream = true;
        conn.warning(
            Warning::Midstream,
            None,
            None,
            format!("the Upgrade request was not captured (the client's first bytes are missing); the server's 101 at packet {packet} shows the upgrade and the extensions it accepted"),
        );
        conn.last_ts = ts;
        let (client, server) = accepted_extensions(&head);
        self.start_frames(client, server, cfg.limits);
        // The client's lost bytes held the request, and perhaps frames after it.
        if let Some(d) = self.decoders[Dir::Client.index()].as_mut() {
            d.start_after_loss();
        }
        self.phases[Dir::Server.index()] = Phase::Skip(head.len);
        self.push_connection(conn, conns);
    }
}

/// What a 101 response's Sec-WebSocket-Extensions agrees for each direction (RFC 7692
/// §7.1); unknown when it cannot be read.
fn accepted_extensions(head: &HttpHead) -> (Negotiated, Negotiated) {
    let unknown = Negotiated {
        deflate: None,
        other_extension: false,
        unknown: true,
    };
    let extensions = parse_extensions(&head.header("sec-websocket-extensions").unwrap_or_default());
    let other_extension = extensions.iter().any(|e| e.name != "permessage-deflate");
    let deflate = match extensions.iter().find(|e| e.name == "permessage-deflate") {
        Some(pmd) => match parse_agreement(&pmd.params) {
            Ok(agreement) => Some(agreement),
            Err(_) => return (unknown, unknown),
        },
        None => None,
    };
    let for_dir = |params| Negotiated {
        deflate: params,
        other_extension,
        unknown: false,
    };
    (
        for_dir(deflate.map(|d| d.client)),
        for_dir(deflate.map(|d| d.server)),
    )
}

/// Does a chunk sent by the server look like whole unmasked frames, back to back? A
/// stricter test than one header, since unmasked frames have no tell-tale mask bit.
pub(super) fn plausible_frames(mut bytes: &[u8]) -> bool {
    let mut frames = 0;
    while !bytes.is_empty() {
        if !plausible_header(bytes, Dir::Server) {
            return false;
        }
        let Ok((rest, h)) = parse_frame_header(bytes) else {
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
