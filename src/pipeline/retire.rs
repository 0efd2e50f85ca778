//! A flow's end: its streams flushed, its session settled, its connection numbered
//! and handed out (streaming mode), compacted (compacting mode) or kept; and the
//! analyses that need a connection's whole life.

use crate::model::{Connection, Ending};
use crate::tcp::FlowKey;
use crate::tcp::flows::Flow;

use super::{FlowEvent, Pipeline};

impl Pipeline {
    /// Streaming mode: takes a connection record out of the capture, telling the flow
    /// whose record moved into its place.
    pub(super) fn take_connection(&mut self, index: usize) -> Connection {
        let conn = self.capture.connections.swap_remove(index);
        self.owners.swap_remove(index);
        if let Some(moved) = self.owners.get(index)
            && let Some(flow) = self.flows.get_mut(moved)
        {
            flow.app.session.set_connection_index(index);
        }
        conn
    }

    /// Retires the oldest flow to make room (the `max_flows` limit), saying so on its connection.
    pub(super) fn evict(&mut self, key: FlowKey) {
        let limit = self.config.limits.max_flows;
        self.evicted += 1;
        self.retire_with(
            key,
            Ending::Open,
            Some(format!("more than {limit} TCP flows were open at once (--max-flows): this one, the oldest, was no longer followed")),
        );
    }

    /// Ends a flow: flushes its buffers and settles its session.
    pub(super) fn retire(&mut self, key: FlowKey, ending: Ending) {
        self.retire_with(key, ending, None);
    }

    /// Like [`Pipeline::retire`], with a limit warning for its connection.
    fn retire_with(&mut self, key: FlowKey, ending: Ending, limit_note: Option<String>) {
        let Some(mut entry) = self.flows.remove(&key) else {
            return;
        };
        self.buffered_total -= entry.app.buffered;
        let conns = &mut self.capture.connections;
        let config = &self.config;
        let (number, ts) = self.last;
        let Flow { tcp, app, .. } = &mut *entry;
        let session = &mut app.session;
        tcp.flush(number, ts, &mut |side, ev| {
            session.event(side, ev, conns, config)
        });
        session.finish(conns, ending);
        *self.capture.stats.flows.entry(session.kind()).or_default() += 1;
        self.capture.stats.tls_keys_matched += u64::from(session.tls_key_found());
        if let Some(tls) = session.tls_flow()
            && self.capture.tls_flows.len() < crate::model::MAX_TLS_FLOWS_LISTED
        {
            self.capture.tls_flows.push(tls);
        }
        self.claim_new_connections(key);
        let index = entry.app.session.connection_index();
        if let (Some(note), Some(c)) = (limit_note, index) {
            self.capture.connections[c].warning(
                crate::rules::Warning::LimitReached,
                None,
                None,
                note,
            );
        }
        if self.streaming.is_none() {
            if self.compacting
                && let Some(conn) = index.and_then(|i| self.capture.connections.get_mut(i))
            {
                settle(conn, self.config.idle_threshold);
                conn.compact(entry.last_packet, self.config.idle_threshold);
            }
            return;
        }
        let finished = index.map(|i| {
            let mut conn = self.take_connection(i);
            settle(&mut conn, self.config.idle_threshold);
            conn
        });
        if let Some(s) = self.streaming.as_mut() {
            s.events.push(FlowEvent::Ended {
                order: entry.order,
                connection: finished.map(Box::new),
            });
        }
    }
}

/// The analyses that need a connection's whole life: heartbeat warnings (idle gaps, no
/// closing handshake, RFC 6455 §5.5.2 and §7) and the count of violations not listed.
pub(super) fn settle(conn: &mut Connection, idle_threshold: f64) {
    crate::analysis::heartbeat::annotate(conn, idle_threshold);
    for (rule, n) in std::mem::take(&mut conn.suppressed) {
        conn.warning(
            crate::rules::Warning::LimitReached,
            None,
            None,
            format!(
                "{n} more {} violations were counted but not listed (at most {} per rule are kept)",
                rule.code(),
                crate::model::MAX_VIOLATIONS_PER_RULE
            ),
        );
    }
}
