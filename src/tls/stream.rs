//! One TLS connection over one TCP flow: both directions' records, the hellos that say
//! which version, suite and randoms were chosen, the keys from the key log, and the
//! decrypted application data handed on (to the same `http` → `ws` stages as plain TCP).
//!
//! TLS 1.3 (RFC 8446): after the ServerHello each side protects its records with its
//! handshake traffic key until its Finished, then with its application traffic key
//! (the next generation after a KeyUpdate, §4.6.3). TLS 1.2 (RFC 5246): a side's
//! records are protected from its ChangeCipherSpec on, with keys expanded from the
//! master secret. A record whose tag does not verify is never shown: that direction is
//! treated as lost from there, like a TCP gap.

use std::sync::Arc;

use tls_parser::{
    TlsExtension, TlsMessage, TlsMessageHandshake, parse_tls_extensions,
    parse_tls_message_handshake, parse_tls_raw_record,
};

use super::cipher::{OpenError, RecordKey, Suite, suite, suite_name};
use super::keylog::{KeyLog, Secrets};
use super::schedule::{self, Hash};
use crate::source::Timestamp;
use crate::tcp::Side;

/// Record content types (RFC 8446 §5.1).
const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;

/// Handshake message types (RFC 8446 §4).
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const FINISHED: u8 = 20;
const KEY_UPDATE: u8 = 24;

/// The ServerHello random that marks a HelloRetryRequest (RFC 8446 §4.1.3).
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Most bytes of one direction held while a record is incomplete (a record is at most
/// 2^14 + 2048 bytes, RFC 5246 §6.2.3).
const MAX_RECORD_BUFFER: usize = 1 << 15;

/// After bytes of a direction were lost: how many records may have been lost with them
/// (the sequence numbers tried for the first record found after the hole).
const MAX_RECORDS_SKIPPED: u64 = 64;

/// After a loss: most bytes searched for the next record before the direction is given
/// up.
const MAX_RESYNC_BYTES: usize = 1 << 17;

/// Most bytes of handshake messages held while one is incomplete.
const MAX_HANDSHAKE_BUFFER: usize = 1 << 18;

/// Does a flow's first payload, from its opener, start with a TLS ClientHello record?
pub fn starts_tls(bytes: &[u8]) -> bool {
    matches!(bytes, [HANDSHAKE, 3, 0..=4, _, _, CLIENT_HELLO, ..])
}

/// What the TLS handshake showed, and whether the connection was decrypted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// The version in use: 0x0304 for TLS 1.3 (from `supported_versions`), else the
    /// ServerHello's.
    pub version: Option<u16>,
    /// The cipher suite the server chose.
    pub suite: Option<u16>,
    /// The server name the client asked for (SNI).
    pub sni: Option<String>,
    /// The protocols the client offered (ALPN).
    pub alpn_offered: Vec<String>,
    /// The protocol the server chose (ALPN; TLS 1.3 says it in EncryptedExtensions,
    /// which is read once decrypted).
    pub alpn: Option<String>,
    /// The ClientHello random, the key logs' key.
    pub client_random: Option<[u8; 32]>,
    /// Application data was decrypted.
    pub decrypted: bool,
    /// Why it was not (or not all of it), when it was not.
    pub reason: Option<String>,
    /// Records whose protection verified, per side (by [`Side::index`]).
    pub records: [u64; 2],
    /// Each side (by [`Side::index`]) ended its writing with close_notify (RFC 8446 §6.1).
    pub close_notify: [bool; 2],
    /// The key logs hold secrets for this connection's client random.
    pub key_found: bool,
}

impl TlsInfo {
    /// `TLS 1.3`, `TLS 1.2`, …
    pub fn version_name(&self) -> String {
        match self.version {
            Some(0x0304) => "TLS 1.3".into(),
            Some(0x0303) => "TLS 1.2".into(),
            Some(0x0302) => "TLS 1.1".into(),
            Some(0x0301) => "TLS 1.0".into(),
            Some(v) => format!("TLS 0x{v:04x}"),
            None => "TLS".into(),
        }
    }

    /// The chosen suite's name.
    pub fn suite_name(&self) -> Option<String> {
        self.suite.map(suite_name)
    }
}

