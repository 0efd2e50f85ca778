//! The one loop that drives a [`Pipeline`] from a source of packets (DESIGN.md, "Shape of
//! the code"), used by every command, the terminal UI's loader, decoding a connection
//! again and live capture. What differs between them is told by two small traits:
//!
//! - [`Packets`]: where packets come from, a batch at a time (a capture file or stream,
//!   batches read ahead on another thread, a live capture's queue);
//! - [`Steer`]: what to do around each packet (decode it, skip it, stop) and after each
//!   batch (write the output, tell progress, heed a cancel).
//!
//! The ending is the same for all: the pcapng blocks skipped are counted, every flow
//! still open is settled ([`Pipeline::finish_in_place`]), and a reader error (a truncated
//! or corrupt capture) is kept as [`crate::model::Capture::source_error`] beside
//! everything decoded before it.

use std::ops::ControlFlow;

use super::Pipeline;
use crate::source::readahead::BatchReceiver;
use crate::source::{CaptureReader, Next, PacketRef, SourceError};

/// Packets read from a capture in one batch at most: what a viewer may wait for between
/// two looks at the capture.
pub const BATCH_PACKETS: usize = 2_000;

/// Where a drive's packets come from.
pub trait Packets {
    /// Calls `each` on the next packets, in capture order: a batch of those that have
    /// arrived (waiting for the first), until `each` breaks. `Ok(false)` once the input
    /// has ended; `Err` when it cannot be read further.
    fn next_batch(
        &mut self,
        each: &mut dyn FnMut(&PacketRef<'_>) -> ControlFlow<()>,
    ) -> Result<bool, SourceError>;

    /// pcapng blocks without packets skipped so far.
    fn skipped_blocks(&self) -> u64 {
        0
    }

    /// How far the input has been read.
    fn progress(&self) -> Progress {
        Progress::default()
    }
}

/// How far a drive's input has been read, told after each batch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    /// Bytes of the capture read (when the source counts them).
    pub bytes: u64,
    /// Number and time of the last packet read, some of them maybe by other pipelines
    /// decoding other shares of the flows ([`super::decode_reader_sharded`]).
    pub through: Option<(u64, crate::source::Timestamp)>,
}

/// What to do with a packet, before it is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Decode it.
    Decode,
    /// Pass over it (another flow's, when one connection is decoded again).
    Skip,
    /// Stop before it: the drive ends as if the input had.
    Stop,
}

/// What a drive does around each packet and after each batch. Every method has a
/// default that decodes everything and never stops.
pub trait Steer {
    /// Why a drive gave up (the output could not be written, a cancel).
    type Error;

    /// Before packet `packet` is decoded.
    fn before(
        &mut self,
        _pipeline: &mut Pipeline,
        _packet: &PacketRef<'_>,
    ) -> Result<Step, Self::Error> {
        Ok(Step::Decode)
    }

    /// After packet `packet` was decoded.
    fn after(
        &mut self,
        _pipeline: &mut Pipeline,
        _packet: &PacketRef<'_>,
    ) -> Result<ControlFlow<()>, Self::Error> {
        Ok(ControlFlow::Continue(()))
    }

    /// Once the input has ended (or the steer stopped the drive), before the common
    /// ending settles the open flows.
    fn ending(&mut self, _pipeline: &mut Pipeline) {}

    /// After each batch, with how far the input has been read.
    fn batch_done(
        &mut self,
        _pipeline: &mut Pipeline,
        _progress: Progress,
    ) -> Result<ControlFlow<()>, Self::Error> {
        Ok(ControlFlow::Continue(()))
    }
}

/// A steer that decodes every packet and never stops.
#[derive(Clone, Copy, Debug, Default)]
pub struct Everything;

impl Steer for Everything {
    type Error = std::convert::Infallible;
}

/// How a drive ended (when `steer` did not give up).
#[derive(Debug)]
pub struct Driven {
    /// `steer` stopped it before the end of the input.
    pub stopped: bool,
    /// The input could not be read to its end (also kept in the capture's
    /// `source_error`).
    pub source_error: Option<SourceError>,
}

