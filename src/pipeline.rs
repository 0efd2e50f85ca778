//! The whole decode, one direction: packets → segments → TCP streams → sessions →
//! [`Capture`]. Synchronous, no terminal I/O: the command line, the TUI and the tests
//! drive it the same way, a packet at a time, so a capture can be shown while it is read.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::SocketAddr;

use crate::decode::decode_packet;
use crate::model::{Capture, Ending};
use crate::session::{Session, SessionConfig};
use crate::source::{CaptureReader, PacketRef, SourceError, Timestamp};
use crate::tcp::{Endpoints, TcpFlow, endpoints_for_first, flow_key};

type FlowKey = (SocketAddr, SocketAddr);

struct FlowEntry {
    order: u64,
    /// Bytes this flow held after its last packet (its share of `buffered_total`).
    buffered: usize,
    tcp: TcpFlow,
    session: Session,
}

/// Incremental decoder: feed packets, read the capture as it grows, finish at the end.
pub struct Pipeline {
    config: SessionConfig,
    flows: HashMap<FlowKey, Box<FlowEntry>>,
    /// Open flows by creation order (to retire the oldest when the flow limit is hit).
    by_order: BTreeMap<u64, FlowKey>,
    next_order: u64,
    last: (u64, Timestamp),
    evicted: u64,
    live: bool,
    /// Bytes held by all open flows (reassembly buffers, partial heads, early data).
    buffered_total: usize,
    /// What has been decoded so far.
    pub capture: Capture,
}

impl Pipeline {
    /// A pipeline with the given session settings.
    pub fn new(config: SessionConfig) -> Self {
        Pipeline {
            config,
            flows: HashMap::new(),
            by_order: BTreeMap::new(),
            next_order: 0,
            last: (0, Timestamp::default()),
            evicted: 0,
            live: false,
            buffered_total: 0,
            capture: Capture::default(),
        }
    }

    /// Decodes one packet.
    pub fn packet(&mut self, packet: &PacketRef<'_>) {
        let stats = &mut self.capture.stats;
        stats.packets += 1;
        stats.bytes += packet.data.len() as u64;
        stats.first_ts.get_or_insert(packet.ts);
        stats.last_ts = Some(packet.ts);
        self.last = (packet.number, packet.ts);
        let seg = match decode_packet(packet) {
            Ok(seg) => seg,
            Err(reason) => {
                *stats.skipped.entry(reason).or_default() += 1;
                return;
            }
        };
        stats.tcp_packets += 1;
        let key = flow_key(seg.src, seg.dst);
        let restart = self.flows.get(&key).is_some_and(|f| {
            seg.flags.syn
                && !seg.flags.ack
                && (f.tcp.closed() || f.tcp.streams[f.tcp.side_of(seg.src).index()].delivered() > 0)
        });
        if restart {
            self.retire(key, Ending::Fin);
        }
        if !self.flows.contains_key(&key) {
            if !seg.flags.syn && seg.payload.is_empty() && seg.missing == 0 {
                // A bare ACK, FIN or RST of a flow we do not know (or already closed):
                // it carries nothing to decode.
                return;
            }
            if self.flows.len() >= self.config.limits.max_flows
                && let Some((_, oldest)) = self.by_order.pop_first()
            {
                self.evict(oldest);
                self.evicted += 1;
            }
            let endpoints: Endpoints = endpoints_for_first(&seg);
            let order = self.next_order;
            self.next_order += 1;
            self.by_order.insert(order, key);
            self.flows.insert(
                key,
                Box::new(FlowEntry {
                    order,
                    buffered: 0,
                    tcp: TcpFlow::new(endpoints, self.config.limits.max_out_of_order),
                    session: Session::new(endpoints, order, seg.number, seg.ts),
                }),
            );
        }
        let Some(entry) = self.flows.get_mut(&key) else {
            return;
        };
        let conns = &mut self.capture.connections;
        let config = &self.config;
        let FlowEntry { tcp, session, .. } = &mut **entry;
        let side = tcp.side_of(seg.src);
        let header_bytes = packet.data.len().saturating_sub(seg.payload.len()) as u64;
        session.packet(side, header_bytes, conns);
        tcp.segment(&seg, &mut |side, ev| session.event(side, ev, conns, config));
        if tcp.reset {
            tcp.flush(seg.number, seg.ts, &mut |side, ev| {
                session.event(side, ev, conns, config)
            });
        }
        let held = tcp.buffered_bytes() + session.held_bytes();
        self.buffered_total = self.buffered_total - entry.buffered + held;
        entry.buffered = held;
        let limit = config.limits.max_buffered_total;
        if self.buffered_total > limit {
            // The flow that crossed the budget pays: it gives up its holes and held bytes.
            let FlowEntry { tcp, session, .. } = &mut **entry;
            tcp.shed(seg.number, seg.ts, &mut |side, ev| {
                session.event(side, ev, conns, config)
            });
            session.shed(conns, limit);
            let held = tcp.buffered_bytes() + session.held_bytes();
            self.buffered_total = self.buffered_total - entry.buffered + held;
            entry.buffered = held;
        }
        if entry.tcp.closed() {
            let ending = if entry.tcp.reset {
                Ending::Reset
            } else {
                Ending::Fin
            };
            self.retire(key, ending);
        }
    }

