//! The rules one frame header (RFC 6455 §5.2, §5.5, RFC 7692 §6.1) or one close payload
//! (RFC 6455 §5.5.1, §7.4) can break, as pure functions: each returns what is broken,
//! with a sentence saying what was seen. The decoder ([`super::decoder`]) reports them.

use smallvec::SmallVec;

use super::Negotiated;
use super::close::{ClosePayload, close_code_allowed, close_code_meaning};
use super::frame::{DataOpcode, FrameHeader, Opcode, parse_frame_header};
use super::record::Dir;
use crate::rules::Violation;

/// Rules broken, each with what exactly was seen. Most frames break none, and none
/// breaks more than a few: kept inline, without an allocation.
pub type Findings = SmallVec<[(Violation, String); 2]>;

/// What a frame sent by `dir` breaks by its header alone, given what the handshake
/// agreed (`negotiated`) and whether `dir` had already sent a Close (`close_sent`,
/// RFC 6455 §5.5.1: nothing may follow it). In the order the rules are listed in
/// [`crate::rules`].
pub fn header_violations(
    dir: Dir,
    negotiated: &Negotiated,
    close_sent: bool,
    h: &FrameHeader,
) -> Findings {
    let mut found = Findings::new();
    if close_sent {
        found.push((
            Violation::DataAfterClose,
            format!("{} frame after this side's Close", h.opcode.name()),
        ));
    }
    // §5.1: clients mask every frame, servers none.
    match (dir, h.mask.is_some()) {
        (Dir::Client, false) => found.push((
            Violation::ClientFrameUnmasked,
            "client frame without a masking key".into(),
        )),
        (Dir::Server, true) => found.push((
            Violation::ServerFrameMasked,
            "server frame with a masking key".into(),
        )),
        _ => {}
    }
    if h.opcode.is_reserved() {
        found.push((
            Violation::ReservedOpcode,
            format!("opcode 0x{:x}", h.opcode.bits()),
        ));
    }
    if (h.rsv2 || h.rsv3) && !negotiated.other_extension {
        found.push((
            Violation::RsvBitsWithoutExtension,
            format!(
                "RSV2={} RSV3={} with no extension defining them",
                h.rsv2 as u8, h.rsv3 as u8
            ),
        ));
    }
    if h.rsv1 {
        // RFC 7692 §6.1: RSV1 marks a compressed message, on its first frame only.
        let first_data = matches!(
            h.opcode,
            Opcode::Data(DataOpcode::Text | DataOpcode::Binary)
        );
        if negotiated.deflate.is_some() || negotiated.unknown {
            if !first_data {
                found.push((
                    Violation::Rsv1NotOnFirstFrame,
                    format!("RSV1 on a {} frame", h.opcode.name()),
                ));
            }
        } else if !negotiated.other_extension {
            found.push((
                Violation::RsvBitsWithoutExtension,
                "RSV1 set but permessage-deflate was not negotiated".into(),
            ));
        }
    }
    // §5.5: control frames are short and never fragmented.
    if h.opcode.is_control() {
        if h.payload_len > 125 {
            found.push((
                Violation::ControlFrameTooLong,
                format!(
                    "{} frame with {} payload bytes",
                    h.opcode.name(),
                    h.payload_len
                ),
            ));
        }
        if !h.fin {
            found.push((
                Violation::ControlFrameFragmented,
                format!("{} frame with FIN clear", h.opcode.name()),
            ));
        }
    }
    if h.non_minimal_length() {
        found.push((
            Violation::NonMinimalLength,
            format!(
                "length {} sent in the {:?} form",
                h.payload_len, h.length_form
            ),
        ));
    }
    if h.length_msb_set() {
        found.push((
            Violation::LengthMsbSet,
            format!("64-bit length 0x{:016x}", h.payload_len),
        ));
    }
    found
}

