//! Plain-language explanations of the RFC 6455 §5.2 frame header, field by field:
//! what each field means in general, what this frame's value means, where the field
//! sits in the frame's bytes, and the RFC section that defines it. Text only (no
//! terminal types), so a command-line `explain` can print the same words the TUI shows.

use std::ops::Range;

use crate::model::Dir;
use crate::model::{FrameHeader, LengthForm};

pub mod meaning;

/// One field of a WebSocket frame, in wire order (the first is selected at first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Field {
    /// Bit 0 of byte 0: final fragment.
    #[default]
    Fin,
    /// Bit 1 of byte 0: reserved for extensions (permessage-deflate: compressed).
    Rsv1,
    /// Bit 2 of byte 0: reserved for extensions.
    Rsv2,
    /// Bit 3 of byte 0: reserved for extensions.
    Rsv3,
    /// Low 4 bits of byte 0: what the payload is.
    Opcode,
    /// Bit 0 of byte 1: the payload is masked.
    Mask,
    /// Low 7 bits of byte 1: the length, or 126/127 announcing a longer form.
    PayloadLen,
    /// 2 or 8 bytes after byte 1 when the 7-bit length is 126 or 127.
    ExtendedLen,
    /// 4 bytes after the length when MASK is set.
    MaskingKey,
    /// Everything after the header.
    Payload,
}

/// What a value-specific explanation needs to know beyond the header itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameContext {
    /// Who sent the frame.
    pub dir: Dir,
    /// permessage-deflate was negotiated for this connection (or cannot be ruled out).
    pub deflate: bool,
}

impl Field {
    /// Every field, in wire order.
    pub const ALL: [Field; 10] = [
        Field::Fin,
        Field::Rsv1,
        Field::Rsv2,
        Field::Rsv3,
        Field::Opcode,
        Field::Mask,
        Field::PayloadLen,
        Field::ExtendedLen,
        Field::MaskingKey,
        Field::Payload,
    ];

    /// Short name as in the RFC diagram.
    pub fn name(self) -> &'static str {
        match self {
            Field::Fin => "FIN",
            Field::Rsv1 => "RSV1",
            Field::Rsv2 => "RSV2",
            Field::Rsv3 => "RSV3",
            Field::Opcode => "opcode",
            Field::Mask => "MASK",
            Field::PayloadLen => "payload len",
            Field::ExtendedLen => "extended len",
            Field::MaskingKey => "masking key",
            Field::Payload => "payload",
        }
    }

    /// Looks a field up by name (case-insensitive; `-`, `_` and spaces are equivalent).
    pub fn from_name(name: &str) -> Option<Field> {
        let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '_', ' '], "");
        let wanted = norm(name);
        Field::ALL.into_iter().find(|f| norm(f.name()) == wanted)
    }

    /// The RFC section that defines the field.
    pub fn rfc(self) -> &'static str {
        match self {
            Field::Fin => "RFC 6455 §5.2, §5.4",
            Field::Rsv1 => "RFC 6455 §5.2, RFC 7692 §6",
            Field::Rsv2 | Field::Rsv3 => "RFC 6455 §5.2",
            Field::Opcode => "RFC 6455 §5.2, §11.8",
            Field::Mask => "RFC 6455 §5.1, §5.2",
            Field::PayloadLen | Field::ExtendedLen => "RFC 6455 §5.2",
            Field::MaskingKey => "RFC 6455 §5.3",
            Field::Payload => "RFC 6455 §5.2, §5.6",
        }
    }

    /// What the field is for, in general.
    pub fn about(self) -> &'static str {
        match self {
            Field::Fin => {
                "FIN is 1 on the last frame of a message. A message sent in one frame has FIN=1. A fragmented message is a text or binary frame with FIN=0, then continuation frames, the last of which has FIN=1. Control frames (close, ping, pong) are never fragmented, so they always have FIN=1."
            }
            Field::Rsv1 => {
                "Reserved for extensions: it must be 0 unless an extension agreed in the handshake gives it a meaning. permessage-deflate (RFC 7692 §6) does: RSV1=1 on the first frame of a text or binary message says the whole message is compressed. It is never set on continuation or control frames."
            }
            Field::Rsv2 | Field::Rsv3 => {
                "Reserved for extensions. No registered extension uses it, so it must be 0; a receiver that sees it set without an extension defining it must fail the connection."
            }
            Field::Opcode => {
                "Four bits saying how to read the payload: 0x0 continuation of a fragmented message, 0x1 text (UTF-8), 0x2 binary, 0x8 close, 0x9 ping, 0xA pong. 0x3-0x7 and 0xB-0xF are reserved. Opcodes 0x8 and up are control frames: they may arrive between the fragments of a message but are never fragmented themselves and carry at most 125 bytes."
            }
            Field::Mask => {
                "1 when the payload is masked with the 4-byte masking key that follows the length. Every frame from client to server must be masked and no frame from server to client may be. Masking with a random key stops a web page from choosing the bytes on the wire, which could otherwise trick a proxy into caching forged responses (RFC 6455 §10.3)."
            }
            Field::PayloadLen => {
                "The 7 bits after MASK. A value of 0-125 is the payload length itself; 126 means the length is in the next 2 bytes (16-bit, for 126-65535 bytes); 127 means it is in the next 8 bytes (64-bit, most significant bit 0). The shortest form that fits must be used."
            }
            Field::ExtendedLen => {
                "Present only when the 7-bit length is 126 (then 2 bytes follow) or 127 (then 8 bytes follow). The number is unsigned and in network byte order (big-endian, most significant byte first)."
            }
            Field::MaskingKey => {
                "Four bytes the client picks at random for each frame, present when MASK is 1. To unmask, byte i of the payload is XORed with key[i mod 4]: the same operation masks and unmasks. The key is sent in the clear; masking is not encryption, it only makes the bytes on the wire unpredictable to the page that sent them."
            }
            Field::Payload => {
                "Extension data followed by application data. Text messages are UTF-8 as a whole (a character may be split between fragments). Under permessage-deflate the payloads of all frames of a compressed message, joined and followed by 00 00 ff ff, form a raw DEFLATE stream (RFC 7692 §7.2.2). A close payload is a 2-byte status code and a UTF-8 reason (§5.5.1)."
            }
        }
    }

    /// The bytes of the frame (offsets into its wire bytes) that hold this field;
    /// `None` when the frame has no such field (no extended length, not masked).
    /// FIN, RSV1-3 and opcode share byte 0; MASK and the 7-bit length share byte 1.
    pub fn byte_range(self, h: &FrameHeader) -> Option<Range<usize>> {
        let ext = extended_len_bytes(h.length_form);
        let key_at = 2 + ext;
        let header_len = usize::from(h.header_len);
        match self {
            Field::Fin | Field::Rsv1 | Field::Rsv2 | Field::Rsv3 | Field::Opcode => Some(0..1),
            Field::Mask | Field::PayloadLen => Some(1..2),
            Field::ExtendedLen => (ext > 0).then_some(2..key_at),
            Field::MaskingKey => h.mask.map(|_| key_at..key_at + 4),
            Field::Payload => {
                let len = usize::try_from(h.payload_len).unwrap_or(usize::MAX);
                Some(header_len..header_len.saturating_add(len))
            }
        }
    }
}

