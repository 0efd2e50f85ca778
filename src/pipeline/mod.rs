//! The whole decode, one direction: packets → segments → TCP streams → sessions →
//! [`Capture`]. Synchronous, no terminal I/O: the command line, the TUI and the tests
//! drive it the same way ([`mod@drive`]), a packet at a time, so a capture can be shown
//! while it is read.
//!
//! A pipeline keeps every record ([`decode_reader`]) unless it is told otherwise:
//! streaming mode ([`streaming`]) hands connections and their ended records out as they
//! end; compacting mode drops a connection's records when its flow ends, to be decoded
//! again from the capture when shown ([`crate::reread`]). What happens when a flow ends
//! is in `retire`; what leaves a connection while its flow is open, in `records`.

pub mod drive;
pub mod keep;
mod numbering;
mod records;
mod retire;
pub mod session;
mod sharded;
pub mod streaming;

use std::io::Read;

use crate::decode::{Segment, decode_packet};
use crate::model::{Capture, Ending};
use crate::source::{CaptureReader, PacketRef, SourceError, Timestamp};
use crate::tcp::flows::{Flow, FlowId, Flows, Lookup, opens_flow};
use crate::tcp::{FlowKey, TcpFlow, endpoints_for_first, flow_key};
use drive::{Everything, drive};
use retire::settle;
use session::{Session, SessionConfig};

pub use numbering::{FlowEvent, Numbering};
pub use sharded::{StreamSetup, decode_reader_sharded, default_shards};
pub use streaming::{StreamError, decode_reader_streaming, decode_reader_streaming_with};

/// What the pipeline keeps for one TCP flow besides its reassembly state.
#[derive(Debug)]
struct FlowState {
    /// The application stages of the flow.
    session: Session,
    /// Bytes this flow held after its last packet (its share of `buffered_total`).
    buffered: usize,
    /// Streaming mode: [`FlowEvent::Decided`] was told.
    decision_told: bool,
}

/// Streaming mode: a connection hands out its ended records once it holds this many
/// frames ([`Pipeline::set_hand_out_at`]).
pub const HAND_OUT_AT: usize = 64;

/// Compacting mode: past twice this many frames, a connection still open drops its
/// oldest ended records down to this many (their counts stay), so a connection that
/// lasts the whole file does not fill memory while it is read. Records are dropped
/// only from the front, with their messages: a message that never ends (a fragment
/// without its last part) keeps itself and every later frame held, as in streaming
/// output ([`crate::model::Connection::take_ended_records`]).
pub const OPEN_HOLD_FRAMES: usize = 5_000;

/// Streaming and compacting modes: a connection that holds this many frames because a
/// message has not ended (a fragment whose last part never comes, while the other side
/// goes on) gives that message up ([`Pipeline::give_up_blocking`]), so memory stays
/// bounded whatever a peer sends. When `--max-fragments` allows more, the limit is one
/// more than it: a message's own fragments are bounded by that option, and it decides.
pub const MAX_HELD_FRAMES: usize = 50_000;

/// Incremental decoder: feed packets, read the capture as it grows, finish at the end.
pub struct Pipeline {
    config: SessionConfig,
    /// The flows followed.
    flows: Flows<FlowState>,
    /// Number and time of the last packet read (by this pipeline or, for a share, by any).
    last: (u64, Timestamp),
    evicted: u64,
    live: bool,
    /// Bytes held by all open flows (reassembly buffers, partial heads, early data).
    buffered_total: usize,
    /// The flow of each record in `capture.connections` (same positions).
    owners: Vec<FlowKey>,
    /// Set in streaming mode.
    streaming: Option<streaming::Streaming>,
    /// This pipeline decodes one of this many shares of the flows: it keeps to its share
    /// of the flow and buffer limits ([`Pipeline::set_share`]).
    share: usize,
    /// Which of the shares this pipeline decodes (0-based).
    share_index: usize,
    /// Compacting mode (see [`Pipeline::set_compacting`]).
    compacting: bool,
    /// Compacting mode: frames an open connection keeps ([`OPEN_HOLD_FRAMES`]).
    open_hold: usize,
    /// What has been decoded so far.
    pub capture: Capture,
}

