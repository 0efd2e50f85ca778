//! Differential tests of the RFC 6455 §5.2 frame header parser: `parse_frame_header`
//! (nom, streaming) against a plain byte-indexing reference written here from the RFC's
//! diagram, on random bytes and on headers built from random fields; and masking
//! (§5.3) applied twice is the identity.

use proptest::prelude::*;
use wsscope::ws::frame::{LengthForm, parse_frame_header};
use wsscope::ws::mask::apply_mask;

/// Every field of a header, as plain values.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fields {
    fin: bool,
    rsv1: bool,
    rsv2: bool,
    rsv3: bool,
    /// The 4 opcode bits.
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload_len: u64,
    /// 7, 16 or 64: which length encoding was used.
    length_bits: u8,
    header_len: usize,
    /// RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
    non_minimal: bool,
    /// RFC 6455 §5.2: "the most significant bit MUST be 0".
    msb_set: bool,
}

/// The reference: `None` when `b` is too short to hold the whole header.
fn reference(b: &[u8]) -> Option<Fields> {
    if b.len() < 2 {
        return None;
    }
    let masked = b[1] & 0x80 != 0;
    let (payload_len, length_bits, mut pos) = match b[1] & 0x7f {
        126 => {
            if b.len() < 4 {
                return None;
            }
            ((u64::from(b[2]) << 8) | u64::from(b[3]), 16, 4)
        }
        127 => {
            if b.len() < 10 {
                return None;
            }
            let mut v = 0u64;
            for byte in &b[2..10] {
                v = (v << 8) | u64::from(*byte);
            }
            (v, 64, 10)
        }
        n => (u64::from(n), 7, 2),
    };
    let mask = if masked {
        if b.len() < pos + 4 {
            return None;
        }
        let key = [b[pos], b[pos + 1], b[pos + 2], b[pos + 3]];
        pos += 4;
        Some(key)
    } else {
        None
    };
    Some(Fields {
        fin: b[0] & 0x80 != 0,
        rsv1: b[0] & 0x40 != 0,
        rsv2: b[0] & 0x20 != 0,
        rsv3: b[0] & 0x10 != 0,
        opcode: b[0] & 0x0f,
        mask,
        payload_len,
        length_bits,
        header_len: pos,
        non_minimal: (length_bits == 16 && payload_len < 126)
            || (length_bits == 64 && payload_len < 65536),
        msb_set: length_bits == 64 && payload_len >= 1 << 63,
    })
}

/// wsscope's parser in the same terms: `Ok(None)` for "incomplete", `Ok(Some((fields,
/// rest)))` for a header, `Err` for anything else (which must never happen).
fn under_test(b: &[u8]) -> Result<Option<(Fields, &[u8])>, String> {
    match parse_frame_header(b) {
        Ok((rest, h)) => {
            let length_bits = match h.length_form {
                LengthForm::Short => 7,
                LengthForm::Extended16 => 16,
                LengthForm::Extended64 => 64,
            };
            let fields = Fields {
                fin: h.fin,
                rsv1: h.rsv1,
                rsv2: h.rsv2,
                rsv3: h.rsv3,
                opcode: h.opcode.bits(),
                mask: h.mask,
                payload_len: h.payload_len,
                length_bits,
                header_len: usize::from(h.header_len),
                non_minimal: h.non_minimal_length(),
                msb_set: h.length_msb_set(),
            };
            Ok(Some((fields, rest)))
        }
        Err(nom::Err::Incomplete(_)) => Ok(None),
        Err(e) => Err(format!("{e:?}")),
    }
}

/// Checks that both parsers agree on `b`, and that the rest starts right after the header.
fn agree(b: &[u8]) -> Result<(), TestCaseError> {
    let expected = reference(b);
    let got = under_test(b).map_err(|e| {
        TestCaseError::fail(format!("input {b:02x?}: error other than Incomplete: {e}"))
    })?;
    match (expected, got) {
        (None, None) => {}
        (Some(want), Some((have, rest))) => {
            prop_assert_eq!(&have, &want, "input {:02x?}", b);
            prop_assert_eq!(rest, &b[want.header_len..], "rest of input {:02x?}", b);
        }
        (want, have) => {
            return Err(TestCaseError::fail(format!(
                "input {b:02x?}: reference {want:?}, parse_frame_header {:?}",
                have.map(|(f, _)| f)
            )));
        }
    }
    Ok(())
}

