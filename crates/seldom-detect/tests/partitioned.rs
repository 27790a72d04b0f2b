//! The partitioned detector ([`seldom_detect::partitioned`]) against one
//! detector: a simulated organization, in time order, read from several
//! input partitions and passed through host and key partitions over FIFO
//! channels delivered in a random interleaving (as topic partitions are),
//! raises exactly the alerts of one detector.

use std::collections::{BTreeMap, VecDeque};

use seldom_detect::partitioned::{
    HostTask, KeyTask, Progress, SourceTask, contact_partition, host_partition,
};
use seldom_detect::{Alert, AlertUpdate, Catalog, Contact, DetectConfig, Order, Sink, SinkError};
use seldom_ingest::{BytesSource, IngestOptions, Source, decode_in_background};
use seldom_model::Event;
use seldom_simulate::render::render;
use seldom_simulate::{SimConfig, Simulator};

/// Alerts by id, repeats applied: each alert's final state.
#[derive(Default)]
struct Alerts(BTreeMap<String, Alert>);

impl Sink for Alerts {
    fn apply(&mut self, update: AlertUpdate) -> Result<(), SinkError> {
        match update {
            AlertUpdate::New(alert, _) => {
                let previous = self.0.insert(alert.id.clone(), *alert);
                assert!(previous.is_none(), "an alert id raised twice");
            }
            revision => {
                for id in revision.revises() {
                    let alert = self.0.get_mut(id).expect("a revision of a raised alert");
                    revision.revise(alert);
                }
            }
        }
        Ok(())
    }
}

fn simulated(hosts: u32, days: u32, seed: u64) -> Vec<Event> {
    let mut simulator = Simulator::new(SimConfig {
        hosts,
        days,
        seed,
        ..SimConfig::default()
    })
    .expect("a valid simulation");
    let mut text = String::new();
    let mut record = 0;
    while let Some(day) = simulator.next_day() {
        for event in &day {
            record += 1;
            let host = &simulator.org.hosts[event.host as usize];
            text.push_str(&render(event, host, record));
            text.push('\n');
        }
    }
    // The decoder runs on its own thread, which needs bytes that outlive it.
    let bytes: &'static [u8] = Box::leak(text.into_bytes().into_boxed_slice());
    let source: Box<dyn Source> = Box::new(BytesSource {
        name: "simulated.jsonl",
        bytes,
    });
    let mut batches =
        decode_in_background(vec![source], IngestOptions::default(), None).expect("decoding");
    let mut events: Vec<Event> = batches.by_ref().flatten().collect();
    let summary = batches.finish();
    assert_eq!(
        summary.stats.skipped_total(),
        0,
        "the simulator writes clean records"
    );
    events.sort_by_key(|e| e.time);
    events
}

fn one_detector(config: &DetectConfig, events: &[Event]) -> Alerts {
    let mut detector = config.build(catalog()).expect("valid config");
    let mut alerts = Alerts::default();
    seldom_detect::run(
        &mut detector,
        [events.to_vec()],
        Order::Presort,
        &mut alerts,
    )
    .expect("no sink error");
    alerts
}

/// A message in a channel between two partitions.
enum Message<T> {
    Data(T),
    Mark(Progress),
}

/// FIFO channels from each upstream partition to each downstream one.
struct Channels<T> {
    queues: BTreeMap<(u32, u32), VecDeque<Message<T>>>,
}

impl<T> Channels<T> {
    fn new() -> Self {
        Channels {
            queues: BTreeMap::new(),
        }
    }

    fn send(&mut self, from: u32, to: u32, message: Message<T>) {
        self.queues
            .entry((from, to))
            .or_default()
            .push_back(message);
    }

    fn broadcast_mark(&mut self, mark: &Progress, downstream: u32) {
        for to in 0..downstream {
            self.send(mark.from, to, Message::Mark(mark.clone()));
        }
    }

    /// Up to `n` messages of one channel picked at random.
    fn take_some(
        &mut self,
        rng: &mut fastrand::Rng,
        n: usize,
    ) -> Option<(u32, u32, Vec<Message<T>>)> {
        let busy: Vec<(u32, u32)> = self
            .queues
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|(k, _)| *k)
            .collect();
        let (from, to) = *busy.get(rng.usize(0..busy.len().max(1)))?;
        let queue = self.queues.get_mut(&(from, to))?;
        let take = n.min(queue.len());
        Some((from, to, queue.drain(..take).collect()))
    }

    fn is_empty(&self) -> bool {
        self.queues.values().all(VecDeque::is_empty)
    }
}

struct Layout {
    sources: u32,
    host_partitions: u32,
    key_partitions: u32,
}

