//! Decoding on a background thread while a viewer shows what is decoded so far.
//!
//! The decode thread owns its [`Pipeline`] and drives it ([`crate::pipeline::drive`]);
//! the viewer shares only the model, the [`Capture`]. The capture is the pipeline's while
//! a batch of packets is decoded and the viewer's in between: the decode thread takes
//! it for a batch (waiting for the input first, without it) and hands it back with a
//! fair unlock, so a viewer waiting to draw gets it next and waits at most one batch.
//! Progress (bytes read) and completion are atomics the viewer reads.

use std::io::Read;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::model::Capture;
use crate::pipeline::Pipeline;
use crate::pipeline::drive::{Packets, Progress, Steer, Step, drive, read_batch};
use crate::pipeline::keep::Purpose;
use crate::pipeline::session::SessionConfig;
use crate::reread::FileIndex;
use crate::rules::Warning;
use crate::source::spool::{Spool, SpoolFailure, SpoolState};
use crate::source::{CaptureReader, PacketRef, SourceError};
use crate::tui::Feed;
use crate::tui::app::LoadState;

/// The capture shared between the decode thread and the viewer.
type SharedCapture = Arc<parking_lot::Mutex<Capture>>;

/// What the viewer wants called when the capture grows ([`Feed::on_growth`]).
type Wake = Arc<parking_lot::Mutex<Option<Arc<dyn Fn() + Send + Sync>>>>;

/// The viewer is woken at most this often while a capture is read.
const WAKE_EVERY: Duration = Duration::from_millis(50);

/// Shared state between the decode thread and the viewer.
#[derive(Clone)]
pub struct Loading {
    /// The capture decoded so far.
    capture: SharedCapture,
    /// Called now and then while the capture grows, and when it is read.
    wake: Wake,
    bytes_read: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    /// Total size of the input, when known (a file; not a pipe).
    pub total_bytes: Option<u64>,
    /// For a file: where its packets are, to decode compacted connections again.
    pub index: Option<Arc<FileIndex>>,
    /// For a stream copied as it is read: whether the copy has stopped.
    spool: Option<Arc<SpoolState>>,
    /// For a live capture: its counters (packets seen, dropped) for the status line.
    #[cfg(feature = "live")]
    pub live: Option<Arc<crate::source::live::LiveStats>>,
}

impl Loading {
    /// Bytes of the capture read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// The copy of a piped or live stream has stopped ([`spawn_spooled`]): what
    /// connections let go of cannot be decoded again.
    pub fn copy_lost(&self) -> bool {
        self.spool
            .as_ref()
            .is_some_and(|s| s.stopped.load(Ordering::Acquire))
    }

    /// The whole input has been decoded (or reading stopped on an error).
    pub fn done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Fraction read, 0.0–1.0, when the total size is known.
    pub fn progress(&self) -> Option<f64> {
        self.total_bytes
            .filter(|t| *t > 0)
            .map(|t| (self.bytes_read() as f64 / t as f64).min(1.0))
    }

    /// The capture decoded so far, locked: the decode thread waits until it is let go
    /// (it takes it back between two batches of packets).
    pub fn capture(&self) -> parking_lot::MutexGuard<'_, Capture> {
        self.capture.lock()
    }

    /// Tells the viewer the capture grew.
    fn wake(&self) {
        let wake = self.wake.lock().clone();
        if let Some(wake) = wake {
            wake();
        }
    }
}

impl Feed for Loading {
    fn capture(&self) -> Box<dyn std::ops::Deref<Target = Capture> + '_> {
        Box::new(Loading::capture(self))
    }

    fn state(&self) -> LoadState {
        #[cfg(feature = "live")]
        let live = self.live.as_ref().map(|s| {
            use std::sync::atomic::Ordering::Relaxed;
            [
                s.seen.load(Relaxed),
                s.kernel_dropped.load(Relaxed),
                s.queue_dropped.load(Relaxed),
            ]
        });
        #[cfg(not(feature = "live"))]
        let live = None;
        LoadState {
            done: self.done(),
            progress: self.progress(),
            bytes_read: self.bytes_read(),
            live,
            copy_lost: self.copy_lost(),
        }
    }

    fn index(&self) -> Option<Arc<FileIndex>> {
        self.index.clone()
    }

    fn on_growth(&self, wake: Arc<dyn Fn() + Send + Sync>) {
        *self.wake.lock() = Some(wake);
    }
}

