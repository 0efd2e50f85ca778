//! permessage-deflate (RFC 7692): a per-direction inflater that honours the negotiated
//! context takeover and window bits ([`DeflateParams`], read by `http`), bounded in output.
//!
//! A compressed message is raw DEFLATE whose trailing `00 00 ff ff` (an empty stored
//! block from a sync flush) was removed by the sender (§7.2.1); the receiver appends it
//! back and inflates (§7.2.2). With `*_no_context_takeover` the sender starts every
//! message with an empty window, so the receiver may reset too (§7.1.1); with
//! `*_max_window_bits` back-references reach at most 2^bits bytes (§7.1.2).
//!
//! To *check* those two promises, a second inflater configured exactly as negotiated
//! ("strict") runs beside a lenient one (full window, context kept) whose output is used:
//! when only the strict one fails, the sender broke the negotiated parameter.
//!
//! When bytes of the compressed stream are lost from the capture (or the stream began
//! before it), the sender's window holds bytes wsscope never saw. With context takeover
//! a later message may refer back into them, and inflating it through a guessed window
//! would give plausible bytes the peer never sent. Instead two inflaters run side by
//! side ("twins"), started on a window of unknown bytes filled differently (`00` and
//! `ff`): a byte both produce alike came from a literal or from known output, and is
//! exact; where they differ, the message referred to a byte the capture lacks, and its
//! content from there on is unknown (its length is still known: a back-reference copies
//! as many bytes whatever they are). Once a whole window of output has come out alike,
//! the window is known again and one inflater goes on alone.

use flate2::{Decompress, FlushDecompress, Status};

use crate::http::extensions::DeflateParams;

/// The trailer the sender strips and the receiver appends (RFC 7692 §7.2.2).
const TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// Inflate output is produced in pieces of this size.
const CHUNK: usize = 32 * 1024;
/// The largest window a sender may use (RFC 7692 §7.1.2.1: 2^15 bytes).
const WINDOW: usize = 1 << 15;

/// Why a compressed message could not be (fully) inflated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InflateFailure {
    /// Not a valid DEFLATE stream (the message text is lost from there on).
    Corrupt(String),
    /// The stream refers to data from an earlier message although the sender promised
    /// no context takeover.
    ContextTakeover,
    /// The stream refers further back than the negotiated window.
    WindowBits,
    /// The inflated size passed the limit (a deflate bomb or a huge message).
    TooLarge(u64),
}

/// Inflates the compressed messages of one direction.
pub struct Inflater {
    params: DeflateParams,
    lenient: Decompress,
    /// Present when the negotiated parameters are stricter than the lenient defaults.
    strict: Option<Decompress>,
    strict_broken: bool,
    lenient_broken: bool,
    buf: Vec<u8>,
    scratch: Vec<u8>,
    produced: u64,
    limit: u64,
    started: bool,
    /// Set while the window holds bytes the capture lacks (see the module docs).
    twin: Option<Twin>,
}

/// The second inflater of the twins, and what comparing them found.
struct Twin {
    d: Decompress,
    buf: Vec<u8>,
    /// Output bytes since the last byte where the twins differed.
    alike_for: u64,
    /// The current message's output differed: its bytes from `unknown_from` on are not
    /// known.
    unknown_from: Option<u64>,
}

/// A raw inflater whose window starts as `WINDOW` bytes of `fill`.
fn primed(fill: u8) -> Decompress {
    let mut d = Decompress::new(false);
    // Only fails for a dictionary larger than the window, which this is not.
    let _ = d.set_dictionary(&[fill; WINDOW]);
    d
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("params", &self.params)
            .finish()
    }
}