impl Pipeline {
    /// A pipeline with the given session settings.
    pub fn new(config: SessionConfig) -> Self {
        Pipeline {
            config,
            flows: Flows::default(),
            last: (0, Timestamp::default()),
            evicted: 0,
            live: false,
            buffered_total: 0,
            owners: Vec::new(),
            streaming: None,
            share: 1,
            share_index: 0,
            compacting: false,
            open_hold: OPEN_HOLD_FRAMES,
            capture: Capture::default(),
        }
    }

    /// The open-flow limit this pipeline keeps to: its share of `--max-flows`.
    fn flow_limit(&self) -> usize {
        share_of(self.config.limits.max_flows, self.share_index, self.share).max(1)
    }

    /// The buffered-bytes budget this pipeline keeps to: its share of `--max-buffered`.
    fn buffer_limit(&self) -> usize {
        share_of(
            self.config.limits.max_buffered_total,
            self.share_index,
            self.share,
        )
        .max(1)
    }

    /// Compacting mode, for the terminal UI on a file: a connection stays in
    /// `capture.connections` when its flow ends, settled, but without its frame and
    /// message records ([`crate::model::Connection::compact`]); the UI decodes them again from the file
    /// when the connection is shown ([`crate::reread`]). Memory then follows the open
    /// flows and the number of connections, not the file's payload bytes.
    ///
    /// A connection still open holds its latest [`OPEN_HOLD_FRAMES`] to twice as many
    /// frames; older ended ones are dropped (their counts stay), so one connection that
    /// lasts the whole file does not fill memory either (unless one of its messages
    /// never ends, see [`OPEN_HOLD_FRAMES`]).
    pub fn set_compacting(&mut self) {
        self.compacting = true;
    }

    /// Leaves compacting mode: connections that end from now on keep their records, as
    /// they could not be decoded again (the copy of a piped stream stopped, see
    /// [`crate::loader::spawn_spooled`]).
    pub fn stop_compacting(&mut self) {
        self.compacting = false;
    }

    /// Compacting mode: an open connection holds `frames` to twice as many frames
    /// instead of [`OPEN_HOLD_FRAMES`] (tests use a few).
    pub fn set_open_hold(&mut self, frames: usize) {
        self.open_hold = frames.max(1);
    }

    /// Live mode: connection numbers stay as first shown (in the order connections were
    /// recognised) instead of being renumbered by first packet at the end.
    pub fn set_live(&mut self, live: bool) {
        self.live = live;
    }

    /// Decodes one packet: counted and sliced, given to its flow (a new one if need be),
    /// its bytes reassembled and fed to the flow's session; then the buffer budget is
    /// kept, streaming output told what the flow turned out to be, and the flow retired
    /// when it has ended (or its ended records let go while it goes on).
    pub fn packet(&mut self, packet: &PacketRef<'_>) {
        let Some(seg) = self.segment_of(packet) else {
            return;
        };
        let key = flow_key(seg.src, seg.dst);
        let Some(id) = self.follow(key, &seg) else {
            return;
        };
        let header_bytes = packet.data.len().saturating_sub(seg.payload.len()) as u64;
        self.feed(id, &seg, header_bytes);
        self.keep_to_budget(id, &seg);
        self.tell_decision(id);
        self.after_packet(id, key);
    }

