//! Everything a viewer needs: connections with their handshake, frames, messages,
//! violations and warnings, plus capture-wide counts. Built incrementally by the
//! pipeline; read (never decoded again) by the TUI and the exporters.

mod build;
pub mod held;
pub mod tally;
pub mod window;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::decode::SkipReason;
use crate::rules::{Violation, Warning};
/// What TLS showed of a connection (the model's records carry it).
pub use crate::tls::TlsInfo;
pub use held::{Counts, Extent, Handout, Held};

pub use crate::ws::record::{Dir, FrameRecord, MessageKind, MessageRecord};

// The wire-level vocabulary the records are written in: readers of the model (the TUI,
// the exporters) take these from here, never from the stages that decode them.
pub use crate::http::extensions::DeflateParams;
pub use crate::http::head::StartLine;
pub use crate::http::{Check, Handshake, HttpHead};
pub use crate::source::Timestamp;
pub use crate::ws::close::{ClosePayload, close_code_allowed, close_code_meaning, parse_close};
pub use crate::ws::frame::{ControlOpcode, DataOpcode, FrameHeader, LengthForm, Opcode};

/// Violations of one rule stored per connection; beyond it they are counted only.
pub const MAX_VIOLATIONS_PER_RULE: usize = 1000;

/// A broken protocol rule, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViolationRecord {
    /// The rule.
    pub rule: Violation,
    /// Who broke it (`None` for the handshake as a whole).
    pub dir: Option<Dir>,
    /// The frame that broke it.
    pub frame: Option<u32>,
    /// What exactly was seen.
    pub detail: String,
}

/// A capture problem, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarningRecord {
    /// What kind of problem.
    pub warning: Warning,
    /// Which direction's stream.
    pub dir: Option<Dir>,
    /// The frame concerned, if any.
    pub frame: Option<u32>,
    /// What exactly happened.
    pub detail: String,
}

/// How a connection ended, as far as the capture shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Still open at the end of the capture.
    Open,
    /// Both sides closed with FIN.
    Fin,
    /// A RST aborted it.
    Reset,
}

/// Most gap records kept per connection (the rest are counted in
/// [`Connection::gaps_not_kept`]; the warnings say what was lost).
pub const MAX_GAPS_KEPT: usize = 1_000;

/// Bytes of one direction missing from the capture where whole frames may be missing
/// with them: the frame list shows a row there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GapRecord {
    /// Whose bytes.
    pub dir: Dir,
    /// The gap lies before the frame with this index (frames are numbered in capture
    /// order, so it is the next frame decoded after it).
    pub before_frame: u32,
    /// How many bytes.
    pub len: u64,
    /// The packet at which the gap was noticed.
    pub packet: u64,
    /// Cut by the snaplen (on the wire, not in the file) rather than lost.
    pub snaplen: bool,
}

impl GapRecord {
    /// The gap as a row of a frame list: `⋯ 1448 bytes from the client not captured, packet 83`.
    pub fn row_text(&self) -> String {
        format!(
            "⋯ {} bytes from the {} {}, packet {}",
            self.len,
            self.dir.name(),
            if self.snaplen {
                "cut by the snaplen (frames may be among them)"
            } else {
                "not captured"
            },
            self.packet
        )
    }
}

/// A WebSocket connection (an Upgrade attempted, or frames recognised without one).
#[derive(Clone, Debug)]
pub struct Connection {
    /// 1, 2, … in order of each connection's first packet (set by [`Capture::finish`];
    /// while a capture is still being read, the order in which connections were recognised).
    pub id: u32,
    /// Order of the TCP flow's first packet among all flows.
    pub flow_order: u64,
    /// The client's address.
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// Time of the flow's first packet.
    pub first_ts: Timestamp,
    /// Number of the flow's first packet.
    pub first_packet: u64,
    /// Time of the latest packet that carried data.
    pub last_ts: Timestamp,
    /// The opening handshake, if captured.
    pub handshake: Option<Handshake>,
    /// Recognised without a handshake (capture started mid-connection, or `--port`).
    pub midstream: bool,
    /// Every frame, both directions, in capture order.
    pub frames: Vec<FrameRecord>,
    /// Every message (data and control), in the order its first frame arrived.
    pub messages: Vec<MessageRecord>,
    /// Rules broken.
    pub violations: Vec<ViolationRecord>,
    /// Violations not stored because their rule reached [`MAX_VIOLATIONS_PER_RULE`], counted.
    pub suppressed: BTreeMap<Violation, u64>,
    /// Capture problems.
    pub warnings: Vec<WarningRecord>,
    /// Where bytes (and perhaps frames) are missing between frames, in stream order (at
    /// most [`MAX_GAPS_KEPT`]).
    pub gaps: Vec<GapRecord>,
    /// Gaps past [`MAX_GAPS_KEPT`], counted.
    pub gaps_not_kept: u64,
    /// The TLS layer's view, when the connection runs over TLS (`wss://`).
    pub tls: Option<TlsInfo>,
    /// TCP ending.
    pub ending: Ending,
    /// Bytes of TCP payload per direction (client, server).
    pub tcp_bytes: [u64; 2],
    /// Packets per direction (client, server).
    pub packets: [u64; 2],
    /// Bytes of link, IP and TCP headers per direction (client, server).
    pub header_bytes: [u64; 2],
    /// Where the records in `frames` and `messages` lie in the whole connection: those
    /// that left memory before them, a window's total ([`held`]).
    pub held: Held,
}

