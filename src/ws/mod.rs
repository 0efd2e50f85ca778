//! RFC 6455 framing: header parsing, masking, message assembly, permessage-deflate
//! (RFC 7692), UTF-8 validation and close frames.
//!
//! One [`DirectionDecoder`] a direction: [`decoder`] (the frame-level state machine:
//! feed, gap, finish) → `message` (fragments, inflate, UTF-8, close) → [`checks`] (the
//! rules, as pure functions). What it finds goes to a [`Sink`]: the model keeps it for a
//! connection; tests keep it in a [`sink::Recording`].

pub mod chain;
pub mod checks;
pub mod close;
pub mod decoder;
pub mod deflate;
pub mod frame;
pub mod limits;
pub mod mask;
mod message;
pub mod record;
pub mod sink;
pub mod utf8;

pub use decoder::DirectionDecoder;
pub use record::{Dir, FrameRecord, MessageKind, MessageRecord};
pub use sink::Sink;

use crate::http::extensions::DeflateParams;

/// What the handshake agreed that matters to framing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// permessage-deflate parameters of *this direction's sender*, if negotiated.
    pub deflate: Option<DeflateParams>,
    /// Some other extension was negotiated (its RSV bits are not judged).
    pub other_extension: bool,
    /// No handshake was seen: RSV1 and masking are judged leniently.
    pub unknown: bool,
}
