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

use flate2::{Decompress, FlushDecompress, Status};

use crate::http::extensions::DeflateParams;

/// The trailer the sender strips and the receiver appends (RFC 7692 §7.2.2).
const TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// Inflate output is produced in pieces of this size.
const CHUNK: usize = 32 * 1024;

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
        }
    }

    /// Starts a new compressed message.
    pub fn begin_message(&mut self) {
        self.produced = 0;
        if self.lenient_broken {
            self.lenient.reset(false);
            self.lenient_broken = false;
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
