//! Cipher suites and record protection: which AEAD and hash a suite uses, and the
//! opening of one protected record (RFC 8446 §5.2-5.3 for TLS 1.3; RFC 5288 and RFC
//! 7905 for TLS 1.2 AES-GCM and ChaCha20-Poly1305). A record whose tag does not verify
//! yields nothing: unauthenticated bytes are never plaintext.

use aes_gcm::aead::{AeadInOut, Nonce, Tag};
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;

use super::schedule::Hash;

/// The AEAD algorithm of a suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-256-GCM.
    Aes256Gcm,
    /// ChaCha20-Poly1305.
    ChaCha20Poly1305,
}

impl Algorithm {
    /// Its key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Algorithm::Aes128Gcm => 16,
            Algorithm::Aes256Gcm | Algorithm::ChaCha20Poly1305 => 32,
        }
    }
}

/// What wsscope knows of a cipher suite it can decrypt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    /// Its IANA number.
    pub id: u16,
    /// The record protection.
    pub algorithm: Algorithm,
    /// The key schedule's hash (TLS 1.3 HKDF, TLS 1.2 PRF).
    pub hash: Hash,
    /// A TLS 1.3 suite (else a TLS 1.2 one).
    pub tls13: bool,
}

/// The suite with IANA number `id`, when wsscope decrypts it.
pub fn suite(id: u16) -> Option<Suite> {
    use Algorithm::*;
    use Hash::*;
    let (algorithm, hash, tls13) = match id {
        0x1301 => (Aes128Gcm, Sha256, true),
        0x1302 => (Aes256Gcm, Sha384, true),
        0x1303 => (ChaCha20Poly1305, Sha256, true),
        // TLS 1.2 AES-GCM (RFC 5288, RFC 5289): RSA, DHE-RSA, ECDHE-ECDSA, ECDHE-RSA.
        0x009c | 0x009e | 0xc02b | 0xc02f => (Aes128Gcm, Sha256, false),
        0x009d | 0x009f | 0xc02c | 0xc030 => (Aes256Gcm, Sha384, false),
        // TLS 1.2 ChaCha20-Poly1305 (RFC 7905): ECDHE-RSA, ECDHE-ECDSA, DHE-RSA.
        0xcca8..=0xccaa => (ChaCha20Poly1305, Sha256, false),
        _ => return None,
    };
    Some(Suite {
        id,
        algorithm,
        hash,
        tls13,
    })
}

/// The name of suite `id` as IANA lists it (`TLS_AES_256_GCM_SHA384`), or its number.
pub fn suite_name(id: u16) -> String {
    tls_parser::TlsCipherSuite::from_id(id)
        .map_or_else(|| format!("0x{id:04x}"), |s| s.name.to_string())
}

/// An AEAD keyed for one direction.
enum Keyed {
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
}

impl std::fmt::Debug for Keyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Keyed::Aes128(_) => "AES-128-GCM",
            Keyed::Aes256(_) => "AES-256-GCM",
            Keyed::ChaCha(_) => "ChaCha20-Poly1305",
        })
    }
}

/// Decrypts `buf` in place and checks `tag`; false when the tag does not verify.
fn open_with<A: AeadInOut>(
    a: &A,
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> bool {
    let (Ok(nonce), Ok(tag)) = (Nonce::<A>::try_from(&nonce[..]), Tag::<A>::try_from(tag)) else {
        return false;
    };
    a.decrypt_inout_detached(&nonce, aad, buf.into(), &tag)
        .is_ok()
}

/// Length of every AEAD tag here.
pub const TAG_LEN: usize = 16;

/// The protection of one direction's records under one key: the AEAD, its IV, and the
/// sequence number of the next record (RFC 8446 §5.3, RFC 5246 §6.1).
#[derive(Debug)]
pub struct RecordKey {
    keyed: Keyed,
    iv: [u8; 12],
    /// TLS 1.3 record protection (else TLS 1.2).
    tls13: bool,
    /// TLS 1.2 AES-GCM: the record starts with an 8-byte explicit nonce, and `iv` holds
    /// the 4-byte salt (RFC 5288 §3).
    explicit_nonce: bool,
    /// The next record's sequence number.
    pub seq: u64,
}

/// Why a record could not be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// Shorter than its nonce and tag.
    TooShort,
    /// The tag does not verify: the key is wrong, or the record is not what was sent.
    BadTag,
    /// TLS 1.3: only padding inside, no content type (RFC 8446 §5.4).
    NoContentType,
}

