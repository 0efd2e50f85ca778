//! Writes a set of hostile or broken captures, to check that wsscope stays bounded in
//! memory and time and says clearly what is wrong:
//! `cargo run --release --example gen_hostile -- OUTDIR [NAME ...]`
//! (with names, only those files are written; `--list` prints the names).
//!
//! Every file is deterministic (fixed seeds, fixed timestamps). The bytes are written
//! directly, like `examples/gen_capture.rs`: Ethernet/IPv4/TCP packets in a little-endian
//! microsecond pcap (or a pcapng for `unknown-blocks.pcapng`).
//!
//! | file | what |
//! |---|---|
//! | `len-2pow63.pcap` | valid handshake, a client frame announcing 2^63 bytes, one announcing 2^62, then ~50 MB of payload |
//! | `endless-fragments.pcap` | a text message with FIN=0 and 2 million 10-byte continuation frames, never finished |
//! | `million-flows.pcap` | 1,000,000 flows, each a SYN and ~200 bytes of an Upgrade request head, never completed |
//! | `tiny-segments.pcap` | one connection whose ~5 MB of client bytes arrive as 1-byte TCP segments |
//! | `deflate-bomb.pcap` | permessage-deflate, one ~1 MiB compressed message inflating to 1 GiB of zeros |
//! | `zero-and-oversized-records.pcap` | records with caplen 0, then a record header claiming caplen 0x7fffffff, then EOF |
//! | `unknown-blocks.pcapng` | unknown and custom pcapng blocks (one of 3 MiB) between the blocks of a WebSocket connection |
//! | `cut-mid-record.pcap` | a valid capture with a few messages, cut in the middle of its last record |
//! | `out-of-order-flood.pcap` | the client's first WebSocket segment is missing, then 100 MB of later segments |
//! | `early-data-flood.pcap` | 2,000 connections that send an Upgrade request and 2 MB more, never answered |

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use flate2::{Compress, Compression, FlushCompress};
use sha1::{Digest, Sha1};

const MSS: usize = 1448;
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const SYN_ACK: u8 = 0x12;
const PSH_ACK: u8 = 0x18;
const FIN_ACK: u8 = 0x11;
const MIB: usize = 1 << 20;

/// An IPv4 endpoint.
type Addr = ([u8; 4], u16);

const SERVER: Addr = ([10, 0, 0, 1], 80);

/// xorshift64: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn key(&mut self) -> [u8; 4] {
        (self.next() as u32).to_be_bytes()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcap,
    Pcapng,
}

/// A capture file being written packet by packet.
struct Writer {
    out: BufWriter<File>,
    path: PathBuf,
    format: Format,
    ts_usec: u64,
    packet: Vec<u8>,
    written: u64,
    last_record: (u64, u64),
}

