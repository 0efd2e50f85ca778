//! Decoding one finished connection again from its capture file, for the terminal UI.
//!
//! On a file, the UI keeps only compacted records of finished connections (counts,
//! handshake, violations, warnings: see [`crate::pipeline::Pipeline::set_compacting`]),
//! so its memory follows the number of connections rather than the payload bytes. When
//! a connection is shown, its frames and messages are decoded again here: the reader
//! resumes at the nearest [`Checkpoint`] before the flow's first packet, feeds the
//! flow's packets (and only those) to a fresh [`Pipeline`], and stops after the flow's
//! last packet. A flow's decode depends only on its own packets, so the records are the
//! ones the first pass made and dropped.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::decode::decode_packet;
use sha2::{Digest, Sha256};

use crate::model::window::{Window, WindowSize};
use crate::model::{Connection, FrameRecord, MessageRecord, WarningRecord};
use crate::pipeline::Pipeline;
use crate::pipeline::drive::{Steer, Step, drive};
use crate::pipeline::keep::Purpose;
use crate::pipeline::session::SessionConfig;
use crate::rules::Warning;
use crate::source::{CaptureReader, PacketRef, SourceError};
use crate::tcp::flow_key;
use std::ops::ControlFlow;

/// By default, one packet in this many is a place the reader can resume at: for a
/// million packets, 489 checkpoints (8 KB), and at most 2,047 packets read in vain.
pub const CHECKPOINT_EVERY: u64 = 2048;

/// While a connection is decoded again for a window, its ended records are taken out
/// whenever it holds this many frames.
const PART_FRAMES: usize = 256;

/// A place in the file where reading can resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Number of the packet whose record starts at `offset`.
    pub number: u64,
    /// Byte offset of that record.
    pub offset: u64,
}

/// Lets another thread stop a decode from the file and see how far it got (decoding a
/// long connection again can take seconds).
#[derive(Debug, Default)]
pub struct Watch {
    /// Set to stop: the decode gives up with [`RereadError::Cancelled`].
    pub cancel: AtomicBool,
    /// The number of the last packet read so far, updated every 4,096 packets.
    pub reached: AtomicU64,
}

impl Watch {
    /// How far a decode of `conn` has got, 0–100 (by packet numbers).
    pub fn percent(&self, conn: &Connection) -> u64 {
        let first = conn.first_packet;
        let last = conn.held.dropped().unwrap_or(first);
        let reached = self
            .reached
            .load(Ordering::Relaxed)
            .clamp(first, last.max(first));
        (reached - first) * 100 / (last - first).max(1)
    }
}

/// Where a capture file's packets are, for re-reading parts of it.
#[derive(Debug)]
pub struct FileIndex {
    path: PathBuf,
    /// The settings of the first pass, for the same records.
    config: SessionConfig,
    /// One packet in this many is a checkpoint.
    every: u64,
    /// How much of a long connection [`FileIndex::reread_window`] keeps.
    window: WindowSize,
    /// Filled by the decode thread while the first pass reads the file.
    state: Mutex<IndexState>,
}

#[derive(Debug, Default)]
struct IndexState {
    /// Length of the file's leading header blocks (up to the first packet record) and
    /// how many layout blocks they hold; `None` before the first packet.
    prefix: Option<(u64, u64)>,
    /// Checkpoints in packet order, each read with the leading header blocks only.
    checkpoints: Vec<Checkpoint>,
}

/// The frames and messages of one connection, decoded again.
#[derive(Debug)]
pub struct Reread {
    /// Its frames, as the first pass recorded them.
    pub frames: Vec<FrameRecord>,
    /// Its messages.
    pub messages: Vec<MessageRecord>,
    /// Its warnings as a full decode gives them (the first pass, keeping previews
    /// only, does not warn about the `--max-message` limit).
    pub warnings: Vec<WarningRecord>,
}

