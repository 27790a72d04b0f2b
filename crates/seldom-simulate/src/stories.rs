//! Injected stories that span more than one alert: a spread and a beacon,
//! placed after activation, each with the truth of what must be found.
//!
//! - **Spread**: an Office macro on the first host starts rundll32, which
//!   calls a fresh domain; in the next three hours the payload runs on four
//!   more hosts and calls the same domain. The first three hosts alert (the
//!   destination is rare: fewer than 3 other hosts); the fourth and fifth do
//!   not, and must be listed in the one incident as its spread.
//! - **Beacon**: rundll32, started from explorer (no Office parent, so the
//!   general, Informational variation), calls a fresh address every 300 s
//!   ± 10 % for 8 hours; its alert must be escalated.
//!
//! The benign periodic traffic they stand beside is `behaviour::updaters`'
//! hourly sync agent on every Windows host.

use std::net::Ipv4Addr;

use seldom_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::day::{Day, TruthRecord};
use crate::org::{Host, Organization, Role, SimConfig};

const RUNDLL32: &str = "C:\\Windows\\System32\\rundll32.exe";
const PAYLOAD: &str = "C:\\Users\\Public\\msupdate.exe";
/// Hosts a spread reaches.
pub const SPREAD_HOSTS: usize = 5;
/// A beacon's timer and how long it runs.
const BEACON_INTERVAL: f64 = 300.0;
const BEACON_CONTACTS: usize = 96;

/// What a story must be found as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryRecord {
    /// `spread` or `beacon`.
    pub story: String,
    /// Every host the story reaches, in order.
    pub hosts: Vec<String>,
    pub ip: Ipv4Addr,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub domain: Option<String>,
    pub first: Timestamp,
    pub last: Timestamp,
}

#[derive(Debug, Clone)]
pub enum Story {
    Spread {
        hosts: Vec<u32>,
        day: u32,
        second: u32,
        ip: Ipv4Addr,
        domain: String,
    },
    Beacon {
        host: u32,
        day: u32,
        second: u32,
        ip: Ipv4Addr,
    },
}

/// One spread and one beacon, when the organization has the workstations
/// and the days after activation.
pub fn plan_stories(config: &SimConfig, org: &Organization) -> Vec<Story> {
    let mut rng = fastrand::Rng::with_seed(config.seed ^ 0x5709_1E55);
    let first_day = config.activation_days + 1;
    if config.stories == 0 || first_day >= config.days {
        return Vec::new();
    }
    let mut stories = Vec::new();
    for _ in 0..config.stories {
        let day = rng.u32(first_day..config.days);
        let mut workstations: Vec<u32> = org
            .hosts
            .iter()
            .filter(|h| h.role == Role::Workstation && h.joins_day <= day)
            .map(|h| h.index)
            .collect();
        rng.shuffle(&mut workstations);
        if workstations.len() <= SPREAD_HOSTS {
            break;
        }
        stories.push(Story::Spread {
            hosts: workstations[..SPREAD_HOSTS].to_vec(),
            day,
            second: rng.u32(9 * 3600..12 * 3600),
            ip: Ipv4Addr::new(185, 220, rng.u8(0..255), rng.u8(1..255)),
            domain: format!("cdn-{:x}.top", rng.u32(..)),
        });
        stories.push(Story::Beacon {
            host: workstations[SPREAD_HOSTS],
            day,
            second: rng.u32(8 * 3600..10 * 3600),
            ip: Ipv4Addr::new(91, 219, rng.u8(0..255), rng.u8(1..255)),
        });
    }
    stories
}

impl Story {
    pub fn day(&self) -> u32 {
        match self {
            Story::Spread { day, .. } | Story::Beacon { day, .. } => *day,
        }
    }

    /// Seconds after the story's start of each host's (or each beacon's)
    /// contact: deterministic, so truth and telemetry agree.
    fn offsets(&self) -> Vec<f64> {
        match self {
            // A host every 40 minutes or so: five in under three hours.
            Story::Spread { .. } => (0..SPREAD_HOSTS).map(|i| i as f64 * 2_400.0).collect(),
            Story::Beacon { .. } => {
                let jitter = [0.0, 0.07, -0.09, 0.03, -0.05, 0.1, -0.02, 0.06, -0.08, 0.01];
                let mut t = 0.0;
                (0..BEACON_CONTACTS)
                    .map(|i| {
                        let at = t;
                        t += BEACON_INTERVAL * (1.0 + jitter[i % jitter.len()]);
                        at
                    })
                    .collect()
            }
        }
    }

    fn start(&self, start_micros: i64) -> i64 {
        let (day, second) = match self {
            Story::Spread { day, second, .. } | Story::Beacon { day, second, .. } => {
                (*day, *second)
            }
        };
        start_micros + i64::from(day) * 86_400_000_000 + i64::from(second) * 1_000_000
    }

