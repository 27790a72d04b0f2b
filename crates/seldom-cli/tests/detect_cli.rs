//! `seldom scan` raising alerts, end to end: the real lab recordings give the
//! alerts the corpus README describes; daily scans with `--state` equal one
//! scan of the month; bad state and bad configuration get clear errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use common::{assert_refused, assert_success, corpus, json_lines, seldom};

use std::path::{Path, PathBuf};

use serde_json::Value;

fn alerts(output: &std::process::Output) -> Vec<Value> {
    assert_success(output);
    json_lines(&output.stdout)
}

fn image_name(alert: &Value) -> String {
    let image = alert["process"]["image"].as_str().unwrap_or("");
    image
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The lab networks of the open/ recordings: the victims' own subnets, plus the
/// special ranges. The attackers' private addresses (10.10.10.5, 10.0.2.18,
/// 192.168.3.5) are left external on purpose.
const LAB_INTERNAL: &str = "172.18.0.0/16,192.168.2.0/24,127.0.0.0/8,169.254.0.0/16,224.0.0.0/4,255.255.255.255/32,::1/128,fe80::/10";

#[test]
fn open_lab_recordings_give_the_documented_alerts() {
    let Some(corpus) = corpus() else { return };
    let output = seldom()
        .arg("scan")
        .arg(corpus.join("open"))
        .args([
            "--activation-days",
            "0",
            "--internal-networks",
            LAB_INTERNAL,
            "--format",
            "jsonl",
        ])
        .output()
        .unwrap();
    let alerts = alerts(&output);
    let found = |image: &str, ip: &str, port: u64| {
        alerts.iter().any(|a| {
            image_name(a) == image
                && a["destination"]["ip"] == ip
                && a["destination"]["port"] == port
        })
    };
    for (image, ip, port) in [
        ("mshta.exe", "151.101.0.133", 443),
        ("mshta.exe", "93.184.220.29", 80),
        ("regsvr32.exe", "151.101.0.133", 443),
        ("wmic.exe", "151.101.0.133", 443),
        ("rundll32.exe", "151.101.0.133", 443),
        ("powershell.exe", "151.101.0.133", 443),
        ("certutil.exe", "151.101.0.133", 443),
        ("powershell.exe", "172.217.17.132", 80),
        ("regsvr32.exe", "151.101.128.133", 443),
        ("mshta.exe", "10.0.2.18", 4443),
        ("regsvr32.exe", "10.10.10.5", 8444),
        ("powershell.exe", "10.10.10.5", 80),
        ("installutil.exe", "10.10.10.5", 80),
        ("mshta.exe", "151.101.248.133", 443),
        ("wmic.exe", "151.101.248.133", 443),
        ("powershell.exe", "192.168.3.5", 443),
    ] {
        assert!(
            found(image, ip, port),
            "no alert for {image} -> {ip}:{port}"
        );
    }
    // Empire: the powershell stager is regsvr32's child, and the chain says so.
    let stager = alerts
        .iter()
        .find(|a| image_name(a) == "powershell.exe" && a["destination"]["ip"] == "10.10.10.5")
        .unwrap();
    assert!(
        stager["chain"][0]["image"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase()
            .ends_with("regsvr32.exe")
    );
    // Excel through DCOM talks to Microsoft and Akamai: no Office->LOLBIN alert.
    assert!(alerts.iter().all(|a| a["variation"] != "office-lolbin"));
    // Every alert carries its evidence and the analyst's text.
    for a in &alerts {
        for field in [
            "id",
            "variation",
            "name",
            "severity",
            "attack",
            "first_seen",
            "last_seen",
            "count",
            "host",
            "process",
            "chain",
            "destination",
            "prevalence",
            "also_matched",
            "explanation",
            "description",
            "investigative_actions",
        ] {
            assert!(a.get(field).is_some(), "alert without {field}: {a}");
        }
        assert!(a["prevalence"]["hosts_in_window"].as_u64().unwrap() < 3);
    }
}

#[test]
fn table_format_escapes_attacker_strings() {
    let line = |id: u32, body: &str| {
        format!(
            r#"{{"EventID":{id},"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","UtcTime":"2024-01-01 00:00:0{id}.000","ProcessGuid":"{{p}}","ProcessId":"7",{body}}}"#
        )
    };
    let input = [
        line(1, r#""Image":"C:\\evil.exe","CommandLine":"evil.exe \u001b[31m<script>alert(1)</script>\nfake line""#),
        line(3, r#""Image":"C:\\evil.exe","DestinationIp":"198.18.0.1","DestinationPort":"443","Initiated":"true""#),
    ]
    .join("\n");
    let output = seldom()
        .args(["scan", "-", "--activation-days", "0", "--format", "table"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("<script>alert(1)</script>\\nfake line"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "raw escape reached the terminal");
}

/// A small organization, one JSON-lines file per day, in Sysmon's flat layout.
fn write_org(dir: &Path, days: u32) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for day in 0..days {
        let mut lines = Vec::new();
        for host in 0..4 {
            let time = |second: u32| {
                format!(
                    "2024-03-{:02} {:02}:{:02}:{:02}.000",
                    day + 1,
                    8 + host,
                    second / 60,
                    second % 60
                )
            };
            let guid = format!("{{{day}-{host}}}");
            let common = r#""Channel":"Microsoft-Windows-Sysmon/Operational""#;
            lines.push(format!(r#"{{"EventID":1,{common},"Hostname":"WS{host}","UtcTime":"{}","ProcessGuid":"{guid}","ProcessId":"{}","Image":"C:\\app.exe","CommandLine":"app.exe","ParentImage":"C:\\Windows\\explorer.exe"}}"#, time(0), 100 + host));
            lines.push(format!(r#"{{"EventID":3,{common},"Hostname":"WS{host}","UtcTime":"{}","ProcessGuid":"{guid}","ProcessId":"{}","Image":"C:\\app.exe","DestinationIp":"93.184.216.34","DestinationPort":"443","Initiated":"true"}}"#, time(5), 100 + host));
            // Each host, on some days, reaches a destination of its own.
            if (day + host) % 3 == 0 {
                lines.push(format!(r#"{{"EventID":3,{common},"Hostname":"WS{host}","UtcTime":"{}","ProcessGuid":"{guid}","ProcessId":"{}","Image":"C:\\app.exe","DestinationIp":"198.18.{host}.{day}","DestinationPort":"443","Initiated":"true"}}"#, time(9), 100 + host));
            }
        }
        let path = dir.join(format!("day-{day:02}.json"));
        std::fs::write(&path, lines.join("\n")).unwrap();
        files.push(path);
    }
    files
}

fn alert_ids(output: &std::process::Output) -> Vec<String> {
    alerts(output)
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn daily_scans_with_state_equal_one_scan_of_the_month() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_org(dir.path(), 40);
    let flags = ["--activation-days", "3", "--format", "jsonl"];
    let whole = seldom()
        .arg("scan")
        .args(&files)
        .args(flags)
        .output()
        .unwrap();
    let whole_ids = alert_ids(&whole);
    assert!(whole_ids.len() > 20, "{}", whole_ids.len());

    let state = dir.path().join("state");
    let mut daily_ids = Vec::new();
    for file in &files {
        let day = seldom()
            .arg("scan")
            .arg(file)
            .arg("--state")
            .arg(&state)
            .args(flags)
            .output()
            .unwrap();
        daily_ids.extend(alert_ids(&day));
    }
    assert_eq!(daily_ids, whole_ids);
}

#[test]
fn a_state_file_from_another_configuration_or_corrupt_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_org(dir.path(), 2);
    let state = dir.path().join("state");
    seldom()
        .arg("scan")
        .arg(&files[0])
        .arg("--state")
        .arg(&state)
        .args(["--format", "jsonl"])
        .assert()
        .success();
    let output = seldom()
        .arg("scan")
        .arg(&files[1])
        .arg("--state")
        .arg(&state)
        .args(["--rare-hosts", "5"])
        .output()
        .unwrap();
    assert_refused(&output, "another configuration");
    assert_refused(&output, "rare_hosts=3");

    let garbage = dir.path().join("garbage");
    std::fs::create_dir(&garbage).unwrap();
    std::fs::write(garbage.join("seldom.redb"), vec![0x5a; 8192]).unwrap();
    let output = seldom()
        .arg("scan")
        .arg(&files[1])
        .arg("--state")
        .arg(&garbage)
        .output()
        .unwrap();
    assert_refused(&output, "is it a seldom store?");

    // A file where a folder belongs (a state file of an older seldom, or a
    // typo) is refused, not replaced.
    let file = dir.path().join("old-state.redb");
    std::fs::write(&file, vec![0x5a; 64]).unwrap();
    let output = seldom()
        .arg("scan")
        .arg(&files[1])
        .arg("--state")
        .arg(&file)
        .output()
        .unwrap();
    assert_refused(&output, "names a folder");
    assert_eq!(std::fs::read(&file).unwrap(), vec![0x5a; 64]);
}

#[test]
fn bad_configuration_is_rejected_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("seldom.toml");
    std::fs::write(&config, "rare_hosts = 3\ntraining_dayz = 30\n").unwrap();
    let output = seldom()
        .args(["scan", "-", "--config"])
        .arg(&config)
        .write_stdin("")
        .output()
        .unwrap();
    assert_refused(&output, "training_dayz");
    let output = seldom()
        .args(["scan", "-", "--internal-networks", "10.0.0.0/99"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_refused(&output, "internal_networks");
}

#[test]
fn catalog_prints_and_checks() {
    let output = seldom().arg("catalog").output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("id = \"msbuild-dev\"") && text.contains("[lists.unix_lolbins]"));
    // Generated entries carry their provenance.
    assert!(text.contains(
        "{ name = \"certreq\", from = \"LOLBAS 3403b338 OSBinaries/Certreq.yml: Download, Upload\" }"
    ));
    let lists = seldom().args(["catalog", "--lists"]).output().unwrap();
    let lists = String::from_utf8(lists.stdout).unwrap();
    assert!(lists.contains("unix_lolbins\tvim\tGTFOBins 7382261e _gtfobins/vim: "));
    assert!(lists.contains("windows_lolbins\tpowershell\tcurated: "));
    assert!(lists.contains("msbuild\tdotnet running msbuild\tLOLBAS "));
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, &text).unwrap();
    seldom()
        .arg("catalog")
        .arg("--check")
        .arg(&good)
        .assert()
        .success();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        text.replace("specificity = 40", "specificity = 40\npriority = 1"),
    )
    .unwrap();
    let output = seldom()
        .arg("catalog")
        .arg("--check")
        .arg(&bad)
        .output()
        .unwrap();
    assert_refused(&output, "priority");
}
