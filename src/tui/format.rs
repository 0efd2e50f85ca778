//! Small text helpers shared by the views: times, gaps, sizes, wrapping.

use crate::model::Timestamp;

/// Seconds since the connection's start, e.g. `12.004321`.
pub fn relative(ts: Timestamp, start: Timestamp) -> String {
    format!("{:.6}", ts.seconds_since(start))
}

/// Wall-clock time in UTC, `HH:MM:SS.ffffff`.
pub fn clock(ts: Timestamp) -> String {
    let secs = ts.secs.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        ts.nanos / 1000
    )
}

/// Date and wall-clock time in UTC, `2025-01-31 12:00:00.123456 UTC`.
pub fn absolute(ts: Timestamp) -> String {
    let (y, m, d) = civil_from_days(ts.secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02} {} UTC", clock(ts))
}

/// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A duration in seconds as a short human string: `+412µs`, `+3.2ms`, `+1.25s`, `+2m05s`.
pub fn gap(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 0.001 {
        format!("+{:.0}µs", s * 1e6)
    } else if s < 1.0 {
        format!("+{:.1}ms", s * 1e3)
    } else if s < 60.0 {
        format!("+{s:.2}s")
    } else {
        let whole = s as u64;
        format!("+{}m{:02}s", whole / 60, whole % 60)
    }
}

/// Gaps at least this long are shown as idle periods.
pub const IDLE_GAP: f64 = 0.5;

/// A byte count: `512 B`, `3.4 KiB`, `1.0 MiB`.
pub fn bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if f < KIB * KIB {
        format!("{:.1} KiB", f / KIB)
    } else if f < KIB * KIB * KIB {
        format!("{:.1} MiB", f / KIB / KIB)
    } else {
        format!("{:.1} GiB", f / KIB / KIB / KIB)
    }
}

/// Splits `text` into lines of at most `width` characters at spaces (long words are cut).
/// Leading indentation is kept, on every line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let body = text.trim_start_matches(' ');
    let indent = text.len() - body.len();
    let pad = " ".repeat(indent);
    wrap_words(body, width.saturating_sub(indent))
        .into_iter()
        .map(|l| format!("{pad}{l}"))
        .collect()
}

fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if len > 0 {
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            let rest = word.split_off(width);
            lines.push(word.into_iter().collect());
            word = rest;
        }
        if len > 0 && len + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        if len > 0 {
            line.push(' ');
            len += 1;
        }
        len += word.len();
        line.extend(word);
    }
    if len > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Text made safe for one terminal line: control characters become `·`.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '·' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_clock() {
        let ts = Timestamp {
            secs: 1_700_000_000,
            nanos: 123_456_789,
        };
        assert_eq!(absolute(ts), "2023-11-14 22:13:20.123456 UTC");
        let epoch = Timestamp::default();
        assert_eq!(absolute(epoch), "1970-01-01 00:00:00.000000 UTC");
        let leap = Timestamp {
            secs: 951_782_400,
            nanos: 0,
        };
        assert_eq!(absolute(leap), "2000-02-29 00:00:00.000000 UTC");
    }

    #[test]
    fn gaps_scale() {
        assert_eq!(gap(0.000_412), "+412µs");
        assert_eq!(gap(0.0032), "+3.2ms");
        assert_eq!(gap(1.25), "+1.25s");
        assert_eq!(gap(125.0), "+2m05s");
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghijkl", 8), vec!["abcdefgh", "ijkl"]);
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("  aaa bbb ccc", 9), vec!["  aaa bbb", "  ccc"]);
        assert_eq!(bytes(1536), "1.5 KiB");
    }
}
