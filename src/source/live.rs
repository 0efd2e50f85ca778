//! Live capture through libpcap (the `pcap` crate), feature `live`.
//!
//! The device is opened on the caller's thread, so permission, device and filter errors
//! come back at once as a [`LiveError`]. Packets are then read on a thread of their own
//! with a short read timeout (so a stop request is seen promptly), saved to `-w` exactly
//! as captured, and sent as owned packets over a bounded channel: when the decoder falls
//! behind, packets are dropped from the queue and counted, never blocking the capture.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::save::PcapngWriter;
use super::{LinkType, Timestamp};

/// Packets queued between the capture thread and the decoder.
const QUEUE: usize = 65_536;
/// libpcap read timeout (unused in non-blocking mode, set for libpcaps that want one).
const READ_TIMEOUT_MS: i32 = 100;
/// Pause when no packet is waiting. Reads are non-blocking because in immediate mode
/// libpcap ignores the read timeout, and a blocked read would never see the stop flag.
const IDLE_PAUSE: Duration = Duration::from_millis(1);

/// What to capture.
#[derive(Clone, Debug, Default)]
pub struct LiveOptions {
    /// Interface name; `None` lets libpcap pick.
    pub interface: Option<String>,
    /// BPF filter; `None` means `tcp`.
    pub filter: Option<String>,
    /// Bytes kept per packet (0: libpcap's maximum).
    pub snaplen: u32,
    /// Save every captured packet to this pcapng file.
    pub write: Option<PathBuf>,
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

/// Why live capture could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Opening the device needs privileges.
    #[error(
        "no permission to capture on {interface}: {message}. Run as root, or grant the binary the capture capabilities: \
         sudo setcap cap_net_raw,cap_net_admin=eip \"$(command -v wsscope)\""
    )]
    Permission {
        /// The interface.
        interface: String,
        /// libpcap's message.
        message: String,
    },
    /// The named interface does not exist.
    #[error("no such interface: {name}. Interfaces: {}", .available.join(", "))]
    NoSuchInterface {
        /// The name asked for.
        name: String,
        /// The names that exist.
        available: Vec<String>,
    },
    /// libpcap found no interface to capture on.
    #[error("libpcap found no interface to capture on")]
    NoInterface,
    /// The BPF filter does not compile.
    #[error("bad capture filter {filter:?}: {message}")]
    BadFilter {
        /// The filter.
        filter: String,
        /// libpcap's message.
        message: String,
    },
    /// Any other libpcap error.
    #[error("libpcap: {0}")]
    Pcap(String),
    /// Writing the `-w` file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A captured packet, owned, as sent to the decoder.
#[derive(Clone, Debug)]
pub struct OwnedPacket {
    /// 1-based capture number.
    pub number: u64,
    /// Capture time.
    pub ts: Timestamp,
    /// The captured bytes.
    pub data: Vec<u8>,
    /// Length on the wire.
    pub orig_len: u32,
}

/// Counters the capture thread updates and a viewer reads.
#[derive(Debug, Default)]
pub struct LiveStats {
    /// Packets libpcap delivered.
    pub seen: AtomicU64,
    /// Packets the kernel dropped (pcap_stats ps_drop + ps_ifdrop).
    pub kernel_dropped: AtomicU64,
    /// Packets dropped because the decoder fell behind.
    pub queue_dropped: AtomicU64,
}

/// A running live capture.
pub struct LiveCapture {
    /// Packets, in capture order; disconnected when the capture stops.
    pub packets: Receiver<OwnedPacket>,
    /// Counters.
    pub stats: Arc<LiveStats>,
    /// Set to stop the capture (Ctrl-C, quitting the UI).
    pub stop: Arc<AtomicBool>,
    /// The interface captured on.
    pub interface: String,
    /// LINKTYPE_* number of the packets, as libpcap gave it.
    pub linktype: u16,
    /// Bytes captured per packet at most.
    pub snaplen: u32,
    /// The capture thread; its result says whether it ended on an error.
    pub thread: JoinHandle<Result<(), LiveError>>,
}

impl LiveCapture {
    /// Link type of the packets.
    pub fn link(&self) -> LinkType {
        LinkType::from_linktype(i32::from(self.linktype))
    }
}

