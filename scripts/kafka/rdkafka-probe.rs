//! rdkafka probe: exactly-once consume-transform-produce against a real
//! cluster, as `seldom worker` will do it.
//!
//! Reference for the real implementation; not built by the workspace. To run
//! it, make a scratch crate outside the repository with this as src/main.rs:
//!
//!   [package]
//!   name = "rdkafka-probe"
//!   version = "0.1.0"
//!   edition = "2024"
//!
//!   [dependencies]
//!   # cmake-build: librdkafka from the crate's bundled source. curl-static:
//!   # librdkafka 2.12.1's CMake build includes <curl/curl.h> even without
//!   # curl (librdkafka issue 5135); this builds libcurl from source instead
//!   # of needing Debian's libcurl4-openssl-dev. It links the system OpenSSL
//!   # (libssl-dev and pkg-config, both on a new machine here), as do "ssl"
//!   # (TLS to brokers) and, built from source, "zstd", which also work.
//!   rdkafka = { version = "=0.39.0", features = ["cmake-build", "curl-static"] }
//!   tokio = { version = "1.54.1", features = ["rt-multi-thread", "macros", "time"] }
//!
//! then (CARGO_TARGET_DIR outside the workspace's, builds take 1.5-3 min):
//!
//!   scripts/kafka-cluster up
//!   cargo run --release -- $(scripts/kafka-cluster bootstrap)
//!
//! `PROBE_GROUP_PROTOCOL=consumer` runs the consumers with the new group
//! protocol (KIP-848) instead of the classic one; `PROBE_TXN_PAUSE_MS=300`
//! pauses after each transaction, time to `kill-broker N` in the middle.
//!
//! What it does: creates an input and an output topic (6 partitions, RF 3,
//! min.insync.replicas 2); produces N records to the input (idempotent,
//! acks=all); then a consumer in a group (read_committed, no auto commit)
//! reads them and a transactional producer writes one record per input
//! record to the output, committing the consumer's offsets in the same
//! transaction (send_offsets_to_transaction), in batches; one transaction in
//! the middle is aborted. Checks: a read_committed consumer of the output
//! sees each transformed record exactly once and nothing aborted; a
//! read_uncommitted one does see the aborted records; the group's committed
//! offsets on the input add up to N.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, ConsumerGroupMetadata, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::get_rdkafka_version;
use rdkafka::{Offset, TopicPartitionList};

const N: usize = 1000; // input records
const BATCH: usize = 100; // records per transaction
const ABORTED: usize = 50; // records of the aborted transaction
const T: Duration = Duration::from_secs(15);

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn base(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        // the brokers advertise 127.0.0.1; never try ::1 for "localhost"
        .set("broker.address.family", "v4");
    c
}

fn consumer(bootstrap: &str, group: &str, isolation: &str) -> Res<StreamConsumer> {
    let mut c = base(bootstrap);
    c.set("group.id", group)
        .set("isolation.level", isolation)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest");
    match std::env::var("PROBE_GROUP_PROTOCOL").as_deref() {
        // KIP-848: the broker assigns; session.timeout.ms, heartbeat.interval.ms
        // and partition.assignment.strategy must not be set on the client
        Ok("consumer") => {
            c.set("group.protocol", "consumer");
        }
        _ => {
            c.set("group.protocol", "classic")
                // the brokers of scripts/kafka-cluster allow down to 1 s
                .set("session.timeout.ms", "6000")
                .set("partition.assignment.strategy", "cooperative-sticky");
        }
    }
    Ok(c.create()?)
}

/// The next record, or None after `wait` without one. librdkafka reports
/// transient trouble (a broker down, a leader moving) as consumer errors: they
/// are logged, not the end. Only a fatal one is.
async fn next(c: &StreamConsumer, wait: Duration) -> Res<Option<OwnedMessage>> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, c.recv()).await {
            Err(_) => return Ok(None),
            Ok(Ok(m)) => return Ok(Some(m.detach())),
            Ok(Err(KafkaError::MessageConsumption(code))) => {
                eprintln!("probe: consumer: {code} (transient, going on)")
            }
            Ok(Err(e)) => return Err(e.into()),
        }
    }
}

