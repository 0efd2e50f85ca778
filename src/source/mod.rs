//! Packet sources: capture files (pcap, pcapng; from a path or stdin) and, with the
//! `live` feature, a live interface through libpcap. Every source yields [`PacketRef`]s in capture order.

mod blocks;
mod secrets;

pub use secrets::FoundSecrets;
pub mod file;
#[cfg(feature = "live")]
pub mod live;
pub mod readahead;
pub mod save;
pub mod spool;

pub use file::{CaptureReader, Next, SourceError};

/// A point in time as the capture recorded it: seconds and nanoseconds since the Unix epoch.
///
/// Kept as integers so nanosecond captures lose nothing; [`Timestamp::as_f64`] is for display.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub secs: i64,
    /// Nanoseconds within the second (0..1_000_000_000).
    pub nanos: u32,
}

impl Timestamp {
    /// Builds a timestamp from seconds and a fraction counted in `units_per_sec` units.
    pub fn from_fraction(secs: i64, fraction: u64, units_per_sec: u64) -> Self {
        let units = units_per_sec.max(1);
        let extra_secs = fraction / units;
        let rest = fraction % units;
        let nanos = (u128::from(rest) * 1_000_000_000 / u128::from(units)) as u32;
        Timestamp {
            secs: secs.saturating_add(extra_secs as i64),
            nanos,
        }
    }

    /// Seconds as a float (microsecond precision survives for present-day dates).
    pub fn as_f64(self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }

    /// Seconds elapsed from `earlier` to `self` (negative if `earlier` is later).
    pub fn seconds_since(self, earlier: Timestamp) -> f64 {
        (self.secs - earlier.secs) as f64 + (f64::from(self.nanos) - f64::from(earlier.nanos)) / 1e9
    }
}

/// The link layer a packet starts with, from the capture's LINKTYPE value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1): Ethernet II, possibly with 802.1Q/QinQ tags.
    Ethernet,
    /// LINKTYPE_LINUX_SLL (113): Linux cooked capture v1 (`tcpdump -i any`, older).
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276): Linux cooked capture v2 (`tcpdump -i any`, newer).
    LinuxSll2,
    /// LINKTYPE_RAW (101), LINKTYPE_IPV4 (228), LINKTYPE_IPV6 (229): the packet starts with IP.
    RawIp,
    /// LINKTYPE_NULL (0): BSD loopback, 4-byte address family in the writer's byte order.
    Null,
    /// LINKTYPE_LOOP (108): OpenBSD loopback, 4-byte address family in network byte order.
    Loop,
    /// Any other link type: counted and skipped.
    Other(i32),
}

impl LinkType {
    /// Maps a LINKTYPE_* number (tcpdump.org/linktypes.html) to the link types we decode.
    pub fn from_linktype(value: i32) -> Self {
        match value {
            1 => LinkType::Ethernet,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            101 | 228 | 229 | 12 | 14 => LinkType::RawIp,
            0 => LinkType::Null,
            108 => LinkType::Loop,
            other => LinkType::Other(other),
        }
    }
}

/// One captured packet, borrowed from the source's buffer until the next read.
#[derive(Clone, Copy, Debug)]
pub struct PacketRef<'a> {
    /// 1-based packet number in capture order, as Wireshark numbers them.
    pub number: u64,
    /// When the packet was captured.
    pub ts: Timestamp,
    /// Link layer of `data`.
    pub link: LinkType,
    /// The captured bytes (possibly fewer than `orig_len` when a snaplen cut them).
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
}
