//! `seldom worker`: one member of a deployment. It joins the consumer group
//! on the input, by-host and by-key topics; Kafka assigns it partitions of
//! each, and it runs the task of every partition it holds
//! ([`crate::tasks`]). Each batch is one Kafka transaction: the records it
//! produces (events by host, contacts by key, alerts, progress marks), the
//! state snapshots of the partitions that changed, and the offsets of what it
//! consumed commit together or not at all, and every consumer reads
//! `read_committed`. So a worker killed at any moment leaves nothing half
//! done: its successor restores the partitions' last committed state from the
//! changelogs and reads on from the offsets committed with it.
//!
//! Rebalances use the eager protocol: every rebalance revokes all partitions
//! and assigns them anew, fetching from the committed offsets. Records
//! polled before a rebalance are dropped unprocessed (they will be fetched
//! again), and no transaction is ever open across a poll, so a task's memory
//! is always exactly its committed state; a partition kept across the
//! rebalance keeps its task, a new one is restored from its changelog.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::DeliveryResult;
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use seldom_detect::{Catalog, DetectConfig};
use seldom_ingest::IngestOptions;

use crate::config::{KafkaConfig, TRANSACTION_TIMEOUT};
use crate::error::WorkerError;
use crate::metrics::WorkerMetrics;
use crate::reader::TopicReader;
use crate::restore::latest_snapshots;
use crate::state_cache::StateCache;
use crate::tasks::{Layout, Outgoing, Tasks};
use crate::topics::{self, MAX_STATE_BYTES};

/// How long a transaction call may take before the session gives up.
const TXN_TIMEOUT: Duration = Duration::from_secs(30);
/// Records per batch at most (a batch is one transaction).
const MAX_BATCH: usize = 20_000;
/// How long a session may take to read the allowlist topic at its start.
const ALLOWLIST_TIMEOUT: Duration = Duration::from_secs(60);
/// Quiet batches after which an input partition one record short of its
/// end counts as caught up (a transactional producer's last commit marker
/// is an offset no record is read at).
const QUIET_BATCHES: u32 = 3;

pub struct WorkerOptions {
    pub kafka: KafkaConfig,
    pub detect: DetectConfig,
    pub catalog: Catalog,
    pub ingest: IngestOptions,
    /// This worker's name in the deployment: its transactional id is
    /// `GROUP.ID`, so a restarted worker fences its predecessor at once.
    pub id: String,
    /// Set to stop after the current batch.
    pub stop: Arc<AtomicBool>,
    /// A folder for local copies of this worker's partitions' state
    /// (`--state`); the changelogs stay the truth.
    pub state: Option<PathBuf>,
}

/// The librdkafka settings every client of a worker shares.
pub fn client_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &kafka.bootstrap);
    for (key, value) in &kafka.properties {
        config.set(key, value);
    }
    config
}