impl Connection {
    /// An empty connection record.
    pub fn new(
        client: SocketAddr,
        server: SocketAddr,
        flow_order: u64,
        first_packet: u64,
        first_ts: Timestamp,
    ) -> Self {
        Connection {
            id: 0,
            flow_order,
            client,
            server,
            first_ts,
            first_packet,
            last_ts: first_ts,
            handshake: None,
            midstream: false,
            frames: Vec::new(),
            messages: Vec::new(),
            violations: Vec::new(),
            suppressed: BTreeMap::new(),
            warnings: Vec::new(),
            gaps: Vec::new(),
            gaps_not_kept: 0,
            tls: None,
            ending: Ending::Open,
            tcp_bytes: [0; 2],
            packets: [0; 2],
            header_bytes: [0; 2],
            held: Held::default(),
        }
    }

    /// Records a violation. Past [`MAX_VIOLATIONS_PER_RULE`] of one rule, further ones
    /// are only counted in `suppressed` (a hostile stream cannot fill memory with them).
    pub fn violation(
        &mut self,
        rule: Violation,
        dir: Option<Dir>,
        frame: Option<u32>,
        detail: impl Into<String>,
    ) {
        if let Some(n) = self.suppressed.get_mut(&rule) {
            *n += 1;
            return;
        }
        if self.violations.iter().filter(|v| v.rule == rule).count() >= MAX_VIOLATIONS_PER_RULE {
            *self.suppressed.entry(rule).or_default() += 1;
            return;
        }
        self.violations.push(ViolationRecord {
            rule,
            dir,
            frame,
            detail: detail.into(),
        });
    }

    /// Records a warning.
    pub fn warning(
        &mut self,
        warning: Warning,
        dir: Option<Dir>,
        frame: Option<u32>,
        detail: impl Into<String>,
    ) {
        self.warnings.push(WarningRecord {
            warning,
            dir,
            frame,
            detail: detail.into(),
        });
    }

    /// The gaps just before frame `index` (after the frame before it).
    pub fn gaps_before(&self, index: u32) -> &[GapRecord] {
        let start = self.gaps.partition_point(|g| g.before_frame < index);
        let end = self.gaps.partition_point(|g| g.before_frame <= index);
        &self.gaps[start..end]
    }

    /// Messages of one kind sent by one side.
    pub fn messages_from(&self, dir: Dir) -> impl Iterator<Item = &MessageRecord> {
        self.messages.iter().filter(move |m| m.dir == dir)
    }

    /// True when the handshake was accepted and every check passed, and no frame broke a rule.
    pub fn clean(&self) -> bool {
        self.violations.is_empty() && self.handshake.as_ref().is_none_or(|h| h.valid)
    }
}

/// What kind of TCP flow it was, for the summary's counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowKind {
    /// A WebSocket connection (upgrade attempted or frames recognised).
    WebSocket,
    /// Plain HTTP/1.x without an upgrade.
    PlainHttp,
    /// TLS whose application data was not decrypted into HTTP (no key, or not all of it).
    Tls,
    /// Something else (or nothing: a flow without payload).
    Other,
}

/// Capture-wide counts.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Packets read.
    pub packets: u64,
    /// Bytes of packet data read.
    pub bytes: u64,
    /// Packets that carried a TCP segment.
    pub tcp_packets: u64,
    /// Packets not used, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// TCP flows by kind.
    pub flows: BTreeMap<FlowKind, u64>,
    /// Time of the first and last packet.
    pub first_ts: Option<Timestamp>,
    /// Time of the last packet.
    pub last_ts: Option<Timestamp>,
    /// pcapng blocks without packets that were skipped.
    pub skipped_blocks: u64,
    /// Packets the snaplen cut (captured length below the length on the wire).
    pub cut_packets: u64,
    /// The longest captured length among them: the snaplen as the capture shows it
    /// (counting link-layer headers, as `tcpdump -s` does).
    pub cut_to: u32,
    /// Connections the key logs given hold TLS secrets for.
    pub tls_keys_given: u64,
    /// Key logs given (files, and secrets blocks found in the capture).
    pub tls_key_logs: u64,
    /// TLS flows of the capture whose client random the key logs hold.
    pub tls_keys_matched: u64,
}

/// Most TLS flows without a WebSocket connection listed in [`Capture::tls_flows`].
pub const MAX_TLS_FLOWS_LISTED: usize = 1_000;

/// A TLS flow that did not become a WebSocket connection (no key for it, or what was
/// decrypted is not WebSocket): listed so the user sees which key is missing.
#[derive(Clone, Debug)]
pub struct TlsFlowRecord {
    /// The ClientHello's sender.
    pub client: SocketAddr,
    /// The other end.
    pub server: SocketAddr,
    /// The flow's first packet.
    pub first_packet: u64,
    /// What the TLS handshake showed, and why it was not decrypted.
    pub info: TlsInfo,
}

/// The decoded capture.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    /// TLS flows that are not WebSocket connections, in the order they ended (at most
    /// [`MAX_TLS_FLOWS_LISTED`]).
    pub tls_flows: Vec<TlsFlowRecord>,
    /// WebSocket connections, ordered by first packet once finished.
    pub connections: Vec<Connection>,
    /// Counts.
    pub stats: Stats,
    /// Capture-level problems (limits, a truncated file).
    pub notes: Vec<String>,
    /// The reader stopped on an error (truncated or corrupt file): what it said.
    pub source_error: Option<String>,
}

impl Capture {
    /// Orders connections by their first packet and numbers them 1, 2, …
    pub fn finish(&mut self) {
        self.connections.sort_by_key(|c| c.flow_order);
        for (i, c) in self.connections.iter_mut().enumerate() {
            c.id = i as u32 + 1;
        }
    }

    /// Total violations over all connections.
    pub fn violation_count(&self) -> usize {
        self.connections.iter().map(|c| c.violations.len()).sum()
    }

    /// Total frames over all connections.
    pub fn frame_count(&self) -> usize {
        self.connections.iter().map(Connection::frame_count).sum()
    }
}