/// Reads until `want` records came or `idle` passed without one.
async fn drain(c: &StreamConsumer, want: usize, idle: Duration) -> Res<Vec<String>> {
    let mut got = Vec::new();
    while got.len() < want {
        match next(c, idle).await? {
            None => break,
            Some(m) => {
                got.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned())
            }
        }
    }
    Ok(got)
}

/// librdkafka 2.12.1 can block forever in send_offsets_to_transaction when
/// the group coordinator dies: the call's timeout is not enforced (librdkafka
/// issues 5456 and 5511; seen here with a broker SIGKILLed mid-run). Nothing
/// cancels a blocked call, so this watchdog ends the process instead: a
/// worker is then restarted, and its successor, with the same
/// transactional.id, fences the old producer and aborts what it left open.
struct Watchdog(Arc<AtomicU64>, Instant);

impl Watchdog {
    fn start() -> Watchdog {
        let (deadline, t0) = (Arc::new(AtomicU64::new(0)), Instant::now());
        let d = deadline.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(500));
                let at = d.load(Ordering::Relaxed);
                if at != 0 && t0.elapsed().as_millis() as u64 > at {
                    eprintln!(
                        "probe: watchdog: a transaction call blocked past its timeout; exiting"
                    );
                    std::process::exit(3);
                }
            }
        });
        Watchdog(deadline, t0)
    }
    /// Until `disarm`, the process may block for `limit` at most.
    fn arm(&self, limit: Duration) {
        let at = (self.1.elapsed() + limit).as_millis() as u64;
        self.0.store(at, Ordering::Relaxed);
    }
    fn disarm(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// One transaction: the batch's transformed records and the offsets after it.
fn copy(
    tx: &FutureProducer,
    cgm: &ConsumerGroupMetadata,
    batch: &[OwnedMessage],
    input: &str,
    output: &str,
) -> Result<(), KafkaError> {
    tx.begin_transaction()?;
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    for m in batch {
        let p = format!(
            "out-{}",
            String::from_utf8_lossy(m.payload().unwrap_or_default())
        );
        let k = m.key().unwrap_or_default();
        tx.send_result(FutureRecord::to(output).key(k).payload(&p))
            .map_err(|(e, _)| e)?;
        let o = next.entry(m.partition()).or_default();
        *o = (*o).max(m.offset() + 1);
    }
    let mut offsets = TopicPartitionList::new();
    for (p, o) in next {
        offsets.add_partition_offset(input, p, Offset::Offset(o))?;
    }
    retried(|| tx.send_offsets_to_transaction(&offsets, cgm, T))?;
    // commit flushes the sends first
    retried(|| tx.commit_transaction(T))
}

/// librdkafka's transactional calls may fail "retriable" (a coordinator
/// broker just died: BrokerTransportFailure, a timeout); the same call may
/// then be made again, as documented for each of them.
fn retried(mut call: impl FnMut() -> Result<(), KafkaError>) -> Result<(), KafkaError> {
    let mut tries = 0;
    loop {
        match call() {
            Err(KafkaError::Transaction(e)) if e.is_retriable() && tries < 5 => {
                eprintln!("probe: retriable: {e}; again");
                tries += 1;
                std::thread::sleep(Duration::from_millis(200 << tries));
            }
            r => return r,
        }
    }
}

/// After an aborted transaction: back to the group's committed offsets, so
/// the batch is read and written again.
fn rewind(src: &StreamConsumer) -> Res<()> {
    let committed = src.committed(T)?;
    let mut tpl = TopicPartitionList::new();
    for e in committed.elements() {
        // nothing committed yet for a partition: its beginning
        let o = if e.offset() == Offset::Invalid {
            Offset::Beginning
        } else {
            e.offset()
        };
        tpl.add_partition_offset(e.topic(), e.partition(), o)?;
    }
    src.seek_partitions(tpl, T)?;
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let bootstrap = std::env::args()
        .nth(1)
        .ok_or("usage: rdkafka-probe BOOTSTRAP (e.g. $(scripts/kafka-cluster bootstrap))")?;
    let (v, s) = get_rdkafka_version();
    println!("probe: librdkafka {s} (0x{v:08x})");
    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let (input, output) = (format!("probe-in-{run}"), format!("probe-out-{run}"));
    let group = format!("probe-etl-{run}");
    let start = Instant::now();
    let lap = |what: &str| println!("probe: [{:>6} ms] {what}", start.elapsed().as_millis());

    // Topics: the brokers have auto.create.topics.enable=false
    let admin: AdminClient<DefaultClientContext> = base(&bootstrap).create()?;
    let topics: Vec<NewTopic> = [&input, &output]
        .iter()
        .map(|t| NewTopic::new(t, 6, TopicReplication::Fixed(3)).set("min.insync.replicas", "2"))
        .collect();
    for r in admin
        .create_topics(&topics, &AdminOptions::new().operation_timeout(Some(T)))
        .await
        .map_err(|e| format!("create_topics: {e}"))?
    {
        r.map_err(|(t, e)| format!("create {t}: {e}"))?;
    }
    lap("topics created");

    // Input: idempotent (not librdkafka's default, unlike the Java client's)
    // and acks=all (the default; said because min.insync.replicas=2 only
    // protects acks=all writes)
    let plain: FutureProducer = base(&bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()?;
    let mut acks = Vec::with_capacity(N);
    for i in 0..N {
        let (k, p) = (i.to_string(), format!("in-{i}"));
        acks.push(
            plain
                .send_result(FutureRecord::to(&input).key(&k).payload(&p))
                .map_err(|(e, _)| e)?,
        );
    }
    for a in acks {
        a.await?.map_err(|(e, _)| e)?;
    }
    lap(&format!("{N} input records produced"));

    // Consume-transform-produce, exactly once
    let tx: FutureProducer = base(&bootstrap)
        // one per worker, stable across its restarts, so that a restarted
        // worker fences its predecessor; implies enable.idempotence=true
        // (setting that false is an error)
        .set("transactional.id", &group)
        // above the broker's transaction.max.timeout.ms (15 min) and
        // init_transactions fails; librdkafka derives message.timeout.ms and
        // socket.timeout.ms from it, and refuses a larger one set by hand
        .set("transaction.timeout.ms", "30000")
        .set("linger.ms", "5")
        .create()?;
    tx.init_transactions(T)?;
    lap("init_transactions");
    let src = consumer(&bootstrap, &group, "read_committed")?;
    src.subscribe(&[&input])?;
    // PROBE_TXN_PAUSE_MS: a pause after each transaction, time enough to
    // kill a broker in the middle (scripts/kafka-cluster kill-broker 2)
    let pause = std::env::var("PROBE_TXN_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    let watchdog = Watchdog::start();
    let (mut done, mut txns, mut redone) = (0, 0, 0);
    while done < N {
        // the first record of a batch may wait for the group to form
        let first = next(&src, T).await?.ok_or("no input within 15 s")?;
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match next(&src, Duration::from_millis(200)).await? {
                Some(m) => batch.push(m),
                None => break,
            }
        }
        // the group's generation: it fences a zombie of a worker whose
        // partitions went to another (KIP-447); fetched anew per transaction
        let cgm = src.group_metadata().ok_or("no group metadata")?;
        // every call in copy() has timeout T, but may be retried
        watchdog.arm(8 * T);
        let r = copy(&tx, &cgm, &batch, &input, &output);
        watchdog.disarm();
        match r {
            Ok(()) => {
                done += batch.len();
                txns += 1;
            }
            // e.g. a broker died under the transaction: abort, read again
            Err(KafkaError::Transaction(e)) if e.txn_requires_abort() => {
                eprintln!("probe: transaction failed ({e}), aborting and reading the batch again");
                watchdog.arm(4 * T);
                retried(|| tx.abort_transaction(T))?;
                watchdog.disarm();
                rewind(&src)?;
                redone += 1;
                continue;
            }
            // anything else, a fatal error above all (the producer was
            // fenced: another one with the same transactional.id), ends it
            Err(KafkaError::Transaction(e)) => {
                return Err(format!(
                    "transaction: {e} (code {:?}, fatal {}, retriable {}, abortable {})",
                    e.code(),
                    e.is_fatal(),
                    e.is_retriable(),
                    e.txn_requires_abort()
                )
                .into());
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(ms) = pause {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if txns == 2 {
            // an aborted transaction between committed ones
            tx.begin_transaction()?;
            for i in 0..ABORTED {
                let p = format!("aborted-{i}");
                tx.send_result(FutureRecord::<(), _>::to(&output).payload(&p))
                    .map_err(|(e, _)| e)?;
            }
            // so the records are really in the log (if not, no matter: the
            // read_uncommitted check below will say)
            if let Err(e) = tx.flush(T) {
                eprintln!("probe: flush before abort: {e}");
            }
            watchdog.arm(4 * T);
            retried(|| tx.abort_transaction(T))?;
            watchdog.disarm();
        }
    }
    if redone > 0 {
        lap(&format!(
            "{redone} batches aborted by failures and done again"
        ));
    }
    lap(&format!(
        "{done} records copied in {txns} committed transactions (+1 aborted)"
    ));

    let committed = src.committed(T)?;
    let sum: i64 = committed
        .elements()
        .iter()
        .filter_map(|e| e.offset().to_raw())
        .sum();
    if sum != N as i64 {
        return Err(format!("group {group} committed offsets add up to {sum}, not {N}").into());
    }
    lap(&format!(
        "group offsets committed by the transactions add up to {sum}"
    ));

    // Check: read_committed sees each output once and no aborted record
    let rc = consumer(&bootstrap, &format!("{group}-check-rc"), "read_committed")?;
    rc.subscribe(&[&output])?;
    let got = drain(&rc, N + ABORTED, Duration::from_secs(5)).await?;
    let want: BTreeSet<String> = (0..N).map(|i| format!("out-in-{i}")).collect();
    let seen: BTreeSet<String> = got.iter().cloned().collect();
    if got.len() != N || seen != want {
        return Err(format!(
            "read_committed got {} records ({} distinct), want {N}",
            got.len(),
            seen.len()
        )
        .into());
    }
    lap(&format!(
        "read_committed consumer: {} records, each once, none aborted",
        got.len()
    ));
    let ru = consumer(&bootstrap, &format!("{group}-check-ru"), "read_uncommitted")?;
    ru.subscribe(&[&output])?;
    let got = drain(&ru, N + ABORTED, Duration::from_secs(5)).await?;
    let aborted = got.iter().filter(|p| p.starts_with("aborted-")).count();
    if got.len() != N + ABORTED || aborted != ABORTED {
        return Err(format!(
            "read_uncommitted got {} records ({aborted} aborted)",
            got.len()
        )
        .into());
    }
    lap(&format!(
        "read_uncommitted consumer: {} records, {aborted} of them aborted",
        got.len()
    ));

    // cleanup only: a failure here proves nothing about the above
    let opts = AdminOptions::new().operation_timeout(Some(T));
    if let Err(e) = admin.delete_topics(&[&input, &output], &opts).await {
        eprintln!("probe: deleting the topics: {e}");
    }
    println!("probe: ok");
    Ok(())
}