/// Runs until `stop` is set. A session that fails (a broker gone at the
/// wrong moment, a fenced transaction) is torn down and started afresh from
/// what was committed; only a setup error ends the worker.
pub fn run(options: &WorkerOptions, metrics: &Arc<WorkerMetrics>) -> Result<(), WorkerError> {
    options
        .kafka
        .checked()
        .map_err(|e| WorkerError::Setup(e.to_string()))?;
    let client = client_config(&options.kafka);
    let layout = topics::ensure(&options.kafka, &client)?;
    let cache = match &options.state {
        Some(dir) => Some(
            StateCache::open(dir)
                .map_err(|e| WorkerError::Setup(format!("--state {}: {e}", dir.display())))?,
        ),
        None => None,
    };
    let watchdog = Watchdog::start();
    while !options.stop.load(Ordering::Relaxed) {
        let outcome = Session::start(options, &client, layout, metrics, &watchdog, cache.as_ref())
            .and_then(|mut session| session.run());
        match outcome {
            Ok(()) => return Ok(()),
            Err(e) if e.is_setup() => return Err(e),
            Err(e) => {
                metrics.sessions_restarted.inc();
                metrics.set_unready(format!("{e}; starting afresh"));
                eprintln!("seldom worker: {e}; starting afresh from what was committed");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    Ok(())
}

/// Counts rebalances, so that records polled before one can be told apart,
/// and takes librdkafka's statistics for the lag metric.
struct Rebalances {
    count: AtomicU64,
    metrics: Arc<WorkerMetrics>,
}

impl ClientContext for Rebalances {
    /// Every `statistics.interval.ms`: records behind the end, per partition
    /// this consumer fetches.
    fn stats(&self, statistics: Statistics) {
        self.metrics.lag.clear();
        for (name, topic) in &statistics.topics {
            for (p, partition) in &topic.partitions {
                // -1: not fetched by this consumer; the internal "-1" partition.
                if *p < 0 || partition.consumer_lag < 0 {
                    continue;
                }
                let label = vec![
                    ("topic".to_owned(), name.clone()),
                    ("partition".to_owned(), p.to_string()),
                ];
                self.metrics
                    .lag
                    .get_or_create(&label)
                    .set(partition.consumer_lag);
            }
        }
    }
}

impl ConsumerContext for Rebalances {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, _: &Rebalance<'_>) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// The changelog offset of each snapshot the producer has delivered in the
/// open transaction, for the local copies (`--state`).
struct Deliveries {
    changelogs: [String; 2],
    offsets: std::sync::Mutex<BTreeMap<(String, i32), i64>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Ok(message) = result
            && self.changelogs.iter().any(|t| t == message.topic())
            && let Ok(mut offsets) = self.offsets.lock()
        {
            offsets.insert(
                (message.topic().to_owned(), message.partition()),
                message.offset(),
            );
        }
    }
}

/// The stages whose partitions keep state in a changelog.
#[derive(Clone, Copy)]
enum Stage {
    Hosts,
    Keys,
}

/// A record polled, with the rebalance count at the time.
struct Polled {
    topic: String,
    partition: i32,
    offset: i64,
    payload: Vec<u8>,
    epoch: u64,
}

struct Session<'a> {
    options: &'a WorkerOptions,
    client: &'a ClientConfig,
    metrics: &'a Arc<WorkerMetrics>,
    watchdog: &'a Watchdog,
    consumer: BaseConsumer<Rebalances>,
    producer: ThreadedProducer<Deliveries>,
    /// Local copies of the state (`--state`).
    cache: Option<&'a StateCache>,
    tasks: Tasks,
    /// The rebalance whose assignment the tasks follow.
    epoch: u64,
    /// Input partitions: consecutive batches without a record.
    quiet: BTreeMap<u32, u32>,
    /// Input partitions: the next offset to process, once known.
    next_offset: BTreeMap<u32, i64>,
    /// Input partitions found at their end and quiet since: no need to ask
    /// the cluster again until a record comes.
    at_end: BTreeSet<u32>,
    /// The allowlist topic, read whole and followed.
    allowlist: TopicReader,
    /// Suppressed alerts already added to the metric.
    reported_suppressed: u64,
}

impl<'a> Session<'a> {
    fn start(
        options: &'a WorkerOptions,
        client: &'a ClientConfig,
        layout: Layout,
        metrics: &'a Arc<WorkerMetrics>,
        watchdog: &'a Watchdog,
        cache: Option<&'a StateCache>,
    ) -> Result<Session<'a>, WorkerError> {
        let kafka = &options.kafka;
        metrics.set_unready("joining the consumer group");
        let mut producer_config = client.clone();
        producer_config
            .set(
                "transactional.id",
                format!("{}.{}", kafka.group_id, options.id),
            )
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set(
                "message.max.bytes",
                (MAX_STATE_BYTES + (1 << 20)).to_string(),
            )
            .set(
                "transaction.timeout.ms",
                TRANSACTION_TIMEOUT.as_millis().to_string(),
            );
        let producer: ThreadedProducer<Deliveries> =
            producer_config.create_with_context(Deliveries {
                changelogs: [
                    kafka.topics.host_state.clone(),
                    kafka.topics.key_state.clone(),
                ],
                offsets: std::sync::Mutex::new(BTreeMap::new()),
            })?;
        watchdog.guard(|| producer.init_transactions(TXN_TIMEOUT))?;
        let mut consumer_config = client.clone();
        consumer_config
            .set("group.id", &kafka.group_id)
            .set("isolation.level", "read_committed")
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("group.protocol", "classic")
            .set("partition.assignment.strategy", "range,roundrobin")
            .set("fetch.message.max.bytes", (8 << 20).to_string())
            .set("statistics.interval.ms", "5000")
            // A dead worker's partitions move after 10 s, not the classic
            // protocol's default 45 s.
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "3000")
            // A restore waits for a dead predecessor's open transaction to
            // end (up to `restore::SETTLE_TIMEOUT` per stage) without
            // polling: librdkafka's default 300 s could pass first.
            .set("max.poll.interval.ms", "600000");
        // The operator's properties win over these defaults (the ones
        // exactly-once rests on are refused in the configuration).
        for (key, value) in &kafka.properties {
            consumer_config.set(key, value);
        }
        let consumer: BaseConsumer<Rebalances> =
            consumer_config.create_with_context(Rebalances {
                count: AtomicU64::new(0),
                metrics: metrics.clone(),
            })?;
        let t = &kafka.topics;
        consumer.subscribe(&[&t.input, &t.by_host, &t.by_key])?;
        let tasks = Tasks::new(
            kafka.topics.clone(),
            layout,
            options.detect.clone(),
            options.catalog.clone(),
            options.ingest.clone(),
        )
        .map_err(|e| WorkerError::Setup(e.to_string()))?;
        // Every entry there is before the first record: a restarted worker
        // suppresses what its predecessor did.
        let mut tasks = tasks;
        let mut allowlist = TopicReader::open(client, &t.allowlist, &BTreeMap::new())?;
        allowlist.catch_up(ALLOWLIST_TIMEOUT, |record| tasks.allowlist.apply(&record))?;
        metrics.allowlist_entries.set(tasks.allowlist.len() as i64);
        Ok(Session {
            options,
            client,
            metrics,
            watchdog,
            consumer,
            producer,
            cache,
            tasks,
            epoch: 0,
            quiet: BTreeMap::new(),
            next_offset: BTreeMap::new(),
            at_end: BTreeSet::new(),
            allowlist,
            reported_suppressed: 0,
        })
    }

    fn run(&mut self) -> Result<(), WorkerError> {
        let trace = std::env::var_os("SELDOM_WORKER_TRACE").is_some();
        while !self.options.stop.load(Ordering::Relaxed) {
            let t0 = Instant::now();
            let batch = self.gather();
            let n = batch.len();
            let t1 = Instant::now();
            self.follow_allowlist()?;
            self.follow_assignment()?;
            self.process(batch)?;
            if trace {
                eprintln!(
                    "trace {}: {n} records, gather {:?}, process {:?}",
                    self.options.id,
                    t1 - t0,
                    t1.elapsed()
                );
                for line in self.tasks.describe() {
                    eprintln!("trace {}:   {line}", self.options.id);
                }
            }
        }
        Ok(())
    }

    /// Polls for up to `commit_interval` or `MAX_BATCH` records.
    fn gather(&mut self) -> Vec<Polled> {
        let deadline = Instant::now() + self.options.kafka.commit_interval;
        let mut batch = Vec::new();
        while batch.len() < MAX_BATCH {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self.consumer.poll(left) {
                None => {}
                Some(Ok(message)) => batch.push(Polled {
                    topic: message.topic().to_owned(),
                    partition: message.partition(),
                    offset: message.offset(),
                    payload: message.payload().unwrap_or_default().to_vec(),
                    epoch: self.consumer.context().count.load(Ordering::SeqCst),
                }),
                // A broker down or a leader moving: librdkafka retries.
                Some(Err(e)) => eprintln!("seldom worker: consumer: {e}"),
            }
        }
        let epoch = self.consumer.context().count.load(Ordering::SeqCst);
        batch.retain(|polled| polled.epoch == epoch);
        batch
    }

    /// Applies what was added to (or deleted from) the allowlist since the
    /// last batch.
    fn follow_allowlist(&mut self) -> Result<(), WorkerError> {
        let records = self.allowlist.poll(Duration::ZERO, 10_000)?;
        if !records.is_empty() {
            for record in &records {
                self.tasks.allowlist.apply(record);
            }
            self.metrics
                .allowlist_entries
                .set(self.tasks.allowlist.len() as i64);
        }
        Ok(())
    }

    /// Makes the tasks follow the assignment after a rebalance: partitions
    /// gone are dropped, new ones restored from their changelogs.
    fn follow_assignment(&mut self) -> Result<(), WorkerError> {
        let epoch = self.consumer.context().count.load(Ordering::SeqCst);
        if epoch == self.epoch {
            return Ok(());
        }
        self.epoch = epoch;
        self.metrics.set_unready("restoring assigned partitions");
        let assignment = self.consumer.assignment()?;
        let t = &self.options.kafka.topics;
        let mut wanted: [BTreeSet<u32>; 3] = Default::default();
        for element in assignment.elements() {
            let stage = [&t.input, &t.by_host, &t.by_key]
                .iter()
                .position(|topic| *topic == element.topic());
            if let Some(stage) = stage {
                wanted[stage].insert(element.partition() as u32);
            }
        }
        self.tasks.retain(&wanted[0], &wanted[1], &wanted[2]);
        self.quiet.retain(|p, _| wanted[0].contains(p));
        // Positions restart from the committed offsets.
        self.next_offset.clear();
        self.at_end.clear();
        let (_, hosts, keys) = self.tasks.owned();
        let (hosts, keys): (BTreeSet<u32>, BTreeSet<u32>) =
            (hosts.into_iter().collect(), keys.into_iter().collect());
        for p in &wanted[0] {
            self.tasks.own_source(*p);
        }
        let started = Instant::now();
        let new_hosts: Vec<u32> = wanted[1].difference(&hosts).copied().collect();
        let new_keys: Vec<u32> = wanted[2].difference(&keys).copied().collect();
        self.restore(Stage::Hosts, &new_hosts)?;
        self.restore(Stage::Keys, &new_keys)?;
        self.metrics.observe_restore(started.elapsed());
        eprintln!(
            "seldom worker {}: assigned input {:?}, by-host {:?}, by-key {:?}",
            self.options.id, wanted[0], wanted[1], wanted[2]
        );
        Ok(())
    }

    /// Takes `partitions` of a stage, each from its changelog's last snapshot.
    fn restore(&mut self, stage: Stage, partitions: &[u32]) -> Result<(), WorkerError> {
        let t = &self.options.kafka.topics;
        let topic = match stage {
            Stage::Hosts => &t.host_state,
            Stage::Keys => &t.key_state,
        };
        let wanted: Vec<i32> = partitions.iter().map(|p| *p as i32).collect();
        let restored = latest_snapshots(self.client, topic, &wanted, self.cache)?;
        self.metrics.restored_bytes.inc_by(restored.bytes_read);
        self.metrics
            .restored_from_cache
            .inc_by(restored.from_cache as u64);
        for (p, snapshot) in restored.snapshots {
            let bytes = snapshot.as_deref();
            let owned = match stage {
                Stage::Hosts => self.tasks.own_host(p as u32, bytes),
                Stage::Keys => self.tasks.own_key(p as u32, bytes),
            };
            owned.map_err(|problem| WorkerError::Restore {
                topic: topic.clone(),
                partition: p,
                problem,
            })?;
        }
        Ok(())
    }

    /// One batch as one transaction.
    fn process(&mut self, batch: Vec<Polled>) -> Result<(), WorkerError> {
        let t = &self.options.kafka.topics;
        let mut out = Vec::new();
        let mut offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
        let mut busy_inputs = BTreeSet::new();
        for polled in &batch {
            let p = polled.partition as u32;
            if polled.topic == t.input {
                self.tasks
                    .input(p, polled.offset, &polled.payload, &mut out);
                busy_inputs.insert(p);
                self.next_offset.insert(p, polled.offset + 1);
            } else if polled.topic == t.by_host {
                self.tasks.by_host(p, &polled.payload);
            } else if polled.topic == t.by_key {
                self.tasks.by_key(p, &polled.payload, &mut out);
            }
            offsets.insert((polled.topic.clone(), polled.partition), polled.offset + 1);
        }
        let caught_up = self.caught_up_inputs(&busy_inputs)?;
        self.tasks.end_batch(|p| caught_up.contains(&p), &mut out);
        self.tasks.snapshots(&mut out);
        if out.is_empty() && offsets.is_empty() {
            self.metrics.set_ready();
            return Ok(());
        }
        if let Ok(mut offsets) = self.producer.context().offsets.lock() {
            offsets.clear();
        }
        let committed = self
            .producer
            .begin_transaction()
            .map_err(WorkerError::from)
            .and_then(|()| self.produce_and_commit(&out, &offsets));
        match committed {
            Ok(()) => {
                self.metrics.set_ready();
                self.metrics.commits.inc();
                let suppressed = self.tasks.counters.suppressed_by_allowlist;
                self.metrics
                    .suppressed_by_allowlist
                    .inc_by(suppressed.saturating_sub(self.reported_suppressed));
                self.reported_suppressed = suppressed;
                self.keep_copies(&out);
                self.metrics.records_in.inc_by(batch.len() as u64);
                self.metrics.records_out.inc_by(out.len() as u64);
                self.metrics.events.set(self.tasks.events() as i64);
                self.metrics
                    .malformed_records
                    .set(self.tasks.ingest_stats().skipped_total() as i64);
                let t = &self.options.kafka.topics;
                for record in out
                    .iter()
                    .filter(|r| r.topic == t.host_state || r.topic == t.key_state)
                {
                    let label = vec![
                        ("topic".to_owned(), record.topic.clone()),
                        (
                            "partition".to_owned(),
                            record.partition.unwrap_or(-1).to_string(),
                        ),
                    ];
                    self.metrics
                        .state_bytes
                        .get_or_create(&label)
                        .set(record.payload.len() as i64);
                }
                Ok(())
            }
            Err(e) => {
                self.metrics.aborts.inc();
                self.metrics
                    .set_unready(format!("transaction aborted ({e}); rewinding"));
                // The tasks' memory is ahead of what was committed.
                self.tasks.clear();
                let aborted = self
                    .watchdog
                    .guard(|| self.producer.abort_transaction(TXN_TIMEOUT));
                if let Err(abort) = aborted {
                    // Rewinding needs a producer that can begin again.
                    return Err(WorkerError::AbortFailed {
                        failure: e.to_string(),
                        abort: abort.to_string(),
                    });
                }
                if e.is_fatal() {
                    return Err(e);
                }
                // Without leaving the group (which would make every other
                // worker rebalance too): back to the committed offsets, and
                // every partition restored from its changelog again.
                eprintln!(
                    "seldom worker {}: {e}; transaction aborted, rewinding",
                    self.options.id
                );
                self.rewind()
            }
        }
    }

    /// After a commit: the local copy of each snapshot in it, under the
    /// offset it was committed at (a snapshot whose offset is unknown
    /// removes its partition's copy instead).
    fn keep_copies(&self, out: &[Outgoing]) {
        let Some(cache) = self.cache else {
            return;
        };
        let delivered = self
            .producer
            .context()
            .offsets
            .lock()
            .map(|o| o.clone())
            .unwrap_or_default();
        let t = &self.options.kafka.topics;
        for record in out
            .iter()
            .filter(|r| r.topic == t.host_state || r.topic == t.key_state)
        {
            let p = record.partition.unwrap_or(-1);
            match delivered.get(&(record.topic.clone(), p)) {
                Some(offset) => {
                    if let Err(e) = cache.store(&record.topic, p, *offset, &record.payload) {
                        eprintln!("seldom worker: --state: {e}; the changelog stays the only copy");
                        cache.forget(&record.topic, p);
                    }
                }
                None => cache.forget(&record.topic, p),
            }
        }
    }

    /// Seeks every assigned partition back to its committed offset (the
    /// start, if none) and makes the next batch restore every task.
    fn rewind(&mut self) -> Result<(), WorkerError> {
        let assignment = self.consumer.assignment()?;
        let committed = self
            .consumer
            .committed_offsets(assignment, Duration::from_secs(10))?;
        let mut seek = TopicPartitionList::new();
        for element in committed.elements() {
            let offset = match element.offset() {
                Offset::Offset(n) => Offset::Offset(n),
                _ => Offset::Beginning,
            };
            seek.add_partition_offset(element.topic(), element.partition(), offset)?;
        }
        let sought = self
            .consumer
            .seek_partitions(seek, Duration::from_secs(10))?;
        if let Some(failed) = sought.elements().iter().find(|e| e.error().is_err()) {
            return Err(WorkerError::Rewind(format!(
                "{} [{}]: {:?}",
                failed.topic(),
                failed.partition(),
                failed.error()
            )));
        }
        // Not a rebalance, but every task must be restored as after one.
        self.epoch = u64::MAX;
        self.next_offset.clear();
        self.at_end.clear();
        Ok(())
    }

    fn produce_and_commit(
        &self,
        out: &[Outgoing],
        offsets: &BTreeMap<(String, i32), i64>,
    ) -> Result<(), WorkerError> {
        for record in out {
            let mut base = BaseRecord::to(&record.topic)
                .key(&record.key)
                .payload(&record.payload);
            if let Some(p) = record.partition {
                base = base.partition(p);
            }
            loop {
                match self.producer.send(base) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        base = back;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err((e, _)) => return Err(e.into()),
                }
            }
        }
        if !offsets.is_empty() {
            let mut tpl = TopicPartitionList::new();
            for ((topic, partition), next) in offsets {
                tpl.add_partition_offset(topic, *partition, Offset::Offset(*next))?;
            }
            let group = self
                .consumer
                .group_metadata()
                .ok_or_else(|| WorkerError::Setup("the consumer has no group metadata".into()))?;
            self.watchdog.guard(|| {
                self.producer
                    .send_offsets_to_transaction(&tpl, &group, TXN_TIMEOUT)
            })?;
        }
        self.watchdog
            .guard(|| self.producer.commit_transaction(TXN_TIMEOUT))?;
        Ok(())
    }

    /// The input partitions with nothing more to read for now: quiet in this
    /// batch and at their end. A partition that is quiet only because its
    /// fetch has not begun is not at its end, so it still holds the others
    /// back.
    fn caught_up_inputs(&mut self, busy: &BTreeSet<u32>) -> Result<BTreeSet<u32>, WorkerError> {
        let input = self.options.kafka.topics.input.clone();
        let (sources, _, _) = self.tasks.owned();
        let mut caught_up = BTreeSet::new();
        for p in sources {
            if busy.contains(&p) {
                self.quiet.insert(p, 0);
                self.at_end.remove(&p);
                continue;
            }
            if self.at_end.contains(&p) {
                caught_up.insert(p);
                continue;
            }
            let quiet = self.quiet.entry(p).or_default();
            *quiet = quiet.saturating_add(1);
            let quiet = *quiet;
            let (low, high) =
                self.consumer
                    .fetch_watermarks(&input, p as i32, Duration::from_secs(5))?;
            let next = match self.next_offset.get(&p) {
                Some(next) => *next,
                None => self.committed_offset(&input, p)?.unwrap_or(low),
            };
            if next >= high || (quiet >= QUIET_BATCHES && next + 1 >= high) {
                caught_up.insert(p);
                self.at_end.insert(p);
                self.next_offset.insert(p, next);
            }
        }
        Ok(caught_up)
    }

    fn committed_offset(&self, topic: &str, p: u32) -> Result<Option<i64>, WorkerError> {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(topic, p as i32);
        let committed = self
            .consumer
            .committed_offsets(tpl, Duration::from_secs(10))?;
        Ok(committed.elements().first().and_then(|e| match e.offset() {
            Offset::Offset(n) => Some(n),
            _ => None,
        }))
    }
}

