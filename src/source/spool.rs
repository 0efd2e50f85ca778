//! A copy of a stream that cannot be read twice (a pipe), kept so it can be: every
//! byte the capture reader takes from the stream is first written to a file. The
//! terminal UI reads a pipe this way ([`crate::loader::spawn_spooled`]) and decodes
//! connections again from the copy, as it does from a capture file, so its memory stays
//! bounded however much comes down the pipe.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Why the copy stopped, and at which byte of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolFailure {
    /// Bytes of the stream copied before the write failed.
    pub copied: u64,
    /// The write error.
    pub error: String,
}

/// Whether the copy has stopped, shared with whoever reads the spool.
#[derive(Debug, Default)]
pub struct SpoolState {
    /// Set when the copy stops: bytes read from then on are not in it (cheap to test
    /// after each packet).
    pub stopped: AtomicBool,
    /// Why, once it has.
    pub failure: Mutex<Option<SpoolFailure>>,
}

/// Reads from `inner` and writes what it read to `copy` before handing it on. A failed
/// write (a full disk) stops the copying, not the reading: the failure is told through
/// [`Spool::state`] and the stream goes on being decoded.
pub struct Spool<R, W> {
    inner: R,
    copy: Option<W>,
    copied: u64,
    state: Arc<SpoolState>,
}

impl<R: Read, W: Write> Spool<R, W> {
    /// A reader of `inner` that copies it to `copy`.
    pub fn new(inner: R, copy: W) -> Self {
        Spool {
            inner,
            copy: Some(copy),
            copied: 0,
            state: Arc::default(),
        }
    }

    /// Where the copy's failure, if any, will be told (shared, to be read while the
    /// spool is being read on another thread).
    pub fn state(&self) -> Arc<SpoolState> {
        Arc::clone(&self.state)
    }
}

impl<R: Read, W: Write> Read for Spool<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(copy) = self.copy.as_mut() {
            // Written before the bytes are handed on: whatever the decoder has seen is
            // in the copy, so a connection it has finished can be read again from there.
            let written = buf.get(..n).map_or(Ok(()), |read| {
                copy.write_all(read).and_then(|()| copy.flush())
            });
            match written {
                Ok(()) => self.copied += n as u64,
                Err(e) => {
                    self.copy = None;
                    *self
                        .state
                        .failure
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(SpoolFailure {
                        copied: self.copied,
                        error: e.to_string(),
                    });
                    self.state.stopped.store(true, Ordering::Release);
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `room` bytes (into a buffer the test keeps), then fails as a full disk does.
    struct FullAfter {
        taken: Arc<Mutex<Vec<u8>>>,
        room: usize,
    }

    impl Write for FullAfter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut taken = self.taken.lock().expect("lock");
            if taken.len() + buf.len() > self.room {
                return Err(std::io::Error::other("no space left on device"));
            }
            taken.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Hands out at most 7 bytes a read, as a pipe may.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(7);
            let (now, later) = self.0.split_at(n);
            buf[..n].copy_from_slice(now);
            self.0 = later;
            Ok(n)
        }
    }

    #[test]
    fn the_copy_holds_every_byte_read() {
        let stream: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut copy = Vec::new();
        let mut read = Vec::new();
        let mut spool = Spool::new(Trickle(&stream), &mut copy);
        spool.read_to_end(&mut read).expect("read");
        let state = spool.state();
        drop(spool);
        assert_eq!(read, stream);
        assert_eq!(copy, stream);
        assert_eq!(*state.failure.lock().expect("lock"), None);
        assert!(!state.stopped.load(Ordering::Acquire));
    }

    #[test]
    fn a_full_disk_stops_the_copy_not_the_reading() {
        let stream: Vec<u8> = (0..100u8).collect();
        let taken = Arc::new(Mutex::new(Vec::new()));
        let mut spool = Spool::new(
            Trickle(&stream),
            FullAfter {
                taken: Arc::clone(&taken),
                room: 30,
            },
        );
        let mut read = Vec::new();
        spool.read_to_end(&mut read).expect("read");
        assert_eq!(read, stream, "every byte still read");
        let state = spool.state();
        assert!(state.stopped.load(Ordering::Acquire));
        let failure = state.failure.lock().expect("lock").clone();
        let taken = taken.lock().expect("lock").clone();
        // Whole reads were copied until one did not fit; nothing after it was.
        assert!((24..=30).contains(&taken.len()), "{}", taken.len());
        assert_eq!(taken, stream[..taken.len()]);
        assert_eq!(
            failure,
            Some(SpoolFailure {
                copied: taken.len() as u64,
                error: "no space left on device".into()
            })
        );
        assert!(spool.copy.is_none());
    }
}
