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
