//! Figures a capture cannot back are not printed: a frame that declares 2^62 or 2^63
//! payload bytes, of which the capture holds a few hundred, counts what was seen in the
//! summary's overhead line, the export and the frame explanation (issue 16, part 5).

mod common;

use std::net::SocketAddrV4;
use std::process::Command;

/// A WebSocket connection whose client sends a binary frame declaring `declared` bytes
/// and then only `sent` payload bytes before the capture ends.
fn huge_frame(declared: u64, sent: usize) -> Vec<u8> {
    let client: SocketAddrV4 = "10.0.0.1:40000".parse().expect("addr");
    let server: SocketAddrV4 = "10.0.0.2:80".parse().expect("addr");
    let (mut conv, c_off, _) = common::upgraded(client, server);
    let mut f = vec![0x82, 0x80 | 127];
    f.extend_from_slice(&declared.to_be_bytes());
    f.extend_from_slice(&[1, 2, 3, 4]);
    f.extend(std::iter::repeat_n(0x55u8, sent));
    conv.client_data(c_off, &f);
    conv.pcap()
}

fn run(file: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wsscope"))
        .args(args)
        .arg(file)
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_frame_declaring_more_than_the_capture_holds_counts_what_was_seen() {
    for declared in [1u64 << 62, (1u64 << 63) + 5] {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("huge.pcap");
        std::fs::write(&file, huge_frame(declared, 262)).expect("write");
        let summary = run(&file, &["summary"]);
        let overhead = summary
            .lines()
            .find(|l| l.trim_start().starts_with("overhead:"))
            .unwrap_or_else(|| panic!("no overhead line in {summary}"));
        // 262 payload bytes seen; the 2^63 case is not followed at all (its length
        // cannot be), so it counts none.
        let want = if declared < 1 << 63 {
            "payload 262 B"
        } else {
            "payload 0 B"
        };
        assert!(
            overhead.contains(want),
            "2^{}: {overhead}",
            declared.ilog2()
        );
        let export = run(&file, &["export"]);
        let frame: serde_json::Value = export
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .find(|v: &serde_json::Value| v["kind"] == "frame")
            .expect("a frame line");
        assert_eq!(frame["payload_len"].as_u64(), Some(declared), "{frame}");
        let explain = run(&file, &["explain", "--frame", "1"]);
        assert!(
            !explain.contains(&format!("{}", declared + 14)),
            "the byte map does not run to the declared end:\n{explain}"
        );
    }
}
