//! Streaming mode's connection numbers: 1, 2, … in the order of the flows' first
//! packets, as [`Capture::finish`](crate::model::Capture::finish) gives them, assigned
//! while the capture is still being read.
//!
//! A flow's number is settled once every earlier flow is known and settled (decided not
//! to be WebSocket, or recognised as a connection). The flows come as [`FlowEvent`]s from
//! one pipeline, or from several that each decode a share of the flows
//! ([`super::sharded`]); [`Numbering::settle`] is told up to which packet every flow is
//! known, so the numbers do not depend on how the flows were shared out.

use std::collections::{BTreeMap, HashMap};

use crate::model::Connection;

use crate::model::Handout;

/// What a pipeline in streaming mode tells about its flows, in the order it happened.
/// A flow is named by its order: the number of its first packet.
#[derive(Debug)]
pub enum FlowEvent {
    /// A flow began; it may become a WebSocket connection.
    Opened(u64),
    /// The flow's session decided: a WebSocket connection (`true`) or not.
    Decided {
        /// The flow.
        order: u64,
        /// Whether it is a WebSocket connection.
        websocket: bool,
    },
    /// Ended records of the flow's connection, still open
    /// ([`Connection::take_ended_records`]); its `id` is not set.
    Part(Box<Connection>),
    /// The flow ended, with its settled connection if it was one; its `id` is not set.
    Ended {
        /// The flow.
        order: u64,
        /// Its connection.
        connection: Option<Box<Connection>>,
    },
}

/// A flow without a number yet.
#[derive(Debug)]
enum Unnumbered {
    /// Not yet known to be a WebSocket connection or not.
    Undecided,
    /// A WebSocket connection still open.
    Open,
    /// A WebSocket connection that ended before every earlier flow was settled.
    Finished(Box<Connection>),
}

/// Numbers connections from their flows' events and hands them out ([`Handout`]).
#[derive(Debug)]
pub struct Numbering {
    /// Flows that are, or may become, WebSocket connections without a number, by order.
    pending: BTreeMap<u64, Unnumbered>,
    /// Open connections with a number, by flow order.
    numbered: HashMap<u64, u32>,
    next_id: u32,
    /// What is ready to hand out.
    out: Vec<Handout>,
}

impl Default for Numbering {
    fn default() -> Self {
        Numbering {
            pending: BTreeMap::new(),
            numbered: HashMap::new(),
            next_id: 1,
            out: Vec::new(),
        }
    }
}

impl Numbering {
    /// Takes one event of a flow. A part gets its connection's number when it has one,
    /// else 0 (the output renumbers it later); a finished connection waits for its number.
    pub fn accept(&mut self, event: FlowEvent) {
        match event {
            FlowEvent::Opened(order) => {
                self.pending.insert(order, Unnumbered::Undecided);
            }
            FlowEvent::Decided { order, websocket } => {
                if matches!(self.pending.get(&order), Some(Unnumbered::Undecided)) {
                    if websocket {
                        self.pending.insert(order, Unnumbered::Open);
                    } else {
                        self.pending.remove(&order);
                    }
                }
            }
            FlowEvent::Part(mut part) => {
                part.id = self.numbered.get(&part.flow_order).copied().unwrap_or(0);
                self.out.push(Handout::Part(*part));
            }
            FlowEvent::Ended { order, connection } => match connection {
                Some(mut conn) => {
                    if let Some(id) = self.numbered.remove(&order) {
                        conn.id = id;
                        self.out.push(Handout::Finished(*conn));
                    } else {
                        self.pending.insert(order, Unnumbered::Finished(conn));
                    }
                }
                None => {
                    self.pending.remove(&order);
                    self.numbered.remove(&order);
                }
            },
        }
    }

    /// Numbers the flows at the front of the order that are settled, given that every
    /// flow whose first packet is at or before packet `known_through` has been told.
    pub fn settle(&mut self, known_through: u64) {
        while let Some(first) = self.pending.first_entry() {
            if *first.key() > known_through {
                break;
            }
            match first.get() {
                Unnumbered::Undecided => break,
                Unnumbered::Open => {
                    let order = first.remove_entry().0;
                    self.numbered.insert(order, self.next_id);
                }
                Unnumbered::Finished(_) => {
                    if let Unnumbered::Finished(mut conn) = first.remove() {
                        conn.id = self.next_id;
                        self.out.push(Handout::Finished(*conn));
                    }
                }
            }
            self.next_id += 1;
        }
    }

    /// What is ready, in order: parts, and finished connections with their numbers.
    pub fn take_handouts(&mut self) -> Vec<Handout> {
        std::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(order: u64) -> Box<Connection> {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        Box::new(Connection::new(
            addr,
            addr,
            order,
            order,
            Default::default(),
        ))
    }

    fn finished(n: &mut Numbering) -> Vec<(u64, u32)> {
        n.take_handouts()
            .into_iter()
            .filter_map(|h| match h {
                Handout::Finished(c) => Some((c.flow_order, c.id)),
                Handout::Part(_) => None,
            })
            .collect()
    }

    #[test]
    fn a_flow_waits_for_earlier_undecided_flows_and_for_the_known_packet() {
        let mut n = Numbering::default();
        n.accept(FlowEvent::Opened(1));
        n.accept(FlowEvent::Opened(5));
        n.accept(FlowEvent::Ended {
            order: 5,
            connection: Some(conn(5)),
        });
        n.settle(10);
        assert!(finished(&mut n).is_empty(), "flow 1 is undecided");
        n.accept(FlowEvent::Decided {
            order: 1,
            websocket: false,
        });
        // Flow 5 is told, but another share may still tell of a flow at packet 3.
        n.settle(4);
        assert!(finished(&mut n).is_empty());
        n.settle(5);
        assert_eq!(finished(&mut n), [(5, 1)]);
    }

    #[test]
    fn open_connections_take_their_numbers_in_flow_order() {
        let mut n = Numbering::default();
        for order in [2, 7, 9] {
            n.accept(FlowEvent::Opened(order));
        }
        n.accept(FlowEvent::Decided {
            order: 7,
            websocket: true,
        });
        n.accept(FlowEvent::Decided {
            order: 9,
            websocket: true,
        });
        n.accept(FlowEvent::Part(conn(9)));
        n.accept(FlowEvent::Decided {
            order: 2,
            websocket: true,
        });
        n.settle(9);
        n.accept(FlowEvent::Part(conn(9)));
        n.accept(FlowEvent::Ended {
            order: 9,
            connection: Some(conn(9)),
        });
        n.accept(FlowEvent::Ended {
            order: 2,
            connection: Some(conn(2)),
        });
        let ids: Vec<(bool, u64, u32)> = n
            .take_handouts()
            .into_iter()
            .map(|h| match h {
                Handout::Part(c) => (false, c.flow_order, c.id),
                Handout::Finished(c) => (true, c.flow_order, c.id),
            })
            .collect();
        assert_eq!(
            ids,
            [(false, 9, 0), (false, 9, 3), (true, 9, 3), (true, 2, 1)]
        );
    }
}