/// Why a connection could not be decoded again.
#[derive(Debug, thiserror::Error)]
pub enum RereadError {
    /// The file could not be opened or read.
    #[error("cannot read {path} again: {source}")]
    Source {
        /// The capture file.
        path: String,
        /// What went wrong.
        source: SourceError,
    },
    /// Stopped on request (the connection is no longer wanted).
    #[error("stopped")]
    Cancelled,
    /// The flow's packets no longer make this connection: the file changed, or the first
    /// pass gave up buffered bytes of this flow under the `--max-buffered` budget shared
    /// by all flows (a flow decoded alone never reaches it).
    #[error(
        "{path} no longer holds this connection as first read: {found} (was the file changed, or did the first pass hit --max-buffered?)"
    )]
    Changed {
        /// The capture file.
        path: String,
        /// What decoding it again gave.
        found: String,
    },
}

impl FileIndex {
    /// An empty index of the capture at `path`, decoded with `config`.
    pub fn new(path: &Path, config: SessionConfig) -> Self {
        FileIndex {
            path: path.to_path_buf(),
            config,
            every: CHECKPOINT_EVERY,
            window: WindowSize::default(),
            state: Mutex::new(IndexState::default()),
        }
    }

    /// Notes a checkpoint every `every` packets instead of [`CHECKPOINT_EVERY`].
    pub fn with_checkpoint_every(mut self, every: u64) -> Self {
        self.every = every.max(1);
        self
    }

    /// Windows of long connections hold `size` instead of [`crate::model::window::WINDOW_FRAMES`] frames and
    /// [`crate::model::window::WINDOW_BYTES`] bytes.
    pub fn with_window(mut self, size: WindowSize) -> Self {
        self.window = size;
        self
    }

    /// The size of the windows [`FileIndex::reread_window`] decodes.
    pub fn window(&self) -> WindowSize {
        self.window
    }

    /// Called by the first pass right after `reader` returned packet `number`: notes the
    /// leading header blocks and, every so many packets, a checkpoint.
    pub fn note(&self, reader: &CaptureReader<'_>, number: u64) {
        if !number.saturating_sub(1).is_multiple_of(self.every) {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let layout = reader.layout_blocks();
        let at = Checkpoint {
            number,
            offset: reader.record_offset(),
        };
        match state.prefix {
            None => {
                state.prefix = Some((at.offset, layout));
                state.checkpoints.push(at);
            }
            // Past a later header block, a resumed reader would miss it: the checkpoints
            // before it remain and later reads start from the last of them.
            Some((_, before)) if before == layout => state.checkpoints.push(at),
            Some(_) => {}
        }
    }

    /// Checkpoints noted so far.
    pub fn checkpoints(&self) -> Vec<Checkpoint> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .checkpoints
            .clone()
    }

    /// Decodes `conn` (a compacted connection of this file) again.
    pub fn reread(&self, conn: &Connection) -> Result<Reread, RereadError> {
        self.reread_until(conn, None)
    }

    /// Like [`FileIndex::reread`], giving up with [`RereadError::Cancelled`] once `cancel`
    /// says so (checked every 4,096 packets, when it is told how far the decode got).
    pub fn reread_until(
        &self,
        conn: &Connection,
        cancel: Option<&Watch>,
    ) -> Result<Reread, RereadError> {
        let found = self.decode_flow(conn, cancel, true, None)?;
        Ok(Reread {
            frames: found.frames,
            messages: found.messages,
            warnings: found.warnings,
        })
    }