    /// The alerts it must raise (scored like attacks) and what it must be
    /// found as.
    pub fn truth(&self, org: &Organization, start_micros: i64) -> (Vec<TruthRecord>, StoryRecord) {
        let start = self.start(start_micros);
        let at = |offset: f64| Timestamp::from_micros(start + (offset * 1e6) as i64);
        let offsets = self.offsets();
        match self {
            Story::Spread {
                hosts, ip, domain, ..
            } => {
                let names: Vec<String> = hosts
                    .iter()
                    .map(|h| org.hosts[*h as usize].short_name())
                    .collect();
                // The first three alert; the rest are the spread.
                let alerts = names
                    .iter()
                    .zip(&offsets)
                    .take(3)
                    .enumerate()
                    .map(|(i, (host, offset))| TruthRecord {
                        host: host.clone(),
                        time: at(*offset),
                        variation: if i == 0 {
                            "office-lolbin"
                        } else {
                            "rare-external-host"
                        }
                        .to_owned(),
                        image: if i == 0 { RUNDLL32 } else { PAYLOAD }.to_owned(),
                        ip: *ip,
                        port: 443,
                        domain: Some(domain.clone()),
                        note: format!("Spread (host {} of {SPREAD_HOSTS})", i + 1),
                    })
                    .collect();
                let story = StoryRecord {
                    story: "spread".into(),
                    hosts: names,
                    ip: *ip,
                    domain: Some(domain.clone()),
                    first: at(offsets[0]),
                    last: at(offsets[SPREAD_HOSTS - 1]),
                };
                (alerts, story)
            }
            Story::Beacon { host, ip, .. } => {
                let name = org.hosts[*host as usize].short_name();
                let alert = TruthRecord {
                    host: name.clone(),
                    time: at(offsets[0]),
                    variation: "rare-external-host".into(),
                    image: RUNDLL32.into(),
                    ip: *ip,
                    port: 443,
                    domain: None,
                    note: "Beacon (every 300 s ± 10 % for 8 h)".into(),
                };
                let story = StoryRecord {
                    story: "beacon".into(),
                    hosts: vec![name],
                    ip: *ip,
                    domain: None,
                    first: at(offsets[0]),
                    last: at(offsets[offsets.len() - 1]),
                };
                (vec![alert], story)
            }
        }
    }

    /// Writes the story's processes, DNS answers and connections for the day.
    pub fn inject(&self, day: &mut Day<'_>, org: &Organization) {
        let start = Timestamp::from_micros(day.day_start + i64::from(self.second()) * 1_000_000);
        let at = |offset: f64| Timestamp::from_micros(start.as_micros() + (offset * 1e6) as i64);
        let offsets = self.offsets();
        match self {
            Story::Spread {
                hosts, ip, domain, ..
            } => {
                for (i, (index, offset)) in hosts.iter().zip(&offsets).enumerate() {
                    let host = &org.hosts[*index as usize];
                    let t = at(*offset);
                    let explorer = explorer(day, host, at(offset - 900.0));
                    let actor = if i == 0 {
                        let word = day.spawn(
                            host,
                            at(offset - 60.0),
                            "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
                            "\"WINWORD.EXE\" /n \"C:\\Users\\user\\Downloads\\remittance.docm\"",
                            Some(&explorer),
                        );
                        day.spawn(
                            host,
                            at(offset - 2.0),
                            RUNDLL32,
                            "rundll32.exe C:\\Users\\Public\\m.dll,Start",
                            Some(&word),
                        )
                    } else {
                        day.spawn(host, at(offset - 2.0), PAYLOAD, PAYLOAD, Some(&explorer))
                    };
                    day.resolve(host, at(offset - 0.5), &actor, domain, &[*ip], None);
                    day.connect(host, t, &actor, *ip, 443);
                }
            }
            Story::Beacon { host, ip, .. } => {
                let host = &org.hosts[*host as usize];
                let explorer = explorer(day, host, at(-900.0));
                let actor = day.spawn(
                    host,
                    at(-2.0),
                    RUNDLL32,
                    "rundll32.exe C:\\ProgramData\\svc.dll,Run",
                    Some(&explorer),
                );
                for offset in offsets {
                    day.connect(host, at(offset), &actor, *ip, 443);
                }
            }
        }
    }

    fn second(&self) -> u32 {
        match self {
            Story::Spread { second, .. } | Story::Beacon { second, .. } => *second,
        }
    }
}

fn explorer(day: &mut Day<'_>, host: &Host, time: Timestamp) -> crate::day::Proc {
    day.spawn(
        host,
        time,
        "C:\\Windows\\explorer.exe",
        "C:\\Windows\\Explorer.EXE",
        None,
    )
}
