//! What the organization does on an ordinary day, one small model per behaviour.
//!
//! | model | who | what |
//! |---|---|---|
//! | [`desktop`] | Windows workstations | a logon: explorer, a browser |
//! | [`browsing`] | Windows workstations | sites by Zipf-like popularity, DNS first; a long tail of one-off sites |
//! | [`saas_adoption`] | one team at a time | a SaaS app adopted mid-window: rare at first, common later |
//! | [`updaters`] | every Windows host | an updater and a telemetry agent to their vendors |
//! | [`developer`] | developers | Visual Studio building (MSBuild fetching packages), VS Code extensions, curl |
//! | [`linux_server`] | Linux servers | package manager, monitoring agent, cron jobs with curl, wget, python |
//!
//! Weekends and nights are quieter. CDN-served sites answer DNS with addresses
//! that rotate per query from a shared pool, while the name stays the same.

use std::net::Ipv4Addr;

use crate::day::{Day, Proc};
pub use crate::internet::{Internet, stable_ip};
use crate::org::{Host, Role, SimConfig};

/// How busy an hour is: weekdays 8–18 busy, nights and weekends quiet.
fn activity(day_of_week: u32) -> f64 {
    if day_of_week >= 5 { 0.15 } else { 1.0 }
}

/// Monday is 0 (the default start, 2024-03-04, is a Monday).
fn weekday(day: &Day<'_>) -> u32 {
    ((day.day_start / 86_400_000_000 + 3) % 7) as u32
}

/// A process running since before the telemetry began (a service manager, a
/// daemon): no start event, a stable GUID per host.
fn resident(host: &Host, tag: u8, pid: u32, image: &str, command_line: &str) -> Proc {
    Proc {
        guid: format!("{{{:08x}-0000-0000-0000-0000000000{tag:02x}}}", host.index),
        pid,
        image: image.to_owned(),
        command_line: command_line.to_owned(),
        original_file_name: None,
    }
}

/// Everything a host does in one day.
pub fn host_day(day: &mut Day<'_>, host: &Host, config: &SimConfig) {
    match host.role {
        Role::Workstation | Role::Developer => {
            updaters(day, host);
            if day.rng.f64() < activity(weekday(day)) {
                let (explorer, browser) = desktop(day, host);
                browsing(day, host, &browser);
                saas_adoption(day, host, &browser, config);
                if host.role == Role::Developer {
                    developer(day, host, &explorer);
                }
            }
        }
        Role::WindowsServer => updaters(day, host),
        Role::LinuxServer => linux_server(day, host),
    }
}

/// A logon: explorer, then a browser.
pub fn desktop(day: &mut Day<'_>, host: &Host) -> (Proc, Proc) {
    let login = 7.5 + day.rng.f64() * 2.0;
    let t = day.at(login);
    let explorer = day.spawn(
        host,
        t,
        "C:\\Windows\\explorer.exe",
        "C:\\Windows\\Explorer.EXE",
        None,
    );
    let t = day.later(t, 30.0);
    let browser = day.spawn(
        host,
        t,
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
        "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\"",
        Some(&explorer),
    );
    (explorer, browser)
}

/// Browsing: 10–40 visits, mostly popular sites, some one-off sites.
pub fn browsing(day: &mut Day<'_>, host: &Host, browser: &Proc) {
    let visits = 10 + day.rng.u32(0..30);
    for n in 0..visits {
        let hour = 9.0 + day.rng.f64() * 9.0;
        let t = day.at(hour);
        let name = if day.rng.f64() < 0.02 {
            // Real-world noise: a site only this user visits, once.
            format!("www.oneoff-{}-{}-{n}.net", host.index, day.day)
        } else {
            format!("www.{}", day.internet.popular_site(&mut day.rng))
        };
        day.visit(host, t, browser, &name, 443);
    }
}

/// A SaaS app adopted by one team after another from mid-window.
pub fn saas_adoption(day: &mut Day<'_>, host: &Host, browser: &Proc, config: &SimConfig) {
    let adopted_on = config.days / 3 + host.team * 2;
    if day.day >= adopted_on && day.rng.f64() < 0.8 {
        let t = day.at_random(10.0, 6.0);
        day.visit(host, t, browser, "app.newsaas.io", 443);
    }
}

/// The vendor updater and the telemetry agent, on every Windows host.
pub fn updaters(day: &mut Day<'_>, host: &Host) {
    let t = day.at_random(0.0, 23.0);
    let services = resident(
        host,
        0x01,
        680,
        "C:\\Windows\\System32\\services.exe",
        "C:\\Windows\\system32\\services.exe",
    );
    let updater = day.spawn(
        host,
        t,
        "C:\\Program Files\\VendorA\\Update\\updater.exe",
        "updater.exe /silent",
        Some(&services),
    );
    let t = day.later(t, 2.0);
    day.visit(host, t, &updater, "update.vendor-a.com", 443);
    let t = day.at_random(0.0, 23.0);
    let agent = day.spawn(
        host,
        t,
        "C:\\Program Files\\VendorB\\agent.exe",
        "agent.exe --report",
        Some(&services),
    );
    for _ in 0..3 {
        let t2 = day.later_random(t, 600.0);
        day.visit(host, t2, &agent, "telemetry.vendor-b.com", 443);
    }
    periodic_sync(day, host, &services);
}

