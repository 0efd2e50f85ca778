//! The command line as a user runs it: outputs, error messages and exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn wsscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsscope"))
}

fn capture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    wsscope()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temporary file holding `bytes`, removed when dropped.
fn temp_file(name: &str, bytes: &[u8]) -> tempfile::TempPath {
    let mut file = tempfile::Builder::new()
        .prefix(&format!("wsscope-test-{name}-"))
        .tempfile()
        .expect("create temp file");
    std::io::Write::write_all(&mut file, bytes).expect("write temp file");
    file.into_temp_path()
}

#[test]
fn summary_of_the_demo() {
    let o = run(&["summary", capture("demo.pcapng").to_str().expect("path")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("handshake ok (101)"), "{out}");
    assert!(out.contains("subprotocol chat.v1"), "{out}");
    assert!(out.contains("close from client: 1000"), "{out}");
}

#[test]
fn no_argument_without_a_terminal_prints_the_embedded_demo_summary() {
    let o = run(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let file = run(&["summary", capture("demo.pcapng").to_str().expect("path")]);
    let strip = |s: String| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert!(
        stdout(&o).starts_with("capture demo.pcapng (embedded)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        strip(stdout(&o)),
        strip(stdout(&file)),
        "embedded demo is the bundled one"
    );
}

#[test]
fn stdin_gives_the_same_result_as_the_file() {
    let bytes = std::fs::read(capture("echo-sizes.pcap")).expect("capture");
    let mut child = wsscope()
        .args(["export", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    // Write in small pieces, as a pipe from tcpdump would deliver them.
    let writer = std::thread::spawn(move || {
        for chunk in bytes.chunks(1000) {
            stdin.write_all(chunk).expect("write");
        }
    });
    let piped = child.wait_with_output().expect("output");
    writer.join().expect("writer");
    let file = run(&["export", capture("echo-sizes.pcap").to_str().expect("path")]);
    assert!(piped.status.success());
    assert_eq!(stdout(&piped), stdout(&file));
}

#[test]
fn export_lines_are_json_objects_with_a_kind() {
    let o = run(&[
        "export",
        capture("violations-framing.pcap").to_str().expect("path"),
        "--format",
        "jsonl",
    ]);
    assert!(o.status.success());
    let mut kinds = std::collections::BTreeSet::new();
    for (i, line) in stdout(&o).lines().enumerate() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {i}: {e}: {line}"));
        let kind = v["kind"].as_str().expect("kind").to_string();
        if i == 0 {
            assert_eq!(kind, "connection");
            assert_eq!(v["id"], 1);
            assert!(
                v["handshake"]["checks"]
                    .as_array()
                    .is_some_and(|c| !c.is_empty())
            );
        }
        if kind == "violation" {
            assert!(
                v["rfc"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("RFC 6455 §"))
            );
        }
        kinds.insert(kind);
    }
    for k in ["connection", "frame", "message", "violation", "warning"] {
        assert!(kinds.contains(k), "no {k} line");
    }
}

#[test]
fn missing_file_is_a_clear_error() {
    let o = run(&["summary", "/nonexistent/capture.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot open /nonexistent/capture.pcap"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn not_a_capture_is_a_clear_error() {
    let path = temp_file(
        "text.pcap",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\nthis is not a capture file",
    );
    let o = run(&["summary", path.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a capture"), "{}", stderr(&o));
    let empty = temp_file("empty.pcap", b"");
    let o = run(&["summary", empty.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));
}

#[test]
fn truncated_capture_keeps_what_was_decoded() {
    let bytes = std::fs::read(capture("echo-sizes.pcap")).expect("capture");
    let path = temp_file("cut.pcap", &bytes[..bytes.len() * 2 / 3]);
    let o = run(&["summary", path.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    assert!(stderr(&o).contains("byte "), "says where: {}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("#1 127.0.0.1:"),
        "connection still shown: {out}"
    );
    assert!(out.contains("handshake ok (101)"), "{out}");
}

#[test]
fn strict_fails_on_violations_only() {
    let bad = run(&[
        "summary",
        "--strict",
        capture("violations-masking.pcap").to_str().expect("path"),
    ]);
    assert_eq!(bad.status.code(), Some(3));
    let good = run(&[
        "summary",
        "--strict",
        capture("demo.pcapng").to_str().expect("path"),
    ]);
    assert_eq!(good.status.code(), Some(0));
}

#[test]
fn frames_of_one_connection() {
    let o = run(&[
        "frames",
        capture("multi-conn.pcap").to_str().expect("path"),
        "--conn",
        "2",
    ]);
    assert!(o.status.success());
    let out = stdout(&o);
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.split_whitespace().next() == Some("2")),
        "{out}"
    );
}

#[test]
fn port_option_decodes_a_midstream_connection_with_known_roles() {
    let o = run(&[
        "export",
        capture("midstream.pcap").to_str().expect("path"),
        "--port",
        "18016",
    ]);
    assert!(o.status.success());
    let first: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().next().expect("a line")).expect("json");
    assert_eq!(
        first["server"].as_str().map(|s| s.ends_with(":18016")),
        Some(true)
    );
    assert_eq!(first["midstream"], true);
    assert!(first["handshake"].is_null());
}

#[cfg(not(feature = "live"))]
#[test]
fn live_without_the_feature_says_how_to_rebuild() {
    let o = run(&["live", "-i", "lo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--features live"), "{}", stderr(&o));
}

#[test]
fn stats_reports_throughput_and_peak_memory() {
    let o = run(&[
        "summary",
        "--stats",
        capture("echo-sizes.pcap").to_str().expect("path"),
    ]);
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(err.contains("68 packets, 30 frames"), "{err}");
    assert!(err.contains("MB/s") && err.contains("peak memory"), "{err}");
}
