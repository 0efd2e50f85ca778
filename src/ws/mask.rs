//! Masking (RFC 6455 §5.3): each payload byte is XORed with the masking key byte at its
//! position modulo 4. Masking and unmasking are the same operation.

/// XORs `data` in place with `key`, starting at key position `offset % 4`
/// (so a payload that arrives in pieces unmasks piece by piece).
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: u64) {
    let start = (offset % 4) as usize;
    let rotated = [
        key[start],
        key[(start + 1) % 4],
        key[(start + 2) % 4],
        key[(start + 3) % 4],
    ];
    let word = u32::from_ne_bytes(rotated);
    let mut chunks = data.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let mut bytes = [chunk[0], chunk[1], chunk[2], chunk[3]];
        bytes = (u32::from_ne_bytes(bytes) ^ word).to_ne_bytes();
        chunk.copy_from_slice(&bytes);
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= rotated[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn byte_loop(data: &mut [u8], key: [u8; 4], offset: u64) {
        for (i, b) in data.iter_mut().enumerate() {
            *b ^= key[((offset + i as u64) % 4) as usize];
        }
    }

    #[test]
    fn rfc_example_hello() {
        let mut d = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut d, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&d, b"Hello");
    }

    proptest! {
        #[test]
        fn word_at_a_time_equals_byte_loop(data in proptest::collection::vec(any::<u8>(), 0..100), key in any::<[u8; 4]>(), offset in 0u64..16) {
            let mut fast = data.clone();
            let mut slow = data.clone();
            apply_mask(&mut fast, key, offset);
            byte_loop(&mut slow, key, offset);
            prop_assert_eq!(fast, slow);
        }

        #[test]
        fn pieces_unmask_like_the_whole(data in proptest::collection::vec(any::<u8>(), 0..100), key in any::<[u8; 4]>(), cut in 0usize..100) {
            let cut = cut.min(data.len());
            let mut whole = data.clone();
            apply_mask(&mut whole, key, 0);
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut as u64);
            prop_assert_eq!(whole, pieces);
        }
    }
}