/// Starts decoding `reader` on a new thread. The capture header is read first, on the
/// caller's thread, so "not a capture" is reported at once.
pub fn spawn<R: Read + Send + 'static>(
    reader: R,
    total_bytes: Option<u64>,
    config: SessionConfig,
) -> Result<(Loading, JoinHandle<()>), SourceError> {
    spawn_indexed(
        reader,
        config,
        InputFacts {
            total_bytes,
            ..InputFacts::default()
        },
    )
}

/// Like [`spawn`], for the capture file at `path`: payloads are kept as previews only,
/// finished connections are compacted ([`Pipeline::set_compacting`]) and decoded again
/// in full from the file when shown, so the UI's memory follows the open flows and the
/// connection count, not the file size. A connection still open while the file is read
/// shows payload previews (marked as cut) and no message hashes until its end is read.
pub fn spawn_file(
    path: &std::path::Path,
    config: SessionConfig,
) -> Result<(Loading, JoinHandle<()>), SourceError> {
    let file = std::fs::File::open(path)?;
    let total = file.metadata().ok().map(|m| m.len());
    let index = Arc::new(FileIndex::new(path, config.clone()));
    let first_pass = Purpose::Browse.config(&config);
    // Unbuffered: the capture reader reads 1 MiB at a time into its own buffer.
    spawn_indexed(
        file,
        first_pass,
        InputFacts {
            total_bytes: total,
            index: Some(index),
            ..InputFacts::default()
        },
    )
}

/// Like [`spawn_file`], for a stream that cannot be read again (a pipe): every byte
/// read is also written to a temporary file ([`crate::source::spool`]), and connections
/// are decoded again from that copy, so the UI's memory stays bounded however much
/// comes down the pipe. The copy is deleted when the returned path is dropped. When no
/// temporary file can be made, the stream is decoded as [`spawn`] does (every payload
/// kept in memory) and a capture note says why; when the copy fails later (a full
/// disk), a note says from which byte connections can no longer be shown in full.
pub fn spawn_spooled<R: Read + Send + 'static>(
    reader: R,
    config: SessionConfig,
) -> Result<(Loading, JoinHandle<()>, Option<tempfile::TempPath>), SourceError> {
    spool_stream(reader, config, None)
}

/// [`spawn_spooled`], for a plain stream or (with `live`) a live capture's.
fn spool_stream<R: Read + Send + 'static>(
    reader: R,
    config: SessionConfig,
    live: Option<LateError>,
) -> Result<(Loading, JoinHandle<()>, Option<tempfile::TempPath>), SourceError> {
    let copy = match tempfile::Builder::new()
        .prefix("wsscope-stream-")
        .suffix(".pcap")
        .tempfile()
    {
        Ok(copy) => copy,
        Err(e) => {
            let extras = InputFacts {
                live,
                ..InputFacts::default()
            };
            let (loading, handle) = spawn_indexed(reader, config, extras)?;
            loading.capture().notes.push(format!(
                "could not make a temporary copy of the stream ({e}): every payload is kept in memory"
            ));
            return Ok((loading, handle, None));
        }
    };
    let (file, path) = copy.into_parts();
    let (loading, handle) = spool_into(reader, file, &path, config, live)?;
    Ok((loading, handle, Some(path)))
}

/// [`spawn_spooled`] with the copy written by `copy`, which is the file at `path`.
pub fn spawn_spooled_into<R: Read + Send + 'static, W: std::io::Write + Send + 'static>(
    reader: R,
    copy: W,
    path: &std::path::Path,
    config: SessionConfig,
) -> Result<(Loading, JoinHandle<()>), SourceError> {
    spool_into(reader, copy, path, config, None)
}

fn spool_into<R: Read + Send + 'static, W: std::io::Write + Send + 'static>(
    reader: R,
    copy: W,
    path: &std::path::Path,
    config: SessionConfig,
    live: Option<LateError>,
) -> Result<(Loading, JoinHandle<()>), SourceError> {
    let index = Arc::new(FileIndex::new(path, config.clone()));
    let spool = Spool::new(reader, copy);
    let extras = InputFacts {
        index: Some(index),
        spool: Some(spool.state()),
        live,
        ..InputFacts::default()
    };
    spawn_indexed(spool, Purpose::Browse.config(&config), extras)
}

