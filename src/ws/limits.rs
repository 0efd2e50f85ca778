//! Resource limits of the WebSocket decoder: each is a named option with a default, and
//! reaching one is reported as a `limit-reached` warning while decoding goes on.

/// Bounds on what one connection may make the decoder hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message payload kept in memory (its hash and length still cover all of it).
    pub max_message_kept: u64,
    /// Largest part of a frame's wire bytes kept for the hex view.
    pub max_frame_kept: usize,
    /// Largest inflated size of one compressed message (a deflate bomb stops here).
    pub max_decompressed: u64,
    /// Most fragments accepted in one message before it is cut off.
    pub max_fragments: u32,
    /// Largest HTTP head waited for.
    pub max_http_head: usize,
    /// Most bytes buffered out of order per TCP direction.
    pub max_out_of_order: usize,
    /// Most TCP flows tracked at once.
    pub max_flows: usize,
    /// Most bytes buffered across all flows (out-of-order data, retransmission memory,
    /// partial HTTP heads, client data awaiting the handshake's answer). The flow that
    /// pushes the total past it gives up its buffers.
    pub max_buffered_total: usize,
    /// Keep only what text output shows: each frame's first [`PREVIEW_FRAME_BYTES`] and
    /// each message's first [`PREVIEW_MESSAGE_BYTES`] (lengths and hashes still cover
    /// everything, and the cut is not reported). For `summary`, `frames` and `export`,
    /// which never show more; the terminal UI and `explain` keep full payloads.
    pub preview_only: bool,
    /// Compute each message's SHA-256 (the JSON-lines `sha256` field, the TUI's messages
    /// view). Off for `summary` and `frames`, which never show it: hashing is a fifth
    /// of their time.
    pub hash_messages: bool,
    /// Keep data messages' payload bytes at all (up to the limits above). Off for
    /// `summary`, which shows none: lengths, UTF-8 checks and inflation still cover every
    /// byte, and control messages (ping payloads, close reasons) are always kept.
    pub keep_message_data: bool,
}

/// Frame bytes kept in preview-only mode: the header and enough payload for a preview.
pub const PREVIEW_FRAME_BYTES: usize = 256;
/// Message bytes kept in preview-only mode: the text the JSON-lines export shows.
pub const PREVIEW_MESSAGE_BYTES: u64 = 4096;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_kept: 16 << 20,
            max_frame_kept: 1 << 20,
            max_decompressed: 64 << 20,
            max_fragments: 100_000,
            max_http_head: 64 << 10,
            max_out_of_order: 4 << 20,
            max_flows: 100_000,
            max_buffered_total: 256 << 20,
            preview_only: false,
            hash_messages: true,
            keep_message_data: true,
        }
    }
}
