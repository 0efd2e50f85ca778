//! Writes a large, deterministic, realistic WebSocket capture for benchmarks:
//! `cargo run --release --example gen_capture -- OUT.pcap [SIZE_MB] [SEED] [long]`.
//! With `long`, the whole file is one connection (an hour-long session).
//! With the environment variable `GEN_TLS=KEYLOG`, every connection is wss://: TLS 1.3
//! with TLS_AES_128_GCM_SHA256, its secrets written to KEYLOG (for `--keylog`).
//!
//! Thousands of interleaved connections, each with a valid handshake; mostly 20–500 byte
//! JSON text messages, some 4–64 KiB binary ones, pings and pongs, masked client frames,
//! one connection in five with permessage-deflate (context takeover), 1448-byte TCP
//! segments. Correctness is tested on real captures; this file only has to be realistic.

use std::fs::File;
use std::io::{BufWriter, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use flate2::{Compress, Compression, FlushCompress};
use sha1::{Digest, Sha1};

const MSS: usize = 1448;
const ACTIVE: usize = 256;

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
}

struct Conn {
    client_port: u16,
    client_ip: [u8; 4],
    seq: [u32; 2],
    messages_left: u32,
    deflate: Option<[Compress; 2]>,
    /// wss://: each direction's application traffic key (client, server).
    tls: Option<[Sealer; 2]>,
}

/// One direction's TLS 1.3 record protection (AES-128-GCM), for writing records.
struct Sealer {
    aead: aes_gcm::Aes128Gcm,
    iv: [u8; 12],
    seq: u64,
}

impl Sealer {
    fn new(secret: &[u8]) -> Sealer {
        use aes_gcm::KeyInit;
        let (key, iv) =
            wsscope::tls::schedule::traffic_key(wsscope::tls::schedule::Hash::Sha256, secret, 16)
                .expect("derived");
        Sealer {
            aead: aes_gcm::Aes128Gcm::new_from_slice(&key).expect("key"),
            iv: iv.try_into().expect("12 bytes"),
            seq: 0,
        }
    }

    /// `plain` (of inner content type `kind`) as protected records of at most 16 KiB.
    fn seal(&mut self, kind: u8, plain: &[u8]) -> Vec<u8> {
        use aes_gcm::aead::{AeadInOut, Nonce};
        let mut out = Vec::with_capacity(plain.len() + 64);
        for chunk in plain.chunks(1 << 14) {
            let mut buf = chunk.to_vec();
            buf.push(kind);
            let len = (buf.len() + 16) as u16;
            let header = [23, 3, 3, (len >> 8) as u8, len as u8];
            let mut nonce = self.iv;
            for (b, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
                *b ^= s;
            }
            self.seq += 1;
            let nonce = Nonce::<aes_gcm::Aes128Gcm>::try_from(&nonce[..]).expect("nonce");
            let tag = self
                .aead
                .encrypt_inout_detached(&nonce, &header, buf.as_mut_slice().into())
                .expect("seal");
            out.extend_from_slice(&header);
            out.extend_from_slice(&buf);
            out.extend_from_slice(&tag);
        }
        out
    }
}

struct Writer {
    out: BufWriter<File>,
    written: u64,
    ts_usec: u64,
    packet: Vec<u8>,
}

impl Writer {
    fn packet(
        &mut self,
        src: ([u8; 4], u16),
        dst: ([u8; 4], u16),
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> std::io::Result<()> {
        let p = &mut self.packet;
        p.clear();
        p.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        let total = (20 + 20 + payload.len()) as u16;
        p.extend_from_slice(&[
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
        ]);
        p.extend_from_slice(&src.0);
        p.extend_from_slice(&dst.0);
        p.extend_from_slice(&src.1.to_be_bytes());
        p.extend_from_slice(&dst.1.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ack.to_be_bytes());
        p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        self.ts_usec += 37;
        let (sec, usec) = (
            (self.ts_usec / 1_000_000) as u32 + 1_700_000_000,
            (self.ts_usec % 1_000_000) as u32,
        );
        let len = p.len() as u32;
        for v in [sec, usec, len, len] {
            self.out.write_all(&v.to_le_bytes())?;
        }
        self.out.write_all(p)?;
        self.written += 16 + u64::from(len);
        Ok(())
    }
}

const SERVER: ([u8; 4], u16) = ([10, 0, 0, 1], 443);
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;
const FIN_ACK: u8 = 0x11;

fn send(w: &mut Writer, c: &mut Conn, from_client: bool, bytes: &[u8]) -> std::io::Result<()> {
    let d = usize::from(!from_client);
    let sealed;
    let bytes = match &mut c.tls {
        Some(keys) => {
            sealed = keys[d].seal(23, bytes);
            &sealed[..]
        }
        None => bytes,
    };
    send_raw(w, c, from_client, bytes)
}

/// Sends `bytes` as they are (no TLS), in segments of at most one MSS.
fn send_raw(w: &mut Writer, c: &mut Conn, from_client: bool, bytes: &[u8]) -> std::io::Result<()> {
    let client = (c.client_ip, c.client_port);
    let d = usize::from(!from_client);
    for chunk in bytes.chunks(MSS) {
        let (src, dst) = if from_client {
            (client, SERVER)
        } else {
            (SERVER, client)
        };
        w.packet(src, dst, c.seq[d], c.seq[1 - d], PSH_ACK, chunk)?;
        c.seq[d] = c.seq[d].wrapping_add(chunk.len() as u32);
    }
    Ok(())
}

fn frame(rng: &mut Rng, opcode: u8, rsv1: bool, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + 14);
    f.push(0x80 | if rsv1 { 0x40 } else { 0 } | opcode);
    let m = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n < 65536 => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = (rng.next() as u32).to_be_bytes();
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        f.extend_from_slice(payload);
    }
    f
}