impl RecordKey {
    /// The key of `suite` for one direction: `key`, and the IV (TLS 1.3 and TLS 1.2
    /// ChaCha20: 12 bytes; TLS 1.2 AES-GCM: the 4-byte salt). `None` on a wrong length.
    pub fn new(suite: Suite, key: &[u8], iv: &[u8]) -> Option<Self> {
        let keyed = match suite.algorithm {
            Algorithm::Aes128Gcm => Keyed::Aes128(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            Algorithm::Aes256Gcm => Keyed::Aes256(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            Algorithm::ChaCha20Poly1305 => {
                Keyed::ChaCha(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
        };
        let explicit_nonce = !suite.tls13 && suite.algorithm != Algorithm::ChaCha20Poly1305;
        let mut full = [0u8; 12];
        if explicit_nonce {
            full[..4].copy_from_slice(iv.get(..4)?);
        } else {
            full.copy_from_slice(iv.get(..12)?);
        }
        Some(RecordKey {
            keyed,
            iv: full,
            tls13: suite.tls13,
            explicit_nonce,
            seq: 0,
        })
    }

    /// The nonce of the record with sequence number `seq` (the IV XOR the sequence
    /// number, RFC 8446 §5.3), or for TLS 1.2 AES-GCM the salt and `explicit`.
    pub fn nonce(&self, seq: u64, explicit: &[u8]) -> [u8; 12] {
        let mut n = self.iv;
        if self.explicit_nonce {
            n[4..].copy_from_slice(&explicit[..8]);
        } else {
            for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
                *b ^= s;
            }
        }
        n
    }

    /// Opens the record with header `header` and protected body `body` under the next
    /// sequence number: its content type and plaintext. The sequence number moves on
    /// only when the record verifies.
    pub fn open(&mut self, header: [u8; 5], body: &[u8]) -> Result<(u8, Vec<u8>), OpenError> {
        let opened = self.open_at(self.seq, header, body)?;
        self.seq += 1;
        Ok(opened)
    }

    /// Opens a record under sequence number `seq` (after a loss, where the sequence is
    /// searched for); the next sequence number is not moved.
    pub fn open_at(
        &self,
        seq: u64,
        header: [u8; 5],
        body: &[u8],
    ) -> Result<(u8, Vec<u8>), OpenError> {
        let explicit = if self.explicit_nonce { 8 } else { 0 };
        if body.len() < explicit + TAG_LEN {
            return Err(OpenError::TooShort);
        }
        let nonce = self.nonce(seq, &body[..explicit]);
        let (ct, tag) = body[explicit..].split_at(body.len() - explicit - TAG_LEN);
        let mut buf = ct.to_vec();
        let aad: Vec<u8> = if self.tls13 {
            header.to_vec()
        } else {
            // seq_num || type || version || length of the plaintext (RFC 5246 §6.2.3.3).
            let mut a = seq.to_be_bytes().to_vec();
            a.extend_from_slice(&header[..3]);
            a.extend_from_slice(&(ct.len() as u16).to_be_bytes());
            a
        };
        let ok = match &self.keyed {
            Keyed::Aes128(k) => open_with(k.as_ref(), &nonce, &aad, &mut buf, tag),
            Keyed::Aes256(k) => open_with(k.as_ref(), &nonce, &aad, &mut buf, tag),
            Keyed::ChaCha(k) => open_with(k.as_ref(), &nonce, &aad, &mut buf, tag),
        };
        if !ok {
            return Err(OpenError::BadTag);
        }
        if !self.tls13 {
            return Ok((header[0], buf));
        }
        // TLSInnerPlaintext: content, the real content type, then zero padding.
        let end = buf
            .iter()
            .rposition(|&b| b != 0)
            .ok_or(OpenError::NoContentType)?;
        let kind = buf[end];
        buf.truncate(end);
        Ok((kind, buf))
    }
}
