//! Incremental UTF-8 validation (RFC 6455 §8.1): a text message is checked as it arrives,
//! piece by piece, so a code point split across fragments or TCP segments is judged whole.

/// Validates a byte stream fed in arbitrary pieces.
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    /// Bytes of an incomplete code point carried to the next piece (at most 3).
    carry: Vec<u8>,
    failed: bool,
}

impl Utf8Validator {
    /// Checks the next piece; returns false once the stream is known to be invalid.
    pub fn feed(&mut self, mut piece: &[u8]) -> bool {
        if self.failed {
            return false;
        }
        while !self.carry.is_empty() && !piece.is_empty() {
            self.carry.push(piece[0]);
            piece = &piece[1..];
            match std::str::from_utf8(&self.carry) {
                Ok(_) => self.carry.clear(),
                Err(e) if e.error_len().is_some() => {
                    self.failed = true;
                    return false;
                }
                Err(_) => {}
            }
        }
        match std::str::from_utf8(piece) {
            Ok(_) => true,
            Err(e) => match e.error_len() {
                Some(_) => {
                    self.failed = true;
                    false
                }
                None => {
                    self.carry.extend_from_slice(&piece[e.valid_up_to()..]);
                    true
                }
            },
        }
    }

    /// At the end of the message: valid iff nothing failed and no code point is left open.
    pub fn finish(&self) -> bool {
        !self.failed && self.carry.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn split_code_point_is_valid() {
        let s = "fermé ✓ 😀".as_bytes();
        for cut in 0..s.len() {
            let mut v = Utf8Validator::default();
            assert!(v.feed(&s[..cut]));
            assert!(v.feed(&s[cut..]));
            assert!(v.finish(), "cut at {cut}");
        }
    }

    #[test]
    fn invalid_and_unfinished() {
        let mut v = Utf8Validator::default();
        assert!(!v.feed(&[0xff, 0xfe]));
        let mut v = Utf8Validator::default();
        assert!(v.feed(&[0xe2, 0x9c]));
        assert!(!v.finish());
    }

    proptest! {
        #[test]
        fn agrees_with_std_for_any_split(bytes in proptest::collection::vec(any::<u8>(), 0..64), cuts in proptest::collection::vec(0usize..64, 0..6)) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut v = Utf8Validator::default();
            let mut prev = 0;
            let mut ok = true;
            for c in cuts.into_iter().chain(std::iter::once(bytes.len())) {
                ok &= v.feed(&bytes[prev..c]);
                prev = c;
            }
            ok &= v.finish();
            prop_assert_eq!(ok, std::str::from_utf8(&bytes).is_ok());
        }
    }
}
