//! What the terminal UI's index of a capture file costs, and how long showing a
//! connection takes: reads FILE as the UI's loader does (payload previews, finished
//! connections compacted, checkpoints noted), then decodes connections again from the
//! file as selecting them does. Without the UI and its allocator, so memory is a bit
//! lower than `benches/tui_first_screen.sh` reports.
//! `cargo run --release --example index_memory -- FILE`.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Instant;

use wsscope::reread::FileIndex;
use wsscope::source::CaptureReader;
use wsscope::{Pipeline, SessionConfig};

fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: index_memory FILE")?;
    let path = Path::new(&path);
    let size = std::fs::metadata(path)?.len();
    let config = SessionConfig::default();
    let index = FileIndex::new(path, config.clone());
    let mut pipeline = Pipeline::new(wsscope::pipeline::keep::Purpose::Browse.config(&config));
    pipeline.set_compacting();
    let started = Instant::now();
    let mut reader = CaptureReader::new(BufReader::with_capacity(1 << 20, File::open(path)?))?;
    while let Some(p) = reader.next_packet()? {
        pipeline.packet(&p);
        let number = p.number;
        index.note(&reader, number);
    }
    let read = started.elapsed().as_secs_f64();
    let capture = pipeline.finish();
    let secs = started.elapsed().as_secs_f64();
    println!("read {read:.2} s, finish {:.2} s", secs - read);
    let mb = |b: u64| b as f64 / 1e6;
    let peak = peak_rss();
    println!(
        "first pass: {} connections, {} frames in {secs:.2} s; {} checkpoints; peak RSS {:.1} MB = {:.1} % of the {:.1} MB file",
        capture.connections.len(),
        capture.frame_count(),
        index.checkpoints().len(),
        mb(peak),
        peak as f64 * 100.0 / size as f64,
        mb(size)
    );
    // Showing a connection: the first, one in the middle, the last, and the largest.
    let n = capture.connections.len();
    if n == 0 {
        return Ok(());
    }
    let largest = (0..n)
        .max_by_key(|&i| capture.connections[i].tcp_bytes.iter().sum::<u64>())
        .unwrap_or(0);
    for (what, i) in [
        ("first", 0),
        ("middle", n / 2),
        ("last", n - 1),
        ("largest", largest),
    ] {
        let c = &capture.connections[i];
        let started = Instant::now();
        // As the UI does: a long connection is decoded again a window at a time.
        let (held, around) = if c.frame_count() > wsscope::model::window::WINDOW_FRAMES {
            let around = u32::try_from(c.frame_count() / 2).unwrap_or(u32::MAX);
            let window = index.reread_window(c, around, None)?;
            let (first, last) = window.held_frames().unwrap_or_default();
            (
                window.frames.len(),
                format!(", the window of frames {first}–{last} around {around}"),
            )
        } else {
            (index.reread(c)?.frames.len(), String::new())
        };
        let secs = started.elapsed().as_secs_f64();
        let packets = c.held.dropped().map_or(0, |last| last - c.first_packet + 1);
        println!(
            "{what} connection {}: {} frames, {:.1} MB, packets {}..{} ({packets} in its span): decoded again in {:.1} ms, {held} frames held{around}; peak RSS now {:.1} MB",
            c.id,
            c.frame_count(),
            mb(c.tcp_bytes.iter().sum()),
            c.first_packet,
            c.held.dropped().unwrap_or(0),
            secs * 1e3,
            mb(peak_rss())
        );
    }
    Ok(())
}