/// What the TLS layer hands on.
#[derive(Debug, PartialEq, Eq)]
pub enum TlsEvent {
    /// Decrypted application data of `side`, carried by `packet` (the record's last).
    Data(Side, Vec<u8>, u64, Timestamp),
    /// `side`'s application data cannot be followed from here (no key, a record that does
    /// not verify, bytes lost): `len` bytes missing, at `packet`.
    Lost(Side, u64, u64, Timestamp),
    /// Something the user should know, about `side` when it is one side's.
    Warning(Option<Side>, String),
}

/// Where one direction is.
#[derive(Debug, Default)]
struct Direction {
    /// Bytes of an incomplete record.
    buf: Vec<u8>,
    /// Bytes of an incomplete handshake message.
    handshake: Vec<u8>,
    /// The key protecting this side's records, once they are protected.
    key: Option<RecordKey>,
    /// This side's records are protected (after its ChangeCipherSpec in TLS 1.2, after
    /// the ServerHello in TLS 1.3).
    protected: bool,
    /// TLS 1.3: the application traffic secret in use (for KeyUpdate).
    traffic_secret: Option<Vec<u8>>,
    /// TLS 1.3: the handshake is over (this side's Finished was seen).
    finished: bool,
    /// Nothing more of this direction is followed.
    lost: bool,
    /// Bytes were lost: the next record is searched for (a header whose record verifies
    /// under one of the next sequence numbers), from `buf`.
    resync: bool,
}

/// One TLS connection's state.
#[derive(Debug)]
pub struct TlsFlow {
    keys: Arc<KeyLog>,
    /// What the handshake showed.
    pub info: TlsInfo,
    server_random: Option<[u8; 32]>,
    suite: Option<Suite>,
    secrets: Option<Secrets>,
    /// By [`Side::index`]: the opener sent the ClientHello.
    dirs: [Direction; 2],
}

impl Direction {
    /// Records of this direction carry application data by now (TLS 1.3 after its
    /// Finished; TLS 1.2 once protected), so records lost in a hole can be skipped.
    fn finished_or_tls12_data(&self) -> bool {
        self.finished || (self.protected && self.traffic_secret.is_none())
    }
}

impl TlsFlow {
    /// A TLS flow whose keys are looked up in `keys`.
    pub fn new(keys: Arc<KeyLog>) -> Self {
        TlsFlow {
            keys,
            info: TlsInfo::default(),
            server_random: None,
            suite: None,
            secrets: None,
            dirs: Default::default(),
        }
    }

    /// Bytes held while records or handshake messages are incomplete.
    pub fn held_bytes(&self) -> usize {
        self.dirs
            .iter()
            .map(|d| d.buf.len() + d.handshake.len())
            .sum()
    }

    /// The next `bytes` of `side`'s TCP stream, from `packet` at `ts`.
    pub fn data(&mut self, side: Side, bytes: &[u8], packet: u64, ts: Timestamp) -> Vec<TlsEvent> {
        let mut out = Vec::new();
        let d = side.index();
        if self.dirs[d].lost {
            return out;
        }
        if self.dirs[d].resync {
            self.dirs[d].buf.extend_from_slice(bytes);
            if !self.resync(side, packet, &mut out) {
                return out;
            }
        } else if !self.dirs[d].buf.is_empty() {
            self.dirs[d].buf.extend_from_slice(bytes);
        }
        // Records are read from the segment itself when nothing is pending (the usual
        // case), else from the bytes held: no byte is copied more than once.
        let mut held = std::mem::take(&mut self.dirs[d].buf);
        let from_held = !held.is_empty();
        let input: &[u8] = if from_held { &held } else { bytes };
        let mut rest: &[u8] = input;
        loop {
            match parse_tls_raw_record(rest) {
                Ok((after, record)) => {
                    let mut header = [0u8; 5];
                    header.copy_from_slice(&rest[..5]);
                    self.record(side, header, record.data, packet, ts, &mut out);
                    rest = after;
                    if self.dirs[d].lost {
                        return out;
                    }
                }
                Err(tls_parser::nom::Err::Incomplete(_)) if rest.len() <= MAX_RECORD_BUFFER => {
                    break;
                }
                Err(_) => {
                    self.lose(side, rest.len() as u64, packet, ts, &mut out, format!(
                        "the bytes at packet {packet} are not a TLS record (or one longer than TLS allows): the rest of this direction is not decrypted"
                    ));
                    return out;
                }
            }
        }
        let consumed = input.len() - rest.len();
        if rest.is_empty() {
            held = Vec::new();
        } else if from_held {
            held.drain(..consumed);
        } else {
            // A record begun: room for all of it at once (its header says how long).
            let whole = match rest {
                [_, _, _, hi, lo, ..] => 5 + usize::from(u16::from_be_bytes([*hi, *lo])),
                _ => rest.len(),
            };
            let mut begun = Vec::with_capacity(whole.max(rest.len()));
            begun.extend_from_slice(rest);
            self.dirs[d].buf = begun;
            return out;
        }
        self.dirs[d].buf = held;
        out
    }

