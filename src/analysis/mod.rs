//! What a connection's frames say about its health and cost, computed from the model:
//! heartbeats (ping/pong pairing, RTT, idle gaps, closing) and overhead (payload vs
//! framing vs TCP/IP headers, and the same exchange estimated as HTTP polling), plus
//! recognising what rides on WebSocket (subprotocols: JSON, STOMP, MQTT).

pub mod heartbeat;
pub mod mqtt;
pub mod overhead;
pub mod stomp;
pub mod subprotocol;

pub use heartbeat::{Heartbeat, heartbeat};
pub use overhead::{Overhead, overhead};
