//! The terminal UI on a file keeps finished connections compacted and decodes them again
//! from the file when shown (`wsscope::reread`). Decoded again, a connection must give
//! exactly the records the whole-file decode gives: same frames, messages, packets,
//! analyses, for every bundled capture and wherever the reader resumes.

mod common;

use common::reread::{
    app_over, first_pass, first_pass_with, frames_of, temp_capture, wait_while_busy, whole_decode,
};

use std::fs::File;
use std::io::BufReader;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;

use wsscope::export::jsonl;
use wsscope::model::Connection;
use wsscope::model::window::WindowSize;
use wsscope::reread::FileIndex;
use wsscope::source::CaptureReader;
use wsscope::tui::app::{App, LoadState};
use wsscope::tui::command::Command;
use wsscope::tui::theme::Theme;
use wsscope::{Capture, Pipeline, SessionConfig, decode_reader};

fn jsonl_of(c: &Connection) -> String {
    let mut out = Vec::new();
    jsonl::write_connection(&mut out, c).unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&out).into_owned()
}

/// The compacted record `c` decoded again from `index` equals `w`, the whole decode's.
fn assert_reread_is(index: &FileIndex, c: &Connection, w: &Connection, name: &str) {
    let again = index
        .reread(c)
        .unwrap_or_else(|e| panic!("{name}: connection {}: {e}", c.id));
    let mut full = c.clone();
    full.restore(again.frames, again.messages);
    assert_eq!(jsonl_of(&full), jsonl_of(w), "{name}: connection {}", c.id);
}

/// Every connection decoded again equals the whole decode's; returns how many were.
fn assert_rereads_match(path: &Path, every: u64) -> usize {
    let name = path.display().to_string();
    let whole = whole_decode(path, SessionConfig::default());
    let (compacted, index) = first_pass(path, every);
    assert_eq!(
        compacted.connections.len(),
        whole.connections.len(),
        "{name}"
    );
    let mut reread = 0;
    for (c, w) in compacted.connections.iter().zip(&whole.connections) {
        assert!(
            c.held.dropped().is_some(),
            "{name}: connection {} not compacted",
            c.id
        );
        assert!(c.frames.is_empty() && c.messages.is_empty(), "{name}");
        assert_eq!(
            c.held.before.frames,
            w.frames.len(),
            "{name}: frame count {}",
            c.id
        );
        assert_eq!(c.frame_count(), w.frames.len(), "{name}");
        assert_eq!(c.message_count(), w.messages.len(), "{name}");
        // The compacted record still counts every frame and message.
        let idle = SessionConfig::default().idle_threshold;
        assert_eq!(
            format!("{:?}", c.tally(idle)),
            format!("{:?}", w.tally(idle)),
            "{name}: tally of {}",
            c.id
        );
        assert_reread_is(&index, c, w, &format!("{name} (checkpoint every {every})"));
        reread += 1;
    }
    reread
}

#[test]
fn every_bundled_connection_decodes_again_to_the_same_records() {
    let mut connections = 0;
    let paths = common::bundled_captures();
    assert!(paths.len() >= 20, "only {} captures", paths.len());
    for path in &paths {
        // Every packet a checkpoint (each read resumes right at the flow's first packet),
        // and the default (each read starts at the file's first packet).
        connections += assert_rereads_match(path, 1);
        assert_rereads_match(path, wsscope::reread::CHECKPOINT_EVERY);
    }
    assert!(connections >= 30, "only {connections} connections");
}

fn addr(last: u8, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, last), port)
}

/// `conns` connections of `frames` server text frames each, packets interleaved round-robin.
fn interleaved(conns: u16, frames: usize) -> Vec<u8> {
    let mut flows: Vec<Vec<Vec<u8>>> = Vec::new();
    for i in 0..conns {
        let (mut conv, coff, mut soff) = common::upgraded(addr(1, 40000 + i), addr(2, 80));
        for k in 0..frames {
            let text = format!("conn {i} frame {k} {}", "x".repeat(k % 50));
            let f = common::frame(0x81, text.as_bytes());
            conv.server_data(soff, &f);
            soff += f.len();
        }
        conv.close(coff, soff);
        flows.push(conv.packets);
    }
    let mut packets = Vec::new();
    let longest = flows.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..longest {
        for flow in &flows {
            if let Some(p) = flow.get(k) {
                packets.push(p.clone());
            }
        }
    }
    common::pcap_file(&packets)
}

#[test]
fn reads_resume_at_checkpoints_in_the_middle_of_the_file() {
    let path = temp_capture(&interleaved(40, 120), "middle");
    for every in [1, 7, 64, 1000] {
        let n = assert_rereads_match(&path, every);
        assert_eq!(n, 40, "every {every}");
    }
    let (_, index) = first_pass(&path, 64);
    // 40 × (5 handshake and close packets + 120 frames) = 5,000 packets.
    assert!(
        index.checkpoints().len() >= 70,
        "{:?}",
        index.checkpoints().len()
    );
}

#[test]
fn a_file_changed_after_the_first_pass_is_an_error_not_garbage() {
    let bytes = interleaved(4, 30);
    let path = temp_capture(&bytes, "changed");
    let (capture, index) = first_pass(&path, 16);
    // Cut the file: the last connection's packets are gone.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap_or_else(|e| panic!("{e}"));
    let last = capture
        .connections
        .last()
        .unwrap_or_else(|| panic!("no connections"));
    let err = index
        .reread(last)
        .err()
        .unwrap_or_else(|| panic!("reread of a cut file succeeded"));
    assert!(err.to_string().contains("no longer holds"), "{err}");
    // Gone entirely.
    let _ = std::fs::remove_file(&path);
    let err = index
        .reread(last)
        .err()
        .unwrap_or_else(|| panic!("reread of a missing file succeeded"));
    assert!(err.to_string().contains("cannot read"), "{err}");
}

