//! HTTP/1.1 on a connection before (and instead of) WebSocket: request and response
//! heads, body skipping on keep-alive connections, and the opening handshake checks.

pub mod body;
pub mod extensions;
pub mod handshake;
pub mod head;

pub use handshake::{AcceptComputation, Check, Handshake};
pub use head::HttpHead;