/// A sync agent that checks in every hour ± 5 % all day, as vendor agents
/// do: benign periodic traffic beside the injected beacon (every host uses
/// the one address, so it is never rare and never escalated).
pub fn periodic_sync(day: &mut Day<'_>, host: &Host, services: &Proc) {
    let mut t = day.at_random(0.0, 1.0);
    let agent = day.spawn(
        host,
        t,
        "C:\\Program Files\\VendorC\\sync.exe",
        "sync.exe --service",
        Some(services),
    );
    let answers = [crate::internet::stable_ip("sync.vendor-c.com", 0)];
    day.resolve(host, t, &agent, "sync.vendor-c.com", &answers, None);
    while t.as_micros() < day.day_start + 86_000_000_000 {
        let at = day.later(t, 0.05);
        day.connect(host, at, &agent, answers[0], 443);
        let jitter = 1.0 + (day.rng.f64() - 0.5) * 0.1;
        t = day.later(t, 3_600.0 * jitter);
    }
}

/// Developers: Visual Studio builds (MSBuild fetches packages), VS Code with
/// extensions, curl from scripts to known endpoints.
pub fn developer(day: &mut Day<'_>, host: &Host, explorer: &Proc) {
    let t = day.at_random(9.5, 1.0);
    let devenv = day.spawn(
        host,
        t,
        "C:\\Program Files\\Microsoft Visual Studio\\2022\\Professional\\Common7\\IDE\\devenv.exe",
        "devenv.exe Solution.sln",
        Some(explorer),
    );
    for _ in 0..1 + day.rng.u32(0..3) {
        let t = day.at_random(10.0, 7.0);
        let msbuild = day.spawn(
            host,
            t,
            "C:\\Program Files\\Microsoft Visual Studio\\2022\\Professional\\MSBuild\\Current\\Bin\\MSBuild.exe",
            "MSBuild.exe Solution.sln /restore",
            Some(&devenv),
        );
        let t = day.later(t, 1.0);
        day.visit(host, t, &msbuild, "api.nuget.org", 443);
    }
    let t = day.at_random(9.6, 1.0);
    let code = day.spawn(
        host,
        t,
        "C:\\Users\\dev\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe",
        "\"Code.exe\"",
        Some(explorer),
    );
    let t = day.later(t, 5.0);
    let ext_host = day.spawn(
        host,
        t,
        "C:\\Users\\dev\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe",
        "\"Code.exe\" --type=extensionHost",
        Some(&code),
    );
    let t = day.later(t, 3.0);
    day.visit(host, t, &ext_host, "marketplace.visualstudio.com", 443);
    let t = day.later(t, 60.0);
    day.visit(host, t, &ext_host, "update.code.visualstudio.com", 443);
    let t = day.at_random(11.0, 5.0);
    let cmd = day.spawn(
        host,
        t,
        "C:\\Windows\\System32\\cmd.exe",
        "cmd.exe /c scripts\\release.cmd",
        Some(explorer),
    );
    let t = day.later(t, 1.0);
    let curl = day.spawn(
        host,
        t,
        "C:\\Windows\\System32\\curl.exe",
        "curl.exe -s https://api.github.com/repos/corp/app",
        Some(&cmd),
    );
    let t = day.later(t, 0.5);
    day.visit(host, t, &curl, "api.github.com", 443);
    let t = day.later(t, 2.0);
    let internal = day.spawn(
        host,
        t,
        "C:\\Windows\\System32\\curl.exe",
        "curl.exe http://10.20.0.5/api/health",
        Some(&cmd),
    );
    day.connect(host, t, &internal, Ipv4Addr::new(10, 20, 0, 5), 80);
}

/// Linux servers: apt, a monitoring agent, cron jobs with curl, wget and python.
/// Sysmon for Linux logs no DNS: these destinations are keyed by address.
pub fn linux_server(day: &mut Day<'_>, host: &Host) {
    let cron = resident(host, 0xc0, 812, "/usr/sbin/cron", "/usr/sbin/cron -f");
    let t = day.at_random(6.0, 1.0);
    let apt = day.spawn(
        host,
        t,
        "/usr/bin/apt-get",
        "apt-get update -q",
        Some(&cron),
    );
    let t = day.later(t, 1.0);
    let http = day.spawn(
        host,
        t,
        "/usr/lib/apt/methods/http",
        "/usr/lib/apt/methods/http",
        Some(&apt),
    );
    day.connect(host, t, &http, stable_ip("deb.debian.org", 0), 80);
    let agent = resident(
        host,
        0xa9,
        901,
        "/opt/monitor/bin/agent",
        "/opt/monitor/bin/agent --config /etc/monitor.yml",
    );
    for hour in [1.0, 7.0, 13.0, 19.0] {
        let t = day.at_random(hour, 1.0);
        day.connect(
            host,
            t,
            &agent,
            stable_ip("ingest.monitor-saas.com", 0),
            443,
        );
    }
    for (hour, image, command, destination, port) in [
        (
            2.0,
            "/usr/bin/curl",
            "curl -fsS https://hc-ping.example-health.com/ping",
            "hc-ping.example-health.com",
            443,
        ),
        (
            3.0,
            "/usr/bin/wget",
            "wget -q https://mirror.example-cdn.org/feed.json",
            "mirror.example-cdn.org",
            443,
        ),
        (
            4.0,
            "/usr/bin/python3.11",
            "python3 /opt/jobs/sync.py",
            "pypi.org",
            443,
        ),
    ] {
        let t = day.at_random(hour, 0.5);
        let shell = day.spawn(
            host,
            t,
            "/bin/sh",
            &format!("/bin/sh -c {command}"),
            Some(&cron),
        );
        let t = day.later(t, 0.01);
        let job = day.spawn(host, t, image, command, Some(&shell));
        let t = day.later(t, 0.2);
        day.connect(host, t, &job, stable_ip(destination, 0), port);
    }
}
