//! Frames that chain exactly: following one direction's bytes header by header (RFC 6455
//! §5.2) without decoding them, to tell WebSocket traffic from bytes that merely start
//! like a frame. Used to recognise a connection whose handshake was not captured
//! (RFC 6455 §4 makes the handshake mandatory, so anything else needs evidence).
//!
//! A chain starts at the start of a TCP segment whose first bytes are a plausible frame
//! header. Each following header must start exactly where the previous frame ends and be
//! plausible as well: the same masking as the chain's first frame (one sender, one role,
//! §5.1), a defined opcode, a control frame whole and short (§5.5), a continuation only
//! inside a fragmented message and a new message only outside one (§5.4), RSV1 only on a
//! message's first frame and only where an extension may have been negotiated (§5.2,
//! RFC 7692 §6), no RSV2/RSV3, a minimal length. A frame is *confirmed* when the header
//! after it passes, or when it ends exactly where a TCP segment ends; random bytes rarely
//! manage either twice in a row.

use super::frame::{DataOpcode, FrameHeader, MAX_HEADER_LEN, Opcode, parse_frame_header};

/// What one segment did to a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// The segment is not part of a chain (no plausible header at its start); the
    /// evidence gathered before a gap, if any, stands.
    Outside,
    /// A header did not fit: the chain and all its evidence are discarded, and no chain
    /// starts with this segment.
    Broken,
    /// A new chain starts at the start of this segment; what came before is discarded.
    Started,
    /// The segment continues the chain (or resumes it after a gap, with the same masking).
    Continued,
}

/// Where the chain is.
#[derive(Clone, Copy, Debug)]
enum At {
    /// No chain: waiting for a segment that starts with a plausible header.
    Searching,
    /// Collecting a header of which `len` bytes are in `buf`.
    Header {
        buf: [u8; MAX_HEADER_LEN],
        len: usize,
    },
    /// Inside a payload with this many bytes left.
    Payload(u64),
}

/// Follows the frames of one direction, segment by segment.
#[derive(Clone, Debug)]
pub struct Chain {
    at: At,
    /// Whether this direction masks: fixed when the sender's role is known, else learned
    /// from the chain's first frame.
    role: Option<bool>,
    /// The role given at construction (kept when a chain breaks).
    known_role: Option<bool>,
    /// RSV1 may be set on a message's first frame (permessage-deflate, or unknown).
    rsv1_allowed: bool,
    /// The last data frame had FIN clear: only continuations (or control frames) follow.
    in_message: bool,
    /// The previous frame ended where the next header starts, not yet confirmed.
    unconfirmed_end: bool,
    frames: u32,
    confirmed: u32,
}

impl Chain {
    /// A tracker for a direction whose frames are masked (`Some(true)`, a client),
    /// unmasked (`Some(false)`, a server) or either (`None`, the role is not known);
    /// `rsv1_allowed` when an extension that uses RSV1 may have been negotiated.
    pub fn new(masked: Option<bool>, rsv1_allowed: bool) -> Self {
        Chain {
            at: At::Searching,
            role: masked,
            known_role: masked,
            rsv1_allowed,
            in_message: false,
            unconfirmed_end: false,
            frames: 0,
            confirmed: 0,
        }
    }

    /// Frames confirmed in the current chain.
    pub fn confirmed(&self) -> u32 {
        self.confirmed
    }

    /// Frames whose header was read in the current chain.
    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// Whether the current chain's frames are masked (`None` before a chain started).
    pub fn masked(&self) -> Option<bool> {
        match self.at {
            At::Searching => None,
            _ => self.role,
        }
    }

    /// Bytes of this direction are missing: the chain cannot be followed across them,
    /// but what it confirmed stands. It resumes at a segment that starts with a
    /// plausible header of the same masking; a new message must start there.
    pub fn gap(&mut self) {
        self.at = At::Searching;
        self.in_message = false;
        self.unconfirmed_end = false;
    }

    /// The snaplen cut the last `len` bytes of the segment just followed: they were on
    /// the wire, so a payload they fall inside goes on through them, and a frame that
    /// ends exactly where they end is confirmed (it ends where the segment ends). True
    /// when the chain follows them; false when they hold what it needs to go on (a
    /// header), and it waits for a new start as after a gap.
    pub fn cut(&mut self, len: u64) -> bool {
        match &mut self.at {
            At::Payload(left) if len <= *left => {
                *left -= len;
                if *left == 0 {
                    self.confirmed += 1;
                    self.unconfirmed_end = false;
                    self.start();
                }
                true
            }
            At::Header { len: 0, .. } if len == 0 => true,
            _ => {
                self.gap();
                false
            }
        }
    }