fn compress(c: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut input = data;
    loop {
        let before_in = c.total_in();
        out.reserve(4096);
        c.compress_vec(input, &mut out, FlushCompress::Sync)
            .expect("deflate");
        input = &input[(c.total_in() - before_in) as usize..];
        if input.is_empty() && out.ends_with(&[0, 0, 0xff, 0xff]) {
            break;
        }
    }
    out.truncate(out.len() - 4);
    out
}

/// The TLS 1.3 handshake of a wss:// connection: ClientHello and ServerHello in the
/// clear, each side's Finished under its handshake key; the secrets go to `keylog`.
fn tls_handshake(
    w: &mut Writer,
    rng: &mut Rng,
    c: &mut Conn,
    keylog: &mut dyn Write,
) -> std::io::Result<()> {
    let mut bytes32 = || -> Vec<u8> { (0..4).flat_map(|_| rng.next().to_be_bytes()).collect() };
    let (client_random, server_random) = (bytes32(), bytes32());
    let secrets: Vec<Vec<u8>> = (0..4).map(|_| bytes32()).collect();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    for (label, s) in [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    ]
    .iter()
    .zip(&secrets)
    {
        writeln!(keylog, "{label} {} {}", hex(&client_random), hex(s))?;
    }
    let record = |kind: u8, body: &[u8]| {
        let mut r = vec![kind, 3, 1, (body.len() >> 8) as u8, body.len() as u8];
        r.extend_from_slice(body);
        r
    };
    let handshake = |kind: u8, body: &[u8]| {
        let mut m = vec![kind, 0, (body.len() >> 8) as u8, body.len() as u8];
        m.extend_from_slice(body);
        m
    };
    // ClientHello: legacy version, random, no session id, one suite, null compression,
    // supported_versions [TLS 1.3].
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&client_random);
    hello.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0, 0, 7, 0, 43, 0, 3, 2, 3, 4]);
    send_raw(w, c, true, &record(22, &handshake(1, &hello)))?;
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&server_random);
    hello.extend_from_slice(&[0, 0x13, 0x01, 0, 0, 6, 0, 43, 0, 2, 3, 4]);
    send_raw(w, c, false, &record(22, &handshake(2, &hello)))?;
    let finished = handshake(20, &[0x5a; 32]);
    let sealed = Sealer::new(&secrets[1]).seal(22, &finished);
    send_raw(w, c, false, &sealed)?;
    let sealed = Sealer::new(&secrets[0]).seal(22, &finished);
    send_raw(w, c, true, &sealed)?;
    c.tls = Some([Sealer::new(&secrets[2]), Sealer::new(&secrets[3])]);
    Ok(())
}

fn open(
    w: &mut Writer,
    rng: &mut Rng,
    n: u64,
    keylog: Option<&mut dyn Write>,
) -> std::io::Result<Conn> {
    let mut c = Conn {
        client_port: 1024 + (n % 60_000) as u16,
        client_ip: [
            10,
            1,
            (n / 60_000 % 256) as u8,
            (n / 60_000 / 256 % 256) as u8 + 2,
        ],
        seq: [rng.next() as u32, rng.next() as u32],
        messages_left: 20 + rng.below(400) as u32,
        deflate: None,
        tls: None,
    };
    let client = (c.client_ip, c.client_port);
    w.packet(client, SERVER, c.seq[0], 0, SYN, &[])?;
    w.packet(
        SERVER,
        client,
        c.seq[1],
        c.seq[0].wrapping_add(1),
        SYN | ACK,
        &[],
    )?;
    c.seq = [c.seq[0].wrapping_add(1), c.seq[1].wrapping_add(1)];
    w.packet(client, SERVER, c.seq[0], c.seq[1], ACK, &[])?;
    if let Some(keylog) = keylog {
        tls_handshake(w, rng, &mut c, keylog)?;
    }
    let key = BASE64.encode(rng.next().to_be_bytes().repeat(2));
    let deflate = rng.below(5) == 0;
    let ext = if deflate {
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    } else {
        ""
    };
    let req = format!(
        "GET /stream HTTP/1.1\r\nHost: feed.example:443\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{ext}User-Agent: gen/1\r\n\r\n"
    );
    send(w, &mut c, true, req.as_bytes())?;
    let accept = BASE64.encode(Sha1::digest(
        format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes(),
    ));
    let ext = if deflate {
        "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    } else {
        ""
    };
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{ext}\r\n"
    );
    send(w, &mut c, false, resp.as_bytes())?;
    if deflate {
        c.deflate = Some([
            Compress::new(Compression::fast(), false),
            Compress::new(Compression::fast(), false),
        ]);
    }
    Ok(c)
}