fn partitioned(config: &DetectConfig, events: &[Event], layout: &Layout, seed: u64) -> Alerts {
    let mut rng = fastrand::Rng::with_seed(seed);
    let Layout {
        sources: s,
        host_partitions: h,
        key_partitions: k,
    } = *layout;
    // Any partitioning of the input: here each record to a random source,
    // so one host's records are spread over all of them.
    let mut inputs: Vec<VecDeque<Event>> = (0..s).map(|_| VecDeque::new()).collect();
    for event in events {
        inputs[rng.usize(0..s as usize)].push_back(event.clone());
    }
    let mut source_tasks: Vec<SourceTask> = (0..s)
        .map(|p| SourceTask::new(p, config.clock_quorum))
        .collect();
    let mut host_tasks: Vec<HostTask> = (0..h)
        .map(|p| HostTask::new(p, config, catalog(), s).expect("valid config"))
        .collect();
    let mut key_tasks: Vec<KeyTask> = (0..k)
        .map(|p| KeyTask::new(p, config, catalog(), h).expect("valid config"))
        .collect();
    let mut to_hosts: Channels<Event> = Channels::new();
    let mut to_keys: Channels<Contact> = Channels::new();
    let mut alerts = Alerts::default();
    let mut updates = Vec::new();
    let mut contacts = Vec::new();
    // Marks go out when they change, as a worker sends them.
    let mut sent_by_sources: Vec<Option<Progress>> = vec![None; s as usize];
    let mut sent_by_hosts: Vec<Option<Progress>> = vec![None; h as usize];
    loop {
        // A source reads a chunk of its partition, at its own pace.
        let source = rng.u32(0..s);
        let input = &mut inputs[source as usize];
        let task = &mut source_tasks[source as usize];
        for _ in 0..rng.usize(1..400).min(input.len()) {
            let event = input.pop_front().expect("counted");
            task.observe(&event);
            let to = host_partition(&event.host, h);
            to_hosts.send(source, to, Message::Data(event));
        }
        let mark = task.progress(input.is_empty());
        if sent_by_sources[source as usize].as_ref() != Some(&mark) {
            to_hosts.broadcast_mark(&mark, h);
            sent_by_sources[source as usize] = Some(mark);
        }

        // Some channel into a host partition delivers.
        for _ in 0..2 {
            let n = rng.usize(1..600);
            if let Some((from, to, messages)) = to_hosts.take_some(&mut rng, n) {
                let task = &mut host_tasks[to as usize];
                for message in messages {
                    match message {
                        Message::Data(event) => task.push(event),
                        Message::Mark(mark) => {
                            assert_eq!(mark.from, from);
                            task.note(mark);
                        }
                    }
                }
                task.advance(&mut contacts);
                for contact in contacts.drain(..) {
                    let key = contact_partition(&contact, k);
                    to_keys.send(to, key, Message::Data(contact));
                }
                let mark = task.progress();
                if sent_by_hosts[to as usize].as_ref() != Some(&mark) {
                    to_keys.broadcast_mark(&mark, k);
                    sent_by_hosts[to as usize] = Some(mark);
                }
            }
        }

        // Some channel into a key partition delivers.
        let n = rng.usize(1..300);
        if let Some((from, to, messages)) = to_keys.take_some(&mut rng, n) {
            let task = &mut key_tasks[to as usize];
            for message in messages {
                match message {
                    Message::Data(contact) => task.push(from, contact, &mut updates),
                    Message::Mark(mark) => task.note(mark),
                }
            }
            task.advance(&mut updates);
            for update in updates.drain(..) {
                alerts.apply(update).expect("no sink error");
            }
        }

        let inputs_done = inputs.iter().all(VecDeque::is_empty);
        if inputs_done && to_hosts.is_empty() && to_keys.is_empty() {
            // Every task idle and drained: nothing more can come.
            let hosts_idle = host_tasks.iter().all(|t| t.progress().idle);
            let keys_drained = key_tasks.iter().all(KeyTask::is_drained);
            if hosts_idle && keys_drained {
                break;
            }
            // A host task may still have its flush to do and to announce.
            for (p, task) in host_tasks.iter_mut().enumerate() {
                task.advance(&mut contacts);
                for contact in contacts.drain(..) {
                    to_keys.send(
                        p as u32,
                        contact_partition(&contact, k),
                        Message::Data(contact),
                    );
                }
                let mark = task.progress();
                if sent_by_hosts[p].as_ref() != Some(&mark) {
                    to_keys.broadcast_mark(&mark, k);
                    sent_by_hosts[p] = Some(mark);
                }
            }
            assert!(
                !to_keys.is_empty(),
                "stuck: every channel empty, yet not every task is done"
            );
        }
    }
    alerts
}

/// The alert without the one piece of evidence the partitions approximate:
/// hosts active in the window are counted as of the partitions' progress.
fn comparable(alert: &Alert) -> Alert {
    let mut alert = alert.clone();
    alert.prevalence.active_hosts = 0;
    alert.explanation = String::new();
    alert
}

fn assert_same(expected: &Alerts, got: &Alerts) {
    let missing: Vec<&String> = expected
        .0
        .keys()
        .filter(|id| !got.0.contains_key(*id))
        .collect();
    let extra: Vec<&String> = got
        .0
        .keys()
        .filter(|id| !expected.0.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} of {} alert ids missing (first: {:?}), {} extra (first: {:?})",
        missing.len(),
        expected.0.len(),
        missing.first(),
        extra.len(),
        extra.first()
    );
    for (id, alert) in &expected.0 {
        assert_eq!(comparable(&got.0[id]), comparable(alert), "alert {id}");
    }
}

#[test]
fn partitions_raise_the_alerts_of_one_detector() {
    let config = DetectConfig::default();
    let events = simulated(60, 18, 3);
    let expected = one_detector(&config, &events);
    assert!(
        expected.0.len() >= 10,
        "the simulation raises alerts to compare: {}",
        expected.0.len()
    );
    let layouts = [
        Layout {
            sources: 3,
            host_partitions: 4,
            key_partitions: 3,
        },
        Layout {
            sources: 1,
            host_partitions: 1,
            key_partitions: 1,
        },
        Layout {
            sources: 4,
            host_partitions: 7,
            key_partitions: 5,
        },
    ];
    for (seed, layout) in layouts.iter().enumerate() {
        let got = partitioned(&config, &events, layout, seed as u64);
        assert_same(&expected, &got);
    }
}

fn catalog() -> Catalog {
    Catalog::builtin().expect("the built-in catalog loads")
}
