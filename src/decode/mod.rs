//! From a captured packet to a TCP segment: link layer, VLAN tags, IPv4/IPv6, TCP, using
//! `etherparse`'s checked slices. Anything that is not TCP is counted by reason and skipped.

pub mod link;

use std::net::{IpAddr, SocketAddr};

use etherparse::{
    EtherType, Ethernet2Slice, LaxIpSlice, LaxNetSlice, LaxSlicedPacket, TcpSlice, TransportSlice,
};

use crate::source::{LinkType, PacketRef, Timestamp};

/// TCP flag bits we act on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    /// SYN: the sender's initial sequence number.
    pub syn: bool,
    /// ACK: `ack` is valid.
    pub ack: bool,
    /// FIN: the sender has finished sending.
    pub fin: bool,
    /// RST: the connection is aborted.
    pub rst: bool,
}

/// One TCP segment with its addresses, borrowed from the packet.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    /// Capture packet number.
    pub number: u64,
    /// Capture time.
    pub ts: Timestamp,
    /// Sender address and port.
    pub src: SocketAddr,
    /// Receiver address and port.
    pub dst: SocketAddr,
    /// Sequence number of the first payload byte (or of the SYN).
    pub seq: u32,
    /// Acknowledgement number (valid when `flags.ack`).
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// The payload bytes present in the capture.
    pub payload: &'a [u8],
    /// Payload bytes the sender sent but the capture cut off (snaplen).
    pub missing: u32,
    /// The receive window the sender advertises, as written (unscaled, RFC 9293 §3.1).
    pub window: u16,
    /// On a SYN: the shift of its window scale option, if it has one (RFC 7323 §2.2).
    pub window_scale: Option<u8>,
}

/// Why a packet was not used, for the summary's counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// The capture's link type is not one we decode.
    UnsupportedLink,
    /// The link or IP header could not be parsed.
    Malformed,
    /// IP, but not TCP (UDP, ICMP, ...).
    NotTcp,
    /// Not IP at all (ARP, LLDP, ...).
    NotIp,
    /// A fragment of an IP datagram (not reassembled).
    IpFragment,
}

impl SkipReason {
    /// A short label for reports.
    pub fn label(self) -> &'static str {
        match self {
            SkipReason::UnsupportedLink => "unsupported link type",
            SkipReason::Malformed => "malformed headers",
            SkipReason::NotTcp => "IP but not TCP",
            SkipReason::NotIp => "not IP",
            SkipReason::IpFragment => "IP fragment",
        }
    }
}

/// Slices a packet down to its TCP segment, or says why it has none.
pub fn decode_packet<'a>(packet: &PacketRef<'a>) -> Result<Segment<'a>, SkipReason> {
    match plain_tcp(packet) {
        Some(seg) => Ok(seg),
        None => sliced(packet),
    }
}

/// The common case, taken with `etherparse`'s layer slices one by one: Ethernet (or a
/// link without one) directly carrying IPv4 or IPv6 without extension header errors,
/// not fragmented, carrying a whole TCP header. `None` for anything else (VLAN tags,
/// errors, other protocols), which [`sliced`] decodes. [`sliced`] gives the same
/// segment for every packet this takes (`tests::plain_tcp_agrees_with_the_whole_slicing`):
/// building `LaxSlicedPacket`, a large struct, and moving it was 5 % of a summary.
fn plain_tcp<'a>(packet: &PacketRef<'a>) -> Option<Segment<'a>> {
    let data = packet.data;
    let ip = match packet.link {
        LinkType::Ethernet => {
            let eth = Ethernet2Slice::from_slice_without_fcs(data).ok()?;
            plain_ip(eth.ether_type(), eth.payload_slice())?
        }
        LinkType::LinuxSll => {
            let (ether_type, rest) = link::split_sll(data)?;
            plain_ip(ether_type, rest)?
        }
        LinkType::LinuxSll2 => {
            let (ether_type, rest) = link::split_sll2(data)?;
            plain_ip(ether_type, rest)?
        }
        LinkType::RawIp => data,
        LinkType::Null | LinkType::Loop => {
            link::split_loopback(data, packet.link == LinkType::Loop)?
        }
        LinkType::Other(_) => return None,
    };
    let (ip, None) = LaxIpSlice::from_slice(ip).ok()? else {
        return None;
    };
    let payload_info = ip.payload();
    if payload_info.fragmented || payload_info.ip_number != etherparse::IpNumber::TCP {
        return None;
    }
    let tcp = TcpSlice::from_slice(payload_info.payload).ok()?;
    Some(segment(
        packet,
        (ip.source_addr(), ip.destination_addr()),
        &tcp,
        payload_info.incomplete,
    ))
}

/// The IP packet of a link frame with this EtherType, when it is IPv4 or IPv6.
fn plain_ip(ether_type: EtherType, payload: &[u8]) -> Option<&[u8]> {
    (ether_type == EtherType::IPV4 || ether_type == EtherType::IPV6).then_some(payload)
}

