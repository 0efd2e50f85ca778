//! The TUI's state machine without a terminal: keys become commands, commands change
//! the state, on real captures. Also: a capture that grows while it is shown never moves
//! the user's selection.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use wsscope::Capture;
use wsscope::model::Dir;
use wsscope::pipeline::Pipeline;
use wsscope::source::CaptureReader;
use wsscope::tui::app::{App, LoadState, Pane, TimeFormat, View};
use wsscope::tui::command::{Command, Mode, key_to_command};
use wsscope::tui::fields::Field;
use wsscope::tui::theme::Theme;

fn path(name: &str) -> String {
    format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn load(name: &str) -> Capture {
    let file = std::fs::File::open(path(name)).expect("capture file");
    wsscope::decode_reader(file, Default::default()).expect("decodes")
}

fn app(capture: &Capture) -> App {
    let mut app = App::new("test", Theme::new(false), Rect::new(0, 0, 80, 24));
    app.loading = LoadState::finished();
    app.refresh(capture);
    app
}

fn key(app: &mut App, capture: &Capture, code: KeyCode) {
    key_mod(app, capture, code, KeyModifiers::NONE);
}

fn key_mod(app: &mut App, capture: &Capture, code: KeyCode, m: KeyModifiers) {
    if let Some(cmd) = key_to_command(KeyEvent::new(code, m), &app.mode) {
        app.update(cmd, capture);
    }
}

fn keys(app: &mut App, capture: &Capture, text: &str) {
    for c in text.chars() {
        key(app, capture, KeyCode::Char(c));
    }
}

#[test]
fn starts_on_the_first_frame_of_the_first_connection() {
    let cap = load("demo.pcapng");
    let a = app(&cap);
    assert_eq!(a.panes.conn, Some(cap.connections[0].flow_order));
    assert_eq!(a.panes.frame, Some(1));
    assert_eq!(a.panes.pane, Pane::Frames);
    assert_eq!(a.panes.visible.len(), 13);
}

#[test]
fn j_k_g_and_page_keys_move_through_frames() {
    let cap = load("demo.pcapng");
    let mut a = app(&cap);
    keys(&mut a, &cap, "jjj");
    assert_eq!(a.panes.frame, Some(4));
    keys(&mut a, &cap, "k");
    assert_eq!(a.panes.frame, Some(3));
    keys(&mut a, &cap, "G");
    assert_eq!(a.panes.frame, Some(13));
    keys(&mut a, &cap, "j");
    assert_eq!(a.panes.frame, Some(13), "stays on the last frame");
    keys(&mut a, &cap, "g");
    assert_eq!(a.panes.frame, Some(1));
    key(&mut a, &cap, KeyCode::PageDown);
    assert_eq!(
        a.panes.frame,
        Some(7),
        "a page is the 6 rows the frame list shows at 80x24"
    );
    assert!(
        a.panes.scroll.frames > 0,
        "the list scrolled to keep the selection visible"
    );
    key(&mut a, &cap, KeyCode::PageUp);
    assert_eq!(a.panes.frame, Some(1));
    assert_eq!(a.panes.scroll.frames, 0);
}

#[test]
fn tab_cycles_panes_and_enter_esc_open_and_go_back() {
    let cap = load("demo.pcapng");
    let mut a = app(&cap);
    key(&mut a, &cap, KeyCode::Tab);
    assert_eq!(a.panes.pane, Pane::Detail);
    assert!(!a.panes.show_hex);
    key(&mut a, &cap, KeyCode::Tab);
    assert_eq!(a.panes.pane, Pane::Hex);
    assert!(
        a.panes.show_hex,
        "at 80x24 the lower area switches to the hex dump"
    );
    key(&mut a, &cap, KeyCode::Tab);
    assert_eq!(a.panes.pane, Pane::Connections);
    key(&mut a, &cap, KeyCode::BackTab);
    assert_eq!(a.panes.pane, Pane::Hex);
    key(&mut a, &cap, KeyCode::Esc);
    assert_eq!(a.panes.pane, Pane::Detail);
    key(&mut a, &cap, KeyCode::Esc);
    assert_eq!(a.panes.pane, Pane::Frames);
    key(&mut a, &cap, KeyCode::Esc);
    assert_eq!(a.panes.pane, Pane::Connections);
    key(&mut a, &cap, KeyCode::Enter);
    assert_eq!(a.panes.pane, Pane::Frames);
    key(&mut a, &cap, KeyCode::Enter);
    assert_eq!(a.panes.pane, Pane::Detail);
}

#[test]
fn detail_pane_steps_through_the_fields_present() {
    let cap = load("demo.pcapng");
    let mut a = app(&cap);
    key(&mut a, &cap, KeyCode::Tab);
    assert_eq!(a.panes.field, Field::Fin);
    keys(&mut a, &cap, "jjjjjj");
    assert_eq!(a.panes.field, Field::PayloadLen);
    keys(&mut a, &cap, "j");
    // Frame 1 has no extended length: the next field is the masking key.
    assert_eq!(a.panes.field, Field::MaskingKey);
    // Stepping frames keeps the field; frame 2 (server) has no key, so Right/Left
    // still move from where the field would be.
    keys(&mut a, &cap, "]");
    assert_eq!(a.panes.frame, Some(2));
    assert_eq!(a.panes.field, Field::MaskingKey);
    key(&mut a, &cap, KeyCode::Right);
    assert_eq!(a.panes.field, Field::Payload);
    key(&mut a, &cap, KeyCode::Left);
    key(&mut a, &cap, KeyCode::Left);
    assert_eq!(a.panes.field, Field::Mask);
}

#[test]
fn next_frame_keys_work_from_any_pane() {
    let cap = load("demo.pcapng");
    let mut a = app(&cap);
    key(&mut a, &cap, KeyCode::Tab);
    key(&mut a, &cap, KeyCode::Tab);
    assert_eq!(a.panes.pane, Pane::Hex);
    keys(&mut a, &cap, "]]");
    assert_eq!(a.panes.frame, Some(3));
    key_mod(&mut a, &cap, KeyCode::Char('p'), KeyModifiers::CONTROL);
    assert_eq!(a.panes.frame, Some(2));
    key_mod(&mut a, &cap, KeyCode::Down, KeyModifiers::CONTROL);
    assert_eq!(a.panes.frame, Some(3));
    assert_eq!(a.panes.pane, Pane::Hex);
}

#[test]
fn views_open_and_close() {
    let cap = load("demo.pcapng");
    let mut a = app(&cap);
    keys(&mut a, &cap, "h");
    assert_eq!(a.view(), Some(View::Handshake));
    keys(&mut a, &cap, "jj");
    assert_eq!(a.overlays.page, 2);
    keys(&mut a, &cap, "?");
    assert_eq!(a.view(), Some(View::Help));
    key(&mut a, &cap, KeyCode::Esc);
    assert_eq!(a.view(), Some(View::Handshake));
    keys(&mut a, &cap, "h");
    assert_eq!(a.view(), None, "the same key closes its view");
    keys(&mut a, &cap, "m");
    assert_eq!(a.view(), Some(View::Messages));
    key(&mut a, &cap, KeyCode::Esc);
    assert_eq!(a.view(), None);
    keys(&mut a, &cap, "q");
    assert!(a.quit);
}

#[test]
fn messages_view_enter_goes_to_the_first_frame_of_the_message() {
    let cap = load("demo.pcapng");
    let mut a = app(&cap);
    keys(&mut a, &cap, "m");
    // Message 8 is the server's text in three compressed frames (8, 9, 10).
    keys(&mut a, &cap, "jjjjjjj");
    assert_eq!(a.overlays.cursor, 7);
    key(&mut a, &cap, KeyCode::Enter);
    assert_eq!(a.view(), None);
    assert_eq!(a.panes.frame, Some(8));
    assert_eq!(a.panes.pane, Pane::Detail);
    // Reopening starts on the selected frame's message.
    keys(&mut a, &cap, "]m");
    assert_eq!(a.overlays.cursor, 7, "frame 9 belongs to message 8");
}

#[test]
fn violations_view_jumps_to_the_offending_frame() {
    let cap = load("violations-framing.pcap");
    let mut a = app(&cap);
    keys(&mut a, &cap, "v");
    assert_eq!(a.view(), Some(View::Violations));
    assert_eq!(a.overlays.cursor, 0);
    keys(&mut a, &cap, "jjjj");
    key(&mut a, &cap, KeyCode::Enter);
    assert_eq!(a.view(), None);
    assert_eq!(
        a.panes.frame,
        Some(7),
        "the fifth violation is the non-minimal length of frame 7"
    );
    assert_eq!(a.panes.pane, Pane::Detail);
    // Opening the view on a frame with a violation selects it.
    keys(&mut a, &cap, "[[v");
    assert_eq!(a.panes.frame, Some(5));
    assert_eq!(a.overlays.cursor, 2);
}

#[test]
fn filter_menu_narrows_the_frame_list() {
    let cap = load("demo.pcapng");
    let mut a = app(&cap);
    keys(&mut a, &cap, "f");
    assert_eq!(a.mode, Mode::FilterMenu);
    keys(&mut a, &cap, "s");
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.filter.dir, Some(Dir::Server));
    assert_eq!(a.panes.visible, vec![2, 4, 6, 8, 9, 10, 13]);
    assert_eq!(
        a.panes.frame,
        Some(2),
        "frame 1 is hidden: the next shown frame is selected"
    );
    keys(&mut a, &cap, "fo");
    assert_eq!(
        a.panes.visible,
        vec![6, 13],
        "server control frames: the pong and the close"
    );
    keys(&mut a, &cap, "fx");
    assert_eq!(a.panes.visible.len(), 13);
    // Violations only, on a capture without violations: nothing.
    keys(&mut a, &cap, "fv");
    assert!(a.panes.visible.is_empty());
    assert_eq!(a.panes.frame, None);
    key(&mut a, &cap, KeyCode::Char('f'));
    key(&mut a, &cap, KeyCode::Esc);
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn search_is_incremental_confirmed_with_enter_and_cancelled_with_esc() {
    let cap = load("demo.pcapng");
    let mut a = app(&cap);
    keys(&mut a, &cap, "/");
    assert_eq!(a.mode, Mode::Search);
    keys(&mut a, &cap, "grace");
    assert_eq!(
        a.panes.frame,
        Some(2),
        "the first frame mentioning grace, found while typing"
    );
    key(&mut a, &cap, KeyCode::Enter);
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.search.query.as_deref(), Some("grace"));
    assert_eq!(a.search.count, Some(4));
    keys(&mut a, &cap, "n");
    assert_eq!(a.panes.frame, Some(3));
    keys(&mut a, &cap, "nn");
    assert_eq!(
        a.panes.frame,
        Some(8),
        "inside the decompressed three-frame message"
    );
    keys(&mut a, &cap, "n");
    assert_eq!(a.panes.frame, Some(2), "wraps around");
    assert!(a.notice.as_deref().is_some_and(|n| n.contains("wrapped")));
    keys(&mut a, &cap, "N");
    assert_eq!(a.panes.frame, Some(8));
    // Esc goes back where the search started and keeps the previous query.
    keys(&mut a, &cap, "/are-you");
    assert_eq!(a.panes.frame, Some(5));
    key(&mut a, &cap, KeyCode::Esc);
    assert_eq!(a.panes.frame, Some(8));
    assert_eq!(a.search.query.as_deref(), Some("grace"));
    // The matching-search filter shows only the matches.
    keys(&mut a, &cap, "ft");
    assert_eq!(a.panes.visible, vec![2, 3, 4, 8]);
}

