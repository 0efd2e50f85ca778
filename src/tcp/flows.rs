//! The flow table: every TCP flow followed, keyed by its two endpoints, with its
//! reassembly state and what the stages above keep for it (`T`), in the order of the
//! flows' first packets (so the oldest can be retired when too many are open).

use std::collections::{BTreeMap, HashMap};

use super::{FlowKey, TcpFlow};
use crate::decode::Segment;

/// One flow followed.
#[derive(Debug)]
pub struct Flow<T> {
    /// The flow's order: the number of its first packet.
    pub order: u64,
    /// Number of the flow's latest packet.
    pub last_packet: u64,
    /// Its reassembly state.
    pub tcp: TcpFlow,
    /// What the stages above TCP keep for it.
    pub app: T,
}

/// Whether a segment belongs to a flow already followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// It does.
    Known,
    /// Its key is a flow's whose connection is over: a SYN (without ACK) after that one
    /// closed or carried data opens a new connection between the same endpoints.
    Reused,
    /// No flow has its key.
    Unknown,
}

/// Whether a segment of a flow not followed should start following one: a SYN, or
/// anything that carries (or has lost) bytes. A bare ACK, FIN or RST carries nothing to
/// decode.
pub fn opens_flow(seg: &Segment<'_>) -> bool {
    seg.flags.syn || !seg.payload.is_empty() || seg.missing > 0
}

/// The flows followed.
#[derive(Debug)]
pub struct Flows<T> {
    /// Keyed with foldhash (seeded per process): SipHash was 3 % of the decode.
    table: HashMap<FlowKey, Box<Flow<T>>, foldhash::fast::RandomState>,
    /// Flows by order, oldest first.
    by_order: BTreeMap<u64, FlowKey>,
}

impl<T> Default for Flows<T> {
    fn default() -> Self {
        Flows {
            table: HashMap::default(),
            by_order: BTreeMap::new(),
        }
    }
}

impl<T> Flows<T> {
    /// Flows followed.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// No flow is followed.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Whether `seg`, of the flow `key`, belongs to a flow already followed.
    pub fn lookup(&self, key: &FlowKey, seg: &Segment<'_>) -> Lookup {
        let Some(flow) = self.table.get(key) else {
            return Lookup::Unknown;
        };
        let tcp = &flow.tcp;
        let reused = seg.flags.syn
            && !seg.flags.ack
            && (tcp.closed() || tcp.streams[tcp.side_of(seg.src).index()].delivered() > 0);
        if reused {
            Lookup::Reused
        } else {
            Lookup::Known
        }
    }

    /// Follows a new flow with key `key`.
    pub fn insert(&mut self, key: FlowKey, flow: Flow<T>) {
        self.by_order.insert(flow.order, key);
        self.table.insert(key, Box::new(flow));
    }

    /// The flow with key `key`.
    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut Flow<T>> {
        self.table.get_mut(key).map(|f| &mut **f)
    }

    /// Stops following the flow with key `key`, returning it.
    pub fn remove(&mut self, key: &FlowKey) -> Option<Box<Flow<T>>> {
        let flow = self.table.remove(key)?;
        self.by_order.remove(&flow.order);
        Some(flow)
    }

    /// The key of the oldest flow followed.
    pub fn oldest(&self) -> Option<FlowKey> {
        self.by_order.values().next().copied()
    }

    /// The keys of every flow followed, oldest first.
    pub fn keys_in_order(&self) -> Vec<FlowKey> {
        self.by_order.values().copied().collect()
    }
}
