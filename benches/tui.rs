//! One TUI step (key → state update → full redraw) on a connection with 10 MiB frames:
//! `cargo bench --bench tui`. The target is under 16 ms a step (one frame at 60 Hz);
//! it holds because only what is on screen is built, whatever the frame's size.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::net::SocketAddrV4;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use wsscope::tui::app::{App, LoadState, Pane};
use wsscope::tui::command::Command;
use wsscope::tui::theme::Theme;
use wsscope::tui::views::AppView;

const BIG: usize = 10 << 20;

/// Handshake, a small text frame, a 10 MiB binary server frame, a 10 MiB masked text
/// client frame, a small text frame.
fn capture() -> Vec<u8> {
    let client = SocketAddrV4::new([127, 0, 0, 1].into(), 50_000);
    let server = SocketAddrV4::new([127, 0, 0, 1].into(), 8080);
    let (mut conv, mut coff, mut soff) = common::upgraded(client, server);
    let mut server_frames = vec![0x81, 5];
    server_frames.extend_from_slice(b"hello");
    server_frames.extend_from_slice(&[0x82, 127]);
    server_frames.extend_from_slice(&(BIG as u64).to_be_bytes());
    server_frames.extend((0..BIG).map(|i| (i % 251) as u8));
    for chunk in server_frames.chunks(60_000) {
        conv.server_data(soff, chunk);
        soff += chunk.len();
    }
    let mask = [7u8, 1, 9, 4];
    let text: Vec<u8> = (0..BIG)
        .map(|i| b"{\"k\": 12345, \"v\": \"abc\"}\n"[i % 25])
        .collect();
    let mut client_frame = vec![0x81, 0x80 | 127];
    client_frame.extend_from_slice(&(BIG as u64).to_be_bytes());
    client_frame.extend_from_slice(&mask);
    client_frame.extend(text.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    client_frame.extend_from_slice(&[0x81, 0x82, 0, 0, 0, 0, b'o', b'k']);
    for chunk in client_frame.chunks(60_000) {
        conv.client_data(coff, chunk);
        coff += chunk.len();
    }
    conv.close(coff, soff);
    conv.pcap()
}

fn draw(terminal: &mut Terminal<TestBackend>, app: &App, capture: &wsscope::Capture) {
    let _ = terminal.draw(|f| f.render_widget(&AppView::new(app, capture), f.area()));
}

fn steps(c: &mut Criterion) {
    let bytes = capture();
    let Ok(capture) = wsscope::decode_reader(&bytes[..], Default::default()) else {
        panic!("the benchmark capture does not decode");
    };
    let mut g = c.benchmark_group("tui step");
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut app = App::new("bench", Theme::new(false), Rect::new(0, 0, w, h));
        app.loading = LoadState::finished();
        app.refresh(&capture);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| panic!("{e}"));
        app.update(Command::NextFrame, &capture); // frame 2: the 10 MiB binary one
        assert_eq!(app.panes.frame, Some(2));
        let frames = &capture.connections[0].frames;
        assert_eq!(frames[1].header.payload_len, BIG as u64);
        assert_eq!(frames[2].header.payload_len, BIG as u64);
        g.bench_function(format!("onto a 10 MiB binary frame, {w}x{h}"), |b| {
            b.iter(|| {
                app.update(Command::PrevFrame, &capture);
                app.update(Command::NextFrame, &capture);
                draw(&mut terminal, &app, &capture);
                black_box(app.panes.frame)
            })
        });
        app.update(Command::NextFrame, &capture); // frame 3: the 10 MiB masked text one
        g.bench_function(format!("onto a 10 MiB masked text frame, {w}x{h}"), |b| {
            b.iter(|| {
                app.update(Command::PrevFrame, &capture);
                app.update(Command::NextFrame, &capture);
                draw(&mut terminal, &app, &capture);
                black_box(app.panes.frame)
            })
        });
        app.focus(Pane::Hex);
        g.bench_function(format!("page through its hex dump, {w}x{h}"), |b| {
            let mut n = 0u32;
            b.iter(|| {
                n += 1;
                let cmd = if n.is_multiple_of(2000) {
                    Command::First
                } else {
                    Command::PageDown
                };
                app.update(cmd, &capture);
                draw(&mut terminal, &app, &capture);
                black_box(app.panes.scroll.hex)
            })
        });
        app.focus(Pane::Frames);
        g.bench_function(format!("open the messages view, {w}x{h}"), |b| {
            b.iter(|| {
                app.update(Command::Messages, &capture);
                draw(&mut terminal, &app, &capture);
                app.update(Command::Back, &capture);
                black_box(app.panes.frame)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