/// Bytes of extended length a length form uses: 0, 2 or 8.
pub fn extended_len_bytes(form: LengthForm) -> usize {
    match form {
        LengthForm::Short => 0,
        LengthForm::Extended16 => 2,
        LengthForm::Extended64 => 8,
    }
}

/// The value of the 7-bit length field as sent.
pub fn seven_bit_len(h: &FrameHeader) -> u8 {
    match h.length_form {
        LengthForm::Short => (h.payload_len & 0x7f) as u8,
        LengthForm::Extended16 => 126,
        LengthForm::Extended64 => 127,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::frame::parse_frame_header;

    #[test]
    fn byte_ranges_follow_the_length_form() {
        let (_, h) = parse_frame_header(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f]).expect("hdr");
        assert_eq!(Field::Fin.byte_range(&h), Some(0..1));
        assert_eq!(Field::PayloadLen.byte_range(&h), Some(1..2));
        assert_eq!(Field::ExtendedLen.byte_range(&h), None);
        assert_eq!(Field::MaskingKey.byte_range(&h), Some(2..6));
        assert_eq!(Field::Payload.byte_range(&h), Some(6..11));
        let (_, h) =
            parse_frame_header(&[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4]).expect("hdr");
        assert_eq!(Field::ExtendedLen.byte_range(&h), Some(2..10));
        assert_eq!(Field::MaskingKey.byte_range(&h), Some(10..14));
        assert_eq!(Field::PayloadLen.value(&h), "127");
        let (_, h) = parse_frame_header(&[0x82, 0x7E, 0x01, 0x00]).expect("hdr");
        assert_eq!(Field::ExtendedLen.byte_range(&h), Some(2..4));
        assert_eq!(Field::MaskingKey.byte_range(&h), None);
    }

    #[test]
    fn every_field_is_explained_with_a_section() {
        for f in Field::ALL {
            assert!(f.rfc().starts_with("RFC "), "{f:?}");
            assert!(f.about().ends_with('.'), "{f:?}");
            assert_eq!(Field::from_name(f.name()), Some(f));
        }
        assert_eq!(Field::from_name("masking-key"), Some(Field::MaskingKey));
    }

    #[test]
    fn meanings_depend_on_direction_and_extension() {
        let (_, h) = parse_frame_header(&[0xC1, 0x85, 1, 2, 3, 4]).expect("hdr");
        let client = FrameContext {
            dir: Dir::Client,
            deflate: true,
        };
        assert!(Field::Rsv1.meaning(&h, client).starts_with("compressed"));
        assert!(
            Field::Mask
                .meaning(&h, client)
                .contains("as every client frame")
        );
        assert!(
            Field::ALL
                .iter()
                .all(|f| f.meaning(&h, client).ends_with(')'))
        );
        let server = FrameContext {
            dir: Dir::Server,
            deflate: false,
        };
        assert!(Field::Mask.meaning(&h, server).contains("must not"));
        assert!(Field::Rsv1.meaning(&h, server).contains("no extension"));
    }
}
