//! The simulator's engine: one day at a time, time-ordered, deterministic.

use std::net::Ipv4Addr;

use seldom_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::attacks::{AttackPlan, plan_attacks};
use crate::behaviour::{self, Internet};
use crate::org::{Host, Organization, SimConfig};

const SECOND: i64 = 1_000_000;
const DAY: i64 = 86_400 * SECOND;

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
    next_pid: u32,
    next_guid: u64,
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

/// Generates the organization's telemetry, one day at a time.
pub struct Simulator {
    pub config: SimConfig,
    pub org: Organization,
    internet: Internet,
    attacks: Vec<AttackPlan>,
    start_micros: i64,
    next_day: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("simulate: `start` must be a date YYYY-MM-DD, got {0:?}")]
pub struct BadStart(String);

impl Simulator {
    pub fn new(config: SimConfig) -> Result<Simulator, BadStart> {
        let start = Timestamp::parse(&format!("{} 00:00:00", config.start))
            .ok_or_else(|| BadStart(config.start.clone()))?;
        let org = Organization::new(&config);
        let internet = Internet::new(config.seed);
        let attacks = plan_attacks(&config, &org);
        Ok(Simulator {
            config,
            org,
            internet,
            attacks,
            start_micros: start.as_micros(),
            next_day: 0,
        })
    }

    /// The injected attacks, in time order.
    pub fn truth(&self) -> Vec<TruthRecord> {
        let mut truth: Vec<TruthRecord> = self
            .attacks
            .iter()
            .map(|a| a.truth(&self.org, self.start_micros))
            .collect();
        truth.sort_by_key(|t| t.time);
        truth
    }

    /// The next day's events in time order, or `None` after the last day.
    pub fn next_day(&mut self) -> Option<Vec<SimEvent>> {
        if self.next_day >= self.config.days {
            return None;
        }
        let day = self.next_day;
        self.next_day += 1;
        let seed = self.config.seed ^ (u64::from(day) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut builder = Day {
            rng: fastrand::Rng::with_seed(seed),
            day,
            day_start: self.start_micros + i64::from(day) * DAY,
            internet: &self.internet,
            events: Vec::new(),
            next_pid: 1000,
            next_guid: 0,
        };
        for host in &self.org.hosts {
            if host.joins_day <= day {
                behaviour::host_day(&mut builder, host, &self.config);
            }
        }
        for attack in self.attacks.iter().filter(|a| a.day == day) {
            attack.inject(&mut builder, &self.org.hosts[attack.host as usize]);
        }
        let mut events = builder.events;
        events.sort_by_key(|e| e.time);
        Some(events)
    }
}
