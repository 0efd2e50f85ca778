//! Every rule wsscope checks, with its stable code, the RFC section it comes from and a
//! sentence a person understands. One table feeds the exporters, the TUI and `explain`.

/// A protocol rule broken by the traffic (RFC 6455, RFC 7692). Codes are stable: they
/// appear in the JSON-lines export and never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Violation {
    // --- opening handshake, request (RFC 6455 §4.1, §4.2.1) ---
    /// The Upgrade request's method is not GET.
    HandshakeMethodNotGet,
    /// The Upgrade request is not HTTP/1.1 or later.
    HandshakeHttpVersion,
    /// The Upgrade request has no Host header.
    HandshakeHostMissing,
    /// The request's Upgrade header does not name `websocket`.
    HandshakeUpgradeMissing,
    /// The request's Connection header lacks the `Upgrade` token.
    HandshakeConnectionMissing,
    /// Sec-WebSocket-Key is not the base64 encoding of 16 bytes.
    HandshakeKeyInvalid,
    /// Sec-WebSocket-Version is not 13.
    HandshakeVersionInvalid,
    // --- opening handshake, response ---
    /// The 101 response's Upgrade header does not name `websocket`.
    HandshakeResponseUpgradeMissing,
    /// The 101 response's Connection header lacks the `Upgrade` token.
    HandshakeResponseConnectionMissing,
    /// The 101 response has no Sec-WebSocket-Accept.
    HandshakeAcceptMissing,
    /// Sec-WebSocket-Accept is not base64(SHA-1(key + GUID)).
    HandshakeAcceptMismatch,
    /// The server chose a subprotocol the client did not offer.
    HandshakeSubprotocolNotOffered,
    /// The server accepted an extension the client did not offer.
    HandshakeExtensionNotOffered,
    /// The server's permessage-deflate parameters are malformed.
    HandshakeDeflateParams,
    /// The client sent data before the server's response.
    HandshakeClientFramesBeforeResponse,
    // --- framing (RFC 6455 §5) ---
    /// A client-to-server frame is not masked.
    ClientFrameUnmasked,
    /// A server-to-client frame is masked.
    ServerFrameMasked,
    /// The opcode is one of the reserved values 3–7 or 0xB–0xF.
    ReservedOpcode,
    /// RSV1/2/3 set with no extension negotiated that defines them.
    RsvBitsWithoutExtension,
    /// RSV1 (compressed) on a continuation or control frame.
    Rsv1NotOnFirstFrame,
    /// A control frame's payload is longer than 125 bytes.
    ControlFrameTooLong,
    /// A control frame has FIN clear.
    ControlFrameFragmented,
    /// The payload length was not encoded in the fewest bytes.
    NonMinimalLength,
    /// The 64-bit payload length has its most significant bit set.
    LengthMsbSet,
    /// A continuation frame with no fragmented message open.
    ContinuationWithoutStart,
    /// A new text/binary frame while a fragmented message is still open.
    DataInsideFragmentedMessage,
    /// A text message is not valid UTF-8.
    InvalidUtf8Text,
    /// A close reason is not valid UTF-8.
    InvalidUtf8CloseReason,
    /// A Close frame with a 1-byte payload.
    ClosePayloadOneByte,
    /// A close code that must not appear on the wire.
    InvalidCloseCode,
    /// A frame sent after the same side sent Close.
    DataAfterClose,
    /// A compressed message does not inflate.
    DeflateError,
    /// A compressed message refers to an earlier message although no context takeover was negotiated.
    DeflateContextTakeoverViolated,
    /// A compressed message uses a larger LZ77 window than negotiated.
    DeflateWindowBitsViolated,
}

impl Violation {
    /// Every rule, in display order.
    pub const ALL: [Violation; 34] = [
        Violation::HandshakeMethodNotGet,
        Violation::HandshakeHttpVersion,
        Violation::HandshakeHostMissing,
        Violation::HandshakeUpgradeMissing,
        Violation::HandshakeConnectionMissing,
        Violation::HandshakeKeyInvalid,
        Violation::HandshakeVersionInvalid,
        Violation::HandshakeResponseUpgradeMissing,
        Violation::HandshakeResponseConnectionMissing,
        Violation::HandshakeAcceptMissing,
        Violation::HandshakeAcceptMismatch,
        Violation::HandshakeSubprotocolNotOffered,
        Violation::HandshakeExtensionNotOffered,
        Violation::HandshakeDeflateParams,
        Violation::HandshakeClientFramesBeforeResponse,
        Violation::ClientFrameUnmasked,
        Violation::ServerFrameMasked,
        Violation::ReservedOpcode,
        Violation::RsvBitsWithoutExtension,
        Violation::Rsv1NotOnFirstFrame,
        Violation::ControlFrameTooLong,
        Violation::ControlFrameFragmented,
        Violation::NonMinimalLength,
        Violation::LengthMsbSet,
        Violation::ContinuationWithoutStart,
        Violation::DataInsideFragmentedMessage,
        Violation::InvalidUtf8Text,
        Violation::InvalidUtf8CloseReason,
        Violation::ClosePayloadOneByte,
        Violation::InvalidCloseCode,
        Violation::DataAfterClose,
        Violation::DeflateError,
        Violation::DeflateContextTakeoverViolated,
        Violation::DeflateWindowBitsViolated,
    ];