    /// Whether this direction has evidence: frames of a chain, perhaps before a gap.
    pub fn has_evidence(&self) -> bool {
        self.frames > 0
    }

    fn reset(&mut self) {
        self.at = At::Searching;
        self.role = self.known_role;
        self.in_message = false;
        self.unconfirmed_end = false;
        self.frames = 0;
        self.confirmed = 0;
    }

    /// Could a new chain start with `bytes`: a whole header that starts a message (or is
    /// a control frame) and fits this direction?
    pub fn starts_chain(&self, bytes: &[u8]) -> bool {
        let mut fresh = self.clone();
        fresh.reset();
        fresh.header_fits(bytes)
    }

    /// Does `bytes` start with a header that fits here, outside a message?
    fn header_fits(&self, bytes: &[u8]) -> bool {
        matches!(parse_frame_header(bytes), Ok((_, h)) if self.fits(&h))
    }

    /// The next TCP segment of this direction, in stream order.
    pub fn segment(&mut self, bytes: &[u8]) -> Link {
        let mut link = Link::Continued;
        if matches!(self.at, At::Searching) {
            if self.has_evidence() && self.header_fits(bytes) {
                // Resumed after a gap, with the masking seen before it.
            } else if self.starts_chain(bytes) {
                self.reset();
                link = Link::Started;
            } else {
                return Link::Outside;
            }
            self.start();
        }
        if self.follow(bytes) {
            return link;
        }
        // The chain broke inside this segment: perhaps a new one starts with it.
        self.reset();
        if link == Link::Continued && self.starts_chain(bytes) {
            self.start();
            if self.follow(bytes) {
                return Link::Started;
            }
            self.reset();
        }
        Link::Broken
    }

    fn start(&mut self) {
        self.at = At::Header {
            buf: [0; MAX_HEADER_LEN],
            len: 0,
        };
    }

    /// Follows `bytes` from the current position; false when a header does not fit.
    fn follow(&mut self, mut bytes: &[u8]) -> bool {
        while !bytes.is_empty() {
            match &mut self.at {
                At::Searching => return false,
                At::Payload(left) => {
                    let take = (*left).min(bytes.len() as u64);
                    *left -= take;
                    bytes = &bytes[take as usize..];
                    if *left == 0 {
                        self.unconfirmed_end = true;
                        self.start();
                    }
                }
                At::Header { buf, len } => {
                    let take = (MAX_HEADER_LEN - *len).min(bytes.len());
                    buf[*len..*len + take].copy_from_slice(&bytes[..take]);
                    let have = *len + take;
                    match parse_frame_header(&buf[..have]) {
                        Ok((_, header)) => {
                            let used = usize::from(header.header_len).saturating_sub(*len);
                            bytes = &bytes[used.min(bytes.len())..];
                            if !self.fits(&header) {
                                return false;
                            }
                            self.take_header(&header);
                        }
                        Err(nom::Err::Incomplete(_)) => {
                            *len = have;
                            bytes = &bytes[take..];
                        }
                        Err(_) => return false,
                    }
                }
            }
        }
        if self.unconfirmed_end && matches!(self.at, At::Header { len: 0, .. }) {
            // The frame ended exactly where the segment ends.
            self.unconfirmed_end = false;
            self.confirmed += 1;
        }
        true
    }

    fn take_header(&mut self, h: &FrameHeader) {
        if self.unconfirmed_end {
            self.unconfirmed_end = false;
            self.confirmed += 1;
        }
        self.frames += 1;
        self.role = Some(h.mask.is_some());
        if !h.opcode.is_control() {
            self.in_message = !h.fin;
        }
        if h.payload_len == 0 {
            self.unconfirmed_end = true;
            self.start();
        } else {
            self.at = At::Payload(h.payload_len);
        }
    }

