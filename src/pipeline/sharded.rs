//! Streaming mode on several cores: flows are independent, so each of `shares` decode
//! threads runs its own [`Pipeline`] over the flows of its share (a flow's packets all go
//! to the same one, chosen by a hash of its addresses), while one thread reads the
//! capture and the caller's thread numbers the connections and writes them.
//!
//! The reader sends every share a batch, maybe empty, for each batch's worth of packets
//! read, so the shares move in step: after round `r` from all of them, every flow whose
//! first packet was read by then has been told ([`FlowEvent::Opened`]), and
//! [`Numbering::settle`] numbers connections exactly as one pipeline would. Output is
//! therefore the same bytes whatever the number of shares; only the limits on open
//! flows and buffered bytes are kept per share (each holds its share of them).

use std::hash::BuildHasher;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::decode::decode_packet;
use crate::model::Capture;
use crate::pipeline::session::SessionConfig;
use crate::source::readahead::{BatchReceiver, channel};
use crate::source::{CaptureReader, PacketRef, Timestamp};
use crate::tcp::flow_key;

use super::drive::{Progress, Steer, drive};
use super::streaming::streaming_on_one_thread;
use super::{FlowEvent, Numbering, Pipeline, StreamError, eviction_note};
use crate::model::Handout;
use std::ops::ControlFlow;

/// Decode threads worth starting on this machine: one per core, at most 4. When the
/// output costs little (the summary), one core is left to the reader: on 2 cores, two
/// decode threads made the summary of a 1 GB capture slower (0.93 s against 0.82 s),
/// while `frames` and `export`, whose output thread is busy, gained 15–24 %.
pub fn default_shards(light_output: bool) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let spare = usize::from(light_output);
    cores.saturating_sub(spare).clamp(1, 4)
}

/// How a streaming decode runs ([`decode_reader_sharded`]).
#[derive(Clone, Copy, Debug)]
pub struct StreamSetup {
    /// A connection hands out its ended records once it holds this many frames
    /// ([`super::HAND_OUT_AT`] outside tests).
    pub hand_out_at: usize,
    /// Decode threads ([`default_shards`]); the handouts do not depend on it.
    pub shares: usize,
    /// The handed-out records are wanted ([`Handout::Part`]); when not (the summary
    /// needs only the counts a connection keeps), they are dropped where decoded.
    pub parts: bool,
}

impl Default for StreamSetup {
    fn default() -> Self {
        StreamSetup {
            hand_out_at: super::HAND_OUT_AT,
            shares: default_shards(false),
            parts: true,
        }
    }
}

/// What a share's thread reports.
enum Report {
    /// One batch decoded: what happened to its flows, and the last packet the reader
    /// had read when it sent the batch ([`crate::source::readahead::Batch::through`]).
    Round(Vec<FlowEvent>, Option<(u64, Timestamp)>),
    /// The share's input ended: the last events, its counts, and flows it retired early.
    Done(Vec<FlowEvent>, Box<Capture>, u64),
}

/// Like [`super::decode_reader_streaming_with`], on `setup.shares` decode threads (1 decodes
/// on the caller's thread, as that function does). `each` is called on the caller's
/// thread with the same handouts, in an order that may differ between parts of
/// different connections, but never within one connection.
pub fn decode_reader_sharded<R: Read + Send>(
    reader: R,
    config: SessionConfig,
    setup: StreamSetup,
    mut each: impl FnMut(Handout) -> std::io::Result<()>,
) -> Result<Capture, StreamError> {
    // Each share keeps at least one flow open: never more shares than flows allowed.
    let shares = setup.shares.min(config.limits.max_flows.max(1));
    let setup = StreamSetup { shares, ..setup };
    if shares <= 1 {
        return streaming_on_one_thread(reader, config, setup, each);
    }
    let mut source = CaptureReader::new(reader)?;
    source.keep_secrets(config.keys.inbox.found.clone());
    let max_flows = config.limits.max_flows;
    let (ahead, inputs) = channel(shares);
    let hasher = foldhash::fast::FixedState::with_seed(0x5753_5343_4f50_4531);
    let route = move |p: &PacketRef<'_>| match decode_packet(p) {
        Ok(seg) => hasher.hash_one(flow_key(seg.src, seg.dst)) as usize,
        // Packets that are not TCP are counted by the first share.
        Err(_) => 0,
    };
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || ahead.run(source, route));
        let mut reports = Vec::with_capacity(shares);
        for (index, input) in inputs.into_iter().enumerate() {
            let (tx, rx) = sync_channel(2);
            let config = config.clone();
            scope.spawn(move || run_share(input, tx, config, setup, index));
            reports.push(rx);
        }
        let merged = merge(&reports, &mut each);
        // On an output error the receivers go away first, which stops every thread.
        drop(reports);
        let end = reader.join().map_err(|_| {
            StreamError::Output(std::io::Error::other("the capture reader thread panicked"))
        })?;
        let (mut capture, through, evicted) = merged?;
        capture.stats.skipped_blocks = end.skipped_blocks;
        capture.stats.first_ts = end.first_ts;
        capture.stats.last_ts = through.map(|(_, ts)| ts);
        if evicted > 0 {
            capture.notes.push(eviction_note(evicted, max_flows));
        }
        if let Err(e) = end.result {
            capture.source_error = Some(e.to_string());
        }
        Ok(capture)
    })
}