impl Inflater {
    /// An inflater for messages compressed under `params`, producing at most `limit`
    /// bytes per message.
    pub fn new(params: DeflateParams, limit: u64) -> Self {
        let checks = params.no_context_takeover || params.max_window_bits < 15;
        Inflater {
            params,
            lenient: Decompress::new(false),
            strict: checks.then(|| {
                Decompress::new_with_window_bits(false, params.max_window_bits.clamp(9, 15))
            }),
            strict_broken: false,
            lenient_broken: false,
            buf: vec![0; CHUNK],
            // Only the strict inflater writes there: zeroing it for nothing was 1.5 % of
            // a summary's instructions on the benchmark capture.
            scratch: if checks { vec![0; CHUNK] } else { Vec::new() },
            produced: 0,
            limit,
            started: false,
            twin: None,
        }
    }

    /// Bytes of the compressed stream are missing from the capture (or it began before
    /// the capture): without context takeover the next message starts afresh; with it,
    /// the twins take over until the window is known again. The negotiated parameters
    /// can no longer be checked.
    pub fn lose_context(&mut self) {
        self.strict = None;
        self.strict_broken = false;
        self.lenient_broken = false;
        if self.params.no_context_takeover {
            self.lenient = Decompress::new(false);
            self.twin = None;
            return;
        }
        self.lenient = primed(0x00);
        self.twin = Some(Twin {
            d: primed(0xff),
            buf: vec![0; CHUNK],
            alike_for: 0,
            unknown_from: None,
        });
    }

    /// The current message's content is not known from this output byte on (the twins
    /// differ there); `None` when every byte produced so far is exact.
    pub fn unknown_from(&self) -> Option<u64> {
        self.twin.as_ref().and_then(|t| t.unknown_from)
    }

    /// Bytes produced for the current message so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Starts a new compressed message.
    pub fn begin_message(&mut self) {
        self.produced = 0;
        if let Some(twin) = self.twin.as_mut() {
            twin.unknown_from = None;
            if twin.alike_for >= WINDOW as u64 {
                // A whole window came out alike: it is known again.
                self.twin = None;
            }
        }
        if self.lenient_broken {
            self.lenient.reset(false);
            self.lenient_broken = false;
            self.twin = None;
        }
        if self.params.no_context_takeover
            && self.started
            && let Some(strict) = self.strict.as_mut()
        {
            strict.reset(false);
            self.strict_broken = false;
        }
        self.started = true;
    }

