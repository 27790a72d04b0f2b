//! The organization: its hosts, their roles and teams, and when they join.

use seldom_model::Platform;
use serde::{Deserialize, Serialize};

/// What to simulate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimConfig {
    pub hosts: u32,
    pub days: u32,
    pub seed: u64,
    /// First day, `YYYY-MM-DD` (UTC midnight).
    pub start: String,
    /// Share of hosts that are Linux servers.
    pub linux_share: f64,
    /// Share of Windows hosts that are developers' workstations.
    pub developer_share: f64,
    /// Share of Windows hosts that are servers.
    pub server_share: f64,
    /// Share of hosts that join after the first day.
    pub late_join_share: f64,
    /// Attacks are placed after this many days (the detection's activation).
    pub activation_days: u32,
    /// Injected attacks per variation.
    pub attacks_per_variation: u32,
    /// Injected stories of each kind (a spread and a beacon: `stories`).
    pub stories: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            hosts: 200,
            days: 21,
            seed: 1,
            start: "2024-03-04".into(),
            linux_share: 0.15,
            developer_share: 0.12,
            server_share: 0.08,
            late_join_share: 0.05,
            activation_days: 14,
            attacks_per_variation: 2,
            stories: 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Workstation,
    Developer,
    WindowsServer,
    LinuxServer,
}

#[derive(Debug, Clone)]
pub struct Host {
    pub index: u32,
    /// The name as the sensor writes it (a fully qualified name).
    pub computer_name: String,
    pub role: Role,
    /// A team of about twenty hosts (SaaS is adopted by teams).
    pub team: u32,
    pub joins_day: u32,
    pub ip: std::net::Ipv4Addr,
    pub user: String,
}

impl Host {
    pub fn platform(&self) -> Platform {
        if self.role == Role::LinuxServer {
            Platform::Linux
        } else {
            Platform::Windows
        }
    }

    /// The host name seldom normalizes this host to.
    pub fn short_name(&self) -> String {
        self.computer_name
            .split('.')
            .next()
            .unwrap_or(&self.computer_name)
            .to_ascii_lowercase()
    }
}

#[derive(Debug, Clone)]
pub struct Organization {
    pub hosts: Vec<Host>,
}

impl Organization {
    pub fn new(config: &SimConfig) -> Organization {
        let mut rng = fastrand::Rng::with_seed(config.seed);
        let hosts = (0..config.hosts)
            .map(|index| {
                let role = if rng.f64() < config.linux_share {
                    Role::LinuxServer
                } else if rng.f64() < config.server_share {
                    Role::WindowsServer
                } else if rng.f64() < config.developer_share {
                    Role::Developer
                } else {
                    Role::Workstation
                };
                let prefix = match role {
                    Role::LinuxServer => "lnx",
                    Role::WindowsServer => "srv",
                    Role::Developer => "dev",
                    Role::Workstation => "ws",
                };
                let joins_day = if index > 0 && rng.f64() < config.late_join_share {
                    rng.u32(1..config.days.max(2))
                } else {
                    0
                };
                Host {
                    index,
                    computer_name: format!("{}{index:05}.corp.example", prefix.to_uppercase()),
                    role,
                    team: index / 20,
                    joins_day,
                    ip: std::net::Ipv4Addr::new(
                        10,
                        1 + (index >> 16) as u8,
                        (index >> 8) as u8,
                        index as u8,
                    ),
                    user: format!("CORP\\user{index:05}"),
                }
            })
            .collect();
        Organization { hosts }
    }

    /// Host-days after activation, for false alerts per 1,000 host-days.
    pub fn host_days_after(&self, activation_days: u32, days: u32) -> u64 {
        self.hosts
            .iter()
            .map(|h| u64::from(days.saturating_sub(activation_days.max(h.joins_day))))
            .sum()
    }
}
