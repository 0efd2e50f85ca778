//! Streaming reader for pcap and pcapng files (any byte order, micro- or nanosecond pcap,
//! pcapng with several sections and interfaces), built on `pcap-parser`.
//!
//! The reader pulls from any [`Read`], so a file, stdin (`tcpdump -w - | wsscope summary -`)
//! and an in-memory buffer are read the same way, a block at a time, in bounded memory.

use std::io::Read;

use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapError, create_reader};

use super::PacketRef;
use super::blocks::BlockState;

/// Initial size of the block buffer.
const INITIAL_BUFFER: usize = 1 << 20;
/// Largest single capture record accepted (pcapng blocks may be large, but not without bound).
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Why a capture could not be read (further).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The input is empty.
    #[error("the input is empty: not a pcap or pcapng capture")]
    Empty,
    /// The first bytes are neither a pcap header nor a pcapng section header block.
    #[error("not a pcap or pcapng capture (the first bytes are {0})")]
    NotACapture(String),
    /// The file ends in the middle of a record.
    #[error(
        "the capture is truncated: it ends in the middle of a record at byte {offset} (after packet {packets})"
    )]
    Truncated {
        /// Byte offset of the incomplete record.
        offset: u64,
        /// Packets read before it.
        packets: u64,
    },
    /// A record is larger than [`MAX_RECORD_BYTES`].
    #[error("record at byte {offset} is larger than {limit} bytes; stopping there")]
    RecordTooLarge {
        /// Byte offset of the record.
        offset: u64,
        /// The limit.
        limit: usize,
    },
    /// A record could not be parsed.
    #[error("corrupt record at byte {offset}: {detail}")]
    Corrupt {
        /// Byte offset of the record.
        offset: u64,
        /// What the parser said.
        detail: String,
    },
    /// Reading the underlying file or pipe failed.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
}

/// First four bytes of a pcapng file (the Section Header Block type).
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// Most bytes of a first Section Header Block read before handing over to the parser.
const MAX_SHB_BYTES: usize = 1 << 20;

