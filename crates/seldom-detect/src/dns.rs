//! DNS attribution: which name a process asked for before connecting to an IP.
//!
//! For each host, the recent answers of its DNS queries, by address. A
//! connection takes the forward name of the latest answer for its destination
//! within the DNS window before it, preferring an answer to the same process.

use std::net::IpAddr;
use std::sync::Arc;

use seldom_model::{HostName, Micros, ProcessIdentity, Timestamp};
use serde::{Deserialize, Serialize};

use crate::fast_map::FastMap;

/// Answers kept per (host, address): enough to prefer the same process
/// without letting a chatty resolver grow memory.
const ANSWERS_PER_ADDRESS: usize = 4;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Answer {
    time: Timestamp,
    /// Shared by every address of one query's answer.
    name: Arc<str>,
    process: Asker,
}

/// The process that asked, compact: every answer of every query keeps one,
/// and a copy of the GUID string would be an allocation each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Asker {
    pid: Option<u32>,
    /// xxh3 of the GUID: within one host's recent queries a collision is
    /// out of reach, and an attacker gains nothing from one (both processes
    /// then asked for a name of the host's own choosing).
    guid: Option<u64>,
}

impl Asker {
    fn of(process: &ProcessIdentity) -> Asker {
        Asker {
            pid: process.pid,
            guid: process
                .guid
                .as_deref()
                .map(|g| xxhash_rust::xxh3::xxh3_64(g.as_bytes())),
        }
    }

    /// The same process: by GUID where the sensor gives one, else by pid.
    fn is(&self, other: &Asker) -> bool {
        match (self.guid, other.guid) {
            (Some(mine), Some(theirs)) => mine == theirs,
            (None, _) => self.pid.is_some() && self.pid == other.pid,
            (Some(_), None) => false,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DnsAttribution {
    window: Micros,
    hosts: FastMap<HostName, FastMap<IpAddr, Vec<Answer>>>,
}

impl DnsAttribution {
    pub fn new(window: Micros) -> Self {
        DnsAttribution {
            window,
            hosts: FastMap::default(),
        }
    }

    pub fn record(
        &mut self,
        host: &HostName,
        time: Timestamp,
        name: &str,
        answers: &[IpAddr],
        process: &ProcessIdentity,
    ) {
        if answers.is_empty() || name.is_empty() {
            return;
        }
        if !self.hosts.contains_key(host) {
            self.hosts.insert(host.clone(), FastMap::default());
        }
        let Some(table) = self.hosts.get_mut(host) else {
            return;
        };
        let name: Arc<str> = Arc::from(name);
        let asker = Asker::of(process);
        for ip in answers {
            let list = table.entry(*ip).or_default();
            list.push(Answer {
                time,
                name: name.clone(),
                process: asker,
            });
            if list.len() > ANSWERS_PER_ADDRESS {
                list.remove(0);
            }
        }
    }

    /// The forward name for a connection from `process` on `host` to `ip` at `at`.
    pub fn forward_name(
        &self,
        host: &HostName,
        ip: IpAddr,
        at: Timestamp,
        process: &ProcessIdentity,
    ) -> Option<&str> {
        let answers = self.hosts.get(host)?.get(&ip)?;
        let fresh = |a: &&Answer| a.time <= at && at.since(a.time) <= self.window;
        let asker = Asker::of(process);
        let same_process = |a: &&Answer| asker.is(&a.process);
        answers
            .iter()
            .rev()
            .filter(fresh)
            .find(same_process)
            .or_else(|| answers.iter().rev().find(fresh))
            .map(|a| &*a.name)
    }

    /// Forgets answers older than the window before `now`.
    pub fn expire(&mut self, now: Timestamp) {
        let oldest = now.minus(self.window);
        for table in self.hosts.values_mut() {
            table.retain(|_, answers| {
                answers.retain(|a| a.time >= oldest);
                !answers.is_empty()
            });
        }
        self.hosts.retain(|_, table| !table.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seldom_model::HostNaming;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_micros(1_600_000_000_000_000 + s * 1_000_000)
    }

    #[test]
    fn same_process_is_preferred_and_stale_answers_ignored() {
        let host = HostName::normalize("ws", HostNaming::Short).unwrap();
        let ip: IpAddr = "151.101.0.133".parse().unwrap();
        let me = ProcessIdentity {
            pid: Some(1),
            guid: Some("me".into()),
        };
        let other = ProcessIdentity {
            pid: Some(2),
            guid: Some("other".into()),
        };
        let mut dns = DnsAttribution::new(Micros::of(std::time::Duration::from_secs(60)));
        dns.record(&host, t(0), "mine.example.com", &[ip], &me);
        dns.record(&host, t(10), "theirs.example.net", &[ip], &other);
        assert_eq!(
            dns.forward_name(&host, ip, t(20), &me),
            Some("mine.example.com")
        );
        assert_eq!(
            dns.forward_name(&host, ip, t(20), &ProcessIdentity::default()),
            Some("theirs.example.net")
        );
        assert_eq!(
            dns.forward_name(&host, ip, t(65), &me),
            Some("theirs.example.net")
        );
        assert_eq!(dns.forward_name(&host, ip, t(200), &me), None);
        assert_eq!(
            dns.forward_name(&host, ip, t(-1), &me),
            None,
            "answers after the connection do not count"
        );
        dns.expire(t(200));
        assert!(dns.hosts.is_empty());
    }
}
