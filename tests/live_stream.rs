//! Live output (`wsscope export -i …`) writes lines while the capture grows. Fed one
//! packet at a time, it must write the same lines as writing everything at the end:
//! no frame written before its last packet is in (its packet list would be short), no
//! line twice, none lost.

mod common;

use wsscope::export::stream::{StreamFormat, Streamer};
use wsscope::source::file::CaptureReader;
use wsscope::{Pipeline, SessionConfig};

fn config() -> SessionConfig {
    let mut c = SessionConfig::default();
    c.limits.preview_only = true;
    c
}

/// Lines written when the streamer runs after every packet (`per_packet`) or only at the
/// end; with `release`, the records written are dropped after every packet, as
/// `wsscope export -i` does.
fn live_lines(bytes: &[u8], format: StreamFormat, per_packet: bool) -> Vec<String> {
    live_lines_with(bytes, format, per_packet, false)
}

fn live_lines_with(
    bytes: &[u8],
    format: StreamFormat,
    per_packet: bool,
    release: bool,
) -> Vec<String> {
    let mut pipeline = Pipeline::new(config());
    pipeline.set_live(true);
    let mut streamer = Streamer::new(format);
    let mut out = Vec::new();
    let mut reader = match CaptureReader::new(bytes) {
        Ok(r) => r,
        Err(_) => return Vec::new(),
    };
    while let Ok(Some(packet)) = reader.next_packet() {
        pipeline.packet(&packet);
        if per_packet {
            streamer
                .write_new(&mut out, &pipeline.capture, false)
                .unwrap_or_else(|e| panic!("write: {e}"));
            if release {
                streamer.release_with(|i, frames, messages| {
                    pipeline.release_records(i, frames, messages)
                });
            }
        }
    }
    pipeline.finish_in_place();
    streamer
        .write_new(&mut out, &pipeline.capture, true)
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut lines: Vec<String> = String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort_unstable();
    lines
}

#[test]
fn live_output_written_per_packet_equals_output_written_at_the_end() {
    let mut seen = 0;
    let mut multi_packet_frames = 0;
    for path in common::bundled_captures() {
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        for format in [StreamFormat::Jsonl, StreamFormat::Frames] {
            let at_end = live_lines(&bytes, format, false);
            let streamed = live_lines(&bytes, format, true);
            assert_eq!(streamed, at_end, "{name} {format:?}");
            let released = live_lines_with(&bytes, format, true, true);
            assert_eq!(
                released, at_end,
                "{name} {format:?}, written records dropped"
            );
            if format == StreamFormat::Jsonl {
                multi_packet_frames += at_end
                    .iter()
                    .filter(|l| {
                        l.contains("\"kind\":\"frame\"") && l.contains("\"packets\":[") && {
                            let list = l.split("\"packets\":[").nth(1).unwrap_or("");
                            list.split(']').next().unwrap_or("").contains(',')
                        }
                    })
                    .count();
            }
        }
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} captures found");
    // The case that matters: frames whose bytes arrive in more than one packet.
    assert!(
        multi_packet_frames >= 10,
        "only {multi_packet_frames} multi-packet frames in the bundled captures"
    );
}

/// Client frames: masked, with a zero key (the payload reads as sent).
fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![first, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    f.extend_from_slice(payload);
    f
}

#[test]
fn a_message_that_never_finishes_does_not_hold_back_what_follows() {
    // The client starts a text message, then (against RFC 6455 §5.4) a binary one that
    // replaces it; the text message never finishes. The server then sends three texts.
    let client = std::net::SocketAddrV4::new(std::net::Ipv4Addr::new(10, 0, 0, 1), 40000);
    let server = std::net::SocketAddrV4::new(std::net::Ipv4Addr::new(10, 0, 0, 2), 80);
    let (mut conv, mut coff, mut soff) = common::upgraded(client, server);
    for f in [
        client_frame(0x01, b"aaa"),
        client_frame(0x02, b"bbb"),
        client_frame(0x80, b"ccc"),
    ] {
        conv.client_data(coff, &f);
        coff += f.len();
    }
    for text in ["one", "two", "three"] {
        let mut f = vec![0x81, text.len() as u8];
        f.extend_from_slice(text.as_bytes());
        conv.server_data(soff, &f);
        soff += f.len();
    }
    let pcap = conv.pcap();
    for format in [StreamFormat::Jsonl, StreamFormat::Frames] {
        let mut pipeline = Pipeline::new(config());
        pipeline.set_live(true);
        let mut streamer = Streamer::new(format);
        let mut out = Vec::new();
        let mut reader = CaptureReader::new(pcap.as_slice()).unwrap_or_else(|e| panic!("{e}"));
        while let Ok(Some(packet)) = reader.next_packet() {
            pipeline.packet(&packet);
            streamer
                .write_new(&mut out, &pipeline.capture, false)
                .unwrap_or_else(|e| panic!("write: {e}"));
        }
        // Still live (no end yet): every frame has ended, so every frame is written.
        let text = String::from_utf8_lossy(&out).into_owned();
        let frames = match format {
            StreamFormat::Jsonl => text.matches("\"kind\":\"frame\"").count(),
            StreamFormat::Frames => text.lines().skip(1).count(),
        };
        assert_eq!(frames, 6, "{format:?}:\n{text}");
        if format == StreamFormat::Jsonl {
            // And every message, the abandoned one included.
            assert_eq!(text.matches("\"kind\":\"message\"").count(), 5, "{text}");
        }
    }
}

#[test]
fn live_output_releases_what_it_wrote() {
    let bytes = common::long_connection(2000);
    for format in [StreamFormat::Jsonl, StreamFormat::Frames] {
        let mut pipeline = Pipeline::new(config());
        pipeline.set_live(true);
        let mut streamer = Streamer::new(format);
        let mut out = Vec::new();
        let mut reader = CaptureReader::new(&bytes[..]).unwrap_or_else(|e| panic!("{e}"));
        let mut most_held = 0;
        while let Ok(Some(packet)) = reader.next_packet() {
            pipeline.packet(&packet);
            streamer
                .write_new(&mut out, &pipeline.capture, false)
                .unwrap_or_else(|e| panic!("write: {e}"));
            streamer
                .release_with(|i, frames, messages| pipeline.release_records(i, frames, messages));
            let held = pipeline.capture.connections.iter().map(|c| c.frames.len());
            most_held = most_held.max(held.max().unwrap_or(0));
        }
        // A fragmented client message is open across 3 frames at most.
        assert!(
            most_held <= 4,
            "{format:?}: {most_held} frames held at once"
        );
        let conn = &pipeline.capture.connections[0];
        assert_eq!(conn.frame_count(), 2000 + 200 * 4 + 2, "{format:?}");
    }
}