#[test]
fn search_matches_opcode_names_and_handshake_headers() {
    let cap = load("demo.pcapng");
    let mut a = app(&cap);
    keys(&mut a, &cap, "/pong");
    key(&mut a, &cap, KeyCode::Enter);
    assert_eq!(a.panes.frame, Some(6));
    keys(&mut a, &cap, "/chat.v1");
    key(&mut a, &cap, KeyCode::Enter);
    assert_eq!(
        a.search.count,
        Some(1),
        "Sec-WebSocket-Protocol in the handshake"
    );
    assert!(a.notice.as_deref().is_some_and(|n| n.contains("handshake")));
    keys(&mut a, &cap, "/nothing-like-this");
    key(&mut a, &cap, KeyCode::Enter);
    assert_eq!(a.search.count, Some(0));
    assert!(a.notice.as_deref().is_some_and(|n| n.contains("no match")));
}

#[test]
fn mouse_clicks_select_rows_and_fields() {
    let cap = load("demo.pcapng");
    let mut a = app(&cap);
    // At 80x24: connections rows 0-2, frames 3-11 (border, header, rows 5-10).
    a.update(Command::Click { x: 20, y: 8 }, &cap);
    assert_eq!(a.panes.frame, Some(4));
    assert_eq!(a.panes.pane, Pane::Frames);
    a.update(
        Command::Scroll {
            x: 20,
            y: 8,
            down: true,
        },
        &cap,
    );
    assert_eq!(a.panes.frame, Some(5));
    // The detail pane's text starts at row 13; click the line that lists RSV1.
    let doc = a.detail_document(&cap, 78);
    let row = doc.row_of(Field::Rsv1).expect("listed") as u16;
    assert!(row < 9, "visible without scrolling");
    a.update(Command::Click { x: 5, y: 13 + row }, &cap);
    assert_eq!(a.panes.pane, Pane::Detail);
    assert_eq!(a.panes.field, Field::Rsv1);
    a.update(
        Command::Click {
            x: 5,
            y: 13 + row - 1,
        },
        &cap,
    );
    assert_eq!(a.panes.field, Field::Fin);
    a.update(Command::Click { x: 5, y: 1 }, &cap);
    assert_eq!(a.panes.pane, Pane::Connections);
}

