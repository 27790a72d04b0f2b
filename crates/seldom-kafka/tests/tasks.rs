//! A worker's tasks without a cluster: records in, records out, each output
//! record fed back as the input of its topic and partition (what Kafka does
//! between the stages), in an order that interleaves partitions at random.
//! The alerts topic's last record per id must be one detector's final alert,
//! repeats included; records that are not ours are counted, not fatal.

use std::collections::{BTreeMap, VecDeque};

use seldom_detect::allow::AllowKind;
use seldom_detect::{AlertBook, Catalog, DetectConfig, Order};
use seldom_ingest::{BytesSource, IngestOptions, Source, decode_in_background};
use seldom_kafka::allowlist::{AllowEntry, Allowlist};
use seldom_kafka::config::Topics;
use seldom_kafka::tasks::{Layout, Outgoing, TaskCounters, Tasks};
use seldom_simulate::render::render;
use seldom_simulate::{SimConfig, Simulator};
use serde_json::Value;

fn simulated_records() -> Vec<String> {
    let mut simulator = Simulator::new(SimConfig {
        hosts: 30,
        days: 16,
        seed: 9,
        ..SimConfig::default()
    })
    .expect("a valid simulation");
    let mut records = Vec::new();
    while let Some(day) = simulator.next_day() {
        for event in &day {
            let host = &simulator.org.hosts[event.host as usize];
            records.push(render(event, host, records.len() as u64 + 1));
        }
    }
    records
}

fn one_detector(records: &[String]) -> BTreeMap<String, Value> {
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    let bytes: &'static [u8] = Box::leak(text.into_bytes().into_boxed_slice());
    let source: Box<dyn Source> = Box::new(BytesSource {
        name: "simulated.jsonl",
        bytes,
    });
    let mut batches =
        decode_in_background(vec![source], IngestOptions::default(), None).expect("decoding");
    let events: Vec<_> = batches.by_ref().flatten().collect();
    batches.finish();
    let catalog = Catalog::builtin().expect("the built-in catalog");
    let mut detector = DetectConfig::default().build(catalog).expect("defaults");
    let mut alerts = AlertBook::default();
    seldom_detect::run(&mut detector, [events], Order::Presort, &mut alerts).expect("no error");
    alerts
        .0
        .into_iter()
        .map(|(id, a)| (id, comparable(serde_json::to_value(a).expect("json"))))
        .collect()
}

/// Without where the records were read and the count of active hosts,
/// which partitions take as of their progress.
fn comparable(mut alert: Value) -> Value {
    if let Some(object) = alert.as_object_mut() {
        object.remove("source_events");
        object.remove("explanation");
        if let Some(p) = object.get_mut("prevalence").and_then(Value::as_object_mut) {
            p.remove("active_hosts");
        }
    }
    alert
}

