//! Differential tests of search (n/N) and filtered moves through long
//! connections scanned at once, scanned in the background, and a brute-force search over
//! the whole decode. `SCAN_TEST_SEEDS=N` runs N seeds of each randomised test (1 by
//! default, a few seconds each); `SCAN_TEST_DEBUG=1` prints every trial.

mod common;

use common::reread::{
    app_over, first_pass, frames_of, temp_capture, wait_while_busy, whole_decode,
};

use std::borrow::Cow;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;

use wsscope::model::{Connection, Dir};
use wsscope::tui::app::{App, Pane};
use wsscope::tui::command::Command;
use wsscope::tui::filter::{Filter, OpcodeClass};
use wsscope::tui::search::{self, Outcome, Pos, SearchSource, Walk};
use wsscope::{Capture, SessionConfig};

static SCANS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn status_line(app: &App, capture: &Capture) -> String {
    let area = ratatui::layout::Rect::new(0, 0, 160, 1);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    wsscope::tui::views::status::render(app, capture, area, &mut buf);
    (0..area.width)
        .map(|x| buf[(x, 0)].symbol().to_string())
        .collect()
}

static BUSY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub struct Rng(u64);
impl Rng {
    pub fn step(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.step() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn addr(last: u8, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, last), port)
}

const WORDS: [&str; 4] = ["alpha", "beta", "gamma", "websocket"];

/// A capture of `sizes.len()` connections, connection `i` with `sizes[i]` frames of
/// random kinds (server text, masked client text, pings, pongs, binary, a few
/// unmasked client frames: violations), each payload starting with `#c{i}f{k}#`.
pub fn generated(rng: &mut Rng, sizes: &[usize]) -> Vec<u8> {
    let mut flows: Vec<Vec<Vec<u8>>> = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let (mut conv, mut coff, mut soff) =
            common::upgraded(addr(1, 40000 + i as u16), addr(2, 80));
        for k in 0..n {
            let mut text = format!("#c{i}f{k}#");
            for _ in 0..rng.below(3) {
                let w = rng.below(100);
                // alpha common, beta medium, gamma rare, websocket very rare
                let word = if w < 40 {
                    WORDS[0]
                } else if w < 60 {
                    WORDS[1]
                } else if w < 64 {
                    WORDS[2]
                } else if w < 66 {
                    WORDS[3]
                } else {
                    "x"
                };
                text.push(' ');
                text.push_str(word);
            }
            // (first byte, sent by the client, masked); an unmasked client frame is a
            // violation.
            let (b0, client, masked) = match rng.below(100) {
                0..40 => (0x81, false, false),
                40..70 => (0x81, true, true),
                70..80 => (0x89, true, true),
                80..88 => (0x8A, false, false),
                88..96 => (0x82, false, false),
                _ => (0x81, true, false),
            };
            let f = if masked {
                common::masked_frame(b0, text.as_bytes())
            } else {
                common::frame(b0, text.as_bytes())
            };
            if client {
                conv.client_data(coff, &f);
                coff += f.len();
            } else {
                conv.server_data(soff, &f);
                soff += f.len();
            }
        }
        conv.close(coff, soff);
        flows.push(conv.packets);
    }
    let mut packets = Vec::new();
    let mut at = vec![0usize; flows.len()];
    loop {
        let live: Vec<usize> = (0..flows.len())
            .filter(|&i| at[i] < flows[i].len())
            .collect();
        if live.is_empty() {
            break;
        }
        let i = live[rng.below(live.len())];
        packets.push(flows[i][at[i]].clone());
        at[i] += 1;
    }
    common::pcap_file(&packets)
}

pub fn app_on(capture: &Capture, path: &Path, window: usize, background: usize) -> App {
    let (_, index) = first_pass(path, 16);
    let mut app = app_over(index.with_window(frames_of(window)));
    app.decoding.background_frames = background;
    app.search.budget = std::time::Duration::from_secs(600);
    app.refresh(capture);
    wait_while_busy(&mut app, capture);
    app.focus(Pane::Frames);
    app
}

