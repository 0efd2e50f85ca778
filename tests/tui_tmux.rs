//! The real thing: the built binary in a real terminal (tmux), driven by keys, read
//! back with `capture-pane`. Skipped, with the reason printed, when tmux is missing.
//!
//! Set `WSSCOPE_TUI_BIN` to run another binary that takes the same arguments (for
//! example `target/debug/examples/tui`).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long to wait for something to appear on screen.
const PATIENCE: Duration = Duration::from_secs(10);

/// A tmux server of our own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// A server on socket `socket` running `command` in session `ws`, a 100×30
    /// terminal, in the project's folder.
    fn start(socket: String, command: &str) -> Tmux {
        let tmux = Tmux { socket };
        let started = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "ws",
            "-x",
            "100",
            "-y",
            "30",
            "-c",
            env!("CARGO_MANIFEST_DIR"),
            command,
        ]);
        assert!(started.status.success(), "tmux new-session: {started:?}");
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("tmux runs")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "ws"]).stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "ws", k]);
        }
    }

    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "ws", "-l", text]);
    }

    /// Polls the screen until every `needle` is on it; panics with the screen if not.
    fn wait_for(&self, needles: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "waited {PATIENCE:?} for {needles:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let path = self.run(&["display-message", "-p", "#{socket_path}"]);
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        // tmux may leave the socket file behind.
        let path = String::from_utf8_lossy(&path.stdout).trim().to_string();
        if path.ends_with(&self.socket) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The binary under test (`WSSCOPE_TUI_BIN`, else the one cargo built).
fn wsscope_bin() -> PathBuf {
    std::env::var("WSSCOPE_TUI_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_BIN_EXE_wsscope")))
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn browse_the_demo_in_a_real_terminal() {
    if !tmux_available() {
        eprintln!("skipped: tmux is not installed (apt-get install tmux)");
        return;
    }
    let bin = wsscope_bin();
    let command = format!(
        "sh -c '\"{}\" captures/demo.pcapng; echo EXITED-$?; sleep 60'",
        bin.display()
    );
    let tmux = Tmux::start(format!("wsscope-test-{}", std::process::id()), &command);

    // The UI is up: connection list, frame list, status line.
    tmux.wait_for(&["Connections (1)", "Frames of #1 (13)", "frame 1/13"]);
    // Step through frames: the detail pane follows.
    tmux.keys(&["j", "j", "j"]);
    tmux.wait_for(&["frame 4/13", "Frame 4 of 13"]);
    // The handshake view.
    tmux.keys(&["h"]);
    tmux.wait_for(&["Sec-WebSocket-Accept", "✓", "Checks"]);
    tmux.keys(&["Escape"]);
    tmux.wait_for(&["Frame 4 of 13"]);
    // Search the payloads for a word of the demo chat.
    tmux.keys(&["/"]);
    tmux.text("avatar");
    tmux.wait_for(&["/avatar"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["/avatar (1 match)", "frame 8/13"]);
    // Quit: the process exits with 0 and the UI is gone from the screen.
    tmux.keys(&["q"]);
    let screen = tmux.wait_for(&["EXITED-0"]);
    assert!(
        !screen.contains("Frames of #1"),
        "the terminal was not restored:\n{screen}"
    );
}

#[test]
fn a_piped_stream_is_copied_while_shown_and_the_copy_goes_when_the_terminal_does() {
    if !tmux_available() {
        eprintln!("skipped: tmux is not installed (apt-get install tmux)");
        return;
    }
    let bin = wsscope_bin();
    let tmp = std::env::temp_dir().join(format!("wsscope-tmux-copy-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temporary directory");
    let copies = || std::fs::read_dir(&tmp).map_or(0, |d| d.count());
    // The pipe stays open: the UI shows what came and waits for more.
    let command = format!(
        "sh -c '(cat captures/ping-pong.pcap; sleep 30) | TMPDIR=\"{}\" \"{}\" -'",
        tmp.display(),
        bin.display()
    );
    let tmux = Tmux::start(format!("wsscope-copy-{}", std::process::id()), &command);
    tmux.wait_for(&["Connections (1", "Frames of #1 (16)"]);
    assert_eq!(copies(), 1, "the stream is copied to a temporary file");
    // The terminal goes away (SIGHUP): the copy is deleted, not left behind.
    drop(tmux);
    let start = Instant::now();
    while copies() > 0 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(copies(), 0, "the copy was left behind");
    let _ = std::fs::remove_dir(&tmp);
}