    /// Decodes `conn` (a compacted connection of this file) again, keeping only a window
    /// of its records around frame `around`: at most [`WindowSize::frames`] frames and
    /// [`WindowSize::bytes`] bytes of payload ([`FileIndex::with_window`]), starting up to
    /// a quarter of that before `around` (about: the frame that crosses the byte limit
    /// and its message are kept). Reading stops once the window is full, so memory
    /// holds the window and one part of a few hundred frames, however long the
    /// connection (a message that never ends holds back the parts after it, as in
    /// [`Connection::take_ended_records`]); the counts over the whole connection are
    /// the compacted record's. Gives up with [`RereadError::Cancelled`] once `cancel`
    /// says so ([`Watch`]).
    pub fn reread_window(
        &self,
        conn: &Connection,
        around: u32,
        cancel: Option<&Watch>,
    ) -> Result<Connection, RereadError> {
        // Decoded without hashes (a fifth of the time): the hash of each message kept
        // whole is taken below. A message longer than --max-message is kept cut, so when
        // the window holds one, it is decoded again with hashes.
        let decode = |hash: bool| {
            let mut window = Window::new(around, self.window);
            let mut found =
                self.decode_flow(conn, cancel, hash, Some(&mut |part| window.take(part)))?;
            let warnings = std::mem::take(&mut found.warnings);
            window.take(found);
            Ok::<_, RereadError>((window, warnings))
        };
        let (mut window, mut warnings) = decode(false)?;
        if self.config.limits.hash_messages && window.holds_cut_message() {
            (window, warnings) = decode(true)?;
        }
        let mut shown = window.shown_as(conn, self.config.idle_threshold);
        for m in &mut shown.messages {
            if m.finished && m.complete && !m.data_cut && self.config.limits.hash_messages {
                m.sha256 = Some(hex::encode(Sha256::digest(&m.data)));
            }
        }
        for w in warnings {
            if w.warning == Warning::LimitReached && !shown.warnings.contains(&w) {
                shown.warnings.push(w);
            }
        }
        Ok(shown)
    }

    /// Decodes `conn` (a compacted connection of this file) again, giving its records to
    /// `each` a few hundred frames at a time, in order (each part a connection record
    /// holding only them, with the messages of its frames), until `each` returns false
    /// or the connection ends. Memory holds one part at a time, however long the
    /// connection (a message that never ends holds back the parts after it): search
    /// looks through long connections this way.
    pub fn scan(
        &self,
        conn: &Connection,
        cancel: Option<&Watch>,
        each: &mut dyn FnMut(&Connection) -> bool,
    ) -> Result<(), RereadError> {
        let mut more = true;
        let last = self.decode_flow(
            conn,
            cancel,
            false,
            Some(&mut |part| {
                more = each(&part);
                more
            }),
        )?;
        if more {
            each(&last);
        }
        Ok(())
    }

    /// Feeds the flow of `conn` to a fresh pipeline and returns its connection. With
    /// `on_part`, ended records are taken out whenever the connection holds
    /// [`PART_FRAMES`] frames and given to it, so the connection returned holds only the
    /// last ones (its handed-out counts say how many went before); once `on_part` says
    /// it wants no more, reading stops and the connection is returned as decoded so far.
    /// Messages are hashed as in the first decode only with `hash`.
    fn decode_flow(
        &self,
        conn: &Connection,
        cancel: Option<&Watch>,
        hash: bool,
        on_part: Option<&mut dyn FnMut(Connection) -> bool>,
    ) -> Result<Connection, RereadError> {
        let name = self.path.display().to_string();
        let source = |e: SourceError| RereadError::Source {
            path: name.clone(),
            source: e,
        };
        let last = conn.held.dropped().unwrap_or(u64::MAX);
        let (mut reader, first_number) = self.open_before(conn.first_packet).map_err(source)?;
        reader.set_next_number(first_number);
        let mut pipeline = Pipeline::new(Purpose::Again { hash }.config(&self.config));
        let mut steer = OneFlow {
            key: flow_key(conn.client, conn.server),
            first_packet: conn.first_packet,
            last_packet: last,
            cancel,
            on_part,
            stopped: false,
        };
        // A cut file was cut there in the first pass too: its error is not this one's.
        drive(&mut reader, &mut pipeline, &mut steer)?;
        let stopped = steer.stopped;
        let found = pipeline
            .capture
            .connections
            .into_iter()
            .find(|c| c.first_packet == conn.first_packet && c.client == conn.client);
        let want = conn.held.dropped().map(|_| conn.frame_count());
        match found {
            Some(c) if stopped || want.is_none_or(|w| w == c.frame_count()) => Ok(c),
            Some(c) => Err(RereadError::Changed {
                path: name,
                found: format!(
                    "{} frames instead of {}",
                    c.frame_count(),
                    want.unwrap_or_default()
                ),
            }),
            None => Err(RereadError::Changed {
                path: name,
                found: "no such connection".into(),
            }),
        }
    }