/// Reads from `reader` until `buf` holds `want` bytes or the input ends.
fn fill_to(reader: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<()> {
    let mut chunk = [0u8; 4096];
    while buf.len() < want {
        let n = reader.read(&mut chunk[..(want - buf.len()).min(4096)])?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

/// What [`CaptureReader::next_buffered`] found.
#[derive(Debug)]
pub enum Next<'a> {
    /// The next packet.
    Packet(PacketRef<'a>),
    /// The next packet is not read yet: [`CaptureReader::next_packet`] reads it.
    NeedsRead,
    /// The capture has ended.
    End,
}

/// Pulls packets one at a time out of a pcap or pcapng stream.
pub struct CaptureReader<'r> {
    inner: Box<dyn PcapReaderIterator + Send + 'r>,
    /// Bytes of the block returned last, consumed on the next call.
    pending_consume: usize,
    /// Total bytes consumed so far (offset of the next record).
    offset: u64,
    packets: u64,
    blocks: BlockState,
    capacity: usize,
}

impl<'r> CaptureReader<'r> {
    /// Opens a capture from any byte stream, sniffing pcap vs pcapng from the first bytes.
    pub fn new<R: Read + Send + 'r>(mut reader: R) -> Result<Self, SourceError> {
        // Read the file header ourselves (a pipe may deliver it in pieces, and
        // `create_reader` looks at the result of a single read): 24 bytes for pcap, the
        // whole section header block for pcapng.
        let mut prefix = Vec::with_capacity(256);
        fill_to(&mut reader, &mut prefix, 12)?;
        if prefix.starts_with(&PCAPNG_MAGIC) && prefix.len() >= 12 {
            let len_bytes = [prefix[4], prefix[5], prefix[6], prefix[7]];
            let block_len = if prefix[8..12] == [0x4d, 0x3c, 0x2b, 0x1a] {
                u32::from_le_bytes(len_bytes)
            } else {
                u32::from_be_bytes(len_bytes)
            };
            fill_to(
                &mut reader,
                &mut prefix,
                (block_len as usize).min(MAX_SHB_BYTES),
            )?;
        } else {
            fill_to(&mut reader, &mut prefix, 24)?;
        }
        if prefix.is_empty() {
            return Err(SourceError::Empty);
        }
        let shown = hex::encode(&prefix[..prefix.len().min(8)]);
        let short = prefix.len() < 24;
        let chained = std::io::Cursor::new(prefix).chain(reader);
        let inner = create_reader(INITIAL_BUFFER, chained).map_err(|e| match e {
            PcapError::Incomplete(_) | PcapError::Eof if short => SourceError::Truncated {
                offset: 0,
                packets: 0,
            },
            _ => SourceError::NotACapture(shown.clone()),
        })?;
        Ok(CaptureReader {
            inner,
            pending_consume: 0,
            offset: 0,
            packets: 0,
            blocks: BlockState::default(),
            capacity: INITIAL_BUFFER,
        })
    }

    /// Byte offset in the capture of the next record to be read.
    pub fn offset(&self) -> u64 {
        self.offset + self.pending_consume as u64
    }

    /// TLS key logs in the capture's Decryption Secrets Blocks go to `found` as they are
    /// read (see [`super::FoundSecrets`]).
    pub fn keep_secrets(&mut self, found: std::sync::Arc<super::FoundSecrets>) {
        self.blocks.secrets = Some(found);
    }

    /// pcapng blocks that carried no packet (statistics, name resolution, unknown types).
    pub fn skipped_blocks(&self) -> u64 {
        self.blocks.skipped_blocks
    }

    /// How many blocks that change how later packets are read (the pcap file header,
    /// pcapng section headers and interface descriptions) were seen so far. Two
    /// positions with the same count read packets the same way, so a reader started on
    /// the file's leading header blocks can resume at the later one
    /// ([`crate::reread`]).
    pub fn layout_blocks(&self) -> u64 {
        self.blocks.layout_blocks
    }

    /// Byte offset of the record of the packet returned last (valid until the next call).
    pub fn record_offset(&self) -> u64 {
        self.offset
    }

    /// Numbers the next packet `number` (for a reader resumed in the middle of a file).
    pub fn set_next_number(&mut self, number: u64) {
        self.packets = number.saturating_sub(1);
    }

    /// Returns the next packet, `Ok(None)` at a clean end of the capture.
    pub fn next_packet(&mut self) -> Result<Option<PacketRef<'_>>, SourceError> {
        match self.next_with(true)? {
            Next::Packet(p) => Ok(Some(p)),
            Next::End | Next::NeedsRead => Ok(None),
        }
    }

    /// Returns the next packet if it is already read into the buffer, without reading
    /// from the input, which may wait (a pipe from a live tcpdump): a caller holding a
    /// lock can decode what has arrived and let go of the lock before it waits.
    pub fn next_buffered(&mut self) -> Result<Next<'_>, SourceError> {
        self.next_with(false)
    }

    fn next_with(&mut self, may_read: bool) -> Result<Next<'_>, SourceError> {
        loop {
            if self.pending_consume > 0 {
                // Without shifting the rest of the buffer to its start: `consume` moved
                // half the buffer each time past its middle (8 % of a summary's
                // instructions); the refill shifts the few bytes left instead.
                self.inner.consume_noshift(self.pending_consume);
                self.offset += self.pending_consume as u64;
                self.pending_consume = 0;
            }
            let step = match self.inner.next() {
                Ok((len, block)) => {
                    let step = self.blocks.handle_block(block);
                    self.pending_consume = len;
                    step
                }
                Err(PcapError::Eof) => return Ok(Next::End),
                Err(PcapError::Incomplete(_) | PcapError::BufferTooSmall) if !may_read => {
                    return Ok(Next::NeedsRead);
                }
                Err(PcapError::Incomplete(_)) => {
                    self.refill()?;
                    continue;
                }
                Err(PcapError::BufferTooSmall) => {
                    // A record (any block: packets, secrets, unknown types) larger than
                    // the buffer: grow it, up to the record limit.
                    self.grow()?;
                    continue;
                }
                Err(PcapError::UnexpectedEof) => return Err(self.truncated()),
                Err(e) => {
                    return Err(SourceError::Corrupt {
                        offset: self.offset,
                        detail: describe(&e),
                    });
                }
            };
            if let Some(packet) = step {
                self.packets += 1;
                // The block is at the start of the parser's buffer until it is consumed.
                let data = self
                    .inner
                    .data()
                    .get(packet.data_at..packet.data_at + packet.caplen)
                    .unwrap_or(&[]);
                return Ok(Next::Packet(PacketRef {
                    number: self.packets,
                    ts: packet.ts,
                    link: packet.link,
                    data,
                    orig_len: packet.orig_len,
                }));
            }
        }
    }

    fn truncated(&self) -> SourceError {
        SourceError::Truncated {
            offset: self.offset,
            packets: self.packets,
        }
    }

    /// More bytes are needed for the current record: read them, growing the buffer
    /// for a large record, and tell a truncated file from a slow pipe.
    fn refill(&mut self) -> Result<(), SourceError> {
        let before = self.inner.data().len();
        if self.inner.reader_exhausted() {
            return Err(self.truncated());
        }
        self.inner.refill().map_err(|_| {
            SourceError::Io(std::io::Error::other("could not read from the capture"))
        })?;
        let after = self.inner.data().len();
        if after > before || self.inner.reader_exhausted() {
            if after == before && self.inner.reader_exhausted() {
                if after == 0 {
                    return Ok(());
                }
                return Err(self.truncated());
            }
            return Ok(());
        }
        // No progress and not at the end: the buffer is full of one record.
        self.grow()
    }

    /// Doubles the buffer for a record that does not fit, then reads more; past
    /// [`MAX_RECORD_BYTES`] the record is refused.
    fn grow(&mut self) -> Result<(), SourceError> {
        if self.capacity >= MAX_RECORD_BYTES {
            return Err(SourceError::RecordTooLarge {
                offset: self.offset + self.pending_consume as u64,
                limit: MAX_RECORD_BYTES,
            });
        }
        self.capacity = (self.capacity * 2).min(MAX_RECORD_BYTES);
        self.inner.grow(self.capacity);
        if !self.inner.reader_exhausted() {
            self.inner.refill().map_err(|_| {
                SourceError::Io(std::io::Error::other("could not read from the capture"))
            })?;
        }
        Ok(())
    }
}

