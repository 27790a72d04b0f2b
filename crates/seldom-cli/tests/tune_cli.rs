//! `seldom tune` against real scans: on a simulated organization and on lab
//! recordings, the cell of each of three settings holds exactly the alerts,
//! incidents and alerts per variation that `seldom scan` raises with those
//! settings; and a bad grid is refused naming its flag.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// (alerts, incidents, alerts by variation) of a scan with these settings.
fn scan(paths: &[&Path], settings: &[&str]) -> (u64, u64, BTreeMap<String, u64>) {
    let out = common::seldom()
        .args(["scan", "--format", "jsonl", "-q"])
        .args(paths)
        .args(settings)
        .output()
        .expect("seldom scan");
    common::assert_success(&out);
    let alerts = common::json_lines(&out.stdout);
    let mut incidents = std::collections::BTreeSet::new();
    let mut by = BTreeMap::new();
    for alert in &alerts {
        incidents.insert(
            alert["incident"]["id"]
                .as_str()
                .expect("an incident")
                .to_owned(),
        );
        *by.entry(alert["variation"].as_str().expect("a variation").to_owned())
            .or_default() += 1;
    }
    (alerts.len() as u64, incidents.len() as u64, by)
}

fn tune(paths: &[&Path], settings: &[&str]) -> Vec<Value> {
    let out = common::seldom()
        .args(["tune", "--json"])
        .args(paths)
        .args(settings)
        .output()
        .expect("seldom tune");
    common::assert_success(&out);
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert!(
        report["host_days"].as_u64().is_some_and(|n| n > 0),
        "{report}"
    );
    report["cells"].as_array().expect("cells").clone()
}

fn cell(cells: &[Value], rare_hosts: u64, training_days: u64) -> &Value {
    cells
        .iter()
        .find(|c| c["rare_hosts"] == rare_hosts && c["training_days"] == training_days)
        .unwrap_or_else(|| panic!("no cell {rare_hosts}/{training_days}"))
}

fn agrees(cells: &[Value], paths: &[&Path], extra: &[&str], rare: u64, days: u64) {
    let (rare_s, days_s) = (rare.to_string(), days.to_string());
    let mut settings = vec!["--rare-hosts", &rare_s, "--training-days", &days_s];
    settings.extend_from_slice(extra);
    let (alerts, incidents, by) = scan(paths, &settings);
    let c = cell(cells, rare, days);
    assert_eq!(c["alerts"], alerts, "alerts at {rare}/{days}: {c}");
    assert_eq!(c["incidents"], incidents, "incidents at {rare}/{days}: {c}");
    let tuned: BTreeMap<String, u64> =
        serde_json::from_value(c["by_variation"].clone()).expect("counts");
    assert_eq!(tuned, by, "by variation at {rare}/{days}");
}

#[test]
fn each_cell_is_what_scan_raises_with_its_settings_on_a_simulated_organization() {
    let dir = tempfile::tempdir().expect("a folder");
    let telemetry = common::simulate(dir.path(), 50, 20, 8);
    let paths = [telemetry.as_path()];
    let cells = tune(&paths, &[]);
    // 10 thresholds x 3 windows.
    assert_eq!(cells.len(), 30);
    // More hosts allowed is never fewer alerts; the cells differ.
    let alerts = |r: u64, w: u64| cell(&cells, r, w)["alerts"].as_u64().unwrap();
    assert!(alerts(1, 30) <= alerts(3, 30) && alerts(3, 30) <= alerts(10, 30));
    assert!(
        alerts(1, 30) < alerts(10, 7),
        "the grid should span a range"
    );
    for (rare, days) in [(3, 30), (1, 7), (5, 14)] {
        agrees(&cells, &paths, &[], rare, days);
    }
}

#[test]
fn each_cell_is_what_scan_raises_on_lab_recordings() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    // Lab recordings are minutes long and sit on private networks: no
    // activation, nothing internal, as the corpus tests scan them.
    let extra = [
        "--activation-days",
        "0",
        "--internal-networks",
        "127.0.0.0/8",
    ];
    let paths: Vec<std::path::PathBuf> = ["evtx-attack-samples", "otrf"]
        .iter()
        .map(|d| corpus.join(d))
        .filter(|p| p.exists())
        .collect();
    assert!(
        !paths.is_empty(),
        "no evtx-attack-samples or otrf folder in {}",
        corpus.display()
    );
    let paths: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let cells = tune(&paths, &extra);
    let total: u64 = cells.iter().map(|c| c["alerts"].as_u64().unwrap()).sum();
    assert!(total > 0, "the recordings should alert in some cell");
    for (rare, days) in [(3, 30), (1, 7), (5, 14)] {
        agrees(&cells, &paths, &extra, rare, days);
    }
}

#[test]
fn a_bad_grid_is_refused_naming_its_flag() {
    let dir = tempfile::tempdir().expect("a folder");
    let out = common::seldom()
        .args(["tune", "--grid-rare-hosts", "3-1"])
        .arg(dir.path())
        .output()
        .expect("seldom tune");
    common::assert_refused(&out, "--grid-rare-hosts");
    let out = common::seldom()
        .args(["tune", "--grid-training-days", "0"])
        .arg(dir.path())
        .output()
        .expect("seldom tune");
    common::assert_refused(&out, "--grid-training-days");
}