fn message(w: &mut Writer, rng: &mut Rng, c: &mut Conn, n: u64) -> std::io::Result<()> {
    let from_client = rng.below(3) == 0;
    let roll = rng.below(100);
    let (opcode, payload) = if roll < 3 {
        (9u8, format!("hb-{n}").into_bytes())
    } else if roll < 8 {
        let len = 4096 + rng.below(60 * 1024) as usize;
        let seed = rng.next() as u8;
        (
            2,
            (0..len).map(|i| seed.wrapping_add((i / 7) as u8)).collect(),
        )
    } else {
        let len = 20 + rng.below(480) as usize;
        let mut s = format!(
            "{{\"seq\":{n},\"sym\":\"EURUSD\",\"px\":{}.{:04},\"note\":\"",
            1 + rng.below(3),
            rng.below(10000)
        );
        while s.len() < len - 2 {
            s.push_str("tick ");
        }
        s.truncate(len - 2);
        s.push_str("\"}");
        (1, s.into_bytes())
    };
    let (wire, rsv1) = match (&mut c.deflate, opcode) {
        (Some(z), 1 | 2) => (compress(&mut z[usize::from(!from_client)], &payload), true),
        _ => (payload, false),
    };
    let f = frame(rng, opcode, rsv1, &wire, from_client);
    send(w, c, from_client, &f)?;
    if opcode == 9 {
        let pong = frame(rng, 10, false, &wire, !from_client);
        send(w, c, !from_client, &pong)?;
    }
    Ok(())
}

fn close(w: &mut Writer, rng: &mut Rng, c: &mut Conn) -> std::io::Result<()> {
    let f = frame(rng, 8, false, &[0x03, 0xe8], true);
    send(w, c, true, &f)?;
    let f = frame(rng, 8, false, &[0x03, 0xe8], false);
    send(w, c, false, &f)?;
    let client = (c.client_ip, c.client_port);
    w.packet(client, SERVER, c.seq[0], c.seq[1], FIN_ACK, &[])?;
    w.packet(
        SERVER,
        client,
        c.seq[1],
        c.seq[0].wrapping_add(1),
        FIN_ACK,
        &[],
    )?;
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: gen_capture OUT.pcap [SIZE_MB] [SEED] [long]");
        std::process::exit(2);
    };
    let target: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000) * 1_000_000;
    let mut rng = Rng(args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cafe_f00d)
        | 1);
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, File::create(path)?),
        written: 24,
        ts_usec: 0,
        packet: Vec::new(),
    };
    for v in [
        0xa1b2c3d4u32.to_le_bytes(),
        [2, 0, 4, 0],
        [0; 4],
        [0; 4],
        262_144u32.to_le_bytes(),
        1u32.to_le_bytes(),
    ] {
        w.out.write_all(&v)?;
    }
    let long = args.get(4).is_some_and(|a| a == "long");
    let mut keylog = match std::env::var_os("GEN_TLS") {
        Some(path) => Some(BufWriter::new(File::create(path)?)),
        None => None,
    };
    let most_active = if long { 1 } else { ACTIVE };
    let mut active: Vec<Conn> = Vec::new();
    let (mut opened, mut n) = (0u64, 0u64);
    while w.written < target || !active.is_empty() {
        while active.len() < most_active && w.written < target {
            let mut c = open(
                &mut w,
                &mut rng,
                opened,
                keylog.as_mut().map(|k| k as &mut dyn Write),
            )?;
            if long {
                c.messages_left = u32::MAX;
            }
            active.push(c);
            opened += 1;
        }
        let i = rng.below(active.len() as u64) as usize;
        let c = &mut active[i];
        if c.messages_left == 0 || w.written >= target {
            let mut c = active.swap_remove(i);
            close(&mut w, &mut rng, &mut c)?;
            continue;
        }
        c.messages_left -= 1;
        n += 1;
        message(&mut w, &mut rng, c, n)?;
    }
    w.out.flush()?;
    if let Some(k) = keylog.as_mut() {
        k.flush()?;
    }
    eprintln!(
        "wrote {path}: {} bytes, {opened} connections, {n} messages",
        w.written
    );
    Ok(())
}