impl Writer {
    fn create(path: PathBuf, format: Format) -> io::Result<Writer> {
        let mut w = Writer {
            out: BufWriter::with_capacity(MIB, File::create(&path)?),
            path,
            format,
            ts_usec: 0,
            packet: Vec::with_capacity(2048),
            written: 0,
            last_record: (0, 0),
        };
        match format {
            Format::Pcap => {
                let mut h = Vec::with_capacity(24);
                h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
                h.extend_from_slice(&2u16.to_le_bytes());
                h.extend_from_slice(&4u16.to_le_bytes());
                h.extend_from_slice(&0i32.to_le_bytes());
                h.extend_from_slice(&0u32.to_le_bytes());
                h.extend_from_slice(&262_144u32.to_le_bytes());
                h.extend_from_slice(&1u32.to_le_bytes());
                w.put(&h)?;
            }
            Format::Pcapng => {
                // Section Header Block: byte-order magic, version 1.0, unknown section length.
                let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
                shb.extend_from_slice(&1u16.to_le_bytes());
                shb.extend_from_slice(&0u16.to_le_bytes());
                shb.extend_from_slice(&u64::MAX.to_le_bytes());
                w.block(0x0a0d_0d0a, &shb)?;
                // Interface Description Block: Ethernet, snaplen 262144, microseconds.
                let mut idb = 1u16.to_le_bytes().to_vec();
                idb.extend_from_slice(&0u16.to_le_bytes());
                idb.extend_from_slice(&262_144u32.to_le_bytes());
                w.block(1, &idb)?;
            }
        }
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// A pcapng block of any type (the body is padded to 32 bits).
    fn block(&mut self, kind: u32, body: &[u8]) -> io::Result<()> {
        let pad = (4 - body.len() % 4) % 4;
        let len = (12 + body.len() + pad) as u32;
        self.put(&kind.to_le_bytes())?;
        self.put(&len.to_le_bytes())?;
        self.put(body)?;
        self.put(&[0u8; 3][..pad])?;
        self.put(&len.to_le_bytes())
    }

    /// A pcap record header with arbitrary lengths (for broken records), then `data`.
    fn raw_record(&mut self, caplen: u32, origlen: u32, data: &[u8]) -> io::Result<()> {
        self.ts_usec += 37;
        let sec = (self.ts_usec / 1_000_000) as u32 + 1_700_000_000;
        let usec = (self.ts_usec % 1_000_000) as u32;
        self.last_record.0 = self.written;
        for v in [sec, usec, caplen, origlen] {
            self.put(&v.to_le_bytes())?;
        }
        self.put(data)?;
        self.last_record.1 = self.written - self.last_record.0;
        Ok(())
    }

    /// Writes the packet in `self.packet` as one record.
    fn record(&mut self) -> io::Result<()> {
        let p = std::mem::take(&mut self.packet);
        let len = p.len() as u32;
        let result = match self.format {
            Format::Pcap => self.raw_record(len, len, &p),
            Format::Pcapng => {
                self.ts_usec += 37;
                let ts = self.ts_usec + 1_700_000_000 * 1_000_000;
                let mut body = Vec::with_capacity(20 + p.len());
                body.extend_from_slice(&0u32.to_le_bytes());
                body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
                body.extend_from_slice(&(ts as u32).to_le_bytes());
                body.extend_from_slice(&len.to_le_bytes());
                body.extend_from_slice(&len.to_le_bytes());
                body.extend_from_slice(&p);
                self.block(6, &body)
            }
        };
        self.packet = p;
        result
    }

    /// One Ethernet/IPv4/TCP packet.
    fn tcp(
        &mut self,
        src: Addr,
        dst: Addr,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> io::Result<()> {
        let p = &mut self.packet;
        p.clear();
        p.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        let total = (20 + 20 + payload.len()) as u16;
        let mut ip = [
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            6,
            0,
            0,
            src.0[0],
            src.0[1],
            src.0[2],
            src.0[3],
            dst.0[0],
            dst.0[1],
            dst.0[2],
            dst.0[3],
        ];
        let mut sum: u32 = ip
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        let check = !(sum as u16);
        ip[10..12].copy_from_slice(&check.to_be_bytes());
        p.extend_from_slice(&ip);
        p.extend_from_slice(&src.1.to_be_bytes());
        p.extend_from_slice(&dst.1.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ack.to_be_bytes());
        p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        self.record()
    }

    fn finish(mut self) -> io::Result<PathBuf> {
        self.out.flush()?;
        Ok(self.path)
    }
}

/// One TCP connection: its endpoints and the next sequence number of each direction
/// (index 0 the client's, 1 the server's).
struct Conn {
    client: Addr,
    server: Addr,
    seq: [u32; 2],
}

impl Conn {
    /// SYN, SYN-ACK, ACK.
    fn open(w: &mut Writer, client: Addr, server: Addr, isn: [u32; 2]) -> io::Result<Conn> {
        w.tcp(client, server, isn[0], 0, SYN, &[])?;
        w.tcp(server, client, isn[1], isn[0].wrapping_add(1), SYN_ACK, &[])?;
        let c = Conn {
            client,
            server,
            seq: [isn[0].wrapping_add(1), isn[1].wrapping_add(1)],
        };
        w.tcp(client, server, c.seq[0], c.seq[1], ACK, &[])?;
        Ok(c)
    }

    /// One segment carrying all of `bytes`.
    fn segment(&mut self, w: &mut Writer, from_client: bool, bytes: &[u8]) -> io::Result<()> {
        let d = usize::from(!from_client);
        let (src, dst) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        w.tcp(src, dst, self.seq[d], self.seq[1 - d], PSH_ACK, bytes)?;
        self.seq[d] = self.seq[d].wrapping_add(bytes.len() as u32);
        Ok(())
    }

    /// `bytes` in segments of at most `mss` bytes.
    fn send_mss(
        &mut self,
        w: &mut Writer,
        from_client: bool,
        bytes: &[u8],
        mss: usize,
    ) -> io::Result<()> {
        for chunk in bytes.chunks(mss) {
            self.segment(w, from_client, chunk)?;
        }
        Ok(())
    }

    fn send(&mut self, w: &mut Writer, from_client: bool, bytes: &[u8]) -> io::Result<()> {
        self.send_mss(w, from_client, bytes, MSS)
    }

    /// `n` bytes of one direction that the capture lost: the sequence number moves on.
    fn lose(&mut self, from_client: bool, n: usize) {
        let d = usize::from(!from_client);
        self.seq[d] = self.seq[d].wrapping_add(n as u32);
    }

    fn close(&mut self, w: &mut Writer) -> io::Result<()> {
        w.tcp(
            self.client,
            self.server,
            self.seq[0],
            self.seq[1],
            FIN_ACK,
            &[],
        )?;
        self.seq[0] = self.seq[0].wrapping_add(1);
        w.tcp(
            self.server,
            self.client,
            self.seq[1],
            self.seq[0],
            FIN_ACK,
            &[],
        )?;
        self.seq[1] = self.seq[1].wrapping_add(1);
        w.tcp(self.client, self.server, self.seq[0], self.seq[1], ACK, &[])
    }
}

/// A Sec-WebSocket-Key (base64 of 16 bytes) derived from `seed`.
fn ws_key(seed: u64) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let bytes: Vec<u8> = (0..16).map(|_| rng.next() as u8).collect();
    BASE64.encode(bytes)
}

fn ws_accept(key: &str) -> String {
    BASE64.encode(Sha1::digest(format!("{key}{GUID}").as_bytes()))
}

fn upgrade_request(key: &str, extensions: Option<&str>) -> String {
    let ext = extensions
        .map(|e| format!("Sec-WebSocket-Extensions: {e}\r\n"))
        .unwrap_or_default();
    format!(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{ext}Origin: http://example.com\r\n\r\n"
    )
}

fn upgrade_response(key: &str, extensions: Option<&str>) -> String {
    let ext = extensions
        .map(|e| format!("Sec-WebSocket-Extensions: {e}\r\n"))
        .unwrap_or_default();
    let accept = ws_accept(key);
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{ext}\r\n"
    )
}

