//! Large captures stay fast: a 1 MiB frame scrolls in the hex pane without slowing
//! down, and a connection of 100 000 frames pages and steps as fast as a small one,
//! because only what is on screen is built. Also the UI state follows a capture that
//! is decoded on a background thread ([`wsscope::loader`]).

mod common;

use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use wsscope::tui::app::{App, LoadState, Pane};
use wsscope::tui::command::Command;
use wsscope::tui::theme::Theme;
use wsscope::tui::views::AppView;

/// A clean connection: handshake, one 1 MiB binary server frame, then `small`
/// alternating client (masked) and server text frames, one a packet.
fn large_capture(small: usize) -> Vec<u8> {
    let client = SocketAddrV4::new([127, 0, 0, 1].into(), 50_000);
    let server = SocketAddrV4::new([127, 0, 0, 1].into(), 8080);
    let (mut conv, mut coff, mut soff) = common::upgraded(client, server);
    let mut big = vec![0x82, 127];
    big.extend_from_slice(&(1u64 << 20).to_be_bytes());
    big.extend((0..1u32 << 20).map(|i| (i % 251) as u8));
    for chunk in big.chunks(60_000) {
        conv.server_data(soff, chunk);
        soff += chunk.len();
    }
    for i in 0..small {
        if i % 2 == 0 {
            let text = format!("message {i} from the client");
            let mask = [1, 2, 3, (i % 256) as u8];
            let mut f = vec![0x81, 0x80 | text.len() as u8];
            f.extend_from_slice(&mask);
            f.extend(text.bytes().enumerate().map(|(j, b)| b ^ mask[j % 4]));
            conv.client_data(coff, &f);
            coff += f.len();
        } else {
            let text = format!("reply {i} from the server");
            let mut f = vec![0x81, text.len() as u8];
            f.extend_from_slice(text.as_bytes());
            conv.server_data(soff, &f);
            soff += f.len();
        }
    }
    conv.close(coff, soff);
    conv.pcap()
}

fn draw(terminal: &mut Terminal<TestBackend>, app: &App, capture: &wsscope::Capture) {
    terminal
        .draw(|f| f.render_widget(&AppView::new(app, capture), f.area()))
        .expect("draw");
}

/// Runs `steps` commands, drawing after each. (How long a step takes is measured by
/// the benchmarks, never asserted here.)
fn steps(
    app: &mut App,
    capture: &wsscope::Capture,
    terminal: &mut Terminal<TestBackend>,
    cmd: Command,
    steps: usize,
) {
    for _ in 0..steps {
        app.update(cmd, capture);
        draw(terminal, app, capture);
    }
}

#[test]
fn large_frames_and_long_connections_stay_browsable() {
    let bytes = large_capture(100_000);
    if let Ok(path) = std::env::var("WSSCOPE_WRITE_LARGE") {
        std::fs::write(path, &bytes).expect("write the large capture");
    }
    let capture = wsscope::decode_reader(&bytes[..], Default::default()).expect("decodes");
    let conn = &capture.connections[0];
    assert_eq!(conn.frames.len(), 100_001);
    // The engine keeps the first 1 MiB of a frame's wire bytes (its keep limit).
    assert_eq!(conn.frames[0].raw.len(), 1 << 20);
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = App::new("large", Theme::new(false), Rect::new(0, 0, w, h));
        app.loading = LoadState::finished();
        app.refresh(&capture);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("backend");
        draw(&mut terminal, &app, &capture);
        // The 1 MiB frame: scroll its hex dump from top to bottom and back.
        app.focus(Pane::Hex);
        steps(&mut app, &capture, &mut terminal, Command::PageDown, 200);
        app.update(Command::Last, &capture);
        draw(&mut terminal, &app, &capture);
        assert!(
            app.panes.scroll.hex > 60_000,
            "scrolled to the end: {}",
            app.panes.scroll.hex
        );
        steps(&mut app, &capture, &mut terminal, Command::Up, 200);
        // Step through the small frames and page through all 100 000.
        app.focus(Pane::Frames);
        steps(&mut app, &capture, &mut terminal, Command::Down, 500);
        assert_eq!(app.panes.frame, Some(501));
        steps(&mut app, &capture, &mut terminal, Command::PageDown, 200);
        app.update(Command::Last, &capture);
        assert_eq!(app.panes.frame, Some(100_001));
    }
}

#[test]
fn follows_a_capture_decoded_in_the_background() {
    let bytes = large_capture(20_000);
    let total = bytes.len() as u64;
    let (loading, handle) =
        wsscope::loader::spawn(std::io::Cursor::new(bytes), Some(total), Default::default())
            .expect("a capture");
    let mut app = App::new("bg", Theme::new(false), Rect::new(0, 0, 80, 24));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("backend");
    let start = Instant::now();
    loop {
        app.loading = LoadState {
            done: loading.done(),
            progress: loading.progress(),
            bytes_read: loading.bytes_read(),
            live: None,
            copy_lost: loading.copy_lost(),
        };
        let capture = loading.capture();
        app.refresh(&capture);
        draw(&mut terminal, &app, &capture);
        if app.loading.done {
            break;
        }
        drop(capture);
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "decoding never finished"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    handle.join().expect("decoder thread");
    let capture = loading.capture();
    assert_eq!(app.panes.frame, Some(1));
    assert_eq!(app.panes.visible.len(), 20_001);
    assert_eq!(capture.connections[0].id, 1);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("large") || screen.contains("bg"),
        "{screen}"
    );
}
