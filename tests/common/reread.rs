//! Helpers for tests of decoding again from a file (the UI's index, windows, scans).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use wsscope::model::window::WindowSize;
use wsscope::reread::FileIndex;
use wsscope::source::CaptureReader;
use wsscope::tui::app::{App, LoadState};
use wsscope::tui::theme::Theme;
use wsscope::{Capture, Pipeline, SessionConfig, decode_reader};

/// A temporary capture file holding `bytes`, removed when dropped.
pub fn temp_capture(bytes: &[u8], tag: &str) -> tempfile::TempPath {
    let mut file = tempfile::Builder::new()
        .prefix(&format!("wsscope-test-{tag}-"))
        .suffix(".pcap")
        .tempfile()
        .unwrap_or_else(|e| panic!("{e}"));
    std::io::Write::write_all(&mut file, bytes).unwrap_or_else(|e| panic!("{e}"));
    file.into_temp_path()
}

/// The UI loader's first pass over `path` (previews, compacting), with a checkpoint
/// every `every` packets.
pub fn first_pass(path: &Path, every: u64) -> (Capture, FileIndex) {
    first_pass_with(path, every, SessionConfig::default())
}

/// [`first_pass`] for a file decoded with `config`, with the loader's first-pass settings.
pub fn first_pass_with(path: &Path, every: u64, config: SessionConfig) -> (Capture, FileIndex) {
    let index = FileIndex::new(path, config.clone()).with_checkpoint_every(every);
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = CaptureReader::new(BufReader::new(file))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // As the loader does: secrets the file holds reach the TLS stage.
    reader.keep_secrets(config.keys.inbox.found.clone());
    let mut pipeline = Pipeline::new(wsscope::pipeline::keep::Purpose::Browse.config(&config));
    pipeline.set_compacting();
    while let Ok(Some(p)) = reader.next_packet() {
        pipeline.packet(&p);
        let number = p.number;
        index.note(&reader, number);
    }
    (pipeline.finish(), index)
}

/// The whole file at `path` decoded at once with `config`, as `explain` and the tests'
/// reference decode it.
pub fn whole_decode(path: &Path, config: SessionConfig) -> Capture {
    let name = path.display().to_string();
    let file = File::open(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    decode_reader(BufReader::new(file), config).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Lets background work (decoding again, scanning) finish, at most 5 s, refreshing as
/// the UI's ticks do; false if it was still busy then.
pub fn wait_while_busy(app: &mut App, capture: &Capture) -> bool {
    for _ in 0..1000 {
        if !app.busy() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        app.refresh(capture);
    }
    false
}

/// Windows of `frames` frames, however many bytes.
pub fn frames_of(frames: usize) -> WindowSize {
    WindowSize {
        frames,
        bytes: usize::MAX,
    }
}

/// A 120×40 UI over a file read to its end, whose connections are decoded again from
/// `index` (not refreshed yet).
pub fn app_over(index: FileIndex) -> App {
    let mut app = App::new(
        "s",
        Theme::new(false),
        ratatui::layout::Rect::new(0, 0, 120, 40),
    );
    app.set_index(Some(std::sync::Arc::new(index)));
    app.loading = LoadState::finished();
    app
}
