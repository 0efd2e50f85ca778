//! What the user sees: the TUI rendered with ratatui's `TestBackend` on the bundled
//! captures, at 80×24 and 160×48, compared with reviewed `insta` snapshots.

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use wsscope::Capture;
use wsscope::tui::app::{App, LoadState};
use wsscope::tui::command::key_to_command;
use wsscope::tui::theme::Theme;
use wsscope::tui::views::AppView;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn load(name: &str) -> Capture {
    let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    wsscope::decode_reader(file, Default::default()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn app(capture: &Capture, name: &str, (w, h): (u16, u16)) -> App {
    let mut app = App::new(name, Theme::new(false), Rect::new(0, 0, w, h));
    app.loading = LoadState::finished();
    app.refresh(capture);
    app
}

/// Presses keys, written as a string: one character a key, `\t` Tab, `\n` Enter,
/// `\x1b` Esc.
fn press(app: &mut App, capture: &Capture, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\t' => KeyCode::Tab,
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        if let Some(cmd) = key_to_command(KeyEvent::new(code, KeyModifiers::NONE), &app.mode) {
            app.update(cmd, capture);
        }
    }
}

fn draw(app: &App, capture: &Capture) -> String {
    let (w, h) = (app.area.width, app.area.height);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    terminal
        .draw(|f| f.render_widget(&AppView::new(app, capture), f.area()))
        .expect("draw");
    terminal.backend().to_string()
}

/// Renders `capture` after `keys` at both sizes and compares with the snapshots
/// `{name}@80x24` and `{name}@160x48`.
fn check(file: &str, keys: &str, name: &str) {
    check_sized(file, [keys, keys], name);
}

/// Like [`check`], with different keys at each size (pages differ in length).
fn check_sized(file: &str, keys: [&str; 2], name: &str) {
    let capture = load(file);
    for (size, keys) in SIZES.into_iter().zip(keys) {
        let mut a = app(&capture, file, size);
        press(&mut a, &capture, keys);
        let screen = draw(&a, &capture);
        insta::assert_snapshot!(format!("{name}@{}x{}", size.0, size.1), screen);
    }
}

#[test]
fn demo_frame_list() {
    check("demo.pcapng", "", "demo_frames");
}

#[test]
fn demo_masked_compressed_frame_detail() {
    // Frame 3: client text, masked, RSV1 (deflate). Focus the detail, select the key.
    check(
        "demo.pcapng",
        "jj\tjjjjjjj",
        "demo_detail_masked_compressed",
    );
}

#[test]
fn demo_detail_diagram_and_unmasking() {
    // Page down the detail pane of frame 3 to its §5.2 diagram.
    check_sized("demo.pcapng", ["jj\t  ", "jj\t"], "demo_detail_diagram");
}

#[test]
fn demo_hex_highlights_masking_key() {
    check("demo.pcapng", "jj\tjjjjjjj\t", "demo_hex_key");
}

#[test]
fn demo_fragmented_compressed_message() {
    check("demo.pcapng", "jjjjjjjj", "demo_fragment");
}

#[test]
fn demo_handshake() {
    check("demo.pcapng", "h", "demo_handshake");
}

#[test]
fn demo_messages() {
    check("demo.pcapng", "m", "demo_messages");
}

#[test]
fn ping_pong_stats() {
    check("ping-pong.pcap", "s", "ping_pong_stats");
}

#[test]
fn demo_help() {
    check("demo.pcapng", "?", "demo_help");
}

#[test]
fn violations_framing_list() {
    check("violations-framing.pcap", "v", "violations_framing_view");
}

#[test]
fn violations_framing_frame_detail() {
    // Frame 5: a ping of 126 bytes in the 16-bit form.
    check(
        "violations-framing.pcap",
        "jjjj",
        "violations_framing_frame5",
    );
}

#[test]
fn refused_upgrade() {
    check("refused-426.pcap", "", "refused_426_frames");
    check("refused-426.pcap", "h", "refused_426_handshake");
}

#[test]
fn deflate_no_takeover_detail() {
    check(
        "deflate-no-takeover.pcap",
        "\t",
        "deflate_no_takeover_detail",
    );
}

#[test]
fn midstream_capture() {
    check("midstream.pcap", "", "midstream_frames");
    check("midstream.pcap", "h", "midstream_handshake");
}

#[test]
fn selection_is_reverse_video_in_the_focused_pane() {
    let capture = load("demo.pcapng");
    let a = app(&capture, "demo.pcapng", (80, 24));
    let (w, h) = (a.area.width, a.area.height);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    terminal
        .draw(|f| f.render_widget(&AppView::new(&a, &capture), f.area()))
        .expect("draw");
    let buf = terminal.backend().buffer();
    // Row 5 is the first frame (connections take rows 0-2, frames start at 3 with a
    // border and a header line).
    let cell = &buf[(10, 5)];
    assert!(
        cell.modifier.contains(ratatui::style::Modifier::REVERSED),
        "{cell:?}"
    );
    // No colour at all under Theme::new(false).
    for cell in buf.content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, ratatui::style::Color::Reset, "{cell:?}");
    }
}

