//! The TCP reassembler on arbitrary segment sequences: 7-byte records (seq offset,
//! length, flags) cut from the input, with the payload taken from the input too.
//! Besides not panicking, it must never deliver more bytes than the stream could hold.
#![no_main]
use wsscope::source::Timestamp;
use wsscope::tcp::{Reassembler, StreamEvent};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut r = Reassembler::new(4096);
    let mut delivered = 0u64;
    let mut highest_end = 0u64;
    let mut sink = |ev: StreamEvent<'_>| match ev {
        StreamEvent::Data { bytes, .. } => delivered += bytes.len() as u64,
        StreamEvent::Gap { len, .. } => delivered += len,
        StreamEvent::RetransmissionDiffers { .. } | StreamEvent::OutOfWindow { .. } => {}
    };
    let isn = 0xffff_ff00u32;
    r.segment(isn, true, false, &[], 0, 0, Timestamp::default(), &mut sink);
    for (i, rec) in data.chunks(7).enumerate() {
        if rec.len() < 7 {
            break;
        }
        let off = u32::from(u16::from_le_bytes([rec[0], rec[1]]));
        let len = usize::from(rec[2] % 64);
        let flags = rec[3];
        let missing = u32::from(rec[4] % 4);
        let payload = vec![rec[5]; len];
        let seq = isn.wrapping_add(1).wrapping_add(off);
        highest_end = highest_end.max(u64::from(off) + len as u64 + u64::from(missing));
        if flags & 1 == 1 {
            r.acked(seq, i as u64, Timestamp::default(), &mut sink);
        } else {
            r.segment(seq, false, flags & 2 == 2, &payload, missing, i as u64, Timestamp::default(), &mut sink);
        }
    }
    r.flush(0, Timestamp::default(), &mut sink);
    assert!(delivered <= highest_end.max(0), "delivered {delivered} > stream end {highest_end}");
});