/// A complete, valid opening handshake on `c` (request and 101 response).
fn handshake(
    w: &mut Writer,
    c: &mut Conn,
    seed: u64,
    offer: Option<&str>,
    accept: Option<&str>,
) -> io::Result<()> {
    let key = ws_key(seed);
    c.send(w, true, upgrade_request(&key, offer).as_bytes())?;
    c.send(w, false, upgrade_response(&key, accept).as_bytes())
}

/// A frame header with the shortest length encoding.
fn frame_header(b0: u8, len: u64, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut h = Vec::with_capacity(14);
    h.push(b0);
    let m = if mask.is_some() { 0x80 } else { 0 };
    if len < 126 {
        h.push(m | len as u8);
    } else if len < 65536 {
        h.push(m | 126);
        h.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        h.push(m | 127);
        h.extend_from_slice(&len.to_be_bytes());
    }
    if let Some(k) = mask {
        h.extend_from_slice(&k);
    }
    h
}

/// A whole frame: header, then the payload masked with `mask` if given.
fn frame(b0: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = frame_header(b0, payload.len() as u64, mask);
    match mask {
        Some(k) => f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4])),
        None => f.extend_from_slice(payload),
    }
    f
}

/// A short JSON-ish text payload of about `len` bytes.
fn text_payload(n: u64, len: usize) -> Vec<u8> {
    let prefix = format!("{{\"seq\":{n},\"note\":\"");
    let mut s = prefix.clone();
    while s.len() + 2 < len {
        s.push_str("tick ");
    }
    s.truncate(len.saturating_sub(2).max(prefix.len()));
    s.push_str("\"}");
    s.into_bytes()
}