    /// The stable code used in exports, e.g. `server-frame-masked`.
    pub fn code(self) -> &'static str {
        self.info().0
    }

    /// The RFC section, e.g. `RFC 6455 §5.1`.
    pub fn rfc(self) -> &'static str {
        self.info().1
    }

    /// One sentence saying what the rule is and why it exists.
    pub fn sentence(self) -> &'static str {
        self.info().2
    }

    /// For handshake rules: the rule named as the property that holds when it is
    /// followed (`accept-matches`), as listed in a handshake's `checks`.
    pub fn check_name(self) -> &'static str {
        use Violation::*;
        match self {
            HandshakeMethodNotGet => "method-is-get",
            HandshakeHttpVersion => "http-1.1-or-later",
            HandshakeHostMissing => "host-present",
            HandshakeUpgradeMissing => "upgrade-websocket",
            HandshakeConnectionMissing => "connection-upgrade",
            HandshakeKeyInvalid => "key-is-16-bytes-base64",
            HandshakeVersionInvalid => "version-13",
            HandshakeResponseUpgradeMissing => "response-upgrade-websocket",
            HandshakeResponseConnectionMissing => "response-connection-upgrade",
            HandshakeAcceptMissing => "accept-present",
            HandshakeAcceptMismatch => "accept-matches",
            HandshakeSubprotocolNotOffered => "subprotocol-was-offered",
            HandshakeExtensionNotOffered => "extensions-were-offered",
            HandshakeDeflateParams => "deflate-params-valid",
            HandshakeClientFramesBeforeResponse => "client-waited-for-response",
            other => other.code(),
        }
    }

    /// Looks a rule up by its stable code.
    pub fn from_code(code: &str) -> Option<Violation> {
        Self::ALL.iter().copied().find(|v| v.code() == code)
    }

    fn info(self) -> (&'static str, &'static str, &'static str) {
        use Violation::*;
        match self {
            HandshakeMethodNotGet => (
                "handshake-method-not-get",
                "RFC 6455 §4.1",
                "The opening handshake must be an HTTP GET request.",
            ),
            HandshakeHttpVersion => (
                "handshake-http-version",
                "RFC 6455 §4.1",
                "The opening handshake must use HTTP/1.1 or later.",
            ),
            HandshakeHostMissing => (
                "handshake-host-missing",
                "RFC 6455 §4.1",
                "The request must carry a Host header naming the server.",
            ),
            HandshakeUpgradeMissing => (
                "handshake-upgrade-missing",
                "RFC 6455 §4.1",
                "The request must have an Upgrade header containing the keyword \"websocket\".",
            ),
            HandshakeConnectionMissing => (
                "handshake-connection-missing",
                "RFC 6455 §4.1",
                "The request's Connection header must include the token \"Upgrade\".",
            ),
            HandshakeKeyInvalid => (
                "handshake-key-invalid",
                "RFC 6455 §4.1",
                "Sec-WebSocket-Key must be a random 16-byte value encoded in base64 (24 characters).",
            ),
            HandshakeVersionInvalid => (
                "handshake-version-invalid",
                "RFC 6455 §4.1",
                "Sec-WebSocket-Version must be 13; a server that does not speak the client's version answers 426.",
            ),
            HandshakeResponseUpgradeMissing => (
                "handshake-response-upgrade-missing",
                "RFC 6455 §4.1",
                "The 101 response must have an Upgrade header whose value is \"websocket\", or the client must fail the connection.",
            ),
            HandshakeResponseConnectionMissing => (
                "handshake-response-connection-missing",
                "RFC 6455 §4.1",
                "The 101 response's Connection header must contain the token \"Upgrade\".",
            ),
            HandshakeAcceptMissing => (
                "handshake-accept-missing",
                "RFC 6455 §4.1",
                "The 101 response must carry Sec-WebSocket-Accept, proving the server read the key.",
            ),
            HandshakeAcceptMismatch => (
                "handshake-accept-mismatch",
                "RFC 6455 §4.2.2",
                "Sec-WebSocket-Accept must be base64(SHA-1(key + \"258EAFA5-E914-47DA-95CA-C5AB0DC85B11\")); any other value means the server did not understand the key.",
            ),
            HandshakeSubprotocolNotOffered => (
                "handshake-subprotocol-not-offered",
                "RFC 6455 §4.1",
                "The server may only select a subprotocol the client listed in Sec-WebSocket-Protocol.",
            ),
            HandshakeExtensionNotOffered => (
                "handshake-extension-not-offered",
                "RFC 6455 §9.1",
                "The server may only accept extensions the client offered in Sec-WebSocket-Extensions.",
            ),
            HandshakeDeflateParams => (
                "handshake-deflate-params",
                "RFC 7692 §7.1",
                "permessage-deflate parameters must be known, unrepeated, and window bits between 8 and 15.",
            ),
            HandshakeClientFramesBeforeResponse => (
                "handshake-client-frames-before-response",
                "RFC 6455 §4.1",
                "After sending its handshake the client must wait for the server's response before sending any data.",
            ),
            ClientFrameUnmasked => (
                "client-frame-unmasked",
                "RFC 6455 §5.1",
                "Every frame a client sends must be masked, so that proxies cannot be tricked by chosen bytes; the server must close the connection.",
            ),
            ServerFrameMasked => (
                "server-frame-masked",
                "RFC 6455 §5.1",
                "A server must not mask the frames it sends; the client must close the connection.",
            ),
            ReservedOpcode => (
                "reserved-opcode",
                "RFC 6455 §5.2",
                "Opcodes 0x3–0x7 and 0xB–0xF are reserved for future use; receiving one must fail the connection.",
            ),
            RsvBitsWithoutExtension => (
                "rsv-bits-without-extension",
                "RFC 6455 §5.2",
                "RSV1, RSV2 and RSV3 must be 0 unless a negotiated extension gives them a meaning.",
            ),
            Rsv1NotOnFirstFrame => (
                "rsv1-not-on-first-frame",
                "RFC 7692 §6.1",
                "Under permessage-deflate, RSV1 marks a compressed message on its first frame only: never on continuation or control frames.",
            ),
            ControlFrameTooLong => (
                "control-frame-too-long",
                "RFC 6455 §5.5",
                "Control frames (close, ping, pong) must have a payload of 125 bytes or less.",
            ),
            ControlFrameFragmented => (
                "control-frame-fragmented",
                "RFC 6455 §5.5",
                "Control frames must not be fragmented: FIN must be set.",
            ),
            NonMinimalLength => (
                "non-minimal-length",
                "RFC 6455 §5.2",
                "The payload length must use the shortest encoding: 7 bits up to 125, 16 bits up to 65535, 64 bits beyond.",
            ),
            LengthMsbSet => (
                "length-msb-set",
                "RFC 6455 §5.2",
                "In the 64-bit length form the most significant bit must be 0.",
            ),
            ContinuationWithoutStart => (
                "continuation-without-start",
                "RFC 6455 §5.4",
                "A continuation frame (opcode 0) can only follow a text or binary frame with FIN clear.",
            ),
            DataInsideFragmentedMessage => (
                "data-inside-fragmented-message",
                "RFC 6455 §5.4",
                "While a fragmented message is open only continuation and control frames may be sent; fragments of different messages must not interleave.",
            ),
            InvalidUtf8Text => (
                "invalid-utf8-text",
                "RFC 6455 §8.1",
                "A text message must be valid UTF-8 as a whole; the receiver must fail the connection otherwise.",
            ),
            InvalidUtf8CloseReason => (
                "invalid-utf8-close-reason",
                "RFC 6455 §5.5.1",
                "The reason in a Close frame must be valid UTF-8.",
            ),
            ClosePayloadOneByte => (
                "close-payload-one-byte",
                "RFC 6455 §5.5.1",
                "A Close payload is empty or starts with a 2-byte status code: 1 byte is malformed.",
            ),
            InvalidCloseCode => (
                "invalid-close-code",
                "RFC 6455 §7.4",
                "Close codes below 1000, 1004–1006, 1015 and unassigned 1016–2999 must not be sent in a Close frame.",
            ),
            DataAfterClose => (
                "data-after-close",
                "RFC 6455 §5.5.1",
                "After sending a Close frame an endpoint must not send any more data frames.",
            ),
            DeflateError => (
                "deflate-error",
                "RFC 7692 §7.2.2",
                "A message marked compressed (RSV1) must inflate as raw DEFLATE once 00 00 ff ff is appended.",
            ),
            DeflateContextTakeoverViolated => (
                "deflate-context-takeover-violated",
                "RFC 7692 §7.1.1",
                "With *_no_context_takeover negotiated, each message must compress on its own, without references to earlier messages.",
            ),
            DeflateWindowBitsViolated => (
                "deflate-window-bits-violated",
                "RFC 7692 §7.1.2",
                "With *_max_window_bits negotiated, back-references must not reach further than the agreed window.",
            ),
        }
    }
}