/// Everything in memory: the brute-force reference.
struct Whole;
impl<'c> SearchSource<'c> for Whole {
    fn resolve(&mut self, record: &'c Connection) -> Option<Cow<'c, Connection>> {
        Some(Cow::Borrowed(record))
    }
    fn shown_in_windows(&self, _: &Connection) -> bool {
        false
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    NoMatch,
    Handshake(usize),
    Frame(usize, u32, bool),
    Other(String),
}

fn reference(whole: &Capture, filter: &Filter, needle: &str, start: Pos, forward: bool) -> Found {
    let mut order: Vec<usize> = (0..whole.connections.len()).collect();
    order.sort_by_key(|&i| whole.connections[i].flow_order);
    match search::find(
        whole,
        &order,
        filter,
        needle,
        Walk::from(start, forward, false),
        &mut Whole,
    ) {
        Outcome::NoMatch => Found::NoMatch,
        Outcome::Match(Pos { conn, frame: None }, _) => Found::Handshake(conn),
        Outcome::Match(
            Pos {
                conn,
                frame: Some(f),
            },
            wrapped,
        ) => Found::Frame(conn, f, wrapped),
        other => Found::Other(format!("{other:?}")),
    }
}

/// What the app shows after n/N.
fn to_show(app: &App, capture: &Capture) -> Found {
    let notice = app.notice.clone().unwrap_or_default();
    let conn = app.conn_pos(capture).unwrap_or(usize::MAX);
    if notice.starts_with("no match for") {
        return Found::NoMatch;
    }
    if notice.contains("match in the handshake") {
        return Found::Handshake(conn);
    }
    if !notice.is_empty() && !notice.contains("wrapped") {
        return Found::Other(notice);
    }
    match app.panes.frame {
        Some(f) => Found::Frame(conn, f, notice.contains("wrapped")),
        None => Found::Other(format!("no frame selected, notice {notice:?}")),
    }
}

/// Puts `app` on connection `conn`, frame `frame` (no filter), by searching its unique
/// token. Returns whether it got there.
fn position(app: &mut App, capture: &Capture, conn: usize, frame: Option<u32>) -> bool {
    let g = app
        .panes
        .order
        .get(conn)
        .and_then(|&i| capture.connections.get(i))
        .map_or(0, |c| c.client.port() - 40000);
    app.filter = Filter::default();
    app.update(Command::Back, capture);
    app.focus(Pane::Frames);
    app.select_conn(conn, capture);
    wait_while_busy(app, capture);
    if let Some(f) = frame {
        app.search.query = Some(format!("#c{g}f{}#", f - 1));
        app.update(Command::NextMatch, capture);
        wait_while_busy(app, capture);
    }
    app.refresh(capture);
    app.conn_pos(capture) == Some(conn) && (frame.is_none() || app.panes.frame == frame)
}

fn filters() -> Vec<Filter> {
    let mut v = vec![Filter::default()];
    v.push(Filter {
        dir: Some(Dir::Client),
        ..Filter::default()
    });
    v.push(Filter {
        dir: Some(Dir::Server),
        ..Filter::default()
    });
    v.push(Filter {
        class: Some(OpcodeClass::Data),
        ..Filter::default()
    });
    v.push(Filter {
        class: Some(OpcodeClass::Control),
        ..Filter::default()
    });
    v.push(Filter {
        violations_only: true,
        ..Filter::default()
    });
    v.push(Filter {
        matching: true,
        ..Filter::default()
    });
    v.push(Filter {
        dir: Some(Dir::Client),
        class: Some(OpcodeClass::Control),
        ..Filter::default()
    });
    v
}

fn needles(rng: &mut Rng, sizes: &[usize]) -> String {
    match rng.below(9) {
        0 => "alpha".into(),
        1 => "beta".into(),
        2 => "gamma".into(),
        3 => "delta".into(),
        4 => "big".into(),
        5 => "websocket".into(),
        6 => "ping".into(),
        _ => {
            let i = rng.below(sizes.len());
            if sizes[i] == 0 {
                return "gamma".into();
            }
            format!("#c{i}f{}#", rng.below(sizes[i]))
        }
    }
}

/// One trial: returns the result in `app` from the given start, or why it was skipped.
fn trial(
    app: &mut App,
    capture: &Capture,
    start: (usize, Option<u32>),
    filter: &Filter,
    needle: &str,
    forward: bool,
) -> Result<(Pos, Found), String> {
    if !position(app, capture, start.0, start.1) {
        return Err(format!(
            "could not position at {start:?}: at {:?} {:?} notice {:?}",
            app.conn_pos(capture),
            app.panes.frame,
            app.notice
        ));
    }
    app.filter = filter.clone();
    app.search.query = Some(needle.to_string());
    app.refresh(capture);
    wait_while_busy(app, capture);
    let from = Pos {
        conn: app.conn_pos(capture).unwrap_or(0),
        frame: app.panes.frame,
    };
    if std::env::var("SCAN_TEST_DEBUG").is_ok() {
        eprintln!(
            "DEBUG bg {} start {from:?} held {:?} visible {:?}",
            app.decoding.background_frames,
            app.connection(capture).and_then(|c| c.held_frames()),
            app.panes.visible
        );
    }
    app.notice = None;
    app.update(
        if forward {
            Command::NextMatch
        } else {
            Command::PrevMatch
        },
        capture,
    );
    if app.busy() {
        BUSY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    if !wait_while_busy(app, capture) {
        return Ok((from, Found::Other("still busy after 5 s".into())));
    }
    Ok((from, to_show(app, capture)))
}

fn differential(seed: u64, captures: usize, trials: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    for cap in 0..captures {
        let conns = 2 + rng.below(4);
        let sizes: Vec<usize> = (0..conns)
            .map(|_| match rng.below(10) {
                0 => 0,
                1..4 => 1 + rng.below(15),
                _ => 25 + rng.below(70),
            })
            .collect();
        let bytes = generated(&mut rng, &sizes);
        let path = temp_capture(&bytes, "diff");
        let whole = whole_decode(&path, SessionConfig::default());
        let (capture, _) = first_pass(&path, 16);
        assert_eq!(whole.connections.len(), sizes.len());
        let mut at_once = app_on(&capture, &path, 20, usize::MAX);
        // Frame counts by list position.
        let by_pos: Vec<usize> = at_once
            .panes
            .order
            .iter()
            .map(|&i| sizes[usize::from(capture.connections[i].client.port() - 40000)])
            .collect();
        let mut background = app_on(&capture, &path, 20, 10);
        for t in 0..trials {
            let conn = rng.below(sizes.len());
            let frame =
                (by_pos[conn] > 0 && rng.chance(80)).then(|| 1 + rng.below(by_pos[conn]) as u32);
            let fs = filters();
            let filter = fs[rng.below(fs.len())].clone();
            let needle = needles(&mut rng, &sizes);
            let forward = rng.chance(50);
            let what = format!(
                "seed {seed} capture {cap} sizes {sizes:?} trial {t}: start {conn}/{frame:?} filter {filter:?} needle {needle:?} forward {forward}"
            );
            let a = trial(
                &mut at_once,
                &capture,
                (conn, frame),
                &filter,
                &needle,
                forward,
            );
            let b = trial(
                &mut background,
                &capture,
                (conn, frame),
                &filter,
                &needle,
                forward,
            );
            let (a, b) = match (a, b) {
                (Ok(a), Ok(b)) => (a, b),
                (a, b) => {
                    failures.push(format!("{what}: positioning: {a:?} / {b:?}"));
                    continue;
                }
            };
            let ra = reference(&whole, &filter, &needle, a.0, forward);
            let rb = reference(&whole, &filter, &needle, b.0, forward);
            eprintln!(
                "STAT {}",
                match &rb {
                    Found::NoMatch => "none",
                    Found::Handshake(_) => "handshake",
                    Found::Frame(_, _, true) => "wrapped",
                    Found::Frame(..) => "frame",
                    Found::Other(_) => "other",
                }
            );
            if a.1 != ra || b.1 != rb {
                failures.push(format!(
                    "{what}: at once from {:?}: {:?} (reference {ra:?}); background from {:?}: {:?} (reference {rb:?})",
                    a.0, a.1, b.0, b.1
                ));
            }
        }
    }
    failures
}

/// How many seeds each randomised test runs (`SCAN_TEST_SEEDS`, 1 by default).
fn seeds() -> u64 {
    std::env::var("SCAN_TEST_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

#[test]
fn search_agrees_with_scanning_at_once_and_the_whole_decode() {
    let seeds = seeds();
    let mut failures = Vec::new();
    for seed in 1..=seeds {
        if let Ok(only) = std::env::var("SCAN_TEST_ONLY")
            && only.parse::<u64>().ok() != Some(seed)
        {
            continue;
        }
        failures.extend(differential(0x9e37_79b9_7f4a_7c15 ^ seed, 2, 40));
    }
    eprintln!(
        "busy after n/N: {}",
        BUSY.load(std::sync::atomic::Ordering::Relaxed)
    );
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}

/// The frames of `conn` (whole decode) passing `filter` (with the search `needle`).
fn passing(conn: &Connection, filter: &Filter, needle: Option<&str>) -> Vec<u32> {
    let test = wsscope::tui::filter::FrameTest::new(filter, conn, needle);
    conn.frames
        .iter()
        .filter(|f| test.accepts(conn, f))
        .map(|f| f.index)
        .collect()
}

fn move_differential(seed: u64, trials: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    let sizes: Vec<usize> = vec![40 + rng.below(60), 5, 30 + rng.below(60)];
    let bytes = generated(&mut rng, &sizes);
    let path = temp_capture(&bytes, "moves");
    let whole = whole_decode(&path, SessionConfig::default());
    let (capture, _) = first_pass(&path, 16);
    let mut at_once = app_on(&capture, &path, 20, usize::MAX);
    let mut background = app_on(&capture, &path, 20, 10);
    let mut order: Vec<usize> = (0..whole.connections.len()).collect();
    order.sort_by_key(|&i| whole.connections[i].flow_order);
    for t in 0..trials {
        let pos = [0, 2][rng.below(2)];
        let pos = order
            .iter()
            .position(|&i| whole.connections[i].client.port() == 40000 + pos as u16)
            .unwrap_or(0);
        let conn = &whole.connections[order[pos]];
        let k = 1 + rng.below(conn.frames.len()) as u32;
        let fs = filters();
        let filter = fs[rng.below(fs.len())].clone();
        let needle = ["alpha", "beta", "gamma", "ping"][rng.below(4)];
        let cmds: Vec<Command> = (0..6)
            .map(|_| {
                [
                    Command::Down,
                    Command::Up,
                    Command::Down,
                    Command::Up,
                    Command::First,
                    Command::Last,
                    Command::PageDown,
                    Command::PageUp,
                ][rng.below(8)]
            })
            .collect();
        let pass = passing(conn, &Filter { ..filter.clone() }, Some(needle));
        let what = format!(
            "seed {seed} sizes {sizes:?} trial {t}: conn {pos} start {k} filter {filter:?} needle {needle:?} moves {cmds:?}"
        );
        let mut seen = Vec::new();
        for app in [&mut at_once, &mut background] {
            if !position(app, &capture, pos, Some(k)) {
                failures.push(format!("{what}: could not position"));
                continue;
            }
            app.search.query = Some(needle.into());
            app.filter = filter.clone();
            app.refresh(&capture);
            wait_while_busy(app, &capture);
            let mut frames = vec![app.panes.frame];
            let mut problems = Vec::new();
            for &cmd in &cmds {
                let before = app.panes.frame;
                app.update(cmd, &capture);
                if !wait_while_busy(app, &capture) {
                    problems.push(format!("busy for good after {cmd:?}"));
                }
                frames.push(app.panes.frame);
                // Reference for the moves that go to the nearest passing frame.
                let want = match (cmd, before) {
                    (Command::First, _) => pass.first().copied().or(before),
                    (Command::Last, _) => pass.last().copied().or(before),
                    (Command::Down, Some(b)) if pass.contains(&b) => {
                        pass.iter().find(|&&f| f > b).copied().or(before)
                    }
                    (Command::Up, Some(b)) if pass.contains(&b) => {
                        pass.iter().rev().find(|&&f| f < b).copied().or(before)
                    }
                    _ => app.panes.frame,
                };
                if app.panes.frame != want {
                    problems.push(format!(
                        "{cmd:?} from {before:?}: at {:?}, nearest passing {want:?} (notice {:?})",
                        app.panes.frame, app.notice
                    ));
                }
                if let Some(f) = app.panes.frame
                    && !pass.is_empty()
                    && !pass.contains(&f)
                    && app.panes.visible.contains(&f)
                {
                    problems.push(format!("{cmd:?}: frame {f} shown but does not pass"));
                }
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{what}: background_frames {}: {problems:?}; frames {frames:?}; passing {pass:?}",
                    app.decoding.background_frames
                ));
            }
            seen.push(frames);
        }
        if seen.len() == 2 && seen[0] != seen[1] {
            failures.push(format!(
                "{what}: at once {:?} / background {:?}; passing {pass:?}",
                seen[0], seen[1]
            ));
        }
    }
    failures
}

#[test]
fn filtered_moves_agree_with_scanning_at_once_and_the_whole_decode() {
    let seeds = seeds();
    let mut failures = Vec::new();
    for seed in 1..=seeds {
        failures.extend(move_differential(0x51ed_2701_44a3_9c2d ^ seed, 25));
    }
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}

/// Random keys without waiting for background work (as a user typing fast), with
/// ticks in between; then checks the app settles, its selection is in the window shown,
/// and a last n/N (waited for) finds what the brute-force search finds.
fn race_fuzz(seed: u64, rounds: usize, scale: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    let sizes: Vec<usize> = vec![
        (60 + rng.below(60)) * scale,
        3,
        (40 + rng.below(60)) * scale,
        8,
    ];
    let bytes = generated(&mut rng, &sizes);
    let path = temp_capture(&bytes, "race");
    let whole = whole_decode(&path, SessionConfig::default());
    let (capture, _) = first_pass(&path, 16);
    let mut app = app_on(&capture, &path, 20, 10);
    let keys = [
        Command::Down,
        Command::Up,
        Command::PageDown,
        Command::PageUp,
        Command::First,
        Command::Last,
        Command::NextMatch,
        Command::PrevMatch,
        Command::NextMatch,
        Command::PrevMatch,
        Command::Back,
        Command::NextFrame,
        Command::PrevFrame,
    ];
    for round in 0..rounds {
        let fs = filters();
        let filter = fs[rng.below(fs.len())].clone();
        let needle = [
            "alpha", "gamma", "big", "delta", "ping", "#c2f33#", "#c0f5#",
        ][rng.below(7)];
        app.filter = filter.clone();
        app.search.query = Some(needle.into());
        let mut log = Vec::new();
        for _ in 0..12 {
            let key = if rng.chance(15) {
                // switch connection
                app.focus(Pane::Connections);
                let k = [Command::Down, Command::Up][rng.below(2)];
                log.push(format!("conn {k:?}"));
                app.update(k, &capture);
                app.focus(Pane::Frames);
                continue;
            } else {
                keys[rng.below(keys.len())]
            };
            log.push(format!("{key:?}"));
            app.update(key, &capture);
            if status_line(&app, &capture).contains("Esc stops") {
                SCANS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            for _ in 0..rng.below(4) {
                std::thread::sleep(std::time::Duration::from_millis(rng.below(15) as u64));
                app.refresh(&capture);
            }
        }
        let what =
            format!("seed {seed} round {round} filter {filter:?} needle {needle:?} keys {log:?}");
        if !wait_while_busy(&mut app, &capture) {
            failures.push(format!("{what}: busy for good"));
            break;
        }
        app.refresh(&capture);
        let shown = app.connection(&capture);
        let held = shown.and_then(|c| c.held_frames());
        if let (Some(f), Some((lo, hi))) = (app.panes.frame, held)
            && !app.panes.visible.is_empty()
            && (f < lo || f > hi || !app.panes.visible.contains(&f))
        {
            failures.push(format!(
                "{what}: frame {f} not shown: window {lo}..={hi}, visible {:?}",
                app.panes.visible
            ));
        }
        // A last n/N, waited for.
        let forward = rng.chance(50);
        let from = Pos {
            conn: app.conn_pos(&capture).unwrap_or(0),
            frame: app.panes.frame,
        };
        app.notice = None;
        app.update(
            if forward {
                Command::NextMatch
            } else {
                Command::PrevMatch
            },
            &capture,
        );
        if !wait_while_busy(&mut app, &capture) {
            failures.push(format!("{what}: busy for good after the last n"));
            break;
        }
        let got = shown_found(&app, &capture);
        let want = reference(&whole, &filter, needle, from, forward);
        if got != want {
            failures.push(format!(
                "{what}: last {} from {from:?}: got {got:?}, reference {want:?}",
                if forward { "n" } else { "N" }
            ));
        }
    }
    failures
}

fn shown_found(app: &App, capture: &Capture) -> Found {
    to_show(app, capture)
}

#[test]
fn random_keys_never_leave_the_ui_busy_or_off_its_window() {
    let scale: usize = std::env::var("SCAN_TEST_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let seeds = seeds();
    let mut failures = Vec::new();
    for seed in 1..=seeds {
        failures.extend(race_fuzz(0x2545_f491_4f6c_dd1d ^ seed, 30, scale));
    }
    eprintln!(
        "keys leaving a scan running: {}",
        SCANS.load(std::sync::atomic::Ordering::Relaxed)
    );
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}

/// One connection from `port` of `frames` server text frames "{tag} f{k} ", and
/// `special` (frame index, text) in place of some.
fn conversation(port: u16, frames: usize, tag: &str, special: &[(usize, &str)]) -> Vec<Vec<u8>> {
    let (mut conv, coff, mut soff) = common::upgraded(addr(1, port), addr(2, 80));
    for k in 1..=frames {
        let text = special
            .iter()
            .find(|(i, _)| *i == k)
            .map_or_else(|| format!("{tag} f{k} "), |(_, t)| t.to_string());
        let f = common::frame(0x81, text.as_bytes());
        conv.server_data(soff, &f);
        soff += f.len();
    }
    conv.close(coff, soff);
    conv.packets
}

/// Packets of each flow one after another, but the first packet (SYN) of every flow
/// first, so flow orders follow the argument order.
fn file_of(flows: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let mut packets: Vec<Vec<u8>> = flows.iter().map(|f| f[0].clone()).collect();
    for f in flows {
        packets.extend(f[1..].iter().cloned());
    }
    common::pcap_file(&packets)
}

/// While the file is still read, a connection whose flow began earlier can be listed
/// after the search started (flows are listed by their first packet, but appear once
/// their handshake is read). The search goes on after a background scan from the
/// position the start connection had before: here it searches the wrong connections
/// and misses the match.
#[test]
fn a_connection_listed_during_a_scan_does_not_move_the_start_of_the_search() {
    let flows = [
        conversation(40000, 60, "long", &[]),
        conversation(40001, 3, "new", &[]),
        conversation(40002, 8, "one", &[(5, "needle here")]),
        conversation(40003, 3, "start", &[]),
    ];
    let path = temp_capture(&file_of(&flows), "listed");
    let (full, _) = first_pass(&path, 16);
    let mut order: Vec<usize> = (0..full.connections.len()).collect();
    order.sort_by_key(|&i| full.connections[i].flow_order);
    let ports: Vec<u16> = order
        .iter()
        .map(|&i| full.connections[i].client.port())
        .collect();
    assert_eq!(ports, [40000, 40001, 40002, 40003]);
    // Before: the connection from 40001 is not listed yet.
    let mut before = full.clone();
    before.connections.retain(|c| c.client.port() != 40001);
    let mut app = app_on(&before, &path, 20, 10);
    app.select_conn(2, &before); // 40003
    wait_while_busy(&mut app, &before);
    assert_eq!(
        app.connection(&before).map(|c| c.client.port()),
        Some(40003)
    );
    app.search.query = Some("needle".into());
    app.update(Command::NextMatch, &before);
    // The long connection (40000) is being scanned; meanwhile 40001 is listed.
    assert!(app.busy());
    assert!(wait_while_busy(&mut app, &full));
    let got = app
        .selected_frame(&full)
        .map(|(c, f)| (c.client.port(), f.index));
    assert_eq!(
        got,
        Some((40002, 5)),
        "notice {:?}, connection {:?}",
        app.notice,
        app.connection(&full).map(|c| c.client.port())
    );
}

/// No search time at all, long connections scanned at once and in the background
/// mixed: each n gets further, none stays busy, and the match is reached.
#[test]
fn the_search_budget_holds_with_scans_at_once_and_in_the_background() {
    let flows = [
        conversation(40000, 5, "a", &[]),
        conversation(40001, 80, "bg", &[]),
        conversation(40002, 30, "once", &[]),
        conversation(40003, 4, "b", &[]),
        conversation(40004, 90, "bg2", &[]),
        conversation(40005, 35, "once2", &[(33, "needle")]),
        conversation(40006, 6, "c", &[]),
    ];
    let path = temp_capture(&file_of(&flows), "budget");
    let (capture, _) = first_pass(&path, 16);
    for forward in [true, false] {
        let mut app = app_on(&capture, &path, 20, 50);
        app.search.budget = std::time::Duration::ZERO;
        app.select_conn(if forward { 0 } else { 6 }, &capture);
        wait_while_busy(&mut app, &capture);
        app.search.query = Some("needle".into());
        let mut notices = Vec::new();
        for _ in 0..20 {
            app.update(
                if forward {
                    Command::NextMatch
                } else {
                    Command::PrevMatch
                },
                &capture,
            );
            assert!(wait_while_busy(&mut app, &capture), "busy for good");
            notices.push(app.notice.clone());
            if app.connection(&capture).map(|c| c.client.port()) == Some(40005) {
                break;
            }
        }
        let got = app
            .selected_frame(&capture)
            .map(|(c, f)| (c.client.port(), f.index));
        assert_eq!(got, Some((40005, 33)), "forward {forward}: {notices:?}");
        eprintln!("forward {forward}: {} presses: {notices:?}", notices.len());
    }
}

/// n pressed while a filtered move scans in the background is dropped without a word
/// (it is meant for a running search), and Esc then says "search stopped" of a move.
#[test]
fn n_during_a_filtered_move_scan_gives_the_move_up_and_searches() {
    let flows = [conversation(40000, 300, "s", &[(290, "needle")])];
    let path = temp_capture(&file_of(&flows), "move-n");
    let (capture, _) = first_pass(&path, 16);
    let mut app = app_on(&capture, &path, 40, 10);
    app.search.query = Some("needle".into());
    // Server frames only: every frame passes, but a filter makes Down past the window scan.
    app.filter = Filter {
        dir: Some(Dir::Server),
        ..Filter::default()
    };
    app.refresh(&capture);
    app.update(Command::Last, &capture);
    assert!(app.busy(), "no move scan");
    app.update(Command::NextMatch, &capture);
    let line = status_line(&app, &capture);
    assert!(wait_while_busy(&mut app, &capture));
    let got = app
        .selected_frame(&capture)
        .map(|(c, f)| (c.client.port(), f.index));
    assert_eq!(
        got,
        Some((40000, 290)),
        "status line after n: {line:?}; notice now {:?}",
        app.notice
    );
}