/// Normal closing handshake and TCP close.
fn ws_close(w: &mut Writer, c: &mut Conn, rng: &mut Rng) -> io::Result<()> {
    c.send(w, true, &frame(0x88, &[0x03, 0xe8], Some(rng.key())))?;
    c.send(w, false, &frame(0x88, &[0x03, 0xe8], None))?;
    c.close(w)
}

// ---------------------------------------------------------------------------------------
// The files.

/// A valid handshake, then a client frame announcing 2^63 payload bytes (64-bit length
/// with its most significant bit set: RFC 6455 §5.2 forbids it), then at the start of the
/// next segment one announcing 2^62 (MSB clear), followed by ~50 MB of its payload in
/// 1448-byte segments. The server sends a 2^63 frame too.
fn len_2pow63(dir: &Path) -> io::Result<PathBuf> {
    let mut w = Writer::create(dir.join("len-2pow63.pcap"), Format::Pcap)?;
    let mut c = Conn::open(
        &mut w,
        ([10, 1, 0, 2], 40001),
        SERVER,
        [0x1000_0000, 0x2000_0000],
    )?;
    handshake(&mut w, &mut c, 63, None, None)?;
    // Keep the mask key constant: its bytes (0x37 0xfa 0x21 0x3d) never look like a
    // frame header, so whether wsscope resynchronises depends only on the headers.
    let key = [0x37, 0xfa, 0x21, 0x3d];
    c.segment(&mut w, true, &frame_header(0x82, 1 << 63, Some(key)))?;
    c.segment(&mut w, false, &frame_header(0x82, 1 << 63, None))?;
    c.segment(&mut w, false, &[0u8; 100])?;
    let total = 50_000_000usize;
    let mut first = frame_header(0x82, 1 << 62, Some(key));
    let take = MSS - first.len();
    first.extend((0..take).map(|i| key[i % 4]));
    c.segment(&mut w, true, &first)?;
    // Masked zeros: the payload is the key repeated; MSS is a multiple of 4.
    let seg: Vec<u8> = (0..MSS).map(|i| key[(i + take) % 4]).collect();
    let mut sent = take;
    while sent < total {
        let n = MSS.min(total - sent);
        c.segment(&mut w, true, &seg[..n])?;
        sent += n;
    }
    w.finish()
}

/// A text message with FIN=0, then 2,000,000 continuation frames of 10 bytes each
/// (FIN=0 as well), never finished; the frames run back to back across 1448-byte segments.
fn endless_fragments(dir: &Path) -> io::Result<PathBuf> {
    let mut w = Writer::create(dir.join("endless-fragments.pcap"), Format::Pcap)?;
    let mut rng = Rng(0xf7a9);
    let mut c = Conn::open(
        &mut w,
        ([10, 1, 0, 3], 40002),
        SERVER,
        [0x3000_0000, 0x4000_0000],
    )?;
    handshake(&mut w, &mut c, 2, None, None)?;
    let mut pending = frame(0x01, b"fragment 0", Some(rng.key()));
    for i in 1..=2_000_000u32 {
        let payload = format!("{i:>10}");
        pending.extend(frame(0x00, payload.as_bytes(), Some(rng.key())));
        if pending.len() >= MSS {
            let rest = pending.split_off(MSS);
            c.segment(&mut w, true, &pending)?;
            pending = rest;
        }
    }
    c.send(&mut w, true, &pending)?;
    w.finish()
}

/// 1,000,000 distinct flows (distinct client addresses), each a SYN and one segment of
/// ~200 bytes of an HTTP Upgrade request head that never ends.
fn million_flows(dir: &Path) -> io::Result<PathBuf> {
    let mut w = Writer::create(dir.join("million-flows.pcap"), Format::Pcap)?;
    let mut rng = Rng(0x1_000_000);
    for i in 0..1_000_000u32 {
        let client: Addr = (
            [10, 16 + (i >> 16) as u8, (i >> 8) as u8, i as u8],
            1024 + (i % 60_000) as u16,
        );
        let isn = rng.next() as u32;
        w.tcp(client, SERVER, isn, 0, SYN, &[])?;
        let key = ws_key(u64::from(i));
        let head = format!(
            "GET /chat/{i:07} HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: hostile/1 (never finis"
        );
        w.tcp(
            client,
            SERVER,
            isn.wrapping_add(1),
            1,
            PSH_ACK,
            head.as_bytes(),
        )?;
    }
    w.finish()
}

