//! HTTP/1.x request and response heads, parsed with `httparse` over partial input.

use crate::source::Timestamp;

/// Most header lines accepted in one head.
pub const MAX_HEADERS: usize = 100;

/// The first line of a head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    /// `GET /path HTTP/1.1`
    Request {
        /// The method, e.g. `GET`.
        method: String,
        /// The request target.
        path: String,
    },
    /// `HTTP/1.1 101 Switching Protocols`
    Response {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
}

/// A parsed request or response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpHead {
    /// Request or status line.
    pub start: StartLine,
    /// HTTP minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub minor_version: u8,
    /// Header fields in order, names as sent (values decoded lossily as UTF-8).
    pub headers: Vec<(String, String)>,
    /// Length of the head in bytes, including the blank line.
    pub len: usize,
    /// Packet that carried the head's last byte.
    pub packet: u64,
    /// Its time.
    pub ts: Timestamp,
    /// The capture's snaplen cut the head: only its first lines are known (a header
    /// missing from them may have been sent), and `len` counts the visible part.
    pub cut: bool,
}

/// The bytes are not an HTTP head.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a valid HTTP head: {0}")]
pub struct HeadError(pub String);

impl HttpHead {
    /// Every value of header `name` (case-insensitive), joined with ", " as HTTP allows.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// Comma-separated tokens of header `name`, trimmed.
    pub fn tokens(&self, name: &str) -> Vec<String> {
        self.header(name)
            .map(|v| {
                v.split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// True if header `name` contains `token` (case-insensitive) in its comma list.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.tokens(name)
            .iter()
            .any(|t| t.eq_ignore_ascii_case(token))
    }

    /// The response status, for responses.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { status, .. } => Some(status),
            StartLine::Request { .. } => None,
        }
    }

    /// The request method, for requests.
    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// `HTTP/1.1` or `HTTP/1.0`.
    pub fn version(&self) -> String {
        format!("HTTP/1.{}", self.minor_version)
    }

    /// The head re-rendered as text (for display).
    pub fn first_line(&self) -> String {
        match &self.start {
            StartLine::Request { method, path } => format!("{method} {path} {}", self.version()),
            StartLine::Response { status, reason } => {
                format!("{} {status} {reason}", self.version())
            }
        }
    }
}

fn collect_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect()
}

/// Parses a request head from the start of `buf`: `Ok(None)` if more bytes are needed.
pub fn parse_request(buf: &[u8]) -> Result<Option<HttpHead>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => Ok(Some(HttpHead {
            start: StartLine::Request {
                method: req.method.unwrap_or_default().to_string(),
                path: req.path.unwrap_or_default().to_string(),
            },
            minor_version: req.version.unwrap_or(0),
            headers: collect_headers(req.headers),
            len,
            packet: 0,
            ts: Timestamp::default(),
            cut: false,
        })),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(HeadError(e.to_string())),
    }
}

/// Parses a response head from the start of `buf`: `Ok(None)` if more bytes are needed.
pub fn parse_response(buf: &[u8]) -> Result<Option<HttpHead>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(len)) => Ok(Some(HttpHead {
            start: StartLine::Response {
                status: resp.code.unwrap_or(0),
                reason: resp.reason.unwrap_or_default().to_string(),
            },
            minor_version: resp.version.unwrap_or(0),
            headers: collect_headers(resp.headers),
            len,
            packet: 0,
            ts: Timestamp::default(),
            cut: false,
        })),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(HeadError(e.to_string())),
    }
}

/// The visible start of a head that the capture's snaplen cut (`buf` holds no whole
/// head): its complete lines, parsed as a head of their own (a partial last line is
/// left out), marked [`HttpHead::cut`]. A status line cut inside its reason phrase still
/// shows its status. `None` when not even the start line shows or the lines are not
/// HTTP.
pub fn parse_cut(
    buf: &[u8],
    parse: fn(&[u8]) -> Result<Option<HttpHead>, HeadError>,
) -> Option<HttpHead> {
    let end = match buf.iter().rposition(|&b| b == b'\n') {
        Some(at) => at + 1,
        // Only `HTTP/1.1 101 Swi`: the status code is whole once a space follows it.
        None if buf.starts_with(b"HTTP/1.") && buf.len() > 13 && buf[12] == b' ' => buf.len(),
        None => return None,
    };
    let mut lines = buf[..end].to_vec();
    if end == buf.len() && !buf.ends_with(b"\n") {
        lines.extend_from_slice(b"\r\n");
    }
    lines.extend_from_slice(b"\r\n");
    let mut head = parse(&lines).ok()??;
    head.len = buf.len();
    head.cut = true;
    Some(head)
}

/// True if `buf` starts like an HTTP request line (a method token then a space), so
/// a stream can be told from WebSocket frames before the head is complete.
pub fn looks_like_request(buf: &[u8]) -> bool {
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"PUT ",
        b"HEAD ",
        b"DELETE ",
        b"OPTIONS ",
        b"PATCH ",
        b"CONNECT ",
        b"TRACE ",
    ];
    METHODS
        .iter()
        .any(|m| buf.starts_with(m) || (buf.len() < m.len() && m.starts_with(buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response() {
        let req = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\nrest";
        let h = parse_request(req).expect("ok").expect("complete");
        assert_eq!(h.method(), Some("GET"));
        assert_eq!(h.len, req.len() - 4);
        assert!(h.has_token("connection", "upgrade"));
        assert!(parse_request(&req[..20]).expect("ok").is_none());
        let resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
        let h = parse_response(resp).expect("ok").expect("complete");
        assert_eq!(h.status(), Some(101));
        assert!(parse_request(b"\x81\x05hello").is_err());
    }

    #[test]
    fn a_cut_head_keeps_its_whole_lines() {
        let req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:18028\r\nUpgrade: websocket\r\nConn";
        let h = parse_cut(req, parse_request).expect("a head");
        assert!(h.cut);
        assert_eq!(h.method(), Some("GET"));
        assert_eq!(h.header("host").as_deref(), Some("127.0.0.1:18028"));
        assert!(h.has_token("upgrade", "websocket"));
        assert_eq!(h.header("connection"), None);
        assert_eq!(h.len, req.len());
        let resp = b"HTTP/1.1 101 Switching Protocols\r\nDate: Wed, 02 Dec 2026 16:08";
        let h = parse_cut(resp, parse_response).expect("a head");
        assert_eq!(h.status(), Some(101));
        assert!(h.headers.is_empty());
        assert!(parse_cut(b"GET / HTT", parse_request).is_none());
        let h = parse_cut(b"HTTP/1.1 101 Swit", parse_response).expect("a status");
        assert_eq!(h.status(), Some(101));
        assert!(parse_cut(b"HTTP/1.1 10", parse_response).is_none());
        assert!(parse_cut(b"HTTP/1.1 101", parse_response).is_none());
        assert!(parse_cut(b"\x81\x05hel\nlo", parse_request).is_none());
    }

    #[test]
    fn request_prefix_detection() {
        assert!(looks_like_request(b"GE"));
        assert!(looks_like_request(b"GET /"));
        assert!(!looks_like_request(b"\x81\x85"));
    }
}
