//! STOMP frames (STOMP 1.2 "Frames" section) carried in WebSocket messages, as negotiated
//! with `Sec-WebSocket-Protocol: v12.stomp` (or v10/v11): a command line, header lines,
//! a blank line, a body ended by NUL; an end-of-line alone is a heart-beat.

/// One STOMP frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StompFrame {
    /// CONNECT, SEND, MESSAGE, …, or HEARTBEAT for an EOL-only frame.
    pub command: String,
    /// Header lines in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body_len: usize,
    /// The body as text (lossy), cut to 200 bytes.
    pub body: String,
}

/// Decodes the frames in one message.
pub fn decode(data: &[u8]) -> Vec<StompFrame> {
    let mut frames = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest[0] == b'\n' || rest.starts_with(b"\r\n") {
            frames.push(StompFrame {
                command: "HEARTBEAT".into(),
                headers: Vec::new(),
                body_len: 0,
                body: String::new(),
            });
            rest = &rest[if rest[0] == b'\n' { 1 } else { 2 }..];
            continue;
        }
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let frame = &rest[..end];
        let text_end = find_blank_line(frame);
        let head = String::from_utf8_lossy(&frame[..text_end.0]).into_owned();
        let body = &frame[text_end.1.min(frame.len())..];
        let mut lines = head.lines().map(|l| l.trim_end_matches('\r'));
        let command = lines.next().unwrap_or("").to_string();
        let headers = lines
            .filter_map(|l| {
                l.split_once(':')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        frames.push(StompFrame {
            command,
            headers,
            body_len: body.len(),
            body: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        });
        rest = rest.get(end + 1..).unwrap_or(&[]);
        // EOLs after a frame's NUL are padding (STOMP 1.2), not heart-beats.
        while let Some(b'\n' | b'\r') = rest.first() {
            rest = &rest[1..];
        }
    }
    frames
}

/// (end of headers, start of body): the first blank line.
fn find_blank_line(frame: &[u8]) -> (usize, usize) {
    for i in 0..frame.len() {
        if frame[i..].starts_with(b"\n\n") {
            return (i, i + 2);
        }
        if frame[i..].starts_with(b"\r\n\r\n") {
            return (i, i + 4);
        }
    }
    (frame.len(), frame.len())
}

/// Known STOMP commands (anything else is not STOMP).
pub const COMMANDS: [&str; 16] = [
    "CONNECT",
    "STOMP",
    "CONNECTED",
    "SEND",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "ACK",
    "NACK",
    "BEGIN",
    "COMMIT",
    "ABORT",
    "DISCONNECT",
    "MESSAGE",
    "RECEIPT",
    "ERROR",
    "HEARTBEAT",
];

/// What STOMP is, in one line.
pub const EXPLAIN: &str = "STOMP over WebSocket (STOMP 1.2): each message carries text frames — a command, headers, a blank line and a body ended by NUL; a lone newline is a heart-beat.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_heartbeats() {
        let f = decode(b"SEND\ndestination:/topic/chat\ncontent-type:text/plain\n\nhello\0");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].command, "SEND");
        assert_eq!(
            f[0].headers[0],
            ("destination".into(), "/topic/chat".into())
        );
        assert_eq!(f[0].body, "hello");
        assert_eq!(decode(b"\n")[0].command, "HEARTBEAT");
        let padded = decode(b"CONNECTED\nversion:1.2\n\n\0\n\nMESSAGE\n\nx\0");
        assert_eq!(
            padded
                .iter()
                .map(|f| f.command.as_str())
                .collect::<Vec<_>>(),
            ["CONNECTED", "MESSAGE"]
        );
    }
}
