//! RFC 6455 §5.2 frame header parser over partial input, written with `nom`'s streaming
//! combinators: too few bytes is `Err::Incomplete` (wait for more), never an error.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```

use nom::IResult;
use nom::bytes::streaming::take;
use nom::number::streaming::{be_u8, be_u16, be_u64};

/// Largest header: 2 fixed bytes + 8 length bytes + 4 mask bytes.
pub const MAX_HEADER_LEN: usize = 14;

/// A data-frame opcode (RFC 6455 §5.2, §5.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataOpcode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: UTF-8 text.
    Text,
    /// 0x2: binary data.
    Binary,
    /// 0x3–0x7: reserved for future data frames.
    Reserved(u8),
}

/// A control-frame opcode (RFC 6455 §5.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ControlOpcode {
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
    /// 0xB–0xF: reserved for future control frames.
    Reserved(u8),
}

/// The 4-bit opcode; every value has a meaning here (reserved ones are kept, not rejected).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// Opcodes 0x0–0x7.
    Data(DataOpcode),
    /// Opcodes 0x8–0xF (high bit set).
    Control(ControlOpcode),
}

impl Opcode {
    /// Decodes the low 4 bits of `value`.
    pub fn from_bits(value: u8) -> Opcode {
        match value & 0x0f {
            0x0 => Opcode::Data(DataOpcode::Continuation),
            0x1 => Opcode::Data(DataOpcode::Text),
            0x2 => Opcode::Data(DataOpcode::Binary),
            v @ 0x3..=0x7 => Opcode::Data(DataOpcode::Reserved(v)),
            0x8 => Opcode::Control(ControlOpcode::Close),
            0x9 => Opcode::Control(ControlOpcode::Ping),
            0xa => Opcode::Control(ControlOpcode::Pong),
            v => Opcode::Control(ControlOpcode::Reserved(v)),
        }
    }

    /// The 4-bit wire value.
    pub fn bits(self) -> u8 {
        match self {
            Opcode::Data(DataOpcode::Continuation) => 0x0,
            Opcode::Data(DataOpcode::Text) => 0x1,
            Opcode::Data(DataOpcode::Binary) => 0x2,
            Opcode::Data(DataOpcode::Reserved(v)) | Opcode::Control(ControlOpcode::Reserved(v)) => {
                v
            }
            Opcode::Control(ControlOpcode::Close) => 0x8,
            Opcode::Control(ControlOpcode::Ping) => 0x9,
            Opcode::Control(ControlOpcode::Pong) => 0xa,
        }
    }

    /// Close, ping, pong and reserved control opcodes.
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Control(_))
    }

    /// A reserved opcode (RFC 6455 §5.2: the connection must fail).
    pub fn is_reserved(self) -> bool {
        matches!(
            self,
            Opcode::Data(DataOpcode::Reserved(_)) | Opcode::Control(ControlOpcode::Reserved(_))
        )
    }

    /// Lower-case name: `continuation`, `text`, `binary`, `close`, `ping`, `pong`, `reserved-0x3`.
    pub fn name(self) -> String {
        match self {
            Opcode::Data(DataOpcode::Continuation) => "continuation".into(),
            Opcode::Data(DataOpcode::Text) => "text".into(),
            Opcode::Data(DataOpcode::Binary) => "binary".into(),
            Opcode::Control(ControlOpcode::Close) => "close".into(),
            Opcode::Control(ControlOpcode::Ping) => "ping".into(),
            Opcode::Control(ControlOpcode::Pong) => "pong".into(),
            Opcode::Data(DataOpcode::Reserved(v)) | Opcode::Control(ControlOpcode::Reserved(v)) => {
                format!("reserved-0x{v:x}")
            }
        }
    }
}

/// Which of the three payload length encodings a frame used (RFC 6455 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthForm {
    /// The 7-bit field holds the length (0–125).
    Short,
    /// 7-bit field 126, then a 16-bit length.
    Extended16,
    /// 7-bit field 127, then a 64-bit length.
    Extended64,
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the final fragment of a message.
    pub fin: bool,
    /// RSV1 (permessage-deflate: the message is compressed).
    pub rsv1: bool,
    /// RSV2 (no standard meaning).
    pub rsv2: bool,
    /// RSV3 (no standard meaning).
    pub rsv3: bool,
    /// The opcode.
    pub opcode: Opcode,
    /// The masking key, present iff the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Payload length as declared (the 64-bit form may declare up to 2^64-1).
    pub payload_len: u64,
    /// Which encoding carried the length.
    pub length_form: LengthForm,
    /// Bytes the header occupies (2–14).
    pub header_len: u8,
}