    /// Does `h` fit as the next frame of this chain?
    fn fits(&self, h: &FrameHeader) -> bool {
        let role_ok = self.role.is_none_or(|masked| masked == h.mask.is_some());
        let opcode_ok = match h.opcode {
            Opcode::Control(_) => {
                !h.opcode.is_reserved() && h.fin && h.payload_len <= 125 && !h.rsv1
            }
            Opcode::Data(DataOpcode::Continuation) => self.in_message && !h.rsv1,
            Opcode::Data(DataOpcode::Reserved(_)) => false,
            Opcode::Data(_) => !self.in_message && (self.rsv1_allowed || !h.rsv1),
        };
        role_ok && opcode_ok && !h.rsv2 && !h.rsv3 && !h.non_minimal_length() && !h.length_msb_set()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unmasked text frame with `len` payload bytes of `b'a'`.
    fn server_text(len: usize, fin: bool) -> Vec<u8> {
        let mut f = vec![if fin { 0x81 } else { 0x01 }];
        if len < 126 {
            f.push(len as u8);
        } else {
            f.push(126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        }
        f.extend(std::iter::repeat_n(b'a', len));
        f
    }

    #[test]
    fn frames_ending_at_segment_ends_are_confirmed_one_each() {
        let mut chain = Chain::new(None, false);
        assert_eq!(chain.segment(&server_text(5, true)), Link::Started);
        assert_eq!(chain.confirmed(), 1);
        assert_eq!(chain.segment(&server_text(200, true)), Link::Continued);
        assert_eq!(chain.confirmed(), 2);
        assert_eq!(chain.masked(), Some(false));
    }

    #[test]
    fn frames_back_to_back_confirm_each_other_and_a_frame_may_span_segments() {
        let mut chain = Chain::new(Some(false), false);
        let mut bytes = server_text(3, true);
        bytes.extend(server_text(300, true));
        // The second frame goes on into the next segment: only the first is confirmed.
        assert_eq!(chain.segment(&bytes[..100]), Link::Started);
        assert_eq!((chain.frames(), chain.confirmed()), (2, 1));
        assert_eq!(chain.segment(&bytes[100..]), Link::Continued);
        assert_eq!(chain.confirmed(), 2);
    }

    #[test]
    fn a_header_that_does_not_fit_breaks_the_chain() {
        let mut chain = Chain::new(None, false);
        let mut bytes = server_text(3, false);
        // A new message inside a fragmented one (RFC 6455 §5.4) does not fit.
        bytes.extend(server_text(3, true));
        assert_eq!(chain.segment(&bytes), Link::Broken);
        assert_eq!(chain.confirmed(), 0);
        // A continuation does.
        let mut bytes = server_text(3, false);
        bytes.extend([0x80, 2, b'x', b'y']);
        assert_eq!(chain.segment(&bytes), Link::Started);
        assert_eq!(chain.confirmed(), 2);
    }

    #[test]
    fn masking_must_stay_the_same_within_a_direction() {
        let mut chain = Chain::new(None, false);
        assert_eq!(chain.segment(&server_text(2, true)), Link::Started);
        let masked = [0x81, 0x81, 1, 2, 3, 4, b'x'];
        assert_eq!(chain.segment(&masked), Link::Started);
        assert_eq!(chain.masked(), Some(true));
        assert_eq!(chain.confirmed(), 1);
        let mut client = Chain::new(Some(true), false);
        assert_eq!(client.segment(&server_text(2, true)), Link::Outside);
    }

    #[test]
    fn a_gap_interrupts_the_chain_but_keeps_its_evidence() {
        let mut chain = Chain::new(None, true);
        assert_eq!(chain.segment(&server_text(2, true)), Link::Started);
        chain.gap();
        assert_eq!(chain.confirmed(), 1);
        // A segment in the middle of a payload is outside; the evidence stands.
        assert_eq!(chain.segment(b"aaaa"), Link::Outside);
        assert!(chain.has_evidence());
        // RSV1 is allowed on a first frame when an extension may use it.
        assert_eq!(chain.segment(&[0xc1, 1, b'z']), Link::Continued);
        assert_eq!(chain.confirmed(), 2);
        assert!(!Chain::new(None, false).starts_chain(&[0xc1, 1, b'z']));
        // After a gap, frames of the other masking start afresh.
        chain.gap();
        assert_eq!(
            chain.segment(&[0x81, 0x81, 1, 2, 3, 4, b'x']),
            Link::Started
        );
        assert_eq!(chain.confirmed(), 1);
    }

    #[test]
    fn length_prefixed_records_of_other_protocols_do_not_chain() {
        // DNS over TCP: a 757-byte message behind its 2-byte length 0x02f5 reads as a
        // masked binary frame of 117 bytes, but the header after it is the DNS payload.
        let mut dns = vec![0x02, 0xf5];
        dns.extend((0..757u32).map(|i| (i * 7 + 3) as u8));
        let mut chain = Chain::new(None, false);
        let link = chain.segment(&dns);
        assert_eq!(chain.confirmed(), 0, "{link:?}");
        // A TLS record header (0x16 0x03 0x01) sets RSV3: never a chain.
        assert!(!chain.starts_chain(&[0x16, 0x03, 0x01, 0x02, 0x00]));
    }
}