/// The records through one worker's tasks (3 input and 4 internal
/// partitions), with `allowlist`: each alert id's last record, and what the
/// tasks counted.
fn through_tasks(
    records: &[String],
    allowlist: Allowlist,
) -> (BTreeMap<String, Value>, TaskCounters) {
    let topics = Topics::default();
    let layout = Layout {
        input: 3,
        internal: 4,
    };
    let mut tasks = Tasks::new(
        topics.clone(),
        layout,
        DetectConfig::default(),
        Catalog::builtin().expect("the built-in catalog"),
        IngestOptions::default(),
    )
    .expect("a valid configuration");
    tasks.allowlist = allowlist;
    for p in 0..layout.input {
        tasks.own_source(p);
    }
    for p in 0..layout.internal {
        tasks.own_host(p, None).expect("a host partition");
        tasks.own_key(p, None).expect("a key partition");
    }
    // The input topic: records spread over its partitions, in time order
    // within each. Every partition of every topic is a FIFO queue.
    let mut queues: BTreeMap<(String, i32), VecDeque<Vec<u8>>> = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        let p = (i % 7 % layout.input as usize) as i32;
        queues
            .entry((topics.input.clone(), p))
            .or_default()
            .push_back(record.clone().into_bytes());
    }
    // A stranger's record in an internal topic is counted and skipped.
    queues
        .entry((topics.by_key.clone(), 0))
        .or_default()
        .push_front(b"not ours".to_vec());
    let mut rng = fastrand::Rng::with_seed(4);
    let mut alerts: BTreeMap<String, Value> = BTreeMap::new();
    let mut offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
    let mut out: Vec<Outgoing> = Vec::new();
    let mut idle_batches = 0;
    while idle_batches < 3 {
        // One batch: some records from some partitions, then its end.
        let mut taken = 0;
        for _ in 0..rng.usize(1..6) {
            let busy: Vec<(String, i32)> = queues
                .iter()
                .filter(|(_, q)| !q.is_empty())
                .map(|(k, _)| k.clone())
                .collect();
            let Some(key) = busy.get(rng.usize(0..busy.len().max(1))).cloned() else {
                break;
            };
            let queue = queues.get_mut(&key).expect("listed");
            for _ in 0..rng.usize(1..500).min(queue.len()) {
                let payload = queue.pop_front().expect("counted");
                let (topic, p) = (&key.0, key.1 as u32);
                let offset = offsets.entry(key.clone()).or_default();
                if *topic == topics.input {
                    tasks.input(p, *offset, &payload, &mut out);
                } else if *topic == topics.by_host {
                    tasks.by_host(p, &payload);
                } else {
                    tasks.by_key(p, &payload, &mut out);
                }
                *offset += 1;
                taken += 1;
            }
        }
        let input_done = |p: u32| {
            queues
                .get(&(topics.input.clone(), p as i32))
                .is_none_or(VecDeque::is_empty)
        };
        tasks.end_batch(input_done, &mut out);
        tasks.snapshots(&mut out);
        for record in out.drain(..) {
            if record.topic == topics.alerts {
                let alert: Value = serde_json::from_slice(&record.payload).expect("an alert");
                assert_eq!(
                    alert["id"].as_str().map(str::as_bytes),
                    Some(&record.key[..])
                );
                alerts.insert(
                    alert["id"].as_str().expect("an id").to_owned(),
                    comparable(alert),
                );
            } else if record.topic == topics.by_host || record.topic == topics.by_key {
                let p = record
                    .partition
                    .expect("internal records name their partition");
                queues
                    .entry((record.topic, p))
                    .or_default()
                    .push_back(record.payload);
            }
        }
        let all_empty = queues.values().all(VecDeque::is_empty);
        idle_batches = if taken == 0 && all_empty {
            idle_batches + 1
        } else {
            0
        };
    }
    (alerts, tasks.counters.clone())
}

#[test]
fn a_workers_tasks_give_one_detectors_final_alerts() {
    let records = simulated_records();
    let expected = one_detector(&records);
    assert!(
        expected.values().any(|a| a["count"].as_u64() > Some(1)),
        "repeats to check"
    );
    let (alerts, counters) = through_tasks(&records, Allowlist::default());
    assert_eq!(counters.bad_internal_records, 1);
    assert_eq!(counters.suppressed_by_allowlist, 0);
    let missing = expected
        .keys()
        .filter(|id| !alerts.contains_key(*id))
        .count();
    let extra = alerts
        .keys()
        .filter(|id| !expected.contains_key(*id))
        .count();
    assert_eq!((missing, extra), (0, 0), "of {} alerts", expected.len());
    for (id, alert) in &expected {
        assert_eq!(&alerts[id], alert, "alert {id}");
    }
}

/// An allowlist entry for a host withholds exactly that host's alerts, and
/// their repeats; every other alert is published as before.
#[test]
fn an_allowlisted_hosts_alerts_are_not_published() {
    let records = simulated_records();
    let expected = one_detector(&records);
    let host = expected
        .values()
        .find(|a| a["count"].as_u64() > Some(1))
        .and_then(|a| a["host"].as_str())
        .expect("an alert with repeats")
        .to_owned();
    let mut allowlist = Allowlist::default();
    allowlist.insert(AllowEntry {
        id: "e1".into(),
        kind: AllowKind::Host,
        value: host.to_lowercase(),
        reason: "the lab's scanner".into(),
    });
    let (alerts, counters) = through_tasks(&records, allowlist);
    let (covered, kept): (Vec<_>, Vec<_>) = expected
        .iter()
        .partition(|(_, a)| a["host"].as_str() == Some(host.as_str()));
    assert!(!covered.is_empty() && !kept.is_empty());
    assert_eq!(counters.suppressed_by_allowlist, covered.len() as u64);
    assert_eq!(alerts.len(), kept.len());
    for (id, alert) in kept {
        assert_eq!(&alerts[id], alert, "alert {id}");
    }
}
