//! wsscope: see the WebSocket protocol.
//!
//! Reads pcap/pcapng captures (or, with the `live` feature, a live interface),
//! reassembles TCP, decodes the HTTP/1.1 Upgrade handshake (RFC 6455 §4) and every frame
//! that follows (§5), permessage-deflate (RFC 7692), and checks every rule on the way.
//!
//! Data flows one way: [`source`] → [`decode`] → [`tcp`] → [`http`] → [`ws`] →
//! [`model`] → [`export`] and [`tui`]; [`pipeline`] drives it (a session per TCP flow
//! runs its HTTP and WebSocket stages), and [`command`] runs each command.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod analysis;
pub mod command;
pub mod decode;
pub mod export;
pub mod http;
pub mod loader;
pub mod model;
pub mod pipeline;
pub mod reread;
pub mod rules;
pub mod source;
pub mod tcp;
pub mod tls;
pub mod tui;
pub mod ws;

pub use model::{Capture, Connection, Dir, Handout};
pub use pipeline::session::SessionConfig;
pub use pipeline::{
    Pipeline, StreamError, decode_reader, decode_reader_sharded, decode_reader_streaming,
    decode_reader_streaming_with, default_shards,
};
