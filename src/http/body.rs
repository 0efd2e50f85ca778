//! Skipping HTTP/1.1 message bodies (RFC 9112 §6) on a keep-alive connection, so the
//! next request or response head is found: by Content-Length, by chunked transfer
//! coding, or "until the connection closes".

use super::head::HttpHead;

/// How long a body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyLength {
    /// No body.
    None,
    /// Exactly this many bytes.
    Fixed(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Everything until the connection closes.
    UntilClose,
}

/// The body length of a request (RFC 9112 §6.3: no length means no body).
pub fn request_body(head: &HttpHead) -> BodyLength {
    if head.has_token("transfer-encoding", "chunked") {
        return BodyLength::Chunked;
    }
    match content_length(head) {
        Some(n) if n > 0 => BodyLength::Fixed(n),
        _ => BodyLength::None,
    }
}

/// The body length of a response to a request with `request_method`.
pub fn response_body(head: &HttpHead, request_method: Option<&str>) -> BodyLength {
    let status = head.status().unwrap_or(0);
    if request_method == Some("HEAD")
        || (100..200).contains(&status)
        || status == 204
        || status == 304
    {
        return BodyLength::None;
    }
    if head.has_token("transfer-encoding", "chunked") {
        return BodyLength::Chunked;
    }
    match content_length(head) {
        Some(0) => BodyLength::None,
        Some(n) => BodyLength::Fixed(n),
        None => BodyLength::UntilClose,
    }
}

fn content_length(head: &HttpHead) -> Option<u64> {
    head.header("content-length")
        .and_then(|v| v.split(',').next().map(|s| s.trim().to_string()))
        .and_then(|v| v.parse().ok())
}

/// Progress through a body, fed bytes as they arrive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodySkipper {
    /// Bytes of a fixed body still to skip.
    Fixed(u64),
    /// Chunked: waiting for a chunk-size line (bytes of a partial line kept).
    ChunkSize(Vec<u8>),
    /// Chunked: inside chunk data (bytes left, then CRLF).
    ChunkData(u64),
    /// Chunked: after the last chunk, in the trailer section (partial line kept).
    Trailer(Vec<u8>),
    /// Everything until the connection closes.
    UntilClose,
    /// The body is over.
    Done,
    /// The chunked coding was malformed.
    Malformed,
}

/// Longest chunk-size or trailer line we wait for.
const MAX_LINE: usize = 8 * 1024;

impl BodySkipper {
    /// Starts skipping a body of the given length.
    pub fn new(len: BodyLength) -> Self {
        match len {
            BodyLength::None | BodyLength::Fixed(0) => BodySkipper::Done,
            BodyLength::Fixed(n) => BodySkipper::Fixed(n),
            BodyLength::Chunked => BodySkipper::ChunkSize(Vec::new()),
            BodyLength::UntilClose => BodySkipper::UntilClose,
        }
    }

    /// Consumes body bytes from the start of `input`; returns how many were body.
    pub fn skip(&mut self, input: &[u8]) -> usize {
        let mut used = 0;
        while used < input.len() {
            let rest = &input[used..];
            match self {
                BodySkipper::Done | BodySkipper::Malformed => break,
                BodySkipper::UntilClose => return input.len(),
                BodySkipper::Fixed(n) => {
                    let take = (*n).min(rest.len() as u64);
                    used += take as usize;
                    *n -= take;
                    if *n == 0 {
                        *self = BodySkipper::Done;
                    }
                }
                BodySkipper::ChunkData(n) => {
                    let take = (*n).min(rest.len() as u64);
                    used += take as usize;
                    *n -= take;
                    if *n == 0 {
                        // The CRLF after chunk data is read as an empty "line" next.
                        *self = BodySkipper::ChunkSize(b"\x00".to_vec());
                    }
                }
                BodySkipper::ChunkSize(line) | BodySkipper::Trailer(line) => {
                    let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                        line.extend_from_slice(rest);
                        if line.len() > MAX_LINE {
                            *self = BodySkipper::Malformed;
                        }
                        return input.len();
                    };
                    line.extend_from_slice(&rest[..=nl]);
                    used += nl + 1;
                    let line = std::mem::take(line);
                    *self = match self {
                        BodySkipper::ChunkSize(_) => next_after_size_line(&line),
                        _ if line == b"\r\n" || line == b"\n" => BodySkipper::Done,
                        _ => BodySkipper::Trailer(Vec::new()),
                    };
                }
            }
        }
        used
    }

    /// The body is over.
    pub fn done(&self) -> bool {
        matches!(self, BodySkipper::Done)
    }

    /// Skips body bytes from the start of `input`: how many were body, and what follows.
    pub fn advance(&mut self, input: &[u8]) -> (usize, BodyNext) {
        let used = self.skip(input);
        let next = match self {
            BodySkipper::Done => BodyNext::Head,
            BodySkipper::Malformed => BodyNext::Malformed,
            _ => BodyNext::Body,
        };
        (used, next)
    }
}

/// What a direction reads after [`BodySkipper::advance`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyNext {
    /// More of this body.
    Body,
    /// The body is over: the next message head.
    Head,
    /// The chunked coding was malformed: the direction cannot be followed.
    Malformed,
}

fn next_after_size_line(line: &[u8]) -> BodySkipper {
    // A leading NUL marks the CRLF that ends chunk data: it must be an empty line.
    if let Some(rest) = line.strip_prefix(b"\x00") {
        return if rest == b"\r\n" || rest == b"\n" {
            BodySkipper::ChunkSize(Vec::new())
        } else {
            BodySkipper::Malformed
        };
    }
    match httparse::parse_chunk_size(line) {
        Ok(httparse::Status::Complete((_, 0))) => BodySkipper::Trailer(Vec::new()),
        Ok(httparse::Status::Complete((_, n))) => BodySkipper::ChunkData(n),
        _ => BodySkipper::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_body_in_any_pieces() {
        let body = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        for cut in 0..body.len() {
            let mut s = BodySkipper::new(BodyLength::Chunked);
            let a = s.skip(&body[..cut]);
            assert_eq!(a, cut.min(body.len() - 4), "first piece at {cut}");
            let b = s.skip(&body[cut.min(a)..]);
            assert!(s.done(), "cut {cut}");
            assert_eq!(a + b, body.len() - 4);
        }
    }

    #[test]
    fn fixed_and_malformed() {
        let mut s = BodySkipper::new(BodyLength::Fixed(3));
        assert_eq!(s.skip(b"abcdef"), 3);
        assert!(s.done());
        let mut s = BodySkipper::new(BodyLength::Chunked);
        s.skip(b"zz\r\n");
        assert_eq!(s, BodySkipper::Malformed);
    }
}
