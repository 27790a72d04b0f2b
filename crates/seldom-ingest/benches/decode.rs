//! criterion: decoding one record, beside a bare `serde_json` parse of the
//! same bytes (the ceiling for JSON) in the same group.

use std::sync::Arc;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use seldom_ingest::{JsonDecoder, NormalizeOptions, decode_xml};
use seldom_model::{Location, SourceFormat};
use serde::de::IgnoredAny;

const SYSMON_3_FLAT: &str = r#"{"DestinationPort":"8444","SourceIp":"172.18.39.5","SourceHostname":"-","RuleName":"-","Keywords":-9223372036854775808,"ProviderGuid":"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}","Version":5,"SourceIsIpv6":"false","ProcessGuid":"{b59756a9-b238-5f17-5207-000000000400}","ProcessId":"9384","Channel":"Microsoft-Windows-Sysmon/Operational","@timestamp":"2020-07-22T03:27:55.954Z","DestinationPortName":"-","AccountType":"User","AccountName":"SYSTEM","Task":3,"RecordNumber":1771164,"Initiated":"true","DestinationIp":"10.10.10.5","@version":"1","Domain":"NT AUTHORITY","DestinationHostname":"-","SourceName":"Microsoft-Windows-Sysmon","Protocol":"tcp","Image":"C:\\Windows\\System32\\regsvr32.exe","UtcTime":"2020-07-22 03:27:52.839","Hostname":"WORKSTATION5.mordor.local","SourcePortName":"-","DestinationIsIpv6":"false","host":"wec.internal.cloudapp.net","EventID":3,"User":"MORDOR\\pgustavo","SourcePort":"50247"}"#;
/// A Windows host's Sysmon 3 as `seldom simulate` writes it (Winlogbeat 8).
const SYSMON_3_WINLOGBEAT: &str = r#"{"@timestamp":"2024-03-04T00:01:14.546131Z","host":{"name":"WS00000.corp.example"},"agent":{"type":"winlogbeat","version":"8.12.0"},"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","provider_name":"Microsoft-Windows-Sysmon","event_id":3,"computer_name":"WS00000.corp.example","record_id":3,"event_data":{"UtcTime":"2024-03-04 00:01:14.546","ProcessGuid":"{00000000-0000-0000-0000-000000000003}","ProcessId":"1459","Image":"C:\\Program Files\\VendorC\\sync.exe","User":"CORP\\user00000","Protocol":"tcp","Initiated":"true","SourceIsIpv6":"false","SourceIp":"10.1.0.0","SourcePort":"60097","DestinationIsIpv6":"false","DestinationIp":"54.14.173.63","DestinationHostname":"-","DestinationPort":"443"}}}"#;
const IRRELEVANT_FLAT: &str = r#"{"SourceName":"Microsoft-Windows-Sysmon","Channel":"Microsoft-Windows-Sysmon/Operational","EventID":10,"Hostname":"WORKSTATION5.mordor.local","SourceImage":"C:\\Windows\\system32\\svchost.exe","TargetImage":"C:\\Windows\\system32\\lsass.exe","GrantedAccess":"0x1000","UtcTime":"2020-07-22 03:27:52.839"}"#;
const SYSMON_3_XML: &str = r#"<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>3</EventID><Version>5</Version><Level>4</Level><Task>3</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2022-05-11T18:10:22.139000000Z"/><EventRecordID>245801</EventRecordID><Correlation/><Execution ProcessID="1590" ThreadID="1590"/><Channel>Linux-Sysmon/Operational</Channel><Computer>UBUNTU5</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2022-05-11 18:10:22.139</Data><Data Name="ProcessGuid">{94325212-fc0e-627b-4804-97a36d550000}</Data><Data Name="ProcessId">17806</Data><Data Name="Image">bash</Data><Data Name="User">tomcat</Data><Data Name="Protocol">tcp</Data><Data Name="Initiated">true</Data><Data Name="SourceIsIpv6">false</Data><Data Name="SourceIp">192.168.2.5</Data><Data Name="SourceHostname">-</Data><Data Name="SourcePort">39634</Data><Data Name="SourcePortName">-</Data><Data Name="DestinationIsIpv6">false</Data><Data Name="DestinationIp">192.168.2.6</Data><Data Name="DestinationHostname">-</Data><Data Name="DestinationPort">443</Data><Data Name="DestinationPortName">-</Data></EventData></Event>"#;

fn decode(c: &mut Criterion) {
    let origin = Location::at_line(Arc::from("bench"), 1);
    let mut group = c.benchmark_group("json_record");
    group.bench_function("baseline: serde_json IgnoredAny", |b| {
        b.iter(|| serde_json::from_str::<IgnoredAny>(black_box(SYSMON_3_FLAT)))
    });
    let mut decoder = JsonDecoder::new(NormalizeOptions::default());
    group.bench_function("seldom: Sysmon 3, flat layout, to an event", |b| {
        b.iter(|| decoder.decode(black_box(SYSMON_3_FLAT), origin.clone()))
    });
    // The same lines walked by serde_json's deserializer instead of the
    // scanner (`--no-json-scanner`).
    let mut serde_walk = JsonDecoder::new(NormalizeOptions {
        json_scanner: false,
        ..NormalizeOptions::default()
    });
    group.bench_function("seldom: Sysmon 3, flat layout, serde walk", |b| {
        b.iter(|| serde_walk.decode(black_box(SYSMON_3_FLAT), origin.clone()))
    });
    group.bench_function("baseline: serde_json IgnoredAny, Winlogbeat", |b| {
        b.iter(|| serde_json::from_str::<IgnoredAny>(black_box(SYSMON_3_WINLOGBEAT)))
    });
    group.bench_function("seldom: Sysmon 3, Winlogbeat, to an event", |b| {
        b.iter(|| decoder.decode(black_box(SYSMON_3_WINLOGBEAT), origin.clone()))
    });
    group.bench_function("seldom: Sysmon 3, Winlogbeat, serde walk", |b| {
        b.iter(|| serde_walk.decode(black_box(SYSMON_3_WINLOGBEAT), origin.clone()))
    });
    group.bench_function("seldom: Sysmon 10, flat layout, ignored", |b| {
        b.iter(|| decoder.decode(black_box(IRRELEVANT_FLAT), origin.clone()))
    });
    group.finish();
    let mut group = c.benchmark_group("xml_record");
    group.bench_function("baseline: quick-xml read to end", |b| {
        b.iter(|| {
            let mut reader = quick_xml::Reader::from_str(black_box(SYSMON_3_XML));
            while !matches!(
                reader.read_event(),
                Ok(quick_xml::events::Event::Eof) | Err(_)
            ) {}
        })
    });
    let options = NormalizeOptions::default();
    group.bench_function("seldom: Sysmon for Linux 3 to an event", |b| {
        b.iter(|| {
            decode_xml(
                black_box(SYSMON_3_XML),
                SourceFormat::EventXml,
                origin.clone(),
                &options,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
