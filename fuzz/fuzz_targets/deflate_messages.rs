//! Message assembly with permessage-deflate negotiated (parameters from the first byte)
//! on arbitrary frames: bombs stop at the limit, corrupt streams are violations.
#![no_main]
use wsscope::model::{Connection, Dir};
use wsscope::source::Timestamp;
use wsscope::http::extensions::DeflateParams;
use wsscope::ws::limits::Limits;
use wsscope::ws::{DirectionDecoder, Negotiated};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&p, rest)) = data.split_first() else { return };
    let params = DeflateParams { no_context_takeover: p & 1 == 1, max_window_bits: 8 + (p >> 1) % 8 };
    let negotiated = Negotiated { deflate: Some(params), ..Negotiated::default() };
    let limits = Limits { max_decompressed: 1 << 20, max_message_kept: 1 << 16, ..Limits::default() };
    let addr = "127.0.0.1:1".parse().expect("static address");
    let mut conn = Connection::new(addr, addr, 0, 0, Timestamp::default());
    let mut d = DirectionDecoder::new(Dir::Server, negotiated, limits);
    d.feed(&mut conn, rest, 1, Timestamp::default());
    d.finish(&mut conn);
    for m in &conn.messages {
        assert!(m.len <= (1 << 20) + (1 << 16), "inflated past the limit: {}", m.len);
    }
});
