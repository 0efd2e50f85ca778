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
    conn.messages
        .iter()
        .find(|m| m.kind == MessageKind::Binary && m.data.first().is_some_and(|b| b >> 4 == 1))
        .and_then(|m| m.data.get(2..9))
        .is_some_and(|v| v.starts_with(&[0, 4]) && v.get(6) == Some(&5))
}

/// Decodes `m` by the connection's subprotocol (or as JSON text when none is known).
pub fn decode_message(conn: &Connection, m: &MessageRecord) -> Option<Decoded> {
    if !matches!(m.kind, MessageKind::Text | MessageKind::Binary) || m.data.is_empty() {
        return None;
    }
    let proto = negotiated(conn).unwrap_or_default();
    if proto.contains("mqtt") {
        let (packets, error) = mqtt::decode(&m.data, mqtt_v5(conn));
        let mut lines: Vec<String> = packets
            .iter()
            .map(|p| format!("{} {}", p.name, p.detail))
            .collect();
        if let Some(e) = error {
            lines.push(format!("(not decoded further: {e})"));
        }
        return Some(Decoded {
            protocol: "MQTT",
            units: packets.iter().map(|p| p.name.to_string()).collect(),
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
    if m.kind == MessageKind::Text {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&m.data) {
            if value.is_object() || value.is_array() {
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
        }
    }
    None
}