    /// Retires the oldest flow to make room (the `max_flows` limit), saying so on its connection.
    fn evict(&mut self, key: FlowKey) {
        let limit = self.config.limits.max_flows;
        let before = self.capture.connections.len();
        if let Some(entry) = self.flows.get(&key) {
            let conn = entry.session.connection_index();
            self.retire(key, Ending::Open);
            if let Some(c) = conn.filter(|c| *c < before) {
                self.capture.connections[c].warning(
                    crate::rules::Warning::LimitReached,
                    None,
                    None,
                    format!("more than {limit} TCP flows were open at once (--max-flows): this one, the oldest, was no longer followed"),
                );
            }
        }
    }

    /// Ends a flow: flushes its buffers and settles its session.
    fn retire(&mut self, key: FlowKey, ending: Ending) {
        let Some(mut entry) = self.flows.remove(&key) else {
            return;
        };
        self.by_order.remove(&entry.order);
        self.buffered_total -= entry.buffered;
        let conns = &mut self.capture.connections;
        let config = &self.config;
        let (number, ts) = self.last;
        let FlowEntry { tcp, session, .. } = &mut *entry;
        tcp.flush(number, ts, &mut |side, ev| {
            session.event(side, ev, conns, config)
        });
        session.finish(conns, ending);
        *self.capture.stats.flows.entry(session.kind()).or_default() += 1;
    }

    /// Ends the capture: every open flow is settled and connections are numbered.
    pub fn finish(mut self) -> Capture {
        self.finish_in_place();
        self.capture
    }

    /// Like [`Pipeline::finish`], leaving the capture in place for a viewer that shares it.
    pub fn finish_in_place(&mut self) {
        let keys: Vec<FlowKey> = self.by_order.values().copied().collect();
        for key in keys {
            self.retire(key, Ending::Open);
        }
        if self.evicted > 0 {
            self.capture.notes.push(format!(
                "{} flows were retired early because more than {} were open at once (--max-flows)",
                self.evicted, self.config.limits.max_flows
            ));
        }
        self.evicted = 0;
        for conn in &mut self.capture.connections {
            crate::analysis::heartbeat::annotate(conn, self.config.idle_threshold);
            for (rule, n) in std::mem::take(&mut conn.suppressed) {
                conn.warning(
                    crate::rules::Warning::LimitReached,
                    None,
                    None,
                    format!(
                        "{n} more {} violations were counted but not listed (at most {} per rule are kept)",
                        rule.code(),
                        crate::model::MAX_VIOLATIONS_PER_RULE
                    ),
                );
            }
        }
        if !self.live {
            self.capture.finish();
        }
    }

    /// Live mode: connection numbers stay as first shown (in the order connections were
    /// recognised) instead of being renumbered by first packet at the end.
    pub fn set_live(&mut self, live: bool) {
        self.live = live;
    }
}

/// Decodes a whole capture from a byte stream. A reader error (truncated or corrupt
/// file) stops reading but keeps everything decoded before it: the error is returned
/// beside the capture, and also noted in [`Capture::source_error`].
pub fn decode_reader<R: Read + Send>(
    reader: R,
    config: SessionConfig,
) -> Result<Capture, SourceError> {
    let mut source = CaptureReader::new(reader)?;
    let mut pipeline = Pipeline::new(config);
    let result = loop {
        match source.next_packet() {
            Ok(Some(packet)) => pipeline.packet(&packet),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    pipeline.capture.stats.skipped_blocks = source.skipped_blocks();
    let mut capture = pipeline.finish();
    if let Err(e) = result {
        capture.source_error = Some(e.to_string());
    }
    Ok(capture)
}
