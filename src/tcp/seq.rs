//! Wrapping TCP sequence arithmetic (RFC 793 §3.3, RFC 1982 serial numbers): a sequence
//! number is placed on an unbounded 64-bit stream offset relative to a known position,
//! so ordering survives the 2^32 wrap.

/// Maps 32-bit sequence numbers to 64-bit stream offsets around a moving anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqAnchor {
    /// A sequence number whose stream offset is known.
    pub seq: u32,
    /// Its stream offset.
    pub offset: u64,
}

impl SeqAnchor {
    /// The stream offset of `seq`, taking the nearer of the two wrap-around readings.
    /// Offsets before the stream start saturate to `None`.
    pub fn offset_of(self, seq: u32) -> Option<u64> {
        let diff = seq.wrapping_sub(self.seq) as i32 as i64;
        let off = self.offset as i64 + diff;
        (off >= 0).then_some(off as u64)
    }

    /// Moves the anchor forward to `offset` (keeping the mapping).
    pub fn advance_to(&mut self, offset: u64) {
        let delta = offset.wrapping_sub(self.offset);
        self.seq = self.seq.wrapping_add(delta as u32);
        self.offset = offset;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_survive_wrap() {
        let mut a = SeqAnchor {
            seq: u32::MAX - 10,
            offset: 0,
        };
        assert_eq!(a.offset_of(u32::MAX), Some(10));
        assert_eq!(a.offset_of(5), Some(16));
        assert_eq!(a.offset_of(u32::MAX - 20), None);
        a.advance_to(100);
        assert_eq!(a.seq, 89);
        assert_eq!(a.offset_of(89), Some(100));
        assert_eq!(a.offset_of(80), Some(91));
    }
}