    /// Inflates the next piece of the message, handing output to `sink`.
    pub fn feed(
        &mut self,
        input: &[u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), InflateFailure> {
        self.run(input, sink)
    }

    /// Ends the message: appends the stripped trailer and flushes.
    pub fn end_message(&mut self, sink: &mut dyn FnMut(&[u8])) -> Result<(), InflateFailure> {
        self.run(&TRAILER, sink)
    }

    fn run(&mut self, input: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), InflateFailure> {
        if self.lenient_broken {
            return Ok(());
        }
        if let Some(twin) = self.twin.as_mut() {
            let result = inflate_twins(
                &mut self.lenient,
                twin,
                input,
                &mut self.buf,
                self.limit.saturating_sub(self.produced),
                self.produced,
                sink,
            );
            return match result {
                Ok(n) => {
                    self.produced += n;
                    Ok(())
                }
                Err(InflateFailure::TooLarge(n)) => {
                    self.produced += n;
                    self.lenient_broken = true;
                    Err(InflateFailure::TooLarge(self.produced))
                }
                Err(e) => {
                    self.lenient_broken = true;
                    Err(e)
                }
            };
        }
        let lenient = inflate_all(
            &mut self.lenient,
            input,
            &mut self.buf,
            self.limit.saturating_sub(self.produced),
            &mut |out| {
                sink(out);
            },
        );
        let strict_result = match (self.strict.as_mut(), self.strict_broken) {
            (Some(strict), false) => Some(inflate_all(
                strict,
                input,
                &mut self.scratch,
                u64::MAX,
                &mut |_| {},
            )),
            _ => None,
        };
        match lenient {
            Ok(n) => self.produced += n,
            Err(InflateFailure::TooLarge(n)) => {
                self.produced += n;
                self.lenient_broken = true;
                return Err(InflateFailure::TooLarge(self.produced));
            }
            Err(e) => {
                self.lenient_broken = true;
                return Err(e);
            }
        }
        if let Some(Err(_)) = strict_result {
            self.strict_broken = true;
            return Err(if self.params.no_context_takeover {
                InflateFailure::ContextTakeover
            } else {
                InflateFailure::WindowBits
            });
        }
        Ok(())
    }
}

/// Feeds all of `input` through the twins `a` and `twin`, bounded by `budget` output
/// bytes, handing `sink` the output while both agree (within the message, `at` bytes
/// were produced before). Where they first differ, the message's content stops being
/// known; the bytes after that are counted, not handed out. Returns the number of bytes
/// produced.
fn inflate_twins(
    a: &mut Decompress,
    twin: &mut Twin,
    mut input: &[u8],
    buf: &mut [u8],
    budget: u64,
    at: u64,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<u64, InflateFailure> {
    let mut produced = 0u64;
    loop {
        let (a_in, a_out) = (a.total_in(), a.total_out());
        let (b_in, b_out) = (twin.d.total_in(), twin.d.total_out());
        let status = a
            .decompress(input, buf, FlushDecompress::Sync)
            .map_err(|e| InflateFailure::Corrupt(e.to_string()))?;
        let b_status = twin
            .d
            .decompress(input, &mut twin.buf, FlushDecompress::Sync)
            .map_err(|e| InflateFailure::Corrupt(e.to_string()))?;
        let consumed = (a.total_in() - a_in) as usize;
        let written = (a.total_out() - a_out) as usize;
        if consumed != (twin.d.total_in() - b_in) as usize
            || written != (twin.d.total_out() - b_out) as usize
            || status != b_status
        {
            // Both read the same codes: they cannot part ways in length.
            return Err(InflateFailure::Corrupt(
                "the stream's structure depends on bytes the capture lacks".into(),
            ));
        }
        input = &input[consumed.min(input.len())..];
        let piece = &buf[..written];
        let other = &twin.buf[..written];
        let first_diff = piece.iter().zip(other).position(|(x, y)| x != y);
        let last_diff = piece.iter().zip(other).rposition(|(x, y)| x != y);
        match last_diff {
            Some(last) => twin.alike_for = (written - last - 1) as u64,
            None => twin.alike_for += written as u64,
        }
        let known = match (twin.unknown_from, first_diff) {
            (Some(_), _) => 0,
            (None, Some(d)) => {
                twin.unknown_from = Some(at + produced + d as u64);
                d
            }
            (None, None) => written,
        };
        let allowed = (budget - produced).min(known as u64) as usize;
        sink(&piece[..allowed]);
        produced += written as u64;
        if produced > budget {
            return Err(InflateFailure::TooLarge(produced));
        }
        if status == Status::StreamEnd {
            a.reset(false);
            twin.d.reset(false);
            if input.is_empty() {
                return Ok(produced);
            }
            continue;
        }
        if consumed == 0 && written == 0 {
            return Ok(produced);
        }
        if input.is_empty() && written < buf.len() {
            return Ok(produced);
        }
    }
}

/// Feeds all of `input` through `d`, bounded by `budget` output bytes. Returns the
/// number of bytes produced. Stops when inflate makes no progress.
fn inflate_all(
    d: &mut Decompress,
    mut input: &[u8],
    buf: &mut [u8],
    budget: u64,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<u64, InflateFailure> {
    let mut produced = 0u64;
    loop {
        let (in_before, out_before) = (d.total_in(), d.total_out());
        let status = d
            .decompress(input, buf, FlushDecompress::Sync)
            .map_err(|e| InflateFailure::Corrupt(e.to_string()))?;
        let consumed = (d.total_in() - in_before) as usize;
        let written = (d.total_out() - out_before) as usize;
        input = &input[consumed.min(input.len())..];
        let allowed = (budget - produced).min(written as u64) as usize;
        sink(&buf[..allowed]);
        produced += written as u64;
        if produced > budget {
            return Err(InflateFailure::TooLarge(produced));
        }
        if status == Status::StreamEnd {
            // A final block ended the stream: the next message starts a new one.
            d.reset(false);
            if input.is_empty() {
                return Ok(produced);
            }
            continue;
        }
        if consumed == 0 && written == 0 {
            return Ok(produced);
        }
        if input.is_empty() && written < buf.len() {
            return Ok(produced);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};

    /// Compresses like a permessage-deflate sender: raw deflate, sync flush, trailer stripped.
    fn compress_message(c: &mut Compress, msg: &[u8]) -> Vec<u8> {
        let mut out = vec![0; msg.len() * 2 + 64];
        let before = c.total_out();
        c.compress(msg, &mut out, FlushCompress::Sync)
            .expect("compress");
        let n = (c.total_out() - before) as usize;
        out.truncate(n);
        assert!(out.ends_with(&TRAILER));
        out.truncate(n - 4);
        out
    }

    fn inflate(inf: &mut Inflater, wire: &[u8]) -> (Vec<u8>, Result<(), InflateFailure>) {
        let mut out = Vec::new();
        inf.begin_message();
        let r = inf
            .feed(wire, &mut |b| out.extend_from_slice(b))
            .and_then(|_| inf.end_message(&mut |b| out.extend_from_slice(b)));
        (out, r)
    }

    #[test]
    fn rfc7692_example_hello() {
        // RFC 7692 §7.2.3.1: "Hello" compressed, without the trailer.
        let wire = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let mut inf = Inflater::new(DeflateParams::default(), 1 << 20);
        let (out, r) = inflate(&mut inf, &wire);
        assert_eq!(r, Ok(()));
        assert_eq!(out, b"Hello");
        // §7.2.3.2: the second "Hello" with context takeover refers back.
        let (out, r) = inflate(&mut inf, &[0xf2, 0x00, 0x11, 0x00, 0x00]);
        assert_eq!(r, Ok(()));
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn context_takeover_against_promise_is_detected() {
        let mut c = Compress::new(Compression::default(), false);
        let m1 = compress_message(&mut c, b"the same words again and again");
        let m2 = compress_message(&mut c, b"the same words again and again");
        let params = DeflateParams {
            no_context_takeover: true,
            max_window_bits: 15,
        };
        let mut inf = Inflater::new(params, 1 << 20);
        assert_eq!(inflate(&mut inf, &m1).1, Ok(()));
        let (out, r) = inflate(&mut inf, &m2);
        assert_eq!(
            out, b"the same words again and again",
            "lenient output still shown"
        );
        assert_eq!(r, Err(InflateFailure::ContextTakeover));
    }

    #[test]
    fn honest_no_takeover_sender_passes() {
        let params = DeflateParams {
            no_context_takeover: true,
            max_window_bits: 15,
        };
        let mut inf = Inflater::new(params, 1 << 20);
        for _ in 0..3 {
            let mut c = Compress::new(Compression::default(), false);
            let m = compress_message(&mut c, b"repeat repeat repeat");
            let (out, r) = inflate(&mut inf, &m);
            assert_eq!(r, Ok(()));
            assert_eq!(out, b"repeat repeat repeat");
        }
    }

    #[test]
    fn bomb_is_cut_at_the_limit() {
        let zeros = vec![0u8; 10 << 20];
        let mut c = Compress::new(Compression::best(), false);
        let wire = compress_message(&mut c, &zeros);
        assert!(wire.len() < 20_000);
        let mut inf = Inflater::new(DeflateParams::default(), 1 << 20);
        let (out, r) = inflate(&mut inf, &wire);
        assert!(matches!(r, Err(InflateFailure::TooLarge(n)) if n > 1 << 20));
        assert_eq!(out.len(), 1 << 20, "output kept up to the limit");
    }

    #[test]
    fn garbage_is_corrupt() {
        let mut inf = Inflater::new(DeflateParams::default(), 1 << 20);
        let (_, r) = inflate(&mut inf, &[0xff, 0xff, 0xff, 0xff, 0x00]);
        assert!(matches!(r, Err(InflateFailure::Corrupt(_))));
    }
}
