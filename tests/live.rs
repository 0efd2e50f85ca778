//! Live capture end to end (feature `live`, needs root or capture capabilities): a real
//! tungstenite server and client talk over loopback while `wsscope export -i lo` captures
//! them; the exported messages must be exactly those sent, and the `-w` file must decode
//! to the same lines. Skipped, with the reason printed, when capture is not permitted.
#![cfg(feature = "live")]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tungstenite::Message;

fn may_capture() -> bool {
    // Opening the loopback device is the real test of permission.
    match pcap::Capture::from_device("lo").and_then(|c| c.open()) {
        Ok(_) => true,
        Err(e) => {
            eprintln!("SKIPPED: live capture not permitted here ({e}); run as root to include it");
            false
        }
    }
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[test]
fn live_export_matches_what_tungstenite_sent_and_the_saved_file() {
    if !may_capture() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let out_file = std::env::temp_dir().join(format!("wsscope-live-{}.pcapng", std::process::id()));

    let mut child = Command::new(env!("CARGO_BIN_EXE_wsscope"))
        .args([
            "export",
            "-i",
            "lo",
            "-f",
            &format!("tcp port {port}"),
            "--duration",
            "4",
            "-w",
        ])
        .arg(&out_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsscope");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr
        .read_line(&mut first)
        .expect("wsscope says it is capturing");
    assert!(first.contains("capturing on lo"), "{first}");

    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut ws = tungstenite::accept(stream).expect("server handshake");
        loop {
            match ws.read() {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => ws.send(m).expect("echo"),
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = ws.flush();
    });

    let sent: Vec<Message> = vec![
        Message::Text("hello live".into()),
        Message::Binary((0u8..=99).collect::<Vec<u8>>().into()),
        Message::Text("ünïcødé ✓".into()),
        Message::Binary(vec![7u8; 70_000].into()),
    ];
    let (mut ws, _) =
        tungstenite::connect(format!("ws://127.0.0.1:{port}/live")).expect("client handshake");
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
    }
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .expect("ping");
    for m in &sent {
        ws.send(m.clone()).expect("send");
    }
    let mut echoed = 0;
    while echoed < sent.len() {
        match ws.read().expect("read echo") {
            Message::Text(_) | Message::Binary(_) => echoed += 1,
            _ => {}
        }
    }
    ws.close(None).expect("close");
    while ws.read().is_ok() {}
    server.join().expect("server thread");

    let output = child
        .wait_with_output()
        .expect("wsscope ends after --duration");
    assert!(
        output.status.success(),
        "wsscope failed: {:?}",
        output.status
    );
    let live = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut got = Vec::new();
    let mut pings = 0;
    for line in live.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        if v["kind"] == "message" {
            match v["opcode"].as_str() {
                Some("text" | "binary") => got.push((
                    v["dir"].as_str().unwrap_or("").to_string(),
                    v["sha256"].as_str().unwrap_or("").to_string(),
                )),
                Some("ping") => pings += 1,
                _ => {}
            }
        }
        assert_ne!(v["kind"], "violation", "{line}");
    }
    let payload = |m: &Message| match m {
        Message::Text(t) => sha(t.as_bytes()),
        Message::Binary(b) => sha(b),
        _ => String::new(),
    };
    let client: Vec<String> = got
        .iter()
        .filter(|(d, _)| d == "client")
        .map(|(_, h)| h.clone())
        .collect();
    let server: Vec<String> = got
        .iter()
        .filter(|(d, _)| d == "server")
        .map(|(_, h)| h.clone())
        .collect();
    let want: Vec<String> = sent.iter().map(payload).collect();
    assert_eq!(client, want, "client messages");
    assert_eq!(server, want, "server echoes");
    assert_eq!(pings, 1);

    let saved = Command::new(env!("CARGO_BIN_EXE_wsscope"))
        .arg("export")
        .arg(&out_file)
        .output()
        .expect("decode -w file");
    assert!(saved.status.success());
    let mut a: Vec<&str> = live.lines().collect();
    let saved_text = String::from_utf8_lossy(&saved.stdout).into_owned();
    let mut b: Vec<&str> = saved_text.lines().collect();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b, "the -w file decodes to what was shown live");
    let _ = std::fs::remove_file(&out_file);
}

#[test]
fn bad_interface_and_bad_filter_are_clear_errors() {
    let o = Command::new(env!("CARGO_BIN_EXE_wsscope"))
        .args(["summary", "-i", "no-such-iface0", "--duration", "1"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no such interface: no-such-iface0") && err.contains("lo"),
        "{err}"
    );
    if !may_capture() {
        return;
    }
    let o = Command::new(env!("CARGO_BIN_EXE_wsscope"))
        .args(["summary", "-i", "lo", "-f", "tcp port", "--duration", "1"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad capture filter"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs `tmux` on a private socket.
fn tmux(socket: &str, args: &[&str]) -> String {
    let o = Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .output()
        .expect("tmux runs");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn wait_for(socket: &str, text: &str) -> String {
    let mut screen = String::new();
    for _ in 0..100 {
        screen = tmux(socket, &["capture-pane", "-p", "-t", "live"]);
        if screen.contains(text) {
            return screen;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{text:?} never appeared; screen:\n{screen}");
}

#[test]
fn live_terminal_ui_shows_frames_as_they_arrive() {
    if !may_capture() {
        return;
    }
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED: tmux is not installed");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let socket = format!("wsscope-live-{}", std::process::id());
    // The capture's temporary copy goes to a directory of this test's own.
    let tmp = std::env::temp_dir().join(format!("wsscope-live-ui-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temporary directory");
    let cmd = format!(
        "TMPDIR={} {} live -i lo -f 'tcp port {port}'; echo EXITED-$?; sleep 10",
        tmp.display(),
        env!("CARGO_BIN_EXE_wsscope")
    );
    tmux(
        &socket,
        &[
            "new-session",
            "-d",
            "-s",
            "live",
            "-x",
            "120",
            "-y",
            "30",
            &cmd,
        ],
    );
    wait_for(&socket, "live on lo");
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut ws = tungstenite::accept(stream).expect("server handshake");
        while let Ok(m) = ws.read() {
            if m.is_text() {
                let _ = ws.send(m);
            }
        }
    });
    let (mut ws, _) =
        tungstenite::connect(format!("ws://127.0.0.1:{port}/ui")).expect("client handshake");
    ws.send(Message::Text("shown while it happens".into()))
        .expect("send");
    let _ = ws.read();
    let screen = wait_for(&socket, "shown while it happens");
    assert!(
        screen.contains("live ·"),
        "status line shows the live counters:\n{screen}"
    );
    let copies = || std::fs::read_dir(&tmp).map_or(0, |d| d.count());
    assert_eq!(copies(), 1, "the capture is copied to a temporary file");
    ws.close(None).expect("close");
    while ws.read().is_ok() {}
    server.join().expect("server");
    // Once closed, the connection is decoded again from the copy: its close frames and
    // its text are still listed.
    let screen = wait_for(&socket, "close");
    assert!(screen.contains("shown while it happens"), "{screen}");
    tmux(&socket, &["send-keys", "-t", "live", "q"]);
    let after = wait_for(&socket, "EXITED-0");
    assert!(
        !after.contains("Connections ("),
        "the terminal is restored:\n{after}"
    );
    tmux(&socket, &["kill-server"]);
    assert_eq!(copies(), 0, "the copy is deleted on quitting");
    let _ = std::fs::remove_dir(&tmp);
}
