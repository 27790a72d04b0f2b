//! The simulator's engine: one day at a time, time-ordered, deterministic.

use seldom_model::Timestamp;

use crate::attacks::{AttackPlan, plan_attacks};
use crate::behaviour;
use crate::day::{DAY, Day, SimEvent, TruthRecord};
use crate::internet::Internet;
use crate::org::{Organization, SimConfig};
use crate::stories::{Story, StoryRecord, plan_stories};

/// Generates the organization's telemetry, one day at a time.
pub struct Simulator {
    pub config: SimConfig,
    pub org: Organization,
    internet: Internet,
    attacks: Vec<AttackPlan>,
    stories: Vec<Story>,
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
        let stories = plan_stories(&config, &org);
        Ok(Simulator {
            config,
            org,
            internet,
            attacks,
            stories,
            start_micros: start.as_micros(),
            next_day: 0,
        })
    }

    /// The alerts the injected attacks and stories must raise, in time
    /// order.
    pub fn truth(&self) -> Vec<TruthRecord> {
        let mut truth: Vec<TruthRecord> = self
            .attacks
            .iter()
            .map(|a| a.truth(&self.org, self.start_micros))
            .chain(
                self.stories
                    .iter()
                    .flat_map(|s| s.truth(&self.org, self.start_micros).0),
            )
            .collect();
        truth.sort_by_key(|t| t.time);
        truth
    }

    /// What the injected stories must be found as (one incident with every
    /// host; an escalated beacon), in time order.
    pub fn stories(&self) -> Vec<StoryRecord> {
        let mut stories: Vec<StoryRecord> = self
            .stories
            .iter()
            .map(|s| s.truth(&self.org, self.start_micros).1)
            .collect();
        stories.sort_by_key(|s| s.first);
        stories
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
        for story in self.stories.iter().filter(|s| s.day() == day) {
            story.inject(&mut builder, &self.org);
        }
        let mut events = builder.events;
        events.sort_by_key(|e| e.time);
        Some(events)
    }
}
