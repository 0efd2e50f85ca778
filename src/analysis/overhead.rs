//! Overhead of a connection: payload bytes against WebSocket framing against TCP/IP
//! headers, and the same messages estimated as HTTP polling and long-polling using the
//! size of this connection's own HTTP request and response heads — the classic argument
//! for WebSocket (RFC 6455 §1.1), quantified on the user's capture.

use crate::model::{Connection, Dir};

use crate::model::tally::Tally;

/// Head sizes assumed when the capture has no handshake (a small real-world request and response).
const DEFAULT_REQUEST_HEAD: u64 = 300;
const DEFAULT_RESPONSE_HEAD: u64 = 150;
/// Interval of the plain-polling estimate.
pub const POLL_INTERVAL_SECS: f64 = 1.0;

/// Byte accounting of one connection, per direction (client, server) where it applies.
#[derive(Clone, Debug, PartialEq)]
pub struct Overhead {
    /// Data messages per direction.
    pub messages: [u64; 2],
    /// Frame payload bytes per direction, as on the wire (compressed where it was).
    pub payload: [u64; 2],
    /// Frame header bytes per direction (2–14 bytes a frame).
    pub framing: [u64; 2],
    /// HTTP bytes of the opening handshake per direction.
    pub handshake: [u64; 2],
    /// Link, IP and TCP header bytes per direction.
    pub tcpip: [u64; 2],
    /// Request and response head sizes used for the HTTP estimates.
    pub http_heads: (u64, u64),
    /// Seconds from the first to the last packet.
    pub duration: f64,
    /// Estimated HTTP bytes for the same data with polling every [`POLL_INTERVAL_SECS`].
    pub polling_bytes: u64,
    /// Estimated HTTP bytes with long-polling (one request/response per message).
    pub long_polling_bytes: u64,
}

impl Overhead {
    /// Everything WebSocket spent above TCP: handshake, framing and payload.
    pub fn websocket_bytes(&self) -> u64 {
        self.handshake
            .iter()
            .chain(&self.framing)
            .chain(&self.payload)
            .sum()
    }

    /// Payload over all bytes on the wire (incl. TCP/IP headers), 0–1.
    pub fn efficiency(&self) -> f64 {
        let all = self.websocket_bytes() + self.tcpip.iter().sum::<u64>();
        if all == 0 {
            0.0
        } else {
            self.payload.iter().sum::<u64>() as f64 / all as f64
        }
    }
}

/// Computes the overhead of `conn`.
pub fn overhead(conn: &Connection) -> Overhead {
    overhead_with(conn, &conn.tally(f64::INFINITY))
}

/// Computes the overhead of `conn` from its `tally` ([`Connection::tally`]), for callers
/// that already have it.
pub fn overhead_with(conn: &Connection, tally: &Tally) -> Overhead {
    let mut o = Overhead {
        messages: [0; 2],
        payload: [0; 2],
        framing: [0; 2],
        handshake: [0; 2],
        tcpip: conn.header_bytes,
        http_heads: (DEFAULT_REQUEST_HEAD, DEFAULT_RESPONSE_HEAD),
        duration: conn.last_ts.seconds_since(conn.first_ts).max(0.0),
        polling_bytes: 0,
        long_polling_bytes: 0,
    };
    o.payload = tally.payload;
    o.framing = tally.framing;
    o.messages = [
        tally.data_messages(Dir::Client),
        tally.data_messages(Dir::Server),
    ];
    if let Some(h) = &conn.handshake {
        o.handshake[0] = h.request.len as u64;
        o.handshake[1] = h.response.as_ref().map_or(0, |r| r.len as u64);
        // A head the snaplen cut is longer than what shows: the usual size stands in.
        o.http_heads = (
            if h.request.cut {
                DEFAULT_REQUEST_HEAD
            } else {
                h.request.len as u64
            },
            h.response
                .as_ref()
                .filter(|r| !r.cut)
                .map_or(DEFAULT_RESPONSE_HEAD, |r| r.len as u64),
        );
    }
    let (req, resp) = o.http_heads;
    let cycle = req + resp;
    let data = tally.data_bytes[0].saturating_add(tally.data_bytes[1]);
    let (to_server, to_client) = (
        o.messages[Dir::Client.index()],
        o.messages[Dir::Server.index()],
    );
    // Polling: a request every interval fetches whatever the server has; each client
    // message is a request of its own.
    let polls = (o.duration / POLL_INTERVAL_SECS).ceil() as u64 + 1;
    o.polling_bytes = (polls + to_server) * cycle + data;
    // Long-polling: every message in either direction costs one request/response cycle.
    o.long_polling_bytes = (to_server + to_client) * cycle + data;
    o
}
