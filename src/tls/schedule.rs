//! Key schedules: the traffic keys and IVs of a TLS connection from the secrets a key
//! log gives. TLS 1.3 derives them with HKDF-Expand-Label (RFC 8446 §7.1, §7.3); TLS
//! 1.2 expands the master secret with its PRF (RFC 5246 §5, §6.3).

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384};

/// The hash a cipher suite's key schedule uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

/// HKDF-Expand-Label(secret, label, context, len) of RFC 8446 §7.1: HKDF-Expand with the
/// info `u16 len || u8 len("tls13 " + label) || "tls13 " + label || u8 len(context) ||
/// context`. `None` when `secret` is shorter than the hash or `len` too long.
pub fn expand_label(
    hash: Hash,
    secret: &[u8],
    label: &str,
    context: &[u8],
    len: usize,
) -> Option<Vec<u8>> {
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len() + context.len());
    info.extend_from_slice(&u16::try_from(len).ok()?.to_be_bytes());
    info.push(u8::try_from(full.len()).ok()?);
    info.extend_from_slice(full.as_bytes());
    info.push(u8::try_from(context.len()).ok()?);
    info.extend_from_slice(context);
    let mut out = vec![0; len];
    match hash {
        Hash::Sha256 => Hkdf::<Sha256>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
        Hash::Sha384 => Hkdf::<Sha384>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
    }
    Some(out)
}

/// The TLS 1.3 write key and IV of a traffic secret (RFC 8446 §7.3).
pub fn traffic_key(hash: Hash, secret: &[u8], key_len: usize) -> Option<(Vec<u8>, Vec<u8>)> {
    Some((
        expand_label(hash, secret, "key", &[], key_len)?,
        expand_label(hash, secret, "iv", &[], 12)?,
    ))
}

/// The next generation of a TLS 1.3 application traffic secret, after a KeyUpdate
/// (RFC 8446 §7.2).
pub fn next_traffic_secret(hash: Hash, secret: &[u8]) -> Option<Vec<u8>> {
    let len = match hash {
        Hash::Sha256 => 32,
        Hash::Sha384 => 48,
    };
    expand_label(hash, secret, "traffic upd", &[], len)
}

/// P_hash(secret, seed) of RFC 5246 §5, `len` bytes: HMAC(secret, A(i) || seed) with
/// A(0) = seed, A(i) = HMAC(secret, A(i-1)).
fn p_hash<M: Mac + KeyInit + Clone>(secret: &[u8], seed: &[u8], len: usize) -> Option<Vec<u8>> {
    let key = <M as KeyInit>::new_from_slice(secret).ok()?;
    let mac = |parts: &[&[u8]]| {
        let mut m = key.clone();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().to_vec()
    };
    let mut a = mac(&[seed]);
    let mut out = Vec::with_capacity(len + 48);
    while out.len() < len {
        out.extend(mac(&[&a, seed]));
        a = mac(&[&a]);
    }
    out.truncate(len);
    Some(out)
}

/// The TLS 1.2 PRF(secret, label, seed) of RFC 5246 §5, `len` bytes.
pub fn prf(hash: Hash, secret: &[u8], label: &str, seed: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut full = label.as_bytes().to_vec();
    full.extend_from_slice(seed);
    match hash {
        Hash::Sha256 => p_hash::<Hmac<Sha256>>(secret, &full, len),
        Hash::Sha384 => p_hash::<Hmac<Sha384>>(secret, &full, len),
    }
}

/// The TLS 1.2 key block cut into write keys and IVs (RFC 5246 §6.3; AEAD suites have
/// no MAC keys): `(client key, server key, client IV, server IV)`.
pub type KeyBlock = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

/// Expands a TLS 1.2 master secret with both hello randoms into write keys and IVs.
pub fn key_block(
    hash: Hash,
    master: &[u8],
    client_random: &[u8],
    server_random: &[u8],
    key_len: usize,
    iv_len: usize,
) -> Option<KeyBlock> {
    let mut seed = server_random.to_vec();
    seed.extend_from_slice(client_random);
    let block = prf(
        hash,
        master,
        "key expansion",
        &seed,
        2 * key_len + 2 * iv_len,
    )?;
    let (ck, rest) = block.split_at(key_len);
    let (sk, rest) = rest.split_at(key_len);
    let (civ, siv) = rest.split_at(iv_len);
    Some((ck.to_vec(), sk.to_vec(), civ.to_vec(), siv.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap_or_else(|e| panic!("{e}"))
    }

    /// RFC 8448 §3 (simple 1-RTT handshake): the server handshake traffic secret and the
    /// write key and IV derived from it.
    #[test]
    fn rfc_8448_server_handshake_key() {
        let secret = h(
            "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38",
        );
        let (key, iv) = traffic_key(Hash::Sha256, &secret, 16).expect("derived");
        assert_eq!(key, h("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc"));
        assert_eq!(iv, h("5d 31 3e b2 67 12 76 ee 13 00 0b 30"));
    }

    /// The P_SHA256 test vector published for TLS 1.2 implementers (secret, seed, label
    /// "test label"): its first 32 bytes.
    #[test]
    fn tls12_prf_sha256_vector() {
        let out = prf(
            Hash::Sha256,
            &h("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35"),
            "test label",
            &h("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c"),
            32,
        )
        .expect("prf");
        assert_eq!(
            out,
            h(
                "e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a"
            )
        );
    }
}
