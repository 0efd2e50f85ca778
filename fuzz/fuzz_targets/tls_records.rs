//! The TLS stage on arbitrary bytes: records and handshake messages of both sides, cut
//! into segments by the input, with secrets for the ClientHello random the input may
//! carry (TLS 1.3 handshake and traffic secrets, a TLS 1.2 master secret, all from the
//! input), so decryption paths are reached with random keys. Besides not panicking, no
//! plaintext may come out of a record whose tag did not verify: every byte handed on is
//! counted against the records that verified.
#![no_main]
use std::sync::Arc;

use wsscope::source::Timestamp;
use wsscope::tcp::Side;
use wsscope::tls::{KeyLog, TlsEvent, TlsFlow};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.len() < 80 {
        return;
    }
    let (secret, rest) = data.split_at(48);
    let (random, rest) = rest.split_at(32);
    let hex = hex::encode(random);
    let mut keys = KeyLog::default();
    let s32 = hex::encode(&secret[..32]);
    keys.add(
        &format!(
            "CLIENT_RANDOM {hex} {}\nCLIENT_HANDSHAKE_TRAFFIC_SECRET {hex} {s32}\nSERVER_HANDSHAKE_TRAFFIC_SECRET {hex} {s32}\nCLIENT_TRAFFIC_SECRET_0 {hex} {s32}\nSERVER_TRAFFIC_SECRET_0 {hex} {s32}\n",
            hex::encode(secret)
        ),
        "fuzz",
    );
    let mut flow = TlsFlow::new(Arc::new(keys));
    let mut handed = 0usize;
    let mut at = 0usize;
    let mut packet = 0u64;
    while at < rest.len() {
        let control = rest[at];
        let len = usize::from(control & 0x7f).min(rest.len() - at - 1);
        let side = if control & 0x80 == 0 { Side::Opener } else { Side::Accepter };
        let chunk = &rest[at + 1..at + 1 + len];
        at += 1 + len;
        packet += 1;
        let out = if len == 0 {
            flow.gap(side, 1, packet, Timestamp::default())
        } else {
            flow.data(side, chunk, packet, Timestamp::default())
        };
        for ev in out {
            if let TlsEvent::Data(_, bytes, _, _) = ev {
                handed += bytes.len();
            }
        }
        assert!(flow.held_bytes() <= 2 * (1 << 18) + 2 * (1 << 15) + 256);
    }
    let _ = flow.finish();
    // Random bytes almost never verify: any plaintext needs a verified record.
    assert!(handed == 0 || flow.info.records.iter().sum::<u64>() > 0);
});
