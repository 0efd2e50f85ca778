//! `wsscope summary`, `frames` and `export` on a live capture (`-i IFACE`, feature
//! `live`): frames and JSON lines are written as they are decoded and then let go, so
//! memory follows the open connections, not how long the capture runs; the summary is
//! written when the capture stops.

use std::io::{self, Write};
use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use crate::export::stream::{StreamFormat, Streamer};
use crate::export::{Format, Renderer, frames, jsonl, summary};
use crate::model::Capture;
use crate::pipeline::Pipeline;
use crate::pipeline::drive::{Packets, Progress, Steer, drive};
use crate::pipeline::keep::Purpose;
use crate::pipeline::session::SessionConfig;
use crate::source::live::LiveCapture;
use crate::source::{PacketRef, SourceError};

/// How long to wait for a packet before looking again whether the capture has stopped.
const WAIT: Duration = Duration::from_millis(100);

/// What a live output ended with.
#[derive(Debug)]
pub struct LiveOutput {
    /// What was decoded (records already written were let go; counts stay).
    pub capture: Capture,
    /// The reader of the output went away (a closed pipe): the capture was asked to
    /// stop, and nothing more was written.
    pub output_closed: bool,
}

/// Decodes `live` until it stops (its queue disconnects), writing `renderer`'s output
/// to `out` as it goes; `name` names the capture in the summary. A closed pipe stops
/// the capture (`live.stop`) instead of failing.
pub fn write_live(
    live: &LiveCapture,
    base: &SessionConfig,
    renderer: Renderer,
    name: &str,
    out: &mut dyn Write,
) -> io::Result<LiveOutput> {
    let mut pipeline = Pipeline::new(Purpose::LiveOutput.config(base));
    pipeline.set_live(true);
    let mut steer = WriteAsDecoded {
        streamer: match renderer.format {
            Format::Summary => None,
            Format::Frames => Some(Streamer::new(StreamFormat::Frames)),
            Format::Jsonl => Some(Streamer::new(StreamFormat::Jsonl)),
        },
        out,
        closed: false,
        live,
    };
    let mut packets = Queue(live);
    drive(&mut packets, &mut pipeline, &mut steer)?;
    let WriteAsDecoded {
        streamer,
        out,
        closed,
        ..
    } = steer;
    let capture = pipeline.capture;
    if !closed {
        let written = match streamer {
            Some(mut s) => s.write_new(out, &capture, true),
            None => match renderer.format {
                Format::Summary => summary::write(out, &capture, name),
                Format::Frames => frames::write(out, &capture, renderer.only),
                Format::Jsonl => jsonl::write(out, &capture, renderer.only),
            },
        };
        match written.and_then(|_| out.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
            other => other?,
        }
    }
    Ok(LiveOutput {
        capture,
        output_closed: closed,
    })
}

/// A live capture's queue as a drive's packets: each batch is what has arrived.
struct Queue<'a>(&'a LiveCapture);

impl Packets for Queue<'_> {
    fn next_batch(
        &mut self,
        each: &mut dyn FnMut(&PacketRef<'_>) -> ControlFlow<()>,
    ) -> Result<bool, SourceError> {
        let live = self.0;
        let first = loop {
            match live.packets.recv_timeout(WAIT) {
                Ok(p) => break p,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Ok(false),
            }
        };
        let mut next = Some(first);
        while let Some(p) = next.take() {
            let packet = PacketRef {
                number: p.number,
                ts: p.ts,
                link: live.link(),
                data: &p.data,
                orig_len: p.orig_len,
            };
            if each(&packet).is_break() {
                break;
            }
            next = live.packets.try_recv().ok();
        }
        Ok(true)
    }
}

/// After each batch, writes what became complete and lets go of what was written.
struct WriteAsDecoded<'a> {
    /// `None` for the summary, written at the end.
    streamer: Option<Streamer>,
    out: &'a mut dyn Write,
    closed: bool,
    live: &'a LiveCapture,
}

impl Steer for WriteAsDecoded<'_> {
    type Error = io::Error;

    fn batch_done(
        &mut self,
        pipeline: &mut Pipeline,
        _progress: Progress,
    ) -> io::Result<ControlFlow<()>> {
        if let Some(s) = self.streamer.as_mut()
            && let Err(e) = s.write_new(self.out, &pipeline.capture, false)
        {
            if e.kind() != io::ErrorKind::BrokenPipe {
                return Err(e);
            }
            self.closed = true;
            self.live.stop.store(true, Ordering::Relaxed);
        }
        // What was written (or, for the summary, counted) is not kept: memory follows
        // the open connections, not how long the capture runs.
        match self.streamer.as_mut() {
            Some(s) => {
                s.release_with(|i, frames, messages| pipeline.release_records(i, frames, messages))
            }
            None => {
                for i in 0..pipeline.capture.connections.len() {
                    pipeline.release_records(i, usize::MAX, usize::MAX);
                }
            }
        }
        Ok(ControlFlow::Continue(()))
    }
}