/// A live capture's packets as a pcapng byte stream (the format `-w` writes), so the
/// terminal UI reads a live capture as it reads a pipe: copied to a temporary file and
/// decoded again from there, in bounded memory ([`crate::loader::spawn_live`]). The
/// stream ends when the capture stops; the capture thread's error, if any, is then told
/// through [`LiveStream::error`].
pub struct LiveStream {
    packets: Receiver<OwnedPacket>,
    out: PcapngWriter<Vec<u8>>,
    /// Bytes of `out` already read.
    at: usize,
    thread: Option<JoinHandle<Result<(), LiveError>>>,
    error: Arc<std::sync::Mutex<Option<String>>>,
}

impl LiveStream {
    /// The stream of `capture`'s packets, starting with the pcapng header blocks.
    pub fn new(capture: LiveCapture) -> std::io::Result<Self> {
        let out = PcapngWriter::new(
            Vec::new(),
            capture.linktype,
            capture.snaplen,
            &capture.interface,
        )?;
        Ok(LiveStream {
            packets: capture.packets,
            out,
            at: 0,
            thread: Some(capture.thread),
            error: Arc::default(),
        })
    }

    /// Where the capture thread's error is told once the stream has ended.
    pub fn error(&self) -> Arc<std::sync::Mutex<Option<String>>> {
        Arc::clone(&self.error)
    }
}

impl std::io::Read for LiveStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let pending = self.out.get_mut();
            if self.at < pending.len() {
                let n = buf.len().min(pending.len() - self.at);
                buf[..n].copy_from_slice(&pending[self.at..self.at + n]);
                self.at += n;
                if self.at == pending.len() {
                    pending.clear();
                    self.at = 0;
                }
                return Ok(n);
            }
            match self.packets.recv() {
                Ok(p) => self.out.packet(p.ts, &p.data, p.orig_len)?,
                Err(_) => {
                    // The capture stopped: the stream ends, with its error if any.
                    let ended = self.thread.take().map(|t| match t.join() {
                        Ok(Ok(())) => None,
                        Ok(Err(e)) => Some(e.to_string()),
                        Err(_) => Some("the capture thread stopped unexpectedly".to_string()),
                    });
                    if let Some(Some(e)) = ended {
                        *self
                            .error
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
                    }
                    return Ok(0);
                }
            }
        }
    }
}

/// One interface as `wsscope interfaces` lists it.
#[derive(Clone, Debug)]
pub struct InterfaceInfo {
    /// Name (`lo`, `eth0`, `any`, …).
    pub name: String,
    /// Description, if libpcap has one.
    pub description: Option<String>,
    /// Addresses.
    pub addresses: Vec<std::net::IpAddr>,
    /// Up.
    pub up: bool,
    /// Running.
    pub running: bool,
    /// Loopback.
    pub loopback: bool,
}

/// Lists the interfaces libpcap can capture on, like `tcpdump -D`.
pub fn interfaces() -> Result<Vec<InterfaceInfo>, LiveError> {
    let devices = pcap::Device::list().map_err(|e| LiveError::Pcap(e.to_string()))?;
    Ok(devices
        .into_iter()
        .map(|d| InterfaceInfo {
            description: d.desc.clone(),
            addresses: d.addresses.iter().map(|a| a.addr).collect(),
            up: d.flags.is_up(),
            running: d.flags.is_running(),
            loopback: d.flags.is_loopback(),
            name: d.name,
        })
        .collect())
}

fn classify_open_error(interface: &str, e: pcap::Error) -> LiveError {
    let message = e.to_string();
    let lower = message.to_lowercase();
    if lower.contains("permission") || lower.contains("operation not permitted") {
        LiveError::Permission {
            interface: interface.to_string(),
            message,
        }
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        LiveError::NoSuchInterface {
            name: interface.to_string(),
            available: interfaces()
                .map(|l| l.into_iter().map(|i| i.name).collect())
                .unwrap_or_default(),
        }
    } else {
        LiveError::Pcap(message)
    }
}

