//! What the WebSocket decoder makes of the bytes it is fed: one record per frame and per
//! message, reported to a [`super::Sink`] as they are found and completed there. The
//! model keeps them ([`crate::model::Connection`]); they are defined here, beside the
//! decoder that fills them, so the decoder needs nothing downstream of it.

use smallvec::SmallVec;

use super::frame::FrameHeader;
use crate::source::Timestamp;

/// Which peer sent something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    /// The WebSocket client (sent the Upgrade request; masks its frames).
    Client,
    /// The WebSocket server.
    Server,
}

impl Dir {
    /// `"client"` or `"server"`, as in the JSON-lines contract.
    pub fn name(self) -> &'static str {
        match self {
            Dir::Client => "client",
            Dir::Server => "server",
        }
    }

    /// Index for per-direction arrays: client 0, server 1.
    pub fn index(self) -> usize {
        match self {
            Dir::Client => 0,
            Dir::Server => 1,
        }
    }

    /// The other peer.
    pub fn other(self) -> Dir {
        match self {
            Dir::Client => Dir::Server,
            Dir::Server => Dir::Client,
        }
    }
}

/// Why a frame's payload is not all in its record: the first cause seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lack {
    /// The snaplen cut the packets that carried it: the bytes were on the wire.
    Snaplen,
    /// The capture lost packets that carried it.
    Lost,
    /// The capture (or the connection) ends inside it.
    StreamEnd,
    /// Its 64-bit length has the top bit set (RFC 6455 §5.2): it cannot be followed.
    BadLength,
    /// Only its first bytes were kept (`--max-frame-kept`); its length and hash cover all.
    KeepLimit,
}

impl Lack {
    /// The cause in a sentence, for a frame that lacks `missing` payload bytes.
    pub fn sentence(self, missing: u64) -> String {
        match self {
            Lack::Snaplen => format!("the snaplen cut {missing} of its payload bytes: they were sent, the capture did not keep them"),
            Lack::Lost => format!("the capture lost {missing} of its payload bytes (packets missing from the capture)"),
            Lack::StreamEnd => format!("the capture ends {missing} payload bytes before the frame does"),
            Lack::BadLength => "its 64-bit length has the top bit set and cannot be followed".into(),
            Lack::KeepLimit => "only its first bytes are kept (--max-frame-kept); its length and the message's hash cover all of it".into(),
        }
    }
}

/// One WebSocket frame as seen on the wire.
#[derive(Clone, Debug)]
pub struct FrameRecord {
    /// 1-based index within the connection (both directions, in capture order).
    pub index: u32,
    /// Who sent it.
    pub dir: Dir,
    /// Time of the packet that carried its first byte.
    pub ts: Timestamp,
    /// The parsed header.
    pub header: FrameHeader,
    /// Capture packet numbers that carried its bytes (most frames fit in one or two
    /// packets: kept inline, without an allocation per frame).
    pub packets: SmallVec<[u64; 2]>,
    /// Offset of the frame's first byte in its direction's TCP stream (after the handshake bytes).
    pub stream_offset: u64,
    /// The frame's bytes as on the wire (header + masked payload), up to the keep limit.
    pub raw: Vec<u8>,
    /// Every payload byte is in `raw` (no capture gap, no keep limit hit).
    pub complete: bool,
    /// Payload bytes the capture holds (all `header.payload_len` of them unless a gap,
    /// the snaplen or the capture's end cut the frame): what figures count.
    pub seen: u64,
    /// Ordinal (0-based, in the order their first frames arrived, counting records that
    /// have left memory) among the connection's messages of the one this frame belongs
    /// to (see [`crate::model::Connection::message_of`]).
    pub message: Option<usize>,
    /// The decoder is past the frame's last byte (or gave up on it): no more packets or
    /// bytes will be added. Live output writes a frame only once this is set.
    pub ended: bool,
    /// Why not every payload byte is in `raw`, when `complete` is false.
    pub lacks: Option<Lack>,
}