#[test]
fn the_ui_shows_and_searches_compacted_connections_in_full() {
    let path = temp_capture(&interleaved(6, 50), "ui");
    let (capture, index) = first_pass(&path, 32);
    let mut app = compacted_app(&capture, index);
    for pos in 0..capture.connections.len() {
        app.select_conn(pos, &capture);
        let shown = app
            .connection(&capture)
            .unwrap_or_else(|| panic!("no connection"));
        assert_eq!(shown.frames.len(), 50, "connection {pos}");
        assert_eq!(app.panes.visible.len(), 50, "connection {pos}");
        let text = String::from_utf8_lossy(shown.frames[7].wire_payload()).into_owned();
        assert!(text.starts_with(&format!("conn {pos} frame 7")), "{text}");
    }
    // From the first connection, n finds a frame that only the fifth one holds.
    app.select_conn(0, &capture);
    search(&mut app, &capture, "conn 4 frame 33");
    app.update(Command::NextMatch, &capture);
    let (conn, frame) = app
        .selected_frame(&capture)
        .unwrap_or_else(|| panic!("nothing selected"));
    assert_eq!(conn.client.port(), 40004);
    assert!(String::from_utf8_lossy(frame.wire_payload()).starts_with("conn 4 frame 33"));
}

/// An app over `capture` (compacted) with the first connection shown.
fn compacted_app(capture: &Capture, index: FileIndex) -> App {
    let mut app = app_over(index);
    app.refresh(capture);
    app
}

fn search(app: &mut App, capture: &Capture, needle: &str) {
    app.update(Command::SearchStart, capture);
    for c in needle.chars() {
        app.update(Command::SearchChar(c), capture);
    }
    app.update(Command::SearchConfirm, capture);
}

#[test]
fn enter_counts_what_is_in_memory_and_says_so() {
    let path = temp_capture(&interleaved(6, 50), "count");
    let (capture, index) = first_pass(&path, 32);
    let mut app = compacted_app(&capture, index);
    search(&mut app, &capture, "frame 33");
    // Only the shown connection (the first) is in memory: one match there.
    assert_eq!(app.search.count, Some(1));
    let notice = app.notice.clone().unwrap_or_default();
    assert!(notice.contains("n/N also search the 5 others"), "{notice}");
}

#[test]
fn a_search_out_of_time_goes_on_where_it_stopped() {
    let path = temp_capture(&interleaved(6, 50), "budget");
    let (capture, index) = first_pass(&path, 32);
    let mut app = compacted_app(&capture, index);
    // No time at all: each n decodes one more connection again.
    app.search.budget = std::time::Duration::ZERO;
    search(&mut app, &capture, "conn 4 frame 33");
    let mut presses = 0;
    loop {
        app.update(Command::NextMatch, &capture);
        presses += 1;
        let port = app.connection(&capture).map(|c| c.client.port());
        if port == Some(40004) || presses > 10 {
            break;
        }
        let notice = app.notice.clone().unwrap_or_default();
        assert!(notice.contains("n goes on"), "{notice}");
        // The selection stays where the user was.
        assert_eq!(port, Some(40000));
    }
    // Connections 2, 3 and 4 (positions 1..=4) took one n each.
    assert_eq!(presses, 4);
    let (_, frame) = app
        .selected_frame(&capture)
        .unwrap_or_else(|| panic!("no frame"));
    assert!(String::from_utf8_lossy(frame.wire_payload()).starts_with("conn 4 frame 33"));
}

#[test]
fn a_match_in_a_large_connection_is_selected_at_once() {
    let path = temp_capture(&interleaved(4, 50), "large-match");
    let (capture, index) = first_pass(&path, 32);
    let mut app = compacted_app(&capture, index);
    app.decoding.background_frames = 10;
    search(&mut app, &capture, "conn 2 frame 33");
    app.update(Command::NextMatch, &capture);
    assert!(!app.busy());
    let (conn, frame) = app
        .selected_frame(&capture)
        .unwrap_or_else(|| panic!("no frame"));
    assert_eq!(conn.client.port(), 40002);
    // The server's frame 33 (counting from 0) is the connection's 34th.
    assert_eq!(frame.index, 34);
    assert!(String::from_utf8_lossy(frame.wire_payload()).starts_with("conn 2 frame 33"));
}

