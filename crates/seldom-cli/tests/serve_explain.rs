//! `GET /api/v1/explain` on a service that has detected a simulated
//! organization: an alert explained from its evidence (the same steps and
//! winning row it was raised with), what a connection would meet now (an
//! internal address stops it, a destination never seen passes prevalence
//! and activation, and an image picks its catalog row), and refusals that
//! name what is wrong.

mod common;

use common::serve;
use serde_json::Value;

fn step<'a>(explanation: &'a Value, check: &str) -> &'a Value {
    explanation["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["check"] == check))
        .unwrap_or_else(|| panic!("no {check} step in {explanation}"))
}

#[test]
fn alerts_and_would_be_connections_are_explained() {
    let work = tempfile::tempdir().expect("a folder");
    let out = common::seldom()
        .args([
            "simulate", "--hosts", "60", "--days", "17", "--seed", "4", "--out",
        ])
        .arg(work.path().join("sim"))
        .output()
        .expect("seldom simulate");
    assert!(out.status.success());
    let server = serve::start(&work.path().join("state"), None, &[]);
    let sent = common::seldom()
        .args(["send", "--url", &server.base])
        .arg(work.path().join("sim/telemetry.jsonl"))
        .output()
        .expect("seldom send");
    assert!(sent.status.success());
    let page = server.wait_for("/api/v1/alerts?severity=low&limit=1", |p| {
        p["alerts"].as_array().is_some_and(|a| !a.is_empty())
    });
    let alert = &page["alerts"][0]["alert"];
    let id = alert["id"].as_str().expect("an id");

    let (status, explained) = server.get(&format!("/api/v1/explain/alerts/{id}"));
    assert_eq!(status, 200, "{explained}");
    assert!(
        explained["outcome"]
            .as_str()
            .is_some_and(|o| o.starts_with(&format!("alert {id} raised"))),
        "{explained}"
    );
    let hosts = alert["prevalence"]["hosts_in_window"]
        .as_u64()
        .expect("evidence");
    assert!(
        step(&explained, "prevalence")["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with(&format!("{hosts} other hosts"))),
        "{explained}"
    );
    let rows = explained["catalog"].as_array().expect("rows");
    let winner = rows
        .iter()
        .find(|r| r["variation"] == alert["variation"])
        .expect("the alert's row");
    assert_eq!(winner["matched"], true);

    let host = alert["host"].as_str().expect("a host");
    let (status, internal) = server.get(&format!(
        "/api/v1/explain/connection?host={host}&destination=10.1.2.3"
    ));
    assert_eq!(status, 200, "{internal}");
    assert_eq!(step(&internal, "internal address")["outcome"], "stop");
    assert_eq!(internal["outcome"], "no alert: stopped at internal address");

    let (status, fresh) = server.get(&format!(
        "/api/v1/explain/connection?host={host}&destination=never-seen.example.org&image=C:%5CWindows%5CSystem32%5Ccurl.exe"
    ));
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(fresh["key"], "example.org");
    assert_eq!(step(&fresh, "prevalence")["outcome"], "pass");
    assert_eq!(step(&fresh, "activation")["outcome"], "pass");
    assert!(
        fresh["catalog"].as_array().is_some_and(|rows| rows
            .iter()
            .any(|r| r["variation"] == "curl" && r["matched"] == true)),
        "{fresh}"
    );
    assert_eq!(fresh["outcome"], "an alert");

    for (query, field) in [
        ("", "host"),
        ("?host=ws1", "destination"),
        ("?host=ws1&destination=x.org&time=yesterday", "time"),
        ("?host=ws1&destination=x.org&platform=amiga", "platform"),
        ("?host=ws1&destination=%20", "destination"),
        ("?host=ws1&destination=x.org&colour=red", "colour"),
    ] {
        let (status, refused) = server.get(&format!("/api/v1/explain/connection{query}"));
        assert_eq!(status, 400, "{query}: {refused}");
        assert!(
            refused["error"].as_str().is_some_and(|e| e.contains(field)),
            "{query}: {refused}"
        );
    }
    assert_eq!(server.get("/api/v1/explain/alerts/nope").0, 404);
    assert_eq!(
        server
            .get("/api/v1/explain/connection?host=-&destination=x.org")
            .0,
        404
    );
}