impl FrameRecord {
    /// An empty text frame record for unit tests: `index`, sent by `dir`, in `message`.
    #[cfg(test)]
    pub(crate) fn for_test(index: u32, dir: Dir, message: Option<usize>, ended: bool) -> Self {
        let header = crate::ws::frame::parse_frame_header(&[0x81, 0x00])
            .map(|(_, h)| h)
            .unwrap_or_else(|e| panic!("{e:?}"));
        FrameRecord {
            index,
            dir,
            ts: Timestamp::default(),
            header,
            packets: SmallVec::new(),
            stream_offset: 0,
            raw: Vec::new(),
            complete: true,
            seen: 0,
            message,
            ended,
            lacks: None,
        }
    }

    /// The payload as sent (masked if the frame is masked), as far as kept.
    pub fn wire_payload(&self) -> &[u8] {
        self.raw
            .get(usize::from(self.header.header_len)..)
            .unwrap_or(&[])
    }

    /// The first `n` payload bytes unmasked (as far as kept).
    pub fn unmasked_prefix(&self, n: usize) -> Vec<u8> {
        let wire = self.wire_payload();
        let mut p = wire.get(..n.min(wire.len())).unwrap_or(&[]).to_vec();
        if let Some(key) = self.header.mask {
            crate::ws::mask::apply_mask(&mut p, key, 0);
        }
        p
    }

    /// The payload unmasked, as far as kept.
    pub fn unmasked_payload(&self) -> Vec<u8> {
        let mut p = self.wire_payload().to_vec();
        if let Some(key) = self.header.mask {
            crate::ws::mask::apply_mask(&mut p, key, 0);
        }
        p
    }
}

/// Kind of message (the opcode of its first frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Binary data.
    Binary,
    /// Ping control frame.
    Ping,
    /// Pong control frame.
    Pong,
    /// Close control frame.
    Close,
}

impl MessageKind {
    /// Name used in exports.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Binary => "binary",
            MessageKind::Ping => "ping",
            MessageKind::Pong => "pong",
            MessageKind::Close => "close",
        }
    }
}

/// One message: a data message assembled from its fragments, or a control frame.
#[derive(Clone, Debug)]
pub struct MessageRecord {
    /// Who sent it.
    pub dir: Dir,
    /// Time of its first frame.
    pub ts: Timestamp,
    /// Time of its last frame.
    pub end_ts: Timestamp,
    /// Its kind.
    pub kind: MessageKind,
    /// Length after unmasking and decompression (when `len_unknown`, what was inflated
    /// before compressed bytes went missing).
    pub len: u64,
    /// The length after decompression is unknown: compressed bytes of the message are
    /// not in the capture (cut by the snaplen or lost), so what they inflate to is not.
    pub len_unknown: bool,
    /// Bytes on the wire (payload only, before decompression).
    pub wire_len: u64,
    /// SHA-256 of the payload, `None` when the capture lacks some of its bytes.
    pub sha256: Option<String>,
    /// It was compressed with permessage-deflate.
    pub compressed: bool,
    /// Indices (1-based) of the frames that carried it (most messages are one or two
    /// frames: kept inline, without an allocation per message).
    pub frames: SmallVec<[u32; 2]>,
    /// The payload (unmasked, decompressed), up to the keep limit.
    pub data: Vec<u8>,
    /// Every payload byte was in the capture and decoded (else `sha256` is `None`).
    pub complete: bool,
    /// `data` holds only the first bytes (the keep limit was reached); length and hash cover all.
    pub data_cut: bool,
    /// Finished (its last fragment was seen).
    pub finished: bool,
    /// No more bytes will be added: finished, or given up (a gap lost its frame
    /// boundaries, a new message replaced it, its fragments passed the limit, the stream
    /// ended). Live output writes a message only once this is set.
    pub ended: bool,
    /// For close messages: the status code.
    pub close_code: Option<u16>,
    /// For close messages: the reason.
    pub close_reason: Option<String>,
}

impl MessageRecord {
    /// Its length for display: `?` when it is unknown ([`MessageRecord::len_unknown`]).
    pub fn len_label(&self) -> String {
        if self.len_unknown {
            "?".into()
        } else {
            self.len.to_string()
        }
    }

    /// The payload as text when it is a text message (lossy where invalid).
    pub fn text(&self) -> Option<String> {
        (self.kind == MessageKind::Text).then(|| String::from_utf8_lossy(&self.data).into_owned())
    }
}
