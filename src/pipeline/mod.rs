//! The whole decode, one direction: packets → segments → TCP streams → sessions →
//! [`Capture`]. Synchronous, no terminal I/O: the command line, the TUI and the tests
//! drive it the same way, a packet at a time, so a capture can be shown while it is read.

pub mod drive;
pub mod keep;
mod numbering;
mod sharded;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use crate::decode::decode_packet;
use crate::model::{Capture, Connection, Ending, Handout};
use crate::session::{Session, SessionConfig};
use crate::source::{CaptureReader, PacketRef, SourceError, Timestamp};
use crate::tcp::{Endpoints, FlowKey, TcpFlow, endpoints_for_first, flow_key};
use drive::{Everything, Steer, drive};
use std::ops::ControlFlow;

pub use numbering::{FlowEvent, Numbering};
pub use sharded::{StreamSetup, decode_reader_sharded, default_shards};

struct FlowEntry {
    /// The flow's order: the number of its first packet.
    order: u64,
    /// Streaming mode: [`FlowEvent::Decided`] was told.
    decision_told: bool,
    /// Bytes this flow held after its last packet (its share of `buffered_total`).
    buffered: usize,
    /// Number of the flow's latest packet.
    last_packet: u64,
    tcp: TcpFlow,
    session: Session,
}

/// Streaming mode: a connection hands out its ended records once it holds this many
/// frames ([`Pipeline::set_hand_out_at`]).
pub const HAND_OUT_AT: usize = 64;

/// Compacting mode: past twice this many frames, a connection still open drops its
/// oldest ended records down to this many (their counts stay), so a connection that
/// lasts the whole file does not fill memory while it is read. Records are dropped
/// only from the front, with their messages: a message that never ends (a fragment
/// without its last part) keeps itself and every later frame held, as in streaming
/// output ([`Connection::take_ended_records`]).
pub const OPEN_HOLD_FRAMES: usize = 5_000;

/// Streaming and compacting modes: a connection that holds this many frames because a
/// message has not ended (a fragment whose last part never comes, while the other side
/// goes on) gives that message up ([`Pipeline::give_up_blocking`]), so memory stays
/// bounded whatever a peer sends. When `--max-fragments` allows more, the limit is one
/// more than it: a message's own fragments are bounded by that option, and it decides.
pub const MAX_HELD_FRAMES: usize = 50_000;

/// Streaming mode's state (see [`Pipeline::set_streaming`]).
struct Streaming {
    /// What happened to the flows since they were last taken.
    events: Vec<FlowEvent>,
    /// Numbers the connections, unless the caller does (a pipeline decoding a share of
    /// the flows, [`Pipeline::set_share`]).
    numbering: Option<Numbering>,
    /// Frames a connection holds before its ended records are handed out.
    hand_out_at: usize,
    /// The handed-out records are wanted (else they are dropped, their counts kept).
    parts: bool,
}

/// Incremental decoder: feed packets, read the capture as it grows, finish at the end.
pub struct Pipeline {
    config: SessionConfig,
    /// Keyed with foldhash (seeded per process): SipHash was 3 % of the decode.
    flows: HashMap<FlowKey, Box<FlowEntry>, foldhash::fast::RandomState>,
    /// Open flows by creation order (to retire the oldest when the flow limit is hit).
    by_order: BTreeMap<u64, FlowKey>,
    last: (u64, Timestamp),
    evicted: u64,
    live: bool,
    /// Bytes held by all open flows (reassembly buffers, partial heads, early data).
    buffered_total: usize,
    /// The flow of each record in `capture.connections` (same positions).
    owners: Vec<FlowKey>,
    /// Set in streaming mode.
    streaming: Option<Streaming>,
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
            flows: HashMap::default(),
            by_order: BTreeMap::new(),
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

    /// Streaming mode, for output that need not keep the capture (`summary`, `frames`,
    /// `export`): each connection leaves `capture.connections` when its flow ends, settled
    /// and numbered, and waits in [`Pipeline::take_handouts`]; so do the ended records of
    /// a connection still open, once it holds [`HAND_OUT_AT`] frames. Memory then follows
    /// the open flows, not the file or the length of a connection. Connections are
    /// handed out in the order they end.
    pub fn set_streaming(&mut self) {
        self.streaming = Some(Streaming {
            events: Vec::new(),
            numbering: Some(Numbering::default()),
            hand_out_at: HAND_OUT_AT,
            parts: true,
        });
    }

    /// Streaming mode: whether the ended records a connection hands out while open are
    /// wanted ([`Handout::Part`]; by default they are). When not, they are dropped at
    /// once and only their counts stay ([`crate::model::Held::tally`]).
    pub fn set_parts_wanted(&mut self, wanted: bool) {
        if let Some(s) = self.streaming.as_mut() {
            s.parts = wanted;
        }
    }