/// The note for a copy of the stream that stopped ([`spawn_spooled`]).
fn spool_note(failure: &SpoolFailure) -> String {
    format!(
        "the temporary copy of the stream stopped at byte {} ({}): connections that end after it are kept in memory with payload previews only, as they cannot be decoded again (long ones still open then had already let go of their oldest frames: their warnings say which)",
        failure.copied, failure.error
    )
}

/// An error told once a stream has ended (a live capture's thread's), shared with the
/// stream that tells it.
type LateError = Arc<Mutex<Option<String>>>;

/// What [`spawn_indexed`] knows of its input besides its bytes.
#[derive(Default)]
struct InputFacts {
    /// The input's size, when known (a file).
    total_bytes: Option<u64>,
    /// Where its packets are, to decode compacted connections again: finished
    /// connections are compacted.
    index: Option<Arc<FileIndex>>,
    /// A stream copied as it is read ([`spawn_spooled`]): whether the copy stopped.
    spool: Option<Arc<SpoolState>>,
    /// A live capture's stream ([`spawn_live`]): connection numbers stay as first shown
    /// ([`Pipeline::set_live`]), and the capture's own error, told once the stream has
    /// ended, is the capture's source error.
    live: Option<LateError>,
}

fn spawn_indexed<R: Read + Send + 'static>(
    reader: R,
    config: SessionConfig,
    extras: InputFacts,
) -> Result<(Loading, JoinHandle<()>), SourceError> {
    let InputFacts {
        total_bytes,
        index,
        spool,
        live,
    } = extras;
    let mut reader = CaptureReader::new(reader)?;
    reader.keep_secrets(config.keys.inbox.found.clone());
    let mut pipeline = Pipeline::new(config);
    if index.is_some() {
        pipeline.set_compacting();
    }
    pipeline.set_live(live.is_some());
    let loading = Loading {
        capture: Arc::new(parking_lot::Mutex::new(Capture::default())),
        wake: Arc::default(),
        bytes_read: Arc::new(AtomicU64::new(0)),
        done: Arc::new(AtomicBool::new(false)),
        total_bytes,
        index: index.clone(),
        spool: spool.clone(),
        #[cfg(feature = "live")]
        live: None,
    };
    let shared = loading.clone();
    let handle = std::thread::Builder::new()
        .name("wsscope-decode".into())
        .spawn(move || {
            let mut packets = Indexed { reader, index };
            let mut steer = Share {
                loading: &shared,
                held: None,
                spool: spool.as_deref(),
                copy_lost: false,
                woken: Instant::now(),
            };
            let Ok(_) = drive(&mut packets, &mut pipeline, &mut steer);
            let live_error =
                live.and_then(|e| e.lock().unwrap_or_else(PoisonError::into_inner).take());
            if let Some(error) = live_error {
                pipeline.capture.source_error = Some(error);
            }
            steer.hand_back(&mut pipeline);
            shared
                .bytes_read
                .store(packets.reader.offset(), Ordering::Relaxed);
            shared.done.store(true, Ordering::Release);
            shared.wake();
        })
        .map_err(SourceError::Io)?;
    Ok((loading, handle))
}

/// A capture read for the viewer: a checkpoint is noted in the file's index (when it has
/// one) as packets are read, to decode connections again from there.
struct Indexed<'r> {
    reader: CaptureReader<'r>,
    index: Option<Arc<FileIndex>>,
}

impl Packets for Indexed<'_> {
    fn next_batch(
        &mut self,
        each: &mut dyn FnMut(&PacketRef<'_>) -> ControlFlow<()>,
    ) -> Result<bool, SourceError> {
        let index = self.index.as_deref();
        read_batch(&mut self.reader, each, &mut |reader, number| {
            if let Some(index) = index {
                index.note(reader, number);
            }
        })
    }

    fn skipped_blocks(&self) -> u64 {
        self.reader.skipped_blocks()
    }

    fn progress(&self) -> Progress {
        Progress {
            bytes: self.reader.offset(),
            through: None,
        }
    }
}

