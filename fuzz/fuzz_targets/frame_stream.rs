//! Frame parsing, unmasking and message assembly on arbitrary bytes, fed in pieces whose
//! sizes come from the input, in both directions, without and with gaps.
#![no_main]
use wsscope::model::{Connection, Dir};
use wsscope::source::Timestamp;
use wsscope::ws::limits::Limits;
use wsscope::ws::{DirectionDecoder, Negotiated};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else { return };
    let addr = "127.0.0.1:1".parse().expect("static address");
    let mut conn = Connection::new(addr, addr, 0, 0, Timestamp::default());
    let limits = Limits { max_message_kept: 4096, max_frame_kept: 4096, max_decompressed: 1 << 16, ..Limits::default() };
    let dir = if cut & 1 == 0 { Dir::Client } else { Dir::Server };
    let mut d = DirectionDecoder::new(dir, Negotiated::default(), limits);
    let step = usize::from(cut >> 1).max(1);
    for (i, piece) in rest.chunks(step).enumerate() {
        if cut & 0x80 != 0 && i % 5 == 4 {
            d.gap(&mut conn, piece.len() as u64, i % 2 == 0, i as u64);
        } else {
            d.feed(&mut conn, piece, i as u64, Timestamp::default());
        }
    }
    d.finish(&mut conn);
    for m in &conn.messages {
        assert!(m.data.len() as u64 <= m.len);
    }
});
