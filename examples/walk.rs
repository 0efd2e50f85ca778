//! The floor for `wsscope summary`: a bare walk over a capture's packet records with the
//! same reader as `wsscope summary` (pcap-parser reading the file 1 MiB at a time),
//! touching each packet's bytes and decoding nothing. `cargo run --release --example walk -- FILE`.

use std::fs::File;
use std::time::Instant;

use wsscope::source::CaptureReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: walk FILE")?;
    let started = Instant::now();
    let mut reader = CaptureReader::new(File::open(&path)?)?;
    let (mut packets, mut bytes, mut checksum) = (0u64, 0u64, 0u64);
    while let Some(p) = reader.next_packet()? {
        packets += 1;
        bytes += p.data.len() as u64;
        checksum = checksum.wrapping_add(u64::from(p.data.last().copied().unwrap_or(0)));
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "walked {packets} packets, {:.1} MB in {secs:.3} s: {:.1} MB/s (checksum {checksum})",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs
    );
    Ok(())
}
