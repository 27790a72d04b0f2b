//! The store keeps what a checkpoint commits and gives it back at open; a
//! scan's save empties the reorder buffer it released and leaves the
//! service's records; a store is bound to the configuration it was written
//! with.

#![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

use std::sync::Arc;

use seldom_detect::reorder::ReorderDelta;
use seldom_detect::{DetectConfig, DetectorState};
use seldom_model::{
    Event, EventKind, HostName, HostNaming, Location, Platform, ProcessIdentity, ProcessStart,
    SourceFormat, Timestamp,
};
use seldom_store::{Checkpoint, Encoded, EncodedReorder, Store};

/// `seconds` after 2024-05-01 00:00 UTC (the event model reads no
/// timestamp before 1990).
fn time(seconds: i64) -> Timestamp {
    Timestamp::from_micros((1_714_521_600 + seconds) * 1_000_000)
}

fn event(seconds: i64) -> Event {
    Event {
        time: time(seconds),
        host: HostName::normalize("WS1", HostNaming::Short).unwrap(),
        platform: Platform::Windows,
        format: SourceFormat::FlatJson,
        event_id: 3,
        origin: Location::at_line(Arc::from("generated"), 1),
        kind: EventKind::ProcessStart(ProcessStart {
            process: ProcessIdentity {
                pid: Some(7),
                guid: None,
            },
            ..ProcessStart::default()
        }),
    }
}

fn checkpoint(inbox_done: u64, added: Vec<(i64, u64)>, released: Option<(i64, u64)>) -> Checkpoint {
    let key = |(seconds, seq): (i64, u64)| (time(seconds), 0, 7, seq);
    let delta = ReorderDelta {
        released_through: released.map(key),
        added: added.into_iter().map(|k| (key(k), event(k.0))).collect(),
        upto_seq: 0,
    };
    Checkpoint {
        state: Encoded::of(&DetectorState::new(&DetectConfig::default())).unwrap(),
        offsets: Encoded::of(&vec!["/var/log/a.json".to_owned()]).unwrap(),
        inbox_done,
        alerts: vec![("alert-1".to_owned(), Encoded::of("first alert").unwrap())],
        expired_alerts: Vec::new(),
        reorder: EncodedReorder::of(&delta).unwrap(),
    }
}

#[test]
fn a_checkpoint_is_what_the_next_open_finds() {
    let dir = tempfile::tempdir().unwrap();
    let config = DetectConfig::default();
    let (store, restored) = Store::open(dir.path(), &config).unwrap();
    assert!(restored.state.is_none());
    let first = store.append_inbox(b"batch one", Some("id-1")).unwrap();
    let second = store.append_inbox(b"batch two", None).unwrap();
    assert_eq!((first, second), (1, 2));
    store
        .checkpoint(checkpoint(1, vec![(10, 1), (20, 2), (30, 3)], None))
        .unwrap();
    // The next checkpoint releases the first two buffered events.
    store
        .checkpoint(checkpoint(1, vec![(40, 4)], Some((20, 2))))
        .unwrap();
    drop(store);

    let (store, restored) = Store::open(dir.path(), &config).unwrap();
    assert!(restored.state.is_some());
    let offsets: Vec<String> = restored.offsets.unwrap().decode("offsets").unwrap();
    assert_eq!(offsets, ["/var/log/a.json"]);
    assert_eq!(restored.inbox_done, 1);
    assert_eq!(restored.inbox, [(2, b"batch two".to_vec())]);
    let alerts: Vec<String> = restored
        .alerts
        .iter()
        .map(|a| a.decode("alert").unwrap())
        .collect();
    assert_eq!(alerts, ["first alert"]);
    let buffered: Vec<i64> = restored
        .reorder
        .iter()
        .map(|(key, _)| key.0.as_micros() / 1_000_000 - 1_714_521_600)
        .collect();
    assert_eq!(buffered, [30, 40]);
    assert_eq!(
        store.batch_seen("id-1").unwrap().map(|(seq, _)| seq),
        Some(1)
    );

    // A scan saved on top: its buffer was released, the service's records stay.
    store
        .save_scan(&DetectorState::new(&DetectConfig::default()))
        .unwrap();
    drop(store);
    let (_, restored) = Store::open(dir.path(), &config).unwrap();
    assert!(restored.reorder.is_empty());
    assert_eq!(restored.alerts.len(), 1);
    assert_eq!(restored.inbox.len(), 1);
}

#[test]
fn a_store_is_bound_to_its_configuration_and_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path(), &DetectConfig::default()).unwrap();
    store
        .save_scan(&DetectorState::new(&DetectConfig::default()))
        .unwrap();
    drop(store);
    let other = DetectConfig {
        rare_hosts: 7,
        ..DetectConfig::default()
    };
    let refused = Store::open(dir.path(), &other).err().unwrap();
    assert!(
        format!("{refused:#}").contains("another configuration"),
        "{refused:#}"
    );

    let file = dir.path().join("seldom.redb");
    let refused = Store::open(&file, &DetectConfig::default()).err().unwrap();
    assert!(
        format!("{refused:#}").contains("names a folder"),
        "{refused:#}"
    );
}
