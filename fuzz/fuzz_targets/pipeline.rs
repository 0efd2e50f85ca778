//! The whole pipeline from raw capture bytes, with small limits so large structures
//! are reached quickly, and every exporter run over the result.
#![no_main]
use wsscope::ws::limits::Limits;
use wsscope::{SessionConfig, decode_reader};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_message_kept: 4096,
        max_frame_kept: 4096,
        max_decompressed: 1 << 16,
        max_fragments: 64,
        max_http_head: 2048,
        max_out_of_order: 8192,
        max_flows: 64,
        max_buffered_total: 1 << 20,
        preview_only: data.len() % 2 == 0,
        hash_messages: data.len() % 3 != 0,
        keep_message_data: data.len() % 5 != 0,
    };
    let config = SessionConfig { limits, ws_ports: vec![80], ..SessionConfig::default() };
    if let Ok(capture) = decode_reader(data, config) {
        let mut sink = Vec::new();
        let _ = wsscope::export::jsonl::write(&mut sink, &capture, None);
        let _ = wsscope::export::summary::write(&mut sink, &capture, "fuzz");
        let _ = wsscope::export::frames::write(&mut sink, &capture, None);
    }
});
