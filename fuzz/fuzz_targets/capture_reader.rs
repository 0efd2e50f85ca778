//! The pcap/pcapng reader on arbitrary bytes: every packet or a clean error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(mut reader) = wsscope::source::CaptureReader::new(data) {
        while let Ok(Some(_)) = reader.next_packet() {}
    }
});