/// One connection whose client bytes (the Upgrade request and ~5 MB of frames) all arrive
/// as 1-byte TCP segments; the server's answers are normal segments.
fn tiny_segments(dir: &Path) -> io::Result<PathBuf> {
    let mut w = Writer::create(dir.join("tiny-segments.pcap"), Format::Pcap)?;
    let mut rng = Rng(0x7147);
    let mut c = Conn::open(
        &mut w,
        ([10, 1, 0, 4], 40003),
        SERVER,
        [0x5000_0000, 0x6000_0000],
    )?;
    let key = ws_key(4);
    c.send_mss(&mut w, true, upgrade_request(&key, None).as_bytes(), 1)?;
    c.send(&mut w, false, upgrade_response(&key, None).as_bytes())?;
    let mut client_bytes = 0usize;
    let mut n = 0u64;
    while client_bytes < 5_000_000 {
        n += 1;
        let f = if rng.below(20) == 0 {
            let len = 4096 + rng.below(60 * 1024) as usize;
            let seed = rng.next() as u8;
            let data: Vec<u8> = (0..len).map(|i| seed.wrapping_add((i / 7) as u8)).collect();
            frame(0x82, &data, Some(rng.key()))
        } else {
            let len = 20 + rng.below(480) as usize;
            frame(0x81, &text_payload(n, len), Some(rng.key()))
        };
        client_bytes += f.len();
        c.send_mss(&mut w, true, &f, 1)?;
        if n.is_multiple_of(100) {
            c.send(&mut w, false, &frame(0x81, &text_payload(n, 40), None))?;
        }
    }
    ws_close(&mut w, &mut c, &mut rng)?;
    w.finish()
}

/// permessage-deflate is negotiated; the client sends one compressed text message
/// (RSV1): ~1 MiB of raw DEFLATE (sync flush, trailing 00 00 ff ff stripped) that inflates
/// to 1 GiB of zeros.
fn deflate_bomb(dir: &Path) -> io::Result<PathBuf> {
    let mut w = Writer::create(dir.join("deflate-bomb.pcap"), Format::Pcap)?;
    let mut rng = Rng(0xb0b);
    let mut c = Conn::open(
        &mut w,
        ([10, 1, 0, 5], 40004),
        SERVER,
        [0x7000_0000, 0x0800_0000],
    )?;
    handshake(
        &mut w,
        &mut c,
        5,
        Some("permessage-deflate; client_max_window_bits"),
        Some("permessage-deflate"),
    )?;
    let mut z = Compress::new(Compression::best(), false);
    let zeros = vec![0u8; MIB];
    let mut wire = Vec::with_capacity(2 * MIB);
    for _ in 0..1024 {
        let mut input = &zeros[..];
        while !input.is_empty() {
            wire.reserve(64 * 1024);
            let before = z.total_in();
            z.compress_vec(input, &mut wire, FlushCompress::None)
                .map_err(io::Error::other)?;
            input = &input[(z.total_in() - before) as usize..];
        }
    }
    loop {
        wire.reserve(64 * 1024);
        let before = wire.len();
        z.compress_vec(&[], &mut wire, FlushCompress::Sync)
            .map_err(io::Error::other)?;
        if wire.ends_with(&[0, 0, 0xff, 0xff]) && wire.len() - before < 64 * 1024 {
            break;
        }
    }
    wire.truncate(wire.len() - 4);
    c.send(&mut w, true, &frame(0xc1, &wire, Some(rng.key())))?;
    c.send(&mut w, false, &frame(0x81, b"thanks", None))?;
    ws_close(&mut w, &mut c, &mut rng)?;
    w.finish()
}

