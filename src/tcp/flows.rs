//! The flow table: every TCP flow followed, keyed by its two endpoints, with its
//! reassembly state and what the stages above keep for it (`T`), in the order of the
//! flows' first packets (so the oldest can be retired when too many are open).
//!
//! A packet's flow is looked up by key once ([`Flows::lookup`]); the steps that follow
//! reach it by its [`FlowId`], a position in a slab, without hashing the key again
//! (hashing was 6 % of a summary's instructions when each step looked it up).

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

/// Where a flow is kept, for as long as it is followed (a position is used again once
/// its flow is removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowId(usize);

/// Whether a segment belongs to a flow already followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// It does: this one.
    Known(FlowId),
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
    /// Where each flow is, by key. Keyed with foldhash (seeded per process): SipHash
    /// was 3 % of the decode.
    table: HashMap<FlowKey, FlowId, foldhash::fast::RandomState>,
    /// The flows, by [`FlowId`]; `None` where one was removed.
    slots: Vec<Option<Box<Flow<T>>>>,
    /// Positions of `slots` free for the next flow.
    free: Vec<usize>,
    /// Flows by order, oldest first.
    by_order: BTreeMap<u64, FlowKey>,
}

impl<T> Default for Flows<T> {
    fn default() -> Self {
        Flows {
            table: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
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
        let Some(&id) = self.table.get(key) else {
            return Lookup::Unknown;
        };
        let Some(flow) = self.flow(id) else {
            return Lookup::Unknown;
        };
        let tcp = &flow.tcp;
        let reused = seg.flags.syn
            && !seg.flags.ack
            && (tcp.closed() || tcp.streams[tcp.side_of(seg.src).index()].delivered() > 0);
        if reused {
            Lookup::Reused
        } else {
            Lookup::Known(id)
        }
    }

    /// Follows a new flow with key `key` (none must have it).
    pub fn insert(&mut self, key: FlowKey, flow: Flow<T>) -> FlowId {
        self.by_order.insert(flow.order, key);
        let flow = Some(Box::new(flow));
        let id = match self.free.pop() {
            Some(at) => {
                self.slots[at] = flow;
                FlowId(at)
            }
            None => {
                self.slots.push(flow);
                FlowId(self.slots.len() - 1)
            }
        };
        self.table.insert(key, id);
        id
    }

    fn flow(&self, id: FlowId) -> Option<&Flow<T>> {
        self.slots.get(id.0)?.as_deref()
    }

    /// The flow at `id`, while it is followed.
    pub fn flow_mut(&mut self, id: FlowId) -> Option<&mut Flow<T>> {
        self.slots.get_mut(id.0)?.as_deref_mut()
    }

    /// The flow with key `key`.
    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut Flow<T>> {
        let id = *self.table.get(key)?;
        self.flow_mut(id)
    }

    /// Stops following the flow with key `key`, returning it.
    pub fn remove(&mut self, key: &FlowKey) -> Option<Box<Flow<T>>> {
        let FlowId(at) = self.table.remove(key)?;
        let flow = self.slots.get_mut(at)?.take()?;
        self.free.push(at);
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