#[test]
fn hex_pane_highlights_the_bytes_of_the_selected_field() {
    let capture = load("demo.pcapng");
    let mut a = app(&capture, "demo.pcapng", (80, 24));
    // Frame 3, masking key selected, hex pane focused.
    press(&mut a, &capture, "jj\tjjjjjjj\t");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test backend");
    terminal
        .draw(|f| f.render_widget(&AppView::new(&a, &capture), f.area()))
        .expect("draw");
    let buf = terminal.backend().buffer();
    // The hex pane's border is row 12, two header lines follow, then offset 0 on row 15.
    // Byte k is at column 9 + 3k: the key is bytes 2-5.
    let reversed = |x: u16| {
        buf[(x, 15)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    };
    assert_eq!(buf[(1, 15)].symbol(), "0");
    for k in 0..8u16 {
        assert_eq!(reversed(9 + 3 * k), (2..6).contains(&k), "byte {k}");
    }
}

/// Every command in every view, at sizes down to a single cell, on every kind of
/// capture (including an empty one): nothing panics, every frame draws.
#[test]
fn every_command_at_every_size_is_harmless() {
    use wsscope::tui::command::Command;
    use wsscope::tui::filter::FilterChoice;
    let commands = [
        Command::Down,
        Command::Right,
        Command::PageDown,
        Command::Last,
        Command::Open,
        Command::NextFrame,
        Command::Left,
        Command::Up,
        Command::PageUp,
        Command::First,
        Command::PrevFrame,
        Command::NextPane,
        Command::Click { x: 3, y: 4 },
        Command::Scroll {
            x: 3,
            y: 9,
            down: true,
        },
        Command::Click { x: 2, y: 15 },
        Command::NextMatch,
        Command::Filter(FilterChoice::Control),
        Command::Down,
        Command::Filter(FilterChoice::Clear),
        Command::ToggleTime,
        Command::ToggleUnmask,
        Command::Back,
    ];
    let views = [
        None,
        Some(Command::Handshake),
        Some(Command::Violations),
        Some(Command::Messages),
        Some(Command::Stats),
        Some(Command::Help),
    ];
    let mut captures: Vec<(String, Capture)> = [
        "demo.pcapng",
        "violations-framing.pcap",
        "refused-426.pcap",
        "midstream.pcap",
        "fragmented.pcap",
        "multi-conn.pcap",
    ]
    .iter()
    .map(|n| (n.to_string(), load(n)))
    .collect();
    captures.push(("empty".into(), Capture::default()));
    for (name, capture) in &captures {
        for size in [(1, 1), (12, 5), (40, 12), (80, 24), (200, 60)] {
            let mut a = app(capture, name, size);
            press(&mut a, capture, "/e\n");
            for view in views {
                if let Some(v) = view {
                    a.update(v, capture);
                }
                for cmd in commands {
                    a.update(cmd, capture);
                    draw(&a, capture);
                }
                a.update(Command::Back, capture);
            }
        }
    }
}

/// A capture that lost packets: the frame list shows a row at each gap ("⋯ N bytes from
/// the client not captured, packet P"), and the selected frame stays in view below them.
#[test]
fn gap_rows_show_where_the_capture_lost_bytes() {
    use common::loss::{lost_packets, packets_of, pcap_of};
    let path = format!("{}/captures/echo-sizes.pcap", env!("CARGO_MANIFEST_DIR"));
    let packets = packets_of(&std::fs::read(&path).expect("capture"));
    let lost = lost_packets(&packets, 5, 3);
    let kept: Vec<_> = packets
        .iter()
        .filter(|p| !lost.contains(&p.number))
        .collect();
    let capture = wsscope::decode_reader(&pcap_of(&kept)[..], Default::default()).expect("decode");
    let gaps = &capture.connections[0].gaps;
    assert!(
        !gaps.is_empty(),
        "this loss hides bytes between or inside frames"
    );
    // The frame just after the first gap, selected by moving down from the first frame.
    let target = gaps[0].before_frame;
    for size in SIZES {
        let mut a = app(&capture, "lossy", size);
        press(
            &mut a,
            &capture,
            &format!("g{}", "j".repeat(target as usize - 1)),
        );
        let screen = draw(&a, &capture);
        let row = format!(
            "bytes from the {} not captured, packet {}",
            gaps[0].dir.name(),
            gaps[0].packet
        );
        assert!(screen.contains(&row), "{size:?}: no gap row:\n{screen}");
        assert_eq!(a.panes.frame, Some(target));
        assert!(
            screen.lines().any(|l| l
                .trim_start_matches(['"', '│', ' '])
                .starts_with(&format!("{target} "))),
            "{size:?}: the selected frame {target} is out of view:\n{screen}"
        );
    }
}

/// wss://: decrypted with its key log the connection is listed with its TLS version and
/// suite; without it, the empty list says a TLS connection was not decrypted and how to.
#[test]
fn wss_connections_say_what_tls_did() {
    let path = format!("{}/captures/wss-deflate.pcap", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).expect("capture");
    let mut keys = wsscope::tls::KeyLog::default();
    keys.load(std::path::Path::new(&path.replace(".pcap", ".keys")))
        .expect("key log");
    let with = wsscope::SessionConfig {
        keys: std::sync::Arc::new(keys),
        ..Default::default()
    };
    for (config, want) in [
        (with, "TLS 1.3 TLS_AES_256_GCM_SHA384"),
        (Default::default(), "1 TLS connection not decrypted"),
    ] {
        let capture = wsscope::decode_reader(&bytes[..], config).expect("decode");
        let a = app(&capture, "wss", (160, 48));
        let screen = draw(&a, &capture);
        assert!(screen.contains(want), "{want:?} not on screen:\n{screen}");
    }
}
