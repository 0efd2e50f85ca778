//! What a search needle matches: payload text (after unmasking and decompression),
//! opcode names, and the handshake's header lines, case-insensitively. Used by search
//! and by the frame filter's "matching the search".

use crate::model::HttpHead;
use crate::model::{Connection, FrameRecord};

/// `haystack`, read as (lossy) UTF-8 and lower-cased, contains `needle` (lower-case).
/// With an ASCII needle, the usual case, the bytes are compared in place: lower-casing
/// a copy of every payload was three quarters of the time of a search through a long
/// connection. That gives the same answer because ASCII bytes lower-case alone and
/// other characters never lower-case to ASCII, except the two [`LOWER_TO_ASCII`] names.
fn contains(haystack: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    let lowers_to_ascii = LOWER_TO_ASCII
        .iter()
        .any(|c| haystack.windows(c.len()).any(|w| w == *c));
    if n.is_ascii() && !lowers_to_ascii {
        return n.is_empty() || haystack.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    String::from_utf8_lossy(haystack)
        .to_lowercase()
        .contains(needle)
}

/// The UTF-8 of the only non-ASCII characters whose lower case holds ASCII: KELVIN SIGN
/// (U+212A, lower case `k`) and LATIN CAPITAL LETTER I WITH DOT ABOVE (U+0130, lower
/// case `i` and a combining dot).
const LOWER_TO_ASCII: [&[u8]; 2] = [&[0xe2, 0x84, 0xaa], &[0xc4, 0xb0]];

/// The frame's payload (or its message's, when compressed) contains `needle`
/// (lower-case), or its opcode is named `needle`.
pub fn frame_matches(conn: &Connection, f: &FrameRecord, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    if f.header.opcode.name() == needle {
        return true;
    }
    let msg = conn.message_of(f);
    if let Some(m) = msg.filter(|m| m.compressed) {
        return m.frames.first() == Some(&f.index) && contains(&m.data, needle);
    }
    contains(&f.unmasked_payload(), needle)
}

fn head_matches(head: &HttpHead, needle: &str) -> bool {
    head.first_line().to_lowercase().contains(needle)
        || head
            .headers
            .iter()
            .any(|(n, v)| format!("{n}: {v}").to_lowercase().contains(needle))
}

/// The handshake's request or response has a line containing `needle` (lower-case).
pub fn handshake_matches(conn: &Connection, needle: &str) -> bool {
    !needle.is_empty()
        && conn.handshake.as_ref().is_some_and(|h| {
            head_matches(&h.request, needle)
                || h.response.as_ref().is_some_and(|r| head_matches(r, needle))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `contains` means, done the slow way for every input.
    fn by_lowercasing(haystack: &[u8], needle: &str) -> bool {
        String::from_utf8_lossy(haystack)
            .to_lowercase()
            .contains(needle)
    }

    #[test]
    fn only_two_non_ascii_characters_lower_case_to_ascii() {
        let found: Vec<char> = (0..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|c| !c.is_ascii() && c.to_lowercase().any(|l| l.is_ascii()))
            .collect();
        assert_eq!(found, ['\u{130}', '\u{212a}']);
        for c in found {
            let mut utf8 = [0; 4];
            let bytes = c.encode_utf8(&mut utf8).as_bytes();
            assert!(LOWER_TO_ASCII.contains(&bytes), "{c:?}");
        }
    }

    #[test]
    fn ascii_comparison_in_place_agrees_with_lowercasing_a_copy() {
        let haystacks: [&[u8]; 9] = [
            b"",
            b"Hello World",
            b"{\"seq\":500000,\"sym\":\"EURUSD\"}",
            b"HELLO",
            "caf\u{e9} \u{212a}elvin \u{130}stanbul".as_bytes(),
            b"\x00\x01\xa4\xa4KEY=\x80\xc4Value",
            b"\xff\xfeHello",
            b"abcABCabc",
            b"a",
        ];
        let needles = [
            "",
            "hello",
            "world",
            "seq\":500000,",
            "eurusd",
            "k",
            "caf\u{e9}",
            "abca",
            "x",
            "a",
            "hello world!",
            "kelvin",
            "istanbul",
            "key=",
            "value",
        ];
        for h in haystacks {
            for n in needles {
                assert_eq!(
                    contains(h, n),
                    by_lowercasing(h, n),
                    "{:?} in {:?}",
                    n,
                    String::from_utf8_lossy(h)
                );
            }
        }
    }
}
