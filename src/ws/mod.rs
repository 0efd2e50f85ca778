//! RFC 6455 framing: header parsing, masking, message assembly, permessage-deflate
//! (RFC 7692), UTF-8 validation and close frames.

pub mod close;
pub mod deflate;
pub mod frame;
pub mod limits;
pub mod mask;
pub mod stream;
pub mod utf8;