impl FrameHeader {
    /// True if the length was not encoded in the fewest bytes (RFC 6455 §5.2).
    pub fn non_minimal_length(&self) -> bool {
        match self.length_form {
            LengthForm::Short => false,
            LengthForm::Extended16 => self.payload_len < 126,
            LengthForm::Extended64 => self.payload_len <= 0xffff,
        }
    }

    /// True if the 64-bit length has its most significant bit set (RFC 6455 §5.2).
    pub fn length_msb_set(&self) -> bool {
        self.length_form == LengthForm::Extended64 && self.payload_len >> 63 == 1
    }
}

/// Parses one frame header from the start of `input`.
///
/// Returns the rest of the input (where the payload starts) and the header;
/// `Err(Incomplete)` when the header is not all there yet.
pub fn parse_frame_header(input: &[u8]) -> IResult<&[u8], FrameHeader> {
    let start_len = input.len();
    let (input, b0) = be_u8(input)?;
    let (input, b1) = be_u8(input)?;
    let short_len = b1 & 0x7f;
    let (input, payload_len, length_form) = match short_len {
        126 => {
            let (i, l) = be_u16(input)?;
            (i, u64::from(l), LengthForm::Extended16)
        }
        127 => {
            let (i, l) = be_u64(input)?;
            (i, l, LengthForm::Extended64)
        }
        l => (input, u64::from(l), LengthForm::Short),
    };
    let (input, mask) = if b1 & 0x80 != 0 {
        let (i, key) = take(4usize)(input)?;
        (i, Some([key[0], key[1], key[2], key[3]]))
    } else {
        (input, None)
    };
    let header_len = (start_len - input.len()) as u8;
    Ok((
        input,
        FrameHeader {
            fin: b0 & 0x80 != 0,
            rsv1: b0 & 0x40 != 0,
            rsv2: b0 & 0x20 != 0,
            rsv3: b0 & 0x10 != 0,
            opcode: Opcode::from_bits(b0),
            mask,
            payload_len,
            length_form,
            header_len,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_examples_parse() {
        // RFC 6455 §5.7: a single-frame unmasked text message "Hello".
        let (rest, h) = parse_frame_header(&[0x81, 0x05, 0x48, 0x65]).expect("header");
        assert!(h.fin);
        assert_eq!(h.opcode, Opcode::Data(DataOpcode::Text));
        assert_eq!(h.payload_len, 5);
        assert_eq!(h.header_len, 2);
        assert_eq!(rest, &[0x48, 0x65]);
        // A single-frame masked text message.
        let (_, h) =
            parse_frame_header(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f]).expect("header");
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(h.header_len, 6);
        // 256 bytes binary message in a single unmasked frame.
        let (_, h) = parse_frame_header(&[0x82, 0x7E, 0x01, 0x00]).expect("header");
        assert_eq!(
            (h.payload_len, h.length_form),
            (256, LengthForm::Extended16)
        );
        // 64 KiB binary message in a single unmasked frame.
        let (_, h) = parse_frame_header(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]).expect("header");
        assert_eq!(
            (h.payload_len, h.length_form, h.header_len),
            (65536, LengthForm::Extended64, 10)
        );
    }

    #[test]
    fn every_prefix_is_incomplete_not_error() {
        let full = [0x82u8, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for cut in 0..full.len() {
            assert!(
                matches!(
                    parse_frame_header(&full[..cut]),
                    Err(nom::Err::Incomplete(_))
                ),
                "prefix of {cut} bytes"
            );
        }
        let (_, h) = parse_frame_header(&full).expect("complete");
        assert_eq!(h.header_len, 14);
    }

    #[test]
    fn length_rules() {
        let (_, h) = parse_frame_header(&[0x81, 0x7E, 0x00, 0x05]).expect("header");
        assert!(h.non_minimal_length());
        let (_, h) = parse_frame_header(&[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1]).expect("header");
        assert!(h.length_msb_set());
        assert!(!h.non_minimal_length());
    }

    #[test]
    fn every_opcode_round_trips() {
        for v in 0u8..16 {
            let op = Opcode::from_bits(v);
            assert_eq!(op.bits(), v);
            assert_eq!(op.is_control(), v >= 8);
            assert_eq!(op.is_reserved(), !matches!(v, 0 | 1 | 2 | 8 | 9 | 10));
        }
    }
}
