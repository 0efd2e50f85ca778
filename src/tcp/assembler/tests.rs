//! The reassembler's unit tests.
use super::*;
use proptest::prelude::*;

/// Collects events into (bytes, gaps) for comparison.
fn run(segs: &[(u32, Vec<u8>)], isn: u32, limit: usize) -> (Vec<u8>, u64, usize) {
    let mut r = Reassembler::new(limit);
    let mut data = Vec::new();
    let mut gaps = 0u64;
    let mut differs = 0usize;
    let mut sink = |ev: StreamEvent<'_>| match ev {
        StreamEvent::Data { bytes, .. } => data.extend_from_slice(bytes),
        StreamEvent::Gap { len, .. } => {
            gaps += len;
            data.extend(std::iter::repeat_n(0xEE, len as usize));
        }
        StreamEvent::RetransmissionDiffers { .. } => differs += 1,
        // No ACK is fed here: nothing is out of window before 1 GiB.
        StreamEvent::OutOfWindow { .. } => {}
    };
    r.segment(isn, true, false, &[], 0, 0, Timestamp::default(), &mut sink);
    for (i, (off, bytes)) in segs.iter().enumerate() {
        let seq = isn.wrapping_add(1).wrapping_add(*off);
        r.segment(
            seq,
            false,
            false,
            bytes,
            0,
            i as u64 + 1,
            Timestamp::default(),
            &mut sink,
        );
    }
    r.flush(0, Timestamp::default(), &mut sink);
    (data, gaps, differs)
}

#[test]
fn in_order_out_of_order_and_duplicates() {
    let segs = vec![
        (0, b"hello ".to_vec()),
        (11, b"!".to_vec()),
        (6, b"world".to_vec()),
        (6, b"WORLD".to_vec()),
    ];
    let (data, gaps, differs) = run(&segs, 1000, 1 << 20);
    assert_eq!(data, b"hello world!");
    assert_eq!(gaps, 0);
    assert_eq!(differs, 1, "a retransmission with other bytes is reported");
}

#[test]
fn early_fin_then_data_at_the_same_offset_terminates() {
    // Found by fuzzing: a bare FIN ahead of the data used to be buffered as an empty
    // entry, and a later segment at the same offset then looped forever.
    let mut r = Reassembler::new(1 << 20);
    let mut got = Vec::new();
    let mut sink = |ev: StreamEvent<'_>| {
        if let StreamEvent::Data { bytes, .. } = ev {
            got.extend_from_slice(bytes);
        }
    };
    let t = Timestamp::default();
    r.segment(0, true, false, &[], 0, 1, t, &mut sink);
    r.segment(11, false, true, &[], 0, 2, t, &mut sink);
    r.segment(11, false, false, b"late", 0, 3, t, &mut sink);
    r.segment(11, false, false, b"later", 0, 4, t, &mut sink);
    r.segment(1, false, false, b"0123456789", 0, 5, t, &mut sink);
    assert_eq!(got, b"0123456789later");
}

#[test]
fn sequence_wrap_is_transparent() {
    let segs = vec![(0, vec![1u8; 10]), (10, vec![2u8; 10]), (20, vec![3u8; 10])];
    let (data, gaps, _) = run(&segs, u32::MAX - 14, 1 << 20);
    assert_eq!(data.len(), 30);
    assert_eq!(&data[10..20], &[2u8; 10]);
    assert_eq!(gaps, 0);
}

#[test]
fn hole_becomes_gap_at_flush_and_never_splices() {
    let segs = vec![(0, b"abc".to_vec()), (6, b"ghi".to_vec())];
    let (data, gaps, _) = run(&segs, 7, 1 << 20);
    assert_eq!(gaps, 3);
    assert_eq!(data, b"abc\xEE\xEE\xEEghi");
}

#[test]
fn pending_limit_declares_gap() {
    let mut r = Reassembler::new(4);
    let mut events = Vec::new();
    let mut sink = |ev: StreamEvent<'_>| events.push(format!("{ev:?}"));
    r.segment(0, true, false, &[], 0, 1, Timestamp::default(), &mut sink);
    r.segment(
        11,
        false,
        false,
        b"xyz",
        0,
        2,
        Timestamp::default(),
        &mut sink,
    );
    assert_eq!(r.pending_bytes(), 3);
    r.segment(
        21,
        false,
        false,
        b"uvw",
        0,
        3,
        Timestamp::default(),
        &mut sink,
    );
    assert!(r.pending_bytes() <= 4);
    assert!(events.iter().any(|e| e.contains("Gap")));
}

#[test]
fn snaplen_missing_bytes_are_a_gap() {
    let mut r = Reassembler::new(1 << 20);
    let mut events = Vec::new();
    let mut sink = |ev: StreamEvent<'_>| events.push(ev.to_owned_debug());
    r.segment(0, true, false, &[], 0, 1, Timestamp::default(), &mut sink);
    r.segment(
        1,
        false,
        false,
        b"ab",
        5,
        2,
        Timestamp::default(),
        &mut sink,
    );
    r.segment(
        8,
        false,
        false,
        b"cd",
        0,
        3,
        Timestamp::default(),
        &mut sink,
    );
    assert_eq!(events, vec!["data ab", "gap 5 Snaplen", "data cd"]);
}