    /// A reader positioned at the last checkpoint at or before packet `number`, and the
    /// number of the packet it reads first.
    fn open_before(&self, number: u64) -> Result<(CaptureReader<'static>, u64), SourceError> {
        let (prefix, at) = {
            let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let at = state
                .checkpoints
                .iter()
                .take_while(|c| c.number <= number)
                .last()
                .copied();
            (state.prefix, at)
        };
        let mut file = File::open(&self.path)?;
        match (prefix, at) {
            (Some((prefix_len, _)), Some(at)) if at.offset >= prefix_len => {
                let mut head = Vec::new();
                (&mut file).take(prefix_len).read_to_end(&mut head)?;
                file.seek(SeekFrom::Start(at.offset))?;
                // Unbuffered: the capture reader reads 1 MiB at a time itself.
                Ok((
                    CaptureReader::new(std::io::Cursor::new(head).chain(file))?,
                    at.number,
                ))
            }
            _ => Ok((CaptureReader::new(file)?, 1)),
        }
    }
}

/// Decodes the packets of one flow, from its first packet to its last, taking out its
/// connection's ended records a part at a time when asked ([`FileIndex::decode_flow`]).
struct OneFlow<'a, 'p> {
    key: crate::tcp::FlowKey,
    first_packet: u64,
    last_packet: u64,
    cancel: Option<&'a Watch>,
    /// Given each part; says whether more are wanted.
    on_part: Option<&'a mut (dyn FnMut(Connection) -> bool + 'p)>,
    /// `on_part` wanted no more.
    stopped: bool,
}

impl Steer for OneFlow<'_, '_> {
    type Error = RereadError;

    fn before(
        &mut self,
        _pipeline: &mut Pipeline,
        packet: &PacketRef<'_>,
    ) -> Result<Step, RereadError> {
        if packet.number > self.last_packet {
            return Ok(Step::Stop);
        }
        if packet.number.is_multiple_of(4096)
            && let Some(watch) = self.cancel
        {
            watch.reached.store(packet.number, Ordering::Relaxed);
            if watch.cancel.load(Ordering::Relaxed) {
                return Err(RereadError::Cancelled);
            }
        }
        if packet.number < self.first_packet {
            return Ok(Step::Skip);
        }
        let ours = decode_packet(packet).is_ok_and(|seg| flow_key(seg.src, seg.dst) == self.key);
        Ok(if ours { Step::Decode } else { Step::Skip })
    }

    fn after(
        &mut self,
        pipeline: &mut Pipeline,
        _packet: &PacketRef<'_>,
    ) -> Result<ControlFlow<()>, RereadError> {
        let Some(on_part) = self.on_part.as_mut() else {
            return Ok(ControlFlow::Continue(()));
        };
        // Only the connection asked for (a reused port may have made another).
        let held = pipeline
            .capture
            .connections
            .iter()
            .position(|c| c.first_packet == self.first_packet && c.frames.len() >= PART_FRAMES);
        // As in the first pass: a message that never ends is given up.
        if let Some(i) = held
            && pipeline.capture.connections[i].frames.len() >= pipeline.held_limit()
        {
            pipeline.give_up_blocking(i);
        }
        if let Some(part) = held.and_then(|i| pipeline.take_records(i, usize::MAX, usize::MAX))
            && !on_part(part)
        {
            self.stopped = true;
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    }
}
