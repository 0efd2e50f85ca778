//! TLS key logs found inside a capture: pcapng Decryption Secrets Blocks of type TLS
//! key log (pcapng §4.7, what `editcap --inject-secrets tls,keys.txt` writes), kept as
//! text and shared between the reader that finds them and the TLS stage that uses them
//! (`tls::keylog::SecretsInbox`), which may run on other threads.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Most bytes of secrets kept from one capture (a key log line is ~200 bytes).
const MAX_FOUND_BYTES: usize = 64 << 20;

/// The key log texts found so far, in the order they were read.
#[derive(Debug, Default)]
pub struct FoundSecrets {
    texts: Mutex<Vec<String>>,
    count: AtomicUsize,
    bytes: AtomicUsize,
}

impl FoundSecrets {
    /// Adds a key log text found in the capture (past 64 MiB in all, it is
    /// dropped).
    pub fn push(&self, text: String) {
        if self.bytes.fetch_add(text.len(), Ordering::Relaxed) + text.len() > MAX_FOUND_BYTES {
            return;
        }
        if let Ok(mut texts) = self.texts.lock() {
            texts.push(text);
            self.count.store(texts.len(), Ordering::Release);
        }
    }

    /// How many texts were found.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// The texts found after the first `n`.
    pub fn since(&self, n: usize) -> Vec<String> {
        if self.count() <= n {
            return Vec::new();
        }
        self.texts
            .lock()
            .map(|t| t.get(n..).map(<[String]>::to_vec).unwrap_or_default())
            .unwrap_or_default()
    }
}