fn describe(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) => format!("parse error ({kind:?})"),
        PcapError::OwnedNomError(_, kind) => format!("parse error ({kind:?})"),
        PcapError::BufferTooSmall => "record larger than the read buffer".to_string(),
        PcapError::ReadError => "read error".to_string(),
        PcapError::HeaderNotRecognized => "header not recognised".to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{LinkType, Timestamp};

    fn pcap_header(magic: [u8; 4], big_endian: bool) -> Vec<u8> {
        let mut v = magic.to_vec();
        let u16b = |x: u16| {
            if big_endian {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            }
        };
        let u32b = |x: u32| {
            if big_endian {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            }
        };
        v.extend_from_slice(&u16b(2));
        v.extend_from_slice(&u16b(4));
        v.extend_from_slice(&u32b(0));
        v.extend_from_slice(&u32b(0));
        v.extend_from_slice(&u32b(65535));
        v.extend_from_slice(&u32b(1));
        v
    }

    fn record(big_endian: bool, sec: u32, frac: u32, data: &[u8]) -> Vec<u8> {
        let u32b = |x: u32| {
            if big_endian {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            }
        };
        let mut v = Vec::new();
        v.extend_from_slice(&u32b(sec));
        v.extend_from_slice(&u32b(frac));
        v.extend_from_slice(&u32b(data.len() as u32));
        v.extend_from_slice(&u32b(data.len() as u32));
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn reads_both_byte_orders_and_precisions() {
        for (magic, be, units) in [
            ([0xd4, 0xc3, 0xb2, 0xa1], false, 1_000_000u32),
            ([0xa1, 0xb2, 0xc3, 0xd4], true, 1_000_000),
            ([0x4d, 0x3c, 0xb2, 0xa1], false, 1_000_000_000),
            ([0xa1, 0xb2, 0x3c, 0x4d], true, 1_000_000_000),
        ] {
            let mut file = pcap_header(magic, be);
            file.extend(record(be, 100, units / 2, b"abc"));
            file.extend(record(be, 101, 1, b"defg"));
            let mut r = CaptureReader::new(&file[..]).expect("header");
            let p = r.next_packet().expect("ok").expect("packet");
            assert_eq!(p.data, b"abc");
            assert_eq!(
                p.ts,
                Timestamp {
                    secs: 100,
                    nanos: 500_000_000
                }
            );
            assert_eq!(p.link, LinkType::Ethernet);
            let p = r.next_packet().expect("ok").expect("packet");
            assert_eq!(p.number, 2);
            assert_eq!(p.ts.nanos, 1_000_000_000 / units);
            assert!(r.next_packet().expect("ok").is_none());
        }
    }

    #[test]
    fn modified_pcap_records_carry_eight_more_header_bytes() {
        // Magic 0xa1b2cd34: each record header adds ifindex (4), protocol (2), packet
        // type (1) and padding (1) before the packet bytes.
        // (pcap-parser reads this format in little-endian order only.)
        let mut file = pcap_header([0x34, 0xcd, 0xb2, 0xa1], false);
        for (sec, data) in [(100u32, &b"abc"[..]), (101, b"defgh")] {
            let plain = record(false, sec, 0, data);
            file.extend_from_slice(&plain[..16]);
            file.extend_from_slice(&[9, 9, 9, 9, 8, 0, 4, 0]);
            file.extend_from_slice(data);
        }
        let mut r = CaptureReader::new(&file[..]).expect("header");
        let p = r.next_packet().expect("ok").expect("packet");
        assert_eq!(p.data, b"abc");
        let p = r.next_packet().expect("ok").expect("packet");
        assert_eq!(p.data, b"defgh");
        assert_eq!(p.ts.secs, 101);
        assert!(r.next_packet().expect("ok").is_none());
    }

    #[test]
    fn cut_record_is_reported_after_the_good_ones() {
        let mut file = pcap_header([0xd4, 0xc3, 0xb2, 0xa1], false);
        file.extend(record(false, 1, 0, b"whole"));
        let cut = record(false, 2, 0, b"cut in half");
        file.extend_from_slice(&cut[..cut.len() - 4]);
        let mut r = CaptureReader::new(&file[..]).expect("header");
        assert!(r.next_packet().expect("first").is_some());
        match r.next_packet() {
            Err(SourceError::Truncated { offset, packets }) => {
                assert_eq!(packets, 1);
                assert_eq!(offset, 24 + 16 + 5);
            }
            other => panic!("expected truncation, got {other:?}"),
        }
    }

    #[test]
    fn rejects_non_captures_and_empty_input() {
        assert!(matches!(
            CaptureReader::new(&b""[..]),
            Err(SourceError::Empty)
        ));
        let text = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n and some more text";
        assert!(matches!(
            CaptureReader::new(&text[..]),
            Err(SourceError::NotACapture(_))
        ));
    }

    #[test]
    fn header_delivered_one_byte_at_a_time() {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() || out.is_empty() {
                    return Ok(0);
                }
                out[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let mut file = pcap_header([0xd4, 0xc3, 0xb2, 0xa1], false);
        file.extend(record(false, 1, 0, b"payload"));
        let mut r = CaptureReader::new(Trickle(&file)).expect("header");
        let p = r.next_packet().expect("ok").expect("packet");
        assert_eq!(p.data, b"payload");
    }

    #[test]
    fn next_buffered_gives_what_is_read_and_says_when_it_must_read() {
        /// Hands out the stream in reads of at most `at_once` bytes.
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(out.len()).min(self.1);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut file = pcap_header([0xd4, 0xc3, 0xb2, 0xa1], false);
        for k in 0..3u8 {
            file.extend(record(false, 1, 0, &[k; 10]));
        }
        // Header and all three records arrive in one read: all buffered.
        let mut r = CaptureReader::new(Chunks(&file, 1 << 20)).expect("header");
        for k in 0..3u8 {
            match r.next_buffered().expect("ok") {
                Next::Packet(p) => assert_eq!(p.data, [k; 10]),
                other => panic!("packet {k}: {other:?}"),
            }
        }
        // Nothing more is buffered, and the input is not known to have ended yet.
        assert!(matches!(r.next_buffered(), Ok(Next::NeedsRead)));
        assert!(r.next_packet().expect("ok").is_none());
        assert!(matches!(r.next_buffered(), Ok(Next::End)));
        // One record per read: each needs a read first.
        let mut r = CaptureReader::new(Chunks(&file, 24 + 26)).expect("header");
        let mut got = Vec::new();
        loop {
            match r.next_buffered().expect("ok") {
                Next::Packet(p) => got.push(p.data[0]),
                Next::NeedsRead => match r.next_packet().expect("ok") {
                    Some(p) => got.push(p.data[0]),
                    None => break,
                },
                Next::End => break,
            }
        }
        assert_eq!(got, [0, 1, 2]);
    }
}

#[cfg(test)]
mod pcapng_tests {
    use super::*;
    use crate::source::{LinkType, Timestamp};

    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let len = (12 + body.len()) as u32;
        let mut v = kind.to_le_bytes().to_vec();
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(&body);
        v.extend_from_slice(&len.to_le_bytes());
        v
    }

    fn shb() -> Vec<u8> {
        let mut body = 0x1a2b_3c4du32.to_le_bytes().to_vec();
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&u64::MAX.to_le_bytes());
        block(0x0a0d_0d0a, &body)
    }

    fn idb(linktype: u16, tsresol: Option<u8>) -> Vec<u8> {
        let mut body = linktype.to_le_bytes().to_vec();
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        if let Some(r) = tsresol {
            body.extend_from_slice(&9u16.to_le_bytes());
            body.extend_from_slice(&1u16.to_le_bytes());
            body.extend_from_slice(&[r, 0, 0, 0]);
            body.extend_from_slice(&[0, 0, 0, 0]);
        }
        block(1, &body)
    }

    fn epb(if_id: u32, ts: u64, data: &[u8]) -> Vec<u8> {
        let mut body = if_id.to_le_bytes().to_vec();
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        block(6, &body)
    }

    #[test]
    fn several_interfaces_link_types_and_resolutions() {
        let mut file = shb();
        file.extend(idb(1, None));
        file.extend(idb(101, Some(9)));
        file.extend(block(0x0bad_cafe, b"an unknown block type"));
        file.extend(epb(0, 1_500_000, b"ether"));
        file.extend(epb(1, 2_000_000_001, b"rawip"));
        let mut r = CaptureReader::new(&file[..]).expect("pcapng");
        let p = r.next_packet().expect("ok").expect("first");
        assert_eq!(
            (p.link, p.data, p.ts),
            (
                LinkType::Ethernet,
                &b"ether"[..],
                Timestamp {
                    secs: 1,
                    nanos: 500_000_000
                }
            )
        );
        let p = r.next_packet().expect("ok").expect("second");
        assert_eq!(
            (p.link, p.data, p.ts),
            (
                LinkType::RawIp,
                &b"rawip"[..],
                Timestamp { secs: 2, nanos: 1 }
            )
        );
        assert!(r.next_packet().expect("ok").is_none());
        assert_eq!(r.skipped_blocks(), 1);
    }

    #[test]
    fn a_block_larger_than_the_buffer_is_skipped_not_fatal() {
        let mut file = shb();
        file.extend(idb(1, None));
        file.extend(epb(0, 1, b"before"));
        file.extend(block(0x0bad_cafe, &vec![7u8; 3 << 20]));
        file.extend(epb(0, 2, b"after"));
        let mut r = CaptureReader::new(&file[..]).expect("pcapng");
        assert_eq!(r.next_packet().expect("ok").expect("first").data, b"before");
        assert_eq!(r.next_packet().expect("ok").expect("second").data, b"after");
        assert!(r.next_packet().expect("ok").is_none());
    }

    #[test]
    fn an_absurd_record_length_is_refused_with_its_offset() {
        let mut file = Vec::new();
        for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
            file.extend_from_slice(&v.to_le_bytes());
        }
        for v in [1u32, 0, 0x7fff_ffff, 0x7fff_ffff] {
            file.extend_from_slice(&v.to_le_bytes());
        }
        file.extend(std::iter::repeat_n(0u8, 100 << 20));
        let mut r = CaptureReader::new(&file[..]).expect("pcap");
        match r.next_packet() {
            Err(SourceError::RecordTooLarge { offset, limit }) => {
                assert_eq!((offset, limit), (24, MAX_RECORD_BYTES))
            }
            other => panic!("expected RecordTooLarge, got {other:?}"),
        }
    }

    #[test]
    fn zero_length_records_and_a_cut_block() {
        let mut file = shb();
        file.extend(idb(1, None));
        file.extend(epb(0, 0, b""));
        let last = epb(0, 1, b"0123456789");
        file.extend_from_slice(&last[..last.len() - 7]);
        let mut r = CaptureReader::new(&file[..]).expect("pcapng");
        assert_eq!(
            r.next_packet()
                .expect("ok")
                .expect("empty packet")
                .data
                .len(),
            0
        );
        assert!(matches!(
            r.next_packet(),
            Err(SourceError::Truncated { packets: 1, .. })
        ));
    }
}
