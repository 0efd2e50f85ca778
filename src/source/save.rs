//! Writing packets to a pcapng file (`wsscope live -w OUT.pcapng`): one Section Header
//! Block, one Interface Description Block, and an Enhanced Packet Block per packet,
//! with microsecond timestamps, so the file reopens in wsscope, Wireshark or tcpdump.

use std::io::{self, Write};

use super::Timestamp;

/// Writes a pcapng stream for one interface.
pub struct PcapngWriter<W: Write> {
    out: W,
}

fn block(out: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<()> {
    let pad = (4 - body.len() % 4) % 4;
    let len = (12 + body.len() + pad) as u32;
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&[0u8; 3][..pad])?;
    out.write_all(&len.to_le_bytes())
}

impl<W: Write> PcapngWriter<W> {
    /// Starts the file: a section for an interface named `interface` of LINKTYPE `linktype`.
    pub fn new(mut out: W, linktype: u16, snaplen: u32, interface: &str) -> io::Result<Self> {
        let mut shb = Vec::with_capacity(16);
        shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        block(&mut out, 0x0a0d_0d0a, &shb)?;
        let mut idb = Vec::with_capacity(64);
        idb.extend_from_slice(&linktype.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&snaplen.to_le_bytes());
        // if_name option (2), padded, then opt_endofopt.
        let name = interface.as_bytes();
        let name = &name[..name.len().min(255)];
        idb.extend_from_slice(&2u16.to_le_bytes());
        idb.extend_from_slice(&(name.len() as u16).to_le_bytes());
        idb.extend_from_slice(name);
        idb.extend(std::iter::repeat_n(0u8, (4 - name.len() % 4) % 4));
        idb.extend_from_slice(&[0, 0, 0, 0]);
        block(&mut out, 1, &idb)?;
        Ok(PcapngWriter { out })
    }

    /// Appends one packet (timestamps kept to the microsecond).
    pub fn packet(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let micros = (ts.secs.max(0) as u64) * 1_000_000 + u64::from(ts.nanos / 1000);
        let mut body = Vec::with_capacity(20 + data.len());
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(micros as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&orig_len.to_le_bytes());
        body.extend_from_slice(data);
        block(&mut self.out, 6, &body)
    }

    /// The output written to so far (to take the bytes out of an in-memory one).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{CaptureReader, LinkType};

    #[test]
    fn written_file_reads_back() {
        let mut buf = Vec::new();
        let mut w = PcapngWriter::new(&mut buf, 1, 65535, "lo").expect("header");
        w.packet(
            Timestamp {
                secs: 5,
                nanos: 250_000_000,
            },
            b"abcde",
            5,
        )
        .expect("packet");
        w.packet(
            Timestamp {
                secs: 6,
                nanos: 1_000,
            },
            b"xy",
            90,
        )
        .expect("packet");
        w.flush().expect("flush");
        let mut r = CaptureReader::new(&buf[..]).expect("pcapng");
        let p = r.next_packet().expect("ok").expect("first");
        assert_eq!(
            (p.data, p.link, p.ts),
            (
                &b"abcde"[..],
                LinkType::Ethernet,
                Timestamp {
                    secs: 5,
                    nanos: 250_000_000
                }
            )
        );
        let p = r.next_packet().expect("ok").expect("second");
        assert_eq!((p.data, p.orig_len, p.ts.nanos), (&b"xy"[..], 90, 1_000));
        assert!(r.next_packet().expect("ok").is_none());
    }
}