    /// Counts `packet` and slices it down to its TCP segment (a packet that carries
    /// none is counted by the reason).
    fn segment_of<'p>(&mut self, packet: &PacketRef<'p>) -> Option<Segment<'p>> {
        let stats = &mut self.capture.stats;
        stats.packets += 1;
        stats.bytes += packet.data.len() as u64;
        if (packet.data.len() as u64) < u64::from(packet.orig_len) {
            stats.cut_packets += 1;
            stats.cut_to = stats.cut_to.max(packet.data.len() as u32);
        }
        stats.first_ts.get_or_insert(packet.ts);
        stats.last_ts = Some(packet.ts);
        self.last = (packet.number, packet.ts);
        match decode_packet(packet) {
            Ok(seg) => {
                stats.tcp_packets += 1;
                Some(seg)
            }
            Err(reason) => {
                *stats.skipped.entry(reason).or_default() += 1;
                None
            }
        }
    }

    /// The flow `seg` is followed in: the flow of its key, or one it starts (in
    /// place of a flow whose key a new connection reuses; the oldest flow is retired when
    /// too many are open).
    fn follow(&mut self, key: FlowKey, seg: &Segment<'_>) -> Option<FlowId> {
        match self.flows.lookup(&key, seg) {
            Lookup::Known(id) => return Some(id),
            Lookup::Reused => self.retire(key, Ending::Fin),
            Lookup::Unknown => {}
        }
        if !opens_flow(seg) {
            // A bare ACK, FIN or RST of a flow we do not know (or already closed).
            return None;
        }
        if self.flows.len() >= self.flow_limit()
            && let Some(oldest) = self.flows.oldest()
        {
            self.evict(oldest);
        }
        let endpoints = endpoints_for_first(seg);
        let order = seg.number;
        if let Some(s) = self.streaming.as_mut() {
            s.events.push(FlowEvent::Opened(order));
        }
        let id = self.flows.insert(
            key,
            Flow {
                order,
                last_packet: seg.number,
                tcp: TcpFlow::new(endpoints, self.config.limits.max_out_of_order),
                app: FlowState {
                    session: Session::new(endpoints, order, seg.number, seg.ts, seg.flags.syn),
                    buffered: 0,
                    decision_told: false,
                },
            },
        );
        Some(id)
    }

    /// Reassembles `seg` into its flow's streams and feeds what they release (and, after
    /// a RST, everything they hold) to the flow's session.
    fn feed(&mut self, id: FlowId, seg: &Segment<'_>, header_bytes: u64) {
        let Some(flow) = self.flows.flow_mut(id) else {
            return;
        };
        let conns = &mut self.capture.connections;
        let config = &self.config;
        flow.last_packet = seg.number;
        let Flow { tcp, app, .. } = flow;
        let session = &mut app.session;
        let cut_to = (seg.missing > 0)
            .then(|| u32::try_from(header_bytes + seg.payload.len() as u64).unwrap_or(u32::MAX));
        session.packet(tcp.side_of(seg.src), header_bytes, cut_to, conns);
        tcp.segment(seg, &mut |side, ev| session.event(side, ev, conns, config));
        if tcp.reset {
            tcp.flush(seg.number, seg.ts, &mut |side, ev| {
                session.event(side, ev, conns, config)
            });
        }
    }

    /// Keeps the bytes all flows hold within `--max-buffered`: the flow that crossed the
    /// budget pays, giving up its holes and held bytes.
    fn keep_to_budget(&mut self, id: FlowId, seg: &Segment<'_>) {
        let limit = self.buffer_limit();
        let share = self.share;
        let Some(flow) = self.flows.flow_mut(id) else {
            return;
        };
        let conns = &mut self.capture.connections;
        let config = &self.config;
        let Flow { tcp, app, .. } = flow;
        let held = tcp.buffered_bytes() + app.session.held_bytes();
        self.buffered_total = self.buffered_total - app.buffered + held;
        app.buffered = held;
        if self.buffered_total <= limit {
            return;
        }
        let session = &mut app.session;
        tcp.shed(seg.number, seg.ts, &mut |side, ev| {
            session.event(side, ev, conns, config)
        });
        session.shed(conns, &buffer_note(limit, share, config));
        let held = tcp.buffered_bytes() + session.held_bytes();
        self.buffered_total = self.buffered_total - app.buffered + held;
        app.buffered = held;
    }

    /// Streaming mode: tells, once, whether the flow turned out to be a WebSocket
    /// connection (its number may then be settled, [`Numbering`]).
    fn tell_decision(&mut self, id: FlowId) {
        let Some(s) = self.streaming.as_mut() else {
            return;
        };
        let Some(flow) = self.flows.flow_mut(id) else {
            return;
        };
        if flow.app.decision_told {
            return;
        }
        if let Some(websocket) = flow.app.session.websocket_decided() {
            flow.app.decision_told = true;
            s.events.push(FlowEvent::Decided {
                order: flow.order,
                websocket,
            });
        }
    }

    /// After a packet of flow `key`: a flow that has ended is retired; one that goes on
    /// lets go of ended records (handed out in streaming mode, dropped past the open hold
    /// in compacting mode), giving up a message that holds every later frame back.
    fn after_packet(&mut self, id: FlowId, key: FlowKey) {
        let Some(flow) = self.flows.flow_mut(id) else {
            return;
        };
        let ending = flow.tcp.closed().then_some(if flow.tcp.reset {
            Ending::Reset
        } else {
            Ending::Fin
        });
        let held = flow
            .app
            .session
            .connection_index()
            .and_then(|i| self.capture.connections.get(i).map(|c| (i, c.frames.len())));
        let hand_out = self
            .streaming
            .as_ref()
            .is_some_and(|s| held.is_some_and(|(_, n)| n >= s.hand_out_at));
        self.claim_new_connections(key);
        if ending.is_none()
            && (self.streaming.is_some() || self.compacting)
            && let Some((index, n)) = held
            && n >= self.held_limit()
        {
            // Nothing could leave: a message that never ends holds every later frame.
            self.give_up_blocking(index);
        }
        if let Some(ending) = ending {
            self.retire(key, ending);
        } else if hand_out {
            self.hand_out_ended(id);
        } else if self.compacting
            && let Some((index, n)) = held
            && n >= 2 * self.open_hold
        {
            // A long connection still open holds its latest records only; the rest are
            // decoded again from the file once it has ended.
            self.take_records(index, n - self.open_hold, usize::MAX);
        }
    }

    /// Every packet up to `number` (time `ts`) has been read, some of them by other
    /// pipelines decoding other shares of the flows ([`decode_reader_sharded`]): flows still open when
    /// the capture ends are closed there, as one pipeline reading them all would.
    pub fn read_through(&mut self, number: u64, ts: Timestamp) {
        self.last = (number, ts);
    }

    /// Records which flow owns connection records created since the last call.
    fn claim_new_connections(&mut self, key: FlowKey) {
        let created = self
            .capture
            .connections
            .len()
            .saturating_sub(self.owners.len());
        self.owners.extend(std::iter::repeat_n(key, created));
    }

    /// Ends the capture: every open flow is settled and connections are numbered.
    pub fn finish(mut self) -> Capture {
        self.finish_in_place();
        self.capture
    }

    /// Like [`Pipeline::finish`], leaving the capture in place for a viewer that shares it.
    pub fn finish_in_place(&mut self) {
        for key in self.flows.keys_in_order() {
            self.retire(key, Ending::Open);
        }
        // What the key logs held, for the summary (secrets blocks found included).
        let keys = &self.config.keys;
        self.capture.stats.tls_keys_given = (keys.len() + keys.inbox.len()) as u64;
        self.capture.stats.tls_key_logs = (keys.sources.len() + keys.inbox.found.count()) as u64;
        // A share's count goes into the note of the whole decode (`decode_reader_sharded`).
        if self.evicted > 0 && self.share == 1 {
            self.capture
                .notes
                .push(eviction_note(self.evicted, self.config.limits.max_flows));
            self.evicted = 0;
        }
        // Compacted connections were settled when their flows ended.
        for conn in &mut self.capture.connections {
            if conn.held.dropped().is_none() {
                settle(conn, self.config.idle_threshold);
            }
        }
        if !self.live {
            self.capture.finish();
        }
    }
}

