//! Close frames (RFC 6455 §5.5.1) and status codes (§7.4).

/// What a Close frame's payload says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClosePayload {
    /// No payload: no status code given (reported to applications as 1005).
    Empty,
    /// One byte: malformed.
    OneByte,
    /// A status code and a reason (lossy UTF-8 if invalid; `reason_valid` says which).
    Status {
        /// The 2-byte status code.
        code: u16,
        /// The reason, decoded lossily.
        reason: String,
        /// The reason bytes were valid UTF-8.
        reason_valid: bool,
    },
}

/// Parses a Close payload (already unmasked).
pub fn parse_close(payload: &[u8]) -> ClosePayload {
    match payload {
        [] => ClosePayload::Empty,
        [_] => ClosePayload::OneByte,
        [hi, lo, reason @ ..] => ClosePayload::Status {
            code: u16::from_be_bytes([*hi, *lo]),
            reason: String::from_utf8_lossy(reason).into_owned(),
            reason_valid: std::str::from_utf8(reason).is_ok(),
        },
    }
}

/// True if `code` may be sent in a Close frame (RFC 6455 §7.4.1, §7.4.2, and the IANA
/// registry's 1012–1014).
pub fn close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// The registered meaning of a status code, for display.
pub fn close_code_meaning(code: u16) -> &'static str {
    match code {
        1000 => "normal closure",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1004 => "reserved",
        1005 => "no status received (must not be sent)",
        1006 => "abnormal closure (must not be sent)",
        1007 => "invalid frame payload data",
        1008 => "policy violation",
        1009 => "message too big",
        1010 => "mandatory extension",
        1011 => "internal error",
        1012 => "service restart",
        1013 => "try again later",
        1014 => "bad gateway",
        1015 => "TLS handshake failure (must not be sent)",
        3000..=3999 => "registered for libraries and frameworks",
        4000..=4999 => "private use by applications",
        _ => "not a valid close code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_shapes() {
        assert_eq!(parse_close(&[]), ClosePayload::Empty);
        assert_eq!(parse_close(&[3]), ClosePayload::OneByte);
        assert_eq!(
            parse_close(&[0x03, 0xe8, b'b', b'y', b'e']),
            ClosePayload::Status {
                code: 1000,
                reason: "bye".into(),
                reason_valid: true
            }
        );
        assert!(matches!(
            parse_close(&[0x03, 0xe8, 0xff]),
            ClosePayload::Status {
                reason_valid: false,
                ..
            }
        ));
    }

    #[test]
    fn code_ranges() {
        for c in [1000, 1001, 1011, 1014, 3000, 4999] {
            assert!(close_code_allowed(c), "{c}");
        }
        for c in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            assert!(!close_code_allowed(c), "{c}");
        }
    }
}
