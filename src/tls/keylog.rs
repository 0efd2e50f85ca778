//! TLS key logs in the NSS format (what `SSLKEYLOGFILE` makes browsers, curl, Python's
//! `ssl`, Node's `keylog` event, Go's `KeyLogWriter` and `openssl s_client -keylogfile`
//! write): one secret per line, `LABEL <client random hex> <secret hex>`, keyed by the
//! ClientHello random of the connection it belongs to.
//!
//! TLS 1.2 logs the master secret (`CLIENT_RANDOM`); TLS 1.3 logs the traffic secrets
//! of each stage (RFC 8446 §7.1). Lines with other labels are counted and skipped;
//! malformed lines are reported by file and line, and the other lines still used.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::source::FoundSecrets;

/// The secrets logged for one connection (one ClientHello random).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secrets {
    /// TLS 1.2 master secret (`CLIENT_RANDOM`, 48 bytes).
    pub master: Option<Vec<u8>>,
    /// TLS 1.3 client handshake traffic secret.
    pub client_handshake: Option<Vec<u8>>,
    /// TLS 1.3 server handshake traffic secret.
    pub server_handshake: Option<Vec<u8>>,
    /// TLS 1.3 first client application traffic secret.
    pub client_traffic: Option<Vec<u8>>,
    /// TLS 1.3 first server application traffic secret.
    pub server_traffic: Option<Vec<u8>>,
    /// TLS 1.3 client early (0-RTT) traffic secret.
    pub client_early: Option<Vec<u8>>,
}

/// A line of a key log that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLogProblem {
    /// The key log's name (its path, or how it was given).
    pub source: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub what: String,
}

impl std::fmt::Display for KeyLogProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}: {}", self.source, self.line, self.what)
    }
}

/// Every secret read from the key logs given, by client random.
#[derive(Clone, Debug, Default)]
pub struct KeyLog {
    secrets: HashMap<[u8; 32], Secrets>,
    /// Lines that could not be used.
    pub problems: Vec<KeyLogProblem>,
    /// Lines with a label that carries no traffic key (`EXPORTER_SECRET`, others),
    /// skipped.
    pub skipped: u64,
    /// Where the secrets came from (file names, "pcapng secrets block"), in order.
    pub sources: Vec<String>,
    /// Secrets found while the capture is read (pcapng Decryption Secrets Blocks, lines
    /// added to a key log file since it was loaded), shared with the reader.
    pub inbox: Arc<SecretsInbox>,
    /// The key log files loaded, and how many of their bytes were read: a browser adds
    /// a line per connection, so a file may grow while a live capture runs.
    files: Vec<(std::path::PathBuf, Arc<Mutex<u64>>)>,
}

/// Secrets that arrive while a capture is read: a pcapng file's Decryption Secrets
/// Blocks (what `editcap --inject-secrets tls,keys.txt` writes) come before the packets
/// they decrypt, so a TLS flow that starts later finds its key here. The reader puts
/// their text in [`FoundSecrets`]; they are parsed when first looked in.
#[derive(Debug, Default)]
pub struct SecretsInbox {
    /// The texts, as the reader found them.
    pub found: Arc<FoundSecrets>,
    /// Those parsed so far, and how many that is (made when first needed: a key log
    /// holds an inbox of its own).
    parsed: Mutex<(usize, Option<Box<KeyLog>>)>,
}

impl SecretsInbox {
    /// The secrets received for `random`.
    pub fn get(&self, random: &[u8; 32]) -> Option<Secrets> {
        let mut parsed = self.parsed.lock().ok()?;
        let (done, log) = &mut *parsed;
        let log = log.get_or_insert_with(Box::default);
        for text in self.found.since(*done) {
            log.add(&text, "the capture's decryption secrets block");
            *done += 1;
        }
        log.get(random).cloned()
    }

    /// Connections they hold secrets for, among those parsed.
    pub fn len(&self) -> usize {
        let _ = self.get(&[0; 32]);
        self.parsed
            .lock()
            .map_or(0, |p| p.1.as_ref().map_or(0, |l| l.len()))
    }

    /// None received.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Most problems kept per key log (the rest are counted in the last one's place).
const MAX_PROBLEMS: usize = 100;

impl KeyLog {
    /// Reads the key log at `path`.
    pub fn load(&mut self, path: &Path) -> std::io::Result<()> {
        let text = std::fs::read(path)?;
        self.add(&String::from_utf8_lossy(&text), &path.display().to_string());
        self.files
            .push((path.to_path_buf(), Arc::new(Mutex::new(text.len() as u64))));
        Ok(())
    }

    /// Reads what was appended to the key log files since they were read (whole lines
    /// only), into the inbox. Called when a connection's key is not found.
    fn read_appended(&self) {
        use std::io::{Read, Seek, SeekFrom};
        for (path, read) in &self.files {
            let Ok(mut done) = read.lock() else { continue };
            let Ok(len) = std::fs::metadata(path).map(|m| m.len()) else {
                continue;
            };
            if len <= *done {
                continue;
            }
            let mut new = Vec::new();
            let Ok(mut file) = std::fs::File::open(path) else {
                continue;
            };
            if file.seek(SeekFrom::Start(*done)).is_err()
                || (&mut file).take(len - *done).read_to_end(&mut new).is_err()
            {
                continue;
            }
            // A line still being written is read next time.
            let whole = new.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            *done += whole as u64;
            if whole > 0 {
                self.inbox
                    .found
                    .push(String::from_utf8_lossy(&new[..whole]).into_owned());
            }
        }
    }

