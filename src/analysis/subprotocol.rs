//! What rides on WebSocket: a message decoded by the subprotocol the handshake negotiated
//! (`Sec-WebSocket-Protocol`, RFC 6455 §1.9): MQTT, STOMP, or JSON text.

use super::{mqtt, stomp};
use crate::model::{Connection, MessageKind, MessageRecord};

/// A message as its subprotocol sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// `MQTT`, `STOMP` or `JSON`.
    pub protocol: &'static str,
    /// Packet or frame names in the message, e.g. `PUBLISH` or `SEND`.
    pub units: Vec<String>,
    /// One line per packet or frame describing its fields (pretty JSON lines for JSON).
    pub lines: Vec<String>,
    /// What the protocol is, in one sentence.
    pub explain: &'static str,
}

/// Which subprotocol a connection speaks, from its handshake.
pub fn negotiated(conn: &Connection) -> Option<String> {
    conn.handshake
        .as_ref()
        .and_then(|h| h.subprotocol.clone())
        .map(|p| p.to_ascii_lowercase())
}

fn mqtt_v5(conn: &Connection) -> bool {
    // The client's first bytes: CONNECT (type 1), its remaining length, then the protocol
    // name "MQTT" (00 04 M Q T T) and the level, 5 for MQTT 5. They may span messages.
    let mut head = Vec::with_capacity(16);
    for m in conn
        .messages
        .iter()
        .filter(|m| m.dir == crate::model::Dir::Client && m.kind == MessageKind::Binary)
    {
        head.extend_from_slice(&m.data[..m.data.len().min(16 - head.len())]);
        if head.len() >= 16 {
            break;
        }
    }
    if head.first().is_none_or(|b| b >> 4 != 1) {
        return false;
    }
    let len_bytes = head[1..]
        .iter()
        .take(4)
        .position(|b| b & 0x80 == 0)
        .map_or(4, |p| p + 1);
    let rest = head.get(1 + len_bytes..).unwrap_or(&[]);
    rest.starts_with(&[0, 4, b'M', b'Q', b'T', b'T']) && rest.get(6) == Some(&5)
}

/// Every MQTT packet one side sent, decoded across its binary messages, each with the
/// position in `conn.messages` of the message where it ends.
pub fn mqtt_packets(
    conn: &Connection,
    dir: crate::model::Dir,
    v5: bool,
) -> (Vec<(usize, mqtt::MqttPacket)>, Option<String>) {
    let positions: Vec<usize> = conn
        .messages
        .iter()
        .enumerate()
        .filter(|(_, x)| x.dir == dir && x.kind == MessageKind::Binary)
        .map(|(i, _)| i)
        .collect();
    let (packets, error) = mqtt::decode_stream(
        positions.iter().map(|&i| conn.messages[i].data.as_slice()),
        v5,
    );
    let packets = packets
        .into_iter()
        .map(|(k, p)| (positions[k], p))
        .collect();
    (packets, error)
}

/// The connection speaks MQTT 5 (its CONNECT says protocol level 5).
pub fn mqtt_v5_of(conn: &Connection) -> bool {
    mqtt_v5(conn)
}

/// Decodes `m` by the connection's subprotocol (or as JSON text when none is known).
pub fn decode_message(conn: &Connection, m: &MessageRecord) -> Option<Decoded> {
    if !matches!(m.kind, MessageKind::Text | MessageKind::Binary) || m.data.is_empty() {
        return None;
    }
    let proto = negotiated(conn).unwrap_or_default();
    if proto.contains("mqtt") {
        let v5 = mqtt_v5(conn);
        let (packets, error) = mqtt_packets(conn, m.dir, v5);
        let here = conn.messages.iter().position(|x| std::ptr::eq(x, m));
        let mine: Vec<&mqtt::MqttPacket> = packets
            .iter()
            .filter(|(at, _)| Some(*at) == here)
            .map(|(_, p)| p)
            .collect();
        let mut lines: Vec<String> = mine
            .iter()
            .map(|p| format!("{} {}", p.name, p.detail))
            .collect();
        if mine.is_empty() {
            lines.push("(part of an MQTT packet that ends in a later message: MQTT may split packets across WebSocket messages)".into());
        }
        if let (Some(e), true) = (error, mine.is_empty()) {
            lines.push(format!("(not decoded further: {e})"));
        }
        return Some(Decoded {
            protocol: "MQTT",
            units: mine.iter().map(|p| p.name.to_string()).collect(),
            lines,
            explain: mqtt::EXPLAIN,
        });
    }
    if proto.contains("stomp") {
        let frames = stomp::decode(&m.data);
        if frames
            .iter()
            .all(|f| stomp::COMMANDS.contains(&f.command.as_str()))
        {
            let lines = frames
                .iter()
                .map(|f| {
                    let headers: Vec<String> =
                        f.headers.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    let body = if f.body_len > 0 {
                        format!(" body ({} B): {}", f.body_len, f.body)
                    } else {
                        String::new()
                    };
                    format!("{} {}{body}", f.command, headers.join(" "))
                })
                .collect();
            return Some(Decoded {
                protocol: "STOMP",
                units: frames.iter().map(|f| f.command.clone()).collect(),
                lines,
                explain: stomp::EXPLAIN,
            });
        }
    }
    if m.kind == MessageKind::Text
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&m.data)
        && (value.is_object() || value.is_array())
    {
        let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
        let kind = value
            .get("type")
            .or_else(|| value.get("event"))
            .or_else(|| value.get("op"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        return Some(Decoded {
            protocol: "JSON",
            units: kind.into_iter().collect(),
            lines: pretty.lines().map(str::to_string).collect(),
            explain: "JSON text message: most chat, game and trading apps send one JSON object per WebSocket text message, often with a \"type\" field naming the event.",
        });
    }
    None
}