#[test]
fn segments_beyond_the_advertised_window_are_not_stream_data() {
    let mut r = Reassembler::new(1 << 20);
    let mut events = Vec::new();
    let mut sink = |ev: StreamEvent<'_>| events.push(ev.to_owned_debug());
    r.segment(99, true, false, &[], 0, 1, Timestamp::default(), &mut sink);
    // The receiver acknowledged 5 bytes and allows 100 more (scale known).
    r.advertised(105, 100, Some(0));
    r.segment(
        100,
        false,
        false,
        b"hello",
        0,
        2,
        Timestamp::default(),
        &mut sink,
    );
    // 50 bytes ahead: within the window, buffered; 200 ahead: beyond it.
    r.segment(
        155,
        false,
        false,
        b"later",
        0,
        3,
        Timestamp::default(),
        &mut sink,
    );
    r.segment(
        305,
        false,
        false,
        b"flood",
        0,
        4,
        Timestamp::default(),
        &mut sink,
    );
    assert_eq!(events, ["data hello", "out-of-window 5"]);
    assert_eq!(r.pending_bytes(), 5);
    // Without a known scale, only the largest possible window bounds what is taken.
    let mut r = Reassembler::new(1 << 20);
    let mut events = Vec::new();
    let mut sink = |ev: StreamEvent<'_>| events.push(ev.to_owned_debug());
    r.segment(99, true, false, &[], 0, 1, Timestamp::default(), &mut sink);
    r.advertised(100, 1, None);
    r.segment(
        100 + 1_000_000,
        false,
        false,
        b"x",
        0,
        2,
        Timestamp::default(),
        &mut sink,
    );
    r.segment(
        100 + MAX_WINDOW as u32 + 1,
        false,
        false,
        b"y",
        0,
        3,
        Timestamp::default(),
        &mut sink,
    );
    assert_eq!(events, ["out-of-window 1"]);
    assert_eq!(r.pending_bytes(), 1);
}

trait OwnedDebug {
    fn to_owned_debug(&self) -> String;
}
impl OwnedDebug for StreamEvent<'_> {
    fn to_owned_debug(&self) -> String {
        match self {
            StreamEvent::Data { bytes, .. } => {
                format!("data {}", String::from_utf8_lossy(bytes))
            }
            StreamEvent::Gap { len, reason, .. } => format!("gap {len} {reason:?}"),
            StreamEvent::RetransmissionDiffers { .. } => "differs".into(),
            StreamEvent::OutOfWindow { len, .. } => format!("out-of-window {len}"),
        }
    }
}

proptest! {
    /// Oracle: a byte map filled first-copy-wins; every segment arrives eventually, so
    /// the reassembled stream must equal the original with no gap, whatever the order.
    #[test]
    fn any_order_any_duplication_gives_the_stream(
        stream in proptest::collection::vec(any::<u8>(), 1..600),
        cuts in proptest::collection::vec(1usize..80, 1..40),
        order in proptest::collection::vec(any::<u16>(), 0..80),
        dups in proptest::collection::vec((any::<u16>(), 1usize..50), 0..10),
        isn in any::<u32>(),
    ) {
        let mut segs = Vec::new();
        let mut pos = 0usize;
        let mut i = 0;
        while pos < stream.len() {
            let len = cuts[i % cuts.len()].min(stream.len() - pos);
            segs.push((pos as u32, stream[pos..pos + len].to_vec()));
            pos += len;
            i += 1;
        }
        for (at, len) in dups {
            let start = at as usize % stream.len();
            let end = (start + len).min(stream.len());
            segs.push((start as u32, stream[start..end].to_vec()));
        }
        for (k, o) in order.iter().enumerate() {
            let a = k % segs.len();
            let b = *o as usize % segs.len();
            segs.swap(a, b);
        }
        let (data, gaps, differs) = run(&segs, isn, 1 << 20);
        prop_assert_eq!(gaps, 0);
        prop_assert_eq!(differs, 0);
        prop_assert_eq!(data, stream);
    }

    /// With segments dropped, what is delivered is the stream with the dropped
    /// ranges blanked (never bytes from elsewhere), and its length is the stream's
    /// up to the last byte seen.
    #[test]
    fn losses_become_gaps_never_splices(
        stream in proptest::collection::vec(any::<u8>(), 1..400),
        seg_len in 1usize..40,
        drop_mask in any::<u64>(),
        isn in any::<u32>(),
    ) {
        let mut segs = Vec::new();
        let mut oracle = vec![None; stream.len()];
        for (k, start) in (0..stream.len()).step_by(seg_len).enumerate() {
            let end = (start + seg_len).min(stream.len());
            if drop_mask >> (k % 64) & 1 == 1 && k != 0 {
                continue;
            }
            segs.push((start as u32, stream[start..end].to_vec()));
            for (j, b) in stream[start..end].iter().enumerate() {
                oracle[start + j] = Some(*b);
            }
        }
        let last = oracle.iter().rposition(Option::is_some).map_or(0, |p| p + 1);
        let (data, _, _) = run(&segs, isn, 1 << 20);
        prop_assert_eq!(data.len(), last);
        for (j, b) in data.iter().enumerate() {
            match oracle[j] {
                Some(expected) => prop_assert_eq!(*b, expected),
                None => prop_assert_eq!(*b, 0xEE),
            }
        }
    }
}
