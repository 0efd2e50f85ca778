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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::decode::decode_packet;
use crate::model::{Connection, FrameRecord, MessageRecord, WarningRecord};
use crate::pipeline::Pipeline;
use crate::session::SessionConfig;
use crate::source::{CaptureReader, SourceError};
use crate::tcp::flow_key;

/// By default, one packet in this many is a place the reader can resume at: for a
/// million packets, 489 checkpoints (8 KB), and at most 2,047 packets read in vain.
pub const CHECKPOINT_EVERY: u64 = 2048;

/// A place in the file where reading can resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Number of the packet whose record starts at `offset`.
    pub number: u64,
    /// Byte offset of that record.
    pub offset: u64,
}

/// Where a capture file's packets are, for re-reading parts of it.
#[derive(Debug)]
pub struct FileIndex {
    path: PathBuf,
    /// The settings of the first pass, for the same records.
    config: SessionConfig,
    /// One packet in this many is a checkpoint.
    every: u64,
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
            state: Mutex::new(IndexState::default()),
        }
    }

    /// Notes a checkpoint every `every` packets instead of [`CHECKPOINT_EVERY`].
    pub fn with_checkpoint_every(mut self, every: u64) -> Self {
        self.every = every.max(1);
        self
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
    /// is set (checked every 4,096 packets).
    pub fn reread_until(
        &self,
        conn: &Connection,
        cancel: Option<&AtomicBool>,
    ) -> Result<Reread, RereadError> {
        let name = self.path.display().to_string();
        let source = |e: SourceError| RereadError::Source {
            path: name.clone(),
            source: e,
        };
        let last = conn.compacted.map_or(u64::MAX, |c| c.last_packet);
        let (mut reader, first_number) = self.open_before(conn.first_packet).map_err(source)?;
        reader.set_next_number(first_number);
        let key = flow_key(conn.client, conn.server);
        let mut pipeline = Pipeline::new(self.config.clone());
        loop {
            let packet = match reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                // A cut file was cut there in the first pass too.
                Err(_) => break,
            };
            if packet.number > last {
                break;
            }
            if packet.number.is_multiple_of(4096)
                && cancel.is_some_and(|c| c.load(Ordering::Relaxed))
            {
                return Err(RereadError::Cancelled);
            }
            if packet.number < conn.first_packet {
                continue;
            }
            let ours = decode_packet(&packet).is_ok_and(|seg| flow_key(seg.src, seg.dst) == key);
            if ours {
                pipeline.packet(&packet);
            }
        }
        let capture = pipeline.finish();
        let found = capture
            .connections
            .into_iter()
            .find(|c| c.first_packet == conn.first_packet && c.client == conn.client);
        let want = conn.compacted.map(|k| k.frames);
        match found {
            Some(c) if want.is_none_or(|w| w == c.frames.len()) => Ok(Reread {
                frames: c.frames,
                messages: c.messages,
                warnings: c.warnings,
            }),
            Some(c) => Err(RereadError::Changed {
                path: name,
                found: format!(
                    "{} frames instead of {}",
                    c.frames.len(),
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