/// Share `index` of `shares` of `total`: the first `total % shares` shares get one more,
/// so the shares add up to `total`.
fn share_of(total: usize, index: usize, shares: usize) -> usize {
    let shares = shares.max(1);
    total / shares + usize::from(index < total % shares)
}

/// The warning of a flow whose buffered bytes were dropped under `--max-buffered`, when
/// its pipeline keeps to `limit` bytes as one of `shares`.
fn buffer_note(limit: usize, shares: usize, config: &SessionConfig) -> String {
    if shares > 1 {
        format!(
            "more than {limit} bytes were buffered across the flows of one decode thread (its 1/{shares} share of --max-buffered {}): this flow's waiting bytes were dropped",
            config.limits.max_buffered_total
        )
    } else {
        format!(
            "more than {limit} bytes were buffered across all flows (--max-buffered): this flow's waiting bytes were dropped"
        )
    }
}

/// The capture's note when flows were retired early under the `--max-flows` limit.
fn eviction_note(evicted: u64, max_flows: usize) -> String {
    format!(
        "{evicted} flows were retired early because more than {max_flows} were open at once (--max-flows)"
    )
}

/// Decodes a whole capture from a byte stream, keeping every record. A reader error
/// (truncated or corrupt file) stops reading but keeps everything decoded before it:
/// it is noted in [`Capture::source_error`].
pub fn decode_reader<R: Read + Send>(
    reader: R,
    config: SessionConfig,
) -> Result<Capture, SourceError> {
    let mut source = CaptureReader::new(reader)?;
    source.keep_secrets(config.keys.inbox.found.clone());
    let mut pipeline = Pipeline::new(config);
    let Ok(_) = drive(&mut source, &mut pipeline, &mut Everything);
    Ok(pipeline.capture)
}