    /// `len` bytes of `side`'s stream are missing: its records cannot be followed.
    pub fn gap(&mut self, side: Side, len: u64, packet: u64, ts: Timestamp) -> Vec<TlsEvent> {
        let mut out = Vec::new();
        let handshaking = {
            let d = &self.dirs[side.index()];
            self.is_tls13() && d.protected && !d.finished && !d.lost && d.key.is_some()
        };
        let traffic = self.secrets.as_ref().and_then(|s| match side {
            Side::Opener => s.client_traffic.clone(),
            Side::Accepter => s.server_traffic.clone(),
        });
        if let (true, Some(secret)) = (handshaking, traffic) {
            // TLS 1.3, bytes lost inside this side's encrypted handshake: its Finished may
            // be among them. The application traffic key the key log gives is used from
            // the first record that verifies under it.
            self.dirs[side.index()].finished = true;
            self.install_tls13(side, Some(secret));
        }
        let d = &mut self.dirs[side.index()];
        if !d.lost && d.finished_or_tls12_data() && d.key.is_some() {
            // Records were lost with the bytes: the next one that verifies is searched
            // for; what the hole held is a gap for the stages above.
            d.resync = true;
            d.buf.clear();
            out.push(TlsEvent::Lost(side, len, packet, ts));
            return out;
        }
        if !self.dirs[side.index()].lost {
            self.lose(side, len, packet, ts, &mut out, format!(
                "{len} bytes of the TLS stream are missing (packet {packet}): this direction is not decrypted from there"
            ));
        }
        out
    }

    /// The flow ended: says what was not decrypted, once.
    pub fn finish(&mut self) -> Vec<TlsEvent> {
        let mut out = Vec::new();
        if !self.info.decrypted && self.info.reason.is_none() && self.info.client_random.is_some() {
            self.info.reason = Some("the TLS handshake did not finish in the capture".into());
        }
        if let Some(why) = self.info.reason.clone().filter(|_| !self.info.decrypted) {
            out.push(TlsEvent::Warning(None, why));
        }
        out
    }

    /// After a loss: looks in `side`'s buffer for the first record that verifies under
    /// one of the next [`MAX_RECORDS_SKIPPED`] sequence numbers, and goes on from it
    /// (its sequence number found). False while none is found yet.
    fn resync(&mut self, side: Side, packet: u64, out: &mut Vec<TlsEvent>) -> bool {
        let d = &mut self.dirs[side.index()];
        let Some(key) = d.key.as_mut() else {
            return false;
        };
        let buf = &d.buf;
        for at in 0..buf.len().saturating_sub(5) {
            let h = &buf[at..at + 5];
            let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
            if h[0] != APPLICATION_DATA || h[1] != 3 || !(17..=(1 << 14) + 256).contains(&len) {
                continue;
            }
            let Some(body) = buf.get(at + 5..at + 5 + len) else {
                continue;
            };
            let header = [h[0], h[1], h[2], h[3], h[4]];
            let first = key.seq;
            let Some(seq) = (first..first + MAX_RECORDS_SKIPPED)
                .find(|&seq| key.open_at(seq, header, body).is_ok())
            else {
                continue;
            };
            key.seq = seq;
            let skipped = seq - first;
            d.resync = false;
            d.buf.drain(..at);
            out.push(TlsEvent::Warning(Some(side), format!(
                "after the bytes lost, TLS records are followed again from packet {packet} (the record found there verifies as record {seq}{})",
                if skipped > 0 { format!(", {skipped} after the last one seen") } else { String::new() }
            )));
            return true;
        }
        if d.buf.len() > MAX_RESYNC_BYTES {
            d.resync = false;
            d.lost = true;
            d.buf = Vec::new();
            out.push(TlsEvent::Warning(Some(side), format!(
                "after the bytes lost, no TLS record that verifies was found by packet {packet}: this direction is not decrypted from there"
            )));
        }
        false
    }

