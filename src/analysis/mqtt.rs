//! MQTT control packets (MQTT 3.1.1 and 5.0) carried in binary WebSocket messages, as
//! negotiated with `Sec-WebSocket-Protocol: mqtt` (MQTT 3.1.1 §6, MQTT 5.0 §6).

/// One decoded control packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttPacket {
    /// Packet type name: CONNECT, PUBLISH, …
    pub name: &'static str,
    /// Bytes of the whole packet (fixed header included).
    pub len: usize,
    /// PUBLISH topic.
    pub topic: Option<String>,
    /// Packet identifier, where the type has one.
    pub packet_id: Option<u16>,
    /// A one-line description of the fields.
    pub detail: String,
}

const NAMES: [&str; 16] = [
    "RESERVED",
    "CONNECT",
    "CONNACK",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
    "SUBSCRIBE",
    "SUBACK",
    "UNSUBSCRIBE",
    "UNSUBACK",
    "PINGREQ",
    "PINGRESP",
    "DISCONNECT",
    "AUTH",
];

/// A small cursor over a packet's variable header and payload.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.0.get(..n)?;
        self.0 = &self.0[n..];
        Some(b)
    }
    fn string(&mut self) -> Option<String> {
        let n = usize::from(self.u16()?);
        Some(String::from_utf8_lossy(self.bytes(n)?).into_owned())
    }
    fn varint(&mut self) -> Option<usize> {
        let mut value = 0usize;
        for i in 0..4 {
            let b = self.u8()?;
            value |= usize::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    /// Skips MQTT 5 properties (a length, then that many bytes).
    fn skip_properties(&mut self) -> Option<()> {
        let n = self.varint()?;
        self.bytes(n).map(|_| ())
    }
}

/// Parses one packet from the start of `buf`: `Ok(None)` if more bytes are needed.
fn parse_one(buf: &[u8], v5: bool) -> Result<Option<MqttPacket>, String> {
    let mut r = Reader(buf);
    let Some(b0) = r.u8() else { return Ok(None) };
    let mut remaining = 0usize;
    let mut complete = false;
    for i in 0..4 {
        let Some(b) = r.u8() else { return Ok(None) };
        remaining |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            complete = true;
            break;
        }
    }
    if !complete {
        return Err("remaining length longer than 4 bytes".into());
    }
    let header_len = buf.len() - r.0.len();
    let Some(body) = r.bytes(remaining) else {
        return Ok(None);
    };
    let mut p = MqttPacket {
        name: NAMES[usize::from(b0 >> 4)],
        len: header_len + remaining,
        topic: None,
        packet_id: None,
        detail: String::new(),
    };
    describe(&mut p, b0, body, v5);
    Ok(Some(p))
}

/// Decodes the control packets in `data` (MQTT 5 when `v5`). Stops at the first packet
/// that is incomplete or malformed and says why.
pub fn decode(data: &[u8], v5: bool) -> (Vec<MqttPacket>, Option<String>) {
    let mut packets = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        match parse_one(rest, v5) {
            Ok(Some(p)) => {
                rest = &rest[p.len..];
                packets.push(p);
            }
            Ok(None) => {
                return (
                    packets,
                    Some(format!("incomplete packet: {} bytes left", rest.len())),
                );
            }
            Err(e) => return (packets, Some(e)),
        }
    }
    (packets, None)
}

/// Most bytes of one unfinished packet held while decoding a stream.
const MAX_PENDING: usize = 16 << 20;

/// Decodes one direction's binary messages as a single byte stream: MQTT over WebSocket
/// may split a packet across messages or put several in one (MQTT 3.1.1 §6). Each packet
/// comes with the position (in `messages`) of the message where it ends.
pub fn decode_stream<'a>(
    messages: impl IntoIterator<Item = &'a [u8]>,
    v5: bool,
) -> (Vec<(usize, MqttPacket)>, Option<String>) {
    let mut packets = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    for (i, m) in messages.into_iter().enumerate() {
        buf.extend_from_slice(m);
        let mut used = 0;
        loop {
            match parse_one(&buf[used..], v5) {
                Ok(Some(p)) => {
                    used += p.len;
                    packets.push((i, p));
                }
                Ok(None) => break,
                Err(e) => return (packets, Some(e)),
            }
        }
        buf.drain(..used);
        if buf.len() > MAX_PENDING {
            return (
                packets,
                Some(format!("a packet longer than {MAX_PENDING} bytes")),
            );
        }
    }
    (packets, None)
}

