//! `seldom serve`'s web UI in a real browser: headless Chromium, driven by
//! Playwright (`tests/browser/ui.mjs`), against a server fed with a simulated
//! organization plus two alerts of our own whose command line carries markup.
//! The script signs in to the overview (incidents on several hosts, alerts
//! above Informational, Informational groups with sparklines), opens the
//! simulation's spread as an incident and its alerts, a group as the filtered
//! list, and the simulation's beacon with its contacts on a time line (on its
//! alert's page and its destination's page); then
//! finds and opens such an alert, checks the markup shows
//! as text and never runs, acknowledges it, allowlists its destination (which
//! resolves the other alert), reads the status page, and takes a screenshot.
//!
//! Needs `/usr/bin/chromium` and `node`: without them the test is skipped,
//! except under `CI=true`, where it fails. `SELDOM_UPDATE_SCREENSHOT=1` copies
//! the screenshot (`target/serve-ui.png`) to `docs/serve-ui.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::serve::{self, Server};
use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";
const COMMAND_LINE: &str =
    r#"powershell.exe -c "<script>alert(1)</script><img src=x onerror=alert(2)>""#;
const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
/// A documentation address (TEST-NET-3): the simulation never uses it.
const DESTINATION: &str = "203.0.113.77";
const LINES_PER_BATCH: usize = 4000;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Whether the browser and Node.js are here; under `CI=true` they must be.
fn browser_available() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let chromium = Path::new(CHROMIUM).is_file();
    if node && chromium {
        return true;
    }
    let missing = [(!chromium).then_some(CHROMIUM), (!node).then_some("node")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" and ");
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but {missing} is missing: .ci/run must install chromium and nodejs"
    );
    eprintln!("skipping the browser test: {missing} not found");
    false
}

