//! Micro-benchmarks of the hot paths: `cargo bench --bench micro`.
//! Frame header parsing, unmasking, UTF-8 validation, inflating, TCP reassembly in order
//! and out of order, and decoding the bundled captures end to end.

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddrV4};

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use flate2::{Compress, Compression, FlushCompress};
use wsscope::http::extensions::DeflateParams;
use wsscope::source::Timestamp;
use wsscope::tcp::{Reassembler, StreamEvent};
use wsscope::ws::deflate::Inflater;
use wsscope::ws::frame::parse_frame_header;
use wsscope::ws::mask::apply_mask;
use wsscope::ws::utf8::Utf8Validator;

fn frame_header(c: &mut Criterion) {
    let headers: [&[u8]; 3] = [
        &[0x81, 0x85, 1, 2, 3, 4],
        &[0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4],
        &[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0],
    ];
    c.bench_function("frame_header/3 forms", |b| {
        b.iter(|| {
            for h in headers {
                black_box(parse_frame_header(black_box(h)).ok());
            }
        })
    });
}

fn unmask(c: &mut Criterion) {
    let mut g = c.benchmark_group("unmask");
    for size in [125usize, 1448, 65536] {
        let mut data = vec![0x5au8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter(|| apply_mask(black_box(&mut data), [1, 2, 3, 4], 1))
        });
    }
    g.finish();
}

fn utf8(c: &mut Criterion) {
    let text = "{\"sym\":\"EURUSD\",\"px\":1.0843,\"note\":\"café ✓\"}".repeat(100);
    let mut g = c.benchmark_group("utf8");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("json 4.6 KB in 1448-byte pieces", |b| {
        b.iter(|| {
            let mut v = Utf8Validator::default();
            for piece in text.as_bytes().chunks(1448) {
                v.feed(piece);
            }
            black_box(v.finish())
        })
    });
    g.finish();
}

fn inflate(c: &mut Criterion) {
    let message = "{\"type\":\"tick\",\"sym\":\"EURUSD\",\"px\":1.0843} ".repeat(200);
    let mut z = Compress::new(Compression::default(), false);
    let mut wire = Vec::with_capacity(message.len());
    z.compress_vec(message.as_bytes(), &mut wire, FlushCompress::Sync)
        .expect("compress");
    wire.truncate(wire.len() - 4);
    let mut g = c.benchmark_group("inflate");
    g.throughput(Throughput::Bytes(message.len() as u64));
    g.bench_function("8 KB JSON message, no context takeover", |b| {
        let params = DeflateParams {
            no_context_takeover: true,
            max_window_bits: 15,
        };
        let mut inf = Inflater::new(params, 1 << 20);
        b.iter(|| {
            let mut n = 0;
            inf.begin_message();
            let _ = inf.feed(&wire, &mut |out| n += out.len());
            let _ = inf.end_message(&mut |out| n += out.len());
            black_box(n)
        })
    });
    g.finish();
}

fn reassembly(c: &mut Criterion) {
    let segment = vec![0u8; 1448];
    let n = 1000u32;
    let mut g = c.benchmark_group("reassembler");
    g.throughput(Throughput::Bytes(u64::from(n) * 1448));
    for (name, order) in [("in order", false), ("pairs swapped", true)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut r = Reassembler::new(4 << 20);
                let mut delivered = 0usize;
                let mut sink = |ev: StreamEvent<'_>| {
                    if let StreamEvent::Data { bytes, .. } = ev {
                        delivered += bytes.len();
                    }
                };
                r.segment(0, true, false, &[], 0, 0, Timestamp::default(), &mut sink);
                for i in 0..n {
                    let k = if order { i ^ 1 } else { i };
                    r.segment(
                        1 + k * 1448,
                        false,
                        false,
                        &segment,
                        0,
                        u64::from(i),
                        Timestamp::default(),
                        &mut sink,
                    );
                }
                black_box(delivered)
            })
        });
    }
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut g = c.benchmark_group("pipeline");
    for name in ["echo-sizes.pcap", "demo.pcapng", "deflate-takeover.pcap"] {
        let bytes = std::fs::read(root.join(name)).expect("bundled capture");
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| black_box(wsscope::decode_reader(&bytes[..], Default::default()).ok()))
        });
    }
    g.finish();
}

/// The flow table: a bare ACK for one of 10,000 open TCP flows, in scrambled order
/// (link, IP and TCP decoding, the flow lookup, the ACK's bookkeeping).
fn flow_lookup(c: &mut Criterion) {
    use wsscope::source::{LinkType, PacketRef};
    let flows = 10_000u32;
    let addr = |i: u32, port: u16| SocketAddrV4::new(Ipv4Addr::from(0x0a00_0000 + i), port);
    let mut pipeline = wsscope::Pipeline::new(Default::default());
    let mut number = 0u64;
    let mut feed = |pipeline: &mut wsscope::Pipeline, data: &[u8]| {
        number += 1;
        pipeline.packet(&PacketRef {
            number,
            ts: Timestamp::default(),
            link: LinkType::Ethernet,
            data,
            orig_len: data.len() as u32,
        });
    };
    let mut acks = Vec::new();
    for i in 0..flows {
        let conv = common::Conversation::new(addr(i + 1, 40_000), addr(0, 80), i, i + 7);
        for p in &conv.packets {
            feed(&mut pipeline, p);
        }
        acks.push(conv.packets[2].clone());
    }
    let order: Vec<usize> = (0..flows as usize)
        .map(|i| (i * 7919) % flows as usize)
        .collect();
    let mut g = c.benchmark_group("flow table");
    g.throughput(Throughput::Elements(u64::from(flows)));
    g.bench_function("ACK for one of 10,000 open flows", |b| {
        b.iter(|| {
            for &i in &order {
                feed(&mut pipeline, &acks[i]);
            }
        })
    });
    g.finish();
    black_box(pipeline.capture.stats.tcp_packets);
}

criterion_group!(
    benches,
    flow_lookup,
    frame_header,
    unmask,
    utf8,
    inflate,
    reassembly,
    pipeline
);
criterion_main!(benches);