/// What a whole close payload breaks (RFC 6455 §5.5.1: empty or a 2-byte code and a
/// UTF-8 reason; §7.4: only codes that may be sent).
pub fn close_violations(payload: &ClosePayload) -> Findings {
    let mut found = Findings::new();
    match payload {
        ClosePayload::Empty => {}
        ClosePayload::OneByte => found.push((
            Violation::ClosePayloadOneByte,
            "close payload of 1 byte".into(),
        )),
        ClosePayload::Status {
            code, reason_valid, ..
        } => {
            if !close_code_allowed(*code) {
                found.push((
                    Violation::InvalidCloseCode,
                    format!("close code {code} ({})", close_code_meaning(*code)),
                ));
            }
            if !reason_valid {
                found.push((
                    Violation::InvalidUtf8CloseReason,
                    "close reason is not valid UTF-8".into(),
                ));
            }
        }
    }
    found
}

/// Could `bytes` start with a frame header sent by `dir`? Used to find frame boundaries
/// again after a gap, and to recognise WebSocket traffic without a handshake: a header
/// that breaks none of the rules above (masked as `dir` must, a defined opcode that
/// starts a message or is a whole short control frame, no RSV2/RSV3, a minimal length).
pub fn plausible_header(bytes: &[u8], dir: Dir) -> bool {
    let Ok((_, h)) = parse_frame_header(bytes) else {
        return false;
    };
    let masked_right = (dir == Dir::Client) == h.mask.is_some();
    let opcode_ok = !h.opcode.is_reserved() && h.opcode != Opcode::Data(DataOpcode::Continuation);
    let control_ok = !h.opcode.is_control() || (h.fin && h.payload_len <= 125 && !h.rsv1);
    masked_right
        && opcode_ok
        && control_ok
        && !h.rsv2
        && !h.rsv3
        && !h.non_minimal_length()
        && !h.length_msb_set()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::close::parse_close;

    fn header(bytes: &[u8]) -> FrameHeader {
        parse_frame_header(bytes)
            .map(|(_, h)| h)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn codes(found: &Findings) -> Vec<&'static str> {
        found.iter().map(|(v, _)| v.code()).collect()
    }

    #[test]
    fn a_clean_header_breaks_nothing_and_several_rules_come_in_table_order() {
        let clean = header(&[0x81, 0x82, 1, 2, 3, 4]);
        assert!(header_violations(Dir::Client, &Negotiated::default(), false, &clean).is_empty());
        // An unmasked ping of 126 bytes with FIN clear and RSV2, after a Close.
        let bad = header(&[0x29, 126, 0, 126]);
        assert_eq!(
            codes(&header_violations(
                Dir::Client,
                &Negotiated::default(),
                true,
                &bad
            )),
            [
                "data-after-close",
                "client-frame-unmasked",
                "rsv-bits-without-extension",
                "control-frame-too-long",
                "control-frame-fragmented"
            ]
        );
    }

    #[test]
    fn close_payloads() {
        assert!(close_violations(&parse_close(&[])).is_empty());
        assert!(close_violations(&parse_close(&[0x03, 0xe8, b'o', b'k'])).is_empty());
        assert_eq!(
            codes(&close_violations(&parse_close(&[0x03]))),
            ["close-payload-one-byte"]
        );
        assert_eq!(
            codes(&close_violations(&parse_close(&[0x03, 0xed, 0xff]))),
            ["invalid-close-code", "invalid-utf8-close-reason"]
        );
    }

    #[test]
    fn plausible_headers_follow_the_rules() {
        assert!(plausible_header(&[0x81, 0x82, 1, 2, 3, 4], Dir::Client));
        assert!(!plausible_header(&[0x81, 0x02], Dir::Client), "unmasked");
        assert!(plausible_header(&[0x81, 0x02], Dir::Server));
        assert!(
            !plausible_header(&[0x80, 0x02], Dir::Server),
            "continuation"
        );
        assert!(
            !plausible_header(&[0x09, 0x00], Dir::Server),
            "fragmented ping"
        );
        assert!(
            !plausible_header(&[0x82, 126, 0, 5], Dir::Server),
            "non-minimal"
        );
    }
}