/// `npm ci` in tests/browser when Playwright is not installed there yet.
fn ensure_playwright(dir: &Path) {
    if dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--silent"])
        .current_dir(dir)
        .output()
        .expect("npm runs");
    assert!(
        out.status.success(),
        "npm ci in {} failed ({}):\n{}\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// 32 random hex characters.
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("/dev/urandom readable");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A detection config that keeps the default internal networks but treats
/// TEST-NET-3 (where [`DESTINATION`] lives) as external, so it can alert.
fn write_config(path: &Path) {
    let networks: Vec<&str> = seldom_detect::destination::DEFAULT_INTERNAL_NETWORKS
        .iter()
        .copied()
        .filter(|n| *n != "203.0.113.0/24")
        .collect();
    assert_eq!(
        networks.len() + 1,
        seldom_detect::destination::DEFAULT_INTERNAL_NETWORKS.len(),
        "203.0.113.0/24 is no longer a default internal network: simplify the config"
    );
    let list = networks
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(path, format!("[detect]\ninternal_networks = [{list}]\n")).unwrap();
}

/// The process start of powershell.exe with markup in its command line and its
/// connection to [`DESTINATION`], as Winlogbeat 8 lines shaped exactly like the
/// simulation's Sysmon event 1 and 3 lines of the same host.
fn injected_pair(start: &Value, connection: &Value, time: &str, n: u32) -> [String; 2] {
    let guid = format!("{{5e1d0000-b0b0-0000-0000-{:012x}}}", 0xb00 + n);
    let pid = (7100 + n).to_string();
    let utc = |t: &str| format!("{} {}", &t[..10], &t[11..23]);
    let t1 = format!("{time}:0{n}.000000Z");
    let t3 = format!("{time}:0{n}.500000Z");

    let mut a = start.clone();
    a["@timestamp"] = t1.clone().into();
    a["winlog"]["record_id"] = (9_000_000 + 2 * n).into();
    let d = &mut a["winlog"]["event_data"];
    d["UtcTime"] = utc(&t1).into();
    d["ProcessGuid"] = guid.clone().into();
    d["ProcessId"] = pid.clone().into();
    d["Image"] = POWERSHELL.into();
    d["CommandLine"] = COMMAND_LINE.into();
    d["OriginalFileName"] = "PowerShell.EXE".into();

    let mut b = connection.clone();
    b["@timestamp"] = t3.clone().into();
    b["winlog"]["record_id"] = (9_000_001 + 2 * n).into();
    let d = &mut b["winlog"]["event_data"];
    d["UtcTime"] = utc(&t3).into();
    d["ProcessGuid"] = guid.into();
    d["ProcessId"] = pid.into();
    d["Image"] = POWERSHELL.into();
    d["DestinationIp"] = DESTINATION.into();
    d["DestinationPort"] = "443".into();
    d["DestinationHostname"] = "-".into();
    d["SourcePort"] = (51_000 + n).to_string().into();
    [a.to_string(), b.to_string()]
}

/// Simulates the organization and appends the two injected pairs, on two
/// Windows hosts, to its telemetry; returns the lines.
fn telemetry(dir: &Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_seldom"))
        .args([
            "simulate", "--hosts", "40", "--days", "16", "--seed", "3", "--out",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seldom simulate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("telemetry.jsonl")).unwrap();
    assert!(
        !text.contains(DESTINATION) && !text.contains("5e1d0000-b0b0"),
        "the simulation already uses {DESTINATION} or the injected process GUIDs"
    );
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();

    // The first Sysmon process start and connection of each Windows host, in
    // order of appearance; and the latest event time.
    let mut hosts: Vec<(String, Option<Value>, Option<Value>)> = Vec::new();
    let mut latest = String::new();
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap();
        if let Some(t) = v["@timestamp"].as_str()
            && t > latest.as_str()
        {
            latest = t.to_owned();
        }
        let (Some(host), Some(id)) = (v["host"]["name"].as_str(), v["winlog"]["event_id"].as_u64())
        else {
            continue;
        };
        if v["agent"]["type"] != "winlogbeat" || !(id == 1 || id == 3) {
            continue;
        }
        let i = match hosts.iter().position(|(h, _, _)| h == host) {
            Some(i) => i,
            None => {
                hosts.push((host.to_owned(), None, None));
                hosts.len() - 1
            }
        };
        let slot = if id == 1 {
            &mut hosts[i].1
        } else {
            &mut hosts[i].2
        };
        slot.get_or_insert(v);
    }
    let pairs: Vec<(Value, Value)> = hosts
        .into_iter()
        .filter_map(|(_, s, c)| Some((s?, c?)))
        .take(2)
        .collect();
    assert_eq!(
        pairs.len(),
        2,
        "fewer than two Windows hosts in the simulation"
    );

    // On the last day, an hour before the latest event: the service holds the
    // last reorder window (10 min) of event time until later events come, so
    // these arrive late and are detected at once.
    let hour: u32 = latest[11..13].parse().unwrap();
    assert!(
        hour >= 1,
        "the last simulated day ends before 01:00: {latest}"
    );
    let time = format!("{}T{:02}:00", &latest[..10], hour - 1);
    for (n, (start, connection)) in (0..).zip(&pairs) {
        lines.extend(injected_pair(start, connection, &time, n));
    }
    lines
}

/// POSTs the lines in batches; a full queue (429) is retried.
fn ingest(server: &Server, lines: &[String]) {
    for chunk in lines.chunks(LINES_PER_BATCH) {
        let body = chunk.join("\n") + "\n";
        let mut tries = 0;
        loop {
            let (status, answer) = server.send("POST", "/api/v1/ingest", body.as_bytes(), &[]);
            if status == 429 && tries < 60 {
                tries += 1;
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            assert_eq!(status, 200, "ingest: {answer}");
            break;
        }
    }
}

/// What the server has written to stderr so far.
fn log(server: &Server) -> String {
    server.log.try_iter().collect::<Vec<_>>().join("\n")
}

/// Runs a command to its end or until `limit`, when it is killed.
fn run_with_limit(command: &mut Command, limit: Duration) -> (Output, bool) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("command starts");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    (output, timed_out)
}

#[test]
fn the_web_ui_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let root = repo_root();
    let browser_dir = root.join("tests/browser");
    ensure_playwright(&browser_dir);

    let dir = tempfile::tempdir().unwrap();
    let lines = telemetry(&dir.path().join("org"));
    let config = dir.path().join("serve.toml");
    write_config(&config);
    let token = random_token();
    let server = serve::start(
        &dir.path().join("state"),
        Some(&token),
        &[
            "--config",
            config.to_str().unwrap(),
            "--activation-days",
            "14",
            "--checkpoint-interval",
            "1s",
        ],
    );
    ingest(&server, &lines);

    // Both injected alerts (their command lines contain `script`).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, page) = server.get("/api/v1/alerts?q=script");
        if status == 200 && page["total"].as_u64().unwrap_or(0) >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the injected alerts did not appear in 20 s: {status} {page}\n{}",
            log(&server)
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let screenshot = root.join("target/serve-ui.png");
    let _ = std::fs::remove_file(&screenshot);
    let (out, timed_out) = run_with_limit(
        Command::new("node")
            .arg(browser_dir.join("ui.mjs"))
            .arg(&server.base)
            .arg(&token)
            .arg(&screenshot)
            .current_dir(&browser_dir),
        Duration::from_secs(180),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stdout}");
    assert!(
        out.status.success() && !timed_out,
        "tests/browser/ui.mjs failed ({}{}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- seldom serve\n{}",
        out.status,
        if timed_out {
            ", killed after 180 s"
        } else {
            ""
        },
        log(&server)
    );

    let png = std::fs::read(&screenshot).expect("the screenshot was saved");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} is not a real PNG",
        screenshot.display()
    );
    if std::env::var("SELDOM_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        let docs = root.join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("serve-ui.png"), &png).unwrap();
        eprintln!("updated {}", docs.join("serve-ui.png").display());
    }
    drop(server);
}