/// librdkafka 2.12 can block in `send_offsets_to_transaction` past its
/// timeout when the group coordinator dies (librdkafka issues 5456, 5511;
/// seen with a broker SIGKILLed). Nothing cancels a blocked call, so a call
/// that overruns twice its timeout ends the process (exit code 3): a
/// supervisor restarts the worker, and the successor, with the same
/// transactional id, fences the old producer and aborts what it left open.
pub struct Watchdog {
    /// Milliseconds since `origin` by which the current call must return;
    /// 0 when no call is guarded.
    deadline: Arc<AtomicU64>,
    origin: Instant,
}

impl Watchdog {
    fn start() -> Watchdog {
        let deadline = Arc::new(AtomicU64::new(0));
        let origin = Instant::now();
        let watched = deadline.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(500));
                let at = watched.load(Ordering::SeqCst);
                if at != 0 && origin.elapsed().as_millis() as u64 > at {
                    eprintln!(
                        "seldom worker: a transaction call blocked past its timeout; exiting"
                    );
                    std::process::exit(3);
                }
            }
        });
        Watchdog { deadline, origin }
    }

    fn guard<T>(&self, call: impl FnOnce() -> Result<T, KafkaError>) -> Result<T, WorkerError> {
        let limit = self.origin.elapsed() + 2 * TXN_TIMEOUT;
        self.deadline
            .store(limit.as_millis() as u64, Ordering::SeqCst);
        let result = call();
        self.deadline.store(0, Ordering::SeqCst);
        Ok(result?)
    }
}
