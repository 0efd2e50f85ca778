//! Link layers that `etherparse` does not slice itself: Linux cooked capture v2 and
//! BSD/OpenBSD loopback. Each returns the EtherType (or IP version) and the rest.

use etherparse::EtherType;

/// Length of a Linux cooked capture v2 header (LINKTYPE_LINUX_SLL2).
pub const SLL2_HEADER_LEN: usize = 20;

/// Splits an SLL2 header: protocol type (bytes 0..2, big-endian) and the payload after 20 bytes.
pub fn split_sll2(data: &[u8]) -> Option<(EtherType, &[u8])> {
    let proto = data.get(0..2)?;
    let rest = data.get(SLL2_HEADER_LEN..)?;
    Some((EtherType(u16::from_be_bytes([proto[0], proto[1]])), rest))
}

/// Length of a Linux cooked capture v1 header (LINKTYPE_LINUX_SLL).
pub const SLL_HEADER_LEN: usize = 16;

/// Splits an SLL v1 header: protocol type (bytes 14..16, big-endian) and the payload
/// after 16 bytes. Done by hand because the ARPHRD type of `-i any` on loopback (772)
/// is not one every header library accepts.
pub fn split_sll(data: &[u8]) -> Option<(EtherType, &[u8])> {
    let proto = data.get(14..16)?;
    let rest = data.get(SLL_HEADER_LEN..)?;
    Some((EtherType(u16::from_be_bytes([proto[0], proto[1]])), rest))
}

/// Splits a BSD loopback header: a 4-byte address family in the writer's byte order
/// (`NULL`) or in network order (`LOOP`). Returns the rest when it carries IPv4 or IPv6.
pub fn split_loopback(data: &[u8], network_order: bool) -> Option<&[u8]> {
    let fam = data.get(0..4)?;
    let rest = data.get(4..)?;
    let family = if network_order {
        u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]])
    } else {
        // The writer's byte order is unknown: small values are unambiguous in either.
        let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
        if le > 0xffff { le.swap_bytes() } else { le }
    };
    // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
    matches!(family, 2 | 10 | 24 | 28 | 30).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sll2_protocol_and_payload() {
        let mut pkt = vec![0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6];
        pkt.extend_from_slice(&[0; 8]);
        pkt.extend_from_slice(b"ip");
        let (et, rest) = split_sll2(&pkt).expect("header");
        assert_eq!(et, EtherType::IPV4);
        assert_eq!(rest, b"ip");
        assert!(split_sll2(&pkt[..10]).is_none());
    }

    #[test]
    fn loopback_families_in_both_orders() {
        assert_eq!(split_loopback(&[2, 0, 0, 0, 9], false), Some(&[9u8][..]));
        assert_eq!(split_loopback(&[0, 0, 0, 2, 9], false), Some(&[9u8][..]));
        assert_eq!(split_loopback(&[0, 0, 0, 30, 9], true), Some(&[9u8][..]));
        assert_eq!(split_loopback(&[7, 0, 0, 0, 9], false), None);
    }
}
