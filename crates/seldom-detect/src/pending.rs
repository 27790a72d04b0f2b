//! Rare connections waiting, up to a deadline, for their process's start.
//!
//! Kept by deadline, so that expiry takes only what is due, and counted per
//! host, so that a process start looks at the waiting list only when its host
//! has something in it. Both matter under a flood of rare connections: a
//! plain list scanned on every event made the detector quadratic in the
//! pending bound.

use std::collections::BTreeMap;

use seldom_model::{HostName, Timestamp};
use serde::{Deserialize, Serialize};

use crate::fast_map::FastMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pending<T> {
    /// By (deadline, arrival): equal deadlines keep their arrival order.
    waiting: BTreeMap<(Timestamp, u64), (HostName, T)>,
    per_host: FastMap<HostName, usize>,
    arrivals: u64,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            waiting: BTreeMap::new(),
            per_host: FastMap::default(),
            arrivals: 0,
        }
    }
}

impl<T> Pending<T> {
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// The earliest deadline waiting.
    pub fn first_deadline(&self) -> Option<Timestamp> {
        self.waiting
            .first_key_value()
            .map(|((deadline, _), _)| *deadline)
    }

    pub fn push(&mut self, host: &HostName, deadline: Timestamp, item: T) {
        self.arrivals += 1;
        self.waiting
            .insert((deadline, self.arrivals), (host.clone(), item));
        *self.per_host.entry(host.clone()).or_default() += 1;
    }

    /// The item with the earliest deadline, if that deadline is at or before `now`
    /// (any deadline with `None`).
    pub fn pop_due(&mut self, now: Option<Timestamp>) -> Option<T> {
        let entry = self.waiting.first_entry()?;
        if now.is_some_and(|now| entry.key().0 > now) {
            return None;
        }
        let (host, item) = entry.remove();
        self.forget_one(&host);
        Some(item)
    }

    /// Takes, in deadline order, the items of `host` that `ready` accepts.
    pub fn take_ready(&mut self, host: &HostName, mut ready: impl FnMut(&T) -> bool) -> Vec<T> {
        if !self.per_host.contains_key(host) {
            return Vec::new();
        }
        let keys: Vec<(Timestamp, u64)> = self
            .waiting
            .iter()
            .filter(|(_, (h, item))| h == host && ready(item))
            .map(|(key, _)| *key)
            .collect();
        let mut taken = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some((host, item)) = self.waiting.remove(&key) {
                self.forget_one(&host);
                taken.push(item);
            }
        }
        taken
    }

    fn forget_one(&mut self, host: &HostName) {
        if let Some(n) = self.per_host.get_mut(host) {
            *n -= 1;
            if *n == 0 {
                self.per_host.remove(host);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seldom_model::HostNaming;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_micros(s * 1_000_000)
    }

    #[test]
    fn due_items_leave_in_deadline_order_and_hosts_are_counted() {
        let a = HostName::normalize("a", HostNaming::Short).unwrap();
        let b = HostName::normalize("b", HostNaming::Short).unwrap();
        let mut p = Pending::default();
        p.push(&a, t(30), "a30");
        p.push(&b, t(10), "b10");
        p.push(&a, t(20), "a20");
        assert_eq!(p.pop_due(Some(t(5))), None);
        assert_eq!(p.pop_due(Some(t(20))), Some("b10"));
        assert_eq!(p.take_ready(&b, |_| true), Vec::<&str>::new());
        assert_eq!(p.take_ready(&a, |i| *i == "a30"), vec!["a30"]);
        assert_eq!(p.len(), 1);
        assert_eq!(p.pop_due(None), Some("a20"));
        assert!(p.per_host.is_empty());
    }
}
