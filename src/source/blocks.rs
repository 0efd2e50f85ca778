//! What the blocks of a pcap or pcapng stream say: the link type and timestamp
//! resolution of the legacy header, pcapng sections and interfaces, and for a packet
//! block its time, link, lengths and where its bytes are.

use pcap_parser::PcapBlockOwned;
use pcap_parser::pcapng::Block;

use super::{LinkType, Timestamp};

/// Per-interface facts from a pcapng Interface Description Block.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link: LinkType,
    units_per_sec: u64,
    ts_offset: i64,
}

/// What earlier blocks said that later ones need, and the current packet's bytes.
#[derive(Default)]
pub(super) struct BlockState {
    /// Legacy pcap: link and timestamp resolution from the file header.
    /// Also the length of a record's header: 16 bytes, 24 in the "modified" pcap
    /// format (magic 0xa1b2cd34), whose records add interface and packet-type fields.
    pub(super) legacy: Option<(LinkType, u64, usize)>,
    /// pcapng: the interfaces of the current section.
    interfaces: Vec<Interface>,
    pub(super) skipped_blocks: u64,
    /// File and section headers and interface descriptions seen (see
    /// [`super::CaptureReader::layout_blocks`]).
    pub(super) layout_blocks: u64,
    /// Where TLS key logs found in Decryption Secrets Blocks go.
    pub(super) secrets: Option<std::sync::Arc<super::FoundSecrets>>,
}

/// A packet block: its facts, and where its captured bytes are within the block.
pub(super) struct PacketBlock {
    pub(super) ts: Timestamp,
    pub(super) link: LinkType,
    pub(super) orig_len: u32,
    /// Offset of the packet bytes from the block's first byte (the block's fixed
    /// header: 16 bytes for a legacy pcap record (24 in the modified format), 28 for a
    /// pcapng Enhanced Packet Block,
    /// 12 for a Simple Packet Block).
    pub(super) data_at: usize,
    pub(super) caplen: usize,
}

impl BlockState {
    /// Records what a block says; for a packet block returns its timestamp, link type,
    /// original length and where its bytes are, read in place (not copied).
    pub(super) fn handle_block(&mut self, block: PcapBlockOwned<'_>) -> Option<PacketBlock> {
        match block {
            PcapBlockOwned::LegacyHeader(header) => {
                let units = if header.is_nanosecond_precision() {
                    1_000_000_000
                } else {
                    1_000_000
                };
                let record_header = if header.is_modified_format() { 24 } else { 16 };
                self.legacy = Some((
                    LinkType::from_linktype(header.network.0),
                    units,
                    record_header,
                ));
                self.layout_blocks += 1;
                None
            }
            PcapBlockOwned::Legacy(record) => {
                let (link, units, record_header) =
                    self.legacy.unwrap_or((LinkType::Ethernet, 1_000_000, 16));
                let ts = Timestamp::from_fraction(
                    i64::from(record.ts_sec),
                    u64::from(record.ts_usec),
                    units,
                );
                Some(PacketBlock {
                    ts,
                    link,
                    orig_len: record.origlen,
                    data_at: record_header,
                    caplen: (record.caplen as usize).min(record.data.len()),
                })
            }
            PcapBlockOwned::NG(block) => self.handle_ng_block(block),
        }
    }

    fn handle_ng_block(&mut self, block: Block<'_>) -> Option<PacketBlock> {
        match block {
            Block::SectionHeader(_) => {
                self.interfaces.clear();
                self.layout_blocks += 1;
                None
            }
            Block::InterfaceDescription(idb) => {
                self.interfaces.push(Interface {
                    link: LinkType::from_linktype(idb.linktype.0),
                    units_per_sec: idb.ts_resolution().unwrap_or(1_000_000),
                    ts_offset: idb.ts_offset(),
                });
                self.layout_blocks += 1;
                None
            }
            Block::EnhancedPacket(epb) => {
                let iface = self
                    .interfaces
                    .get(epb.if_id as usize)
                    .copied()
                    .unwrap_or(Interface {
                        link: LinkType::Other(-1),
                        units_per_sec: 1_000_000,
                        ts_offset: 0,
                    });
                let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let units = iface.units_per_sec.max(1);
                let secs = (raw / units) as i64 + iface.ts_offset;
                let ts = Timestamp::from_fraction(secs, raw % units, units);
                Some(PacketBlock {
                    ts,
                    link: iface.link,
                    orig_len: epb.origlen,
                    data_at: 28,
                    caplen: (epb.caplen as usize).min(epb.data.len()),
                })
            }
            Block::SimplePacket(spb) => {
                let link = self
                    .interfaces
                    .first()
                    .map_or(LinkType::Other(-1), |i| i.link);
                Some(PacketBlock {
                    ts: Timestamp::default(),
                    link,
                    orig_len: spb.origlen,
                    data_at: 12,
                    caplen: (spb.origlen as usize).min(spb.data.len()),
                })
            }
            Block::DecryptionSecrets(dsb)
                if dsb.secrets_type == pcap_parser::pcapng::SecretsType::TlsKeyLog =>
            {
                // A TLS key log inside the capture (pcapng §4.7).
                if let Some(inbox) = &self.secrets {
                    let len = (dsb.secrets_len as usize).min(dsb.data.len());
                    inbox.push(String::from_utf8_lossy(&dsb.data[..len]).into_owned());
                }
                self.layout_blocks += 1;
                None
            }
            _ => {
                self.skipped_blocks += 1;
                None
            }
        }
    }
}
