//! The first stage: one input partition, read as it comes. It keeps only the
//! clocks of the hosts it has seen, to say how far it has come; routing each
//! event to its host partition is the transport's job
//! ([`super::host_partition`]).

use seldom_model::Event;
use serde::{Deserialize, Serialize};

use super::Progress;
use crate::clock::OrgClock;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceTask {
    partition: u32,
    quorum: usize,
    clock: OrgClock,
}

impl SourceTask {
    /// The task of input partition `partition`; `quorum` is the detector's
    /// `clock_quorum`.
    pub fn new(partition: u32, quorum: u32) -> Self {
        SourceTask {
            partition,
            quorum: quorum.max(1) as usize,
            clock: OrgClock::default(),
        }
    }

    /// Notes an event read from the partition.
    pub fn observe(&mut self, event: &Event) {
        let host = xxhash_rust::xxh3::xxh3_64(event.host.as_str().as_bytes());
        self.clock.observe(host, event.time, self.quorum);
    }

    /// Its mark; `caught_up` when nothing more is to be read for now.
    pub fn progress(&self, caught_up: bool) -> Progress {
        Progress {
            from: self.partition,
            through: self.clock.now(),
            idle: caught_up,
            leaders: self.clock.leaders().to_vec(),
            platforms: Vec::new(),
            activity: Vec::new(),
        }
    }
}