#[test]
fn time_and_unmask_toggles_and_resize() {
    let cap = load("demo.pcapng");
    let mut a = app(&cap);
    keys(&mut a, &cap, "tu");
    assert_eq!(a.panes.time, TimeFormat::Absolute);
    assert!(a.panes.unmask_hex);
    a.update(
        Command::Resize {
            width: 160,
            height: 48,
        },
        &cap,
    );
    assert_eq!(a.area, Rect::new(0, 0, 160, 48));
    key(&mut a, &cap, KeyCode::PageDown);
    assert_eq!(
        a.panes.frame,
        Some(13),
        "a page at 160x48 covers the whole list"
    );
}

#[test]
fn refused_and_midstream_connections_have_no_surprises() {
    let cap = load("refused-426.pcap");
    let mut a = app(&cap);
    assert_eq!(a.panes.frame, None);
    keys(&mut a, &cap, "jkgG]\t\tjjm\n\x1bv\nh");
    assert_eq!(a.view(), Some(View::Handshake));
    let cap = load("midstream.pcap");
    let mut a = app(&cap);
    keys(&mut a, &cap, "hjjj");
    assert_eq!(a.view(), Some(View::Handshake));
}

/// Feeds a capture to the pipeline one packet at a time, refreshing the UI state after
/// each, as the UI does while a file is read.
#[test]
fn selection_does_not_move_while_the_capture_grows() {
    let file = std::fs::File::open(path("multi-conn.pcap")).expect("capture");
    let mut reader = CaptureReader::new(file).expect("pcap");
    let mut pipeline = Pipeline::new(Default::default());
    let mut a = App::new("growing", Theme::new(false), Rect::new(0, 0, 80, 24));
    let mut chosen = None;
    let mut n = 0;
    while let Some(packet) = reader.next_packet().expect("packet") {
        pipeline.packet(&packet);
        n += 1;
        a.refresh(&pipeline.capture);
        match chosen {
            None if pipeline.capture.connections.len() >= 3 => {
                // The user picks the second connection and its second frame.
                a.update(Command::Back, &pipeline.capture);
                a.update(Command::Back, &pipeline.capture);
                assert_eq!(a.panes.pane, Pane::Connections);
                a.update(Command::Down, &pipeline.capture);
                a.update(Command::Open, &pipeline.capture);
                if a.panes.visible.len() >= 2 {
                    a.update(Command::Down, &pipeline.capture);
                    chosen = Some((a.panes.conn, a.panes.frame));
                } else {
                    a.update(Command::Back, &pipeline.capture);
                    a.update(Command::First, &pipeline.capture);
                    a.focus(Pane::Frames);
                }
            }
            Some(sel) => assert_eq!((a.panes.conn, a.panes.frame), sel, "after packet {n}"),
            None => {}
        }
    }
    pipeline.finish_in_place();
    a.loading = LoadState::finished();
    a.refresh(&pipeline.capture);
    let (conn, frame) = chosen.expect("a selection was made while reading");
    assert_eq!((a.panes.conn, a.panes.frame), (conn, frame));
    let c = a.connection(&pipeline.capture).expect("still selected");
    assert_eq!(c.id, 2, "numbered once reading finished, by first packet");
    assert_eq!(frame, Some(2));
}
