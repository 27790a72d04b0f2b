//! criterion: the detector's hot functions — classifying a destination, the
//! registered domain, a baseline update with its rare decision, a catalog
//! match — each beside a baseline doing the least comparable work (a hash map
//! lookup, a string lower-casing) in the same group.

use std::collections::HashMap;
use std::net::IpAddr;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use seldom_detect::baseline::Baseline;
use seldom_detect::catalog::{Catalog, MatchSubject, ProcessView};
use seldom_detect::destination::{DestinationClassifier, DestinationKey, registered_domain};
use seldom_model::{Platform, Timestamp};

fn destinations(c: &mut Criterion) {
    let classifier = DestinationClassifier::with_defaults();
    let ip: IpAddr = "151.101.0.133"
        .parse()
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let mut group = c.benchmark_group("destination");
    group.bench_function("baseline: lower-case the name", |b| {
        b.iter(|| black_box("cdn.Static.Example.CO.UK").to_ascii_lowercase())
    });
    group.bench_function("seldom: registered domain (PSL)", |b| {
        b.iter(|| registered_domain(black_box("cdn.Static.Example.CO.UK")))
    });
    group.bench_function("seldom: internal network check", |b| {
        b.iter(|| classifier.is_internal_ip(black_box(ip)))
    });
    group.bench_function("seldom: key from a forward name", |b| {
        b.iter(|| classifier.key(black_box(ip), Some("cdn.static.example.co.uk")))
    });
    group.finish();
}

fn baseline(c: &mut Criterion) {
    // 50,000 keys, 200 hosts, contacts spread over 30 days.
    let mut baseline = Baseline::new(30, 4);
    let mut plain: HashMap<DestinationKey, u32> = HashMap::new();
    let keys: Vec<DestinationKey> = (0..50_000u32)
        .map(|i| DestinationKey::Ip(IpAddr::from(i.to_be_bytes())))
        .collect();
    let day = |d: i64| Timestamp::from_micros(1_704_067_200_000_000 + d * 86_400_000_000);
    for (i, key) in keys.iter().enumerate() {
        baseline.record(key, (i % 200) as u32, day((i % 30) as i64));
        plain.insert(key.clone(), i as u32);
    }
    let mut group = c.benchmark_group("baseline");
    let mut n = 0usize;
    group.bench_function("baseline: HashMap lookup of the key", |b| {
        b.iter(|| {
            n = (n + 7919) % keys.len();
            plain.get(black_box(&keys[n])).copied()
        })
    });
    group.bench_function("seldom: rare decision then record", |b| {
        b.iter(|| {
            n = (n + 7919) % keys.len();
            let key = &keys[n];
            let evidence = baseline.prevalence(key, 17, day(31));
            baseline.record(key, 17, day(31));
            evidence.other_hosts_in_window < 3
        })
    });
    group.finish();
}

fn catalog(c: &mut Criterion) {
    let Ok(catalog) = Catalog::builtin() else {
        return;
    };
    let subject = MatchSubject {
        platform: Platform::Windows,
        process: ProcessView {
            image: Some("C:\\Windows\\System32\\mshta.exe"),
            original_file_name: Some("MSHTA.EXE"),
            command_line: Some("mshta.exe http://x/a.hta"),
        },
        ancestors: vec![
            ProcessView {
                image: Some("C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE"),
                original_file_name: None,
                command_line: Some("WINWORD.EXE /n doc.docm"),
            },
            ProcessView {
                image: Some("C:\\Windows\\explorer.exe"),
                original_file_name: None,
                command_line: None,
            },
        ],
    };
    let mut group = c.benchmark_group("catalog");
    group.bench_function("baseline: fold one image name", |b| {
        b.iter(|| seldom_detect::image::image_name(black_box("C:\\Windows\\System32\\mshta.exe")))
    });
    group.bench_function("seldom: classify against every row", |b| {
        b.iter(|| {
            catalog
                .classify(black_box(&subject))
                .map(|m| m.variation.id.len())
        })
    });
    group.finish();
}

criterion_group!(benches, destinations, baseline, catalog);
criterion_main!(benches);
