//! `seldom serve` against a running server on an ephemeral port: the token
//! guard, ingest counts, the alert API with triage, destinations, the
//! allowlist applied retroactively, metrics, and all of it surviving a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::io::Write;
use std::time::Duration;

use common::serve;
use serde_json::{Value, json};

const TOKEN: &str = "test-token-0123456789abcdef";

/// A small simulated organization with attacks after the 14-day activation.
fn telemetry(dir: &std::path::Path) -> Vec<String> {
    common::seldom()
        .args([
            "simulate", "--hosts", "40", "--days", "16", "--seed", "9", "--out",
        ])
        .arg(dir)
        .assert()
        .success();
    std::fs::read_to_string(dir.join("telemetry.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip runs");
    // Written from another thread: gzip's output would otherwise fill its
    // pipe while this one still writes.
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap().stdout;
    writer.join().unwrap().unwrap();
    output
}

#[test]
fn the_api_serves_triages_allowlists_and_survives_a_restart() {
    let work = tempfile::tempdir().unwrap();
    let lines = telemetry(work.path());
    let state = work.path().join("state");
    let server = serve::start(&state, Some(TOKEN), &["--checkpoint-interval", "1s"]);

    // The token guards the API; probes and the UI's assets are open.
    let anonymous = serve::Server::unauthenticated(&server);
    assert_eq!(anonymous.get("/api/v1/alerts").0, 401);
    assert_eq!(anonymous.get_text("/metrics").0, 401);
    assert_eq!(anonymous.get_text("/healthz"), (200, "ok\n".into()));
    let (status, page) = anonymous.get_text("/");
    assert_eq!(status, 200);
    assert!(page.contains(r#"<script type="module" src="/js/main.js">"#));
    let (status, openapi) = anonymous.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    for path in [
        "/api/v1/ingest",
        "/api/v1/alerts",
        "/api/v1/alerts/{id}",
        "/api/v1/destinations/{key}",
        "/api/v1/allowlist",
        "/api/v1/allowlist/{id}",
        "/api/v1/status",
        "/metrics",
        "/healthz",
        "/readyz",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "openapi lacks {path}");
    }

    // Ingest: plain and gzip bodies; a malformed line is counted and located.
    let (first, rest) = lines.split_at(lines.len() / 2);
    let mut with_bad: Vec<&str> = first.iter().map(String::as_str).collect();
    with_bad.insert(10, "{\"winlog\": oops");
    let answer = server.ingest(&with_bad);
    assert_eq!(answer["durable"], true);
    assert_eq!(answer["skipped"]["bad_json"], 1, "{answer}");
    assert_eq!(answer["accepted"].as_u64().unwrap(), first.len() as u64);
    let body = rest.join("\n") + "\n";
    let (status, answer) = server.send("POST", "/api/v1/ingest", &gzip(body.as_bytes()), &[]);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"].as_u64().unwrap(), rest.len() as u64);
    let total = lines.len() as u64;
    server.wait_for("/api/v1/status", |s| {
        s["events_detected"].as_u64() == Some(total) && s["queue_depth"] == 0
    });

    // Alerts: filters, sorting, errors that name the parameter.
    let (_, high) = server.get("/api/v1/alerts?severity=high&limit=1000");
    let high_alerts = high["alerts"].as_array().unwrap();
    assert!(!high_alerts.is_empty(), "no high alert: {high}");
    assert!(high_alerts.iter().all(|a| a["alert"]["severity"] == "high"));
    let (status, bad) = server.get("/api/v1/alerts?sort=sideways");
    assert_eq!(status, 400);
    assert!(bad["error"].as_str().unwrap().contains("sort"));
    let (status, _) = server.get("/api/v1/alerts?colour=red");
    assert_eq!(status, 400);

    // One alert: evidence, then triage.
    let id = high_alerts[0]["alert"]["id"].as_str().unwrap().to_owned();
    let (status, one) = server.get(&format!("/api/v1/alerts/{id}"));
    assert_eq!(status, 200);
    assert_eq!(one["source_events"][0]["kind"], "network_connection");
    assert_eq!(one["triage"]["status"], "new");
    let patch = json!({"status": "acknowledged", "note": "looking", "by": "ana"});
    let (status, patched) = server.send(
        "PATCH",
        &format!("/api/v1/alerts/{id}"),
        patch.to_string().as_bytes(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["triage"]["status"], "acknowledged");
    assert_eq!(patched["triage"]["by"], "ana");
    assert_eq!(server.get("/api/v1/alerts/nope").0, 404);

    // The destination as the baseline knows it.
    let key = one["alert"]["destination"]["key"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, destination) = server.get(&format!("/api/v1/destinations/{key}"));
    assert_eq!(status, 200, "{destination}");
    assert!(
        destination["daily"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
    );
    assert!(
        destination["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str())
    );

    // An allowlist entry resolves the open alerts it covers, with itself as reason.
    let informational = server
        .get("/api/v1/alerts?severity=informational&status=new&limit=1")
        .1;
    let target = &informational["alerts"][0]["alert"];
    let target_id = target["id"].as_str().unwrap().to_owned();
    let ip = target["destination"]["ip"].as_str().unwrap();
    let entry = json!({"kind": "ip", "value": ip, "reason": "test: known partner", "by": "ana"});
    let (status, added) = server.send(
        "POST",
        "/api/v1/allowlist",
        entry.to_string().as_bytes(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(status, 201, "{added}");
    assert!(added["resolved_alerts"].as_u64().unwrap() >= 1);
    let (_, resolved) = server.get(&format!("/api/v1/alerts/{target_id}"));
    assert_eq!(resolved["triage"]["status"], "resolved");
    assert!(
        resolved["triage"]["reason"]
            .as_str()
            .unwrap()
            .contains("test: known partner")
    );
    let bad_entry = json!({"kind": "cidr", "value": "not-a-net", "reason": "x"});
    let (status, refused) = server.send(
        "POST",
        "/api/v1/allowlist",
        bad_entry.to_string().as_bytes(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(status, 400);
    assert!(refused["error"].as_str().unwrap().contains("value"));

    // Metrics in Prometheus text.
    let (status, metrics) = server.get_text("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("seldom_events_in_total{format=\"winlogbeat\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("seldom_activation_days_seen{platform=\"windows\"}"));
    let alerts_before = server.get("/api/v1/alerts?limit=1").1["total"].clone();

    // SIGTERM: a clean stop; a restart keeps alerts, triage and the allowlist.
    assert_eq!(server.stop(), Some(0));
    let server = serve::start(&state, Some(TOKEN), &[]);
    assert_eq!(
        server.get("/api/v1/alerts?limit=1").1["total"],
        alerts_before
    );
    assert_eq!(
        server.get(&format!("/api/v1/alerts/{id}")).1["triage"]["status"],
        "acknowledged"
    );
    assert_eq!(
        server.get(&format!("/api/v1/alerts/{target_id}")).1["triage"]["status"],
        "resolved"
    );
    let (_, allow) = server.get("/api/v1/allowlist");
    assert_eq!(allow["entries"].as_array().unwrap().len(), 1);
}

#[test]
fn unsafe_settings_and_oversized_bodies_are_refused() {
    let work = tempfile::tempdir().unwrap();
    // Beyond loopback without a token: refused, naming what is missing.
    let output = common::seldom()
        .args(["serve", "--listen", "0.0.0.0:0", "--state"])
        .arg(work.path().join("a"))
        .env_remove("SELDOM_TOKEN")
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("token"));
    // A config field that does not exist is named.
    let config = work.path().join("serve.toml");
    std::fs::write(&config, "[serve]\nmax_body = 10\n").unwrap();
    let output = common::seldom()
        .args(["serve", "--config"])
        .arg(&config)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("max_body"));
    // A body over the limit gets 413 and nothing is stored.
    std::fs::write(&config, "[serve]\nmax_body_bytes = 512\n").unwrap();
    let server = serve::start(
        &work.path().join("b"),
        None,
        &["--config", config.to_str().unwrap()],
    );
    let (status, _) = server.send("POST", "/api/v1/ingest", &[b'{'; 2048], &[]);
    assert_eq!(status, 413);
    let (_, status_page) = server.get("/api/v1/status");
    assert_eq!(status_page["events_detected"], 0);
    // Writes from another site, and (without a token) requests addressed to
    // a name other than loopback, are refused.
    let (status, _) = server.send(
        "POST",
        "/api/v1/ingest",
        b"{}\n",
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(status, 403);
    let (status, _) = server.send(
        "GET",
        "/api/v1/status",
        b"",
        &[("Host", "rebound.evil.example")],
    );
    assert_eq!(status, 403);
    // A resent batch with the same id is acknowledged once, detected once.
    let line = r#"{"EventID":3,"Hostname":"WS1","Channel":"Microsoft-Windows-Sysmon/Operational","UtcTime":"2024-01-01 00:00:00.000","ProcessGuid":"{a}","ProcessId":"7","Image":"C:\\x.exe","Protocol":"tcp","Initiated":"true","SourceIp":"10.0.0.5","DestinationIp":"93.184.216.34","DestinationPort":"443"}"#;
    let first = server.send(
        "POST",
        "/api/v1/ingest",
        line.as_bytes(),
        &[("X-Seldom-Batch-Id", "b-1")],
    );
    let again = server.send(
        "POST",
        "/api/v1/ingest",
        line.as_bytes(),
        &[("X-Seldom-Batch-Id", "b-1")],
    );
    assert_eq!(first.0, 200);
    assert_eq!(again.1["duplicate"], true);
    assert_eq!(again.1["batch"], first.1["batch"]);
    server.wait_for("/api/v1/status", |s| {
        s["events_detected"] == 1 && s["queue_depth"] == 0
    });
    let _: Value = server.get("/api/v1/status").1;
}

#[test]
fn tls_serves_https_with_the_given_certificate() {
    let work = tempfile::tempdir().unwrap();
    let (cert, key) = (work.path().join("cert.pem"), work.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let server = serve::start(
        &work.path().join("state"),
        Some(TOKEN),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let curl = |path: &str, token: Option<&str>| {
        let mut command = std::process::Command::new("curl");
        command.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"]);
        command.arg(&cert).arg(format!(
            "{}{path}",
            server.base.replace("127.0.0.1", "localhost")
        ));
        if let Some(token) = token {
            command.args(["-H", &format!("Authorization: Bearer {token}")]);
        }
        String::from_utf8(command.output().expect("curl runs").stdout).unwrap()
    };
    assert_eq!(curl("/healthz", None), "200");
    assert_eq!(curl("/api/v1/status", None), "401");
    assert_eq!(curl("/api/v1/status", Some(TOKEN)), "200");
}

#[test]
fn a_tailed_file_is_followed_across_a_long_line_rotation_and_truncation() {
    let work = tempfile::tempdir().unwrap();
    let lines = telemetry(work.path());
    let path = work.path().join("events.jsonl");
    let write = |lines: &[String], append: bool| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(append)
            .write(true)
            .truncate(!append)
            .open(&path)
            .unwrap();
        file.write_all((lines.join("\n") + "\n").as_bytes())
            .unwrap();
    };
    write(&lines[..1000], false);
    let server = serve::start(
        &work.path().join("state"),
        None,
        &["--tail", path.to_str().unwrap()],
    );
    let detected = |n: u64| {
        server.wait_for("/api/v1/status", |s| {
            s["events_detected"].as_u64() == Some(n) && s["queue_depth"] == 0
        })
    };
    detected(1000);
    // A line longer than a whole read (4 MiB) is skipped, not a stall.
    let long = format!("{{\"x\":\"{}\"}}", "y".repeat(5 << 20));
    let mut more = vec![long];
    more.extend_from_slice(&lines[1000..1500]);
    write(&more, true);
    let status = detected(1500);
    assert_eq!(status["skipped"]["line_too_long"], 1, "{status}");
    // Rotation with unread lines in the old file: they are read first.
    write(&lines[1500..1800], true);
    std::fs::rename(&path, work.path().join("events.jsonl.1")).unwrap();
    write(&lines[1800..2000], false);
    detected(2000);
    // Truncation in place: read again from the start.
    write(&lines[2000..2100], false);
    detected(2100);
}