    /// Streaming mode for share `index` of `shares` pipelines that each decode the flows
    /// of one share (a flow's packets all go to the same one, [`decode_reader_sharded`]):
    /// the caller numbers the connections from [`Pipeline::take_flow_events`], and this
    /// pipeline holds at most its share of `--max-flows` open flows and of
    /// `--max-buffered` bytes (the first shares one more when they do not divide evenly),
    /// so all of them together keep exactly to the limits.
    pub fn set_share(&mut self, index: usize, shares: usize) {
        self.set_streaming();
        if let Some(s) = self.streaming.as_mut() {
            s.numbering = None;
        }
        self.share = shares.max(1);
        self.share_index = index;
    }

    /// Streaming mode with [`Pipeline::set_share`]: what happened to the flows since the
    /// last call, in order.
    pub fn take_flow_events(&mut self) -> Vec<FlowEvent> {
        self.streaming
            .as_mut()
            .map(|s| std::mem::take(&mut s.events))
            .unwrap_or_default()
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

    /// Streaming mode: hand out a connection's ended records once it holds `frames`
    /// frames (at least 1; [`HAND_OUT_AT`] by default). Tests set 1 to hand out after
    /// every packet.
    pub fn set_hand_out_at(&mut self, frames: usize) {
        if let Some(s) = self.streaming.as_mut() {
            s.hand_out_at = frames.max(1);
        }
    }

    /// Compacting mode, for the terminal UI on a file: a connection stays in
    /// `capture.connections` when its flow ends, settled, but without its frame and
    /// message records ([`Connection::compact`]); the UI decodes them again from the file
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

    /// Streaming mode: what was handed out since the last call (connections that ended
    /// and were numbered, and ended records of connections still open), in order.
    pub fn take_handouts(&mut self) -> Vec<Handout> {
        let Some(Streaming {
            events,
            numbering: Some(numbering),
            ..
        }) = self.streaming.as_mut()
        else {
            return Vec::new();
        };
        for event in events.drain(..) {
            numbering.accept(event);
            // One pipeline tells every flow in order: all earlier flows are known.
            numbering.settle(u64::MAX);
        }
        numbering.take_handouts()
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
        // Is it a flow we follow, or a new one in its place (a SYN after the old one
        // closed or carried data)?
        let known = self.flows.get(&key).map(|f| {
            !(seg.flags.syn
                && !seg.flags.ack
                && (f.tcp.closed()
                    || f.tcp.streams[f.tcp.side_of(seg.src).index()].delivered() > 0))
        });
        if known == Some(false) {
            self.retire(key, Ending::Fin);
        }
        if known != Some(true) {
            if !seg.flags.syn && seg.payload.is_empty() && seg.missing == 0 {
                // A bare ACK, FIN or RST of a flow we do not know (or already closed):
                // it carries nothing to decode.
                return;
            }
            if self.flows.len() >= self.flow_limit()
                && let Some((_, oldest)) = self.by_order.pop_first()
            {
                self.evict(oldest);
            }
            let endpoints: Endpoints = endpoints_for_first(&seg);
            let order = seg.number;
            self.by_order.insert(order, key);
            if let Some(s) = self.streaming.as_mut() {
                s.events.push(FlowEvent::Opened(order));
            }
            self.flows.insert(
                key,
                Box::new(FlowEntry {
                    order,
                    decision_told: false,
                    buffered: 0,
                    last_packet: seg.number,
                    tcp: TcpFlow::new(endpoints, self.config.limits.max_out_of_order),
                    session: Session::new(endpoints, order, seg.number, seg.ts),
                }),
            );
        }
        let limit = self.buffer_limit();
        let Some(entry) = self.flows.get_mut(&key) else {
            return;
        };
        let conns = &mut self.capture.connections;
        let config = &self.config;
        entry.last_packet = seg.number;
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
        if self.buffered_total > limit {
            // The flow that crossed the budget pays: it gives up its holes and held bytes.
            let FlowEntry { tcp, session, .. } = &mut **entry;
            tcp.shed(seg.number, seg.ts, &mut |side, ev| {
                session.event(side, ev, conns, config)
            });
            session.shed(conns, &buffer_note(limit, self.share, config));
            let held = tcp.buffered_bytes() + session.held_bytes();
            self.buffered_total = self.buffered_total - entry.buffered + held;
            entry.buffered = held;
        }
        if let Some(s) = self.streaming.as_mut()
            && !entry.decision_told
            && let Some(websocket) = entry.session.websocket_decided()
        {
            entry.decision_told = true;
            s.events.push(FlowEvent::Decided {
                order: entry.order,
                websocket,
            });
        }
        let ending = entry.tcp.closed().then_some(if entry.tcp.reset {
            Ending::Reset
        } else {
            Ending::Fin
        });
        let held = entry
            .session
            .connection_index()
            .and_then(|i| conns.get(i).map(|c| (i, c.frames.len())));
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
            self.hand_out_ended(key);
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

    /// Drops the leading ended records of connection `index` (at most `max_frames` frames
    /// and `max_messages` messages), keeping their counts in its tally
    /// ([`Connection::take_ended_records_within`]); returns how many of each went. Live
    /// output calls it for what it has written, so a capture that runs for hours holds
    /// only the records not yet written, like streaming mode does for a file.
    pub fn release_records(
        &mut self,
        index: usize,
        max_frames: usize,
        max_messages: usize,
    ) -> (usize, usize) {
        self.take_records(index, max_frames, max_messages)
            .map_or((0, 0), |part| (part.frames.len(), part.messages.len()))
    }

    /// Like [`Pipeline::release_records`], returning the records taken out (as a
    /// connection record holding only them, numbered like connection `index`).
    pub fn take_records(
        &mut self,
        index: usize,
        max_frames: usize,
        max_messages: usize,
    ) -> Option<Connection> {
        let conn = self.capture.connections.get_mut(index)?;
        conn.take_ended_records_within(self.config.idle_threshold, max_frames, max_messages)
    }

    /// The frames a connection may hold behind a message that has not ended before the
    /// message is given up: [`MAX_HELD_FRAMES`], or one more than `--max-fragments`.
    pub fn held_limit(&self) -> usize {
        let fragments = usize::try_from(self.config.limits.max_fragments).unwrap_or(usize::MAX);
        MAX_HELD_FRAMES.max(fragments.saturating_add(1))
    }

    /// Connection `index` holds [`Pipeline::held_limit`] frames or more behind a message that
    /// has not ended (records leave only from the front, with their messages): its open
    /// messages are given up, with a warning, so the frames behind them can leave.
    pub fn give_up_blocking(&mut self, index: usize) {
        let held = self
            .capture
            .connections
            .get(index)
            .map_or(0, |c| c.frames.len());
        let conns = &mut self.capture.connections;
        if let Some(flow) = self
            .owners
            .get(index)
            .and_then(|key| self.flows.get_mut(key))
            .filter(|f| f.session.connection_index() == Some(index))
        {
            flow.session.give_up_open_messages(conns, held);
        }
    }

    /// Streaming mode: hands out the ended records of the flow's connection (called once
    /// it holds [`Pipeline::set_hand_out_at`] frames).
    fn hand_out_ended(&mut self, key: FlowKey) {
        let Some(s) = self.streaming.as_mut() else {
            return;
        };
        let Some(entry) = self.flows.get_mut(&key) else {
            return;
        };
        let Some(conn) = entry
            .session
            .connection_index()
            .and_then(|i| self.capture.connections.get_mut(i))
        else {
            return;
        };
        if let Some(part) = conn.take_ended_records(self.config.idle_threshold)
            && s.parts
        {
            s.events.push(FlowEvent::Part(Box::new(part)));
        }
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

    /// Streaming mode: takes a connection record out of the capture, telling the flow
    /// whose record moved into its place.
    fn take_connection(&mut self, index: usize) -> Connection {
        let conn = self.capture.connections.swap_remove(index);
        self.owners.swap_remove(index);
        if let Some(moved) = self.owners.get(index)
            && let Some(flow) = self.flows.get_mut(moved)
        {
            flow.session.set_connection_index(index);
        }
        conn
    }

    /// Retires the oldest flow to make room (the `max_flows` limit), saying so on its connection.
    fn evict(&mut self, key: FlowKey) {
        let limit = self.config.limits.max_flows;
        self.evicted += 1;
        self.retire_with(
            key,
            Ending::Open,
            Some(format!("more than {limit} TCP flows were open at once (--max-flows): this one, the oldest, was no longer followed")),
        );
    }

    /// Ends a flow: flushes its buffers and settles its session.
    fn retire(&mut self, key: FlowKey, ending: Ending) {
        self.retire_with(key, ending, None);
    }

    /// Like [`Pipeline::retire`], with a limit warning for its connection.
    fn retire_with(&mut self, key: FlowKey, ending: Ending, limit_note: Option<String>) {
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
        self.claim_new_connections(key);
        let index = entry.session.connection_index();
        if let (Some(note), Some(c)) = (limit_note, index) {
            self.capture.connections[c].warning(
                crate::rules::Warning::LimitReached,
                None,
                None,
                note,
            );
        }
        if self.streaming.is_none() {
            if self.compacting
                && let Some(conn) = index.and_then(|i| self.capture.connections.get_mut(i))
            {
                settle(conn, self.config.idle_threshold);
                conn.compact(entry.last_packet, self.config.idle_threshold);
            }
            return;
        }
        let finished = index.map(|i| {
            let mut conn = self.take_connection(i);
            settle(&mut conn, self.config.idle_threshold);
            conn
        });
        if let Some(s) = self.streaming.as_mut() {
            s.events.push(FlowEvent::Ended {
                order: entry.order,
                connection: finished.map(Box::new),
            });
        }
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

    /// Live mode: connection numbers stay as first shown (in the order connections were
    /// recognised) instead of being renumbered by first packet at the end.
    pub fn set_live(&mut self, live: bool) {
        self.live = live;
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

/// The analyses that need a connection's whole life: heartbeat warnings (idle gaps, no
/// closing handshake, RFC 6455 §5.5.2 and §7) and the count of violations not listed.
fn settle(conn: &mut Connection, idle_threshold: f64) {
    crate::analysis::heartbeat::annotate(conn, idle_threshold);
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

/// Why a streaming decode stopped early.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The capture could not be read at all (see [`decode_reader`]).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Writing the output failed (a closed pipe, a full disk).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// Decodes a whole capture in streaming mode ([`Pipeline::set_streaming`]): each
/// connection goes to `each` when its flow ends, numbered as in [`Capture::finish`],
/// after the parts it handed out while open, so memory follows the open flows instead
/// of the file or the length of a connection. The capture returned holds the counts,
/// notes and any reader error, but no connections.
pub fn decode_reader_streaming<R: Read + Send>(
    reader: R,
    config: SessionConfig,
    each: impl FnMut(Handout) -> std::io::Result<()>,
) -> Result<Capture, StreamError> {
    decode_reader_streaming_with(reader, config, HAND_OUT_AT, each)
}

/// [`decode_reader_streaming`] with records handed out once a connection holds
/// `hand_out_at` frames (tests use 1).
pub fn decode_reader_streaming_with<R: Read + Send>(
    reader: R,
    config: SessionConfig,
    hand_out_at: usize,
    each: impl FnMut(Handout) -> std::io::Result<()>,
) -> Result<Capture, StreamError> {
    let setup = StreamSetup {
        hand_out_at,
        shares: 1,
        parts: true,
    };
    streaming_on_one_thread(reader, config, setup, each)
}

/// A streaming decode on the caller's thread (the capture is read on another).
fn streaming_on_one_thread<R: Read + Send>(
    reader: R,
    config: SessionConfig,
    setup: StreamSetup,
    mut each: impl FnMut(Handout) -> std::io::Result<()>,
) -> Result<Capture, StreamError> {
    let source = CaptureReader::new(reader)?;
    let mut pipeline = Pipeline::new(config);
    pipeline.set_streaming();
    pipeline.set_hand_out_at(setup.hand_out_at);
    pipeline.set_parts_wanted(setup.parts);
    // The capture is read and cut into packets on a second thread.
    let (ahead, mut receivers) = crate::source::readahead::channel(1);
    let mut batches = receivers.remove(0);
    let (end, output) = std::thread::scope(|scope| {
        let reader = scope.spawn(move || ahead.run(source, |_| 0));
        let output = drive(&mut batches, &mut pipeline, &mut HandOut(&mut each));
        // On an output error the receiver goes away first, which stops the reader.
        drop(batches);
        (reader.join(), output)
    });
    output?;
    let end = end.map_err(|_| {
        StreamError::Output(std::io::Error::other("the capture reader thread panicked"))
    })?;
    pipeline.capture.stats.skipped_blocks = end.skipped_blocks;
    for handout in pipeline.take_handouts() {
        each(handout)?;
    }
    if let Err(e) = end.result {
        pipeline.capture.source_error = Some(e.to_string());
    }
    Ok(pipeline.capture)
}

/// Gives what the pipeline hands out after each packet to a streaming output.
struct HandOut<'a, F>(&'a mut F);

impl<F: FnMut(Handout) -> std::io::Result<()>> Steer for HandOut<'_, F> {
    type Error = std::io::Error;

    fn after(
        &mut self,
        pipeline: &mut Pipeline,
        _packet: &PacketRef<'_>,
    ) -> std::io::Result<ControlFlow<()>> {
        for handout in pipeline.take_handouts() {
            (self.0)(handout)?;
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// Decodes a whole capture from a byte stream, keeping every record. A reader error
/// (truncated or corrupt file) stops reading but keeps everything decoded before it:
/// it is noted in [`Capture::source_error`].
pub fn decode_reader<R: Read + Send>(
    reader: R,
    config: SessionConfig,
) -> Result<Capture, SourceError> {
    let mut source = CaptureReader::new(reader)?;
    let mut pipeline = Pipeline::new(config);
    let Ok(_) = drive(&mut source, &mut pipeline, &mut Everything);
    Ok(pipeline.capture)
}