/// Something worth knowing that is not a broken rule (a capture problem, a limit, an
/// idle connection): shown and exported as a `warning`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Warning {
    /// Bytes of a TCP stream are missing from the capture.
    TcpGap,
    /// The snaplen cut packets: payload bytes are missing.
    Truncated,
    /// No handshake was captured; the connection was recognised by its frames.
    Midstream,
    /// A retransmission carried different bytes than the first copy (first copy kept).
    RetransmissionDiffers,
    /// The stream ended in the middle of a frame.
    FrameIncomplete,
    /// After a gap the frame boundaries could not be found again.
    Desync,
    /// A limit was reached (message size, decompressed size, fragments, head size, flows).
    LimitReached,
    /// The HTTP exchange before the upgrade could not be parsed.
    HttpUnparsed,
    /// No frame for longer than the idle threshold (NAT and proxies may drop the connection).
    IdleGap,
    /// The connection ended (or the capture did) without both sides sending Close (§7.1.2).
    NoClosingHandshake,
    /// Segments beyond what the receiver allowed were not decoded (RFC 9293 §3.10.7.4).
    OutOfWindow,
    /// The TLS layer could not decrypt (no key, a record that does not verify), or said
    /// something the user should know (an alert, renegotiation).
    Tls,
}

impl Warning {
    /// The stable code used in exports.
    pub fn code(self) -> &'static str {
        match self {
            Warning::TcpGap => "tcp-gap",
            Warning::Truncated => "truncated",
            Warning::Midstream => "midstream",
            Warning::RetransmissionDiffers => "retransmission-differs",
            Warning::FrameIncomplete => "frame-incomplete",
            Warning::Desync => "desync",
            Warning::LimitReached => "limit-reached",
            Warning::HttpUnparsed => "http-unparsed",
            Warning::IdleGap => "idle-gap",
            Warning::NoClosingHandshake => "no-closing-handshake",
            Warning::OutOfWindow => "out-of-window",
            Warning::Tls => "tls",
        }
    }

    /// One sentence saying whose problem it is and what it means for what is shown.
    pub fn sentence(self) -> &'static str {
        match self {
            Warning::TcpGap => {
                "The capture lost these bytes (a busy capture dropped packets): wsscope decodes around them and invents nothing in their place."
            }
            Warning::Truncated => {
                "The capture kept only the first bytes of each packet (its snaplen): lengths are known, the bytes cut are not."
            }
            Warning::Midstream => {
                "The opening handshake is not in the capture: what it negotiated (extensions, subprotocol) is unknown, and rules that depend on it are judged leniently."
            }
            Warning::RetransmissionDiffers => {
                "A peer sent the same stream bytes twice with different content; the first copy is the one decoded."
            }
            Warning::FrameIncomplete => {
                "The stream ends inside this frame: the capture (or the connection) stopped before its last byte."
            }
            Warning::Desync => {
                "Frame boundaries could not be followed past here (bytes lost, or a length no frame can have); decoding goes on where a frame header is found again."
            }
            Warning::LimitReached => {
                "One of wsscope's limits was reached (they keep memory bounded): what is past it is counted, not kept."
            }
            Warning::HttpUnparsed => {
                "These bytes are not HTTP that wsscope can read: the rest of this direction is not decoded."
            }
            Warning::IdleGap => {
                "The peers sent nothing for this long: NATs and proxies often drop a connection idle for about 60 s (RFC 6455 §5.5.2 pings keep it open)."
            }
            Warning::NoClosingHandshake => {
                "The connection ended, or the capture did, without both peers sending Close (RFC 6455 §7.1.2)."
            }
            Warning::OutOfWindow => {
                "TCP segments lay beyond the window the receiver advertised (or any window TCP allows): the receiver never took those bytes, so they are counted, not decoded (RFC 9293 §3.10.7.4)."
            }
            Warning::Tls => {
                "The connection is TLS: what is shown was decrypted with the key log's secrets, and only records whose authentication tag verifies are shown; this says what could not be decrypted, or what TLS itself reported."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for v in Violation::ALL {
            assert!(seen.insert(v.code()), "duplicate code {}", v.code());
            assert_eq!(Violation::from_code(v.code()), Some(v));
            assert!(v.rfc().starts_with("RFC "));
            assert!(v.sentence().ends_with('.'));
        }
        for w in [
            Warning::TcpGap,
            Warning::Truncated,
            Warning::Midstream,
            Warning::RetransmissionDiffers,
            Warning::FrameIncomplete,
            Warning::Desync,
            Warning::LimitReached,
            Warning::HttpUnparsed,
            Warning::IdleGap,
            Warning::NoClosingHandshake,
            Warning::OutOfWindow,
            Warning::Tls,
        ] {
            assert!(seen.insert(w.code()), "duplicate code {}", w.code());
            assert!(w.sentence().ends_with('.'));
        }
    }
}