fn describe(p: &mut MqttPacket, b0: u8, body: &[u8], v5: bool) {
    let mut r = Reader(body);
    let flags = b0 & 0x0f;
    p.detail = match p.name {
        "CONNECT" => (|| {
            let proto = r.string()?;
            let level = r.u8()?;
            let cflags = r.u8()?;
            let keepalive = r.u16()?;
            if level == 5 {
                r.skip_properties()?;
            }
            let client = r.string()?;
            Some(format!(
                "protocol {proto} level {level}, client id {client:?}, keep-alive {keepalive} s{}{}",
                if cflags & 0x02 != 0 { ", clean session" } else { "" },
                if cflags & 0x80 != 0 { ", with username" } else { "" }
            ))
        })()
        .unwrap_or_else(|| "malformed CONNECT".into()),
        "CONNACK" => match (r.u8(), r.u8()) {
            (Some(ack), Some(code)) => format!("session present {}, return code {code}{}", ack & 1, if code == 0 { " (accepted)" } else { "" }),
            _ => "malformed CONNACK".into(),
        },
        "PUBLISH" => {
            let qos = (flags >> 1) & 3;
            match r.string() {
                Some(topic) => {
                    if qos > 0 {
                        p.packet_id = r.u16();
                    }
                    if v5 {
                        r.skip_properties();
                    }
                    let payload = r.0;
                    let shown = String::from_utf8_lossy(&payload[..payload.len().min(64)]).into_owned();
                    let d = format!(
                        "topic {topic}, QoS {qos}{}{}, {} payload bytes: {shown}",
                        p.packet_id.map(|i| format!(", id {i}")).unwrap_or_default(),
                        if flags & 1 != 0 { ", retain" } else { "" },
                        payload.len()
                    );
                    p.topic = Some(topic);
                    d
                }
                None => "malformed PUBLISH".into(),
            }
        }
        "PUBACK" | "PUBREC" | "PUBREL" | "PUBCOMP" | "UNSUBACK" => {
            p.packet_id = r.u16();
            p.packet_id.map(|i| format!("packet id {i}")).unwrap_or_else(|| "malformed".into())
        }
        "SUBSCRIBE" | "UNSUBSCRIBE" => {
            p.packet_id = r.u16();
            if v5 {
                r.skip_properties();
            }
            let mut filters = Vec::new();
            while let Some(f) = r.string() {
                if p.name == "SUBSCRIBE" {
                    let opts = r.u8().unwrap_or(0);
                    filters.push(format!("{f} (QoS {})", opts & 3));
                } else {
                    filters.push(f);
                }
            }
            format!("packet id {}, {}", p.packet_id.unwrap_or(0), filters.join(", "))
        }
        "SUBACK" => {
            p.packet_id = r.u16();
            if v5 {
                r.skip_properties();
            }
            let codes: Vec<String> = r.0.iter().map(|c| if *c == 0x80 { "failure".into() } else { format!("QoS {c}") }).collect();
            format!("packet id {}, granted {}", p.packet_id.unwrap_or(0), codes.join(", "))
        }
        "PINGREQ" => "are you there? (keep-alive)".into(),
        "PINGRESP" => "yes (keep-alive answer)".into(),
        "DISCONNECT" => "clean disconnect".into(),
        _ => format!("{} bytes", body.len()),
    };
}

/// What MQTT is, in one line.
pub const EXPLAIN: &str = "MQTT over WebSocket (MQTT 3.1.1 §6, 5.0 §6): each binary message carries MQTT control packets; a fixed header (type in the high nibble, remaining length as a varint) precedes each.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt_311_packets() {
        // CONNECT "MQTT" level 4, clean session, keep-alive 60, client id "c1".
        let connect = [
            0x10, 14, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 2, b'c', b'1',
        ];
        // PUBLISH QoS 1 topic "a/b" id 7 payload "hi", then PINGREQ.
        let mut data = connect.to_vec();
        data.extend_from_slice(&[0x32, 9, 0, 3, b'a', b'/', b'b', 0, 7, b'h', b'i', 0xc0, 0]);
        let (packets, err) = decode(&data, false);
        assert_eq!(err, None);
        let names: Vec<_> = packets.iter().map(|p| p.name).collect();
        assert_eq!(names, ["CONNECT", "PUBLISH", "PINGREQ"]);
        assert!(
            packets[0].detail.contains("client id \"c1\""),
            "{}",
            packets[0].detail
        );
        assert_eq!(packets[1].topic.as_deref(), Some("a/b"));
        assert_eq!(packets[1].packet_id, Some(7));
        let (_, err) = decode(&[0x30, 50, 0], false);
        assert!(err.is_some());
        // The same bytes cut into 1-byte messages decode the same, ending where they end.
        let pieces: Vec<&[u8]> = data.chunks(1).collect();
        let (stream, err) = decode_stream(pieces, false);
        assert_eq!(err, None);
        let ends: Vec<(usize, &str)> = stream.iter().map(|(i, p)| (*i, p.name)).collect();
        assert_eq!(ends, [(15, "CONNECT"), (26, "PUBLISH"), (28, "PINGREQ")]);
    }
}