/// Opens the interface and starts the capture thread.
pub fn start(options: LiveOptions) -> Result<LiveCapture, LiveError> {
    let device = match &options.interface {
        Some(name) => {
            let list = pcap::Device::list().map_err(|e| LiveError::Pcap(e.to_string()))?;
            match list.into_iter().find(|d| &d.name == name) {
                Some(d) => d,
                None => {
                    return Err(LiveError::NoSuchInterface {
                        name: name.clone(),
                        available: interfaces()?.into_iter().map(|i| i.name).collect(),
                    });
                }
            }
        }
        None => pcap::Device::lookup()
            .map_err(|e| LiveError::Pcap(e.to_string()))?
            .ok_or(LiveError::NoInterface)?,
    };
    let name = device.name.clone();
    let snaplen = if options.snaplen == 0 {
        262_144
    } else {
        options.snaplen
    };
    let mut cap = pcap::Capture::from_device(device)
        .map_err(|e| classify_open_error(&name, e))?
        .snaplen(snaplen as i32)
        .timeout(READ_TIMEOUT_MS)
        .immediate_mode(true)
        .buffer_size(32 << 20)
        .open()
        .map_err(|e| classify_open_error(&name, e))?
        .setnonblock()
        .map_err(|e| LiveError::Pcap(e.to_string()))?;
    let filter = options.filter.clone().unwrap_or_else(|| "tcp".to_string());
    cap.filter(&filter, true)
        .map_err(|e| LiveError::BadFilter {
            filter: filter.clone(),
            message: e.to_string(),
        })?;
    let linktype = cap.get_datalink().0;
    let mut writer = match &options.write {
        Some(path) => {
            let file = File::create(path).map_err(|source| LiveError::Write {
                path: path.display().to_string(),
                source,
            })?;
            Some((
                PcapngWriter::new(BufWriter::new(file), linktype as u16, snaplen, &name).map_err(
                    |source| LiveError::Write {
                        path: path.display().to_string(),
                        source,
                    },
                )?,
                path.display().to_string(),
            ))
        }
        None => None,
    };
    let (tx, rx) = sync_channel(QUEUE);
    let stats = Arc::new(LiveStats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let (thread_stats, thread_stop) = (stats.clone(), stop.clone());
    let thread = std::thread::Builder::new()
        .name("wsscope-capture".into())
        .spawn(move || {
            let result = capture_loop(
                &mut cap,
                &tx,
                &thread_stats,
                &thread_stop,
                &options,
                writer.as_mut().map(|(w, _)| w),
            );
            if let Ok(s) = cap.stats() {
                thread_stats.kernel_dropped.store(
                    u64::from(s.dropped) + u64::from(s.if_dropped),
                    Ordering::Relaxed,
                );
            }
            if let Some((w, path)) = writer.as_mut() {
                w.flush().map_err(|source| LiveError::Write {
                    path: path.clone(),
                    source,
                })?;
            }
            result
        })
        .map_err(|e| LiveError::Pcap(e.to_string()))?;
    Ok(LiveCapture {
        packets: rx,
        stats,
        stop,
        interface: name,
        linktype: linktype as u16,
        snaplen,
        thread,
    })
}

fn capture_loop(
    cap: &mut pcap::Capture<pcap::Active>,
    tx: &SyncSender<OwnedPacket>,
    stats: &LiveStats,
    stop: &AtomicBool,
    options: &LiveOptions,
    mut writer: Option<&mut PcapngWriter<BufWriter<File>>>,
) -> Result<(), LiveError> {
    let started = Instant::now();
    let mut last_stats = Instant::now();
    let mut number = 0u64;
    loop {
        if stop.load(Ordering::Relaxed)
            || options.count.is_some_and(|c| number >= c)
            || options.duration.is_some_and(|d| started.elapsed() >= d)
        {
            return Ok(());
        }
        if last_stats.elapsed() >= Duration::from_millis(500) {
            if let Ok(s) = cap.stats() {
                stats.kernel_dropped.store(
                    u64::from(s.dropped) + u64::from(s.if_dropped),
                    Ordering::Relaxed,
                );
            }
            last_stats = Instant::now();
        }
        let packet = match cap.next_packet() {
            Ok(p) => p,
            Err(pcap::Error::TimeoutExpired) => {
                std::thread::sleep(IDLE_PAUSE);
                continue;
            }
            Err(e) => return Err(LiveError::Pcap(e.to_string())),
        };
        number += 1;
        stats.seen.fetch_add(1, Ordering::Relaxed);
        let ts = Timestamp::from_fraction(
            packet.header.ts.tv_sec as i64,
            packet.header.ts.tv_usec.max(0) as u64,
            1_000_000,
        );
        if let Some(w) = writer.as_deref_mut() {
            w.packet(ts, packet.data, packet.header.len)
                .map_err(|source| LiveError::Write {
                    path: "the -w file".into(),
                    source,
                })?;
        }
        let owned = OwnedPacket {
            number,
            ts,
            data: packet.data.to_vec(),
            orig_len: packet.header.len,
        };
        match tx.try_send(owned) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                stats.queue_dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => return Ok(()),
        }
    }
}
