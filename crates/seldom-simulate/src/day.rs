//! One simulated day: the events it holds (process starts, DNS, connections)
//! and the builder that places them in time, deterministically.

use std::net::Ipv4Addr;

use seldom_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::internet::Internet;
use crate::org::Host;

const SECOND: i64 = 1_000_000;
pub(crate) const DAY: i64 = 86_400 * SECOND;

/// One simulated telemetry event.
#[derive(Debug, Clone)]
pub struct SimEvent {
    pub time: Timestamp,
    pub host: u32,
    pub kind: SimKind,
}

#[derive(Debug, Clone)]
pub enum SimKind {
    Start {
        process: Proc,
        parent: Option<Proc>,
        user: String,
    },
    Dns {
        process: Proc,
        name: String,
        answers: Vec<Ipv4Addr>,
        cname: Option<String>,
    },
    Connect {
        process: Proc,
        ip: Ipv4Addr,
        port: u16,
        source_port: u16,
        user: String,
    },
}

/// A simulated process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub guid: String,
    pub pid: u32,
    pub image: String,
    pub command_line: String,
    pub original_file_name: Option<String>,
}

/// An injected attack: what must be found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthRecord {
    pub host: String,
    pub time: Timestamp,
    pub variation: String,
    pub image: String,
    pub ip: Ipv4Addr,
    pub port: u16,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub domain: Option<String>,
    pub note: String,
}

/// Builds the events of one day.
pub struct Day<'a> {
    pub rng: fastrand::Rng,
    pub day: u32,
    pub day_start: i64,
    pub internet: &'a Internet,
    pub events: Vec<SimEvent>,
    pub(crate) next_pid: u32,
    pub(crate) next_guid: u64,
}

impl<'a> Day<'a> {
    /// A time on this day, `hour` (fractional) past midnight, with seconds jitter.
    pub fn at(&mut self, hour: f64) -> Timestamp {
        let micros =
            (hour.clamp(0.0, 23.99) * 3600.0 * SECOND as f64) as i64 + self.rng.i64(0..SECOND);
        Timestamp::from_micros(self.day_start + micros)
    }

    /// A time between `from_hour` and `from_hour + span_hours`.
    pub fn at_random(&mut self, from_hour: f64, span_hours: f64) -> Timestamp {
        let hour = from_hour + self.rng.f64() * span_hours;
        self.at(hour)
    }

    /// Up to `max_seconds` after `t`.
    pub fn later_random(&mut self, t: Timestamp, max_seconds: f64) -> Timestamp {
        let seconds = self.rng.f64() * max_seconds;
        self.later(t, seconds)
    }

    pub fn later(&mut self, t: Timestamp, seconds: f64) -> Timestamp {
        Timestamp::from_micros(
            t.as_micros() + (seconds * SECOND as f64) as i64 + self.rng.i64(0..1000),
        )
    }

    pub fn spawn(
        &mut self,
        host: &Host,
        time: Timestamp,
        image: &str,
        command_line: &str,
        parent: Option<&Proc>,
    ) -> Proc {
        self.next_pid = self.next_pid.wrapping_add(4 + self.rng.u32(0..64)) % 60_000 + 100;
        self.next_guid += 1;
        let guid = format!(
            "{{{:08x}-{:04x}-{:04x}-{:04x}-{:012x}}}",
            host.index,
            self.day,
            (self.next_guid >> 32) as u16,
            (self.next_guid >> 16) as u16,
            self.next_guid & 0xffff_ffff_ffff
        );
        let base = image.rsplit(['\\', '/']).next().unwrap_or(image);
        let process = Proc {
            guid,
            pid: self.next_pid,
            image: image.to_owned(),
            command_line: command_line.to_owned(),
            original_file_name: image.contains('\\').then(|| base.to_owned()),
        };
        self.events.push(SimEvent {
            time,
            host: host.index,
            kind: SimKind::Start {
                process: process.clone(),
                parent: parent.cloned(),
                user: host.user.clone(),
            },
        });
        process
    }

    /// A DNS query and its answer (Windows only: Sysmon for Linux logs none).
    pub fn resolve(
        &mut self,
        host: &Host,
        time: Timestamp,
        process: &Proc,
        name: &str,
        answers: &[Ipv4Addr],
        cname: Option<&str>,
    ) {
        if host.platform() != seldom_model::Platform::Windows {
            return;
        }
        self.events.push(SimEvent {
            time,
            host: host.index,
            kind: SimKind::Dns {
                process: process.clone(),
                name: name.to_owned(),
                answers: answers.to_vec(),
                cname: cname.map(str::to_owned),
            },
        });
    }

    pub fn connect(
        &mut self,
        host: &Host,
        time: Timestamp,
        process: &Proc,
        ip: Ipv4Addr,
        port: u16,
    ) {
        let source_port = self.rng.u16(49152..65535);
        self.events.push(SimEvent {
            time,
            host: host.index,
            kind: SimKind::Connect {
                process: process.clone(),
                ip,
                port,
                source_port,
                user: host.user.clone(),
            },
        });
    }

    /// Resolves `name` (Windows) and connects to one of its addresses.
    pub fn visit(&mut self, host: &Host, time: Timestamp, process: &Proc, name: &str, port: u16) {
        let (answers, cname) = self.internet.answers(name, &mut self.rng);
        self.resolve(host, time, process, name, &answers, cname.as_deref());
        let ip = answers[self.rng.usize(0..answers.len())];
        let t = self.later(time, 0.05);
        self.connect(host, t, process, ip, port);
    }
}