    /// Adds the lines of a key log named `source`.
    pub fn add(&mut self, text: &str, source: &str) {
        self.sources.push(source.to_string());
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Err(what) = self.add_line(line)
                && self.problems.len() < MAX_PROBLEMS
            {
                self.problems.push(KeyLogProblem {
                    source: source.to_string(),
                    line: n + 1,
                    what,
                });
            }
        }
    }

    fn add_line(&mut self, line: &str) -> Result<(), String> {
        let mut parts = line.split_ascii_whitespace();
        let (Some(label), Some(random), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not `LABEL <client random> <secret>`".into());
        };
        let field: fn(&mut Secrets) -> &mut Option<Vec<u8>> = match label {
            "CLIENT_RANDOM" => |s| &mut s.master,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => |s| &mut s.client_handshake,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => |s| &mut s.server_handshake,
            "CLIENT_TRAFFIC_SECRET_0" => |s| &mut s.client_traffic,
            "SERVER_TRAFFIC_SECRET_0" => |s| &mut s.server_traffic,
            "CLIENT_EARLY_TRAFFIC_SECRET" => |s| &mut s.client_early,
            _ => {
                self.skipped += 1;
                return Ok(());
            }
        };
        let random: [u8; 32] = hex::decode(random)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| format!("the client random {random:?} is not 64 hex digits"))?;
        let secret =
            hex::decode(secret).map_err(|_| format!("the secret of {label} is not hex"))?;
        let want = if label == "CLIENT_RANDOM" {
            &[48][..]
        } else {
            &[32, 48][..]
        };
        if !want.contains(&secret.len()) {
            return Err(format!(
                "the secret of {label} is {} bytes, not {want:?}",
                secret.len()
            ));
        }
        *field(self.secrets.entry(random).or_default()) = Some(secret);
        Ok(())
    }

    /// The secrets logged for the connection whose ClientHello random is `random`.
    pub fn get(&self, random: &[u8; 32]) -> Option<&Secrets> {
        self.secrets.get(random)
    }

    /// The secrets for `random`, from the key logs or from the capture itself.
    pub fn find(&self, random: &[u8; 32]) -> Option<Secrets> {
        if let Some(s) = self.get(random).cloned().or_else(|| self.inbox.get(random)) {
            return Some(s);
        }
        self.read_appended();
        self.inbox.get(random)
    }

    /// Connections the key logs hold secrets for.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// No secret at all.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOM: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

    #[test]
    fn lines_appended_to_a_key_log_are_read_when_a_key_is_missing() {
        use std::io::Write;
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        writeln!(
            file,
            "CLIENT_RANDOM {} {}",
            "01".repeat(32),
            "aa".repeat(48)
        )
        .expect("write");
        let mut log = KeyLog::default();
        log.load(file.path()).expect("load");
        let later = [0x02; 32];
        assert!(log.find(&later).is_none());
        // A browser appends the next connection's line (the last one still half written).
        write!(
            file,
            "CLIENT_RANDOM {} {}\nCLIENT_RANDOM {}",
            "02".repeat(32),
            "bb".repeat(48),
            "03".repeat(32)
        )
        .expect("write");
        file.flush().expect("flush");
        let s = log.find(&later).expect("read from the appended line");
        assert_eq!(s.master.as_deref(), Some(&[0xbb; 48][..]));
        assert!(log.find(&[0x03; 32]).is_none());
    }

    #[test]
    fn labels_are_read_and_problems_named() {
        let text = format!(
            "# a comment\n\
             CLIENT_HANDSHAKE_TRAFFIC_SECRET {RANDOM} {}\n\
             SERVER_TRAFFIC_SECRET_0 {RANDOM} {}\n\
             EXPORTER_SECRET {RANDOM} {}\n\
             CLIENT_RANDOM {RANDOM} abc\n\
             CLIENT_RANDOM 1234 {}\n\
             garbage\n\
             CLIENT_RANDOM {RANDOM} {}\n",
            "11".repeat(32),
            "22".repeat(48),
            "33".repeat(32),
            "44".repeat(48),
            "55".repeat(48),
        );
        let mut log = KeyLog::default();
        log.add(&text, "keys.txt");
        let random: [u8; 32] = hex::decode(RANDOM).expect("hex").try_into().expect("32");
        let s = log.get(&random).expect("secrets");
        assert_eq!(s.client_handshake.as_deref(), Some(&[0x11; 32][..]));
        assert_eq!(s.server_traffic.as_deref(), Some(&[0x22; 48][..]));
        assert_eq!(s.master.as_deref(), Some(&[0x55; 48][..]));
        assert_eq!(log.skipped, 1);
        let lines: Vec<usize> = log.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [5, 6, 7]);
        assert_eq!(
            log.problems[0].to_string(),
            "keys.txt line 5: the secret of CLIENT_RANDOM is not hex"
        );
    }
}
