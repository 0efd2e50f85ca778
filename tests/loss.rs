//! Packet loss: the bundled captures (real peers) with 1 %, 5 % and 20 % of their data
//! packets removed, several seeds each. Whatever was lost, wsscope must not invent: no
//! message with a hash the peer never sent, no violation on a connection whose peers
//! broke no rule, no connection that is not there. And what the loss did not touch (a
//! message none of whose frames' packets was lost) it should still decode.

mod common;

use common::loss::{Comparison, compare_with, config_for, lost_packets, packets_of};

/// The share of untouched messages a lossy decode must still decode.
const RECALL_FLOOR: f64 = 0.99;

#[test]
fn lost_packets_invent_nothing_and_untouched_messages_are_decoded() {
    let mut total = Comparison::default();
    // Captures cut by a snaplen lose the rest of each packet as well: nothing may be
    // invented from them either, and their recall is reported on its own.
    let mut total_cut = Comparison::default();
    // wss captures (decrypted with their key logs) lose TLS records too: nothing may be
    // invented; their recall is reported on its own (a lost handshake record loses the
    // connection).
    let mut total_tls = Comparison::default();
    let mut rows = Vec::new();
    for path in common::bundled_captures() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let packets = packets_of(&bytes);
        let mut per_file = Comparison::default();
        for percent in [1, 5, 20] {
            for seed in 1..=4u64 {
                let lost = lost_packets(&packets, percent, seed * 7919 + percent);
                if lost.is_empty() {
                    continue;
                }
                let c = compare_with(&bytes, &lost, config_for(&path));
                if std::env::var_os("LOSS_VERBOSE").is_some() && !c.missed_which.is_empty() {
                    println!(
                        "  {name} {percent}% seed {seed}: missed {:?}",
                        c.missed_which
                    );
                }
                if c.invented_hashes + c.invented_violations + c.invented_connections > 0 {
                    rows.push(format!("{name} {percent}% seed {seed}: {c:?}"));
                }
                per_file += c;
            }
        }
        println!(
            "{name}: untouched {} recalled {} missed {:?} invented hashes {} violations {} connections {}",
            per_file.untouched,
            per_file.recalled,
            per_file.missed,
            per_file.invented_hashes,
            per_file.invented_violations,
            per_file.invented_connections
        );
        if name.starts_with("snaplen-") {
            total_cut += per_file;
        } else if name.starts_with("wss-") {
            total_tls += per_file;
        } else {
            total += per_file;
        }
    }
    println!(
        "cut by a snaplen too: {} untouched messages, {} recalled, missed {:?}",
        total_cut.untouched, total_cut.recalled, total_cut.missed
    );
    println!(
        "wss, decrypted with the key log: {} untouched messages, {} recalled, missed {:?}",
        total_tls.untouched, total_tls.recalled, total_tls.missed
    );
    let recall = total.recalled as f64 / total.untouched.max(1) as f64;
    println!(
        "all: {} untouched messages, {} recalled ({:.2} %), missed {:?} (no connection, no answer to the handshake, other); {} compressed messages after a loss of their context, {} of them decoded exactly; invented: {} hashes, {} violations, {} connections",
        total.untouched,
        total.recalled,
        recall * 100.0,
        total.missed,
        total.after_context_loss,
        total.after_context_loss_recalled,
        total.invented_hashes,
        total.invented_violations,
        total.invented_connections
    );
    assert!(rows.is_empty(), "inventions:\n{}", rows.join("\n"));
    // Issue 16 asks for at least 99 % of the messages the loss did not touch.
    assert!(recall >= RECALL_FLOOR, "recall {:.2} %", recall * 100.0);
}

/// Not a check: writes the lossy capture of `LOSS_FILE` (`LOSS_PCT` %, `LOSS_SEED`) to
/// `$TMPDIR/lossy.pcap` and prints the packets lost, to look at one case by hand:
/// `LOSS_FILE=captures/demo.pcapng cargo test --test loss write_one -- --ignored --nocapture`.
#[test]
#[ignore]
fn write_one() {
    let path = std::env::var("LOSS_FILE").unwrap_or_default();
    let percent: u64 = std::env::var("LOSS_PCT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("LOSS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let packets = packets_of(&bytes);
    let lost = lost_packets(&packets, percent, seed * 7919 + percent);
    let kept: Vec<&common::loss::Packet> = packets
        .iter()
        .filter(|p| !lost.contains(&p.number))
        .collect();
    let out = std::env::temp_dir().join("lossy.pcap");
    std::fs::write(&out, common::loss::pcap_of(&kept)).unwrap_or_else(|e| panic!("{e}"));
    let mut lost: Vec<_> = lost.into_iter().collect();
    lost.sort();
    println!("{}: lost packets {lost:?}", out.display());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 160, ..Default::default() })]

    /// Any set of packets removed from any bundled capture: nothing the whole capture
    /// lacks is decoded (no message hash the peer never sent on a connection whose peers
    /// broke no rule, no violation, no connection).
    #[test]
    fn any_packets_removed_invent_nothing(
        file in 0usize..64,
        removed in proptest::collection::vec(proptest::prelude::any::<u16>(), 1..24),
    ) {
        let captures = common::bundled_captures();
        let path = &captures[file % captures.len()];
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let packets = packets_of(&bytes);
        let lost: std::collections::HashSet<u64> = removed
            .iter()
            .map(|r| packets[usize::from(*r) % packets.len()].number)
            .collect();
        let c = compare_with(&bytes, &lost, config_for(path));
        proptest::prop_assert_eq!(
            (c.invented_hashes, c.invented_violations, c.invented_connections),
            (0, 0, 0),
            "{} without packets {:?}", path.display(), lost
        );
    }
}