/// One share's thread: decodes the packets of its batches, reporting each round.
fn run_share(
    mut input: BatchReceiver,
    reports: SyncSender<Report>,
    config: SessionConfig,
    setup: StreamSetup,
    index: usize,
) {
    let mut pipeline = Pipeline::new(config);
    pipeline.set_share(index, setup.shares);
    pipeline.set_hand_out_at(setup.hand_out_at);
    pipeline.set_parts_wanted(setup.parts);
    if drive(&mut input, &mut pipeline, &mut Rounds(&reports)).is_err() {
        return;
    }
    let events = pipeline.take_flow_events();
    let evicted = pipeline.evicted;
    let capture = std::mem::take(&mut pipeline.capture);
    let _ = reports.send(Report::Done(events, Box::new(capture), evicted));
}

/// Reports what happened to a share's flows after each batch (a round).
struct Rounds<'a>(&'a SyncSender<Report>);

impl Steer for Rounds<'_> {
    /// The caller has gone (an output error): the share stops.
    type Error = ();

    fn batch_done(
        &mut self,
        pipeline: &mut Pipeline,
        progress: Progress,
    ) -> Result<ControlFlow<()>, ()> {
        let events = pipeline.take_flow_events();
        self.0
            .send(Report::Round(events, progress.through))
            .map_err(|_| ())?;
        Ok(ControlFlow::Continue(()))
    }
}

/// What [`merge`] gives back: the shares' summed counts, the last packet read, and the
/// flows retired early.
type Merged = (Capture, Option<(u64, Timestamp)>, u64);

/// The caller's side: takes the shares' reports round by round, numbers connections,
/// hands them to `each`, and sums the shares' counts.
fn merge(
    reports: &[Receiver<Report>],
    each: &mut impl FnMut(Handout) -> std::io::Result<()>,
) -> Result<Merged, StreamError> {
    let mut numbering = Numbering::default();
    let mut capture = Capture::default();
    let mut evicted = 0;
    // Every flow whose first packet is at or before this one has been told.
    let mut known = 0u64;
    let mut last = None;
    loop {
        let mut done = 0;
        for share in reports {
            let report = share.recv().map_err(|_| {
                StreamError::Output(std::io::Error::other("a decode thread stopped early"))
            })?;
            let events = match report {
                Report::Round(events, through) => {
                    last = through.or(last);
                    events
                }
                Report::Done(events, share_capture, share_evicted) => {
                    done += 1;
                    add_counts(&mut capture, *share_capture);
                    evicted += share_evicted;
                    events
                }
            };
            for event in events {
                numbering.accept(event);
                numbering.settle(known);
            }
            for handout in numbering.take_handouts() {
                each(handout)?;
            }
        }
        // Every share has reported this round: flows up to its last packet are known.
        known = if done == reports.len() {
            u64::MAX
        } else {
            last.map_or(known, |(number, _)| number)
        };
        numbering.settle(known);
        for handout in numbering.take_handouts() {
            each(handout)?;
        }
        if done == reports.len() {
            return Ok((capture, last, evicted));
        }
    }
}

/// Adds one share's capture-wide counts to `into`.
fn add_counts(into: &mut Capture, share: Capture) {
    let (to, from) = (&mut into.stats, share.stats);
    to.packets += from.packets;
    to.bytes += from.bytes;
    to.tcp_packets += from.tcp_packets;
    to.cut_packets += from.cut_packets;
    to.tls_keys_matched += from.tls_keys_matched;
    to.tls_keys_given = to.tls_keys_given.max(from.tls_keys_given);
    to.tls_key_logs = to.tls_key_logs.max(from.tls_key_logs);
    to.cut_to = to.cut_to.max(from.cut_to);
    for (reason, n) in from.skipped {
        *to.skipped.entry(reason).or_default() += n;
    }
    for (kind, n) in from.flows {
        *to.flows.entry(kind).or_default() += n;
    }
    into.notes.extend(share.notes);
    into.tls_flows.extend(share.tls_flows);
    into.tls_flows.sort_by_key(|t| t.first_packet);
    into.tls_flows.truncate(crate::model::MAX_TLS_FLOWS_LISTED);
}
