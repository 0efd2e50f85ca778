//! TCP: a table of connections keyed by their two endpoints, each with one
//! [`Reassembler`] per direction, turning segments into ordered stream events.

pub mod assembler;
pub mod flows;
pub mod seq;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

pub use assembler::{GapReason, Reassembler, StreamEvent};

use crate::decode::Segment;

/// Which endpoint of a flow sent something: the one that opened it, or the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Sent the SYN (or, for a connection whose start was not captured, the first packet).
    Opener,
    /// The other endpoint.
    Accepter,
}

impl Side {
    /// Index for per-side arrays.
    pub fn index(self) -> usize {
        match self {
            Side::Opener => 0,
            Side::Accepter => 1,
        }
    }

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Opener => Side::Accepter,
            Side::Accepter => Side::Opener,
        }
    }
}

/// The two endpoints of a flow, in order (opener, accepter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoints {
    /// The endpoint that opened the connection.
    pub opener: SocketAddr,
    /// The endpoint it connected to.
    pub accepter: SocketAddr,
}

/// Orders the endpoints of a segment as (opener, accepter), guessing from the flags
/// when this is the first packet of the flow: a SYN without ACK comes from the
/// opener; a SYN-ACK from the accepter; otherwise the lower port is taken to be the
/// server's (services listen on low ports, clients get ephemeral ones).
pub fn endpoints_for_first(seg: &Segment<'_>) -> Endpoints {
    let from_opener = if seg.flags.syn {
        !seg.flags.ack
    } else {
        seg.src.port() > seg.dst.port()
    };
    if from_opener {
        Endpoints {
            opener: seg.src,
            accepter: seg.dst,
        }
    } else {
        Endpoints {
            opener: seg.dst,
            accepter: seg.src,
        }
    }
}

/// Canonical key of a flow: the two endpoints, smaller first, so both directions of
/// a connection give the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey(SocketAddr, SocketAddr);

/// The key of the flow between `a` and `b`, whichever sent the packet.
pub fn flow_key(a: SocketAddr, b: SocketAddr) -> FlowKey {
    if a <= b { FlowKey(a, b) } else { FlowKey(b, a) }
}

impl Hash for FlowKey {
    /// Each endpoint as one or two integers: the derived hash wrote every address byte
    /// on its own, and flows are looked up two or three times a packet (3 % of a
    /// summary's instructions). Equal keys hash the same: IPv6 flow labels and scope
    /// ids, which `Eq` also compares, are only left out.
    fn hash<H: Hasher>(&self, state: &mut H) {
        for addr in [self.0, self.1] {
            match addr {
                SocketAddr::V4(v4) => {
                    state.write_u64(u64::from(v4.ip().to_bits()) << 16 | u64::from(v4.port()));
                }
                SocketAddr::V6(v6) => {
                    state.write_u128(v6.ip().to_bits());
                    state.write_u16(v6.port());
                }
            }
        }
    }
}

/// Per-flow TCP state: endpoints and the two reassemblers.
#[derive(Debug)]
pub struct TcpFlow {
    /// Who opened, who accepted.
    pub endpoints: Endpoints,
    /// Reassemblers indexed by [`Side::index`].
    pub streams: [Reassembler; 2],
    /// A RST was seen.
    pub reset: bool,
    /// Each side's SYN, once seen: the window scale shift it offered, if any.
    syn_scale: [Option<Option<u8>>; 2],
    /// Segments and bytes of each side that lay beyond the receiver's window.
    pub out_of_window: [(u64, u64); 2],
}

impl TcpFlow {
    /// A new flow whose directions buffer at most `max_pending` out-of-order bytes each.
    pub fn new(endpoints: Endpoints, max_pending: usize) -> Self {
        TcpFlow {
            endpoints,
            streams: [Reassembler::new(max_pending), Reassembler::new(max_pending)],
            reset: false,
            syn_scale: [None, None],
            out_of_window: [(0, 0); 2],
        }
    }

    /// Which side sent a segment with this source address.
    pub fn side_of(&self, src: SocketAddr) -> Side {
        if src == self.endpoints.opener {
            Side::Opener
        } else {
            Side::Accepter
        }
    }

    /// Feeds one segment; emits the stream events of both directions it releases.
    pub fn segment(&mut self, seg: &Segment<'_>, out: &mut impl FnMut(Side, StreamEvent<'_>)) {
        let side = self.side_of(seg.src);
        if seg.flags.syn {
            self.syn_scale[side.index()] = Some(seg.window_scale);
        }
        if seg.flags.ack {
            let other = side.other();
            let shift = self.window_shift(side, seg.flags.syn);
            self.streams[other.index()].advertised(seg.ack, seg.window, shift);
            self.streams[other.index()]
                .acked(seg.ack, seg.number, seg.ts, &mut |ev| out(other, ev));
        }
        self.streams[side.index()].segment(
            seg.seq,
            seg.flags.syn,
            seg.flags.fin,
            seg.payload,
            seg.missing,
            seg.number,
            seg.ts,
            &mut |ev| out(side, ev),
        );
        if seg.flags.rst {
            self.reset = true;
        }
    }

    /// The shift of the windows `side` advertises, when known: both SYNs seen, scaled
    /// only when both offered the option, and never on a SYN (RFC 7323 §2.2).
    fn window_shift(&self, side: Side, syn: bool) -> Option<u8> {
        match self.syn_scale {
            _ if syn => Some(0),
            [Some(Some(_)), Some(Some(_))] => self.syn_scale[side.index()].flatten(),
            [Some(_), Some(_)] => Some(0),
            _ => None,
        }
    }

    /// Delivers everything still buffered (end of capture or RST).
    pub fn flush(
        &mut self,
        packet: u64,
        ts: crate::source::Timestamp,
        out: &mut impl FnMut(Side, StreamEvent<'_>),
    ) {
        for side in [Side::Opener, Side::Accepter] {
            self.streams[side.index()].flush(packet, ts, &mut |ev| out(side, ev));
        }
    }

    /// Bytes held by both directions' reassemblers.
    pub fn buffered_bytes(&self) -> usize {
        self.streams[0].buffered_bytes() + self.streams[1].buffered_bytes()
    }

    /// Gives up both directions' buffers (see [`Reassembler::shed`]).
    pub fn shed(
        &mut self,
        packet: u64,
        ts: crate::source::Timestamp,
        out: &mut impl FnMut(Side, StreamEvent<'_>),
    ) {
        for side in [Side::Opener, Side::Accepter] {
            self.streams[side.index()].shed(packet, ts, &mut |ev| out(side, ev));
        }
    }

    /// Both directions sent FIN and were delivered up to it, or a RST was seen.
    pub fn closed(&self) -> bool {
        self.reset || (self.streams[0].finished() && self.streams[1].finished())
    }

    /// Neither direction has seen a SYN: the capture began mid-connection.
    pub fn midstream(&self) -> bool {
        !self.streams[0].saw_syn && !self.streams[1].saw_syn
    }
}

/// Index of open flows by canonical key.
pub type FlowIndex = HashMap<(SocketAddr, SocketAddr), usize>;
