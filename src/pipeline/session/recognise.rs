//! A flow's first payload decides what it is: an HTTP request (the opener speaks first),
//! or WebSocket frames whose handshake was not captured (recognised by `--port` or by
//! frames that look right for their sender: masked from the client, RFC 6455 §5.1), or
//! something else, not followed further.

use super::{Mode, Session, SessionConfig};
use crate::http::head::looks_like_request;
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
        let unknown = Negotiated {
            deflate: None,
            other_extension: false,
            unknown: true,
        };
        self.start_frames(unknown, unknown, cfg.limits);
        self.push_connection(conn, conns);
    }
}

/// Does a chunk sent by the server look like whole unmasked frames, back to back? A
/// stricter test than one header, since unmasked frames have no tell-tale mask bit.
fn plausible_frames(mut bytes: &[u8]) -> bool {
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