/// Decodes into the shared capture: takes it before the first packet of a batch, hands
/// it back after the batch; and, for a stream copied as it is read, stops compacting
/// once the copy has stopped.
struct Share<'a> {
    loading: &'a Loading,
    /// The viewer's lock, held while a batch is decoded.
    held: Option<parking_lot::MutexGuard<'a, Capture>>,
    spool: Option<&'a SpoolState>,
    copy_lost: bool,
    /// When the viewer was last woken.
    woken: Instant,
}

impl<'a> Share<'a> {
    /// The capture becomes the pipeline's, until [`Share::hand_back`].
    fn take(&mut self, pipeline: &mut Pipeline) {
        if self.held.is_none() {
            let mut shared = self.loading.capture.lock();
            std::mem::swap(&mut pipeline.capture, &mut *shared);
            self.held = Some(shared);
        }
    }

    /// The capture becomes the viewer's again, and a viewer waiting for it gets it next.
    fn hand_back(&mut self, pipeline: &mut Pipeline) {
        if let Some(mut shared) = self.held.take() {
            std::mem::swap(&mut pipeline.capture, &mut *shared);
            parking_lot::MutexGuard::unlock_fair(shared);
        }
    }
}

impl Steer for Share<'_> {
    type Error = std::convert::Infallible;

    fn before(
        &mut self,
        pipeline: &mut Pipeline,
        _packet: &PacketRef<'_>,
    ) -> Result<Step, Self::Error> {
        self.take(pipeline);
        if let Some(state) = self.spool
            && !self.copy_lost
            && state.stopped.load(Ordering::Acquire)
        {
            self.copy_lost = true;
            copy_stopped(pipeline, state);
        }
        Ok(Step::Decode)
    }

    fn ending(&mut self, pipeline: &mut Pipeline) {
        self.take(pipeline);
    }

    fn batch_done(
        &mut self,
        pipeline: &mut Pipeline,
        progress: Progress,
    ) -> Result<ControlFlow<()>, Self::Error> {
        self.loading
            .bytes_read
            .store(progress.bytes, Ordering::Relaxed);
        self.hand_back(pipeline);
        if self.woken.elapsed() >= WAKE_EVERY {
            self.woken = Instant::now();
            self.loading.wake();
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// The copy of a stream has stopped ([`spawn_spooled`]): the next packet may be past its
/// end, so connections that end from now on keep their records (once, with a note).
fn copy_stopped(pipeline: &mut Pipeline, state: &SpoolState) {
    pipeline.stop_compacting();
    let failure = state
        .failure
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some(failure) = failure {
        pipeline.capture.notes.push(spool_note(&failure));
    }
    // Long connections still open have let go of their oldest frames, to be decoded
    // again from the copy: they cannot be now.
    for conn in &mut pipeline.capture.connections {
        if conn.held.some_left() {
            let lost = conn.held.before.frames;
            conn.warning(
                Warning::LimitReached,
                None,
                None,
                format!(
                    "frames 1–{lost} were let go while the stream was read and cannot be shown: the temporary copy of the stream stopped"
                ),
            );
        }
    }
}

/// Decodes a live capture on a new thread until the capture stops (its `stop` flag is
/// set, or its count or duration is reached). The packets are read as a pcapng stream
/// ([`crate::source::live::LiveStream`]) copied to a temporary file, as a pipe is
/// ([`spawn_spooled`]): connections are decoded again from the copy, so the UI's memory
/// stays bounded however long the capture runs. The copy is deleted when the returned
/// path is dropped.
#[cfg(feature = "live")]
pub fn spawn_live(
    capture: crate::source::live::LiveCapture,
    config: SessionConfig,
) -> Result<(Loading, JoinHandle<()>, Option<tempfile::TempPath>), SourceError> {
    let stats = Arc::clone(&capture.stats);
    let stream = crate::source::live::LiveStream::new(capture)?;
    let error = stream.error();
    let (mut loading, handle, copy) = spool_stream(stream, config, Some(error))?;
    loading.live = Some(stats);
    Ok((loading, handle, copy))
}