/// Feeds `packets` to `pipeline` as `steer` says, then ends the decode: skipped blocks
/// counted, open flows settled, a reader error kept in the capture. When `steer` gives
/// up, its error is returned at once and the decode is left unfinished.
pub fn drive<S: Steer>(
    packets: &mut dyn Packets,
    pipeline: &mut Pipeline,
    steer: &mut S,
) -> Result<Driven, S::Error> {
    let mut failed = None;
    let mut stopped = false;
    let read = loop {
        let more = packets.next_batch(&mut |packet| {
            match steer.before(pipeline, packet) {
                Ok(Step::Decode) => {}
                Ok(Step::Skip) => return ControlFlow::Continue(()),
                Ok(Step::Stop) => {
                    stopped = true;
                    return ControlFlow::Break(());
                }
                Err(e) => {
                    failed = Some(e);
                    return ControlFlow::Break(());
                }
            }
            pipeline.packet(packet);
            match steer.after(pipeline, packet) {
                Ok(ControlFlow::Continue(())) => ControlFlow::Continue(()),
                Ok(ControlFlow::Break(())) => {
                    stopped = true;
                    ControlFlow::Break(())
                }
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
            }
        });
        if let Some(e) = failed.take() {
            return Err(e);
        }
        match more {
            Err(e) => break Err(e),
            Ok(false) => break Ok(()),
            Ok(true) if stopped => break Ok(()),
            Ok(true) => {}
        }
        let progress = packets.progress();
        if let Some((number, ts)) = progress.through {
            pipeline.read_through(number, ts);
        }
        if steer.batch_done(pipeline, progress)?.is_break() {
            stopped = true;
            break Ok(());
        }
    };
    steer.ending(pipeline);
    pipeline.capture.stats.skipped_blocks = packets.skipped_blocks();
    pipeline.finish_in_place();
    let source_error = read.err();
    if let Some(e) = &source_error {
        pipeline.capture.source_error = Some(e.to_string());
    }
    Ok(Driven {
        stopped,
        source_error,
    })
}

/// Reads a batch from `reader`: the first packet (waiting for it), then those already
/// read into its buffer, [`BATCH_PACKETS`] at most, calling `each` on each and `noted`
/// right after (with the reader, still positioned at the packet's record).
pub fn read_batch(
    reader: &mut CaptureReader<'_>,
    each: &mut dyn FnMut(&PacketRef<'_>) -> ControlFlow<()>,
    noted: &mut dyn FnMut(&CaptureReader<'_>, u64),
) -> Result<bool, SourceError> {
    let number = match reader.next_packet()? {
        None => return Ok(false),
        Some(packet) => {
            if each(&packet).is_break() {
                return Ok(true);
            }
            packet.number
        }
    };
    noted(reader, number);
    for _ in 1..BATCH_PACKETS {
        let number = match reader.next_buffered()? {
            Next::Packet(packet) => {
                if each(&packet).is_break() {
                    return Ok(true);
                }
                packet.number
            }
            Next::NeedsRead => return Ok(true),
            Next::End => return Ok(false),
        };
        noted(reader, number);
    }
    Ok(true)
}

impl Packets for CaptureReader<'_> {
    fn next_batch(
        &mut self,
        each: &mut dyn FnMut(&PacketRef<'_>) -> ControlFlow<()>,
    ) -> Result<bool, SourceError> {
        read_batch(self, each, &mut |_, _| {})
    }

    fn skipped_blocks(&self) -> u64 {
        CaptureReader::skipped_blocks(self)
    }

    fn progress(&self) -> Progress {
        Progress {
            bytes: self.offset(),
            through: None,
        }
    }
}

/// Batches read ahead on another thread ([`crate::source::readahead`]): the reader's own
/// ending (its error, the blocks it skipped) is told by the thread that ran it.
impl Packets for BatchReceiver {
    fn next_batch(
        &mut self,
        each: &mut dyn FnMut(&PacketRef<'_>) -> ControlFlow<()>,
    ) -> Result<bool, SourceError> {
        let Some(batch) = self.receive() else {
            return Ok(false);
        };
        for packet in batch.packets() {
            if each(&packet).is_break() {
                break;
            }
        }
        self.recycle(batch);
        Ok(true)
    }

    fn progress(&self) -> Progress {
        Progress {
            bytes: 0,
            through: self.through(),
        }
    }
}