#[test]
fn leaving_a_connection_being_decoded_drops_its_decode() {
    let path = temp_capture(&interleaved(3, 50), "leave");
    let whole = decode_reader(
        BufReader::new(File::open(&path).unwrap_or_else(|e| panic!("{e}"))),
        SessionConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (mut capture, index) = first_pass(&path, 32);
    // The third connection is still open (not compacted), as while a file is read.
    capture.connections[2] = whole.connections[2].clone();
    let mut app = compacted_app(&capture, index);
    app.decoding.background_frames = 10;
    app.select_conn(1, &capture);
    assert!(app.busy());
    app.select_conn(2, &capture);
    assert!(!app.busy(), "the decode of connection 2 is still pending");
    assert_eq!(app.panes.visible.len(), 50);
    // Back to the second: decoded again from the start, and shown.
    app.select_conn(1, &capture);
    wait_while_busy(&mut app, &capture);
    assert!(!app.busy());
    assert_eq!(
        app.connection(&capture).map(|c| c.client.port()),
        Some(40001)
    );
    assert_eq!(app.panes.visible.len(), 50);
}

#[test]
fn a_large_connection_is_decoded_again_in_the_background() {
    let path = temp_capture(&interleaved(3, 50), "background");
    let (capture, index) = first_pass(&path, 32);
    let mut app = compacted_app(&capture, index);
    // Every connection counts as large here.
    app.decoding.background_frames = 10;
    app.select_conn(1, &capture);
    assert!(app.busy(), "decoding should have started in the background");
    let shown = app
        .connection(&capture)
        .unwrap_or_else(|| panic!("no connection"));
    assert!(shown.frames.is_empty() && app.panes.visible.is_empty());
    wait_while_busy(&mut app, &capture);
    assert!(!app.busy(), "still decoding after 5 s");
    let shown = app
        .connection(&capture)
        .unwrap_or_else(|| panic!("no connection"));
    assert_eq!(shown.client.port(), 40001);
    assert_eq!(shown.frames.len(), 50);
    assert_eq!(app.panes.visible.len(), 50);
    assert_eq!(
        app.panes.frame,
        Some(1),
        "the first frame is selected once they arrive"
    );
    // Moving on while a decode runs drops it: the next connection's own result shows.
    app.select_conn(2, &capture);
    app.select_conn(0, &capture);
    wait_while_busy(&mut app, &capture);
    let shown = app
        .connection(&capture)
        .unwrap_or_else(|| panic!("no connection"));
    assert_eq!(shown.client.port(), 40000);
    assert_eq!(shown.frames.len(), 50);
}

#[test]
fn a_connection_compacted_while_shown_is_listed_again_from_its_new_source() {
    let path = temp_capture(&interleaved(2, 40), "source");
    let whole = decode_reader(
        BufReader::new(File::open(&path).unwrap_or_else(|e| panic!("{e}"))),
        SessionConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (compacted, index) = first_pass(&path, 32);
    let mut app = App::new(
        "src",
        Theme::new(false),
        ratatui::layout::Rect::new(0, 0, 120, 40),
    );
    app.set_index(Some(std::sync::Arc::new(index)));
    app.decoding.background_frames = 10;
    // While the file is read the connection is open: its own records are listed.
    app.refresh(&whole);
    app.update(Command::Down, &whole);
    assert_eq!(app.panes.visible.len(), 40);
    assert_eq!(app.panes.frame, Some(2));
    // Its flow ends and its record is compacted: nothing stale is listed while it is
    // decoded again, and the selected frame is still selected afterwards.
    app.refresh(&compacted);
    assert!(app.busy());
    assert!(
        app.panes.visible.is_empty(),
        "{} stale rows",
        app.panes.visible.len()
    );
    assert_eq!(app.panes.frame, Some(2));
    wait_while_busy(&mut app, &compacted);
    assert_eq!(app.panes.visible.len(), 40);
    assert_eq!(app.panes.frame, Some(2));
}

#[test]
fn warnings_only_a_full_decode_gives_are_shown() {
    // One 300-byte message with --max-message 100: the first pass keeps previews and does
    // not warn; the connection decoded again for the UI does.
    let (mut conv, coff, soff) = common::upgraded(addr(1, 41000), addr(2, 80));
    let text = "x".repeat(300);
    let mut f = vec![0x81, 126, 0x01, 0x2c];
    f.extend_from_slice(text.as_bytes());
    conv.server_data(soff, &f);
    conv.close(coff, soff + f.len());
    let path = temp_capture(&conv.pcap(), "max-message");
    let mut config = SessionConfig::default();
    config.limits.max_message_kept = 100;
    let (capture, index) = first_pass_with(&path, 32, config);
    let warns = |c: &Connection| {
        c.warnings
            .iter()
            .filter(|w| w.detail.contains("--max-message"))
            .count()
    };
    assert_eq!(
        warns(&capture.connections[0]),
        0,
        "the first pass warns already"
    );
    let app = compacted_app(&capture, index);
    let shown = app
        .connection(&capture)
        .unwrap_or_else(|| panic!("no connection"));
    assert_eq!(shown.messages[0].data.len(), 100);
    assert_eq!(warns(shown), 1, "{:?}", shown.warnings);
}

/// Every window of every connection of `path` holds exactly the whole decode's records
/// for its frames and messages, holds the frame asked for and keeps to `size`; returns
/// how many windows were checked.
fn assert_windows_match(path: &Path, size: WindowSize) -> usize {
    assert_windows_match_with(path, size, SessionConfig::default())
}

/// [`assert_windows_match`] for a file decoded with `config`.
fn assert_windows_match_with(path: &Path, size: WindowSize, config: SessionConfig) -> usize {
    let name = path.display().to_string();
    let whole = whole_decode(path, config.clone());
    let (compacted, index) = first_pass_with(path, 64, config);
    let index = index.with_window(size);
    let idle = SessionConfig::default().idle_threshold;
    let mut windows = 0;
    for (c, w) in compacted.connections.iter().zip(&whole.connections) {
        let total = w.frames.len() as u32;
        if total == 0 {
            continue;
        }
        let mut arounds = vec![1, total / 3, total / 2, total.saturating_sub(1), total];
        arounds.dedup();
        for around in arounds.into_iter().filter(|&a| a >= 1) {
            let at = format!("{name}: connection {} around {around} of {total}", c.id);
            let shown = index
                .reread_window(c, around, None)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(shown.frame_count(), w.frames.len(), "{at}");
            assert_eq!(shown.message_count(), w.messages.len(), "{at}");
            assert_eq!(
                format!("{:?}", shown.tally(idle)),
                format!("{:?}", w.tally(idle)),
                "{at}"
            );
            let (first, last) = shown
                .held_frames()
                .unwrap_or_else(|| panic!("{at}: no frame held"));
            assert!(
                (first..=last).contains(&around),
                "{at}: held {first}–{last}"
            );
            if size.bytes == usize::MAX {
                // A quarter of the window before the frame asked for, then up to full.
                let quarter = (size.frames / 4) as u32;
                // (The frame asked for is always held, so at least one.)
                let behind = quarter.max(1);
                assert_eq!(first, (around + 1).saturating_sub(behind).max(1), "{at}");
                let end = (first as usize + size.frames - 1).min(w.frames.len());
                assert_eq!(last as usize, end, "{at}");
            }
            assert!(
                shown.frames.len() <= size.frames,
                "{at}: {}",
                shown.frames.len()
            );
            assert!(
                shown.frames.len() == w.frames.len() || shown.frames.len() < size.frames + 1,
                "{at}"
            );
            for f in &shown.frames {
                let want = &w.frames[f.index as usize - 1];
                assert_eq!(
                    format!("{f:?}"),
                    format!("{want:?}"),
                    "{at}: frame {}",
                    f.index
                );
            }
            for (i, m) in shown.messages.iter().enumerate() {
                let want = &w.messages[shown.held.before.messages + i];
                assert_eq!(format!("{m:?}"), format!("{want:?}"), "{at}: message {i}");
            }
            // Every message of a frame held is held too.
            for f in &shown.frames {
                assert_eq!(
                    shown.message_of(f).map(|m| m.frames.clone()),
                    w.frames[f.index as usize - 1]
                        .message
                        .map(|m| w.messages[m].frames.clone()),
                    "{at}: message of frame {}",
                    f.index
                );
            }
            windows += 1;
        }
    }
    windows
}

#[test]
fn windows_of_long_connections_hold_the_records_of_the_whole_decode() {
    let mut windows = 0;
    for path in common::bundled_captures() {
        // Small windows, so the bundled connections are long ones.
        windows += assert_windows_match(&path, frames_of(4));
        assert_windows_match(
            &path,
            WindowSize {
                frames: 1000,
                bytes: 600,
            },
        );
    }
    let path = temp_capture(&interleaved(3, 700), "windows");
    windows += assert_windows_match(&path, frames_of(50));
    assert!(windows >= 100, "only {windows} windows");
}

#[test]
fn a_window_stops_reading_once_it_is_full() {
    // A window at the start of a long connection needs only its first packets: with
    // the file cut after them, the window still decodes (reading stopped in time)…
    let bytes = interleaved(1, 2000);
    let path = temp_capture(&bytes, "stop");
    let (capture, index) = first_pass(&path, 64);
    let index = index.with_window(frames_of(20));
    let c = &capture.connections[0];
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap_or_else(|e| panic!("{e}"));
    let shown = index
        .reread_window(c, 1, None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(shown.held_frames(), Some((1, 20)));
    // …while one at its end reads the cut file to its end and finds the change.
    let err = index
        .reread_window(c, 1990, None)
        .err()
        .unwrap_or_else(|| panic!("a window past the cut decoded"));
    assert!(err.to_string().contains("no longer holds"), "{err}");
}

#[test]
fn a_long_open_connection_holds_its_latest_frames_while_the_file_is_read() {
    let path = temp_capture(&interleaved(2, 300), "hold");
    let file = File::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut reader = CaptureReader::new(BufReader::new(file)).unwrap_or_else(|e| panic!("{e}"));
    let mut pipeline =
        Pipeline::new(wsscope::pipeline::keep::Purpose::Browse.config(&SessionConfig::default()));
    pipeline.set_compacting();
    pipeline.set_open_hold(10);
    let mut most = 0;
    let mut dropped = false;
    while let Ok(Some(p)) = reader.next_packet() {
        pipeline.packet(&p);
        for c in &pipeline.capture.connections {
            most = most.max(c.frames.len());
            dropped |= c.held.before.frames > 0 && c.held.dropped().is_none();
            if let Some((first, last)) = c.held_frames() {
                assert_eq!(first as usize, c.held.before.frames + 1);
                assert_eq!(last as usize, c.frame_count());
            }
        }
    }
    assert!(dropped, "no connection dropped its oldest frames");
    assert!(most <= 20, "a connection held {most} frames");
    let capture = pipeline.finish();
    for c in &capture.connections {
        assert_eq!(c.frame_count(), 300);
        assert!(c.held.dropped().is_some() && c.frames.is_empty());
        assert_eq!(c.tally(f64::INFINITY).frames.iter().sum::<u64>(), 300);
    }
}

#[test]
fn the_ui_shows_a_long_connection_a_window_at_a_time() {
    let path = temp_capture(&interleaved(2, 300), "ui-window");
    let (capture, index) = first_pass(&path, 32);
    let index = index.with_window(frames_of(40));
    let mut app = compacted_app(&capture, index);
    let held = |app: &App| {
        app.connection(&capture)
            .and_then(Connection::held_frames)
            .unwrap_or_else(|| panic!("nothing held"))
    };
    assert_eq!(held(&app), (1, 40));
    assert_eq!(app.panes.visible.len(), 40);
    assert_eq!(app.panes.frame, Some(1));
    // Past the end of the window: the next one is decoded and the step goes on.
    app.focus(wsscope::tui::app::Pane::Frames);
    for _ in 0..39 {
        app.update(Command::Down, &capture);
    }
    assert_eq!(app.panes.frame, Some(40));
    app.update(Command::Down, &capture);
    assert_eq!(app.panes.frame, Some(41));
    let (first, last) = held(&app);
    assert!(
        first <= 41 && last >= 41 && last - first < 40,
        "{first}–{last}"
    );
    // The last frame, then back past the start of its window.
    app.update(Command::Last, &capture);
    assert_eq!(app.panes.frame, Some(300));
    assert_eq!(held(&app).1, 300);
    let (first, _) = held(&app);
    for _ in 0..(300 - first + 1) {
        app.update(Command::Up, &capture);
    }
    assert_eq!(app.panes.frame, Some(first - 1));
    let text = app
        .selected_frame(&capture)
        .map(|(_, f)| String::from_utf8_lossy(f.wire_payload()).into_owned())
        .unwrap_or_default();
    assert!(
        text.starts_with(&format!("conn 0 frame {}", first - 2)),
        "{text}"
    );
    app.update(Command::First, &capture);
    assert_eq!(app.panes.frame, Some(1));
    assert_eq!(held(&app).0, 1);
    // `]` steps on past the window's end too, whatever pane has focus.
    app.focus(wsscope::tui::app::Pane::Detail);
    for _ in 0..40 {
        app.update(Command::NextFrame, &capture);
    }
    assert_eq!(app.panes.frame, Some(41));
    assert!(held(&app).1 > 41);
    app.update(Command::First, &capture);
    app.focus(wsscope::tui::app::Pane::Frames);
    app.update(Command::First, &capture);
    assert_eq!(app.panes.frame, Some(1));
    // In the background when large: the window shown stays until the next one is ready.
    app.decoding.background_frames = 10;
    app.update(Command::Last, &capture);
    // (Unless the decode already ended inside the key's own refresh.)
    if app.busy() {
        assert_eq!(held(&app).0, 1, "the old window stays shown meanwhile");
    }
    wait_while_busy(&mut app, &capture);
    assert_eq!(app.panes.frame, Some(300));
    assert_eq!(held(&app).1, 300);
    // G while the first window of another connection is still being decoded: that
    // decode gives way to the one at its end.
    app.select_conn(1, &capture);
    app.update(Command::Last, &capture);
    wait_while_busy(&mut app, &capture);
    assert_eq!(app.panes.frame, Some(300));
    let shown = app
        .connection(&capture)
        .unwrap_or_else(|| panic!("no connection"));
    assert_eq!(shown.client.port(), 40001);
    assert_eq!(shown.held_frames().map(|h| h.1), Some(300));
}

#[test]
fn search_finds_frames_outside_the_window_of_a_long_connection() {
    search_outside_the_window(false);
}

#[test]
fn search_scans_long_connections_in_the_background() {
    search_outside_the_window(true);
}

/// Searches two long connections shown 40 frames at a time; with `background`, every
/// connection is decoded again and scanned on a background thread.
fn search_outside_the_window(background: bool) {
    let path = temp_capture(&interleaved(2, 300), "search-window");
    let (capture, index) = first_pass(&path, 32);
    let index = index.with_window(frames_of(40));
    let mut app = compacted_app(&capture, index);
    if background {
        app.decoding.background_frames = 10;
        wait_while_busy(&mut app, &capture);
    }
    let selected = |app: &App| {
        app.selected_frame(&capture)
            .map(|(c, f)| {
                (
                    c.client.port(),
                    f.index,
                    String::from_utf8_lossy(f.wire_payload()).into_owned(),
                )
            })
            .unwrap_or_else(|| panic!("nothing selected"))
    };
    // Forward, far past the window of frames 1–40.
    search(&mut app, &capture, "frame 273 ");
    app.update(Command::NextMatch, &capture);
    assert_eq!(app.busy(), background);
    wait_while_busy(&mut app, &capture);
    let (port, index, text) = selected(&app);
    assert_eq!((port, index), (40000, 274), "{text}");
    assert!(text.starts_with("conn 0 frame 273 "), "{text}");
    // Backward, before the window now shown.
    search(&mut app, &capture, "frame 27 ");
    app.update(Command::PrevMatch, &capture);
    wait_while_busy(&mut app, &capture);
    assert_eq!(selected(&app).1, 28);
    // In the next long connection.
    search(&mut app, &capture, "conn 1 frame 290 ");
    app.update(Command::NextMatch, &capture);
    wait_while_busy(&mut app, &capture);
    let (port, index, _) = selected(&app);
    assert_eq!((port, index), (40001, 291));
    // Backward from the end of the first connection: the last match before its window
    // of frames 261–300, not the first one.
    app.select_conn(0, &capture);
    app.focus(wsscope::tui::app::Pane::Frames);
    app.update(Command::Last, &capture);
    wait_while_busy(&mut app, &capture);
    assert_eq!(selected(&app).1, 300);
    search(&mut app, &capture, "frame 1");
    app.update(Command::PrevMatch, &capture);
    wait_while_busy(&mut app, &capture);
    let (port, index, text) = selected(&app);
    assert_eq!((port, index), (40000, 200), "{text}");
    // A filter hides every server frame: nothing matches.
    app.update(
        Command::Filter(wsscope::tui::filter::FilterChoice::Client),
        &capture,
    );
    search(&mut app, &capture, "conn 0 frame 5 ");
    app.update(Command::NextMatch, &capture);
    wait_while_busy(&mut app, &capture);
    assert!(
        app.notice
            .as_deref()
            .is_some_and(|n| n.contains("no match")),
        "{:?}",
        app.notice
    );
}

#[test]
fn windows_keep_the_hashes_of_messages_cut_by_the_keep_limit() {
    // Messages longer than --max-message are kept cut; their hash still covers them.
    let config = SessionConfig {
        limits: wsscope::ws::limits::Limits {
            max_message_kept: 20,
            ..Default::default()
        },
        ..SessionConfig::default()
    };
    let mut windows = 0;
    for path in common::bundled_captures() {
        windows += assert_windows_match_with(&path, frames_of(3), config.clone());
    }
    assert!(windows >= 50, "only {windows} windows");
}

/// One connection of `n` server text frames ("s{k} ") and, where `client(k)`, a masked
/// client frame ("c{k} ") instead, each in its own packet; frame k has index k + 1.
fn sparse(n: usize, client: impl Fn(usize) -> bool) -> Vec<u8> {
    let (mut conv, mut c, mut s) = common::upgraded(addr(1, 40100), addr(2, 80));
    for k in 0..n {
        if client(k) {
            let f = common::masked_frame(0x81, format!("c{k} ").as_bytes());
            conv.client_data(c, &f);
            c += f.len();
        } else {
            let f = common::frame(0x81, format!("s{k} ").as_bytes());
            conv.server_data(s, &f);
            s += f.len();
        }
    }
    conv.close(c, s);
    conv.pcap()
}

/// The UI on `bytes` (compacted) with windows of `frames` frames, frame list focused.
fn windowed_app(bytes: &[u8], tag: &str, size: WindowSize) -> (tempfile::TempPath, Capture, App) {
    let path = temp_capture(bytes, tag);
    let (capture, index) = first_pass(&path, 16);
    let mut app = compacted_app(&capture, index.with_window(size));
    wait_while_busy(&mut app, &capture);
    app.focus(wsscope::tui::app::Pane::Frames);
    (path, capture, app)
}

#[test]
fn filtered_moves_past_a_window_go_to_the_nearest_frame_that_passes() {
    filtered_moves(false);
}

#[test]
fn filtered_moves_past_a_window_scan_in_the_background() {
    filtered_moves(true);
}

/// Moves with a filter past the windows of a long connection; with `background`, its
/// windows are decoded and its frames scanned on a background thread.
fn filtered_moves(background: bool) {
    // Client frames at 6, 36, 61 and 251 only; windows of 40 frames.
    let bytes = sparse(300, |k| [5, 35, 60, 250].contains(&k));
    let (_path, capture, mut app) = windowed_app(&bytes, "filtered", frames_of(40));
    if background {
        app.decoding.background_frames = 10;
    }
    app.update(
        Command::Filter(wsscope::tui::filter::FilterChoice::Client),
        &capture,
    );
    let mut seen = vec![app.panes.frame];
    for k in 0..4 {
        app.update(Command::Down, &capture);
        if background && k > 0 {
            assert!(app.busy(), "no scan in the background after move {k}");
        }
        wait_while_busy(&mut app, &capture);
        seen.push(app.panes.frame);
    }
    assert_eq!(seen, [Some(6), Some(36), Some(61), Some(251), Some(251)]);
    assert!(
        app.notice
            .as_deref()
            .is_some_and(|n| n.contains("no frame after")),
        "{:?}",
        app.notice
    );
    let mut seen = Vec::new();
    for _ in 0..3 {
        app.update(Command::Up, &capture);
        wait_while_busy(&mut app, &capture);
        seen.push(app.panes.frame);
    }
    assert_eq!(seen, [Some(61), Some(36), Some(6)]);
    app.update(Command::Last, &capture);
    wait_while_busy(&mut app, &capture);
    assert_eq!(app.panes.frame, Some(251));
    app.update(Command::First, &capture);
    wait_while_busy(&mut app, &capture);
    assert_eq!(app.panes.frame, Some(6));
}

#[test]
fn a_scan_in_the_background_shows_how_far_it_got_and_stops_on_esc() {
    let path = temp_capture(&interleaved(2, 300), "scan-stop");
    let (capture, index) = first_pass(&path, 32);
    let mut app = compacted_app(&capture, index.with_window(frames_of(40)));
    app.decoding.background_frames = 10;
    wait_while_busy(&mut app, &capture);
    app.focus(wsscope::tui::app::Pane::Frames);
    let status = |app: &App| {
        let area = ratatui::layout::Rect::new(0, 0, 120, 1);
        let mut buf = ratatui::buffer::Buffer::empty(area);
        wsscope::tui::views::status::render(app, &capture, area, &mut buf);
        (0..area.width)
            .map(|x| buf[(x, 0)].symbol().to_string())
            .collect::<String>()
    };
    // Esc stops the scan: the selection stays, even once the thread has ended.
    search(&mut app, &capture, "conn 1 frame 290 ");
    app.update(Command::NextMatch, &capture);
    assert!(app.busy());
    let line = status(&app);
    assert!(
        line.contains("searching #1 for \"conn 1 frame 290 \"") && line.contains("Esc stops"),
        "{line}"
    );
    // n again while it runs changes nothing.
    app.update(Command::NextMatch, &capture);
    assert!(app.busy());
    app.update(Command::Back, &capture);
    assert!(!app.busy());
    assert_eq!(app.notice.as_deref(), Some("search stopped"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    app.refresh(&capture);
    assert_eq!(app.panes.frame, Some(1));
    assert_eq!(app.conn_pos(&capture), Some(0));
    // Any other key gives the scan up too, and does what it does.
    app.update(Command::NextMatch, &capture);
    assert!(app.busy());
    app.update(Command::Down, &capture);
    assert!(!app.busy());
    std::thread::sleep(std::time::Duration::from_millis(300));
    app.refresh(&capture);
    assert_eq!(
        (app.conn_pos(&capture), app.panes.frame),
        (Some(0), Some(2))
    );
    // Left alone, it goes through connection #1 into #2 and shows the match there.
    app.update(Command::NextMatch, &capture);
    wait_while_busy(&mut app, &capture);
    let (conn, frame) = app
        .selected_frame(&capture)
        .unwrap_or_else(|| panic!("nothing selected"));
    assert_eq!((conn.client.port(), frame.index), (40001, 291));
}

#[test]
fn moving_back_into_the_window_drops_the_decode_of_another() {
    let bytes = sparse(3000, |k| k % 7 == 0);
    let path = temp_capture(&bytes, "back");
    let (capture, index) = first_pass(&path, 64);
    let mut app = compacted_app(&capture, index.with_window(frames_of(40)));
    app.decoding.background_frames = 10;
    wait_while_busy(&mut app, &capture);
    app.focus(wsscope::tui::app::Pane::Frames);
    assert_eq!(app.panes.frame, Some(1));
    app.update(Command::Last, &capture);
    app.update(Command::Down, &capture);
    wait_while_busy(&mut app, &capture);
    assert!(!app.busy(), "still decoding after 5 s");
    let frame = app
        .panes
        .frame
        .unwrap_or_else(|| panic!("nothing selected"));
    assert!(
        app.selected_frame(&capture).is_some(),
        "frame {frame} selected but not shown"
    );
}

#[test]
fn a_violation_outside_the_window_is_reached_from_the_violations_view() {
    // Server frames masked (a violation, RFC 6455 §5.1) at indices 6 and 251.
    let (mut conv, c, mut s) = common::upgraded(addr(1, 40100), addr(2, 80));
    for k in 0..300 {
        let text = format!("s{k} ");
        let f = if k == 5 || k == 250 {
            common::masked_frame(0x81, text.as_bytes())
        } else {
            common::frame(0x81, text.as_bytes())
        };
        conv.server_data(s, &f);
        s += f.len();
    }
    conv.close(c, s);
    let (_path, capture, mut app) = windowed_app(&conv.pcap(), "violation", frames_of(40));
    app.update(
        Command::Filter(wsscope::tui::filter::FilterChoice::Server),
        &capture,
    );
    app.update(Command::Violations, &capture);
    app.update(Command::Down, &capture);
    app.update(Command::Open, &capture);
    wait_while_busy(&mut app, &capture);
    assert_eq!(app.panes.frame, Some(251));
    assert!(app.selected_frame(&capture).is_some());
}

#[test]
fn the_messages_view_starts_on_the_selected_frames_message_in_a_window() {
    let bytes = sparse(300, |k| k % 7 == 0);
    let (_path, capture, mut app) = windowed_app(&bytes, "messages", frames_of(40));
    app.update(Command::Last, &capture);
    for _ in 0..5 {
        app.update(Command::Up, &capture);
    }
    let (conn, frame) = app
        .selected_frame(&capture)
        .map(|(c, f)| (c.clone(), f.clone()))
        .unwrap_or_else(|| panic!("nothing selected"));
    assert_eq!(frame.index, 295);
    app.update(Command::Messages, &capture);
    let m = conn
        .messages
        .get(app.overlays.cursor)
        .unwrap_or_else(|| panic!("cursor {} past the messages held", app.overlays.cursor));
    assert_eq!(m.frames.as_slice(), [295]);
}

#[test]
fn a_connection_of_few_large_frames_is_windowed_by_its_bytes() {
    let (mut conv, c, mut s) = common::upgraded(addr(1, 40100), addr(2, 80));
    for k in 0..50 {
        let text = format!("s{k} {}", "y".repeat(2000));
        let mut f = vec![0x81, 126];
        f.extend_from_slice(&(text.len() as u16).to_be_bytes());
        f.extend_from_slice(text.as_bytes());
        conv.server_data(s, &f);
        s += f.len();
    }
    conv.close(c, s);
    let size = WindowSize {
        frames: 100,
        bytes: 10_000,
    };
    let (_path, capture, mut app) = windowed_app(&conv.pcap(), "bytes", size);
    let shown = app
        .connection(&capture)
        .unwrap_or_else(|| panic!("no connection"));
    let bytes: usize = shown.frames.iter().map(|f| f.raw.len()).sum::<usize>()
        + shown.messages.iter().map(|m| m.data.len()).sum::<usize>();
    assert!(shown.held.is_window());
    // Up to the limit, plus the frame (and its message) that crossed it.
    assert!(bytes <= 10_000 + 2 * 2_010, "{bytes} bytes held");
    assert!(shown.frames.len() < 50);
    app.update(Command::Last, &capture);
    assert_eq!(app.panes.frame, Some(50));
}

/// Hands out at most 1,000 bytes a read, as a pipe may.
struct Pipe(std::io::Cursor<Vec<u8>>);

impl std::io::Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(1000);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn a_pipe_is_copied_and_its_connections_decoded_again_from_the_copy() {
    let mut connections = 0;
    for path in common::bundled_captures() {
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (loading, decoder, copy) = wsscope::loader::spawn_spooled(
            Pipe(std::io::Cursor::new(bytes.clone())),
            SessionConfig::default(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        decoder
            .join()
            .unwrap_or_else(|_| panic!("{name}: decoder panicked"));
        let copy = copy.unwrap_or_else(|| panic!("{name}: no copy"));
        // The copy is the stream, byte for byte.
        assert!(
            std::fs::read(&copy).is_ok_and(|c| c == bytes),
            "{name}: copy differs"
        );
        let index = loading
            .index
            .clone()
            .unwrap_or_else(|| panic!("{name}: no index"));
        let whole = whole_decode(&path, SessionConfig::default());
        let capture = loading.capture();
        assert_eq!(capture.connections.len(), whole.connections.len(), "{name}");
        for (c, w) in capture.connections.iter().zip(&whole.connections) {
            assert!(
                c.held.dropped().is_some() && c.frames.is_empty(),
                "{name}: connection {} kept in memory",
                c.id
            );
            assert_reread_is(&index, c, w, &name);
            connections += 1;
        }
        drop(capture);
        // Dropping the path deletes the copy.
        let kept = copy.to_path_buf();
        drop(copy);
        assert!(!kept.exists(), "{name}: copy left behind");
    }
    assert!(connections >= 30, "only {connections} connections");
}

/// Writes to `file` until `room` bytes are taken, then fails as a full disk does.
struct FullDisk {
    file: File,
    room: usize,
}

impl std::io::Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.room {
            return Err(std::io::Error::other("no space left on device"));
        }
        self.room -= buf.len();
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

#[test]
fn connections_past_a_failed_copy_of_a_pipe_keep_their_records() {
    // Six connections one after another; the copy stops in the middle of the stream.
    let flows: Vec<Vec<Vec<u8>>> = (0..6)
        .map(|i| {
            let (mut conv, coff, mut soff) = common::upgraded(addr(1, 40000 + i), addr(2, 80));
            for k in 0..40 {
                let f = common::frame(0x81, format!("conn {i} frame {k}").as_bytes());
                conv.server_data(soff, &f);
                soff += f.len();
            }
            conv.close(coff, soff);
            conv.packets
        })
        .collect();
    let bytes = common::pcap_file(&flows.concat());
    let path = temp_capture(&[], "full-disk");
    let file = File::create(&path).unwrap_or_else(|e| panic!("{e}"));
    let room = bytes.len() / 2;
    let (loading, decoder) = wsscope::loader::spawn_spooled_into(
        Pipe(std::io::Cursor::new(bytes.clone())),
        FullDisk { file, room },
        &path,
        SessionConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    decoder
        .join()
        .unwrap_or_else(|_| panic!("decoder panicked"));
    let copied = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(copied.len() <= room && bytes.starts_with(&copied));
    let index = loading.index.clone().unwrap_or_else(|| panic!("no index"));
    let capture = loading.capture();
    assert!(
        capture
            .notes
            .iter()
            .any(|n| n.contains(&format!("stopped at byte {}", copied.len()))
                && n.contains("no space left")),
        "{:?}",
        capture.notes
    );
    assert_eq!(capture.connections.len(), 6);
    let (mut compacted, mut kept) = (0, 0);
    for c in &capture.connections {
        assert_eq!(c.frame_count(), 40, "connection {}", c.id);
        if c.held.dropped().is_some() {
            // Ended within the copy: decoded again from it, whole.
            let again = index
                .reread(c)
                .unwrap_or_else(|e| panic!("connection {}: {e}", c.id));
            assert_eq!(again.frames.len(), 40);
            compacted += 1;
        } else {
            // Ended past it: its frames stayed in memory.
            assert_eq!(c.frames.len(), 40, "connection {}", c.id);
            kept += 1;
        }
    }
    assert!(
        compacted >= 2 && kept >= 2,
        "{compacted} compacted, {kept} kept"
    );
}

/// Hands out `bytes`, then waits (as an idle pipe does) until `release` is dropped.
struct IdlePipe {
    bytes: std::io::Cursor<Vec<u8>>,
    release: std::sync::mpsc::Receiver<()>,
}

impl std::io::Read for IdlePipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.bytes.read(buf)?;
        if n == 0 {
            // Blocks until the test lets go: then the stream ends.
            let _ = self.release.recv();
        }
        Ok(n)
    }
}

#[test]
fn an_idle_pipe_does_not_keep_the_viewer_waiting() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/ping-pong.pcap");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let (release, held) = std::sync::mpsc::channel();
    let (loading, decoder, _copy) = wsscope::loader::spawn_spooled(
        IdlePipe {
            bytes: std::io::Cursor::new(bytes),
            release: held,
        },
        SessionConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // The packets that came are decoded and can be looked at while the pipe is idle.
    let viewer = loading.clone();
    let (seen, frames) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..200 {
            let n = viewer.capture().frame_count();
            if n > 0 {
                let _ = seen.send(n);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    });
    let n = frames
        .recv_timeout(std::time::Duration::from_secs(5))
        .unwrap_or_else(|_| panic!("the viewer waited for an idle pipe"));
    assert_eq!(n, 16);
    assert!(!loading.done());
    drop(release);
    decoder
        .join()
        .unwrap_or_else(|_| panic!("decoder panicked"));
    assert!(loading.done());
}

#[test]
fn the_selection_stays_on_a_frame_a_connection_being_read_dropped() {
    let path = temp_capture(&interleaved(2, 300), "stay");
    let index = FileIndex::new(&path, SessionConfig::default()).with_checkpoint_every(16);
    let file = File::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut reader = CaptureReader::new(BufReader::new(file)).unwrap_or_else(|e| panic!("{e}"));
    let mut pipeline =
        Pipeline::new(wsscope::pipeline::keep::Purpose::Browse.config(&SessionConfig::default()));
    pipeline.set_compacting();
    pipeline.set_open_hold(10);
    let mut app = App::new(
        "s",
        Theme::new(false),
        ratatui::layout::Rect::new(0, 0, 120, 40),
    );
    app.focus(wsscope::tui::app::Pane::Frames);
    let detail = |app: &App, capture: &Capture| {
        app.detail_document(capture, 200)
            .lines
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    // Read half the file, the UI refreshing as it goes: the first connection drops its
    // oldest frames, the selection stays on frame 1 and the detail pane says why.
    let mut packets = 0;
    while let Ok(Some(p)) = reader.next_packet() {
        pipeline.packet(&p);
        let number = p.number;
        index.note(&reader, number);
        packets += 1;
        if packets % 50 == 0 {
            app.refresh(&pipeline.capture);
        }
        if packets == 400 {
            break;
        }
    }
    let reading = pipeline.capture.clone();
    let first_held = reading.connections[0]
        .held_frames()
        .map_or(0, |(first, _)| first);
    assert!(first_held > 1, "nothing dropped yet");
    assert_eq!(app.panes.frame, Some(1));
    assert!(app.selected_frame(&reading).is_none());
    let text = detail(&app, &reading);
    assert!(text.contains("Frame 1 is no longer in memory"), "{text}");
    // j goes on to the first frame held (found in review: it skipped it).
    app.update(Command::Down, &reading);
    assert_eq!(app.panes.frame, Some(first_held));
    // G still goes to the latest frame held.
    app.update(Command::Last, &reading);
    let last = reading.connections[0].frame_count() as u32;
    assert_eq!(app.panes.frame, Some(last));
    app.update(Command::First, &reading);
    assert_eq!(
        app.panes.frame,
        Some(first_held),
        "g goes to the first frame held"
    );
    // Back on frame 1 as when the connection was selected; once read, it is shown.
    app.panes.frame = Some(1);
    while let Ok(Some(p)) = reader.next_packet() {
        pipeline.packet(&p);
        let number = p.number;
        index.note(&reader, number);
    }
    let capture = pipeline.finish();
    app.set_index(Some(std::sync::Arc::new(index)));
    app.loading = LoadState::finished();
    app.refresh(&capture);
    wait_while_busy(&mut app, &capture);
    let (_, f) = app
        .selected_frame(&capture)
        .unwrap_or_else(|| panic!("frame 1 not shown once read"));
    assert_eq!(f.index, 1);
    assert!(String::from_utf8_lossy(f.wire_payload()).starts_with("conn 0 frame 0 "));
}

#[test]
fn a_decode_again_tells_how_far_it_got_and_stops_when_told() {
    let path = temp_capture(&interleaved(2, 5000), "watch");
    let (capture, index) = first_pass(&path, 64);
    let c = &capture.connections[0];
    let last = c.held.dropped().unwrap_or(0);
    assert!(last > 8192, "only {last} packets");
    let watch = wsscope::reread::Watch::default();
    assert_eq!(watch.percent(c), 0);
    index
        .reread_until(c, Some(&watch))
        .unwrap_or_else(|e| panic!("{e}"));
    // Told every 4,096 packets: the last time within 4,096 packets of the end.
    let reached = watch.reached.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        reached > last - 4096 && reached <= last,
        "{reached} of {last}"
    );
    let percent = watch.percent(c);
    assert!((50..=100).contains(&percent), "{percent} %");
    // Stopped: the decode gives up at the next 4,096th packet.
    let stopped = wsscope::reread::Watch::default();
    stopped
        .cancel
        .store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(matches!(
        index.reread_window(c, 4900, Some(&stopped)),
        Err(wsscope::reread::RereadError::Cancelled)
    ));
    assert_eq!(
        stopped.reached.load(std::sync::atomic::Ordering::Relaxed),
        4096
    );
}

#[test]
fn a_long_connection_open_when_the_copy_stops_says_which_frames_it_lost() {
    // Found in review: such a connection has let go of its oldest frames, to be decoded
    // again from the copy, which then stopped.
    let bytes = common::long_connection(12_000);
    let path = temp_capture(&[], "full-disk-long");
    let file = File::create(&path).unwrap_or_else(|e| panic!("{e}"));
    let (loading, decoder) = wsscope::loader::spawn_spooled_into(
        Pipe(std::io::Cursor::new(bytes.clone())),
        FullDisk {
            file,
            room: bytes.len() * 9 / 10,
        },
        &path,
        SessionConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    decoder
        .join()
        .unwrap_or_else(|_| panic!("decoder panicked"));
    assert!(loading.copy_lost());
    let capture = loading.capture().clone();
    let c = &capture.connections[0];
    assert!(c.held.dropped().is_none());
    let lost = c.held.before.frames;
    assert!(lost > 0, "nothing let go");
    assert!(
        c.warnings
            .iter()
            .any(|w| w.detail.contains(&format!("frames 1–{lost} were let go"))),
        "{:?}",
        c.warnings
    );
    // The UI does not wait for them: the selection is on the first frame held, and
    // nothing says they will be shown.
    for (done, copy_lost) in [(true, true), (false, true)] {
        let mut app = App::new(
            "s",
            Theme::new(false),
            ratatui::layout::Rect::new(0, 0, 120, 40),
        );
        app.set_index(loading.index.clone());
        app.loading = LoadState {
            done,
            copy_lost,
            ..LoadState::finished()
        };
        app.refresh(&capture);
        assert_eq!(app.panes.frame, Some(lost as u32 + 1), "done {done}");
        let text = app
            .detail_document(&capture, 200)
            .lines
            .iter()
            .map(ToString::to_string)
            .collect::<String>();
        assert!(!text.contains("no longer in memory"), "{text}");
    }
}
