//! A connection's findings as rows: every rule it broke, then every capture problem.

use crate::model::{Connection, Dir};

/// One row: a violation or a warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// A broken rule (true) or a capture problem (false).
    pub violation: bool,
    /// Stable code.
    pub code: &'static str,
    /// RFC section (violations only).
    pub rfc: &'static str,
    /// Who sent the offending bytes.
    pub dir: Option<Dir>,
    /// The frame concerned.
    pub frame: Option<u32>,
    /// What was seen.
    pub detail: String,
    /// The rule in one sentence (violations only).
    pub explain: &'static str,
    /// A rule of the opening handshake (its place is the handshake view).
    pub handshake: bool,
}

/// The rows for a connection: violations first, then warnings.
pub fn entries(c: &Connection) -> Vec<Entry> {
    let v = c.violations.iter().map(|v| Entry {
        violation: true,
        code: v.rule.code(),
        rfc: v.rule.rfc(),
        dir: v.dir,
        frame: v.frame,
        detail: v.detail.clone(),
        explain: v.rule.sentence(),
        handshake: v.rule.code().starts_with("handshake-"),
    });
    let w = c.warnings.iter().map(|w| Entry {
        violation: false,
        code: w.warning.code(),
        rfc: "",
        dir: w.dir,
        frame: w.frame,
        detail: w.detail.clone(),
        explain: w.warning.sentence(),
        handshake: false,
    });
    v.chain(w).collect()
}