/// Bytes whose second byte is often one of the interesting length markers (126, 127,
/// with or without MASK), so that long headers and their prefixes are common.
fn header_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u8>(),
        prop_oneof![
            any::<u8>(),
            Just(126u8),
            Just(127u8),
            Just(0xfeu8),
            Just(0xffu8),
        ],
        proptest::collection::vec(any::<u8>(), 0..18),
        0usize..20,
    )
        .prop_map(|(b0, b1, tail, cut)| {
            let mut v = vec![b0, b1];
            v.extend(tail);
            v.truncate(cut);
            v
        })
}

/// The length field of a header to build: (encoding, value). The 16- and 64-bit
/// encodings may carry small values too (non-minimal, still parseable).
fn length() -> impl Strategy<Value = (u8, u64)> {
    prop_oneof![
        (0u64..=125).prop_map(|l| (7u8, l)),
        any::<u16>().prop_map(|l| (16u8, u64::from(l))),
        any::<u64>().prop_map(|l| (64u8, l)),
        (0u64..=0xffff).prop_map(|l| (64u8, l)),
        Just((64u8, 1u64 << 63)),
        Just((64u8, u64::MAX)),
    ]
}

/// Writes a header from its fields, the way RFC 6455 §5.2 lays it out.
fn build(
    fin: bool,
    rsv: [bool; 3],
    opcode: u8,
    mask: Option<[u8; 4]>,
    (bits, len): (u8, u64),
) -> Vec<u8> {
    let mut b0 = opcode & 0x0f;
    for (bit, set) in [(0x80, fin), (0x40, rsv[0]), (0x20, rsv[1]), (0x10, rsv[2])] {
        if set {
            b0 |= bit;
        }
    }
    let m = if mask.is_some() { 0x80 } else { 0 };
    let mut out = vec![b0];
    match bits {
        7 => out.push(m | len as u8),
        16 => {
            out.push(m | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if let Some(k) = mask {
        out.extend_from_slice(&k);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Uniformly random bytes: mostly short headers, often incomplete ones.
    #[test]
    fn random_bytes_agree(b in proptest::collection::vec(any::<u8>(), 0..20)) {
        agree(&b)?;
    }

    /// Random bytes shaped like the start of a header with a 16- or 64-bit length.
    #[test]
    fn header_like_bytes_agree(b in header_like_bytes()) {
        agree(&b)?;
    }

    /// A header built from random fields parses back to exactly those fields, the rest of
    /// the input is left alone, and every strict prefix of the header is "incomplete".
    #[test]
    fn built_headers_give_back_their_fields(
        fin in any::<bool>(),
        rsv in any::<[bool; 3]>(),
        opcode in 0u8..16,
        mask in proptest::option::of(any::<[u8; 4]>()),
        len in length(),
        tail in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        let header = build(fin, rsv, opcode, mask, len);
        let mut input = header.clone();
        input.extend_from_slice(&tail);
        let (bits, payload_len) = len;
        let header_len = header.len();
        prop_assert_eq!(
            header_len,
            2 + match bits { 7 => 0, 16 => 2, _ => 8 } + if mask.is_some() { 4 } else { 0 }
        );
        let want = Fields {
            fin,
            rsv1: rsv[0],
            rsv2: rsv[1],
            rsv3: rsv[2],
            opcode,
            mask,
            payload_len,
            length_bits: bits,
            header_len,
            non_minimal: (bits == 16 && payload_len < 126) || (bits == 64 && payload_len < 65536),
            msb_set: bits == 64 && payload_len >> 63 == 1,
        };
        prop_assert_eq!(reference(&input), Some(want.clone()), "the reference itself");
        match under_test(&input) {
            Ok(Some((have, rest))) => {
                prop_assert_eq!(have, want);
                prop_assert_eq!(rest, &tail[..]);
            }
            other => {
                return Err(TestCaseError::fail(format!(
                    "header {header:02x?}: expected fields, got {other:?}"
                )));
            }
        }
        for cut in 0..header_len {
            prop_assert!(
                matches!(under_test(&header[..cut]), Ok(None)),
                "prefix of {} bytes of {:02x?} is not incomplete", cut, header
            );
        }
    }

    /// Masking is an XOR with the key: applying it twice, from the same stream offset,
    /// gives back the original bytes.
    #[test]
    fn masking_twice_is_the_identity(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        key in any::<[u8; 4]>(),
        offset in any::<u64>(),
    ) {
        let mut bytes = data.clone();
        apply_mask(&mut bytes, key, offset);
        if key != [0; 4] && !data.is_empty() && data.len() >= 4 {
            prop_assert_ne!(&bytes, &data, "a non-zero key changes at least one byte of four");
        }
        apply_mask(&mut bytes, key, offset);
        prop_assert_eq!(bytes, data);
    }
}