    fn lose(
        &mut self,
        side: Side,
        len: u64,
        packet: u64,
        ts: Timestamp,
        out: &mut Vec<TlsEvent>,
        why: String,
    ) {
        let d = &mut self.dirs[side.index()];
        d.lost = true;
        d.buf = Vec::new();
        d.handshake = Vec::new();
        if !self.info.decrypted && self.info.reason.is_none() {
            self.info.reason = Some(why.clone());
        }
        out.push(TlsEvent::Warning(Some(side), why));
        out.push(TlsEvent::Lost(side, len, packet, ts));
    }

    /// One whole record of `side`.
    fn record(
        &mut self,
        side: Side,
        header: [u8; 5],
        body: &[u8],
        packet: u64,
        ts: Timestamp,
        out: &mut Vec<TlsEvent>,
    ) {
        let kind = header[0];
        let d = side.index();
        if kind == CHANGE_CIPHER_SPEC {
            // TLS 1.2: this side protects its records from here. TLS 1.3 sends one for
            // middlebox compatibility only (RFC 8446 Appendix D.4).
            if !self.is_tls13() {
                self.dirs[d].protected = true;
                self.dirs[d].key = self.tls12_key(side);
            }
            return;
        }
        if !self.dirs[d].protected {
            match kind {
                HANDSHAKE => self.handshake_bytes(side, body, out),
                ALERT => out.push(TlsEvent::Warning(Some(side), alert_text(body, packet))),
                _ => self.lose(side, body.len() as u64, packet, ts, out, format!(
                    "a record of type {kind} before the handshake protected this direction (packet {packet}): not followed"
                )),
            }
            return;
        }
        if self.dirs[d].key.is_none() {
            // Protected, but no key: the reason is told once, at the end.
            self.dirs[d].lost = true;
            out.push(TlsEvent::Lost(side, body.len() as u64, packet, ts));
            return;
        }
        let opened = self.dirs[d].key.as_mut().map(|k| k.open(header, body));
        match opened {
            Some(Ok((inner, plain))) => {
                self.info.records[d] += 1;
                match inner {
                    APPLICATION_DATA => {
                        self.info.decrypted = true;
                        if !plain.is_empty() {
                            out.push(TlsEvent::Data(side, plain, packet, ts));
                        }
                    }
                    HANDSHAKE => self.handshake_bytes(side, &plain, out),
                    ALERT if plain.starts_with(&[1, 0]) => self.info.close_notify[d] = true,
                    ALERT => out.push(TlsEvent::Warning(Some(side), alert_text(&plain, packet))),
                    other => out.push(TlsEvent::Warning(
                        Some(side),
                        format!("a protected record of type {other} at packet {packet} is skipped"),
                    )),
                }
            }
            Some(Err(e)) => {
                let why = match e {
                    OpenError::BadTag => format!(
                        "the TLS record at packet {packet} does not verify (a wrong key, or bytes that are not what was sent): it is not shown, and this direction is not decrypted from there"
                    ),
                    OpenError::TooShort => format!(
                        "the TLS record at packet {packet} is too short to be protected: this direction is not decrypted from there"
                    ),
                    OpenError::NoContentType => format!(
                        "the TLS record at packet {packet} holds only padding (RFC 8446 §5.4): this direction is not decrypted from there"
                    ),
                };
                self.lose(side, body.len() as u64, packet, ts, out, why);
            }
            None => {}
        }
    }

