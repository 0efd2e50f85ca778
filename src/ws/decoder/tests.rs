//! The decoder on hand-built frames, fed a byte at a time, reporting to a recording sink.

use super::*;
use crate::http::extensions::DeflateParams;
use crate::ws::mask::apply_mask;
use crate::ws::sink::Recording;

/// Builds one frame: `b0` is FIN/RSV/opcode, the length is encoded minimally unless
/// `form` forces 16 or 64 bits.
fn frame(b0: u8, payload: &[u8], mask: Option<[u8; 4]>, form: Option<u8>) -> Vec<u8> {
    let mut out = vec![b0];
    let m = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    match form.unwrap_or(if len < 126 {
        7
    } else if len < 65536 {
        16
    } else {
        64
    }) {
        7 => out.push(m | len as u8),
        16 => {
            out.push(m | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    let mut body = payload.to_vec();
    if let Some(k) = mask {
        out.extend_from_slice(&k);
        apply_mask(&mut body, k, 0);
    }
    out.extend_from_slice(&body);
    out
}

const KEY: Option<[u8; 4]> = Some([1, 2, 3, 4]);

fn conn() -> Recording {
    Recording::default()
}

fn run(dir: Dir, negotiated: Negotiated, bytes: &[u8]) -> Recording {
    let mut c = conn();
    let mut d = DirectionDecoder::new(dir, negotiated, Limits::default());
    // Feed in 1-byte pieces to exercise the partial-input paths as well.
    for (i, b) in bytes.iter().enumerate() {
        d.feed(
            &mut c,
            std::slice::from_ref(b),
            i as u64 + 1,
            Timestamp::default(),
        );
    }
    d.finish(&mut c);
    c
}

fn codes(c: &Recording) -> Vec<&'static str> {
    c.violations.iter().map(|(rule, ..)| rule.code()).collect()
}

fn warned(c: &Recording, warning: Warning) -> usize {
    c.warnings.iter().filter(|(w, ..)| *w == warning).count()
}

fn deflate() -> Negotiated {
    Negotiated {
        deflate: Some(DeflateParams::default()),
        ..Negotiated::default()
    }
}

#[test]
fn clean_traffic_has_no_violation() {
    let mut bytes = frame(0x01, "frag ".as_bytes(), KEY, None);
    bytes.extend(frame(0x89, b"ping", KEY, None));
    bytes.extend(frame(0x80, "é ✓".as_bytes(), KEY, None));
    bytes.extend(frame(0x82, &[0u8; 300], KEY, None));
    bytes.extend(frame(0x82, &[7u8; 70_000], KEY, None));
    bytes.extend(frame(0x88, &[0x03, 0xe8, b'o', b'k'], KEY, None));
    let c = run(Dir::Client, Negotiated::default(), &bytes);
    assert_eq!(codes(&c), Vec::<&str>::new());
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let kinds: Vec<_> = c.messages.iter().map(|m| (m.kind.name(), m.len)).collect();
    assert_eq!(
        kinds,
        vec![
            ("text", 11),
            ("ping", 4),
            ("binary", 300),
            ("binary", 70_000),
            ("close", 4)
        ]
    );
    assert!(c.messages.iter().all(|m| m.sha256.is_some()));
    assert_eq!(c.messages[4].close_code, Some(1000));
    assert_eq!(c.messages[0].text().as_deref(), Some("frag é ✓"));
}

#[test]
fn each_framing_rule_fires_on_its_minimal_input() {
    let cases: Vec<(&str, Dir, Negotiated, Vec<u8>)> = vec![
        (
            "client-frame-unmasked",
            Dir::Client,
            Negotiated::default(),
            frame(0x81, b"hi", None, None),
        ),
        (
            "server-frame-masked",
            Dir::Server,
            Negotiated::default(),
            frame(0x81, b"hi", KEY, None),
        ),
        (
            "reserved-opcode",
            Dir::Client,
            Negotiated::default(),
            frame(0x83, b"", KEY, None),
        ),
        (
            "reserved-opcode",
            Dir::Client,
            Negotiated::default(),
            frame(0x8b, b"", KEY, None),
        ),
        (
            "rsv-bits-without-extension",
            Dir::Client,
            Negotiated::default(),
            frame(0xa1, b"x", KEY, None),
        ),
        (
            "rsv-bits-without-extension",
            Dir::Client,
            Negotiated::default(),
            frame(0xc1, b"x", KEY, None),
        ),
        (
            "rsv1-not-on-first-frame",
            Dir::Client,
            deflate(),
            frame(0xc9, b"", KEY, None),
        ),
        (
            "control-frame-too-long",
            Dir::Client,
            Negotiated::default(),
            frame(0x89, &[0u8; 126], KEY, None),
        ),
        (
            "control-frame-fragmented",
            Dir::Client,
            Negotiated::default(),
            frame(0x09, b"", KEY, None),
        ),
        (
            "non-minimal-length",
            Dir::Client,
            Negotiated::default(),
            frame(0x82, b"12345", KEY, Some(16)),
        ),
        (
            "non-minimal-length",
            Dir::Client,
            Negotiated::default(),
            frame(0x82, b"12345", KEY, Some(64)),
        ),
        (
            "continuation-without-start",
            Dir::Client,
            Negotiated::default(),
            frame(0x80, b"x", KEY, None),
        ),
        (
            "invalid-utf8-text",
            Dir::Client,
            Negotiated::default(),
            frame(0x81, &[0xff, 0xfe], KEY, None),
        ),
        (
            "invalid-utf8-close-reason",
            Dir::Client,
            Negotiated::default(),
            frame(0x88, &[0x03, 0xe8, 0xff], KEY, None),
        ),
        (
            "close-payload-one-byte",
            Dir::Client,
            Negotiated::default(),
            frame(0x88, &[0x03], KEY, None),
        ),
        (
            "invalid-close-code",
            Dir::Client,
            Negotiated::default(),
            frame(0x88, &[0x03, 0xed], KEY, None),
        ),
        (
            "invalid-close-code",
            Dir::Client,
            Negotiated::default(),
            frame(0x88, &[0x03, 0xe7], KEY, None),
        ),
        (
            "deflate-error",
            Dir::Client,
            deflate(),
            frame(0xc1, &[0xff, 0xff, 0xff], KEY, None),
        ),
    ];
    for (code, dir, neg, bytes) in cases {
        let c = run(dir, neg, &bytes);
        assert_eq!(codes(&c), vec![code], "input {}", hex::encode(&bytes));
    }
}

#[test]
fn sequences_that_break_rules() {
    // A new data message while a fragmented one is open, then its end.
    let mut bytes = frame(0x01, b"abc", KEY, None);
    bytes.extend(frame(0x81, b"xyz", KEY, None));
    bytes.extend(frame(0x80, b"def", KEY, None));
    let c = run(Dir::Client, Negotiated::default(), &bytes);
    assert_eq!(codes(&c), vec!["data-inside-fragmented-message"]);
    let texts: Vec<String> = c.messages.iter().filter_map(|m| m.text()).collect();
    assert_eq!(
        texts,
        vec!["abcdef", "xyz"],
        "interleaved message kept apart"
    );
    // Data after Close.
    let mut bytes = frame(0x88, &[0x03, 0xe8], KEY, None);
    bytes.extend(frame(0x81, b"late", KEY, None));
    let c = run(Dir::Client, Negotiated::default(), &bytes);
    assert_eq!(codes(&c), vec!["data-after-close"]);
    // A 64-bit length with its top bit set: flagged, then the direction is not followed.
    let mut bytes = vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4];
    bytes.extend(frame(0x81, b"never parsed", KEY, None));
    let c = run(Dir::Client, Negotiated::default(), &bytes);
    assert_eq!(codes(&c), vec!["length-msb-set"]);
    assert_eq!(c.frames.len(), 1);
    assert_eq!(warned(&c, Warning::Desync), 1);
}

#[test]
fn utf8_split_across_fragments_is_valid() {
    let s = "ü✓😀".as_bytes();
    let mut bytes = frame(0x01, &s[..1], KEY, None);
    bytes.extend(frame(0x00, &s[1..5], KEY, None));
    bytes.extend(frame(0x80, &s[5..], KEY, None));
    let c = run(Dir::Client, Negotiated::default(), &bytes);
    assert!(c.violations.is_empty(), "{:?}", c.violations);
    assert_eq!(c.messages[0].text().as_deref(), Some("ü✓😀"));
}

#[test]
fn huge_declared_length_allocates_nothing_and_reports_the_cut() {
    // 2^40 bytes announced, 10 delivered: nothing is reserved up front.
    let mut bytes = vec![0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 9, 9, 9, 9];
    bytes.extend_from_slice(&[0u8; 10]);
    let c = run(Dir::Client, Negotiated::default(), &bytes);
    assert!(c.violations.is_empty());
    assert_eq!(c.frames[0].header.payload_len, 1 << 40);
    assert!(c.frames[0].raw.capacity() < 1 << 20);
    assert_eq!(warned(&c, Warning::FrameIncomplete), 1);
    assert_eq!(c.messages[0].sha256, None);
}

#[test]
fn losing_frame_sync_abandons_the_open_message_without_false_violations() {
    // Found with hostile captures: after a gap across a frame boundary, a new text
    // frame used to be reported as data-inside-fragmented-message.
    let mut c = conn();
    let mut d = DirectionDecoder::new(Dir::Client, Negotiated::default(), Limits::default());
    let t = Timestamp::default();
    d.feed(&mut c, &frame(0x01, b"abc", KEY, None), 1, t);
    d.gap(&mut c, 9, false, 2);
    d.feed(&mut c, &frame(0x81, b"fresh start", KEY, None), 3, t);
    d.finish(&mut c);
    assert!(c.violations.is_empty(), "{:?}", c.violations);
    assert_eq!(
        c.messages.last().and_then(|m| m.text()).as_deref(),
        Some("fresh start")
    );
    assert_eq!(
        c.messages[0].sha256, None,
        "the abandoned message has no hash"
    );
}

#[test]
fn past_the_fragment_limit_the_rest_is_skipped_quietly() {
    let mut c = conn();
    let limits = Limits {
        max_fragments: 5,
        ..Limits::default()
    };
    let mut d = DirectionDecoder::new(Dir::Client, Negotiated::default(), limits);
    let mut bytes = frame(0x01, b"a", KEY, None);
    for _ in 0..20 {
        bytes.extend(frame(0x00, b"b", KEY, None));
    }
    bytes.extend(frame(0x80, b"end", KEY, None));
    bytes.extend(frame(0x81, b"next", KEY, None));
    d.feed(&mut c, &bytes, 1, Timestamp::default());
    assert!(c.violations.is_empty(), "{:?}", c.violations);
    assert_eq!(warned(&c, Warning::LimitReached), 1);
    assert_eq!(
        c.messages.last().and_then(|m| m.text()).as_deref(),
        Some("next")
    );
}

#[test]
fn gap_inside_a_payload_keeps_frame_sync() {
    let mut c = conn();
    let mut d = DirectionDecoder::new(Dir::Server, Negotiated::default(), Limits::default());
    let f1 = frame(0x82, &[5u8; 100], None, None);
    let f2 = frame(0x81, b"after", None, None);
    d.feed(&mut c, &f1[..40], 1, Timestamp::default());
    d.gap(&mut c, 30, false, 2);
    d.feed(&mut c, &f1[70..], 3, Timestamp::default());
    d.feed(&mut c, &f2, 4, Timestamp::default());
    assert_eq!(c.messages.len(), 2);
    assert_eq!(
        c.messages[0].sha256, None,
        "a message with missing bytes has no hash"
    );
    assert_eq!(c.messages[1].text().as_deref(), Some("after"));
    assert!(c.violations.is_empty());
}

/// After a gap that loses frame boundaries: a segment that starts like a header but whose
/// frame does not chain is passed over; the next that chains is decoded.
#[test]
fn after_lost_boundaries_only_a_confirmed_header_resynchronises() {
    let mut c = conn();
    let mut d = DirectionDecoder::new(Dir::Server, Negotiated::default(), Limits::default());
    let big = frame(0x82, &[7u8; 3000], None, None);
    d.feed(&mut c, &big[..3], 1, Timestamp::default());
    // The gap takes the rest of the header: boundaries are lost.
    d.gap(&mut c, 1000, false, 2);
    // A segment from the middle of the payload that happens to start like a 3-byte
    // binary frame, followed by bytes that are no header (RSV2 and RSV3 set).
    let mut fake = vec![0x82, 3, b'a', b'b', b'c'];
    fake.extend([0xff; 40]);
    d.feed(&mut c, &fake, 3, Timestamp::default());
    assert!(c.frames.is_empty(), "{:?}", c.frames);
    // The next frame, whole in its segment: found again.
    d.feed(
        &mut c,
        &frame(0x81, b"hi", None, None),
        4,
        Timestamp::default(),
    );
    d.finish(&mut c);
    let texts: Vec<_> = c.messages.iter().filter_map(|m| m.text()).collect();
    assert_eq!(texts, ["hi"]);
    assert!(c.violations.is_empty(), "{:?}", c.violations);
}

/// A frame found after a loss that goes on past its segment is held until its end shows
/// whether the next header fits.
#[test]
fn a_found_frame_that_spans_segments_waits_for_its_end() {
    let mut c = conn();
    let mut d = DirectionDecoder::new(Dir::Client, Negotiated::default(), Limits::default());
    d.feed(&mut c, &[0x81, 0x85], 1, Timestamp::default());
    d.gap(&mut c, 9, false, 2);
    let mut both = frame(0x82, &[9u8; 500], KEY, None);
    both.extend(frame(0x81, b"next", KEY, None));
    d.feed(&mut c, &both[..200], 3, Timestamp::default());
    assert_eq!(d.held_bytes(), 200, "held until confirmed");
    assert_eq!(c.frames.len(), 0);
    d.feed(&mut c, &both[200..], 4, Timestamp::default());
    assert_eq!(d.held_bytes(), 0);
    let kinds: Vec<_> = c.frames.iter().map(|f| f.header.payload_len).collect();
    assert_eq!(kinds, [500, 4]);
    assert_eq!(c.messages.len(), 2);
    assert!(c.messages[0].sha256.is_some());
    // A candidate that turns out not to chain is given up, its bytes passed over.
    let mut c = conn();
    let mut d = DirectionDecoder::new(Dir::Client, Negotiated::default(), Limits::default());
    d.feed(&mut c, &[0x81, 0x85], 1, Timestamp::default());
    d.gap(&mut c, 9, false, 2);
    let mut wrong = frame(0x82, &[9u8; 500], KEY, None);
    wrong.truncate(300);
    d.feed(&mut c, &wrong, 3, Timestamp::default());
    let mut rest = vec![0u8; 208];
    rest.extend([0xf0, 0x01, 0x00]);
    d.feed(&mut c, &rest, 4, Timestamp::default());
    assert_eq!(d.held_bytes(), 0);
    assert!(c.frames.is_empty(), "{:?}", c.frames);
}
