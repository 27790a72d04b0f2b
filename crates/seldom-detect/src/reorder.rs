//! The reorder buffer: events held until the organization's clock passes them,
//! then released in event-time order.
//!
//! Keys are (time, kind rank, host hash, arrival): kind and host break ties so
//! that equal timestamps are processed in one order whatever the arrival
//! order. The buffer is bounded in events and in bytes; past a bound its
//! earliest events are released early (counted by the caller), since holding
//! them longer is the only thing an attacker's flood could buy.
//!
//! A service checkpoints it incrementally ([`ReorderBuffer::delta`]): events
//! leave in key order, so what left since the last checkpoint is one prefix
//! (every key up to the largest released), and what arrived is every entry
//! with a later arrival number (plus the rare one that arrived below that
//! prefix). A checkpoint writes only those, never the whole buffer.

use std::collections::BTreeMap;

use seldom_model::{Event, EventKind, Timestamp};

/// Where an event sits in the buffer.
pub type ReorderKey = (Timestamp, u8, u64, u64);

#[derive(Debug, Clone, Default)]
pub struct ReorderBuffer {
    /// Boxed: a B-tree node holds its values inline and shifts them on every
    /// insert and removal, and an event is several hundred bytes (on a
    /// simulated organization the buffer's memory moves cost more than the
    /// rest of its work).
    events: BTreeMap<ReorderKey, Box<Event>>,
    /// About how many bytes the buffered events hold.
    bytes: usize,
    /// Arrival numbers from here on are not in the last checkpoint.
    checkpointed_seq: u64,
    /// The largest key ever released (events leave in key order).
    released_through: Option<ReorderKey>,
}

/// What changed since the last checkpoint.
#[derive(Debug, Clone)]
pub struct ReorderDelta {
    /// Every stored key up to this one has left the buffer.
    pub released_through: Option<ReorderKey>,
    /// Events that arrived since and are still buffered.
    pub added: Vec<(ReorderKey, Event)>,
    /// The arrival number the checkpoint covers (see [`ReorderBuffer::committed`]).
    pub upto_seq: u64,
}

/// The kind rank that orders simultaneous events: a process starts before it
/// asks DNS, connects, and ends.
pub fn kind_rank(kind: &EventKind) -> u8 {
    match kind {
        EventKind::ProcessStart(_) => 0,
        EventKind::DnsQuery(_) => 1,
        EventKind::NetworkConnection(_) => 2,
        EventKind::ProcessEnd(_) => 3,
    }
}

impl ReorderBuffer {
    pub fn insert(&mut self, key: ReorderKey, event: Event) {
        self.bytes += event.approx_bytes();
        if let Some(old) = self.events.insert(key, Box::new(event)) {
            self.bytes = self.bytes.saturating_sub(old.approx_bytes());
        }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The time of the latest buffered event.
    pub fn latest(&self) -> Option<Timestamp> {
        self.events.last_key_value().map(|(key, _)| key.0)
    }

    /// The earliest event, if its time is at or before `upto` (any, if `None`).
    pub fn pop_first_upto(&mut self, upto: Option<Timestamp>) -> Option<Event> {
        let entry = self.events.first_entry()?;
        if upto.is_some_and(|upto| entry.key().0 > upto) {
            return None;
        }
        let key = *entry.key();
        let event = entry.remove();
        self.bytes = self.bytes.saturating_sub(event.approx_bytes());
        self.released_through = Some(self.released_through.map_or(key, |r| r.max(key)));
        Some(*event)
    }

    /// What a checkpoint must write: `next_seq` is the next arrival number.
    pub fn delta(&self, next_seq: u64) -> ReorderDelta {
        ReorderDelta {
            released_through: self.released_through,
            added: self
                .events
                .iter()
                // New since the checkpoint, or below the released prefix the
                // store deletes (an event at the very time of the last one
                // released, arriving after it).
                .filter(|(key, _)| {
                    key.3 >= self.checkpointed_seq || Some(**key) <= self.released_through
                })
                .map(|(key, event)| (*key, Event::clone(event)))
                .collect(),
            upto_seq: next_seq,
        }
    }

    /// Every buffered event, in key order (a partition's snapshot).
    pub fn entries(&self) -> impl Iterator<Item = (&ReorderKey, &Event)> {
        self.events.iter().map(|(key, event)| (key, &**event))
    }

    /// The checkpoint of `delta` was committed.
    pub fn committed(&mut self, delta: &ReorderDelta) {
        self.checkpointed_seq = self.checkpointed_seq.max(delta.upto_seq);
    }

    /// Refills the buffer from a checkpoint; all of it is already stored.
    pub fn restore(
        &mut self,
        entries: impl IntoIterator<Item = (ReorderKey, Event)>,
        next_seq: u64,
    ) {
        for (key, event) in entries {
            self.insert(key, event);
        }
        self.checkpointed_seq = next_seq;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use seldom_model::{
        HostName, HostNaming, Location, Platform, ProcessEnd, ProcessIdentity, SourceFormat,
    };

    use super::*;

    fn event(second: i64) -> Event {
        Event {
            time: Timestamp::from_micros(second * 1_000_000),
            host: HostName::normalize("h", HostNaming::Short).unwrap_or_else(|| unreachable!()),
            platform: Platform::Windows,
            format: SourceFormat::FlatJson,
            event_id: 5,
            origin: Location::at_line(Arc::from("t"), 1),
            kind: EventKind::ProcessEnd(ProcessEnd {
                process: ProcessIdentity::default(),
                image: None,
            }),
        }
    }

    fn key(second: i64, seq: u64) -> ReorderKey {
        (Timestamp::from_micros(second * 1_000_000), 3, 0, seq)
    }

    fn added_seqs(delta: &ReorderDelta) -> Vec<u64> {
        delta.added.iter().map(|(k, _)| k.3).collect()
    }

    #[test]
    fn a_checkpoint_writes_what_arrived_and_the_prefix_that_left() {
        let mut buffer = ReorderBuffer::default();
        for seq in 0..4 {
            buffer.insert(key(10 + seq as i64, seq), event(10 + seq as i64));
        }
        let first = buffer.delta(4);
        assert_eq!(added_seqs(&first), [0, 1, 2, 3]);
        buffer.committed(&first);
        assert!(
            buffer
                .pop_first_upto(Some(Timestamp::from_micros(11_000_000)))
                .is_some()
        );
        assert!(
            buffer
                .pop_first_upto(Some(Timestamp::from_micros(11_000_000)))
                .is_some()
        );
        assert!(
            buffer
                .pop_first_upto(Some(Timestamp::from_micros(11_000_000)))
                .is_none()
        );
        buffer.insert(key(20, 4), event(20));
        let second = buffer.delta(5);
        assert_eq!(second.released_through, Some(key(11, 1)));
        assert_eq!(added_seqs(&second), [4], "only what is new since");
        // An event that arrived below the released prefix is written again,
        // since the store deletes that prefix.
        buffer.insert(key(11, 5), event(11));
        let third = buffer.delta(6);
        assert_eq!(added_seqs(&third), [5, 4]);
        assert_eq!(buffer.len(), 4);
        assert!(buffer.bytes() >= 4 * std::mem::size_of::<Event>());
    }
}