    fn is_tls13(&self) -> bool {
        self.info.version == Some(0x0304)
    }

    /// Plaintext handshake bytes of `side` (in the clear, or decrypted).
    fn handshake_bytes(&mut self, side: Side, bytes: &[u8], out: &mut Vec<TlsEvent>) {
        let d = side.index();
        self.dirs[d].handshake.extend_from_slice(bytes);
        let buf = std::mem::take(&mut self.dirs[d].handshake);
        let mut rest: &[u8] = &buf;
        while rest.len() >= 4 {
            let len = usize::from(rest[1]) << 16 | usize::from(rest[2]) << 8 | usize::from(rest[3]);
            if rest.len() < 4 + len {
                break;
            }
            let (message, after) = rest.split_at(4 + len);
            self.handshake_message(side, message, out);
            rest = after;
        }
        if rest.len() <= MAX_HANDSHAKE_BUFFER {
            self.dirs[d].handshake = rest.to_vec();
        }
    }

    /// One whole handshake message of `side`.
    fn handshake_message(&mut self, side: Side, message: &[u8], out: &mut Vec<TlsEvent>) {
        let d = side.index();
        match message[0] {
            0 | 1 if self.dirs[d].finished || (!self.is_tls13() && self.info.decrypted) => {
                out.push(TlsEvent::Warning(Some(side), "TLS renegotiation is not supported: the rest of this connection is not decrypted".into()));
                self.dirs[0].lost = true;
                self.dirs[1].lost = true;
            }
            CLIENT_HELLO if self.info.client_random.is_none() => self.client_hello(message),
            SERVER_HELLO => self.server_hello(message, out),
            FINISHED if self.is_tls13() && !self.dirs[d].finished => {
                // This side's handshake is over: its application traffic key from here.
                self.dirs[d].finished = true;
                let secret = self.secrets.as_ref().and_then(|s| match side {
                    Side::Opener => s.client_traffic.clone(),
                    Side::Accepter => s.server_traffic.clone(),
                });
                self.install_tls13(side, secret);
            }
            KEY_UPDATE if self.is_tls13() && self.dirs[d].finished => {
                let next = self.suite.and_then(|s| {
                    let secret = self.dirs[d].traffic_secret.as_ref()?;
                    schedule::next_traffic_secret(s.hash, secret)
                });
                if next.is_none() {
                    out.push(TlsEvent::Warning(
                        Some(side),
                        "a KeyUpdate could not be followed".into(),
                    ));
                }
                self.install_tls13(side, next);
            }
            CLIENT_HELLO | FINISHED | KEY_UPDATE => {}
            8 if self.is_tls13() => self.encrypted_extensions(message),
            _ => {}
        }
    }

