//! TLS as its own stage between `tcp` and `http` (DESIGN.md, "Shape of the code"): a
//! flow whose opener starts with a ClientHello is TLS on any port; with the secrets of a
//! key log its application data is decrypted and handed on to the same `http` → `ws`
//! stages as plain TCP, so every check and view works unchanged on `wss://`.
//!
//! - [`keylog`]: NSS key log files (`SSLKEYLOGFILE`, `--keylog`).
//! - [`schedule`]: traffic keys from the logged secrets (RFC 8446 §7, RFC 5246 §5-6).
//! - [`cipher`]: suites and the opening of protected records (AES-GCM, ChaCha20-Poly1305).
//! - [`stream`]: one TLS connection, both directions.

pub mod cipher;
pub mod keylog;
pub mod schedule;
pub mod stream;

pub use keylog::KeyLog;
pub use stream::{TlsEvent, TlsFlow, TlsInfo, starts_tls};