/// A few valid packets (a handshake and a message), then 1,000 records with caplen 0
/// (origlen 0) and 1,000 with caplen 0 but origlen 1514, then a record header claiming
/// caplen = origlen = 0x7fffffff followed by 64 bytes, and the file ends.
fn zero_and_oversized(dir: &Path) -> io::Result<PathBuf> {
    let mut w = Writer::create(dir.join("zero-and-oversized-records.pcap"), Format::Pcap)?;
    let mut rng = Rng(0x2e70);
    let mut c = Conn::open(
        &mut w,
        ([10, 1, 0, 6], 40005),
        SERVER,
        [0x0900_0000, 0x0a00_0000],
    )?;
    handshake(&mut w, &mut c, 6, None, None)?;
    c.send(
        &mut w,
        true,
        &frame(0x81, b"hello before the bad records", Some(rng.key())),
    )?;
    for _ in 0..1000 {
        w.raw_record(0, 0, &[])?;
    }
    for _ in 0..1000 {
        w.raw_record(0, 1514, &[])?;
    }
    w.raw_record(0x7fff_ffff, 0x7fff_ffff, &[0xab; 64])?;
    w.finish()
}

/// A pcapng: SHB, IDB, an unknown block type, then a WebSocket connection whose packets
/// are interleaved with a Custom Block (0x00000BAD), a block type reserved for local use
/// (0x80000001) and an unknown block of 3 MiB (larger than wsscope's first read buffer).
fn unknown_blocks(dir: &Path) -> io::Result<PathBuf> {
    let mut w = Writer::create(dir.join("unknown-blocks.pcapng"), Format::Pcapng)?;
    let mut rng = Rng(0x0bad);
    w.block(
        0x0bad_cafe,
        b"an unknown block type between the IDB and the first packet",
    )?;
    let mut c = Conn::open(
        &mut w,
        ([10, 1, 0, 7], 40006),
        SERVER,
        [0x0b00_0000, 0x0c00_0000],
    )?;
    let mut custom = 32473u32.to_le_bytes().to_vec();
    custom.extend_from_slice(b"custom block data, copiable");
    w.block(0x0000_0bad, &custom)?;
    handshake(&mut w, &mut c, 7, None, None)?;
    w.block(0x8000_0001, &[0x5a; 100])?;
    for n in 0..20u64 {
        let len = 20 + rng.below(300) as usize;
        c.send(
            &mut w,
            true,
            &frame(0x81, &text_payload(n, len), Some(rng.key())),
        )?;
        c.send(&mut w, false, &frame(0x81, &text_payload(n, len), None))?;
        if n == 10 {
            let big: Vec<u8> = (0..3 * MIB).map(|i| (i % 251) as u8).collect();
            w.block(0x0bad_f00d, &big)?;
        }
    }
    ws_close(&mut w, &mut c, &mut rng)?;
    w.block(0x0bad_cafe, b"and one after the last packet")?;
    w.finish()
}

/// A valid capture with a few messages, cut in the middle of its last record (a server
/// text frame).
fn cut_mid_record(dir: &Path) -> io::Result<PathBuf> {
    let mut w = Writer::create(dir.join("cut-mid-record.pcap"), Format::Pcap)?;
    let mut rng = Rng(0xc07);
    let mut c = Conn::open(
        &mut w,
        ([10, 1, 0, 8], 40007),
        SERVER,
        [0x0d00_0000, 0x0e00_0000],
    )?;
    handshake(&mut w, &mut c, 8, None, None)?;
    for n in 0..5u64 {
        c.send(
            &mut w,
            true,
            &frame(0x81, &text_payload(n, 60), Some(rng.key())),
        )?;
        c.send(&mut w, false, &frame(0x81, &text_payload(n, 80), None))?;
    }
    c.send(&mut w, false, &frame(0x81, &text_payload(99, 200), None))?;
    let (start, len) = w.last_record;
    let path = w.finish()?;
    let f = OpenOptions::new().write(true).open(&path)?;
    f.set_len(start + len / 2)?;
    Ok(path)
}

