//! What this frame's value of each field means: the short value shown beside the field
//! and a few words on what it says, ending with the RFC section.

use crate::model::Dir;
use crate::model::{ControlOpcode, DataOpcode, FrameHeader, LengthForm, Opcode};

use super::{Field, FrameContext, seven_bit_len};

impl Field {
    /// The field's value in this frame, as short text (`1`, `0x1 text`, `37 fa 21 3d`).
    pub fn value(self, h: &FrameHeader) -> String {
        let bit = |b: bool| if b { "1" } else { "0" }.to_string();
        match self {
            Field::Fin => bit(h.fin),
            Field::Rsv1 => bit(h.rsv1),
            Field::Rsv2 => bit(h.rsv2),
            Field::Rsv3 => bit(h.rsv3),
            Field::Opcode => {
                let name = match h.opcode {
                    Opcode::Data(DataOpcode::Continuation) => "cont".to_string(),
                    op if op.is_reserved() => "reserved".to_string(),
                    op => op.name(),
                };
                format!("0x{:x} {name}", h.opcode.bits())
            }
            Field::Mask => bit(h.mask.is_some()),
            Field::PayloadLen => seven_bit_len(h).to_string(),
            Field::ExtendedLen => match h.length_form {
                LengthForm::Short => "absent".into(),
                LengthForm::Extended16 | LengthForm::Extended64 => h.payload_len.to_string(),
            },
            Field::MaskingKey => match h.mask {
                Some(k) => format!("{:02x} {:02x} {:02x} {:02x}", k[0], k[1], k[2], k[3]),
                None => "absent".into(),
            },
            Field::Payload => format!("{} bytes", h.payload_len),
        }
    }

    /// What this frame's value of the field means, in a few words ending with the RFC
    /// section that says so.
    pub fn meaning(self, h: &FrameHeader, ctx: FrameContext) -> String {
        let first_data = matches!(
            h.opcode,
            Opcode::Data(DataOpcode::Text | DataOpcode::Binary)
        );
        let s = match self {
            Field::Fin => match (h.fin, h.opcode) {
                (true, Opcode::Data(DataOpcode::Continuation)) => {
                    "last fragment: completes its message (§5.4)"
                }
                (true, _) => "final: the whole message is in this frame (§5.2)",
                (false, op) if op.is_control() => "not final: control frames can't fragment (§5.5)",
                (false, _) => "not final: more fragments follow (§5.4)",
            },
            Field::Rsv1 => match (h.rsv1, ctx.deflate) {
                (true, true) if first_data => "compressed message (RFC 7692 §6)",
                (true, true) => "set on a non-first frame: not allowed (RFC 7692 §6.1)",
                (true, false) => "set with no extension defining it (§5.2)",
                (false, true) if first_data => "clear: message sent uncompressed (RFC 7692 §6)",
                (false, true) if h.opcode.is_control() => {
                    "clear, as on every control frame (RFC 7692 §6.1)"
                }
                (false, true) => "clear, as on every continuation (RFC 7692 §6.1)",
                (false, false) => "clear: no extension uses it (§5.2)",
            },
            Field::Rsv2 | Field::Rsv3 => {
                let set = if self == Field::Rsv2 { h.rsv2 } else { h.rsv3 };
                if set {
                    "set with no extension defining it (§5.2)"
                } else {
                    "clear, as it must be (§5.2)"
                }
            }
            Field::Opcode => opcode_meaning(h.opcode),
            Field::Mask => match (h.mask.is_some(), ctx.dir) {
                (true, Dir::Client) => "masked, as every client frame must be (§5.1)",
                (false, Dir::Server) => "not masked, as server frames must not be (§5.1)",
                (true, Dir::Server) => "masked: a server must not mask (§5.1)",
                (false, Dir::Client) => "not masked: a client must mask every frame (§5.1)",
            },
            Field::PayloadLen => match h.length_form {
                LengthForm::Short => "the length itself: 0-125 fits in 7 bits (§5.2)",
                LengthForm::Extended16 => "126: the length follows in 16 bits (§5.2)",
                LengthForm::Extended64 => "127: the length follows in 64 bits (§5.2)",
            },
            Field::ExtendedLen => match h.length_form {
                LengthForm::Short => "absent: the length fits in 7 bits (§5.2)",
                LengthForm::Extended16 if h.non_minimal_length() => {
                    "16 bits though 7 would do: not minimal (§5.2)"
                }
                LengthForm::Extended16 => "16-bit form, for 126-65535 bytes (§5.2)",
                LengthForm::Extended64 if h.length_msb_set() => {
                    "most significant bit set: not allowed (§5.2)"
                }
                LengthForm::Extended64 if h.non_minimal_length() => {
                    "64 bits though 16 would do: not minimal (§5.2)"
                }
                LengthForm::Extended64 => "64-bit form, for over 65535 bytes (§5.2)",
            },
            Field::MaskingKey => match h.mask {
                Some(_) => "unmask: byte i XOR key[i mod 4] (§5.3)",
                None => "absent: the payload is not masked (§5.3)",
            },
            Field::Payload => match h.mask {
                Some(_) => "masked on the wire; unmasked below (§5.3)",
                None => "sent as is, not masked (§5.2)",
            },
        };
        s.to_string()
    }
}

/// What an opcode means, ending with its RFC section.
pub fn opcode_meaning(op: Opcode) -> &'static str {
    match op {
        Opcode::Data(DataOpcode::Continuation) => "continues a fragmented message (§5.4)",
        Opcode::Data(DataOpcode::Text) => "text: the message is UTF-8 text (§5.6)",
        Opcode::Data(DataOpcode::Binary) => "binary: the message is any bytes (§5.6)",
        Opcode::Data(DataOpcode::Reserved(_)) => "reserved: must fail the connection (§5.2)",
        Opcode::Control(ControlOpcode::Close) => "close: starts or answers closing (§5.5.1)",
        Opcode::Control(ControlOpcode::Ping) => "ping: the peer must answer a pong (§5.5.2)",
        Opcode::Control(ControlOpcode::Pong) => "pong: answers a ping, echoing it (§5.5.3)",
        Opcode::Control(ControlOpcode::Reserved(_)) => "reserved: must fail the connection (§5.2)",
    }
}