/// The segment of a TCP header and payload from `packet`, sent between `ips`.
fn segment<'a>(
    packet: &PacketRef<'a>,
    (src_ip, dst_ip): (IpAddr, IpAddr),
    tcp: &TcpSlice<'a>,
    incomplete: bool,
) -> Segment<'a> {
    // Bytes the snaplen cut off: what the wire had beyond what was captured.
    let missing = if incomplete {
        packet.orig_len.saturating_sub(packet.data.len() as u32)
    } else {
        0
    };
    Segment {
        number: packet.number,
        ts: packet.ts,
        src: SocketAddr::new(src_ip, tcp.source_port()),
        dst: SocketAddr::new(dst_ip, tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags: TcpFlags {
            syn: tcp.syn(),
            ack: tcp.ack(),
            fin: tcp.fin(),
            rst: tcp.rst(),
        },
        payload: tcp.payload(),
        missing,
        window: tcp.window_size(),
        window_scale: if tcp.syn() {
            tcp.options_iterator().find_map(|o| match o {
                Ok(etherparse::TcpOptionElement::WindowScale(shift)) => Some(shift),
                _ => None,
            })
        } else {
            None
        },
    }
}

/// Any packet, through `etherparse`'s whole lax slicing (link extensions such as VLAN
/// tags, errors at any layer).
fn sliced<'a>(packet: &PacketRef<'a>) -> Result<Segment<'a>, SkipReason> {
    let data = packet.data;
    let sliced = match packet.link {
        LinkType::Ethernet => {
            LaxSlicedPacket::from_ethernet(data).map_err(|_| SkipReason::Malformed)?
        }
        LinkType::LinuxSll => {
            let (ether_type, rest) = link::split_sll(data).ok_or(SkipReason::Malformed)?;
            LaxSlicedPacket::from_ether_type(ether_type, rest)
        }
        LinkType::LinuxSll2 => {
            let (ether_type, rest) = link::split_sll2(data).ok_or(SkipReason::Malformed)?;
            LaxSlicedPacket::from_ether_type(ether_type, rest)
        }
        LinkType::RawIp => LaxSlicedPacket::from_ip(data).map_err(|_| SkipReason::Malformed)?,
        LinkType::Null | LinkType::Loop => {
            let rest = link::split_loopback(data, packet.link == LinkType::Loop)
                .ok_or(SkipReason::NotIp)?;
            LaxSlicedPacket::from_ip(rest).map_err(|_| SkipReason::Malformed)?
        }
        LinkType::Other(_) => return Err(SkipReason::UnsupportedLink),
    };
    let (src_ip, dst_ip, payload_info) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
            v4.payload(),
        ),
        Some(LaxNetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
            v6.payload(),
        ),
        Some(LaxNetSlice::Arp(_)) | None => {
            return Err(if sliced.stop_err.is_some() {
                SkipReason::Malformed
            } else {
                SkipReason::NotIp
            });
        }
    };
    if payload_info.fragmented {
        return Err(SkipReason::IpFragment);
    }
    let tcp = match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => tcp,
        Some(_) => return Err(SkipReason::NotTcp),
        None => {
            return Err(if payload_info.ip_number == etherparse::IpNumber::TCP {
                SkipReason::Malformed
            } else {
                SkipReason::NotTcp
            });
        }
    };
    Ok(segment(
        packet,
        (src_ip, dst_ip),
        tcp,
        payload_info.incomplete,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{PacketBuilder, TcpHeader};

    /// Every packet of every bundled capture, as (link, number, bytes, orig_len).
    fn bundled_packets() -> Vec<(LinkType, u64, Vec<u8>, u32)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
        let mut packets = Vec::new();
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        for entry in entries.flatten() {
            let path = entry.path();
            if !path
                .extension()
                .is_some_and(|e| e == "pcap" || e == "pcapng")
            {
                continue;
            }
            let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{e}"));
            let Ok(mut reader) = crate::source::CaptureReader::new(file) else {
                continue;
            };
            while let Ok(Some(p)) = reader.next_packet() {
                packets.push((p.link, p.number, p.data.to_vec(), p.orig_len));
            }
        }
        packets
    }

    fn both(link: LinkType, data: &[u8], orig_len: u32) -> (Option<String>, String) {
        let packet = PacketRef {
            number: 1,
            ts: Timestamp::default(),
            link,
            data,
            orig_len,
        };
        (
            plain_tcp(&packet).map(|s| format!("{s:?}")),
            format!("{:?}", sliced(&packet)),
        )
    }

    #[test]
    fn plain_tcp_agrees_with_the_whole_slicing() {
        let packets = bundled_packets();
        assert!(packets.len() > 500, "{} packets", packets.len());
        let (mut taken, mut mutants) = (0, 0);
        // A fixed xorshift, so a failure reproduces.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for (link, number, data, orig_len) in &packets {
            if let (Some(fast), whole) = both(*link, data, *orig_len) {
                assert_eq!(format!("Ok({fast})"), whole, "packet {number}");
                taken += 1;
            }
            // The same packet with header bytes changed, and cut short.
            for _ in 0..20 {
                let mut m = data.clone();
                let at = (next() as usize) % m.len().clamp(1, 80);
                if let Some(b) = m.get_mut(at) {
                    *b ^= 1 << (next() % 8);
                }
                if next() % 4 == 0 {
                    m.truncate((next() as usize) % (m.len() + 1));
                }
                if let (Some(fast), whole) = both(*link, &m, *orig_len) {
                    assert_eq!(format!("Ok({fast})"), whole, "packet {number} changed");
                    mutants += 1;
                }
            }
        }
        // Most real packets take the plain path, and so do many changed ones.
        assert!(
            taken * 10 > packets.len() * 9,
            "{taken} of {}",
            packets.len()
        );
        assert!(mutants > 1000, "{mutants}");
    }

    fn tcp_ipv4(payload: &[u8]) -> Vec<u8> {
        let b = PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp_header(TcpHeader::new(40000, 80, 7, 1000));
        let mut v = Vec::new();
        b.write(&mut v, payload).expect("write");
        v
    }

    fn tcp_ipv6(payload: &[u8]) -> Vec<u8> {
        let mut ip = [0u8; 16];
        ip[15] = 1;
        let b = PacketBuilder::ipv6(ip, ip, 64).tcp_header(TcpHeader::new(40000, 80, 7, 1000));
        let mut v = Vec::new();
        b.write(&mut v, payload).expect("write");
        v
    }

    fn packet(link: LinkType, data: &[u8], orig_len: u32) -> PacketRef<'_> {
        PacketRef {
            number: 1,
            ts: Timestamp::default(),
            link,
            data,
            orig_len,
        }
    }

    fn ethernet(tags: &[u16], ether_type: u16, rest: &[u8]) -> Vec<u8> {
        let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        for (i, vid) in tags.iter().enumerate() {
            let tpid: u16 = if i == 0 && tags.len() > 1 {
                0x88a8
            } else {
                0x8100
            };
            v.extend_from_slice(&tpid.to_be_bytes());
            v.extend_from_slice(&vid.to_be_bytes());
        }
        v.extend_from_slice(&ether_type.to_be_bytes());
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn ethernet_with_and_without_vlan_tags() {
        let ip = tcp_ipv4(b"hello");
        for tags in [&[][..], &[10][..], &[100, 200][..]] {
            let frame = ethernet(tags, 0x0800, &ip);
            let seg = decode_packet(&packet(LinkType::Ethernet, &frame, frame.len() as u32))
                .expect("tcp");
            assert_eq!(seg.payload, b"hello", "tags {tags:?}");
            assert_eq!(seg.dst.port(), 80);
            assert_eq!(seg.missing, 0);
        }
    }

    #[test]
    fn raw_ipv6_and_bsd_loopback() {
        let ip6 = tcp_ipv6(b"six");
        let seg = decode_packet(&packet(LinkType::RawIp, &ip6, ip6.len() as u32)).expect("tcp");
        assert_eq!(seg.src.to_string(), "[::1]:40000");
        let mut null = 30u32.to_le_bytes().to_vec();
        null.extend_from_slice(&ip6);
        let seg = decode_packet(&packet(LinkType::Null, &null, null.len() as u32)).expect("tcp");
        assert_eq!(seg.payload, b"six");
    }

    #[test]
    fn snaplen_cut_is_counted_as_missing() {
        let frame = ethernet(&[], 0x0800, &tcp_ipv4(&[9u8; 100]));
        let cut = &frame[..frame.len() - 60];
        let seg = decode_packet(&packet(LinkType::Ethernet, cut, frame.len() as u32)).expect("tcp");
        assert_eq!(seg.payload.len(), 40);
        assert_eq!(seg.missing, 60);
    }

    #[test]
    fn non_tcp_is_skipped_with_a_reason() {
        let arp = ethernet(&[], 0x0806, &[0u8; 28]);
        assert_eq!(
            decode_packet(&packet(LinkType::Ethernet, &arp, 42)).err(),
            Some(SkipReason::NotIp)
        );
        let mut udp = Vec::new();
        PacketBuilder::ipv4([1, 1, 1, 1], [2, 2, 2, 2], 9)
            .udp(53, 53)
            .write(&mut udp, b"q")
            .expect("write");
        assert_eq!(
            decode_packet(&packet(LinkType::RawIp, &udp, udp.len() as u32)).err(),
            Some(SkipReason::NotTcp)
        );
        assert_eq!(
            decode_packet(&packet(LinkType::Other(147), &udp, 1)).err(),
            Some(SkipReason::UnsupportedLink)
        );
        assert_eq!(
            decode_packet(&packet(LinkType::Ethernet, &[1, 2, 3], 3)).err(),
            Some(SkipReason::Malformed)
        );
    }
}