    fn client_hello(&mut self, message: &[u8]) {
        let Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello)))) =
            parse_tls_message_handshake(message)
        else {
            return;
        };
        self.info.client_random = hello.random.try_into().ok();
        for ext in extensions(hello.ext) {
            match ext {
                TlsExtension::SNI(names) => {
                    self.info.sni = names
                        .first()
                        .map(|(_, n)| String::from_utf8_lossy(n).into_owned());
                }
                TlsExtension::ALPN(protocols) => {
                    self.info.alpn_offered = protocols
                        .iter()
                        .map(|p| String::from_utf8_lossy(p).into_owned())
                        .collect();
                }
                _ => {}
            }
        }
        self.secrets = self.info.client_random.and_then(|r| self.keys.find(&r));
        self.info.key_found = self.secrets.is_some();
    }

    fn server_hello(&mut self, message: &[u8], out: &mut Vec<TlsEvent>) {
        let Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ServerHello(hello)))) =
            parse_tls_message_handshake(message)
        else {
            return;
        };
        if hello.random == HELLO_RETRY_RANDOM {
            // A HelloRetryRequest: the real ServerHello follows a second ClientHello.
            return;
        }
        self.server_random = hello.random.try_into().ok();
        let mut version = hello.version.0;
        for ext in extensions(hello.ext) {
            match ext {
                TlsExtension::SupportedVersions(v) => {
                    if let Some(v) = v.first() {
                        version = v.0;
                    }
                }
                TlsExtension::ALPN(p) => {
                    self.info.alpn = p.first().map(|p| String::from_utf8_lossy(p).into_owned())
                }
                _ => {}
            }
        }
        self.info.version = Some(version);
        self.info.suite = Some(hello.cipher.0);
        self.suite = suite(hello.cipher.0).filter(|s| s.tls13 == (version == 0x0304));
        let random = self.info.client_random.map(hex::encode).unwrap_or_default();
        if self.suite.is_none() {
            self.info.reason = Some(format!(
                "the cipher suite {} ({}) is not one wsscope decrypts",
                suite_name(hello.cipher.0),
                self.info.version_name()
            ));
        } else if self.secrets.is_none() {
            self.info.reason = Some(format!(
                "no key for client random {random} in the key logs given"
            ));
        }
        if self.is_tls13() {
            // Both sides protect their records from here, with handshake keys.
            for side in [Side::Opener, Side::Accepter] {
                self.dirs[side.index()].protected = true;
                let secret = self.secrets.as_ref().and_then(|s| match side {
                    Side::Opener => s.client_handshake.clone(),
                    Side::Accepter => s.server_handshake.clone(),
                });
                if let (Some(_), None) = (&self.secrets, &secret) {
                    out.push(TlsEvent::Warning(Some(side), "the key log has no handshake traffic secret for this side: its handshake is not decrypted".into()));
                }
                self.install_tls13(side, secret);
            }
        }
    }

    /// TLS 1.3 EncryptedExtensions: the ALPN the server chose.
    fn encrypted_extensions(&mut self, message: &[u8]) {
        let Some(body) = message.get(6..) else { return };
        if let Ok((_, exts)) = parse_tls_extensions(body) {
            for ext in exts {
                if let TlsExtension::ALPN(p) = ext {
                    self.info.alpn = p.first().map(|p| String::from_utf8_lossy(p).into_owned());
                }
            }
        }
    }

    /// `side`'s records are protected with the TLS 1.3 traffic secret `secret` from here.
    fn install_tls13(&mut self, side: Side, secret: Option<Vec<u8>>) {
        let d = &mut self.dirs[side.index()];
        d.key = match (self.suite, &secret) {
            (Some(suite), Some(secret)) => {
                schedule::traffic_key(suite.hash, secret, suite.algorithm.key_len())
                    .and_then(|(key, iv)| RecordKey::new(suite, &key, &iv))
            }
            _ => None,
        };
        d.traffic_secret = secret;
    }

    /// `side`'s TLS 1.2 record key, from the master secret and both randoms.
    fn tls12_key(&self, side: Side) -> Option<RecordKey> {
        let suite = self.suite?;
        let master = self.secrets.as_ref()?.master.as_ref()?;
        let iv_len = match suite.algorithm {
            super::cipher::Algorithm::ChaCha20Poly1305 => 12,
            _ => 4,
        };
        let (ck, sk, civ, siv) = schedule::key_block(
            suite.hash,
            master,
            &self.info.client_random?,
            &self.server_random?,
            suite.algorithm.key_len(),
            iv_len,
        )?;
        match side {
            Side::Opener => RecordKey::new(suite, &ck, &civ),
            Side::Accepter => RecordKey::new(suite, &sk, &siv),
        }
    }
}

/// The extensions of a hello (none when there are none, or they do not parse).
fn extensions(raw: Option<&[u8]>) -> Vec<TlsExtension<'_>> {
    raw.and_then(|e| parse_tls_extensions(e).ok())
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// An alert record in words.
fn alert_text(body: &[u8], packet: u64) -> String {
    match body {
        [level, desc, ..] => format!(
            "TLS alert at packet {packet}: {} {:?}",
            if *level == 2 { "fatal" } else { "warning" },
            tls_parser::TlsAlertDescription(*desc)
        ),
        _ => format!("a TLS alert at packet {packet} too short to read"),
    }
}

/// The hash a suite's key schedule uses, for callers outside (explain).
pub fn suite_hash(id: u16) -> Option<Hash> {
    suite(id).map(|s| s.hash)
}