/// A valid handshake, then client frames of 4 KiB whose first segment is missing from
/// the capture, and 100 MB of later segments; the server never acknowledges them, so the
/// hole can only be given up by the out-of-order buffer limit.
fn out_of_order_flood(dir: &Path) -> io::Result<PathBuf> {
    let mut w = Writer::create(dir.join("out-of-order-flood.pcap"), Format::Pcap)?;
    let mut rng = Rng(0x000f);
    let mut c = Conn::open(
        &mut w,
        ([10, 1, 0, 9], 40008),
        SERVER,
        [0x0f00_0000, 0x1100_0000],
    )?;
    handshake(&mut w, &mut c, 9, None, None)?;
    let mut sent = 0usize;
    let mut first = true;
    while sent < 100_000_000 {
        let seed = rng.next() as u8;
        let data: Vec<u8> = (0..4096)
            .map(|i| seed.wrapping_add((i / 5) as u8))
            .collect();
        let f = frame(0x82, &data, Some(rng.key()));
        for chunk in f.chunks(MSS) {
            if first {
                c.lose(true, chunk.len());
                first = false;
            } else {
                c.segment(&mut w, true, chunk)?;
                sent += chunk.len();
            }
        }
    }
    w.finish()
}

/// 2,000 connections that each send a valid Upgrade request and then 2 MB of masked
/// frames before any server response; the server never answers (only its SYN-ACK is
/// captured) and no connection is closed. The connections are opened first, then their
/// early bytes are interleaved segment by segment (round robin), so every connection is
/// waiting for its answer at the same time.
fn early_data_flood(dir: &Path) -> io::Result<PathBuf> {
    let mut w = Writer::create(dir.join("early-data-flood.pcap"), Format::Pcap)?;
    let mut rng = Rng(0xea71);
    let mut early = Vec::with_capacity(2_000_000 + 16 * 1024);
    let mut n = 0u64;
    while early.len() < 2_000_000 {
        n += 1;
        let data = text_payload(n, 16 * 1024 - 14);
        early.extend(frame(0x81, &data, Some(rng.key())));
    }
    early.truncate(2_000_000);
    let mut conns = Vec::with_capacity(2000);
    for i in 0..2000u32 {
        let client: Addr = ([10, 2, (i >> 8) as u8, i as u8], 20000 + i as u16);
        let isn = [rng.next() as u32, rng.next() as u32];
        let mut c = Conn::open(&mut w, client, SERVER, isn)?;
        let key = ws_key(100_000 + u64::from(i));
        c.send(&mut w, true, upgrade_request(&key, None).as_bytes())?;
        conns.push(c);
    }
    for chunk in early.chunks(MSS) {
        for c in &mut conns {
            c.segment(&mut w, true, chunk)?;
        }
    }
    w.finish()
}

type Generator = fn(&Path) -> io::Result<PathBuf>;

const FILES: [(&str, Generator); 10] = [
    ("len-2pow63.pcap", len_2pow63),
    ("endless-fragments.pcap", endless_fragments),
    ("million-flows.pcap", million_flows),
    ("tiny-segments.pcap", tiny_segments),
    ("deflate-bomb.pcap", deflate_bomb),
    ("zero-and-oversized-records.pcap", zero_and_oversized),
    ("unknown-blocks.pcapng", unknown_blocks),
    ("cut-mid-record.pcap", cut_mid_record),
    ("out-of-order-flood.pcap", out_of_order_flood),
    ("early-data-flood.pcap", early_data_flood),
];

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") {
        for (name, _) in FILES {
            println!("{name}");
        }
        return Ok(());
    }
    let Some(dir) = args.first() else {
        eprintln!("usage: gen_hostile OUTDIR [NAME ...]   (gen_hostile --list: the names)");
        std::process::exit(2);
    };
    let wanted = &args[1..];
    for name in wanted {
        if !FILES.iter().any(|(n, _)| n == name) {
            eprintln!("gen_hostile: no file named {name} (see --list)");
            std::process::exit(2);
        }
    }
    let dir = Path::new(dir);
    std::fs::create_dir_all(dir)?;
    for (name, generate) in FILES {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        let path = generate(dir)?;
        let size = std::fs::metadata(&path)?.len();
        eprintln!("wrote {} ({size} bytes)", path.display());
    }
    Ok(())
}
