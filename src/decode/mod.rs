//! From a captured packet to a TCP segment: link layer, VLAN tags, IPv4/IPv6, TCP, using
//! `etherparse`'s checked slices. Anything that is not TCP is counted by reason and skipped.

pub mod link;

use std::net::{IpAddr, SocketAddr};

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};

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
    let payload = tcp.payload();
    // Bytes the snaplen cut off: what the wire had beyond what was captured.
    let missing = if payload_info.incomplete {
        packet.orig_len.saturating_sub(data.len() as u32)
    } else {
        0
    };
    Ok(Segment {
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
        payload,
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{PacketBuilder, TcpHeader};

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
