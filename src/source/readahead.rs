//! Reading ahead on a second core: one thread reads the capture and cuts it into
//! packets (system calls, page copies, record parsing, about a third of a decode) while
//! the caller decodes the packets already read, on one thread or on several that each
//! take a share of the packets ([`channel`]). Packets travel in batches of about
//! [`BATCH_BYTES`], at most [`BATCHES_IN_FLIGHT`] at a time per receiver, so memory stays
//! bounded.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{CaptureReader, LinkType, PacketRef, SourceError, Timestamp};

/// Packet bytes per batch.
pub const BATCH_BYTES: usize = 256 << 10;
/// Batches read but not yet decoded, at most.
pub const BATCHES_IN_FLIGHT: usize = 4;

#[derive(Clone, Copy, Debug)]
struct Entry {
    number: u64,
    ts: Timestamp,
    link: LinkType,
    start: usize,
    end: usize,
    orig_len: u32,
}

/// Packets read ahead, copied into one buffer.
#[derive(Debug, Default)]
pub struct Batch {
    data: Vec<u8>,
    entries: Vec<Entry>,
    /// Number and time of the last packet read when the batch was sent, whichever
    /// share it went to ([`channel`]).
    through: Option<(u64, Timestamp)>,
}

impl Batch {
    /// The packets, in capture order.
    pub fn packets(&self) -> impl Iterator<Item = PacketRef<'_>> {
        self.entries.iter().map(|e| PacketRef {
            number: e.number,
            ts: e.ts,
            link: e.link,
            data: self.data.get(e.start..e.end).unwrap_or(&[]),
            orig_len: e.orig_len,
        })
    }

    /// Number and time of the last packet the reader had read when it sent this batch
    /// (with [`channel`], every packet up to it of this batch's share is in this
    /// batch or an earlier one).
    pub fn through(&self) -> Option<(u64, Timestamp)> {
        self.through
    }

    fn push(&mut self, p: &PacketRef<'_>) {
        let start = self.data.len();
        self.data.extend_from_slice(p.data);
        self.entries.push(Entry {
            number: p.number,
            ts: p.ts,
            link: p.link,
            start,
            end: self.data.len(),
            orig_len: p.orig_len,
        });
    }

    fn clear(&mut self) {
        self.data.clear();
        self.entries.clear();
        self.through = None;
    }
}

/// How the reading thread ended.
#[derive(Debug)]
pub struct ReadEnd {
    /// `Err` when the capture was truncated or corrupt (everything before was sent).
    pub result: Result<(), SourceError>,
    /// pcapng blocks without packets that were skipped.
    pub skipped_blocks: u64,
    /// Time of the first packet read, if any.
    pub first_ts: Option<Timestamp>,
}

/// The decoding side: receives batches and hands emptied ones back for reuse.
pub struct BatchReceiver {
    full: Receiver<Batch>,
    empty: SyncSender<Batch>,
    /// [`Batch::through`] of the last batch received.
    through: Option<(u64, Timestamp)>,
}

impl BatchReceiver {
    /// The next batch, `None` once the reader has finished.
    pub fn receive(&mut self) -> Option<Batch> {
        let batch = self.full.recv().ok()?;
        self.through = batch.through();
        Some(batch)
    }

    /// [`Batch::through`] of the last batch received.
    pub fn through(&self) -> Option<(u64, Timestamp)> {
        self.through
    }

    /// Gives a decoded batch back to the reader to fill again.
    pub fn recycle(&self, batch: Batch) {
        let _ = self.empty.try_send(batch);
    }
}

/// The reading side of [`channel`]: run [`ReadAhead::run`] on its own thread.
pub struct ReadAhead {
    full: Vec<SyncSender<Batch>>,
    empty: Receiver<Batch>,
}

/// A reader that shares the packets out among `shares` receivers, each packet to one
/// of them (see [`ReadAhead::run`]). Every receiver gets a batch, maybe empty, for
/// each batch's worth of packets read, so all of them know how far the reader got.
pub fn channel(shares: usize) -> (ReadAhead, Vec<BatchReceiver>) {
    let shares = shares.max(1);
    let (empty_tx, empty_rx) = sync_channel(shares * (BATCHES_IN_FLIGHT + 2));
    let mut full = Vec::with_capacity(shares);
    let mut receivers = Vec::with_capacity(shares);
    for _ in 0..shares {
        let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
        full.push(tx);
        receivers.push(BatchReceiver {
            full: rx,
            empty: empty_tx.clone(),
            through: None,
        });
    }
    (
        ReadAhead {
            full,
            empty: empty_rx,
        },
        receivers,
    )
}

impl ReadAhead {
    /// Reads `source` to its end (or until a receiver is dropped), sending each packet to
    /// receiver `route(packet)` (taken modulo the number of receivers; not called when
    /// there is one).
    pub fn run(
        self,
        mut source: CaptureReader<'_>,
        route: impl Fn(&PacketRef<'_>) -> usize,
    ) -> ReadEnd {
        let shares = self.full.len();
        let mut batches: Vec<Batch> = (0..shares).map(|_| Batch::default()).collect();
        let (mut bytes, mut packets) = (0usize, 0usize);
        let mut first_ts = None;
        let mut last = None;
        let result = loop {
            match source.next_packet() {
                Ok(Some(p)) => {
                    first_ts.get_or_insert(p.ts);
                    last = Some((p.number, p.ts));
                    let share = if shares == 1 { 0 } else { route(&p) % shares };
                    if let Some(batch) = batches.get_mut(share) {
                        batch.push(&p);
                    }
                    bytes += p.data.len();
                    packets += 1;
                    if bytes >= BATCH_BYTES || packets >= BATCH_BYTES / 64 {
                        if !self.send_round(&mut batches, last) {
                            break Ok(());
                        }
                        (bytes, packets) = (0, 0);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        if packets > 0 {
            self.send_round(&mut batches, last);
        }
        ReadEnd {
            result,
            skipped_blocks: source.skipped_blocks(),
            first_ts,
        }
    }

    /// Sends each receiver its batch of this round; false once a receiver is gone.
    fn send_round(&self, batches: &mut [Batch], through: Option<(u64, Timestamp)>) -> bool {
        for (batch, full) in batches.iter_mut().zip(&self.full) {
            let mut next = self.empty.try_recv().unwrap_or_default();
            next.clear();
            let mut sent = std::mem::replace(batch, next);
            sent.through = through;
            if full.send(sent).is_err() {
                return false;
            }
        }
        true
    }
}
