//! Streaming mode, for output that need not keep the capture (`summary`, `frames`,
//! `export`): connections, and the ended records of long ones still open, are handed out
//! as they end ([`Handout`]), numbered as a whole decode numbers them ([`Numbering`]), so
//! memory follows the open flows rather than the file or the length of a connection.

use std::io::Read;
use std::ops::ControlFlow;

use crate::model::{Capture, Handout};
use crate::pipeline::session::SessionConfig;
use crate::source::{CaptureReader, PacketRef, SourceError};
use crate::tcp::flows::FlowId;

use super::drive::{Steer, drive};
use super::{FlowEvent, HAND_OUT_AT, Numbering, Pipeline, StreamSetup};

/// Streaming mode's state (see [`Pipeline::set_streaming`]).
pub(super) struct Streaming {
    /// What happened to the flows since they were last taken.
    pub(super) events: Vec<FlowEvent>,
    /// Numbers the connections, unless the caller does (a pipeline decoding a share of
    /// the flows, [`Pipeline::set_share`]).
    numbering: Option<Numbering>,
    /// Frames a connection holds before its ended records are handed out.
    pub(super) hand_out_at: usize,
    /// The handed-out records are wanted (else they are dropped, their counts kept).
    parts: bool,
}

impl Pipeline {
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
    /// of one share (a flow's packets all go to the same one, [`super::decode_reader_sharded`]):
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

    /// Streaming mode: hand out a connection's ended records once it holds `frames`
    /// frames (at least 1; [`HAND_OUT_AT`] by default). Tests set 1 to hand out after
    /// every packet.
    pub fn set_hand_out_at(&mut self, frames: usize) {
        if let Some(s) = self.streaming.as_mut() {
            s.hand_out_at = frames.max(1);
        }
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

    /// Streaming mode: hands out the ended records of the flow's connection (called once
    /// it holds [`Pipeline::set_hand_out_at`] frames).
    pub(super) fn hand_out_ended(&mut self, id: FlowId) {
        let Some(s) = self.streaming.as_mut() else {
            return;
        };
        let Some(entry) = self.flows.flow_mut(id) else {
            return;
        };
        let Some(conn) = entry
            .app
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
}

/// Why a streaming decode stopped early.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The capture could not be read at all (see [`super::decode_reader`]).
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
pub(super) fn streaming_on_one_thread<R: Read + Send>(
    reader: R,
    config: SessionConfig,
    setup: StreamSetup,
    mut each: impl FnMut(Handout) -> std::io::Result<()>,
) -> Result<Capture, StreamError> {
    let mut source = CaptureReader::new(reader)?;
    source.keep_secrets(config.keys.inbox.found.clone());
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
